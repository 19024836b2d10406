//! Whole backtests: latency shifts fills as modelled; runs are deterministic byte for byte
//! and the same from memory, CSV and a converted journal; quiet stretches do not spin.

use keel_engine::core::FeedKind;
use keel_engine::{InstrumentId, Price, Qty, Side, TimestampNs};
use keel_replay::backtest::csv::{CsvSource, CsvWriter};
use keel_replay::backtest::journal_source::JournalSource;
use keel_replay::backtest::spec::{DataSpec, InstrumentSpec};
use keel_replay::backtest::synth::{Synth, SynthConfig, synth_spec};
use keel_replay::backtest::{
    Backtest, BacktestConfig, LatencyModel, MdEvent, MdKind, Progress, QueueModel, Report,
    SliceSource, SourceInfo, html, run,
};
use rust_decimal::Decimal;

const T0: u64 = 1_767_312_000_000_000_000;
const MS: u64 = 1_000_000;

fn spec() -> DataSpec {
    DataSpec {
        feed: FeedKind::L2,
        venue_id: 1,
        venue_name: "T".into(),
        instruments: vec![InstrumentSpec {
            symbol: "X".into(),
            tick_size: Decimal::ONE,
            lot_size: Decimal::ONE,
            currency: "USD".into(),
        }],
    }
}

fn l2(t: u64, side: Side, price: i64, qty: i64) -> MdEvent {
    let mut e = MdEvent::new(MdKind::L2, InstrumentId(0));
    e.exchange_ts = TimestampNs(t);
    e.local_ts = TimestampNs(t);
    e.side = Some(side);
    e.price = Price(price);
    e.qty = Qty(qty);
    e
}

