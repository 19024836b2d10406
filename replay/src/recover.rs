//! Recovery: rebuild a [`Core`] from a journal (optionally starting from a snapshot),
//! re-deriving every output and comparing it with the one recorded.
//!
//! # Contract
//! - Inputs are applied in journal order to a core built from the same [`CoreConfig`] as
//!   the one that wrote the journal. The core is deterministic, so the derived outputs must
//!   equal the recorded ones; any difference is a [`Mismatch`] (collected up to
//!   [`RecoverOptions::mismatches_max`], all of them counted).
//! - Outputs recorded after the last input of the journal that the replay derives but the
//!   journal does not hold are not mismatches: the writer stopped between appending the
//!   input and its outputs. They are returned in [`Recovered::unrecorded_tail`] for the
//!   server to record and publish before it goes live.
//! - The journal continues from [`Recovered::last_seq`]` + 1` (the writer does that when
//!   it opens the directory).
//! - A read or decode error stops recovery with the segment, offset and sequence (or the
//!   sequence) of the bad record: corrupt history is never silently replayed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keel_engine::core::{COMMAND_KINDS, Core, CoreConfig, command_kind_index};
use keel_engine::schema::{Command, CommandBody, Output, OutputBody, SCHEMA_HASH, Timer};
use keel_engine::{SessionId, TimestampNs};
use keel_journal::{Reader, RecordKind, parse_segment_file_name};

use crate::error::RecoverError;
use crate::log::{OutputArchiver, check_output, decode_command_into, decode_output};
use crate::snapshot::{self, SnapshotCodec, SnapshotRejection};

/// Number of [`OutputBody`] variants.
pub const OUTPUT_KINDS: usize = 8;

/// Names of the output kinds, by [`output_kind_index`].
pub const OUTPUT_KIND_NAMES: [&str; OUTPUT_KINDS] = [
    "venue_new_order",
    "venue_cancel",
    "venue_replace",
    "exec_report",
    "cancel_reject",
    "mass_cancel_report",
    "admin_ack",
    "anomaly",
];

/// The index of an output kind, for counters and reports.
pub fn output_kind_index(body: &OutputBody) -> usize {
    match body {
        OutputBody::VenueNewOrder(_) => 0,
        OutputBody::VenueCancel(_) => 1,
        OutputBody::VenueReplace(_) => 2,
        OutputBody::ExecReport(_) => 3,
        OutputBody::CancelReject(_) => 4,
        OutputBody::MassCancelReport(_) => 5,
        OutputBody::AdminAck(_) => 6,
        OutputBody::Anomaly(_) => 7,
    }
}

/// [`output_kind_index`] of an archived output (validated, not decoded).
pub fn archived_output_kind_index(body: &<OutputBody as rkyv::Archive>::Archived) -> usize {
    type A = <OutputBody as rkyv::Archive>::Archived;
    match body {
        A::VenueNewOrder(_) => 0,
        A::VenueCancel(_) => 1,
        A::VenueReplace(_) => 2,
        A::ExecReport(_) => 3,
        A::CancelReject(_) => 4,
        A::MassCancelReport(_) => 5,
        A::AdminAck(_) => 6,
        A::Anomaly(_) => 7,
    }
}

/// Where a replay stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Until {
    /// At the end of the journal.
    #[default]
    End,
    /// After the input at this sequence (or the last input before it) and its outputs.
    Seq(u64),
    /// After the last input stamped at or before this time (UTC ns).
    Time(u64),
}

/// Whether to draw a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// On stderr when stderr is a terminal and the journal holds more than
    /// [`PROGRESS_MIN_RECORDS`] records (estimated from the segment names).
    #[default]
    Auto,
    /// Never.
    Never,
}

/// Journals shorter than this get no progress bar.
pub const PROGRESS_MIN_RECORDS: u64 = 1_000_000;

