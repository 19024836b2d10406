//! The roller thread: keeps a queue of preallocated, pre-faulted spare segments ready for
//! the writer, gives a taken segment its final name, and seals full segments into the
//! manifest.
//!
//! # Contract
//! * [`Journal::open`](crate::Journal::open) returns with `spare` segments queued; after
//!   that the writer never prepares a segment (no `fallocate`, no pre-fault): it only
//!   takes one from the queue. If the queue is empty it waits, and [`Roller::stalls`]
//!   counts it.
//! * The writer never wakes this thread (a futex wake is a syscall): it leaves commands in
//!   a mailbox that the roller polls every `poll` interval. With `spare` segments queued, a
//!   roll finds one ready even if the roller only notices the previous roll `poll` later.
//! * Preparing comes first: whenever fewer than `spare` segments are queued the roller
//!   prepares one before doing anything else. Sealing (msync, BLAKE3 over the used bytes,
//!   manifest append) is split into steps of [`SEAL_STEP_BYTES`] so a roll that happens
//!   while a 64 MiB segment is being hashed waits for at most one step, not the whole hash.
//!   Seals still complete in segment order (each digest chains to the previous one).
//! * On shutdown every pending seal is completed, and the spare segments (still under
//!   their `prealloc-*.tmp` names) are removed.
//! * An I/O error poisons the journal, and the seals still pending are dropped (after a
//!   failed seal the chain would be broken): the next open reseals those segments.
//!
//! Why the order matters: on the 2-core VM of `docs/benchmarks.md` preparing a segment on
//! tmpfs (`fallocate` + `MADV_POPULATE_WRITE`, mostly the kernel zeroing fresh pages)
//! costs about 0.7–1.4 ms per MiB and hashing it 0.45–0.7 ms per MiB, so a roller that
//! seals before preparing needs more than a core to keep up with a writer at 800 MB/s;
//! one that prepares first lets the seals lag during a burst and catch up afterwards (at
//! the latest in `close`).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::AppendError;
use crate::flusher::Shared;
use crate::manifest::{Digest, ManifestWriter, SealEntry};
use crate::segment::{Segment, fsync_dir, segment_file_name};

/// Bytes of a sealed segment hashed per step of the roller's loop (about half a
/// millisecond of BLAKE3 on this class of machine).
pub(crate) const SEAL_STEP_BYTES: usize = 1 << 20;

pub(crate) enum Command {
    /// Rename a taken prepared segment to its final name and fsync the directory.
    Activate { from: PathBuf, first_seq: u64 },
    /// msync a sealed segment, chain its digest and append it to the manifest.
    Seal { seg: Arc<Segment>, first_seq: u64, last_seq: u64, used: usize },
}

struct Mailbox {
    /// Spare segments, oldest first; at most `spare`.
    prepared: VecDeque<Segment>,
    commands: Vec<Command>,
    shutdown: bool,
    failed: Option<String>,
}

pub(crate) struct Roller {
    mailbox: Mutex<Mailbox>,
    cv: Condvar,
    dir: PathBuf,
    segment_size: usize,
    /// How many prepared segments to keep queued.
    spare: usize,
    next_tmp: AtomicU64,
    /// Times the writer had to wait for a prepared segment.
    pub stalls: AtomicU64,
    /// Nanoseconds the writer spent waiting in those stalls.
    stall_ns: AtomicU64,
    prepared: AtomicU64,
    prepare_ns: AtomicU64,
    sealed: AtomicU64,
    seal_ns: AtomicU64,
}

/// What the roller has done since open: how long preparing and sealing a segment takes on
/// this machine, and how long the writer waited for it. Preparing must keep up with the
/// writer (`segment_size / prepare time` against the writer's bytes per second); sealing
/// may lag during a burst.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RollerStats {
    /// Segments prepared (including those `open` prepared).
    pub segments_prepared: u64,
    /// Wall time spent preparing them, ns (create, `fallocate`, pre-fault, dir fsync).
    pub prepare_ns_total: u64,
    /// Segments sealed into the manifest.
    pub segments_sealed: u64,
    /// Wall time spent sealing them, ns (msync, BLAKE3, manifest append; summed over the
    /// steps, so time spent preparing in between is not counted).
    pub seal_ns_total: u64,
    /// Rolls that found no spare segment and waited.
    pub roll_stalls: u64,
    /// Wall time the writer waited in those rolls, ns.
    pub roll_stall_ns_total: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Name of a prepared-but-unused segment file.
