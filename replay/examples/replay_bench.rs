//! Replay throughput: writes N commands through a core into a journal, then times
//! `recover` (every output re-derived and compared, and again without comparing) on one
//! core, beside two floors measured in the same run on the same journal: the core alone
//! applying the commands from memory, and reading + checksumming + validating + decoding
//! the journal without applying anything.
//!
//! Floors and recoveries are interleaved, three passes of each; every line gives the wall
//! time and the process's CPU time (user, sys) and minor page faults, and a summary gives
//! the best wall time of each with the ratios. On a shared machine the CPU time shows how
//! much of the wall time was spent waiting for a core.
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

    // Floors, measured in the same run and interleaved with the recoveries (the machine
    // may be shared: each figure is the best of PASSES): the core alone on in-memory
    // commands, and reading + validating + decoding the journal without applying.
    let mut best = Best::default();
    for pass in 0..PASSES {
        let before = Usage::now();
        let t = Instant::now();
        let mut bare = Core::new(config).expect("config");
        let mut sink = CountingSink::default();
        for cmd in &commands {
            bare.apply(cmd, &mut sink);
        }
        let s = t.elapsed().as_secs_f64();
        let used = Usage::now().since(&before);
        best.core_s = best.core_s.min(s);
        println!(
            "[{name}] pass {pass} floor core.apply only (in memory): {} inputs in {s:.3} s: {:.2} M inputs/s; {used}",
            commands.len(),
            commands.len() as f64 / s / 1e6
        );

        let before = Usage::now();
        let t = Instant::now();
        let records = read_floor(dir.path());
        let s = t.elapsed().as_secs_f64();
        let used = Usage::now().since(&before);
        best.read_s = best.read_s.min(s);
        println!(
            "[{name}] pass {pass} floor read + checksum + checked decode only: {records} records in {s:.3} s: {:.2} M records/s; {used}",
            records as f64 / s / 1e6
        );

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
            if verify {
                best.verified_s = best.verified_s.min(s);
            } else {
                best.unverified_s = best.unverified_s.min(s);
            }
            (best.records, best.inputs) = (r.counts.records(), r.counts.inputs());
            println!(
                "[{name}] pass {pass} recover verify_outputs={verify}: {} records ({} inputs, {} outputs) in {s:.3} s: {:.2} M records/s, {:.2} M inputs/s; {used}",
                r.counts.records(),
                r.counts.inputs(),
                r.counts.outputs(),
                r.counts.records() as f64 / s / 1e6,
                r.counts.inputs() as f64 / s / 1e6,
            );
        }
    }
    best.print(name);
}

/// Reads, checksums, validates and decodes every record of the journal at `dir` without
/// applying anything; returns how many. Out of line so that a profile can collect it
/// alone (`valgrind --tool=callgrind --toggle-collect=replay_bench::read_floor`).
#[inline(never)]
fn read_floor(dir: &std::path::Path) -> u64 {
    let mut reader = keel_journal::Reader::open_with_schema(dir, keel_engine::schema::SCHEMA_HASH)
        .expect("reader");
    let mut records = 0u64;
    while let Some(rec) = reader.next().expect("read") {
        std::hint::black_box(keel_replay::log::decode(&rec).expect("decode"));
        records += 1;
    }
    records
}

/// Passes of each measurement; the best (shortest) of each is reported.
const PASSES: usize = 3;

/// The shortest wall time of each measurement.
struct Best {
    core_s: f64,
    read_s: f64,
    verified_s: f64,
    unverified_s: f64,
    records: u64,
    inputs: u64,
}

impl Default for Best {
    fn default() -> Best {
        Best {
            core_s: f64::MAX,
            read_s: f64::MAX,
            verified_s: f64::MAX,
            unverified_s: f64::MAX,
            records: 0,
            inputs: 0,
        }
    }
}

impl Best {
    fn print(&self, name: &str) {
        let m = |n: u64, s: f64| n as f64 / s / 1e6;
        println!(
            "[{name}] best of {PASSES}: recover with outputs verified {:.2} M records/s ({:.2} M inputs/s), not verified {:.2} M records/s; floors: core alone {:.2} M inputs/s, read + checksum + decode {:.2} M records/s",
            m(self.records, self.verified_s),
            m(self.inputs, self.verified_s),
            m(self.records, self.unverified_s),
            m(self.inputs, self.core_s),
            m(self.records, self.read_s),
        );
        println!(
            "[{name}] ratios: verified recovery / read floor (records/s) {:.2}; / core floor (inputs/s) {:.2}; recovery time / (core floor + read floor time) {:.2}; verified / not verified time {:.2}",
            self.read_s / self.verified_s,
            self.core_s / self.verified_s,
            self.verified_s / (self.core_s + self.read_s),
            self.verified_s / self.unverified_s,
        );
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

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CPU user {:.3} s, sys {:.3} s, {} minor faults",
            self.user_s, self.sys_s, self.minor_faults
        )
    }
}
