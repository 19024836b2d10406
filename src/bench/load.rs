//! The load machinery shared by every mode: a nanosecond clock, a fixed-rate open-loop
//! schedule, waiting for a due time without oversleeping it, and the synchronous
//! measurement loop of the one-thread modes (core, journal).
//!
//! Open loop: operation `i` is due at `start + i / rate`, whatever happened to the ones
//! before it. A sender that falls behind sends late operations at once, and their latency
//! still counts from the due time (coordinated-omission correction by intended send time).
//! Operations due during the warm-up are performed but not recorded.

use super::histogram::Recorder;
use keel_engine::pipeline::WaitStrategy;
use std::time::Duration;

/// A monotonic nanosecond clock. Tests substitute a fake one to inject stalls.
pub trait Clock {
    /// Nanoseconds since an arbitrary origin.
    fn now_ns(&self) -> u64;

    /// Returns once `now_ns() >= due_ns`, waiting per `wait`.
    fn wait_until(&self, due_ns: u64, wait: WaitStrategy);
}

/// The TSC (through `quanta`), as nanoseconds since the clock was made.
#[derive(Clone, Debug)]
pub struct TscClock {
    clock: quanta::Clock,
    base_raw: u64,
}

impl Default for TscClock {
    fn default() -> Self {
        Self::new()
    }
}

impl TscClock {
    /// Calibrates `quanta` and takes the origin.
    pub fn new() -> TscClock {
        let clock = quanta::Clock::new();
        let base_raw = clock.raw();
        TscClock { clock, base_raw }
    }
}

impl Clock for TscClock {
    #[inline]
    fn now_ns(&self) -> u64 {
        self.clock.delta_as_nanos(self.base_raw, self.clock.raw())
    }

    fn wait_until(&self, due_ns: u64, wait: WaitStrategy) {
        wait_until(|| self.now_ns(), due_ns, wait);
    }
}

/// How early a `block` wait wakes before a due time, to yield the rest (a sleep may
/// overrun by a timer slack).
const BLOCK_MARGIN_NS: u64 = 60_000;