fn taker(latency: LatencyModel) -> BacktestConfig {
    BacktestConfig {
        strategy: "taker".into(),
        params: [
            ("imbalance_threshold_ppm", "500000"),
            ("size_lots", "1"),
            ("max_position_lots", "1"),
            ("cooldown_ns", "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        latency,
        timer_interval_ns: 0,
        ..BacktestConfig::default()
    }
}

/// A bid-heavy book at T0 makes the taker buy 1 at the ask (101); 1 ms later the ask at
/// 101 is gone and the next is 105.
fn ask_leaves_after_1ms() -> Vec<MdEvent> {
    vec![
        l2(T0, Side::Buy, 100, 100),
        l2(T0, Side::Sell, 101, 1),
        l2(T0 + MS, Side::Sell, 101, 0),
        l2(T0 + MS, Side::Sell, 105, 10),
    ]
}

/// Within HdrHistogram's 3-significant-digit precision.
fn near(got: u64, want: u64) -> bool {
    got.abs_diff(want) * 1000 <= want
}

fn report_of(config: &BacktestConfig, data: &DataSpec, events: &[MdEvent]) -> Report {
    let info = SourceInfo { source: "memory".into(), format: "test".into() };
    run(config, data, &mut SliceSource::new(events), &info, Progress::Never).expect("backtest")
}

#[test]
fn latency_shifts_fills_as_modelled() {
    let events = ask_leaves_after_1ms();
    // The order reaches the venue at 0.5 ms, while 101 is still offered: filled.
    let fast = report_of(&taker(LatencyModel::constant(0, 500_000)), &spec(), &events);
    assert_eq!((fast.orders.sent, fast.orders.fills, fast.orders.taker_fills), (1, 1, 1));
    assert_eq!(fast.position.last, Decimal::ONE);
    // Bought at 101, marked at the final mid (100 + 105) / 2 = 102 (ticks of 1 USD).
    assert_eq!(fast.pnl.unrealized.decimal(), Decimal::ONE);
    // Percentiles are HdrHistogram's, to 3 significant digits.
    assert!(near(fast.latency.order_round_trip.max_ns, 1_000_000), "{:?}", fast.latency);
    // At 2 ms the ask is 105, beyond the IOC's limit of 101: cancelled, nothing filled.
    let slow = report_of(&taker(LatencyModel::constant(0, 2 * MS)), &spec(), &events);
    assert_eq!((slow.orders.sent, slow.orders.fills), (1, 0));
    assert_eq!(slow.position.last, Decimal::ZERO);
    // Feed latency delays the decision the same way: the order leaves at 0.9 ms and
    // arrives at 1.4 ms, after 101 left: cancelled. Its cancel reaches the core at 1.9 ms,
    // just before the core sees the new ask (reports first at equal times), and the taker
    // buys again at 105, filled at 2.4 ms.
    let late_feed = report_of(&taker(LatencyModel::constant(900_000, 500_000)), &spec(), &events);
    assert_eq!((late_feed.orders.sent, late_feed.orders.fills), (2, 1));
    assert_eq!(late_feed.pnl.unrealized.decimal(), Decimal::from(-3));
    assert!(near(late_feed.latency.feed.p50_ns, 900_000));
    // Per-operation: only the new-order latency matters for this order.
    let per_op =
        LatencyModel::parse("per-op:feed=0,new=500us,amend=5ms,cancel=5ms,response=500us").unwrap();
    assert_eq!(report_of(&taker(per_op), &spec(), &events).orders.fills, 1);
}

#[test]
fn recorded_latency_uses_the_datas_own_timestamps() {
    let mut events = ask_leaves_after_1ms();
    // The recorder saw the T0 book 0.8 ms late: the order leaves at 0.8 ms and, at the
    // recorded 0.8 ms one way, reaches the venue at 1.6 ms — after the ask left.
    for e in &mut events {
        e.local_ts = TimestampNs(e.exchange_ts.0 + 800_000);
    }
    let r = report_of(&taker(LatencyModel::default()), &spec(), &events);
    assert_eq!((r.orders.sent, r.orders.fills), (1, 0));
    assert!(near(r.latency.feed.p50_ns, 800_000));
    // At 0.3 ms it arrives at 0.6 ms: filled.
    for e in &mut events {
        e.local_ts = TimestampNs(e.exchange_ts.0 + 300_000);
    }
    let r = report_of(&taker(LatencyModel::default()), &spec(), &events);
    assert_eq!((r.orders.sent, r.orders.fills), (1, 1));
}

fn mm_config() -> BacktestConfig {
    BacktestConfig {
        params: vec![("half_spread_ticks".into(), "1".into()), ("size_lots".into(), "10".into())],
        queue: QueueModel::Probabilistic { power: 2 },
        fees: vec!["-0.5,2.5".into()],
        seed: 9,
        ..BacktestConfig::default()
    }
}

#[test]
fn the_same_inputs_give_the_same_report_byte_for_byte() {
    let events =
        Synth::collect_all(SynthConfig { events: 80_000, seed: 5, ..SynthConfig::default() });
    let config = mm_config();
    let a = report_of(&config, &synth_spec(), &events);
    let b = report_of(&config, &synth_spec(), &events);
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(html::render(&a), html::render(&b));
    assert!(a.orders.fills > 10 && a.orders.sent > 10, "the market maker traded: {}", a.to_text());
    // Another seed of the queue model's draws changes the run.
    let c = report_of(&BacktestConfig { seed: 10, ..config.clone() }, &synth_spec(), &events);
    assert_ne!(a.engine.state_digest, c.engine.state_digest);
}

#[test]
fn csv_and_journal_replay_exactly_what_memory_does() {
    let events =
        Synth::collect_all(SynthConfig { events: 60_000, seed: 3, ..SynthConfig::default() });
    let spec = synth_spec();
    let config = mm_config();
    let from_memory = report_of(&config, &spec, &events);
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("d.csv");
    let mut w = CsvWriter::new(std::fs::File::create(&csv_path).unwrap(), &spec, &[]).unwrap();
    for e in &events {
        w.write(e).unwrap();
    }
    w.finish().unwrap();
    let info = SourceInfo { source: "memory".into(), format: "test".into() };
    let mut csv = CsvSource::open(&csv_path).unwrap();
    assert_eq!(csv.spec(), &spec);
    let from_csv = run(&config, &spec, &mut csv, &info, Progress::Never).unwrap();
    assert_eq!(from_csv.to_json(), from_memory.to_json());
    let journal = dir.path().join("j");
    let n = keel_replay::backtest::convert::to_journal(
        &mut CsvSource::open(&csv_path).unwrap(),
        &spec,
        &journal,
        |_| {},
    )
    .unwrap();
    assert_eq!(n, 60_000);
    assert_eq!(DataSpec::read_sidecar(&journal).unwrap(), Some(spec.clone()));
    let from_journal = run(
        &config,
        &spec,
        &mut JournalSource::open(&journal, spec.venue()).unwrap(),
        &info,
        Progress::Never,
    )
    .unwrap();
    assert_eq!(from_journal.to_json(), from_memory.to_json());
}

#[test]
fn a_quiet_stretch_fires_few_timers_and_samples() {
    // An hour between two events, 1 ms timers and samples: the run neither spins through
    // 3.6 million timers nor stores 3.6 million samples.
    let events = vec![
        l2(T0, Side::Buy, 100, 10),
        l2(T0, Side::Sell, 102, 10),
        l2(T0 + 3_600_000 * MS, Side::Buy, 100, 11),
    ];
    let config = BacktestConfig { timer_interval_ns: MS, sample_interval_ns: MS, ..mm_config() };
    let outcome = Backtest::new(config.clone(), &spec())
        .unwrap()
        .run(&mut SliceSource::new(&events), Progress::Never)
        .unwrap();
    assert!(outcome.timers <= 4, "{} timers", outcome.timers);
    assert!(outcome.metrics.samples.len() <= 4, "{} samples", outcome.metrics.samples.len());
    let report = Report::build(
        &outcome,
        &config,
        &spec(),
        &SourceInfo { source: "m".into(), format: "t".into() },
    )
    .unwrap();
    assert_eq!(report.performance.intervals, 3_600_000);
}
