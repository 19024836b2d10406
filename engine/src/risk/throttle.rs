//! Per-session message throttles: integer token buckets driven only by command time.
//!
//! A bucket for a rate of `r` messages per second holds at most `r` messages (burst =
//! rate) and refills continuously at `r` per second. To keep that exact in integers, credit
//! is counted in *nano-messages*: one message costs [`COST`] = 1e9 units, every elapsed
//! nanosecond adds `r` units, and the capacity is `r × 1e9` units. `u128` holds every
//! product (`u64` ns × `i64` rate < 2^127), so nothing rounds or overflows.
//!
//! Time is the command's timestamp. A timestamp earlier than the last refill adds nothing
//! (the core makes time monotonic; this only guards against a bug turning into credit).

use crate::TimestampNs;
use crate::risk::limits::NO_LIMIT;

/// Credit units per message.
pub const COST: u128 = TimestampNs::NS_PER_S as u128;

/// One token bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenBucket {
    /// Credit in nano-messages; `<= capacity(rate)` whenever the rate is finite.
    pub credit: u128,
    /// Command time of the last refill, ns.
    pub last_refill_ns: u64,
}

#[inline]
fn capacity(rate_per_s: i64) -> u128 {
    debug_assert!(rate_per_s >= 0);
    rate_per_s as u128 * COST
}

impl TokenBucket {
    /// A full bucket for `rate_per_s`.
    pub fn full(rate_per_s: i64) -> Self {
        Self {
            credit: if rate_per_s == NO_LIMIT { 0 } else { capacity(rate_per_s) },
            last_refill_ns: 0,
        }
    }

    /// Refills to `now`, then takes one message if there is one; false when the bucket
    /// holds less than one message (the caller builds the reject from the rate).
    pub fn try_take(&mut self, now: TimestampNs, rate_per_s: i64) -> bool {
        let elapsed_ns = now.saturating_since_ns(TimestampNs(self.last_refill_ns));
        self.last_refill_ns = self.last_refill_ns.max(now.0);
        if rate_per_s == NO_LIMIT {
            return true;
        }
        let cap = capacity(rate_per_s);
        self.credit = (self.credit + elapsed_ns as u128 * rate_per_s as u128).min(cap);
        if self.credit >= COST {
            self.credit -= COST;
            true
        } else {
            false
        }
    }

    /// The rate changed: a bucket coming from "no limit" starts full; otherwise it keeps
    /// its credit, capped at the new capacity (lowering a rate never grants credit).
    pub fn on_rate_change(&mut self, old_rate_per_s: i64, new_rate_per_s: i64) {
        if new_rate_per_s == NO_LIMIT {
            self.credit = 0;
        } else if old_rate_per_s == NO_LIMIT {
            self.credit = capacity(new_rate_per_s);
        } else {
            self.credit = self.credit.min(capacity(new_rate_per_s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_by_elapsed_time() {
        let mut b = TokenBucket::full(2);
        let t = |ns: u64| TimestampNs(1_000_000_000_000 + ns);
        b.last_refill_ns = t(0).0;
        assert!(b.try_take(t(0), 2));
        assert!(b.try_take(t(0), 2));
        assert!(!b.try_take(t(0), 2));
        // Half a second at 2/s is exactly one message.
        assert!(!b.try_take(t(499_999_999), 2));
        assert!(b.try_take(t(500_000_000), 2));
        assert!(!b.try_take(t(500_000_000), 2));
        // A long idle refills only to the burst.
        assert!(b.try_take(t(100_000_000_000), 2));
        assert!(b.try_take(t(100_000_000_000), 2));
        assert!(!b.try_take(t(100_000_000_000), 2));
    }

    #[test]
    fn zero_rate_blocks_and_time_going_back_adds_nothing() {
        let mut b = TokenBucket::full(0);
        assert!(!b.try_take(TimestampNs(5), 0));
        let mut b = TokenBucket::full(1);
        b.last_refill_ns = 10_000_000_000;
        assert!(b.try_take(TimestampNs(10_000_000_000), 1));
        assert!(!b.try_take(TimestampNs(1), 1));
        assert_eq!(b.last_refill_ns, 10_000_000_000);
    }
}
