//! Latency recording with coordinated-omission correction (design §8).
//!
//! A [`Recorder`] keeps two HdrHistograms of nanoseconds:
//! - **corrected**: what a sender keeping to its schedule would have seen. For an
//!   open-loop run (a fixed rate), each sample counts from the operation's *intended*
//!   send time, so a stall of the sender, the system under test or the machine shows up
//!   in every operation that was due during it. For an unthrottled (closed-loop) run there
//!   is no schedule; [`Recorder::finish_closed_loop`] then applies HdrHistogram's
//!   post-recording correction (`clone_correct`) with the run's mean interval between
//!   operations as the expected interval: a sample of `v` ≥ 2 intervals adds the samples
//!   `v − i, v − 2i, …` down to `i` that the stalled loop never took.
//! - **uncorrected**: the service time, from the *actual* send (or start) to the answer.
//!
//! Values are nanoseconds from 1 ns to one hour at 3 significant digits; a larger value
//! is clamped to one hour and counted in [`Recorder::clamped`]. Recording never
//! allocates.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Largest latency tracked: one hour, in nanoseconds.
pub const HIGHEST_NS: u64 = 3_600 * 1_000_000_000;
/// Significant decimal digits kept (0.1% resolution).
pub const SIGFIG: u8 = 3;

/// A fresh histogram with Keel's bounds.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NS, SIGFIG).expect("constant bounds are valid")
}

/// Corrected and uncorrected latencies of one measurement.
#[derive(Clone, Debug)]
pub struct Recorder {
    corrected: Histogram<u64>,
    uncorrected: Histogram<u64>,
    clamped: u64,
    /// Samples added by post-recording correction (closed loop only).
    added: u64,
    /// The expected interval used by post-recording correction, ns.
    closed_loop_interval_ns: Option<u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Recorder {
        Recorder {
            corrected: new_histogram(),
            uncorrected: new_histogram(),
            clamped: 0,
            added: 0,
            closed_loop_interval_ns: None,
        }
    }

    #[inline]
    fn clamp(&mut self, ns: u64) -> u64 {
        if ns > HIGHEST_NS {
            self.clamped += 1;
            HIGHEST_NS
        } else {
            ns
        }
    }

    /// One open-loop operation: intended at `due_ns`, sent at `sent_ns`, answered (or
    /// finished) at `done_ns`, all on one clock. Times out of order count as zero.
    #[inline]
    pub fn record(&mut self, due_ns: u64, sent_ns: u64, done_ns: u64) {
        let corrected = self.clamp(done_ns.saturating_sub(due_ns));
        let uncorrected = self.clamp(done_ns.saturating_sub(sent_ns));
        self.corrected.saturating_record(corrected);
        self.uncorrected.saturating_record(uncorrected);
    }

    /// One closed-loop operation's service time (corrected later by
    /// [`Recorder::finish_closed_loop`]).
    #[inline]
    pub fn record_service(&mut self, ns: u64) {
        let ns = self.clamp(ns);
        self.uncorrected.saturating_record(ns);
    }

    /// Ends a closed-loop run: the corrected histogram becomes the service times
    /// corrected for an expected interval of `interval_ns` (see the module docs).
    pub fn finish_closed_loop(&mut self, interval_ns: u64) {
        let interval_ns = interval_ns.max(1);
        self.corrected = self.uncorrected.clone_correct(interval_ns);
        self.added = self.corrected.len() - self.uncorrected.len();
        self.closed_loop_interval_ns = Some(interval_ns);
    }

    /// Adds another recorder's samples (a later round of the same measurement).
    pub fn merge(&mut self, other: &Recorder) {
        self.corrected.add(&other.corrected).expect("same bounds, same digits");
        self.uncorrected.add(&other.uncorrected).expect("same bounds, same digits");
        self.clamped += other.clamped;
        self.added += other.added;
    }

    /// The coordinated-omission-corrected latencies.
    pub fn corrected(&self) -> &Histogram<u64> {
        &self.corrected
    }

