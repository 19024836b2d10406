//! What the core thread tells the rest of the process: plain atomics it writes (a single
//! writer) and any thread reads. A metrics endpoint, a status line or a test reads these,
//! never the core's own state.
//!
//! The counts the core keeps per command (`commands`, `journal_last_seq`) are stored after
//! every batch; the per-kind and per-code tables, P&L and limits are copied from the core
//! every snapshot interval.

use super::gateway::Delivery;
use crate::core::{COMMAND_KINDS, REJECT_CODES};
use crate::schema::{LimitKind, LimitScope};
use crossbeam::queue::ArrayQueue;
use crossbeam::utils::CachePadded;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// Buckets of [`LatencyHistogram`]: 4 per power of two from 1 ns to 2^40 ns.
pub const LATENCY_BUCKETS: usize = 4 * 41;

/// A fixed-bucket latency histogram of atomics: recorded by one thread without allocating,
/// read by any. Buckets are log-linear (4 per power of two), so a percentile is reported
/// as the upper edge of its bucket: at most 19% above the true value.
pub struct LatencyHistogram {
    buckets: [AtomicU64; LATENCY_BUCKETS],
    count: AtomicU64,
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
        }
    }
}

/// The bucket of a value.
#[inline]
fn bucket_of(ns: u64) -> usize {
    if ns < 4 {
        return ns as usize;
    }
    let log = 63 - ns.leading_zeros() as usize; // >= 2
    let sub = ((ns >> (log - 2)) & 3) as usize;
    (4 * (log - 1) + sub).min(LATENCY_BUCKETS - 1)
}

/// The largest value in a bucket.
pub fn bucket_upper_ns(bucket: usize) -> u64 {
    if bucket < 4 {
        return bucket as u64;
    }
    let log = bucket / 4 + 1;
    let sub = (bucket % 4) as u64;
    ((4 + sub + 1) << (log - 2)) - 1
}

impl LatencyHistogram {
    /// Records one value. Single writer: plain load/store, no read-modify-write.
    #[inline]
    pub fn record(&self, ns: u64) {
        let b = &self.buckets[bucket_of(ns)];
        b.store(b.load(Relaxed) + 1, Relaxed);
        self.count.store(self.count.load(Relaxed) + 1, Relaxed);
        self.sum_ns.store(self.sum_ns.load(Relaxed).wrapping_add(ns), Relaxed);
        if ns > self.max_ns.load(Relaxed) {
            self.max_ns.store(ns, Relaxed);
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// Sum of the values, ns.
    pub fn sum_ns(&self) -> u64 {
        self.sum_ns.load(Relaxed)
    }

    /// Largest value, ns.
    pub fn max_ns(&self) -> u64 {
        self.max_ns.load(Relaxed)
    }

    /// Count per bucket.
    pub fn buckets(&self) -> [u64; LATENCY_BUCKETS] {
        std::array::from_fn(|i| self.buckets[i].load(Relaxed))
    }

    /// The value at quantile `q` (0..=1): the upper edge of its bucket, capped at the max.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        let buckets = self.buckets();
        let total: u64 = buckets.iter().sum();
        if total == 0 {
            return 0;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, n) in buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_upper_ns(i).min(self.max_ns());
            }
        }
        self.max_ns()
    }
}

/// A risk limit as last copied from the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitValue {
    /// Where it applies.
    pub scope: LimitScope,
    /// Which limit.
    pub kind: LimitKind,
    /// Its value; `None` when unlimited.
    pub value: Option<i64>,
}

/// The pipeline's published state. See the module docs.
pub struct PipelineMetrics {
    /// Commands applied, by kind (copied each snapshot).
    pub commands_by_kind: [AtomicU64; COMMAND_KINDS],
    /// Rejects, by code index (copied each snapshot).
    pub rejects_by_code: [AtomicU64; REJECT_CODES],
    /// Fills applied (copied each snapshot).
    pub fills: AtomicU64,
    /// Outputs emitted (copied each snapshot).
    pub outputs: AtomicU64,
    /// Anomalies (copied each snapshot).
    pub anomalies: AtomicU64,
    /// Commands taken off the inbound ring and applied (after every batch).
    pub commands: AtomicU64,
    /// Sequence of the last journal record written (after every batch).
    pub journal_last_seq: AtomicU64,
    /// Outputs no gateway owns (for in-process strategies, anomalies): journaled only.
    pub unrouted: AtomicU64,
    /// Outputs the core had to wait to hand over because an outbound ring was full.
    pub outbound_full_waits: AtomicU64,
    /// Market data in (ingress stamp) to venue order on the outbound ring.
    pub tick_to_trade: LatencyHistogram,
    /// Firm realized P&L, 1e-8 of the reporting currency (copied each snapshot).
    pub realized_pnl_e8: AtomicI64,
    /// Firm unrealized P&L at the marks, 1e-8 (copied each snapshot).
    pub unrealized_pnl_e8: AtomicI64,
    /// Firm fees, 1e-8 (copied each snapshot).
    pub fees_e8: AtomicI64,
    /// Size of the inbound ring.
    pub inbound_capacity: usize,
    /// True once the core thread has stopped (after draining).
    pub core_done: AtomicBool,
    published: Mutex<Vec<Arc<CachePadded<AtomicU64>>>>,
    outbound: Mutex<Vec<(String, Arc<ArrayQueue<Delivery>>)>>,
    limits: Mutex<Vec<LimitValue>>,
}

