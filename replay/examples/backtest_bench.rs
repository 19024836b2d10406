//! Backtest throughput: the synthetic L2 data set through the whole backtest (venue,
//! latency, queue model, core, market maker, metrics) on one core, with floors measured in
//! the same run.
//!
//! `cargo run --release -p keel-replay --example backtest_bench -- [N] [M]`
//! (defaults N = 10 000 000 events in memory, M = 2 000 000 events for the CSV and
//! journal paths; 0 skips those). Files go to a temporary directory
//! (`KEEL_BENCH_DIR` to choose one, e.g. /dev/shm).
//!
//! Figures, each over the same events:
//! - floor, decode: every pre-decoded event turned into its core command (no core);
//! - floor, core alone: those commands applied to a core with the market maker, in
//!   arrival order, no venue and no latency model (the strategy's requests go nowhere);
//! - floor, venue side alone: the simulated venue's recorded book, with no Keel orders;
//! - backtest: the full loop from memory (the default `recorded` latency model, the
//!   default probabilistic queue model, consuming liquidity);
//! - from a journal and from CSV: the full loop reading the file, and reading alone.

use std::hint::black_box;
use std::time::Instant;

use keel_engine::core::Core;
use keel_engine::schema::{Command, CommandBody, SessionKind, SessionLogon};
use keel_engine::{AccountId, TimestampNs};
use keel_replay::backtest::config::{BacktestConfig, VENUE_SESSION};
use keel_replay::backtest::csv::{CsvSource, CsvWriter};
use keel_replay::backtest::journal_source::JournalSource;
use keel_replay::backtest::synth::{Synth, SynthConfig, synth_spec};
use keel_replay::backtest::{Backtest, EventSource, MdEvent, Progress, SliceSource};

fn rate(n: u64, s: f64) -> String {
    format!("{n} events in {s:.3} s: {:.2} M events/s", n as f64 / s / 1e6)
}

/// CPU time of this thread, s: on a shared machine it leaves out the time the thread
/// waited for a core, which wall time does not.
fn cpu_s() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// Wall and CPU seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (w, c) = (Instant::now(), cpu_s());
    let out = f();
    (out, w.elapsed().as_secs_f64(), cpu_s() - c)
}

fn rates(n: u64, wall: f64, cpu: f64) -> String {
    format!(
        "{n} events: wall {wall:.3} s = {:.2} M events/s; thread CPU {cpu:.3} s = {:.2} M events/s",
        n as f64 / wall / 1e6,
        n as f64 / cpu / 1e6
    )
}

/// The market maker quoting one tick from the microprice, 10 lots; `KEEL_BENCH_PARAMS`
/// (`key=value,...`) adds or overrides parameters.
fn config() -> BacktestConfig {
    let mut params =
        vec![("half_spread_ticks".to_string(), "1".to_string()), ("size_lots".into(), "10".into())];
    if let Ok(extra) = std::env::var("KEEL_BENCH_PARAMS") {
        for kv in extra.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').expect("KEEL_BENCH_PARAMS: key=value,...");
            params.retain(|(key, _)| key != k);
            params.push((k.to_string(), v.to_string()));
        }
    }
    BacktestConfig { params, ..BacktestConfig::default() }
}

