//! Core snapshots: a core restored from a snapshot taken mid-stream behaves exactly like
//! the original on the rest of the stream (same outputs, same digest, same next snapshot),
//! and every damaged or mismatched snapshot is refused with a precise error.

use keel_engine::core::snapshot::{CONFIG_PARTS, SECTIONS, SNAPSHOT_VERSION};
use keel_engine::core::testkit::{self, *};
use keel_engine::core::{Core, CoreConfig, SnapshotError, StrategySpec};
use keel_engine::schema::*;
use keel_engine::strategy::{
    InstrumentView, Intents, MarketMaker, MarketView, OrderUpdate, OrderUpdateKind, Strategy,
    StrategyContext, Taker,
};
use keel_engine::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderState, Price, Qty, SessionId, Side, TimestampNs,
};

const HEADER_LEN: usize = 24 + 32 * CONFIG_PARTS.len();

/// [`testkit::config_with_market_maker`] plus a taker on ETH (L3 venue `SIM`).
fn config_with_both() -> CoreConfig {
    let mut c = config_with_market_maker();
    c.strategies.push(StrategySpec {
        name: "taker".into(),
        params: [("instrument", "1"), ("imbalance_threshold_ppm", "300000"), ("cooldown_ns", "0")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        session: SessionId(6),
        account: STRATEGY_ACCOUNT,
        venue: SIM,
    });
    c
}

/// Restores and drops the core: error tests only look at the error.
fn read(config: &CoreConfig, bytes: &[u8]) -> Result<(), SnapshotError> {
    Core::read_snapshot(config, bytes).map(drop)
}

fn snapshot(core: &Core) -> Vec<u8> {
    let mut bytes = Vec::new();
    core.write_snapshot(&mut bytes).expect("writing to a Vec cannot fail");
    bytes
}

/// Applies `commands` to both cores, asserting identical outputs command by command.
fn apply_both(a: &mut Core, b: &mut Core, commands: &[Command]) {
    let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
    for (k, c) in commands.iter().enumerate() {
        out_a.clear();
        out_b.clear();
        a.apply(c, &mut out_a);
        b.apply(c, &mut out_b);
        assert_eq!(out_a, out_b, "outputs differ at command {k}: {c:?}");
    }
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.counters(), b.counters());
    assert_eq!(a.strategy_events_deferred(), b.strategy_events_deferred());
}

/// Snapshots `core`, restores it, and checks the restored core is indistinguishable: same
/// digest, and its own snapshot is byte-identical.
fn restore(config: &CoreConfig, core: &Core) -> Core {
    let bytes = snapshot(core);
    let restored = Core::read_snapshot(config, &bytes).expect("snapshot restores");
    assert_eq!(restored.digest(), core.digest());
    assert_eq!(restored.now(), core.now());
    assert_eq!(restored.next_order_id(), core.next_order_id());
    assert_eq!(snapshot(&restored), bytes, "a restored core snapshots to the same bytes");
    restored
}

#[test]
fn fresh_core_round_trips() {
    for config in [config(), config_with_market_maker(), config_with_both()] {
        let core = Core::new(&config).unwrap();
        let restored = restore(&config, &core);
        assert_eq!(restored.digest(), core.digest());
    }
}

/// Splits `commands` at `split`: the first part on one core, then a restored copy and the
/// original both take the rest.
fn check_split(config: &CoreConfig, commands: &[Command], split: usize) {
    let mut original = Core::new(config).unwrap();
    let mut sink = Vec::new();
    for c in &commands[..split] {
        original.apply(c, &mut sink);
    }
    let mut restored = restore(config, &original);
    apply_both(&mut original, &mut restored, &commands[split..]);
    assert_eq!(snapshot(&original), snapshot(&restored), "split {split}");
}

// Seeds are chosen for coverage and speed: some seeds make the reference market maker
// churn through the per-command strategy-event bound, which is slow in debug builds.
#[test]
fn restored_core_continues_random_streams_identically() {
    for (config, seeds) in
        [(config_with_market_maker(), [1u64, 7, 21]), (config_with_both(), [1, 13, 17])]
    {
        for seed in seeds {
            let commands = random_commands(seed, 2_000);
            for split in [0, 1, 500, 1_377, commands.len()] {
                check_split(&config, &commands, split);
            }
        }
    }
}