impl PipelineMetrics {
    pub(crate) fn new(inbound_capacity: usize) -> PipelineMetrics {
        PipelineMetrics {
            commands_by_kind: std::array::from_fn(|_| AtomicU64::new(0)),
            rejects_by_code: std::array::from_fn(|_| AtomicU64::new(0)),
            fills: AtomicU64::new(0),
            outputs: AtomicU64::new(0),
            anomalies: AtomicU64::new(0),
            commands: AtomicU64::new(0),
            journal_last_seq: AtomicU64::new(0),
            unrouted: AtomicU64::new(0),
            outbound_full_waits: AtomicU64::new(0),
            tick_to_trade: LatencyHistogram::default(),
            realized_pnl_e8: AtomicI64::new(0),
            unrealized_pnl_e8: AtomicI64::new(0),
            fees_e8: AtomicI64::new(0),
            inbound_capacity,
            core_done: AtomicBool::new(false),
            published: Mutex::new(Vec::new()),
            outbound: Mutex::new(Vec::new()),
            limits: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn register_publisher(&self) -> Arc<CachePadded<AtomicU64>> {
        let counter = Arc::new(CachePadded::new(AtomicU64::new(0)));
        self.published.lock().unwrap_or_else(|e| e.into_inner()).push(Arc::clone(&counter));
        counter
    }

    pub(crate) fn register_outbound(&self, name: &str, ring: Arc<ArrayQueue<Delivery>>) {
        self.outbound.lock().unwrap_or_else(|e| e.into_inner()).push((name.to_string(), ring));
    }

    pub(crate) fn set_limits(&self, limits: &[LimitValue]) {
        // Never block the core thread: if a reader holds the lock, skip this snapshot.
        if let Ok(mut l) = self.limits.try_lock() {
            l.clear();
            l.extend_from_slice(limits);
        }
    }

    /// Commands published into the inbound ring by all gateways.
    pub fn published(&self) -> u64 {
        let p = self.published.lock().unwrap_or_else(|e| e.into_inner());
        p.iter().map(|c| c.load(Relaxed)).sum()
    }

    /// Commands waiting in the inbound ring (published, not yet applied).
    pub fn inbound_occupancy(&self) -> u64 {
        self.published().saturating_sub(self.commands.load(Relaxed))
    }

    /// Outputs waiting in each gateway's outbound ring, with its capacity.
    pub fn outbound_occupancy(&self) -> Vec<(String, usize, usize)> {
        let o = self.outbound.lock().unwrap_or_else(|e| e.into_inner());
        o.iter().map(|(n, q)| (n.clone(), q.len(), q.capacity())).collect()
    }

    /// The risk limits as last copied from the core.
    pub fn limits(&self) -> Vec<LimitValue> {
        self.limits.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_contain_their_values() {
        let mut last = 0;
        for ns in [0u64, 1, 3, 4, 5, 7, 8, 9, 15, 16, 100, 1_000, 123_456, 1 << 39] {
            let b = bucket_of(ns);
            assert!(b >= last, "{ns}");
            last = b;
            assert!(bucket_upper_ns(b) >= ns, "{ns} in bucket {b}");
            if b > 0 {
                assert!(bucket_upper_ns(b - 1) < ns, "{ns} in bucket {b}");
            }
        }
    }

    #[test]
    fn quantiles_come_from_the_buckets() {
        let h = LatencyHistogram::default();
        for ns in 1..=1000 {
            h.record(ns);
        }
        assert_eq!(h.count(), 1000);
        let p50 = h.quantile_ns(0.5);
        assert!((500..=600).contains(&p50), "{p50}");
        assert_eq!(h.quantile_ns(1.0), 1000);
    }
}
