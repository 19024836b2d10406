//! Criterion benchmarks of the deterministic core (`keel_engine::core::Core::apply`), in
//! steady state, with the shared fixture of `core::testkit`.
//!
//! - `core/new_order_through_risk/*`: a DAY limit order from a logged-on client through
//!   validation, routing, pre-trade risk and the order table to a `VenueNewOrder`.
//!   `burst16` times bursts of 16 new orders and, untimed, lets the venue reject them, so
//!   the figure is the new order alone with 0..15 of the firm's orders working (the timer
//!   is read twice per burst). `with_reject` times each new order together with the venue
//!   reject that removes it (table always empty): new + reject. `burst16_200_working` is
//!   `burst16` with 200 other orders of the firm resting in the instrument;
//!   `burst16_limits` is `burst16` with a limit of every per-order and exposure kind in
//!   force at every level (`testkit::limits_in_force`), so the checks compare against
//!   real numbers.
//! - `core/md_update_requote`: an L2 update on `ALT` that moves BTC's microprice by 5 ticks,
//!   so the reference market maker replaces both quotes: book update, strategy call, two
//!   replaces through risk, four outputs. The venue's replace acks are applied untimed in
//!   between. Timed one update at a time: includes one `Instant` pair (reported by
//!   `core/timer_overhead`).
//! - `core/mixed_apply_throughput/*`: a seeded stream through `apply`, one element per
//!   command, on a core with the market maker (`*market_maker`) and without strategies
//!   (`*no_strategy`). `session_*` is `session_commands`: a session's proportions (85%
//!   market data, 5% client order entry, 10% the venue's answers to the orders the core
//!   sends; the order table stays small). The other two are `random_commands`, the stress
//!   stream kept as the worst case: order entry and reports for random ids saturate the
//!   order table, and frequent kill switches walk all of it. The counters at the end are
//!   printed.
//! - `core/floor_command_copy`: the floor for the throughput figures, measured in the same
//!   run: reading each command of the stream and handing a copy to an opaque sink, i.e.
//!   the memory traffic of the loop without the core.
//!
//! Run: `cargo bench -p keel-benches --bench core`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keel_engine::core::Core;
use keel_engine::core::testkit::{
    ADMIN, ALT, BTC, CLIENT, CountingSink, VENUE, config, config_with_market_maker, l2, limit,
    limits_in_force, logons, numeric_cl, random_commands, session_commands,
};
use keel_engine::schema::{
    Command, CommandBody, NewOrder, Output, OutputBody, VenueReject, VenueReplaceAck,
};
use keel_engine::{ClOrdId, OrderId, Side, TimestampNs};
use std::hint::black_box;
use std::time::{Duration, Instant};

const BURST: usize = 16;
/// Distinct client order ids cycled through: far more than the duplicate-id history.
const CL_IDS: usize = 1 << 16;
const T0: u64 = keel_engine::core::testkit::T0_NS;

/// A core with the client, admin and venue logged on and a BTC book of 9 990 × 10 /
/// 10 010 × 10 on `ALT`; also returns the time and the set-up's outputs.
fn client_core(config: &keel_engine::core::CoreConfig) -> (Core, u64, Vec<Output>) {
    let mut core = Core::new(config).expect("valid config");
    let mut out = Vec::new();
    for c in logons() {
        core.apply(&c, &mut out);
    }
    let mut ts = T0;
    for (side, px) in [(Side::Buy, 9_990), (Side::Sell, 10_010)] {
        ts += 1;
        let body = l2(BTC, ALT, side, px, 10);
        core.apply(&Command { ts: TimestampNs(ts), session: VENUE, body }, &mut out);
    }
    (core, ts, out)
}

fn reject(ts: u64, id: u64) -> Command {
    let body = CommandBody::VenueReject(VenueReject {
        venue: ALT,
        order_id: OrderId(id),
        reason: 1,
        venue_ts: TimestampNs(0),
    });
    Command { ts: TimestampNs(ts), session: VENUE, body }
}

/// New orders for the timed part: a buy below the market, cycling client order ids.
struct Orders {
    template: NewOrder,
    cls: Vec<ClOrdId>,
    next: usize,
}

impl Orders {
    fn new() -> Self {
        Orders {
            template: limit("X", Side::Buy, 9_980, 3),
            cls: (0..CL_IDS as u64).map(|n| numeric_cl(1_000_000 + n)).collect(),
            next: 0,
        }
    }