/// A snapshot taken while strategy events wait in the queue (carried over by the
/// per-command delivery bound) restores them, in order.
#[test]
fn undelivered_strategy_events_survive_a_restore() {
    // A bound of one delivery per command leaves reports waiting whenever a command
    // produces two or more for the strategy (a fill and its requote, a quote pair).
    let config = CoreConfig { strategy_events_per_command: 1, ..config_with_market_maker() };
    let commands = random_commands(1, 2_000);
    let mut core = Core::new(&config).unwrap();
    let mut sink = Vec::new();
    let mut split = None;
    for (k, c) in commands.iter().enumerate() {
        let before = core.strategy_events_deferred();
        core.apply(c, &mut sink);
        if core.strategy_events_deferred() > before {
            split = Some(k + 1);
            break;
        }
    }
    let split = split.expect("a bound of one defers strategy events");
    check_split(&config, &commands, split);
}

#[test]
fn snapshots_chain_across_several_restores() {
    let config = config_with_both();
    let commands = random_commands(1, 1_500);
    let mut reference = Core::new(&config).unwrap();
    let mut current = Core::new(&config).unwrap();
    for chunk in commands.chunks(311) {
        apply_both(&mut reference, &mut current, chunk);
        current = restore(&config, &current);
    }
    assert_eq!(reference.digest(), current.digest());
}

fn new_order(cl: &str, side: Side, ord_type: OrdType, price: i64, qty: i64) -> CommandBody {
    let mut o = limit(cl, side, price, qty);
    o.ord_type = ord_type;
    if matches!(ord_type, OrdType::Stop | OrdType::StopLimit) {
        o.stop_price = Price(price);
    }
    CommandBody::NewOrder(o)
}

fn set_limit(scope: LimitScope, kind: LimitKind, value: i64) -> CommandBody {
    CommandBody::SetLimit(SetLimit { scope, kind, value })
}

fn kill(scope: Scope, action: KillSwitchAction) -> CommandBody {
    CommandBody::KillSwitch(KillSwitch { scope, action })
}

fn l3_add(id: u64, side: Side, price: i64, qty: i64) -> CommandBody {
    CommandBody::L3Add(L3Add {
        instrument: ETH,
        venue: SIM,
        venue_order_id: id,
        side,
        price: Price(price),
        qty: Qty(qty),
        exchange_ts: TimestampNs(0),
    })
}

fn l3_execute(id: u64, price: i64, qty: i64) -> CommandBody {
    CommandBody::L3Execute(L3Execute {
        instrument: ETH,
        venue: SIM,
        venue_order_id: id,
        price: Price(price),
        qty: Qty(qty),
        exchange_ts: TimestampNs(0),
    })
}

