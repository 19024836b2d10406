//! Reconnect backoff: the delay before the next connect attempt doubles from `min` up to
//! `max` with each failure (a refused connect, a refused logon, a connection lost before
//! trading resumed) and returns to `min` once a session reaches trading.
//!
//! No jitter: Keel is one initiator per venue session, so there is no herd to spread, and
//! a deterministic schedule is easier to reason about in logs and tests.

use std::time::Duration;

/// The reconnect schedule.
#[derive(Clone, Debug)]
pub struct Backoff {
    min_ns: u64,
    max_ns: u64,
    next_ns: u64,
    failures: u32,
}

impl Backoff {
    /// A schedule from `min` to `max` (`max` is raised to `min` if below it).
    pub fn new(min: Duration, max: Duration) -> Backoff {
        let min_ns = min.as_nanos().min(u64::MAX as u128) as u64;
        let max_ns = (max.as_nanos().min(u64::MAX as u128) as u64).max(min_ns);
        Backoff { min_ns, max_ns, next_ns: min_ns, failures: 0 }
    }

    /// A failure: returns the delay before the next attempt and doubles the one after.
    pub fn failed(&mut self) -> Duration {
        let delay = self.next_ns;
        self.next_ns = self.next_ns.saturating_mul(2).clamp(self.min_ns, self.max_ns);
        self.failures = self.failures.saturating_add(1);
        Duration::from_nanos(delay)
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A success: the next failure waits `min` again.
    pub fn reset(&mut self) {
        self.next_ns = self.min_ns;
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_reset() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(1000));
        let got: Vec<Duration> = (0..6).map(|_| b.failed()).collect();
        assert_eq!(got, [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]);
        assert_eq!(b.failures(), 6);
        b.reset();
        assert_eq!((b.failed(), b.failures()), (ms(100), 1));
        let mut b = Backoff::new(ms(50), ms(10));
        assert_eq!((b.failed(), b.failed()), (ms(50), ms(50)));
    }
}
