//! The open-loop client loop of `keel bench wire`, for any [`WireClient`].
//!
//! One thread: send every order that is due (order `i` at the schedule's `due_ns(i)`,
//! whatever the answers to earlier ones), then read what arrived, then wait per the wait
//! strategy if there was nothing to do. Under `block` it yields from its first idle round
//! (each round reads the socket, a system call, so spinning would only keep the peer it
//! just woke off this CPU), then waits in a `poll` on the client's
//! socket that ends when an ack is readable or [`SEND_MARGIN_NS`] before the next order is
//! due; the rest of the way the loop reads without sleeping, so a late wake-up does not make
//! the send late. An ack's latency counts from its order's due time (corrected) and from
//! when it was written (uncorrected). After the last send the loop
//! waits up to `drain` for the remaining acks; orders still unanswered then are counted,
//! never silently dropped. Acks for ids never sent, and second acks, are counted apart.

use super::{WireClient, WireError};
use crate::bench::histogram::Recorder;
use crate::bench::load::{Clock, Schedule};
use keel_engine::pipeline::{Idle, WaitStrategy};
use std::time::Duration;

/// Orders sent per loop round at most before reading (so a late sender still reads).
const SEND_BUDGET: u32 = 64;
/// Under `block`: how long before an order's due time the loop stops sleeping on its
/// socket, ns (a sleep ends tens of µs late on a busy VM; sends must not).
pub const SEND_MARGIN_NS: u64 = 20_000;

/// What an open-loop run measured.
#[derive(Clone, Debug)]
pub struct WireRun {
    /// Latencies of measured orders that were acked.
    pub recorder: Recorder,
    /// Orders sent (warm-up included).
    pub sent: u64,
    /// Orders in the measured part.
    pub measured: u64,
    /// Measured orders acked.
    pub acked_measured: u64,
    /// Orders (any) with no ack when the run ended.
    pub unanswered: u64,
    /// Acks for ids that were never sent.
    pub unknown_acks: u64,
    /// Second acks of the same id.
    pub duplicate_acks: u64,
    /// Orders whose ack was a refusal ([`WireClient::rejected`]).
    pub rejected: u64,
    /// First measured due time to the last measured ack, ns.
    pub elapsed_ns: u64,
}

impl WireRun {
    /// An empty result, to add rounds to.
    pub fn empty() -> WireRun {
        WireRun {
            recorder: Recorder::new(),
            sent: 0,
            measured: 0,
            acked_measured: 0,
            unanswered: 0,
            unknown_acks: 0,
            duplicate_acks: 0,
            rejected: 0,
            elapsed_ns: 0,
        }
    }

    /// Adds another round.
    pub fn add(&mut self, o: &WireRun) {
        self.recorder.merge(&o.recorder);
        self.sent += o.sent;
        self.measured += o.measured;
        self.acked_measured += o.acked_measured;
        self.unanswered += o.unanswered;
        self.unknown_acks += o.unknown_acks;
        self.duplicate_acks += o.duplicate_acks;
        self.rejected += o.rejected;
        self.elapsed_ns += o.elapsed_ns;
    }
}

