//! A profiling driver for the core: runs one scenario of `benches/core.rs` many times with
//! the measured commands applied through [`measured`], a function that is never inlined,
//! so an instruction-counting profiler can count exactly them:
//!
//! ```text
//! cargo build --release -p keel-benches --example core_profile
//! valgrind --tool=callgrind --toggle-collect='core_profile::measured*' \
//!     target/release/examples/core_profile new_order 20000
//! ```
//!
//! Scenarios: `new_order` (a limit order through risk to its venue order; the venue
//! reject that removes it is not counted), `new_order_200` (the same with 200 of the
//! firm's orders working), `new_order_limits` (with `limits_in_force`), `requote` (an L2 update that makes the market maker replace
//! both quotes; the acks are not counted), `mixed` and `mixed_mm` (the seeded
//! `random_commands` stress stream without and with the market maker), `session` and
//! `session_mm` (the `session_commands` stream). The count of measured commands is
//! printed, to divide the profiler's total by.

use keel_engine::core::testkit::{
    ADMIN, ALT, BTC, CLIENT, CountingSink, VENUE, ack, config, config_with_market_maker, l2, limit,
    limits_in_force, logons, numeric_cl, random_commands, session_commands,
};
use keel_engine::core::{Core, CoreConfig};
use keel_engine::schema::VenueReplaceAck;
use keel_engine::schema::{Command, CommandBody, NewOrder, Output, OutputBody, VenueReject};
use keel_engine::{OrderId, Price, Side, TimestampNs};

/// The commands a profiler counts.
#[inline(never)]
fn measured(core: &mut Core, cmd: &Command, sink: &mut CountingSink) {
    core.apply(std::hint::black_box(cmd), sink);
}

fn client_core(config: &CoreConfig) -> (Core, u64, Vec<Output>) {
    let mut core = Core::new(config).expect("valid config");
    let mut out = Vec::new();
    for c in logons() {
        core.apply(&c, &mut out);
    }
    let mut ts = keel_engine::core::testkit::T0_NS;
    for (side, px) in [(Side::Buy, 9_990), (Side::Sell, 10_010)] {
        ts += 1;
        core.apply(
            &Command { ts: TimestampNs(ts), session: VENUE, body: l2(BTC, ALT, side, px, 10) },
            &mut out,
        );
    }
    (core, ts, out)
}

fn new_orders(n: usize, resting: usize, limits: bool) -> u64 {
    let (mut core, mut ts, _) = client_core(&config());
    let mut sink = CountingSink::default();
    if limits {
        for body in limits_in_force() {
            ts += 1;
            core.apply(&Command { ts: TimestampNs(ts), session: ADMIN, body }, &mut sink);
        }
    }
    for i in 0..resting {
        ts += 1;
        let o = NewOrder {
            cl_ord_id: numeric_cl(i as u64 + 1),
            price: Price(9_900 - i as i64 % 50),
            ..limit("R", Side::Buy, 9_900, 1)
        };
        let id = core.next_order_id();
        core.apply(
            &Command { ts: TimestampNs(ts), session: CLIENT, body: CommandBody::NewOrder(o) },
            &mut sink,
        );
        core.apply(&Command { ts: TimestampNs(ts), session: VENUE, body: ack(id, id) }, &mut sink);
    }
    let template = limit("X", Side::Buy, 9_980, 3);
    let mut count = 0;
    for burst in 0..n / 16 {
        let first = core.next_order_id();
        for k in 0..16 {
            ts += 1;
            let cl_ord_id = numeric_cl(1_000_000 + ((burst * 16 + k) % 65_536) as u64);
            let body = CommandBody::NewOrder(NewOrder { cl_ord_id, ..template });
            measured(&mut core, &Command { ts: TimestampNs(ts), session: CLIENT, body }, &mut sink);
            count += 1;
        }
        for id in first..first + 16 {
            let body = CommandBody::VenueReject(VenueReject {
                venue: ALT,
                order_id: OrderId(id),
                reason: 1,
                venue_ts: TimestampNs(0),
            });
            core.apply(&Command { ts: TimestampNs(ts), session: VENUE, body }, &mut sink);
        }
    }
    assert_eq!(core.orders().len(), resting);
    count
}

fn requote(n: usize) -> u64 {
    let (mut core, mut ts, setup) = client_core(&config_with_market_maker());
    let mut sink = CountingSink::default();
    for o in &setup {
        if let OutputBody::VenueNewOrder(v) = o.body {
            let body = ack(v.order_id.0, v.order_id.0);
            core.apply(&Command { ts: TimestampNs(ts), session: VENUE, body }, &mut sink);
        }
    }
    let mut out: Vec<Output> = Vec::with_capacity(64);
    let mut count = 0;
    for i in 0..n {
        ts += 1;
        let qty = if i % 2 == 0 { 10 } else { 0 };
        let cmd = Command {
            ts: TimestampNs(ts),
            session: VENUE,
            body: l2(BTC, ALT, Side::Buy, 10_000, qty),
        };
        // The replaces must be acked, so this one is measured into a Vec.
        out.clear();
        measured_vec(&mut core, &cmd, &mut out);
        count += 1;
        for o in &out {
            if let OutputBody::VenueReplace(r) = o.body {
                let body = CommandBody::VenueReplaceAck(VenueReplaceAck {
                    venue: ALT,
                    order_id: r.order_id,
                    price: r.price,
                    qty: r.qty,
                    venue_ts: TimestampNs(0),
                });
                core.apply(&Command { ts: TimestampNs(ts), session: VENUE, body }, &mut sink);
            }
        }
    }
    count
}

/// Like [`measured`], into a `Vec` (the requote scenario needs the outputs).
#[inline(never)]
fn measured_vec(core: &mut Core, cmd: &Command, out: &mut Vec<Output>) {
    core.apply(std::hint::black_box(cmd), out);
}

fn mixed(commands: Vec<Command>, config: &CoreConfig) -> u64 {
    let mut core = Core::new(config).expect("valid config");
    let mut sink = CountingSink::default();
    for cmd in &commands {
        measured(&mut core, cmd, &mut sink);
    }
    commands.len() as u64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().unwrap_or_else(|| "new_order".into());
    let n: usize = args.next().map_or(20_000, |a| a.parse().expect("a count"));
    let count = match scenario.as_str() {
        "new_order" => new_orders(n, 0, false),
        "new_order_200" => new_orders(n, 200, false),
        "new_order_limits" => new_orders(n, 0, true),
        "requote" => requote(n),
        "mixed" => mixed(random_commands(42, n), &config()),
        "mixed_mm" => mixed(random_commands(42, n), &config_with_market_maker()),
        "session" => mixed(session_commands(&config(), 42, n), &config()),
        "session_mm" => {
            let config = config_with_market_maker();
            mixed(session_commands(&config, 42, n), &config)
        }
        other => panic!("unknown scenario {other}"),
    };
    println!("{scenario}: {count} measured commands");
}
