//! Pacing of occasional work inside a gateway's poll loop.
//!
//! A gateway polls as often as its wait strategy lets it, but some of its work is worth
//! doing only now and then. The case that made this module: a non-blocking `accept` with
//! nobody waiting still costs several µs in the kernel (Linux allocates the new socket
//! before it looks at the queue); asked on every poll it was most of a listener thread's
//! time, spent between two reads of its connected clients' sockets, and took CPU from the
//! core on two cores. Asked once a millisecond ([`ACCEPT_INTERVAL_NS`]) a new connection
//! waits at most that long, before a logon that takes tens of ms anyway.
//!
//! Times are the gateway clock's UTC ns ([`GatewayIo::clock`](super::GatewayIo::clock)).
//! A clock stepped back never stops the work: the distance is absolute.

/// How often a listener is asked for new connections, ns.
pub const ACCEPT_INTERVAL_NS: u64 = 1_000_000;

/// Says when a piece of periodic work is due: the first time asked, then once per
/// interval.
#[derive(Clone, Copy, Debug)]
pub struct Pacer {
    interval_ns: u64,
    last_ns: Option<u64>,
}

impl Pacer {
    /// Work due at most once per `interval_ns`.
    pub const fn new(interval_ns: u64) -> Pacer {
        Pacer { interval_ns, last_ns: None }
    }

    /// The pacing of a listener's `accept` ([`ACCEPT_INTERVAL_NS`]).
    pub const fn accept() -> Pacer {
        Pacer::new(ACCEPT_INTERVAL_NS)
    }

    /// Whether the work is due at `now_ns`; if so, the interval restarts from `now_ns`.
    #[inline]
    pub fn due(&mut self, now_ns: u64) -> bool {
        let due = self.last_ns.is_none_or(|t| now_ns.abs_diff(t) >= self.interval_ns);
        if due {
            self.last_ns = Some(now_ns);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_first_then_once_per_interval_and_after_a_step_back() {
        let mut p = Pacer::new(100);
        assert!(p.due(1_000));
        assert!(!p.due(1_000));
        assert!(!p.due(1_099));
        assert!(p.due(1_100));
        assert!(!p.due(1_150));
        // The clock stepped back by more than an interval: still due, not stuck.
        assert!(p.due(900));
        assert!(!p.due(950));
    }
}
