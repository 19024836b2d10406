//! Journal benchmarks: append of 64- and 256-byte records into a prepared segment against
//! the floor (a bare 64-byte copy into an already-mapped, pre-faulted page), measured in
//! the same run; read
//! and verify throughput; and, before criterion runs, a per-append latency profile
//! (p50/p99/p99.9/max) and a sustained appends/s figure.
//!
//! `cargo bench -p keel-benches --bench journal`

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use keel_journal::{Config, Journal, Reader, RecordKind, inspect};

const SEGMENT: usize = 64 << 20;
/// The criterion append benches write into one segment of this size, prepared (created,
/// preallocated, pre-faulted) by `Journal::open` before any timing starts...
const APPEND_SEGMENT: usize = 256 << 20;
/// ...and recreate the journal, outside the timed region, before a batch of appends could
/// reach its end. So criterion times the append itself into a ready segment, like the
/// floor's copy into an already-mapped page; segment rolls (one per ~2.8 M appends of
/// 64 B) are timed by the per-append profile's tail and the sustained run below.
const MAX_JOURNAL_BYTES: u64 = (APPEND_SEGMENT as u64) - (16 << 20);

struct Fixture {
    dir: tempfile::TempDir,
    journal: Option<Journal>,
    written: u64,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir_in(bench_dir()).unwrap();
        let config = Config { segment_size: APPEND_SEGMENT, spare_segments: 1, ..config() };
        let journal = Journal::open(dir.path(), config).unwrap();
        Fixture { dir, journal: Some(journal), written: 0 }
    }
    /// The journal, with room for `iters` appends of `frame` bytes (at most one segment).
    fn journal(&mut self, frame: u64, iters: u64) -> &mut Journal {
        if self.written + frame * iters > MAX_JOURNAL_BYTES {
            drop(self.journal.take());
            *self = Fixture::new();
        }
        self.written += frame * iters;
        self.journal.as_mut().unwrap()
    }
}

fn bench_dir() -> std::path::PathBuf {
    std::env::var_os("KEEL_BENCH_DIR").map(Into::into).unwrap_or_else(std::env::temp_dir)
}

/// `KEEL_BENCH_FLUSH_MS` overrides the flush interval (to see the flusher's share).
fn config() -> Config {
    let mut c = Config { segment_size: SEGMENT, ..Config::default() };
    if let Some(ms) = std::env::var("KEEL_BENCH_FLUSH_MS").ok().and_then(|v| v.parse().ok()) {
        c.flush_interval = Duration::from_millis(ms);
    }
    c
}

fn append_bench(c: &mut Criterion, payload_len: usize) {
    let payload = vec![0xabu8; payload_len];
    let frame = (32 + payload_len as u64).div_ceil(8) * 8;
    let mut fx = Fixture::new();
    let mut g = c.benchmark_group("journal");
    g.throughput(Throughput::Elements(1));
    g.sample_size(50);
    // A batch larger than one segment holds (criterion's grow with the warm-up and the
    // measurement time) is timed in pieces, each in a journal of its own.
    let per_journal = MAX_JOURNAL_BYTES / frame;
    g.bench_function(format!("append_{payload_len}B"), |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(per_journal);
                let j = fx.journal(frame, n);
                let start = Instant::now();
                for i in 0..n {
                    black_box(j.append(RecordKind::INPUT, i, black_box(&payload)).unwrap());
                }
                timed += start.elapsed();
                // The spare is still there: no append rolled.
                assert_eq!(j.spare_segments_ready(), 1, "append_{payload_len}B rolled a segment");
                left -= n;
            }
            timed
        })
    });
    g.finish();
    drop(fx.dir);
}

/// The floor: a bare 64-byte copy into an already-mapped, pre-faulted shared file mapping,
/// advancing through it like the writer does: by the 96-byte frame a 64-byte record takes
/// (as the per-append profile's floor below), so both touch the same cache lines per
/// operation.
fn floor_bench(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    let mut map = floor_map(dir.path());
    let src = [0xabu8; 64];
    let mut off = 0usize;
    let mut g = c.benchmark_group("journal");
    g.throughput(Throughput::Elements(1));
    g.bench_function("floor_copy_64B", |b| {
        b.iter(|| {
            map[off..off + 64].copy_from_slice(black_box(&src));
            off = next_floor_offset(off);
        })
    });
    g.finish();
    black_box(&map);
}

/// The frame a 64-byte record takes: the floor's stride.
const FLOOR_STRIDE: usize = 96;

/// The floor's next copy offset: one frame on, wrapping before the end of the mapping.
fn next_floor_offset(off: usize) -> usize {
    if off + 2 * FLOOR_STRIDE >= SEGMENT { 0 } else { off + FLOOR_STRIDE }
}

/// A segment-sized file in `dir`, mapped and pre-faulted (every page written once).
fn floor_map(dir: &Path) -> memmap2::MmapMut {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join("floor"))
        .unwrap();
    file.set_len(SEGMENT as u64).unwrap();
    // SAFETY: a private temp file nobody else maps or truncates.
    let mut map = unsafe { memmap2::MmapMut::map_mut(&file).unwrap() };
    for off in (0..SEGMENT).step_by(4096) {
        map[off] = 0;
    }
    map
}

/// Writes a closed journal of `n` records of `len` bytes and returns its data bytes.
fn write_journal(dir: &Path, n: u64, len: usize) -> u64 {
    let mut j = Journal::open(dir, config()).unwrap();
    let payload = vec![0x5au8; len];
    for i in 0..n {
        j.append(RecordKind::INPUT, i, &payload).unwrap();
    }
    j.close().unwrap();
    n * (32 + len as u64).div_ceil(8) * 8
}

