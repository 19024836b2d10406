//! Periodic snapshots of a live core, so that recovery replays only the journal's tail
//! (design §7).
//!
//! A [`Checkpointer`] runs inside the journal recorder on the core thread. Between batches
//! (`CommandJournal::after_batch`) it checks its [`SnapshotSchedule`]; when a snapshot is
//! due it encodes the core's state ([`encode_snapshot`], on the core thread: the state must
//! not change while it is read), appends a `SNAPSHOT_MARKER` record to the journal, and
//! hands the bytes to its writer thread, which stores the file crash-safely
//! ([`store_snapshot`]) and prunes old ones. The core thread never waits for the disk.
//!
//! # Invariants
//! - At most one snapshot is being written at a time; a snapshot that falls due while the
//!   previous one is still being written is taken at the next batch after it finishes.
//! - A snapshot is taken only after at least one input since the last: an idle engine
//!   writes none.
//! - The marker is appended after the outputs of the snapshot's input, so recovery from
//!   the file replays exactly the inputs after it. The marker says a snapshot was taken;
//!   the file is the proof (it is validated on load, and recovery falls back to an older
//!   one or to the start if it is missing or bad).
//!
//! # Cost
//! Encoding reads the whole state on the core thread (time grows with the working orders
//! and books), and is the one pause snapshots add to the core; `docs/benchmarks.md` gives
//! the figure. Writing, fsync and pruning happen on the writer thread.
//!
//! # Marker payload (40 bytes)
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 8 | journal sequence of the last input applied (the snapshot's `seq`), LE |
//! | 8 | 32 | `Core::digest` of the state |

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use keel_engine::core::Core;
use keel_journal::{AppendError, Journal, RecordKind};

use crate::snapshot::{EngineCodec, encode_snapshot, prune_snapshots, store_snapshot};

/// Length of a snapshot marker's payload.
pub const MARKER_LEN: usize = 40;

/// When snapshots are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotSchedule {
    /// Take one once this much time has passed since the last (and inputs arrived).
    pub interval: Option<Duration>,
    /// Take one after this many inputs since the last.
    pub inputs: Option<u64>,
    /// Snapshot files kept; older ones are removed after each new one is stored.
    pub keep: usize,
}

impl SnapshotSchedule {
    /// Never.
    pub const OFF: SnapshotSchedule = SnapshotSchedule { interval: None, inputs: None, keep: 1 };

    /// True when neither trigger is set.
    pub fn is_off(&self) -> bool {
        self.interval.is_none() && self.inputs.is_none()
    }
}

/// What the checkpointer has done, for logs and metrics.
#[derive(Clone, Debug, Default)]
pub struct CheckpointStats {
    inner: Arc<StatsInner>,
}

#[derive(Debug, Default)]
struct StatsInner {
    taken: AtomicU64,
    stored: AtomicU64,
    failed: AtomicU64,
    last_stored_seq: AtomicU64,
    encode_ns_max: AtomicU64,
}

impl CheckpointStats {
    /// Snapshots encoded (markers appended).
    pub fn taken(&self) -> u64 {
        self.inner.taken.load(Ordering::Relaxed)
    }
    /// Snapshot files stored.
    pub fn stored(&self) -> u64 {
        self.inner.stored.load(Ordering::Relaxed)
    }
    /// Snapshots that could not be encoded or stored.
    pub fn failed(&self) -> u64 {
        self.inner.failed.load(Ordering::Relaxed)
    }
    /// Sequence of the newest stored snapshot (0 if none).
    pub fn last_stored_seq(&self) -> u64 {
        self.inner.last_stored_seq.load(Ordering::Acquire)
    }
    /// Longest encode (the core thread's pause), ns.
    pub fn encode_ns_max(&self) -> u64 {
        self.inner.encode_ns_max.load(Ordering::Relaxed)
    }
}

struct Job {
    seq: u64,
    bytes: Vec<u8>,
}

