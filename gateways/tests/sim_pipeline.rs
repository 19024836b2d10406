//! End to end: the threaded pipeline with the in-process simulated venue, the timer and
//! the reference market maker, journaling into a real journal. After some thousands of
//! commands it stops; replaying the journal's inputs into a fresh core gives the digest
//! the live core had at shutdown.

use keel_engine::book::BookCapacity;
use keel_engine::core::testkit::{self, SIM, TIMER, VENUE};
use keel_engine::core::{Core, CoreConfig};
use keel_engine::pipeline::{
    CoreStart, Gateway, Pipeline, PipelineConfig, TimerGateway, WaitStrategy,
};
use keel_engine::schema::SCHEMA_HASH;
use keel_engine::{InstrumentId, Price};
use keel_gateways::sim::{FlowConfig, SimConfig, SimGateway, SimInstrument};
use keel_journal::{Config, Journal, Reader};
use keel_replay::log::{Entry, JournalRecorder, decode, journal_config};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn core_config() -> CoreConfig {
    testkit::with_market_maker(
        testkit::config(),
        SIM,
        &[("instrument", "0"), ("half_spread_ticks", "1"), ("size_lots", "3")],
    )
}

fn sim_config() -> SimConfig {
    SimConfig {
        name: "sim".into(),
        venue: SIM,
        session: VENUE,
        instruments: vec![
            SimInstrument { id: InstrumentId(0), mid: Price(10_000) },
            SimInstrument { id: InstrumentId(1), mid: Price(5_000) },
        ],
        book: BookCapacity { orders: 1024, levels_per_side: 256 },
        flow: FlowConfig {
            seed: 7,
            add_weight: 50,
            cancel_weight: 35,
            market_weight: 15,
            walk_pct: 20,
            depth_ticks: 8,
            max_qty_lots: 5,
            resting_max: 120,
        },
        events_per_sec: 20_000,
        latency_us: 20,
        exec_id_base: 0,
        cancel_on_connect: Vec::new(),
    }
}

#[test]
fn live_digest_equals_the_digest_recovered_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let pipeline_config = PipelineConfig {
        inbound_ring: 1024,
        outbound_ring: 256,
        wait: WaitStrategy::Park { spins: 32, yields: 8, park_us: 50 },
        ..PipelineConfig::default()
    };
    let gateways: Vec<Box<dyn Gateway>> = vec![
        Box::new(SimGateway::new(sim_config())),
        Box::new(TimerGateway::new(TIMER, 10_000_000)),
    ];
    let init_path = path.clone();
    let pipeline = Pipeline::start(pipeline_config, gateways, move |_clock| {
        let config = journal_config(Config { segment_size: 1 << 20, ..Config::default() });
        let journal = Journal::open(&init_path, config).map_err(|e| e.to_string())?;
        let core = Core::new(&core_config()).map_err(|e| e.to_string())?;
        Ok(CoreStart::fresh(core, JournalRecorder::new(journal)))
    })
    .expect("pipeline starts");

    let deadline = Instant::now() + Duration::from_secs(120);
    while pipeline.metrics().commands.load(Ordering::Relaxed) < 5_000 {
        assert!(Instant::now() < deadline, "too slow: {:?}", pipeline.metrics().commands);
        assert!(!pipeline.is_finished(), "the core thread stopped early (panicked?)");
        std::thread::sleep(Duration::from_millis(10));
    }
    let exit = pipeline.join().expect("clean stop");
    assert!(exit.journal_error.is_none(), "{:?}", exit.journal_error);
    let last_seq = exit.last_seq;
    exit.journal.into_inner().close().expect("journal closes");
    assert!(exit.counters.commands_by_kind.iter().sum::<u64>() >= 5_000);
    assert!(exit.counters.fills > 0, "the market maker traded against the venue");
    // The market maker quoted (venue orders went out) and was acknowledged.
    assert!(exit.counters.commands_by_kind[4] > 0, "venue acks: {:?}", exit.counters);

    let mut reader = Reader::open_with_schema(&path, SCHEMA_HASH).unwrap();
    let mut core = Core::new(&core_config()).unwrap();
    let mut outputs = Vec::new();
    let mut seen = 0;
    while let Some(rec) = reader.next().unwrap() {
        seen += 1;
        assert_eq!(rec.seq, seen, "sequences are contiguous");
        if let Entry::Input { cmd, .. } = decode(&rec).unwrap() {
            core.apply(&cmd, &mut outputs);
        }
    }
    assert_eq!(seen, last_seq);
    assert_eq!(core.digest(), exit.digest, "recovered state equals the live state");
}