fn read_benches(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    let bytes = write_journal(dir.path(), 1_000_000, 256);
    let mut g = c.benchmark_group("journal");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20);
    g.bench_function("read_validate_256B", |b| {
        b.iter(|| {
            let mut r = Reader::open(dir.path()).unwrap();
            let mut n = 0u64;
            while let Some(rec) = r.next().unwrap() {
                n += rec.payload.len() as u64;
            }
            black_box(n)
        })
    });
    g.bench_function("verify_crc_and_blake3_chain", |b| {
        b.iter(|| {
            let ins = inspect(dir.path(), true).unwrap();
            assert!(ins.problems.is_empty());
            black_box(ins.records())
        })
    });
    g.finish();
}

#[cfg(target_arch = "x86_64")]
fn ticks() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86_64.
    unsafe { core::arch::x86_64::_rdtsc() }
}
#[cfg(not(target_arch = "x86_64"))]
fn ticks() -> u64 {
    use std::sync::OnceLock;
    static T0: OnceLock<Instant> = OnceLock::new();
    T0.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Per-append latency percentiles (timestamp counter around each append, calibrated to
/// ns; includes the timer's own overhead, reported alongside) and sustained appends/s.
fn latency_profile() {
    const N: usize = 2_000_000;
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    let mut j = Journal::open(dir.path(), config()).unwrap();
    let payload = [0xabu8; 64];
    for i in 0..100_000 {
        j.append(RecordKind::INPUT, i, &payload).unwrap(); // warm up
    }
    let mut samples = vec![0u64; N];
    let (t0, c0) = (Instant::now(), ticks());
    for (i, s) in samples.iter_mut().enumerate() {
        let a = ticks();
        black_box(j.append(RecordKind::INPUT, i as u64, black_box(&payload)).unwrap());
        *s = ticks() - a;
    }
    let ns_per_tick = t0.elapsed().as_nanos() as f64 / (ticks() - c0) as f64;
    drop(j);
    drop(dir);

    // The floor, same method: a bare 64-byte copy into a pre-faulted shared mapping.
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    let mut map = floor_map(dir.path());
    let mut floor = vec![0u64; N];
    let mut off = 0;
    for s in floor.iter_mut() {
        let a = ticks();
        map[off..off + 64].copy_from_slice(black_box(&payload));
        *s = ticks() - a;
        off = next_floor_offset(off);
    }
    floor.sort_unstable();
    let mut overhead: Vec<u64> = (0..100_000)
        .map(|_| {
            let a = ticks();
            ticks() - a
        })
        .collect();
    overhead.sort_unstable();
    let mean_ns = samples.iter().sum::<u64>() as f64 * ns_per_tick / N as f64;
    let over_1us = samples.iter().filter(|&&t| t as f64 * ns_per_tick > 1_000.0).count();
    samples.sort_unstable();
    eprintln!("append_64B per-op mean {mean_ns:.1} ns; {over_1us} of {N} appends took > 1 us");
    let pct = |v: &[u64], p: f64| v[((v.len() - 1) as f64 * p) as usize] as f64 * ns_per_tick;
    eprintln!(
        "append_64B per-op latency (ns, incl. timer): p50 {:.1}  p99 {:.1}  p99.9 {:.1}  p99.99 {:.1}  max {:.0}  (timer overhead p50 {:.1})",
        pct(&samples, 0.5),
        pct(&samples, 0.99),
        pct(&samples, 0.999),
        pct(&samples, 0.9999),
        *samples.last().unwrap() as f64 * ns_per_tick,
        pct(&overhead, 0.5)
    );
    eprintln!(
        "floor_copy_64B per-op (ns, incl. timer): p50 {:.1}  p99 {:.1}  p99.9 {:.1}  => append/floor p50 ratio {:.2} (timer overhead subtracted: {:.2})",
        pct(&floor, 0.5),
        pct(&floor, 0.99),
        pct(&floor, 0.999),
        pct(&samples, 0.5) / pct(&floor, 0.5),
        (pct(&samples, 0.5) - pct(&overhead, 0.5))
            / (pct(&floor, 0.5) - pct(&overhead, 0.5)).max(0.1)
    );

    // Sustained: 10M appends of 64 B (about 1 GB of frames, 15 segment rolls), flusher on.
    const M: u64 = 10_000_000;
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    let mut j = Journal::open(dir.path(), config()).unwrap();
    let t = Instant::now();
    for i in 0..M {
        black_box(j.append(RecordKind::INPUT, i, black_box(&payload)).unwrap());
    }
    let elapsed = t.elapsed();
    let synced = Instant::now();
    j.sync().unwrap();
    let r = j.roller_stats();
    eprintln!(
        "append_64B sustained: {M} appends in {:.3} s = {:.2} M appends/s ({:.2} GB/s of frames); roll stalls {} ({} ms waited); final sync {:.1} ms; roller: {} segments prepared, {:.1} ms each",
        elapsed.as_secs_f64(),
        M as f64 / elapsed.as_secs_f64() / 1e6,
        (M * 96) as f64 / elapsed.as_secs_f64() / 1e9,
        j.roll_stalls(),
        r.roll_stall_ns_total / 1_000_000,
        synced.elapsed().as_secs_f64() * 1e3,
        r.segments_prepared,
        r.prepare_ns_total as f64 / r.segments_prepared.max(1) as f64 / 1e6
    );
}

fn main() {
    let filter_given = std::env::args().skip(1).any(|a| !a.starts_with('-'));
    if !filter_given || std::env::args().any(|a| a == "profile") {
        latency_profile();
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    floor_bench(&mut c);
    append_bench(&mut c, 64);
    append_bench(&mut c, 256);
    read_benches(&mut c);
    c.final_summary();
}
