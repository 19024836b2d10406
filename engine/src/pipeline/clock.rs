//! Ingress time: a cheap monotonic counter (`quanta`, the TSC where it is reliable)
//! anchored once to UTC, so a gateway thread stamps each command with wall-clock
//! nanoseconds without a system call.
//!
//! The anchor is taken at start; the clock then advances with the counter, not with
//! `SystemTime`, so it never steps backwards when NTP adjusts the system clock. The core
//! makes command times monotonic anyway (`now = max(now, cmd.ts)`).

use crate::TimestampNs;
use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC clock for ingress stamps; cheap to clone and to read from any thread.
#[derive(Clone, Debug)]
pub struct IngressClock {
    clock: quanta::Clock,
    anchor_raw: u64,
    anchor_utc_ns: u64,
}

impl Default for IngressClock {
    fn default() -> Self {
        Self::new()
    }
}

impl IngressClock {
    /// Calibrates a clock: reads the counter and `SystemTime` once, together.
    pub fn new() -> IngressClock {
        let clock = quanta::Clock::new();
        let anchor_raw = clock.raw();
        let anchor_utc_ns =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        IngressClock { clock, anchor_raw, anchor_utc_ns }
    }

    /// The raw counter now (for latency measurements between threads).
    #[inline]
    pub fn raw(&self) -> u64 {
        self.clock.raw()
    }

    /// UTC nanoseconds at raw counter value `raw`.
    #[inline]
    pub fn utc_at(&self, raw: u64) -> TimestampNs {
        TimestampNs(self.anchor_utc_ns + self.clock.delta_as_nanos(self.anchor_raw, raw))
    }

    /// UTC nanoseconds now.
    #[inline]
    pub fn now(&self) -> TimestampNs {
        self.utc_at(self.raw())
    }

    /// Nanoseconds from raw value `start` to `end` (zero if `end` is earlier).
    #[inline]
    pub fn elapsed_ns(&self, start: u64, end: u64) -> u64 {
        if end <= start { 0 } else { self.clock.delta_as_nanos(start, end) }
    }
}