/// A scenario that leaves every kind of state in flight at the snapshot: the market maker
/// quoting with a pending request, a held stop, a partially filled order, a pending
/// replace, a throttle mid-window, a session kill switch engaged, the duplicate ring and
/// the client-order-id and exec-id histories in use, L3 queues with several orders per
/// level, a halted market and one being rebuilt.
#[test]
fn handcrafted_scenario_continues_identically() {
    let config = config_with_both();
    let mut h = Harness::new(&config);
    h.logon_all();
    let session6 =
        SessionLogon { kind: SessionKind::FixClient, account: ACCOUNT, cancel_on_disconnect: true };
    h.send(SessionId(7), CommandBody::SessionLogon(session6));
    // Markets: both BTC books, an ETH L3 queue with time priority.
    h.send(VENUE, l2(BTC, ALT, Side::Buy, 10_000, 30));
    h.send(VENUE, l2(BTC, ALT, Side::Sell, 10_004, 30));
    for (id, side, px, qty) in [
        (1, Side::Buy, 4_990, 5),
        (2, Side::Buy, 4_990, 7),
        (3, Side::Buy, 4_989, 2),
        (4, Side::Sell, 5_010, 9),
        (5, Side::Sell, 5_010, 1),
    ] {
        h.send(VENUE, l3_add(id, side, px, qty));
    }
    h.send(VENUE, l3_execute(1, 4_990, 2));
    h.send(VENUE, trade(10_002));
    // Limits: a throttle of 3 new orders per second on the client, a duplicate window.
    h.send(ADMIN, set_limit(LimitScope::Session(CLIENT), LimitKind::NewOrdersPerSec, 3));
    h.send(ADMIN, set_limit(LimitScope::Firm, LimitKind::DuplicateWindowMs, 60_000));
    // Orders: a stop held, one partially filled, one with a replace pending, one finished.
    h.send(CLIENT, new_order("S1", Side::Buy, OrdType::Stop, 10_010, 3));
    h.send(CLIENT, new_order("P1", Side::Buy, OrdType::Limit, 10_001, 10));
    h.send(CLIENT, new_order("R1", Side::Sell, OrdType::Limit, 10_003, 4));
    let ids: Vec<u64> =
        h.core.orders().iter_working(Default::default()).map(|o| o.id().0).collect();
    assert!(ids.len() >= 3, "orders working: {ids:?}");
    let by_cl = |core: &Core, cl: &str| {
        let cl: ClOrdId = cl.parse().unwrap();
        core.orders()
            .iter_working(Default::default())
            .find(|o| o.terms().cl_ord_id == cl)
            .map(|o| o.id().0)
    };
    let p1 = by_cl(&h.core, "P1").expect("P1 working");
    let r1 = by_cl(&h.core, "R1").expect("R1 working");
    h.send(VENUE, ack(p1, 901));
    h.send(VENUE, ack(r1, 902));
    h.send(VENUE, fill(p1, 5001, 10_001, 4));
    h.send(CLIENT, replace("R2", "R1", 10_005, 4));
    // The throttle is now spent for this second: a further order is refused.
    let outs = h.send(CLIENT, new_order("T1", Side::Buy, OrdType::Limit, 9_990, 1));
    assert!(outs.iter().any(|o| matches!(o, OutputBody::ExecReport(r) if r.reject.is_some())));
    // Session 7 killed; the ETH market halted; BTC on ALT rebuilding.
    h.send(ADMIN, kill(Scope::Session(SessionId(7)), KillSwitchAction::Engage));
    h.send(
        VENUE,
        CommandBody::VenueStatus(VenueStatus {
            venue: SIM,
            instrument: Some(ETH),
            status: MarketStatus::Halted,
        }),
    );
    h.send(TIMER, CommandBody::Timer(Timer {}));

    let core = &h.core;
    let state_of = |cl: &str| {
        let cl: ClOrdId = cl.parse().unwrap();
        core.orders()
            .iter_working(Default::default())
            .find(|o| o.terms().cl_ord_id == cl)
            .map(|o| o.state())
    };
    assert_eq!(state_of("S1"), Some(OrderState::Held));
    assert_eq!(state_of("P1"), Some(OrderState::PartiallyFilled));
    assert_eq!(state_of("R1"), Some(OrderState::PendingReplace));
    assert!(core.risk().kill_engaged(Scope::Session(SessionId(7))));
    assert!(core.orders().iter_working(Default::default()).any(|o| o.terms().session == STRATEGY));

    let mut original = std::mem::replace(&mut h.core, Core::new(&config).unwrap());
    let mut restored = restore(&config, &original);

    // The tail touches each piece of in-flight state.
    let ts = h.ts;
    let tail: Vec<Command> = [
        (CLIENT, new_order("T2", Side::Buy, OrdType::Limit, 9_990, 1)), // still throttled
        (CLIENT, new_order("T3", Side::Buy, OrdType::Limit, 9_990, 1)),
        (SessionId(7), new_order("K1", Side::Buy, OrdType::Limit, 9_990, 1)), // killed
        (ADMIN, kill(Scope::Session(SessionId(7)), KillSwitchAction::Release)),
        (VENUE, fill(p1, 5001, 10_001, 1)), // duplicate exec id
        (VENUE, fill(p1, 5002, 10_001, 6)), // completes P1
        (CLIENT, new_order("P1", Side::Buy, OrdType::Limit, 10_001, 1)), // retired id
        (VENUE, trade(10_011)),             // triggers S1
        (VENUE, l3_execute(2, 4_990, 7)),
        (VENUE, l3_add(6, Side::Buy, 4_990, 3)),
        (
            VENUE,
            CommandBody::VenueStatus(VenueStatus {
                venue: SIM,
                instrument: Some(ETH),
                status: MarketStatus::Open,
            }),
        ),
        (VENUE, l2(BTC, ALT, Side::Sell, 10_003, 12)),
        (VENUE, l2(BTC, ALT, Side::Buy, 10_001, 8)),
        (TIMER, CommandBody::Timer(Timer {})),
        (CLIENT, cancel("C9", "R2")),
        (CLIENT, new_order("D1", Side::Sell, OrdType::Limit, 10_020, 2)),
        (CLIENT, new_order("D2", Side::Sell, OrdType::Limit, 10_020, 2)), // duplicate terms
        (CLIENT, CommandBody::SessionLogout(SessionLogout { graceful: false })),
    ]
    .into_iter()
    .enumerate()
    .map(|(k, (session, body))| Command {
        ts: TimestampNs(ts + 1 + k as u64 * 200_000_000),
        session,
        body,
    })
    .collect();
    apply_both(&mut original, &mut restored, &tail);
    let more = random_commands(77, 1_500);
    let shifted: Vec<Command> = more[3..]
        .iter()
        .map(|c| Command { ts: TimestampNs(c.ts.0.max(ts + 10_000_000_000)), ..*c })
        .collect();
    apply_both(&mut original, &mut restored, &shifted);
}