    #[inline]
    fn next(&mut self, ts: u64) -> Command {
        let cl_ord_id = self.cls[self.next];
        self.next = (self.next + 1) % CL_IDS;
        let o = NewOrder { cl_ord_id, ..self.template };
        Command { ts: TimestampNs(ts), session: CLIENT, body: CommandBody::NewOrder(o) }
    }
}

/// Times bursts of `BURST` new orders; the venue rejects them untimed.
fn bench_burst(c: &mut Criterion, name: &str, resting: usize, limits: bool) {
    let (mut core, mut ts, _) = client_core(&config());
    let mut sink = CountingSink::default();
    if limits {
        for body in limits_in_force() {
            ts += 1;
            let mut out: Vec<Output> = Vec::new();
            core.apply(&Command { ts: TimestampNs(ts), session: ADMIN, body }, &mut out);
            assert!(matches!(out[0].body, OutputBody::AdminAck(a) if a.reject.is_none()));
        }
    }
    // Resting orders of the same account and instrument, acked, below the new orders.
    for n in 0..resting {
        ts += 1;
        let o = NewOrder {
            cl_ord_id: numeric_cl(n as u64 + 1),
            price: keel_engine::Price(9_900 - n as i64 % 50),
            ..limit("R", Side::Buy, 9_900, 1)
        };
        let id = core.next_order_id();
        core.apply(
            &Command { ts: TimestampNs(ts), session: CLIENT, body: CommandBody::NewOrder(o) },
            &mut sink,
        );
        let body = keel_engine::core::testkit::ack(id, id);
        core.apply(&Command { ts: TimestampNs(ts), session: VENUE, body }, &mut sink);
    }
    assert_eq!(core.orders().len(), resting);
    let mut orders = Orders::new();
    // Check once that the path is the accepting one.
    {
        let mut out: Vec<Output> = Vec::new();
        ts += 1;
        let id = core.next_order_id();
        core.apply(&orders.next(ts), &mut out);
        assert!(matches!(out[0].body, OutputBody::VenueNewOrder(_)), "{out:?}");
        core.apply(&reject(ts, id), &mut out);
    }
    let mut cmds = [orders.next(ts); BURST];
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let n = (iters - done).min(BURST as u64) as usize;
                for cmd in cmds.iter_mut().take(n) {
                    ts += 1;
                    *cmd = orders.next(ts);
                }
                let first = core.next_order_id();
                let start = Instant::now();
                for cmd in &cmds[..n] {
                    core.apply(black_box(cmd), &mut sink);
                }
                elapsed += start.elapsed();
                for id in first..first + n as u64 {
                    core.apply(&reject(ts, id), &mut sink);
                }
                done += n as u64;
            }
            assert_eq!(core.orders().len(), resting, "every order was accepted and removed");
            elapsed
        })
    });
    black_box(sink.outputs);
}

fn bench_new_order(c: &mut Criterion) {
    bench_burst(c, "core/new_order_through_risk/burst16", 0, false);

    // New order and the venue reject that removes it, timed together.
    {
        let (mut core, mut ts, _) = client_core(&config());
        let mut sink = CountingSink::default();
        let mut orders = Orders::new();
        c.bench_function("core/new_order_through_risk/with_reject", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    ts += 1;
                    let id = core.next_order_id();
                    core.apply(black_box(&orders.next(ts)), &mut sink);
                    core.apply(black_box(&reject(ts, id)), &mut sink);
                }
                let elapsed = start.elapsed();
                assert!(core.orders().is_empty());
                elapsed
            })
        });
        black_box(sink.outputs);
    }

    bench_burst(c, "core/new_order_through_risk/burst16_200_working", 200, false);
    bench_burst(c, "core/new_order_through_risk/burst16_limits", 0, true);
}