/// Takes periodic snapshots of the core a recorder journals. See the module docs.
pub struct Checkpointer {
    journal_dir: PathBuf,
    schedule: SnapshotSchedule,
    last_at: Instant,
    inputs_since: u64,
    last_input_seq: u64,
    busy: Arc<AtomicBool>,
    stats: CheckpointStats,
    jobs: Option<SyncSender<Job>>,
    writer: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// A checkpointer storing into `<journal_dir>/snapshots/` on its own writer thread.
    pub fn start(journal_dir: &Path, schedule: SnapshotSchedule) -> std::io::Result<Checkpointer> {
        let (tx, rx) = sync_channel::<Job>(1);
        let busy = Arc::new(AtomicBool::new(false));
        let stats = CheckpointStats::default();
        let writer = {
            let dir = journal_dir.to_path_buf();
            let busy = Arc::clone(&busy);
            let stats = stats.clone();
            let keep = schedule.keep;
            std::thread::Builder::new().name("keel-snapshot".into()).spawn(move || {
                for job in rx {
                    match store_snapshot(&dir, job.seq, &job.bytes) {
                        Ok(path) => {
                            stats.inner.stored.fetch_add(1, Ordering::Relaxed);
                            stats.inner.last_stored_seq.store(job.seq, Ordering::Release);
                            tracing::info!(seq = job.seq, path = %path.display(), bytes = job.bytes.len(), "snapshot stored");
                            if let Err(e) = prune_snapshots(&dir, keep) {
                                tracing::warn!("pruning old snapshots: {e}");
                            }
                        }
                        Err(e) => {
                            stats.inner.failed.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!("snapshot not stored (recovery uses an older one): {e}");
                        }
                    }
                    busy.store(false, Ordering::Release);
                }
            })?
        };
        Ok(Checkpointer {
            journal_dir: journal_dir.to_path_buf(),
            schedule,
            last_at: Instant::now(),
            inputs_since: 0,
            last_input_seq: 0,
            busy,
            stats,
            jobs: Some(tx),
            writer: Some(writer),
        })
    }

    /// Its counters.
    pub fn stats(&self) -> &CheckpointStats {
        &self.stats
    }

    /// The journal directory it stores into.
    pub fn journal_dir(&self) -> &Path {
        &self.journal_dir
    }

    /// Notes an input appended at `seq`.
    #[inline]
    pub fn on_input(&mut self, seq: u64) {
        self.inputs_since += 1;
        self.last_input_seq = seq;
    }

    /// True when a snapshot is due and the writer is free.
    #[inline]
    fn due(&self) -> bool {
        if self.inputs_since == 0 {
            return false;
        }
        let by_inputs = self.schedule.inputs.is_some_and(|n| self.inputs_since >= n);
        let by_time = self.schedule.interval.is_some_and(|t| self.last_at.elapsed() >= t);
        (by_inputs || by_time) && !self.busy.load(Ordering::Acquire)
    }

    /// Takes a snapshot of `core` if one is due: encodes it, appends the marker to
    /// `journal`, queues the file for the writer. Only a failed append is an error (the
    /// journal is then poisoned); a failed encode is counted and logged.
    pub fn after_batch(&mut self, core: &Core, journal: &mut Journal) -> Result<(), AppendError> {
        if !self.due() {
            return Ok(());
        }
        let seq = self.last_input_seq;
        let started = Instant::now();
        let encoded = encode_snapshot(seq, core, &EngineCodec);
        let encode_ns = started.elapsed().as_nanos() as u64;
        self.stats.inner.encode_ns_max.fetch_max(encode_ns, Ordering::Relaxed);
        self.last_at = Instant::now();
        self.inputs_since = 0;
        let bytes = match encoded {
            Ok(b) => b,
            Err(e) => {
                self.stats.inner.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(seq, "snapshot not taken: {e}");
                return Ok(());
            }
        };
        let mut marker = [0u8; MARKER_LEN];
        marker[..8].copy_from_slice(&seq.to_le_bytes());
        marker[8..].copy_from_slice(&core.digest().0);
        journal.append(RecordKind::SNAPSHOT_MARKER, core.now().0, &marker)?;
        self.stats.inner.taken.fetch_add(1, Ordering::Relaxed);
        self.busy.store(true, Ordering::Release);
        if let Some(tx) = &self.jobs {
            if tx.send(Job { seq, bytes }).is_err() {
                self.busy.store(false, Ordering::Release);
                self.stats.inner.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Lets the writer finish the snapshot in hand, then stops it.
    pub fn finish(&mut self) {
        self.jobs = None;
        if let Some(t) = self.writer.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Decodes a snapshot marker's payload: the snapshot's sequence and digest.
pub fn decode_marker(payload: &[u8]) -> Option<(u64, [u8; 32])> {
    if payload.len() != MARKER_LEN {
        return None;
    }
    let seq = u64::from_le_bytes(payload[..8].try_into().ok()?);
    Some((seq, payload[8..].try_into().ok()?))
}