pub(crate) fn is_prealloc_name(name: &str) -> bool {
    name.starts_with("prealloc-") && name.ends_with(".tmp")
}

impl Roller {
    /// A roller for `dir` that keeps `spare` (at least 1) segments of `segment_size` ready.
    pub fn new(dir: &Path, segment_size: usize, spare: usize) -> Roller {
        debug_assert!(spare >= 1);
        Roller {
            mailbox: Mutex::new(Mailbox {
                prepared: VecDeque::with_capacity(spare),
                commands: Vec::with_capacity(16),
                shutdown: false,
                failed: None,
            }),
            cv: Condvar::new(),
            dir: dir.to_path_buf(),
            segment_size,
            spare,
            next_tmp: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            stall_ns: AtomicU64::new(0),
            prepared: AtomicU64::new(0),
            prepare_ns: AtomicU64::new(0),
            sealed: AtomicU64::new(0),
            seal_ns: AtomicU64::new(0),
        }
    }

    /// Creates a fresh preallocated segment file under a temporary name.
    pub fn prepare(&self) -> std::io::Result<Segment> {
        let t = Instant::now();
        let n = self.next_tmp.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("prealloc-{}-{n}.tmp", std::process::id()));
        let seg = Segment::create_preallocated(&path, self.segment_size)?;
        fsync_dir(&self.dir)?;
        self.prepared.fetch_add(1, Ordering::Relaxed);
        self.prepare_ns.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        Ok(seg)
    }

    pub fn stats(&self) -> RollerStats {
        RollerStats {
            segments_prepared: self.prepared.load(Ordering::Relaxed),
            prepare_ns_total: self.prepare_ns.load(Ordering::Relaxed),
            segments_sealed: self.sealed.load(Ordering::Relaxed),
            seal_ns_total: self.seal_ns.load(Ordering::Relaxed),
            roll_stalls: self.stalls.load(Ordering::Relaxed),
            roll_stall_ns_total: self.stall_ns.load(Ordering::Relaxed),
        }
    }

    /// Prepares segments until `spare` are queued (on the calling thread: for `open`, so a
    /// journal starts with its spares ready).
    pub fn fill_spares(&self) -> std::io::Result<()> {
        while lock(&self.mailbox).prepared.len() < self.spare {
            let seg = self.prepare()?;
            lock(&self.mailbox).prepared.push_back(seg);
        }
        Ok(())
    }

    /// Takes the oldest prepared segment, waiting for one if none is ready (the cold path
    /// of a roll; counted in `stalls`).
    pub fn take_prepared(&self) -> Result<Segment, AppendError> {
        let mut g = lock(&self.mailbox);
        if let Some(seg) = g.prepared.pop_front() {
            return Ok(seg);
        }
        let t = Instant::now();
        self.stalls.fetch_add(1, Ordering::Relaxed);
        self.cv.notify_all();
        loop {
            if let Some(seg) = g.prepared.pop_front() {
                self.stall_ns.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                return Ok(seg);
            }
            if g.failed.is_some() || g.shutdown {
                return Err(AppendError::PreparerGone);
            }
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Prepared segments queued right now.
    pub fn spare_ready(&self) -> usize {
        lock(&self.mailbox).prepared.len()
    }

    pub fn push(&self, a: Command, b: Option<Command>) {
        let mut g = lock(&self.mailbox);
        g.commands.push(a);
        g.commands.extend(b);
    }

    pub fn shutdown(&self) {
        lock(&self.mailbox).shutdown = true;
        self.cv.notify_all();
    }

    fn fail(&self, shared: &Shared, msg: String) {
        shared.poison(msg.clone());
        lock(&self.mailbox).failed.get_or_insert(msg);
        self.cv.notify_all();
    }

    fn activate(&self, from: &Path, first_seq: u64) -> Result<(), String> {
        let to = self.dir.join(segment_file_name(first_seq));
        std::fs::rename(from, &to)
            .and_then(|()| fsync_dir(&self.dir))
            .map_err(|e| format!("activating segment {}: {e}", to.display()))
    }
}

/// A seal in progress: msync and BLAKE3 over `[0, used)` (chained to the previous
/// digest), a step at a time, then the manifest entry.
struct SealJob {
    seg: Arc<Segment>,
    first_seq: u64,
    last_seq: u64,
    used: usize,
    /// Started (previous digest fed) once the job is at the front.
    hasher: Option<blake3::Hasher>,
    hashed: usize,
    /// Time spent on this job so far (for [`RollerStats`]).
    ns: u64,
}

impl SealJob {
    /// Does up to `budget` bytes of hashing. Returns the finished entry when the whole
    /// segment is hashed. Equal to [`crate::manifest::chain_digest`] (BLAKE3 hashes the
    /// same bytes in any split).
    fn step(&mut self, chain: &Digest, budget: usize) -> Result<Option<SealEntry>, String> {
        let h = self.hasher.get_or_insert_with(|| {
            let mut h = blake3::Hasher::new();
            h.update(chain);
            h
        });
        let end = self.used.min(self.hashed.saturating_add(budget));
        // msync step by step too (on a disk, writing back a whole segment at once could
        // keep the roller from refilling the spares for a long time). The manifest entry
        // is only written once every step is done.
        self.seg
            .flush_range(self.hashed, end)
            .map_err(|e| format!("msync of sealed segment {}: {e}", self.first_seq))?;
        h.update(self.seg.bytes(self.hashed, end - self.hashed));
        self.hashed = end;
        if self.hashed < self.used {
            return Ok(None);
        }
        Ok(Some(SealEntry {
            first_seq: self.first_seq,
            last_seq: self.last_seq,
            used_bytes: self.used as u64,
            prev: *chain,
            digest: *h.finalize().as_bytes(),
        }))
    }
}

/// Body of the roller thread.
pub(crate) fn run(
    roller: Arc<Roller>,
    shared: Arc<Shared>,
    mut chain: Digest,
    mut manifest: ManifestWriter,
    poll: Duration,
) {
    let mut seals: VecDeque<SealJob> = VecDeque::with_capacity(4);
    loop {
        let (commands, need_prepare, shutdown, failed) = {
            let mut g = lock(&roller.mailbox);
            let full = g.prepared.len() >= roller.spare || g.failed.is_some();
            if g.commands.is_empty() && seals.is_empty() && full && !g.shutdown {
                g = roller.cv.wait_timeout(g, poll).unwrap_or_else(|e| e.into_inner()).0;
            }
            let commands = std::mem::take(&mut g.commands);
            let need_prepare = g.prepared.len() < roller.spare && g.failed.is_none() && !g.shutdown;
            (commands, need_prepare, g.shutdown, g.failed.is_some())
        };
        for cmd in commands {
            match cmd {
                // Cheap (a rename and a directory fsync), and the writer is already
                // writing into the file: do it now.
                Command::Activate { from, first_seq } => {
                    if let Err(e) = roller.activate(&from, first_seq) {
                        roller.fail(&shared, e);
                    }
                }
                Command::Seal { seg, first_seq, last_seq, used } => seals.push_back(SealJob {
                    seg,
                    first_seq,
                    last_seq,
                    used,
                    hasher: None,
                    hashed: 0,
                    ns: 0,
                }),
            }
        }
        if need_prepare {
            match roller.prepare() {
                Ok(seg) => {
                    lock(&roller.mailbox).prepared.push_back(seg);
                    roller.cv.notify_all();
                }
                Err(e) => roller
                    .fail(&shared, format!("preparing a segment in {}: {e}", roller.dir.display())),
            }
            // Look at the mailbox again before any seal work: more may be needed.
            continue;
        }
        if failed {
            // A failed seal or activation breaks the chain or the directory: the next
            // open reseals what is left.
            seals.clear();
        }
        if let Some(job) = seals.front_mut() {
            let budget = if shutdown { usize::MAX } else { SEAL_STEP_BYTES };
            let t = Instant::now();
            let res = job.step(&chain, budget);
            job.ns += t.elapsed().as_nanos() as u64;
            match res {
                Ok(None) => {}
                Ok(Some(entry)) => {
                    let mut job = seals.pop_front().expect("the front job");
                    let t = Instant::now();
                    let res = manifest.append(&entry);
                    job.ns += t.elapsed().as_nanos() as u64;
                    match res {
                        Ok(()) => {
                            chain = entry.digest;
                            roller.sealed.fetch_add(1, Ordering::Relaxed);
                            roller.seal_ns.fetch_add(job.ns, Ordering::Relaxed);
                        }
                        Err(e) => roller.fail(
                            &shared,
                            format!("appending to {}: {e}", manifest.path().display()),
                        ),
                    }
                }
                Err(e) => roller.fail(&shared, e),
            }
            continue;
        }
        if shutdown {
            let spares = std::mem::take(&mut lock(&roller.mailbox).prepared);
            for seg in spares {
                let _ = std::fs::remove_file(seg.path());
            }
            return;
        }
    }
}
