//! `keel bench core`: `Core::apply` alone on this thread, per command.
//!
//! The core is the `core::testkit` fixture (BTC and ETH; the L3 venue SIM and the L2 venue
//! ALT; two accounts; no strategy), with the admin, client and venue sessions logged on.
//! The command stream repeats one deterministic cycle of [`CYCLE`] commands in which every
//! order reaches a final state, so the core stays in a steady state however long it runs
//! (no working order accumulates; the position returns to flat every cycle):
//!
//! | # | command | session |
//! |---|---|---|
//! | 0, 1, 4, 10, 13 | L2 update of BTC on ALT (5 levels a side, quantities cycling) | venue |
//! | 7 | trade print | venue |
//! | 2 | new passive DAY limit buy (below the best bid) | client |
//! | 3 | venue ack | venue |
//! | 5 | amend (cancel/replace: price +1 tick, quantity 3 → 4) | client |
//! | 6 | venue replace ack | venue |
//! | 8 | cancel | client |
//! | 9 | venue cancel ack | venue |
//! | 11 | marketable IOC limit buy at the best ask | client |
//! | 12 | venue fill (full) | venue |
//! | 14 | marketable IOC limit sell at the best bid (back to flat) | client |
//! | 15 | venue fill (full) | venue |
//!
//! Commands are built outside the timed region (per cycle, using the core's next order id);
//! each `apply` is timed with two TSC reads into an HdrHistogram. Throughput is measured
//! commands over the wall time of the measured part (which includes building them).
//!
//! The floor is the measurement itself: the same loop with nothing between the two clock
//! reads, so it is the cost of a clock read, and its throughput is the loop's own rate
//! (clock pair, histogram record, pacing).

use super::load::{Clock, Op, Pacing, TscClock, run_synchronous};
use super::report::{Measurement, Report, Role};
use super::{BenchError, Common};
use keel_engine::core::testkit::{
    ALT, BTC, CLIENT, CountingSink, T0_NS, VENUE, ack, cancel_ack, config, fill, l2, limit, logons,
    numeric_cl, trade,
};
use keel_engine::core::{COMMAND_KIND_NAMES, Core};
use keel_engine::schema::{
    CancelOrder, Command, CommandBody, NewOrder, ReplaceOrder, VenueReplaceAck,
};
use keel_engine::{OrderId, Price, Qty, SessionId, Side, TimeInForce, TimestampNs};
use std::hint::black_box;

/// Commands per cycle of the mix.
pub const CYCLE: usize = 16;

/// The mix, in words (printed with the report).
pub const MIX: &str = "cycle of 16 commands: 6 market data (5 L2 updates of BTC on ALT, 1 trade print), \
1 new passive limit, 1 amend, 1 cancel, 2 marketable IOC limits (buy then sell: flat every cycle), \
5 venue reports (ack, replace ack, cancel ack, 2 full fills)";

/// Builds the commands of one cycle.
#[derive(Clone, Debug, Default)]
pub struct Mix {
    cycle: u64,
}

impl Mix {
    /// Fills `out` with cycle `self.cycle` for a core whose next order id is `next_id`.
    pub fn next_cycle(&mut self, next_id: u64, out: &mut [Command; CYCLE]) {
        let c = self.cycle;
        self.cycle += 1;
        let k = (c % 5) as i64;
        let q = |n: u64| 10 + 10 * ((c + n) % 3) as i64;
        let cl = |n: u64| numeric_cl(1_000_000 + c * 8 + n);
        let (passive, buy, sell) = (next_id, next_id + 1, next_id + 2);
        let order = |cl_n: u64, side: Side, price: i64, qty: i64, tif: TimeInForce| {
            CommandBody::NewOrder(NewOrder {
                cl_ord_id: cl(cl_n),
                tif,
                ..limit("X", side, price, qty)
            })
        };
        let bodies: [(SessionId, CommandBody); CYCLE] = [
            (VENUE, l2(BTC, ALT, Side::Buy, 9_990 - k, q(0))),
            (VENUE, l2(BTC, ALT, Side::Sell, 10_010 + k, q(1))),
            (CLIENT, order(0, Side::Buy, 9_980, 3, TimeInForce::Day)),
            (VENUE, ack(passive, passive)),
            (VENUE, l2(BTC, ALT, Side::Buy, 9_990 - (k + 1) % 5, q(2))),
            (
                CLIENT,
                CommandBody::ReplaceOrder(ReplaceOrder {
                    cl_ord_id: cl(1),
                    orig_cl_ord_id: cl(0),
                    account: keel_engine::core::testkit::ACCOUNT,
                    price: Price(9_981),
                    stop_price: Price(0),
                    qty: Qty(4),
                    display_qty: Qty::ZERO,
                }),
            ),
            (
                VENUE,
                CommandBody::VenueReplaceAck(VenueReplaceAck {
                    venue: ALT,
                    order_id: OrderId(passive),
                    price: Price(9_981),
                    qty: Qty(4),
                    venue_ts: TimestampNs(0),
                }),
            ),
            (VENUE, trade(10_000)),
            (
                CLIENT,
                CommandBody::CancelOrder(CancelOrder {
                    cl_ord_id: cl(2),
                    orig_cl_ord_id: cl(1),
                    account: keel_engine::core::testkit::ACCOUNT,
                }),
            ),
            (VENUE, cancel_ack(passive, false)),
            (VENUE, l2(BTC, ALT, Side::Sell, 10_010 + (k + 1) % 5, q(0))),
            (CLIENT, order(3, Side::Buy, 10_010, 2, TimeInForce::Ioc)),
            (VENUE, fill(buy, c * 2, 10_010, 2)),
            (VENUE, l2(BTC, ALT, Side::Buy, 9_990 - (k + 2) % 5, q(1))),
            (CLIENT, order(4, Side::Sell, 9_990, 2, TimeInForce::Ioc)),
            (VENUE, fill(sell, c * 2 + 1, 9_990, 2)),
        ];
        let t0 = T0_NS + 1_000 + c * CYCLE as u64 * 1_000;
        for (i, (session, body)) in bodies.into_iter().enumerate() {
            out[i] = Command { ts: TimestampNs(t0 + i as u64 * 1_000), session, body };
        }
    }
}

