//! The market-data tap: a copy of every market-data command the core has journaled and
//! applied, for gateways that serve market data to their clients (the native binary
//! protocol's book stream).
//!
//! A gateway asks for it with [`Gateway::wants_market_data`](super::Gateway::wants_market_data);
//! the pipeline then gives it one bounded SPSC ring (`pipeline.outbound_ring` slots). After
//! the core applies a market-data command it pushes a copy to every tap, in the core's
//! order, and the gateway's runner hands each to
//! [`Gateway::on_market_data`](super::Gateway::on_market_data).
//!
//! - **Not journaled again.** The command already is (it is an input); the tap is a view.
//!   A gateway that replays the tapped commands into its own
//!   [`Markets`](crate::core::Markets) holds the same books as the core's, for every
//!   venue that sends a snapshot when it connects.
//! - **Back-pressure, never loss.** A full tap makes the core wait, exactly like a full
//!   outbound ring (the runner drains both every round, also while stopping), and the
//!   wait is counted in `outbound_full_waits`.
//! - **Wake-ups only when someone waits for the data.** A blocking gateway's thread is
//!   woken by a tapped command only while
//!   [`Gateway::market_data_urgent`](super::Gateway::market_data_urgent) says so (a client
//!   is subscribed), or once the tap is half full. Otherwise the commands wait for the
//!   thread's next wake-up for any other reason (its sockets, its outputs, its timeout):
//!   a feed of thousands of updates a second would else wake a gateway with no subscriber
//!   thousands of times a second, each wake-up taking a turn on the CPU from the threads
//!   an order's acknowledgement waits for. The order of the commands is the same either
//!   way; only when they are applied to the gateway's view changes.

use crate::schema::{Command, CommandBody};
use crossbeam::queue::ArrayQueue;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};

/// One gateway's market-data ring (core: producer; gateway: consumer), and whether each
/// command should wake the gateway.
#[derive(Debug)]
pub(crate) struct TapRing {
    queue: ArrayQueue<Command>,
    /// Set by the gateway's runner before it sleeps: the gateway has a subscriber.
    urgent: AtomicBool,
}

/// A shared tap.
pub(crate) type Tap = Arc<TapRing>;

impl TapRing {
    /// A tap of `capacity` commands whose commands wake the gateway until it says
    /// otherwise.
    pub(crate) fn new(capacity: usize) -> TapRing {
        TapRing { queue: ArrayQueue::new(capacity), urgent: AtomicBool::new(true) }
    }

    /// Pushes a command (core); false when the tap is full.
    #[inline]
    pub(crate) fn push(&self, cmd: Command) -> bool {
        self.queue.push(cmd).is_ok()
    }

    /// Takes the oldest command (gateway).
    #[inline]
    pub(crate) fn pop(&self) -> Option<Command> {
        self.queue.pop()
    }

    /// Most commands the tap holds.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// True when nothing waits in the tap.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Records whether the gateway wants to be woken for each command (its runner, before
    /// it sleeps; the sleeper's arming fence orders this store before its last look).
    #[inline]
    pub(crate) fn set_urgent(&self, urgent: bool) {
        if self.urgent.load(Ordering::Relaxed) != urgent {
            self.urgent.store(urgent, Ordering::Relaxed);
        }
    }

    /// Whether the core, having just pushed, should ring the gateway's doorbell: it wants
    /// every command, or the tap is half full (so a quiet gateway never makes the core
    /// wait on a full tap for as long as its sleep).
    #[inline]
    pub(crate) fn should_wake(&self) -> bool {
        // Orders the push before the load of the flag, against the runner's store of the
        // flag before its last look for work (see the doorbell protocol): either the
        // runner sees the command, or the core sees the flag it set.
        fence(Ordering::SeqCst);
        self.urgent.load(Ordering::Relaxed) || self.queue.len() * 2 >= self.queue.capacity()
    }
}

/// True for the commands a tap carries: book updates, trades, snapshot marks and
/// venue status changes.
#[inline]
pub fn is_feed(body: &CommandBody) -> bool {
    matches!(
        body,
        CommandBody::L2Update(_)
            | CommandBody::L3Add(_)
            | CommandBody::L3Modify(_)
            | CommandBody::L3Delete(_)
            | CommandBody::L3Execute(_)
            | CommandBody::Trade(_)
            | CommandBody::Snapshot(_)
            | CommandBody::VenueStatus(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Timer;
    use crate::{SessionId, TimestampNs};

    fn cmd() -> Command {
        Command { ts: TimestampNs(1), session: SessionId(1), body: CommandBody::Timer(Timer {}) }
    }

    #[test]
    fn a_quiet_gateway_is_woken_only_once_its_tap_is_half_full() {
        let tap = TapRing::new(8);
        assert!(tap.push(cmd()));
        assert!(tap.should_wake(), "urgent until the gateway says otherwise");
        tap.set_urgent(false);
        for n in 2..=3 {
            assert!(tap.push(cmd()));
            assert!(!tap.should_wake(), "{n} of 8: no wake-up");
        }
        assert!(tap.push(cmd()));
        assert!(tap.should_wake(), "4 of 8: half full");
        while tap.pop().is_some() {}
        assert!(tap.push(cmd()));
        assert!(!tap.should_wake());
        tap.set_urgent(true);
        assert!(tap.should_wake());
    }
}