/// Runs the full backtest over `source`; returns events per CPU second.
fn full_run<S: EventSource + ?Sized>(source: &mut S, label: &str) -> f64 {
    let spec = synth_spec();
    let backtest = Backtest::new(config(), &spec).expect("config");
    let (outcome, wall, cpu) = timed(|| backtest.run(source, Progress::Never).expect("run"));
    println!(
        "{label}: {} | orders {} replaces {} fills {} | digest {}",
        rates(outcome.events, wall, cpu),
        outcome.metrics.orders_sent,
        outcome.metrics.replaces_sent,
        outcome.metrics.fills,
        outcome.core.digest()
    );
    outcome.events as f64 / cpu
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(10_000_000, |a| a.parse().expect("N"));
    let m: u64 = args.next().map_or(2_000_000, |a| a.parse().expect("M"));
    println!(
        "machine: {} cores allowed, {}",
        core_count(),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.to_string()))
            .unwrap_or_default()
    );

    let (events, wall, cpu) =
        timed(|| Synth::collect_all(SynthConfig { events: n, ..SynthConfig::default() }));
    println!("generated: {}", rates(n, wall, cpu));
    let spec = synth_spec();

    // Floor 1: decode only.
    let (_, wall, cpu) = timed(|| {
        let mut sum = 0u64;
        for e in &events {
            let cmd =
                Command { ts: e.local_ts, session: VENUE_SESSION, body: e.to_body(spec.venue()) };
            sum = sum.wrapping_add(match black_box(&cmd).body {
                CommandBody::L2Update(u) => u.qty.0 as u64,
                _ => 1,
            });
        }
        black_box(sum)
    });
    let floor_decode = n as f64 / cpu;
    println!("floor, decode only (in memory): {}", rates(n, wall, cpu));

    // Floor 2: the core alone with the market maker.
    let core_config = config().core_config(&spec).expect("core config");
    let mut core = Core::new(&core_config).expect("core");
    let mut sink = keel_engine::core::testkit::CountingSink::default();
    let logon = CommandBody::SessionLogon(SessionLogon {
        kind: SessionKind::Venue,
        account: AccountId(1),
        cancel_on_disconnect: false,
    });
    core.apply(&Command { ts: events[0].local_ts, session: VENUE_SESSION, body: logon }, &mut sink);
    let (_, wall, cpu) = timed(|| {
        let mut last = 0u64;
        for e in &events {
            last = last.max(e.local_ts.0);
            let cmd = Command {
                ts: TimestampNs(last),
                session: VENUE_SESSION,
                body: e.to_body(spec.venue()),
            };
            core.apply(&cmd, &mut sink);
        }
    });
    let floor_core = n as f64 / cpu;
    println!(
        "floor, core alone with the market maker (requests go nowhere): {} ({} outputs)",
        rates(n, wall, cpu),
        sink.outputs
    );

    // Floor 3: the venue side alone (the recorded book at exchange time, no Keel orders).
    let mut venue = keel_replay::backtest::venue::SimVenue::new(
        keel_replay::backtest::venue::VenueSettings {
            venue: spec.venue(),
            feed: spec.feed,
            book: config().book,
            queue: config().queue,
            consume_liquidity: true,
            seed: 1,
            fees: keel_replay::backtest::fees::FeeSchedule::zero(1),
        },
        1,
    );
    let (_, wall, cpu) = timed(|| {
        let mut out = Vec::new();
        for e in &events {
            venue.on_market_data(e, e.exchange_ts, &mut out);
        }
        black_box(out.len())
    });
    println!("floor, venue side alone (recorded book at exchange time): {}", rates(n, wall, cpu));
    drop(venue);

    let mut best = 0f64;
    for pass in 0..3 {
        let r =
            full_run(&mut SliceSource::new(&events), &format!("backtest from memory, pass {pass}"));
        best = best.max(r);
    }
    println!(
        "best from memory (CPU time): {:.2} M events/s = {:.2}x the core-alone floor, {:.3}x the decode floor",
        best / 1e6,
        best / floor_core,
        best / floor_decode
    );
    drop(events);
    if m == 0 {
        return;
    }

    let base = std::env::var_os("KEEL_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(base).expect("temp dir");
    let small: Vec<MdEvent> =
        Synth::collect_all(SynthConfig { events: m, ..SynthConfig::default() });
    let csv_path = dir.path().join("syn.csv");
    {
        let file = std::io::BufWriter::new(std::fs::File::create(&csv_path).expect("csv"));
        let mut w = CsvWriter::new(file, &spec, &[]).expect("csv header");
        for e in &small {
            w.write(e).expect("csv row");
        }
        w.finish().expect("flush");
    }
    let journal = dir.path().join("journal");
    let t = Instant::now();
    keel_replay::backtest::convert::to_journal(
        &mut SliceSource::new(&small),
        &spec,
        &journal,
        |_| {},
    )
    .expect("journal");
    println!("journal written: {}", rate(m, t.elapsed().as_secs_f64()));

    let drain = |src: &mut dyn EventSource| {
        let mut k = 0u64;
        while let Some(e) = src.next_event().expect("event") {
            black_box(e);
            k += 1;
        }
        k
    };
    let (k, wall, cpu) = timed(|| drain(&mut CsvSource::open(&csv_path).expect("csv")));
    println!("floor, CSV read + parse only: {}", rates(k, wall, cpu));
    let (k, wall, cpu) =
        timed(|| drain(&mut JournalSource::open(&journal, spec.venue()).expect("journal")));
    println!("floor, journal read + checksum + checked decode only: {}", rates(k, wall, cpu));
    let r_mem = full_run(&mut SliceSource::new(&small), "backtest from memory (same M events)");
    let r_csv = full_run(&mut CsvSource::open(&csv_path).expect("csv"), "backtest from CSV");
    let r_journal = full_run(
        &mut JournalSource::open(&journal, spec.venue()).expect("journal"),
        "backtest from journal",
    );
    println!(
        "from CSV {:.2}x, from journal {:.2}x the in-memory run of the same events (CPU time)",
        r_csv / r_mem,
        r_journal / r_mem
    );
}

fn core_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
