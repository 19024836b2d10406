//! `keel bench journal`: append latency and throughput of `keel_journal::Journal`, then
//! read and verify throughput of what was written, each beside a floor measured in the same
//! run.
//!
//! - Append: `Journal::append` of a payload of `--record-bytes` (default: the archived size
//!   of a typical command, a new order), one per operation, timed with two TSC reads.
//!   Floor: a bare copy of the same bytes into a file mapping that is already mapped and
//!   pre-faulted, advancing by the same frame stride (wrapping), timed the same way.
//! - Append cost, timed in batches: the same two operations again, [`BATCH`] back to back
//!   between two TSC reads, for [`BATCHES`] batches each. One append costs about two
//!   steps of this VM's TSC, so a per-operation median can only read 10, 20 or 30 ns; the
//!   median of batch means resolves it, and a batch that meets a roll is one outlier among
//!   thousands. The target (append median within 2x of the copy) is judged on it; the
//!   per-operation run above keeps the tail. The batched appends get at most a quarter of
//!   `--max-mb`, set aside before the per-operation run.
//! - Roller: how long preparing a segment took (so how many MiB/s of fresh, pre-faulted
//!   pages the background thread supplies, against the MiB/s the writer filled) and how
//!   long the writer waited at rolls that found no spare segment: what bounds the
//!   sustained rate once the append itself is cheap.
//! - Verify: after closing (sealing) the journal, `Reader` over every record (CRC32C and
//!   sequence continuity per record), and `inspect` (the same plus the BLAKE3 seal chain).
//!   Floor: a bare sequential read (64-bit sum) of the same segment files, mapped.
//!
//! The journal lives in a fresh directory under `/dev/shm` when it exists (so the disk is
//! not what is measured), else the system temporary directory, or `--dir`. Appends stop at
//! `--max-mb` of journal data even if the duration is not over (stated in the report).

use super::load::{BatchCost, Clock, Op, Pacing, TscClock, batch_cost, run_synchronous};
use super::report::Target;
use super::report::{Measurement, Report, Role, Throughput};
use super::{BenchError, Common};
use keel_journal::layout::frame_len_for;
use keel_journal::{Config, Journal, Reader, RecordKind, inspect};
use std::hint::black_box;
use std::path::{Path, PathBuf};

