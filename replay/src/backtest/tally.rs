//! A per-event latency tally that folds into an [`hdrhistogram::Histogram`] exactly.
//!
//! The backtest records one feed latency per market-data event; `Histogram::record` cost
//! ~60 instructions a sample there. [`Tally::record`] costs a handful: it counts each
//! sample in a class of values (every value below 2048 alone; above, the values sharing
//! their leading one and the 11 bits after it) and keeps the exact smallest non-zero and
//! largest sample. [`Tally::drain_into`] then records the classes into the histogram.
//!
//! # Exactness
//! A histogram's state is its bucket counts, total count, smallest non-zero value and
//! largest value; recording is commutative. The classes refine the buckets of any
//! histogram of up to 3 significant digits with a lowest discernible value of 1 (such a
//! histogram resolves at least 2048 values exactly and ten bits after the leading one
//! above), so every sample of a class falls in the bucket of any other. `drain_into`
//! records each class's count at one value of the class that lies within
//! [smallest, largest] — the smallest itself for its class — and the largest sample
//! itself once, so the histogram ends with the same counts, total, minimum and maximum as
//! if every sample had been recorded one by one (tested against that).

use hdrhistogram::Histogram;

/// Values below this are classes of their own.
const EXACT_BELOW: u64 = 1 << 11;
/// Bits after the leading one that name a class above `EXACT_BELOW`.
const CLASS_BITS: u32 = 11;
/// Classes: the exact values, then 2048 per leading-one position from 11 to 63.
const CLASSES: usize = (64 - CLASS_BITS as usize + 1) << CLASS_BITS;

/// Samples counted by class, with their exact extremes.
pub struct Tally {
    counts: Vec<u64>,
    min_nonzero: u64,
    max: u64,
    len: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally { counts: vec![0; CLASSES], min_nonzero: u64::MAX, max: 0, len: 0 }
    }
}

/// The class of `v`.
#[inline(always)]
fn class(v: u64) -> usize {
    if v < EXACT_BELOW {
        v as usize
    } else {
        let lead = 63 - v.leading_zeros();
        let shift = lead - CLASS_BITS;
        (((lead - CLASS_BITS + 1) as usize) << CLASS_BITS)
            | ((v >> shift) as usize & ((1 << CLASS_BITS) - 1))
    }
}

/// The smallest value of class `k`.
fn class_lowest(k: usize) -> u64 {
    if (k as u64) < EXACT_BELOW {
        k as u64
    } else {
        let lead = (k >> CLASS_BITS) as u32 + CLASS_BITS - 1;
        let top = (1u64 << CLASS_BITS) | (k as u64 & ((1 << CLASS_BITS) - 1));
        top << (lead - CLASS_BITS)
    }
}

impl Tally {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one sample of `v`.
    #[inline(always)]
    pub fn record(&mut self, v: u64) {
        self.counts[class(v)] += 1;
        self.len += 1;
        if v != 0 && v < self.min_nonzero {
            self.min_nonzero = v;
        }
        self.max = self.max.max(v);
    }

    /// Samples counted since the last drain.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was counted since the last drain.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Records every sample counted into `h` (see the module doc for why this equals
    /// recording them one by one into a histogram of at most 3 significant digits and a
    /// lowest discernible value of 1) and empties the tally.
    pub fn drain_into(&mut self, h: &mut Histogram<u64>) {
        if self.len == 0 {
            return;
        }
        let max_class = class(self.max);
        // Only the class of zero and the classes from the smallest non-zero sample's to
        // the largest's can hold samples (`class` is monotonic): the rest of the ~110 000
        // are not scanned.
        let min_class = if self.min_nonzero == u64::MAX { 1 } else { class(self.min_nonzero) };
        for k in std::iter::once(0).chain(min_class.max(1)..=max_class) {
            let n = std::mem::take(&mut self.counts[k]);
            if n == 0 {
                continue;
            }
            if k == 0 {
                h.saturating_record_n(0, n);
                continue;
            }
            let at = class_lowest(k).clamp(self.min_nonzero, self.max);
            if k == max_class {
                if n > 1 {
                    h.saturating_record_n(at, n - 1);
                }
                h.saturating_record(self.max);
            } else {
                h.saturating_record_n(at, n);
            }
        }
        (self.min_nonzero, self.max, self.len) = (u64::MAX, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::metrics::LATENCY_NS_MAX;

    fn histogram() -> Histogram<u64> {
        Histogram::new_with_bounds(1, LATENCY_NS_MAX, 3).expect("bounds")
    }

    fn assert_same(samples: &[u64]) {
        let mut direct = histogram();
        let mut tally = Tally::new();
        for &v in samples {
            direct.saturating_record(v);
            tally.record(v);
        }
        assert_eq!(tally.len(), samples.len() as u64);
        let mut folded = histogram();
        tally.drain_into(&mut folded);
        assert!(tally.is_empty());
        assert_eq!(folded.len(), direct.len());
        assert_eq!(folded.min(), direct.min());
        assert_eq!(folded.min_nz(), direct.min_nz());
        assert_eq!(folded.max(), direct.max());
        assert_eq!(folded.mean().to_bits(), direct.mean().to_bits());
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(folded.value_at_quantile(q), direct.value_at_quantile(q), "q {q}");
        }
        let a: Vec<_> =
            folded.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        let b: Vec<_> =
            direct.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        assert_eq!(a, b);
        assert!(folded == direct, "histograms differ");
    }

    #[test]
    fn classes_refine_the_buckets_and_lowest_is_in_its_class() {
        let h = histogram();
        for v in (0..5000u64).chain((11..42).flat_map(|p| {
            let b = 1u64 << p;
            [b - 1, b, b + 1, b + (b >> 11), b + (b >> 10) - 1, 2 * b - 1]
        })) {
            let k = class(v);
            assert!(k < CLASSES);
            let lo = class_lowest(k);
            assert_eq!(class(lo), k, "{v}");
            assert!(lo <= v);
            assert!(h.equivalent(lo, v), "{v} and {lo} in one class, different buckets");
        }
    }

    #[test]
    fn folding_equals_recording_one_by_one() {
        assert_same(&[]);
        assert_same(&[0]);
        assert_same(&[0, 0, 7]);
        assert_same(&[200_000]);
        assert_same(&[200_001, 200_000, 200_002]);
        assert_same(&[LATENCY_NS_MAX, 1, 0, LATENCY_NS_MAX - 1]);
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut samples = Vec::new();
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push(match i % 4 {
                0 => 200_000 + x % 50_000,
                1 => x % 3000,
                2 => x % LATENCY_NS_MAX,
                _ => (x % 64_000) * 1000,
            });
        }
        assert_same(&samples);
    }

    #[test]
    fn a_drained_tally_starts_over() {
        let mut t = Tally::new();
        t.record(5);
        t.record(900_000);
        let mut h = histogram();
        t.drain_into(&mut h);
        t.record(70);
        let mut h2 = histogram();
        t.drain_into(&mut h2);
        assert_eq!((h2.len(), h2.min_nz(), h2.max()), (1, 70, 70));
    }
}