/// How to recover.
#[derive(Clone, Copy)]
pub struct RecoverOptions<'a> {
    /// Compare derived outputs with recorded ones.
    pub verify_outputs: bool,
    /// At most this many mismatches are kept (all are counted).
    pub mismatches_max: usize,
    /// Where to stop.
    pub until: Until,
    /// Start from the newest valid snapshot in `<dir>/snapshots/`, read with this codec.
    pub snapshots: Option<&'a dyn SnapshotCodec>,
    /// Progress bar.
    pub progress: Progress,
}

impl Default for RecoverOptions<'_> {
    fn default() -> Self {
        RecoverOptions {
            verify_outputs: true,
            mismatches_max: 100,
            until: Until::End,
            snapshots: None,
            progress: Progress::Auto,
        }
    }
}

/// A difference between what the journal recorded and what the replay derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Sequence of the recorded output (for an output the journal lacks: the sequence it
    /// should have had, i.e. of the record found in its place).
    pub seq: u64,
    /// Sequence of the input that caused it.
    pub input_seq: u64,
    /// What the journal recorded (`None`: nothing was recorded in its place).
    pub expected: Option<Output>,
    /// What the replay derived (`None`: the replay derived no such output).
    pub actual: Option<Output>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.expected, &self.actual) {
            (Some(e), Some(a)) => write!(
                f,
                "seq {} (output of input {}): recorded {:?} but replay derived {:?}",
                self.seq, self.input_seq, e, a
            ),
            (Some(e), None) => write!(
                f,
                "seq {} (output of input {}): recorded {:?} but replay derived nothing",
                self.seq, self.input_seq, e
            ),
            (None, Some(a)) => write!(
                f,
                "seq {} (output of input {}): replay derived {:?} but the journal has none",
                self.seq, self.input_seq, a
            ),
            (None, None) => write!(f, "seq {}: empty mismatch", self.seq),
        }
    }
}

/// Records seen, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counts {
    /// Inputs applied, by [`command_kind_index`].
    pub inputs_by_kind: [u64; COMMAND_KINDS],
    /// Outputs read, by [`output_kind_index`].
    pub outputs_by_kind: [u64; OUTPUT_KINDS],
    /// Records of other kinds (snapshot markers), skipped.
    pub other: u64,
    /// Outputs skipped because their input is inside the snapshot recovery started from.
    pub skipped_outputs: u64,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            inputs_by_kind: [0; COMMAND_KINDS],
            outputs_by_kind: [0; OUTPUT_KINDS],
            other: 0,
            skipped_outputs: 0,
        }
    }
}

impl Counts {
    /// Inputs applied.
    pub fn inputs(&self) -> u64 {
        self.inputs_by_kind.iter().sum()
    }
    /// Outputs read (and compared, when verifying).
    pub fn outputs(&self) -> u64 {
        self.outputs_by_kind.iter().sum()
    }
    /// Every record read.
    pub fn records(&self) -> u64 {
        self.inputs() + self.outputs() + self.other + self.skipped_outputs
    }
}

/// The snapshot recovery started from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotUsed {
    /// Its file.
    pub path: PathBuf,
    /// The journal sequence of the last input it includes.
    pub seq: u64,
}

/// The result of a recovery.
pub struct Recovered {
    /// The rebuilt core.
    pub core: Core,
    /// Last record read (0 for an empty journal); the journal continues from the next.
    pub last_seq: u64,
    /// Last input applied (from the journal or the snapshot).
    pub last_input_seq: Option<u64>,
    /// Records by kind.
    pub counts: Counts,
    /// Mismatches found (at most `mismatches_max`).
    pub mismatches: Vec<Mismatch>,
    /// Every mismatch found.
    pub mismatch_count: u64,
    /// Outputs of the journal's last input that the journal does not hold.
    pub unrecorded_tail: Vec<Output>,
    /// The snapshot used, if any.
    pub snapshot: Option<SnapshotUsed>,
    /// Snapshots tried and refused, newest first, with why.
    pub snapshot_rejections: Vec<SnapshotRejection>,
    /// Wall time of the replay (snapshot load included).
    pub elapsed: Duration,
}