/// Options of `keel bench journal`.
#[derive(Clone, Debug, clap::Args)]
pub struct JournalArgs {
    /// Payload bytes per record (default: the archived size of a new-order command).
    #[arg(long)]
    pub record_bytes: Option<usize>,
    /// Segment size, MiB.
    #[arg(long, default_value_t = 64)]
    pub segment_mb: usize,
    /// Prepared segments the journal keeps ready ahead of the writer (journal.spare_segments).
    #[arg(long, default_value_t = keel_journal::Config::default().spare_segments)]
    pub spare_segments: usize,
    /// Stop appending once the journal holds this many MiB of records.
    #[arg(long, default_value_t = 1024)]
    pub max_mb: u64,
    /// Directory for the journal (a fresh subdirectory is made; removed afterwards).
    /// Default: /dev/shm if present, else the system temporary directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Operations per timed batch of the batched cost.
const BATCH: u32 = 64;
/// Batches timed for each of the append and the copy (2^20 operations).
const BATCHES: u64 = 16_384;

/// The archived size of a typical input: a new order.
pub fn typical_record_bytes() -> usize {
    let cmd = keel_engine::schema::Command {
        ts: keel_engine::TimestampNs(keel_engine::core::testkit::T0_NS),
        session: keel_engine::core::testkit::CLIENT,
        body: keel_engine::schema::CommandBody::NewOrder(keel_engine::core::testkit::limit(
            "ORDER-000001",
            keel_engine::Side::Buy,
            9_980,
            3,
        )),
    };
    rkyv::to_bytes::<rkyv::rancor::Error>(&cmd).map_or(128, |b| b.len())
}

struct AppendOp {
    journal: Journal,
    payload: Vec<u8>,
    frame: u64,
    written: u64,
    /// The size cap in force: during the warm-up half of what the per-operation run may
    /// use (so its measured part always has room), then all of that, then `--max-mb` for
    /// the batched run.
    cap: u64,
    cap_total: u64,
    error: Option<String>,
}

impl Op for AppendOp {
    #[inline]
    fn run(&mut self, i: u64) {
        match self.journal.append(RecordKind::INPUT, i, &self.payload) {
            Ok(seq) => {
                black_box(seq);
                self.written += self.frame;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn done(&self) -> bool {
        self.written + self.frame > self.cap || self.error.is_some()
    }

    fn measuring(&mut self) {
        self.cap = self.cap_total;
    }
}

struct CopyOp {
    map: memmap2::MmapMut,
    payload: Vec<u8>,
    frame: usize,
    off: usize,
}

impl Op for CopyOp {
    #[inline]
    fn run(&mut self, _i: u64) {
        let end = self.off + self.payload.len();
        self.map[self.off..end].copy_from_slice(black_box(&self.payload));
        self.off += self.frame;
        if self.off + self.frame > self.map.len() {
            self.off = 0;
        }
    }
}

/// A file of `len` bytes in `dir`, mapped and pre-faulted (every page written once).
fn prefaulted_map(dir: &Path, len: usize) -> Result<memmap2::MmapMut, BenchError> {
    let path = dir.join("floor-page");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(BenchError::io(format!("creating {}", path.display())))?;
    file.set_len(len as u64).map_err(BenchError::io(format!("sizing {}", path.display())))?;
    // SAFETY: a private file of this run that nothing else maps, truncates or writes while
    // the map lives (it is removed with the directory afterwards).
    let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }
        .map_err(BenchError::io(format!("mapping {}", path.display())))?;
    for off in (0..len).step_by(4096) {
        map[off] = 0;
    }
    Ok(map)
}

/// Bare sequential read of every segment file in `dir` (mapped): the verify floor.
fn bare_read(dir: &Path, clock: &TscClock) -> Result<(u64, u64), BenchError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(BenchError::io(format!("listing {}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            keel_journal::parse_segment_file_name(
                &p.file_name().unwrap_or_default().to_string_lossy(),
            )
            .is_some()
        })
        .collect();
    files.sort();
    let mut maps = Vec::new();
    for p in &files {
        let f =
            std::fs::File::open(p).map_err(BenchError::io(format!("opening {}", p.display())))?;
        // SAFETY: the journal is closed; nothing writes these files while they are mapped.
        let m = unsafe { memmap2::Mmap::map(&f) }
            .map_err(BenchError::io(format!("mapping {}", p.display())))?;
        maps.push(m);
    }
    let t0 = clock.now_ns();
    let mut bytes = 0u64;
    let mut sum = 0u64;
    for m in &maps {
        for chunk in m.chunks_exact(8) {
            sum = sum.wrapping_add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        bytes += m.len() as u64;
    }
    black_box(sum);
    Ok((bytes, clock.now_ns() - t0))
}

/// The append's batched median in multiples of the copy's.
fn batched_ratio(append: &BatchCost, copy: &BatchCost) -> f64 {
    append.p50_ns / copy.p50_ns.max(1e-3)
}

/// Runs the mode.
pub fn run(common: &Common, args: &JournalArgs) -> Result<Report, BenchError> {
    let record_bytes = args.record_bytes.unwrap_or_else(typical_record_bytes);
    let segment_size =
        args.segment_mb.checked_mul(1 << 20).filter(|s| *s >= 1 << 20).ok_or_else(|| {
            BenchError::Arg(format!("--segment-mb {}: must be at least 1", args.segment_mb))
        })?;
    if record_bytes == 0 || record_bytes > keel_journal::layout::max_payload_len(segment_size) {
        return Err(BenchError::Arg(format!(
            "--record-bytes {record_bytes}: must be 1..={} for {} MiB segments",
            keel_journal::layout::max_payload_len(segment_size),
            args.segment_mb
        )));
    }
    let (scratch, where_text) = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)
                .map_err(BenchError::io(format!("creating {}", d.display())))?;
            let t = tempfile::Builder::new()
                .prefix("keel-bench-journal-")
                .tempdir_in(d)
                .map_err(BenchError::io(format!("creating a directory in {}", d.display())))?;
            let text = t.path().display().to_string();
            (t, text)
        }
        None => super::scratch_dir("keel-bench-journal-")?,
    };
    let journal_dir = scratch.path().join("journal");
    let floor_dir = scratch.path().join("floor");
    std::fs::create_dir_all(&floor_dir)
        .map_err(BenchError::io(format!("creating {}", floor_dir.display())))?;

    let rate = common.rate.unwrap_or(0);
    let pacing = Pacing::new(rate, common.warmup(), common.duration());
    let wait = common.wait_strategy();
    let pinning = common.pin_threads(&["bench"])?;
    let clock = TscClock::new();
    let frame = frame_len_for(record_bytes);
    let payload: Vec<u8> = (0..record_bytes).map(|i| (i * 31 + 7) as u8).collect();