// ---- errors ---------------------------------------------------------------------------------

fn busy_core(config: &CoreConfig) -> Core {
    let mut core = Core::new(config).unwrap();
    let mut sink = Vec::new();
    for c in random_commands(21, 600) {
        core.apply(&c, &mut sink);
    }
    core
}

/// `(tag, payload offset, payload length)` of each section.
fn sections(bytes: &[u8]) -> Vec<(u32, usize, usize)> {
    let mut at = HEADER_LEN;
    let mut out = Vec::new();
    for _ in 0..SECTIONS.len() {
        let tag = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
        out.push((tag, at + 12, len));
        at += 12 + len;
    }
    assert_eq!(at + 64, bytes.len());
    out
}

/// Rewrites the trailer's checksum so a deliberate edit reaches the decoders' checks.
fn reseal(bytes: &mut [u8]) {
    let n = bytes.len();
    let sum = *blake3::hash(&bytes[..n - 32]).as_bytes();
    bytes[n - 32..].copy_from_slice(&sum);
}

#[test]
fn header_errors() {
    let config = config_with_market_maker();
    let good = snapshot(&busy_core(&config));

    let mut b = good.clone();
    b[0] ^= 0x20;
    assert!(matches!(read(&config, &b), Err(SnapshotError::BadMagic { .. })));

    let mut b = good.clone();
    b[8..12].copy_from_slice(&(SNAPSHOT_VERSION + 1).to_le_bytes());
    match read(&config, &b) {
        Err(SnapshotError::UnsupportedVersion { found, supported }) => {
            assert_eq!((found, supported), (SNAPSHOT_VERSION + 1, SNAPSHOT_VERSION));
        }
        other => panic!("{other:?}"),
    }

    let mut b = good.clone();
    b[16] ^= 1;
    assert!(matches!(read(&config, &b), Err(SnapshotError::SchemaHashMismatch { .. })));

    assert!(matches!(
        read(&config, b"KEEL"),
        Err(SnapshotError::Truncated { offset: 0, needed: 4 })
    ));
}