impl Recovered {
    /// Records replayed per second.
    pub fn events_per_sec(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.counts.records() as f64 / s } else { 0.0 }
    }

    /// True when every output matched.
    pub fn outputs_match(&self) -> bool {
        self.mismatch_count == 0
    }
}

struct Checker {
    enabled: bool,
    archiver: OutputArchiver,
    max: usize,
    derived: Vec<Output>,
    next: usize,
    input_seq: u64,
    mismatches: Vec<Mismatch>,
    count: u64,
}

impl Checker {
    fn push(&mut self, m: Mismatch) {
        self.count += 1;
        if self.mismatches.len() < self.max {
            self.mismatches.push(m);
        }
    }

    /// The recorded output at `seq`, if its bytes are exactly the archive of the next
    /// derived one: then it is accounted for (no decoding needed, see [`OutputArchiver`])
    /// and its kind is returned.
    #[inline]
    fn recorded_bytes(&mut self, payload: &[u8]) -> Option<usize> {
        if !self.enabled {
            return None;
        }
        let derived = self.derived.get(self.next)?;
        if self.archiver.archive(derived)? != payload {
            return None;
        }
        self.next += 1;
        Some(output_kind_index(&derived.body))
    }

    /// A recorded output at `seq`.
    #[inline]
    fn recorded(&mut self, seq: u64, out: Output) {
        if !self.enabled {
            return;
        }
        match self.derived.get(self.next) {
            Some(d) if *d == out => {}
            Some(d) => {
                let d = *d;
                self.push(Mismatch {
                    seq,
                    input_seq: self.input_seq,
                    expected: Some(out),
                    actual: Some(d),
                })
            }
            None => self.push(Mismatch {
                seq,
                input_seq: self.input_seq,
                expected: Some(out),
                actual: None,
            }),
        }
        self.next += 1;
    }

    /// The next input (at `seq`) starts: derived outputs not yet matched were not recorded.
    #[inline]
    fn close(&mut self, seq: u64) {
        if !self.enabled {
            return;
        }
        while self.next < self.derived.len() {
            let d = self.derived[self.next];
            self.push(Mismatch { seq, input_seq: self.input_seq, expected: None, actual: Some(d) });
            self.next += 1;
        }
    }
}