    // Floor: same bytes, same stride, into a mapped pre-faulted segment-sized page run.
    let mut copy = CopyOp {
        map: prefaulted_map(&floor_dir, segment_size)?,
        payload: payload.clone(),
        frame,
        off: 0,
    };
    let floor = run_synchronous(&clock, pacing, wait, &mut copy);
    let floor_batched = batch_cost(&clock, &mut copy, BATCH, BATCHES);
    drop(copy);

    // The batched run gets at most a quarter of the size cap, set aside before the
    // per-operation run (plus its untimed first batch), so the two together stay within it.
    let max_bytes = args.max_mb.saturating_mul(1 << 20);
    let batch_bytes = u64::from(BATCH) * frame as u64;
    let append_batches = (max_bytes / 4 / batch_bytes).saturating_sub(1).min(BATCHES);
    let batched_bytes = (append_batches + 1) * batch_bytes;
    let config = Config { segment_size, spare_segments: args.spare_segments, ..Config::default() };
    let journal = Journal::open(&journal_dir, config.clone())
        .map_err(|e| BenchError::Setup(format!("journal {}: {e}", journal_dir.display())))?;
    let mut append = AppendOp {
        journal,
        payload,
        frame: frame as u64,
        written: 0,
        cap: (max_bytes - batched_bytes) / 2,
        cap_total: max_bytes - batched_bytes,
        error: None,
    };
    let run = run_synchronous(&clock, pacing, wait, &mut append);
    let capped = append.done();
    append.cap = max_bytes;
    let before_batched = append.journal.last_seq();
    let append_batched = batch_cost(&clock, &mut append, BATCH, append_batches);
    let batched_records = append.journal.last_seq() - before_batched;
    if let Some(e) = append.error.take() {
        return Err(BenchError::Setup(format!("journal append failed: {e}")));
    }
    let records = append.journal.last_seq();
    let roll_stalls = append.journal.roll_stalls();
    let roller = append.journal.roller_stats();
    append.journal.close().map_err(|e| BenchError::Setup(format!("closing the journal: {e}")))?;

    // Verify: reader (CRC + continuity), inspect (plus the BLAKE3 chain), bare read.
    let t0 = clock.now_ns();
    let mut reader = Reader::open(&journal_dir)
        .map_err(|e| BenchError::Setup(format!("reading the journal: {e}")))?;
    let (mut read_records, mut read_bytes) = (0u64, 0u64);
    while let Some(rec) =
        reader.next().map_err(|e| BenchError::Setup(format!("reading the journal: {e}")))?
    {
        read_records += 1;
        read_bytes += frame_len_for(rec.payload.len()) as u64;
    }
    let read_ns = clock.now_ns() - t0;
    drop(reader);
    let t0 = clock.now_ns();
    let inspection = inspect(&journal_dir, true)
        .map_err(|e| BenchError::Setup(format!("verifying the journal: {e}")))?;
    let inspect_ns = clock.now_ns() - t0;
    if !inspection.problems.is_empty() {
        return Err(BenchError::Setup(format!(
            "the journal written does not verify: {}",
            inspection.problems.join("; ")
        )));
    }
    let (bare_bytes, bare_ns) = bare_read(&journal_dir, &clock)?;

    let subject = Measurement::from_recorder(
        "journal_append",
        Role::Subject,
        format!("Journal::append of one {record_bytes}-byte payload ({frame}-byte frame: header, CRC32C, padding)"),
        &run.recorder,
        run.measured_ops,
        run.elapsed_ns,
    )
    .count("records_total", records)
    .count("warmup_records", run.warmup_ops)
    .count("batched_records", batched_records)
    .count("record_bytes", record_bytes as u64)
    .count("frame_bytes", frame as u64)
    .count("roll_stalls", roll_stalls)
    .count("roll_stall_ms_total", roller.roll_stall_ns_total / 1_000_000)
    .count("segments_prepared", roller.segments_prepared)
    .count("prepare_us_mean", roller.prepare_ns_total / roller.segments_prepared.max(1) / 1_000)
    .count("stopped_at_size_cap", u64::from(capped));
    let floor_m = Measurement::from_recorder(
        "floor_copy",
        Role::Floor,
        format!(
            "bare copy of the same {record_bytes} bytes into an already-mapped, pre-faulted page (same stride)"
        ),
        &floor.recorder,
        floor.measured_ops,
        floor.elapsed_ns,
    );
    let floor_read = Throughput::new(
        "floor_bare_read",
        Role::Floor,
        "sequential 64-bit sum over the same segment files, mapped",
        read_records,
        bare_bytes,
        bare_ns,
    );
    let reader_t = Throughput::new(
        "verify_read",
        Role::Subject,
        "Reader over every record: frame checks, CRC32C, sequence continuity",
        read_records,
        read_bytes,
        read_ns,
    )
    .against(&floor_read);
    let inspect_bytes: u64 = inspection.segments.iter().map(|s| s.used_bytes).sum();
    let inspect_t = Throughput::new(
        "verify_inspect",
        Role::Subject,
        "inspect: every record's CRC32C and continuity plus the BLAKE3 seal chain (segment file bytes)",
        inspection.records(),
        inspect_bytes,
        inspect_ns,
    )
    .against(&floor_read);