/// Runs `schedule` over `client` (see the module docs).
pub fn run_open_loop<C: Clock>(
    clock: &C,
    client: &mut dyn WireClient,
    schedule: Schedule,
    wait: WaitStrategy,
    drain: Duration,
) -> Result<WireRun, WireError> {
    let total = schedule.total_ops();
    let mut sent_at = vec![0u64; total as usize];
    let mut acked = vec![false; total as usize];
    let mut rec = Recorder::new();
    let (mut next, mut acked_total, mut acked_measured) = (0u64, 0u64, 0u64);
    let (mut unknown, mut duplicate, mut last_ack) = (0u64, 0u64, 0u64);
    let mut drain_until: Option<u64> = None;
    let mut idle = Idle::new(wait);
    let fd = client.raw_fd();
    loop {
        let mut work = 0usize;
        let mut budget = SEND_BUDGET;
        while next < total && budget > 0 {
            let now = clock.now_ns();
            if schedule.due_ns(next) > now {
                break;
            }
            client.send_order(next)?;
            sent_at[next as usize] = now;
            next += 1;
            budget -= 1;
            work += 1;
        }
        work += client.poll(&mut |id| {
            let now = clock.now_ns();
            if id >= next {
                unknown += 1;
                return;
            }
            let i = id as usize;
            if acked[i] {
                duplicate += 1;
                return;
            }
            acked[i] = true;
            acked_total += 1;
            if schedule.is_measured(id) {
                rec.record(schedule.due_ns(id), sent_at[i], now);
                acked_measured += 1;
                last_ack = now;
            }
        })?;
        if next == total {
            if acked_total == total {
                break;
            }
            let now = clock.now_ns();
            if now >= *drain_until.get_or_insert(now + drain.as_nanos() as u64) {
                break;
            }
        }
        if work > 0 {
            idle.reset();
        } else {
            idle.wait_with(|cap| {
                let now = clock.now_ns();
                let until = if next < total {
                    schedule.due_ns(next).saturating_sub(SEND_MARGIN_NS)
                } else {
                    drain_until.unwrap_or(now)
                };
                let t = Duration::from_nanos(until.saturating_sub(now)).min(cap);
                match fd {
                    Some(fd) => keel_engine::pipeline::doorbell::wait_readable(fd, t),
                    None if t.is_zero() => std::thread::yield_now(),
                    None => std::thread::sleep(t),
                }
            });
        }
    }
    Ok(WireRun {
        recorder: rec,
        sent: next,
        measured: schedule.measured_ops,
        acked_measured,
        unanswered: total - acked_total,
        unknown_acks: unknown,
        duplicate_acks: duplicate,
        rejected: client.rejected(),
        elapsed_ns: last_ack.saturating_sub(schedule.measure_start_ns()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::load::fake::FakeClock;
    use std::collections::VecDeque;

    /// A client on a fake clock: each ack arrives `rtt_ns` after its send; a stall of
    /// the peer holds every ack due in `[stall_from, stall_to)` until `stall_to`; order
    /// `lost` is never acked. Every poll advances the clock by `step_ns`.
    struct Scripted<'a> {
        clock: &'a FakeClock,
        rtt_ns: u64,
        step_ns: u64,
        stall: (u64, u64),
        lost: u64,
        in_flight: VecDeque<(u64, u64)>,
    }

    impl WireClient for Scripted<'_> {
        fn send_order(&mut self, id: u64) -> Result<(), WireError> {
            if id != self.lost {
                let mut at = self.clock.now_ns() + self.rtt_ns;
                if (self.stall.0..self.stall.1).contains(&at) {
                    at = self.stall.1;
                }
                self.in_flight.push_back((at, id));
            }
            Ok(())
        }
        fn poll(&mut self, acked: &mut dyn FnMut(u64)) -> Result<usize, WireError> {
            self.clock.advance(self.step_ns);
            let mut n = 0;
            while self.in_flight.front().is_some_and(|(at, _)| *at <= self.clock.now_ns()) {
                let (_, id) = self.in_flight.pop_front().unwrap();
                acked(id);
                n += 1;
            }
            Ok(n)
        }
    }

    /// 100 orders at 1 µs intervals, 200 ns round trips (polled every 50 ns), a peer stall
    /// holding the acks due in [20 µs, 30 µs) until 30 µs, and order 70 lost.
    #[test]
    fn counts_are_consistent_and_stalls_count_from_the_due_time() {
        let clock = FakeClock::default();
        let mut c = Scripted {
            clock: &clock,
            rtt_ns: 200,
            step_ns: 50,
            stall: (20_000, 30_000),
            lost: 70,
            in_flight: VecDeque::new(),
        };
        let s = Schedule { start_ns: 0, rate_per_s: 1_000_000, warmup_ops: 10, measured_ops: 90 };
        let run =
            run_open_loop(&clock, &mut c, s, WaitStrategy::BusySpin, Duration::from_micros(50))
                .unwrap();
        assert_eq!(run.sent, 100);
        assert_eq!(run.measured, 90);
        assert_eq!(run.unanswered, 1);
        assert_eq!(run.acked_measured, 89);
        assert_eq!(run.recorder.corrected().len(), 89);
        assert_eq!((run.unknown_acks, run.duplicate_acks), (0, 0));
        // Orders sent at 19.8 µs .. 29.8 µs (ids 20..=29, acks due in the stall) wait for
        // the stall's end: their latency from due time is 30 µs − id µs (+ polling step).
        let h = run.recorder.corrected();
        let slow = h
            .iter_recorded()
            .filter(|v| v.value_iterated_to() > 1_000)
            .map(|v| v.count_at_value())
            .sum::<u64>();
        assert_eq!(slow, 9, "ids 20..=28 wait ≥ 2 µs; id 29 waits ~1 µs");
        assert!(h.max() >= 10_000 - 200 && h.max() <= 10_300, "max {}", h.max());
    }
}