/// Rebuilds the core recorded in the journal at `dir`. See the module docs.
// Called once per recovery; kept out of line so profiles show it by name.
#[inline(never)]
pub fn recover(
    dir: impl AsRef<Path>,
    config: &CoreConfig,
    opts: RecoverOptions<'_>,
) -> Result<Recovered, RecoverError> {
    let dir = dir.as_ref();
    let started = Instant::now();
    let mut snapshot_used = None;
    let mut snapshot_rejections = Vec::new();
    let mut start = None;
    if let Some(codec) = opts.snapshots {
        let loaded = snapshot::load_newest(dir, config, codec, opts.until)?;
        snapshot_rejections = loaded.rejections;
        if let Some(l) = loaded.found {
            snapshot_used = Some(SnapshotUsed { path: l.path, seq: l.seq });
            start = Some((l.core, l.seq, l.reader));
        }
    }
    let skipping_outputs_at_start = start.is_some();
    let (core, last_input_seq, reader) = match start {
        Some((core, seq, reader)) => (Some(core), Some(seq), reader),
        None => (
            None,
            None,
            Reader::open_with_schema(dir, SCHEMA_HASH)
                .map_err(|source| RecoverError::Open { dir: dir.to_path_buf(), source })?,
        ),
    };
    let (mut last_input_seq, mut reader) = (last_input_seq, reader);
    let mut skipping_outputs = skipping_outputs_at_start;
    let mut core = match core {
        Some(c) => c,
        None => Core::new(config)?,
    };

    let bar = progress_bar(dir, opts.progress);
    let mut counts = Counts::default();
    let mut check = Checker {
        enabled: opts.verify_outputs,
        archiver: OutputArchiver::default(),
        max: opts.mismatches_max,
        derived: Vec::with_capacity(1024),
        next: 0,
        input_seq: 0,
        mismatches: Vec::new(),
        count: 0,
    };
    let mut last_seq = snapshot_used.as_ref().map_or(0, |s| s.seq);
    let mut stopped_early = false;
    let mut applied = 0u64;
    // Every input is decoded into this one command, which `apply` then reads.
    let mut cmd =
        Command { ts: TimestampNs(0), session: SessionId(0), body: CommandBody::Timer(Timer {}) };
    while let Some(rec) = reader.next()? {
        let (seq, ts_ns, kind) = (rec.seq, rec.ts_ns, rec.kind);
        let beyond = match opts.until {
            Until::End => false,
            Until::Seq(s) => seq > s,
            Until::Time(t) => ts_ns > t,
        };
        if beyond && kind == RecordKind::INPUT {
            // Stop at an input boundary: the outputs of the last input applied follow it.
            stopped_early = true;
            break;
        }
        // Matched on the kind, not on a decoded `Entry`: the command is decoded in place
        // into the one `apply` reads, an output whose bytes equal the archive of the
        // derived one is never decoded, and one that is only counted is only validated.
        match kind {
            RecordKind::INPUT => {
                decode_command_into(&rec, &mut cmd)?;
                last_seq = seq;
                check.close(seq);
                skipping_outputs = false;
                counts.inputs_by_kind[command_kind_index(&cmd.body)] += 1;
                check.derived.clear();
                check.next = 0;
                check.input_seq = seq;
                core.apply(&cmd, &mut check.derived);
                last_input_seq = Some(seq);
                applied += 1;
                if let Some(bar) = &bar {
                    if applied % 65_536 == 0 {
                        bar.set_position(seq);
                    }
                }
            }
            RecordKind::OUTPUT if skipping_outputs => {
                // Still validated: corrupt history is refused even where it is not used.
                check_output(&rec)?;
                last_seq = seq;
                counts.skipped_outputs += 1;
            }
            RecordKind::OUTPUT => {
                last_seq = seq;
                if let Some(k) = check.recorded_bytes(rec.payload) {
                    counts.outputs_by_kind[k] += 1;
                    continue;
                }
                if !check.enabled {
                    // Validated and counted; nothing reads it.
                    let out = check_output(&rec)?;
                    counts.outputs_by_kind[archived_output_kind_index(&out.body)] += 1;
                    continue;
                }
                let out = decode_output(&rec)?;
                counts.outputs_by_kind[output_kind_index(&out.body)] += 1;
                check.recorded(seq, out);
            }
            _ => {
                last_seq = seq;
                counts.other += 1;
            }
        }
    }
    let mut unrecorded_tail = Vec::new();
    if check.enabled {
        if stopped_early {
            check.close(last_seq + 1);
        } else {
            unrecorded_tail
                .extend_from_slice(&check.derived[check.next.min(check.derived.len())..]);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(Recovered {
        core,
        last_seq,
        last_input_seq,
        counts,
        mismatches: check.mismatches,
        mismatch_count: check.count,
        unrecorded_tail,
        snapshot: snapshot_used,
        snapshot_rejections,
        elapsed: started.elapsed(),
    })
}

fn progress_bar(dir: &Path, progress: Progress) -> Option<indicatif::ProgressBar> {
    if progress == Progress::Never || !std::io::stderr().is_terminal() {
        return None;
    }
    let estimate = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| parse_segment_file_name(&e.file_name().to_string_lossy()))
        .max()?;
    if estimate < PROGRESS_MIN_RECORDS {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(estimate),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "replay {bar:40} seq {pos}/~{len} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}
