//! Replay throughput: writes N commands through a core into a journal, then times
//! `recover` (every output re-derived and compared, and again without comparing) on one
//! core, beside two floors measured in the same run on the same journal: the core alone
//! applying the commands from memory, and reading + checksumming + validating + decoding
//! the journal without applying anything.
//!
//! `cargo run --release -p keel-replay --example replay_bench -- [N] [seed] [stream]`
//! (default N = 2,000,000, seed 11, stream `both`). Streams (`keel_engine::core::testkit`):
//!
//! - `session`: `session_commands`, a session's proportions: 85% market data, 5% client
//!   order entry, 10% the venue's answers to the orders the core sends; the order table
//!   stays small.
//! - `stress`: `random_commands`, the worst case kept measured: order entry and reports
//!   for random ids, so the order table saturates at its 4096 orders, and a kill switch
//!   every ~200 commands walks all of them.
//!
//! The journal goes to a temporary directory. With `KEEL_BENCH_NO_STRATEGY=1` the fixture
//! runs without the market maker.

use std::time::Instant;

use keel_engine::core::testkit::{
    CountingSink, config_with_market_maker, random_commands, session_commands,
};
use keel_engine::core::{Core, CoreConfig, apply_journaled};
use keel_engine::schema::Command;
use keel_journal::{Config, Journal};
use keel_replay::log::{JournalRecorder, journal_config};
use keel_replay::{Progress, RecoverOptions, recover};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(2_000_000, |a| a.parse().expect("N"));
    let seed: u64 = args.next().map_or(11, |a| a.parse().expect("seed"));
    let stream = args.next().unwrap_or_else(|| "both".into());
    // KEEL_BENCH_NO_STRATEGY=1: the fixture without the market maker, to separate the
    // strategy's share of the core's cost.
    let config = if std::env::var_os("KEEL_BENCH_NO_STRATEGY").is_some() {
        keel_engine::core::testkit::config()
    } else {
        config_with_market_maker()
    };
    if matches!(stream.as_str(), "session" | "both") {
        run("session", session_commands(&config, seed, n), &config);
    }
    if matches!(stream.as_str(), "stress" | "both") {
        run("stress", random_commands(seed, n), &config);
    }
    if !matches!(stream.as_str(), "session" | "stress" | "both") {
        panic!("unknown stream {stream}: session, stress or both");
    }
}

fn run(name: &str, commands: Vec<Command>, config: &CoreConfig) {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let mut journal = JournalRecorder::new(
        Journal::open(dir.path(), journal_config(Config::default())).expect("journal"),
    );
    let mut core = Core::new(config).expect("config");
    let mut outputs = Vec::with_capacity(1024);
    for cmd in &commands {
        apply_journaled(&mut core, &mut journal, cmd, &mut outputs).expect("append");
    }
    let written = journal.journal().last_seq();
    journal.into_inner().close().expect("close");
    let write_s = t.elapsed().as_secs_f64();
    println!("[{name}] wrote {} commands, {written} records in {write_s:.2} s", commands.len());

    // Floors, measured in the same run: the core alone on in-memory commands, and reading
    // + validating + decoding the journal without applying.
    let t = Instant::now();
    let mut bare = Core::new(config).expect("config");
    let mut sink = CountingSink::default();
    for cmd in &commands {
        bare.apply(cmd, &mut sink);
    }
    let s = t.elapsed().as_secs_f64();
    let core_inputs_per_s = commands.len() as f64 / s;
    println!(
        "[{name}] floor core.apply only (in memory): {} inputs in {s:.3} s: {:.2} M inputs/s",
        commands.len(),
        core_inputs_per_s / 1e6
    );
    drop(commands);
    let t = Instant::now();
    let mut reader =
        keel_journal::Reader::open_with_schema(dir.path(), keel_engine::schema::SCHEMA_HASH)
            .expect("reader");
    let mut records = 0u64;
    while let Some(rec) = reader.next().expect("read") {
        std::hint::black_box(keel_replay::log::decode(&rec).expect("decode"));
        records += 1;
    }
    let s = t.elapsed().as_secs_f64();
    let read_records_per_s = records as f64 / s;
    println!(
        "[{name}] floor read + checksum + checked decode only: {records} records in {s:.3} s: {:.2} M records/s",
        read_records_per_s / 1e6
    );

    for pass in 0..3 {
        for verify in [true, false] {
            let before = Usage::now();
            let r = recover(
                dir.path(),
                config,
                RecoverOptions {
                    verify_outputs: verify,
                    progress: Progress::Never,
                    ..RecoverOptions::default()
                },
            )
            .expect("recover");
            let used = Usage::now().since(&before);
            assert_eq!(r.core.digest(), core.digest());
            assert!(r.outputs_match());
            let s = r.elapsed.as_secs_f64();
            let records_per_s = r.counts.records() as f64 / s;
            let inputs_per_s = r.counts.inputs() as f64 / s;
            println!(
                "[{name}] pass {pass} verify_outputs={verify}: {} records ({} inputs, {} outputs) in {s:.3} s: {:.2} M records/s, {:.2} M inputs/s; ratio to read floor {:.2}, to core floor {:.2}; user {:.3} s, sys {:.3} s, {} minor faults",
                r.counts.records(),
                r.counts.inputs(),
                r.counts.outputs(),
                records_per_s / 1e6,
                inputs_per_s / 1e6,
                records_per_s / read_records_per_s,
                inputs_per_s / core_inputs_per_s,
                used.user_s,
                used.sys_s,
                used.minor_faults,
            );
        }
    }
}

/// CPU time and page faults of this process (the journal's threads are closed by the
/// time recovery runs, so they are the replay's).
struct Usage {
    user_s: f64,
    sys_s: f64,
    minor_faults: i64,
}

impl Usage {
    fn now() -> Usage {
        // SAFETY: getrusage only writes the struct it is given.
        let ru = unsafe {
            let mut ru = std::mem::zeroed::<libc::rusage>();
            libc::getrusage(libc::RUSAGE_SELF, &mut ru);
            ru
        };
        let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        Usage { user_s: s(ru.ru_utime), sys_s: s(ru.ru_stime), minor_faults: ru.ru_minflt }
    }

    fn since(&self, before: &Usage) -> Usage {
        Usage {
            user_s: self.user_s - before.user_s,
            sys_s: self.sys_s - before.sys_s,
            minor_faults: self.minor_faults - before.minor_faults,
        }
    }
}