#[test]
fn different_configuration_is_refused_naming_the_part() {
    let config = config_with_market_maker();
    let bytes = snapshot(&busy_core(&config));
    let part_of = |c: &CoreConfig| match read(c, &bytes) {
        Err(SnapshotError::ConfigMismatch { part, expected, found }) => {
            assert_ne!(expected, found);
            part
        }
        other => panic!("expected a config mismatch, got {other:?}"),
    };
    let mut c = config.clone();
    c.account_count = 3;
    assert_eq!(part_of(&c), "sizes");
    let mut c = config.clone();
    c.orders.orders_max = 100;
    assert_eq!(part_of(&c), "sizes");
    let mut c = config.clone();
    c.book.levels_per_side = 64;
    assert_eq!(part_of(&c), "sizes");
    let mut c = config.clone();
    c.strategies[0].params[1].1 = "3".into();
    assert_eq!(part_of(&c), "strategies");
    let mut c = config.clone();
    c.strategies.clear();
    assert_eq!(part_of(&c), "strategies");
    let mut c = config.clone();
    c.instruments[1].tick_size = "0.05".parse().unwrap();
    assert_eq!(part_of(&c), "instruments");
    let mut c = config.clone();
    c.venues[1].feed = keel_engine::core::FeedKind::L3;
    assert_eq!(part_of(&c), "venues");
    let mut c = config.clone();
    c.risk.template.duplicate_ring_capacity += 1;
    assert_eq!(part_of(&c), "risk");
    // Reordered parameters are the same configuration.
    let mut c = config.clone();
    c.strategies[0].params.reverse();
    Core::read_snapshot(&c, &bytes).expect("parameter order does not matter");
}

#[test]
fn truncation_is_reported_with_its_offset() {
    let config = config_with_market_maker();
    let bytes = snapshot(&busy_core(&config));
    for len in (0..bytes.len()).step_by(37).chain([bytes.len() - 1, bytes.len() - 33]) {
        match read(&config, &bytes[..len]) {
            Err(SnapshotError::Truncated { offset, needed }) => {
                assert!(offset <= len && needed > 0, "len {len}: offset {offset}");
            }
            other => panic!("truncated to {len}: {other:?}"),
        }
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        read(&config, &long),
        Err(SnapshotError::Decode { component: "trailer", .. })
    ));
}

#[test]
fn damaged_sections_are_refused_precisely() {
    let config = config_with_market_maker();
    let good = snapshot(&busy_core(&config));
    let secs = sections(&good);
    let payload = |name: &str| secs[SECTIONS.iter().position(|s| *s == name).unwrap()].1;

    // A changed clock decodes, but the restored digest differs from the recorded one.
    let mut b = good.clone();
    b[payload("core")] ^= 1;
    reseal(&mut b);
    assert!(matches!(read(&config, &b), Err(SnapshotError::DigestMismatch { .. })));

    // A changed counter is not in the digest; the checksum catches it.
    let mut b = good.clone();
    b[payload("core") + 20 + 4] ^= 1;
    assert!(matches!(read(&config, &b), Err(SnapshotError::ChecksumMismatch { .. })));

    // A section tag out of place.
    let mut b = good.clone();
    b[HEADER_LEN] = 9;
    assert!(matches!(
        read(&config, &b),
        Err(SnapshotError::Decode { component: "core", offset: HEADER_LEN, .. })
    ));

    // Session slot 0 is empty (tag 0); tag 7 is no option tag.
    let at = payload("sessions") + 4;
    assert_eq!(good[at], 0);
    let mut b = good.clone();
    b[at] = 7;
    reseal(&mut b);
    match read(&config, &b) {
        Err(SnapshotError::Decode { component: "sessions", offset, .. }) => assert_eq!(offset, at),
        other => panic!("{other:?}"),
    }

    // More sessions than configured.
    let mut b = good.clone();
    b[payload("sessions")..][..4].copy_from_slice(&17u32.to_le_bytes());
    reseal(&mut b);
    assert!(matches!(
        read(&config, &b),
        Err(SnapshotError::OutOfRange { component: "sessions", .. })
    ));

    // More orders than the table's capacity.
    let at = payload("orders") + 24;
    let mut b = good.clone();
    b[at..at + 4].copy_from_slice(&5_000u32.to_le_bytes());
    reseal(&mut b);
    match read(&config, &b) {
        Err(SnapshotError::OutOfRange { component: "orders", offset, detail }) => {
            assert_eq!(offset, at);
            assert!(detail.contains("5000"), "{detail}");
        }
        other => panic!("{other:?}"),
    }

    // A strategy's state that does not decode names the strategy section.
    let (_, at, len) = secs[7];
    let mut b = good.clone();
    b[at + len - 1] ^= 0xff;
    b[at + len - 2] ^= 0xff;
    reseal(&mut b);
    assert!(matches!(
        read(&config, &b),
        Err(SnapshotError::Decode { component: "strategies", .. }
            | SnapshotError::DigestMismatch { .. })
    ));
}