/// Waits until `now() >= due_ns`. Busy-spin spins; spin-yield spins its rounds, then
/// yields; park sleeps `park_us` only while more than two sleeps remain (a sleep may
/// overrun), then yields; block sleeps once to [`BLOCK_MARGIN_NS`] before the due time,
/// then yields: the due time is not overslept by the strategy itself.
pub fn wait_until(now: impl Fn() -> u64, due_ns: u64, wait: WaitStrategy) {
    let mut rounds = 0u32;
    loop {
        let t = now();
        if t >= due_ns {
            return;
        }
        rounds = rounds.saturating_add(1);
        match wait {
            WaitStrategy::BusySpin => std::hint::spin_loop(),
            WaitStrategy::SpinThenYield { spins } => {
                if rounds <= spins {
                    std::hint::spin_loop()
                } else {
                    std::thread::yield_now()
                }
            }
            WaitStrategy::Block { .. } => {
                // Sleep in one go to shortly before the due time, then yield up to it.
                let left_ns = due_ns - t;
                if left_ns > 2 * BLOCK_MARGIN_NS {
                    std::thread::sleep(Duration::from_nanos(left_ns - BLOCK_MARGIN_NS));
                } else {
                    std::thread::yield_now();
                }
            }
            WaitStrategy::Park { park_us, .. } => {
                let sleep_ns = u64::from(park_us) * 1_000;
                if due_ns - t > 2 * sleep_ns {
                    std::thread::sleep(Duration::from_nanos(sleep_ns));
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// A fixed-rate schedule of `warmup_ops + measured_ops` operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Due time of operation 0, ns on the run's clock.
    pub start_ns: u64,
    /// Operations per second (> 0).
    pub rate_per_s: u64,
    /// Operations performed but not recorded.
    pub warmup_ops: u64,
    /// Operations recorded.
    pub measured_ops: u64,
}

impl Schedule {
    /// A schedule at `rate_per_s` for `warmup` then `duration`, starting at `start_ns`.
    pub fn new(start_ns: u64, rate_per_s: u64, warmup: Duration, duration: Duration) -> Schedule {
        let rate_per_s = rate_per_s.max(1);
        let ops = |d: Duration| (d.as_nanos() * u128::from(rate_per_s) / 1_000_000_000) as u64;
        Schedule {
            start_ns,
            rate_per_s,
            warmup_ops: ops(warmup),
            measured_ops: ops(duration).max(1),
        }
    }

    /// All operations.
    pub fn total_ops(&self) -> u64 {
        self.warmup_ops + self.measured_ops
    }

    /// When operation `i` is due (exact: no accumulated rounding).
    #[inline]
    pub fn due_ns(&self, i: u64) -> u64 {
        self.start_ns + (u128::from(i) * 1_000_000_000 / u128::from(self.rate_per_s)) as u64
    }

    /// True when operation `i` is recorded.
    #[inline]
    pub fn is_measured(&self, i: u64) -> bool {
        i >= self.warmup_ops
    }

    /// Due time of the first measured operation.
    pub fn measure_start_ns(&self) -> u64 {
        self.due_ns(self.warmup_ops)
    }
}

/// How a synchronous run is paced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// Back to back for `warmup` then `duration`; corrected by `clone_correct` at the
    /// mean interval.
    Unthrottled {
        /// Unrecorded time first.
        warmup: Duration,
        /// Recorded time.
        duration: Duration,
    },
    /// Open loop at a fixed rate.
    Rate {
        /// Operations per second.
        rate_per_s: u64,
        /// Unrecorded time first.
        warmup: Duration,
        /// Recorded time.
        duration: Duration,
    },
}

impl Pacing {
    /// `rate_per_s == 0` means unthrottled.
    pub fn new(rate_per_s: u64, warmup: Duration, duration: Duration) -> Pacing {
        if rate_per_s == 0 {
            Pacing::Unthrottled { warmup, duration }
        } else {
            Pacing::Rate { rate_per_s, warmup, duration }
        }
    }
}

/// One timed operation of a synchronous run.
pub trait Op {
    /// Untimed preparation of operation `i` (building inputs).
    fn prepare(&mut self, i: u64) {
        let _ = i;
    }
    /// The timed part.
    fn run(&mut self, i: u64);
    /// True when no more operations can be run (e.g. a size cap was reached): the phase
    /// (warm-up or measurement) ends early and the run reports what it measured.
    fn done(&self) -> bool {
        false
    }
    /// Called once when the warm-up ends and the measured operations begin.
    fn measuring(&mut self) {}
}

/// What a synchronous run did.
#[derive(Clone, Debug)]
pub struct SyncRun {
    /// Latencies of the measured operations.
    pub recorder: Recorder,
    /// Operations measured.
    pub measured_ops: u64,
    /// Operations in the warm-up.
    pub warmup_ops: u64,
    /// From the first measured operation's start (or due time) to the last one's end, ns.
    pub elapsed_ns: u64,
}

/// Runs `op` on this thread per `pacing`, timing each operation with two clock reads.
pub fn run_synchronous<C: Clock, O: Op>(
    clock: &C,
    pacing: Pacing,
    wait: WaitStrategy,
    op: &mut O,
) -> SyncRun {
    let mut rec = Recorder::new();
    match pacing {
        Pacing::Unthrottled { warmup, duration } => {
            let warmup_ns = warmup.as_nanos() as u64;
            let duration_ns = duration.as_nanos() as u64;
            let mut i = 0u64;
            let start = clock.now_ns();
            while clock.now_ns().saturating_sub(start) < warmup_ns && !op.done() {
                op.prepare(i);
                op.run(i);
                i += 1;
            }
            let warmup_ops = i;
            op.measuring();
            let t0 = clock.now_ns();
            let mut end = t0;
            // At least one measured operation whatever the duration, unless `done`.
            while !op.done() {
                op.prepare(i);
                let a = clock.now_ns();
                op.run(i);
                let b = clock.now_ns();
                rec.record_service(b - a);
                i += 1;
                end = end.max(b);
                if b - t0 >= duration_ns {
                    break;
                }
            }
            let measured_ops = i - warmup_ops;
            let elapsed_ns = end - t0;
            rec.finish_closed_loop(elapsed_ns / measured_ops.max(1));
            SyncRun { recorder: rec, measured_ops, warmup_ops, elapsed_ns }
        }
        Pacing::Rate { rate_per_s, warmup, duration } => {
            // Start a little ahead so the first due time is not already late.
            let s = Schedule::new(clock.now_ns() + 100_000, rate_per_s, warmup, duration);
            let mut end = 0;
            let (mut measured_ops, mut warmup_ops) = (0, 0);
            for i in 0..s.total_ops() {
                if i == s.warmup_ops {
                    op.measuring();
                }
                if op.done() {
                    if s.is_measured(i) {
                        break;
                    }
                    continue;
                }
                op.prepare(i);
                let due = s.due_ns(i);
                clock.wait_until(due, wait);
                let sent = clock.now_ns();
                op.run(i);
                let done = clock.now_ns();
                if s.is_measured(i) {
                    rec.record(due, sent, done);
                    measured_ops += 1;
                    end = done;
                } else {
                    warmup_ops += 1;
                }
            }
            let elapsed_ns = end.saturating_sub(s.measure_start_ns());
            SyncRun { recorder: rec, measured_ops, warmup_ops, elapsed_ns }
        }
    }
}

/// The cost of one operation timed over batches: what a per-operation timer cannot
/// resolve when the operation is close to the timer's own step (the TSC of a VM steps in
/// ~10 ns, and two reads cost about as much), the mean over `batch` back-to-back
/// operations between two reads can. A batch that hits a rare stall (a segment roll, a
/// preemption) is one slow batch among thousands, so the percentiles of the batch means
/// (the median above all) describe the typical operation; the per-operation run keeps the
/// tail.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchCost {
    /// Operations per batch.
    pub batch: u32,
    /// Batches timed.
    pub batches: u64,
    /// Percentiles of the per-operation mean of a batch, ns.
    pub p50_ns: f64,
    /// 90th percentile, ns.
    pub p90_ns: f64,
    /// The cheapest batch, ns per operation.
    pub min_ns: f64,
}

/// Times `batches` batches of `batch` operations (after one untimed batch), or fewer if
/// the operation reports `done`. `prepare` is not called: an operation timed this way
/// must need no untimed preparation.
pub fn batch_cost<C: Clock, O: Op>(clock: &C, op: &mut O, batch: u32, batches: u64) -> BatchCost {
    let batch = batch.max(1);
    let mut i = 0u64;
    for _ in 0..batch {
        op.run(i);
        i += 1;
    }
    let mut totals_ns: Vec<u64> = Vec::with_capacity(batches as usize);
    while (totals_ns.len() as u64) < batches && !op.done() {
        let a = clock.now_ns();
        for _ in 0..batch {
            op.run(i);
            i += 1;
        }
        totals_ns.push(clock.now_ns() - a);
    }
    totals_ns.sort_unstable();
    let per_op = |ns: u64| ns as f64 / f64::from(batch);
    let at = |q: f64| {
        totals_ns
            .get(((totals_ns.len().saturating_sub(1)) as f64 * q) as usize)
            .map_or(0.0, |&v| per_op(v))
    };
    BatchCost {
        batch,
        batches: totals_ns.len() as u64,
        p50_ns: at(0.5),
        p90_ns: at(0.9),
        min_ns: totals_ns.first().map_or(0.0, |&v| per_op(v)),
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A clock that only moves when told to: operations advance it by their service time,
    //! waiting jumps it to the due time.
    use super::*;
    use std::cell::Cell;

    #[derive(Debug, Default)]
    pub struct FakeClock {
        pub now: Cell<u64>,
    }

    impl FakeClock {
        pub fn advance(&self, ns: u64) {
            self.now.set(self.now.get() + ns);
        }
    }

    impl Clock for FakeClock {
        fn now_ns(&self) -> u64 {
            self.now.get()
        }
        fn wait_until(&self, due_ns: u64, _wait: WaitStrategy) {
            self.now.set(self.now.get().max(due_ns));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeClock;
    use super::*;

    /// Every operation takes `service_ns`; operation `stall_at` takes `stall_ns` more.
    struct Stalling<'a> {
        clock: &'a FakeClock,
        service_ns: u64,
        stall_at: u64,
        stall_ns: u64,
    }

    impl Op for Stalling<'_> {
        fn run(&mut self, i: u64) {
            self.clock.advance(self.service_ns);
            if i == self.stall_at {
                self.clock.advance(self.stall_ns);
            }
        }
    }

    const WAIT: WaitStrategy = WaitStrategy::BusySpin;

    #[test]
    fn schedule_is_exact_and_splits_warmup() {
        let s = Schedule::new(1_000, 3, Duration::from_secs(1), Duration::from_secs(2));
        assert_eq!((s.warmup_ops, s.measured_ops, s.total_ops()), (3, 6, 9));
        assert_eq!(s.due_ns(0), 1_000);
        assert_eq!(s.due_ns(3), 1_000 + 1_000_000_000);
        assert_eq!(s.due_ns(1), 1_000 + 333_333_333);
        assert!(!s.is_measured(2) && s.is_measured(3));
    }

    /// Open loop, 1 µs interval, 100 ns service, a 10.5 µs stall in operation 5: the
    /// operations due during the stall are sent late and their latency counts from their
    /// due time. Uncorrected, the stall is one slow sample; corrected, eleven more
    /// operations (6..=16) show it, each with exactly the time it waited.
    #[test]
    fn open_loop_stall_shows_in_every_operation_due_during_it() {
        let clock = FakeClock::default();
        let mut op = Stalling { clock: &clock, service_ns: 100, stall_at: 5, stall_ns: 10_500 };
        let pacing = Pacing::Rate {
            rate_per_s: 1_000_000,
            warmup: Duration::ZERO,
            duration: Duration::from_micros(30),
        };
        let run = run_synchronous(&clock, pacing, WAIT, &mut op);
        let rec = &run.recorder;
        assert_eq!(run.measured_ops, 30);
        assert_eq!(rec.corrected().len(), 30);
        assert_eq!(rec.uncorrected().len(), 30);
        assert_eq!(rec.added_samples(), 0);
        // Uncorrected: 29 × 100 ns and the stalled one.
        assert_eq!(rec.uncorrected().count_at(100), 29);
        assert_eq!(rec.uncorrected().count_at(10_600), 1);
        // Corrected: operation 5 is due at 5 000 and ends at 15 600; operation k in 6..=16
        // starts when k−1 ends (15 600 + (k−6)·100) and ends 100 ns later, so its latency
        // from its due time k·1 000 is 15 100 − 900·k (+100 service already included).
        let mut late: Vec<u64> = vec![10_600];
        late.extend((6..=16u64).map(|k| 15_700 + (k - 6) * 100 - k * 1_000));
        for v in &late {
            assert_eq!(rec.corrected().count_at(*v), 1, "latency {v}");
        }
        let on_time = 30 - late.len() as u64;
        assert_eq!(rec.corrected().count_at(100), on_time);
        assert_eq!(on_time, 18);
    }

    /// Unthrottled: 10 ns per operation for 10 µs, one stall of 1 µs. The run takes 900
    /// operations; the mean interval is 10 000 / 900 = 11 ns; the stalled sample
    /// (1 010 ns) gets the samples 1 010 − 11·k ≥ 11 added: k = 1..=90. (Values below
    /// 2 048 ns are exact at 3 significant digits.)
    #[test]
    fn closed_loop_stall_adds_the_expected_samples() {
        let clock = FakeClock::default();
        let mut op = Stalling { clock: &clock, service_ns: 10, stall_at: 50, stall_ns: 1_000 };
        let pacing =
            Pacing::Unthrottled { warmup: Duration::ZERO, duration: Duration::from_micros(10) };
        let run = run_synchronous(&clock, pacing, WAIT, &mut op);
        assert_eq!(run.measured_ops, 900);
        assert_eq!(run.elapsed_ns, 10_000);
        let rec = &run.recorder;
        assert_eq!(rec.closed_loop_interval_ns(), Some(11));
        let expected_added = (1_010 - 11) / 11;
        assert_eq!(expected_added, 90);
        assert_eq!(rec.added_samples(), expected_added);
        assert_eq!(rec.corrected().len(), 900 + expected_added);
        assert_eq!(rec.uncorrected().len(), 900);
        for k in 1..=90 {
            assert_eq!(rec.corrected().count_at(1_010 - 11 * k), 1, "k = {k}");
        }
        assert_eq!(rec.corrected().count_at(10), 899);
    }

    /// 64 operations of 10 ns per batch, one 1 µs stall: the stalled batch is the slowest
    /// and moves neither the median nor the minimum, which are the exact 10 ns that the
    /// per-operation timer could only read to its step.
    #[test]
    fn batch_cost_is_the_mean_within_a_batch_and_a_stall_is_one_batch() {
        let clock = FakeClock::default();
        let mut op =
            Stalling { clock: &clock, service_ns: 10, stall_at: 64 * 5 + 3, stall_ns: 1_000 };
        let cost = batch_cost(&clock, &mut op, 64, 100);
        assert_eq!((cost.batch, cost.batches), (64, 100));
        assert_eq!((cost.p50_ns, cost.p90_ns, cost.min_ns), (10.0, 10.0, 10.0));
    }

    /// A fractional mean survives: 3 operations of 10, 10 and 11 ns read 10.33 ns.
    #[test]
    fn batch_cost_keeps_fractions() {
        struct Uneven<'a>(&'a FakeClock);
        impl Op for Uneven<'_> {
            fn run(&mut self, i: u64) {
                self.0.advance(if i % 3 == 2 { 11 } else { 10 });
            }
        }
        let clock = FakeClock::default();
        let cost = batch_cost(&clock, &mut Uneven(&clock), 3, 10);
        assert!((cost.p50_ns - 31.0 / 3.0).abs() < 1e-9, "{cost:?}");
    }

    #[test]
    fn warmup_operations_are_run_but_not_recorded() {
        let clock = FakeClock::default();
        let mut op = Stalling { clock: &clock, service_ns: 1_000, stall_at: u64::MAX, stall_ns: 0 };
        let pacing = Pacing::Rate {
            rate_per_s: 1_000,
            warmup: Duration::from_millis(10),
            duration: Duration::from_millis(5),
        };
        let run = run_synchronous(&clock, pacing, WAIT, &mut op);
        assert_eq!((run.warmup_ops, run.measured_ops), (10, 5));
        assert_eq!(run.recorder.corrected().len(), 5);
        assert_eq!(run.elapsed_ns, 4 * 1_000_000 + 1_000);
    }

    #[test]
    fn real_wait_until_reaches_the_due_time() {
        let c = TscClock::new();
        let due = c.now_ns() + 300_000;
        for w in [
            WaitStrategy::BusySpin,
            WaitStrategy::SpinThenYield { spins: 10 },
            WaitStrategy::Park { spins: 1, yields: 1, park_us: 50 },
        ] {
            c.wait_until(due, w);
            assert!(c.now_ns() >= due);
        }
    }
}