fn bench_requote(c: &mut Criterion) {
    // The market maker quotes once the book is two-sided; the venue acks both quotes.
    let (mut core, mut ts, setup) = client_core(&config_with_market_maker());
    let mut out: Vec<Output> = Vec::with_capacity(256);
    let mut acks = Vec::new();
    for o in &setup {
        if let OutputBody::VenueNewOrder(n) = o.body {
            acks.push(Command {
                ts: TimestampNs(ts),
                session: VENUE,
                body: keel_engine::core::testkit::ack(n.order_id.0, n.order_id.0),
            });
        }
    }
    assert_eq!(acks.len(), 2, "the market maker quotes both sides: {out:?}");
    for a in &acks {
        core.apply(a, &mut out);
    }
    // Alternately add and remove a better bid at 10 000: the microprice moves 5 ticks.
    let mut up = true;
    let mut step = |core: &mut Core, out: &mut Vec<Output>, ts: &mut u64| -> Duration {
        *ts += 1;
        let qty = if up { 10 } else { 0 };
        up = !up;
        let cmd = Command {
            ts: TimestampNs(*ts),
            session: VENUE,
            body: l2(BTC, ALT, Side::Buy, 10_000, qty),
        };
        out.clear();
        let start = Instant::now();
        core.apply(black_box(&cmd), out);
        let elapsed = start.elapsed();
        let mut replaced = 0;
        for o in out.iter() {
            if let OutputBody::VenueReplace(r) = o.body {
                replaced += 1;
                let body = CommandBody::VenueReplaceAck(VenueReplaceAck {
                    venue: ALT,
                    order_id: r.order_id,
                    price: r.price,
                    qty: r.qty,
                    venue_ts: TimestampNs(0),
                });
                core.apply(
                    &Command { ts: TimestampNs(*ts), session: VENUE, body },
                    &mut CountingSink::default(),
                );
            }
        }
        assert_eq!(replaced, 2, "both quotes are replaced");
        elapsed
    };
    step(&mut core, &mut out, &mut ts);
    c.bench_function("core/md_update_requote", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| step(&mut core, &mut out, &mut ts)).sum())
    });

    c.bench_function("core/timer_overhead", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let start = Instant::now();
                    black_box(&start);
                    start.elapsed()
                })
                .sum()
        })
    });
}

/// Commands in the mixed stream; a fresh core replays it from the start when it runs out.
const MIXED: usize = 200_000;
/// Commands applied untimed after each rebuild, to reach steady state.
const MIXED_WARM_UP: usize = 10_000;

fn bench_mixed(c: &mut Criterion) {
    let stress = random_commands(42, MIXED);
    let mut group = c.benchmark_group("core/mixed_apply_throughput");
    group.throughput(Throughput::Elements(1));
    let (mm, bare) = (config_with_market_maker(), config());
    let streams = [
        ("session_market_maker", session_commands(&mm, 42, MIXED), mm.clone()),
        ("session_no_strategy", session_commands(&bare, 42, MIXED), bare.clone()),
        ("market_maker", stress.clone(), mm),
        ("no_strategy", stress, bare),
    ];
    for (name, commands, config) in &streams {
        let commands = commands.as_slice();
        let fresh = || {
            let mut core = Core::new(config).expect("valid config");
            let mut sink = CountingSink::default();
            for cmd in &commands[..MIXED_WARM_UP] {
                core.apply(cmd, &mut sink);
            }
            core
        };
        let mut core = fresh();
        let mut pos = MIXED_WARM_UP;
        let mut sink = CountingSink::default();
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    if pos == commands.len() {
                        core = fresh();
                        pos = MIXED_WARM_UP;
                    }
                    let n = left.min((commands.len() - pos) as u64) as usize;
                    let start = Instant::now();
                    for cmd in &commands[pos..pos + n] {
                        core.apply(black_box(cmd), &mut sink);
                    }
                    elapsed += start.elapsed();
                    pos += n;
                    left -= n as u64;
                }
                elapsed
            })
        });
        let k = core.counters();
        let applied: u64 = k.commands_by_kind.iter().sum();
        eprintln!(
            "{name}: {applied} commands, {} outputs, {} rejects, {} strategy events deferred",
            k.outputs,
            k.rejects_by_code.iter().sum::<u64>(),
            core.strategy_events_deferred()
        );
        black_box(sink.outputs);
    }
    group.finish();

    // The floor: the same loop over the session stream, each command copied to an opaque
    // sink instead of applied.
    let commands = &streams[0].1;
    let mut group = c.benchmark_group("core/floor_command_copy");
    group.throughput(Throughput::Elements(1));
    let mut pos = 0;
    group.bench_function("session", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                pos = if pos + 1 == commands.len() { 0 } else { pos + 1 };
                black_box(*black_box(&commands[pos]));
            }
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench_new_order, bench_requote, bench_mixed
}
criterion_main!(benches);