    let mut report = Report::new(
        "journal",
        "journal appends and verification against a bare copy into a mapped page and a bare read",
        common,
        &pinning,
        1,
    );
    report.notes.push(format!(
        "journal: {where_text}; {} MiB segments ({} spare), flush every {} ms, size cap {} MiB",
        args.segment_mb,
        args.spare_segments,
        config.flush_interval.as_millis(),
        args.max_mb
    ));
    report.notes.push(format!(
        "record: {record_bytes}-byte payload ({}), {frame}-byte frame",
        if args.record_bytes.is_some() {
            "--record-bytes"
        } else {
            "archived size of a new-order command"
        }
    ));
    // What bounds the sustained rate: the roller must prepare segments as fast as the
    // writer fills them (sealing may lag during a run and catches up at close).
    let prepare_s = roller.prepare_ns_total as f64 / roller.segments_prepared.max(1) as f64 / 1e9;
    let written_mib_per_s =
        run.measured_ops as f64 * frame as f64 / (run.elapsed_ns.max(1) as f64 / 1e9) / 1048576.0;
    report.notes.push(format!(
        "roller: {} segments prepared, {:.1} ms each (= {:.0} MiB/s of fresh pages); {} sealed before close, {:.1} ms each; the writer filled {:.0} MiB/s and waited {} ms in {} roll stalls",
        roller.segments_prepared,
        prepare_s * 1e3,
        args.segment_mb as f64 / prepare_s.max(1e-9),
        roller.segments_sealed,
        roller.seal_ns_total as f64 / roller.segments_sealed.max(1) as f64 / 1e6,
        written_mib_per_s,
        roller.roll_stall_ns_total / 1_000_000,
        roller.roll_stalls
    ));
    if capped {
        report.notes.push(format!(
            "appends stopped at the {} MiB size cap before the duration ended",
            args.max_mb
        ));
    }
    report.notes.push(format!(
        "append cost timed in batches of {BATCH} ({} and {} batches): median {:.1} ns per append against {:.1} ns per copy ({:.2}x); p90 {:.1} / {:.1} ns; cheapest batch {:.1} / {:.1} ns",
        append_batched.batches,
        floor_batched.batches,
        append_batched.p50_ns,
        floor_batched.p50_ns,
        batched_ratio(&append_batched, &floor_batched),
        append_batched.p90_ns,
        floor_batched.p90_ns,
        append_batched.min_ns,
        floor_batched.min_ns,
    ));
    report.measurements = vec![
        subject
            .count("batched_p50_ps", (append_batched.p50_ns * 1e3) as u64)
            .count("batched_p90_ps", (append_batched.p90_ns * 1e3) as u64),
        floor_m
            .count("batched_p50_ps", (floor_batched.p50_ns * 1e3) as u64)
            .count("batched_p90_ps", (floor_batched.p90_ns * 1e3) as u64),
    ];
    report.add_ratio("journal_append", "floor_copy");
    let ratio = batched_ratio(&append_batched, &floor_batched);
    report.targets.push(Target {
        what: format!(
            "append median of a {record_bytes}-byte payload within 2x of a bare copy of the same bytes (means of batches of {BATCH}, same run)"
        ),
        ratio,
        limit: 2.0,
        met: ratio <= 2.0,
    });
    report.throughputs = vec![reader_t, inspect_t, floor_read];
    // Keep the directory until here: the mapping and the files are gone with it.
    drop(scratch);
    Ok(report)
}
