//! Replay throughput: writes N commands from `random_commands` through a core into a
//! journal, then times `recover` (every output re-derived and compared) on one core.
//!
//! `cargo run --release -p keel-replay --example replay_bench -- [N] [seed]`
//! (default N = 2,000,000, seed 11). The journal goes to a temporary directory. With
//! `KEEL_BENCH_NO_STRATEGY=1` the fixture runs without the market maker.

use std::time::Instant;

use keel_engine::core::testkit::{config_with_market_maker, random_commands};
use keel_engine::core::{Core, apply_journaled};
use keel_journal::{Config, Journal};
use keel_replay::log::{JournalRecorder, journal_config};
use keel_replay::{Progress, RecoverOptions, recover};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(2_000_000, |a| a.parse().expect("N"));
    let seed: u64 = args.next().map_or(11, |a| a.parse().expect("seed"));
    // KEEL_BENCH_NO_STRATEGY=1: the fixture without the market maker, to separate the
    // strategy's share of the core's cost.
    let config = if std::env::var_os("KEEL_BENCH_NO_STRATEGY").is_some() {
        keel_engine::core::testkit::config()
    } else {
        config_with_market_maker()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let commands = random_commands(seed, n);

    let t = Instant::now();
    let mut journal = JournalRecorder::new(
        Journal::open(dir.path(), journal_config(Config::default())).expect("journal"),
    );
    let mut core = Core::new(&config).expect("config");
    let mut outputs = Vec::with_capacity(1024);
    for cmd in &commands {
        apply_journaled(&mut core, &mut journal, cmd, &mut outputs).expect("append");
    }
    let written = journal.journal().last_seq();
    journal.into_inner().close().expect("close");
    let write_s = t.elapsed().as_secs_f64();
    println!("wrote {} commands, {written} records in {write_s:.2} s", commands.len());
    // Floors measured in the same run: the core alone on in-memory commands, and reading
    // + validating + decoding the journal without applying.
    let t = Instant::now();
    let mut bare = Core::new(&config).expect("config");
    let mut sink = keel_engine::core::testkit::CountingSink::default();
    for cmd in &commands {
        bare.apply(cmd, &mut sink);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "floor core.apply only (in memory): {} inputs in {s:.3} s: {:.2} M inputs/s",
        commands.len(),
        commands.len() as f64 / s / 1e6
    );
    drop(commands);
    let t = Instant::now();
    let mut reader =
        keel_journal::Reader::open_with_schema(dir.path(), keel_engine::schema::SCHEMA_HASH)
            .expect("reader");
    let mut n = 0u64;
    while let Some(rec) = reader.next().expect("read") {
        std::hint::black_box(keel_replay::log::decode(&rec).expect("decode"));
        n += 1;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "floor read + checksum + checked decode only: {n} records in {s:.3} s: {:.2} M records/s",
        n as f64 / s / 1e6
    );

    for pass in 0..3 {
        for verify in [true, false] {
            let r = recover(
                dir.path(),
                &config,
                RecoverOptions {
                    verify_outputs: verify,
                    progress: Progress::Never,
                    ..RecoverOptions::default()
                },
            )
            .expect("recover");
            assert_eq!(r.core.digest(), core.digest());
            assert!(r.outputs_match());
            let s = r.elapsed.as_secs_f64();
            println!(
                "pass {pass} verify_outputs={verify}: {} records ({} inputs, {} outputs) in {s:.3} s: {:.2} M records/s, {:.2} M inputs/s",
                r.counts.records(),
                r.counts.inputs(),
                r.counts.outputs(),
                r.counts.records() as f64 / s / 1e6,
                r.counts.inputs() as f64 / s / 1e6,
            );
        }
    }
}