#[test]
fn every_flipped_byte_is_refused_without_panicking() {
    let config = config_with_market_maker();
    let good = snapshot(&busy_core(&config));
    for at in (0..good.len()).step_by(11).chain(good.len() - 64..good.len()) {
        let mut b = good.clone();
        b[at] ^= 0x5a;
        assert!(read(&config, &b).is_err(), "flip at {at} was accepted");
    }
}

// ---- strategies ------------------------------------------------------------------------------

#[test]
fn reference_strategies_restore_their_state() {
    let views = [InstrumentView {
        instrument: InstrumentId(0),
        market: MarketView::two_sided((100, 5), (104, 5)),
        position: Qty(0),
    }];
    let ctx = StrategyContext { now: TimestampNs(10), account: AccountId(0), views: &views };
    let mut out = Intents::with_capacity(8);

    let params = [("instrument", "0")];
    let mut mm = MarketMaker::from_params(&params).unwrap();
    mm.on_book(&ctx, InstrumentId(0), &mut out);
    let bid = mm.working(Side::Buy).expect("quoting").0;
    let ack = OrderUpdate {
        kind: OrderUpdateKind::Acked,
        cl_ord_id: bid,
        orig_cl_ord_id: None,
        instrument: InstrumentId(0),
        side: Side::Buy,
        price: Price(101),
        leaves_qty: Qty(1),
    };
    mm.on_order_update(&ctx, &ack, &mut out);
    let mut state = Vec::new();
    mm.snapshot(&mut state);
    let mut copy = MarketMaker::from_params(&params).unwrap();
    copy.restore(&state).unwrap();
    assert_eq!(copy.working(Side::Buy), mm.working(Side::Buy));
    assert_eq!(copy.working(Side::Sell), mm.working(Side::Sell));
    let mut again = Vec::new();
    copy.snapshot(&mut again);
    assert_eq!(again, state);
    assert!(copy.restore(&state[..state.len() - 1]).is_err());
    assert!(copy.restore(&[9]).is_err());

    let mut taker =
        Taker::from_params(&[("instrument", "0"), ("imbalance_threshold_ppm", "1")]).unwrap();
    let lopsided = [InstrumentView {
        instrument: InstrumentId(0),
        market: MarketView::two_sided((100, 50), (104, 1)),
        position: Qty(0),
    }];
    let ctx = StrategyContext { now: TimestampNs(10), account: AccountId(0), views: &lopsided };
    out.clear();
    taker.on_book(&ctx, InstrumentId(0), &mut out);
    assert!(taker.in_flight().is_some());
    let mut state = Vec::new();
    taker.snapshot(&mut state);
    let mut copy =
        Taker::from_params(&[("instrument", "0"), ("imbalance_threshold_ppm", "1")]).unwrap();
    copy.restore(&state).unwrap();
    assert_eq!(copy.in_flight(), taker.in_flight());
    let mut again = Vec::new();
    copy.snapshot(&mut again);
    assert_eq!(again, state);
    assert!(copy.restore(&[]).is_err());
}

#[test]
fn restored_core_keeps_the_testkit_fixture_working() {
    // The fixture's own run, split at its middle, matches a straight run.
    let commands = random_commands(8, 1_000);
    let (outputs, digest) = run_all(&commands);
    let config = testkit::config_with_market_maker();
    let mut core = Core::new(&config).unwrap();
    let mut out = Vec::new();
    for c in &commands[..500] {
        core.apply(c, &mut out);
    }
    let mut core = Core::read_snapshot(&config, &snapshot(&core)).unwrap();
    for c in &commands[500..] {
        core.apply(c, &mut out);
    }
    assert_eq!(out, outputs);
    assert_eq!(core.digest(), digest);
}
