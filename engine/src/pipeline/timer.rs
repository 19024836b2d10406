//! The timer: a gateway that publishes a `Timer` command every interval, so expiries,
//! throttle windows, loss checks and strategy timers advance with the journal, not with a
//! clock inside the core.

use super::gateway::{Delivery, Gateway, GatewayIo, Routes};
use crate::SessionId;
use crate::schema::{CommandBody, Timer};

/// Publishes `Timer` on `session` every `interval_ns`.
pub struct TimerGateway {
    session: SessionId,
    interval_ns: u64,
    next_due_ns: Option<u64>,
}

impl TimerGateway {
    /// A timer on `session` ticking every `interval_ns` (> 0).
    pub fn new(session: SessionId, interval_ns: u64) -> TimerGateway {
        TimerGateway { session, interval_ns: interval_ns.max(1), next_due_ns: None }
    }
}

impl Gateway for TimerGateway {
    fn name(&self) -> &str {
        "timer"
    }

    fn routes(&self) -> Routes {
        Routes { sessions: vec![self.session], venues: Vec::new() }
    }

    fn on_output(&mut self, _delivery: &Delivery, _io: &mut GatewayIo) {}

    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let now = io.clock().now().0;
        let due = *self.next_due_ns.get_or_insert(now);
        if now < due {
            return 0;
        }
        // The timer has no outputs, so waiting for room cannot deadlock.
        if io.publish(self.session, CommandBody::Timer(Timer {})).is_ok() {
            // Skipped ticks are not made up: time is carried by the next one anyway.
            let next = due.saturating_add(self.interval_ns);
            self.next_due_ns = Some(if next <= now { now + self.interval_ns } else { next });
            1
        } else {
            0
        }
    }

    fn wake_at_ns(&self) -> Option<u64> {
        // Before the first poll: due at once.
        Some(self.next_due_ns.unwrap_or(0))
    }
}