/// A core with the fixture's sessions logged on.
pub fn fixture_core() -> Result<Core, BenchError> {
    let mut core = Core::new(&config()).map_err(|e| BenchError::Setup(format!("core: {e}")))?;
    let mut sink = CountingSink::default();
    for c in logons() {
        core.apply(&c, &mut sink);
    }
    Ok(core)
}

struct ApplyOp {
    core: Core,
    mix: Mix,
    buf: [Command; CYCLE],
    sink: CountingSink,
}

impl Op for ApplyOp {
    #[inline]
    fn prepare(&mut self, i: u64) {
        if i as usize % CYCLE == 0 {
            let next = self.core.next_order_id();
            self.mix.next_cycle(next, &mut self.buf);
        }
    }

    #[inline]
    fn run(&mut self, i: u64) {
        let cmd = &self.buf[i as usize % CYCLE];
        self.core.apply(cmd, &mut self.sink);
    }
}

struct EmptyOp;

impl Op for EmptyOp {
    #[inline]
    fn run(&mut self, i: u64) {
        black_box(i);
    }
}

/// Runs the mode.
pub fn run(common: &Common) -> Result<Report, BenchError> {
    let rate = common.rate.unwrap_or(0);
    let pacing = Pacing::new(rate, common.warmup(), common.duration());
    let wait = common.wait_strategy();
    let cpus = common.pin_threads(&["bench"])?;
    let clock = TscClock::new();
    let _ = clock.now_ns();

    let floor = run_synchronous(&clock, pacing, wait, &mut EmptyOp);
    let mut op = ApplyOp {
        core: fixture_core()?,
        mix: Mix::default(),
        buf: [logons()[0]; CYCLE],
        sink: CountingSink::default(),
    };
    let before = op.core.counters().clone();
    let run = run_synchronous(&clock, pacing, wait, &mut op);
    let after = op.core.counters();

    let rejects: u64 =
        after.rejects_by_code.iter().sum::<u64>() - before.rejects_by_code.iter().sum::<u64>();
    let anomalies = after.anomalies - before.anomalies;
    let applied: u64 =
        after.commands_by_kind.iter().sum::<u64>() - before.commands_by_kind.iter().sum::<u64>();
    let mut subject = Measurement::from_recorder(
        "core_apply",
        Role::Subject,
        "one Core::apply of the mix (no journal), timed with two TSC reads",
        &run.recorder,
        run.measured_ops,
        run.elapsed_ns,
    )
    .count("commands_applied_total", applied)
    .count("warmup_commands", run.warmup_ops)
    .count("outputs_total", after.outputs - before.outputs)
    .count("fills_total", after.fills - before.fills)
    .count("rejects_total", rejects)
    .count("anomalies_total", anomalies)
    .count("working_orders_at_end", op.core.orders().len() as u64);
    for (name, (a, b)) in COMMAND_KIND_NAMES
        .iter()
        .zip(after.commands_by_kind.iter().zip(before.commands_by_kind.iter()))
    {
        if a > b {
            subject = subject.count(&format!("kind_{name}"), a - b);
        }
    }
    let floor_m = Measurement::from_recorder(
        "floor_clock_pair",
        Role::Floor,
        "the measurement alone: two TSC reads with nothing between, plus the histogram record (in ops/s)",
        &floor.recorder,
        floor.measured_ops,
        floor.elapsed_ns,
    );
    let mut report = Report::new(
        "core",
        "Core::apply on one thread, per command, against the cost of the measurement itself",
        common,
        &cpus,
        1,
    );
    report.notes.push(format!("mix: {MIX}"));
    report.notes.push(
        "core: engine::core::testkit fixture (BTC, ETH; venues SIM (L3) and ALT (L2); no strategy); no journal"
            .into(),
    );
    report.measurements = vec![subject, floor_m];
    report.add_ratio("core_apply", "floor_clock_pair");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mix is accepted end to end: no reject, no anomaly, nothing left working, and the
    /// kinds are the ones stated.
    #[test]
    fn mix_is_steady_state_and_clean() {
        let mut core = fixture_core().unwrap();
        let mut mix = Mix::default();
        let mut buf = [logons()[0]; CYCLE];
        let mut out = Vec::new();
        for _ in 0..500 {
            mix.next_cycle(core.next_order_id(), &mut buf);
            for c in &buf {
                core.apply(c, &mut out);
            }
            assert_eq!(core.orders().len(), 0, "an order was left working");
        }
        let c = core.counters();
        assert_eq!(c.rejects_by_code.iter().sum::<u64>(), 0, "rejects: {out:?}");
        assert_eq!(c.anomalies, 0);
        assert_eq!(c.fills, 1_000);
        let by = |name: &str| {
            let i = COMMAND_KIND_NAMES.iter().position(|n| *n == name).unwrap();
            c.commands_by_kind[i]
        };
        assert_eq!(by("new_order"), 1_500);
        assert_eq!(by("l2_update"), 2_500);
        assert_eq!(by("replace_order"), 500);
        assert_eq!(by("cancel_order"), 500);
        assert_eq!(by("venue_fill"), 1_000);
        assert!(core.own_resting_consistent());
    }
}