    /// Service times.
    pub fn uncorrected(&self) -> &Histogram<u64> {
        &self.uncorrected
    }

    /// Samples clamped to [`HIGHEST_NS`].
    pub fn clamped(&self) -> u64 {
        self.clamped
    }

    /// Samples the post-recording correction added (zero for open-loop runs, whose
    /// correction changes values, not counts).
    pub fn added_samples(&self) -> u64 {
        self.added
    }

    /// The expected interval of a closed-loop correction, if one was applied.
    pub fn closed_loop_interval_ns(&self) -> Option<u64> {
        self.closed_loop_interval_ns
    }
}

/// The percentiles Keel reports, nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Samples in the histogram.
    pub count: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p99_9_ns: u64,
    /// 99.99th percentile.
    pub p99_99_ns: u64,
    /// Largest sample.
    pub max_ns: u64,
    /// Mean.
    pub mean_ns: f64,
}

/// The reported quantiles, in order, with their labels.
pub const QUANTILES: [(&str, f64); 5] =
    [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999), ("p99.99", 0.9999)];

impl Percentiles {
    /// Reads the percentiles of `h` (all zero when empty).
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        // HdrHistogram reports the highest value equivalent to the bucket of the sample;
        // the max is the highest equivalent of the largest sample, so order is kept.
        let q = |x: f64| h.value_at_quantile(x);
        Percentiles {
            count: h.len(),
            p50_ns: q(0.5),
            p90_ns: q(0.9),
            p99_ns: q(0.99),
            p99_9_ns: q(0.999),
            p99_99_ns: q(0.9999),
            max_ns: h.max(),
            mean_ns: h.mean(),
        }
    }

    /// The five percentiles and the max, in order.
    pub fn values(&self) -> [u64; 6] {
        [self.p50_ns, self.p90_ns, self.p99_ns, self.p99_9_ns, self.p99_99_ns, self.max_ns]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_loop_counts_from_the_intended_time() {
        let mut r = Recorder::new();
        r.record(1_000, 1_500, 1_600);
        assert_eq!(r.corrected().max(), 600);
        assert_eq!(r.uncorrected().max(), 100);
        assert_eq!(r.added_samples(), 0);
    }

    #[test]
    fn closed_loop_correction_adds_the_missing_samples() {
        let mut r = Recorder::new();
        for _ in 0..100 {
            r.record_service(10);
        }
        // One stall of 10 intervals: the loop missed 9 operations (900 ns .. 100 ns after
        // their due time, down to one interval). Values below 2 048 are exact at 3 digits.
        r.record_service(1_000);
        r.finish_closed_loop(100);
        assert_eq!(r.added_samples(), 9);
        assert_eq!(r.corrected().len(), 101 + 9);
        assert_eq!(r.uncorrected().len(), 101);
        for v in (1..=9).map(|k| 1_000 - k * 100) {
            assert_eq!(r.corrected().count_at(v), 1, "value {v}");
        }
    }

    #[test]
    fn merge_adds_rounds() {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        a.record(0, 5, 10);
        b.record(0, 15, 20);
        b.record(0, 25, 30);
        a.merge(&b);
        assert_eq!((a.corrected().len(), a.uncorrected().len()), (3, 3));
        assert_eq!(a.corrected().max(), 30);
        assert_eq!(a.uncorrected().max(), 5);
    }

    #[test]
    fn huge_values_are_clamped_and_counted() {
        let mut r = Recorder::new();
        r.record(0, 0, HIGHEST_NS * 2);
        assert_eq!(r.clamped(), 2);
        assert_eq!(r.corrected().len(), 1);
    }

    #[test]
    fn percentiles_are_ordered() {
        let mut h = new_histogram();
        for v in 1..=100_000u64 {
            h.record(v).unwrap();
        }
        let p = Percentiles::of(&h);
        let v = p.values();
        assert!(v.windows(2).all(|w| w[0] <= w[1]), "{v:?}");
        assert_eq!(p.count, 100_000);
        assert_eq!(Percentiles::of(&new_histogram()), Percentiles::default());
    }
}
