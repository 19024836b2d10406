//! The roller thread: keeps one preallocated, pre-faulted segment ready for the writer,
//! gives a taken segment its final name, and seals full segments into the manifest.
//!
//! The writer never wakes this thread (a futex wake is a syscall): it leaves commands in
//! a mailbox that the roller polls every `poll` interval. It only blocks on the roller
//! when the prepared segment is not ready yet, which the stall counter reports.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::AppendError;
use crate::flusher::Shared;
use crate::manifest::{Digest, ManifestWriter, SealEntry, chain_digest};
use crate::segment::{Segment, fsync_dir, segment_file_name};

pub(crate) enum Command {
    /// Rename a taken prepared segment to its final name and fsync the directory.
    Activate { from: PathBuf, first_seq: u64 },
    /// msync a sealed segment, chain its digest and append it to the manifest.
    Seal { seg: Arc<Segment>, first_seq: u64, last_seq: u64, used: usize },
}

struct Mailbox {
    prepared: Option<Segment>,
    commands: Vec<Command>,
    shutdown: bool,
    failed: Option<String>,
}

pub(crate) struct Roller {
    mailbox: Mutex<Mailbox>,
    cv: Condvar,
    dir: PathBuf,
    segment_size: usize,
    next_tmp: AtomicU64,
    /// Times the writer had to wait for a prepared segment.
    pub stalls: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Name of a prepared-but-unused segment file.
pub(crate) fn is_prealloc_name(name: &str) -> bool {
    name.starts_with("prealloc-") && name.ends_with(".tmp")
}

impl Roller {
    pub fn new(dir: &Path, segment_size: usize) -> Roller {
        Roller {
            mailbox: Mutex::new(Mailbox {
                prepared: None,
                commands: Vec::with_capacity(16),
                shutdown: false,
                failed: None,
            }),
            cv: Condvar::new(),
            dir: dir.to_path_buf(),
            segment_size,
            next_tmp: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
        }
    }

    /// Creates a fresh preallocated segment file under a temporary name.
    pub fn prepare(&self) -> std::io::Result<Segment> {
        let n = self.next_tmp.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("prealloc-{}-{n}.tmp", std::process::id()));
        let seg = Segment::create_preallocated(&path, self.segment_size)?;
        fsync_dir(&self.dir)?;
        Ok(seg)
    }

    /// Takes the prepared segment, waiting for it if needed (the cold path of a roll).
    pub fn take_prepared(&self) -> Result<Segment, AppendError> {
        let mut g = lock(&self.mailbox);
        if g.prepared.is_none() {
            self.stalls.fetch_add(1, Ordering::Relaxed);
            self.cv.notify_all();
        }
        loop {
            if let Some(seg) = g.prepared.take() {
                return Ok(seg);
            }
            if g.failed.is_some() || g.shutdown {
                return Err(AppendError::PreparerGone);
            }
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
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

    fn execute(
        &self,
        cmd: Command,
        chain: &mut Digest,
        manifest: &mut ManifestWriter,
    ) -> Result<(), String> {
        match cmd {
            Command::Activate { from, first_seq } => {
                let to = self.dir.join(segment_file_name(first_seq));
                std::fs::rename(&from, &to)
                    .and_then(|()| fsync_dir(&self.dir))
                    .map_err(|e| format!("activating segment {}: {e}", to.display()))
            }
            Command::Seal { seg, first_seq, last_seq, used } => {
                seg.flush_range(0, used)
                    .map_err(|e| format!("msync of sealed segment {first_seq}: {e}"))?;
                let digest = chain_digest(chain, &seg, used);
                let entry = SealEntry {
                    first_seq,
                    last_seq,
                    used_bytes: used as u64,
                    prev: *chain,
                    digest,
                };
                manifest
                    .append(&entry)
                    .map_err(|e| format!("appending to {}: {e}", manifest.path().display()))?;
                *chain = digest;
                Ok(())
            }
        }
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
    loop {
        let (commands, need_prepare, shutdown) = {
            let mut g = lock(&roller.mailbox);
            if g.commands.is_empty() && (g.prepared.is_some() || g.failed.is_some()) && !g.shutdown
            {
                g = roller.cv.wait_timeout(g, poll).unwrap_or_else(|e| e.into_inner()).0;
            }
            let commands = std::mem::take(&mut g.commands);
            (commands, g.prepared.is_none() && g.failed.is_none() && !g.shutdown, g.shutdown)
        };
        for cmd in commands {
            if let Err(e) = roller.execute(cmd, &mut chain, &mut manifest) {
                shared.poison(e.clone());
                lock(&roller.mailbox).failed = Some(e);
                roller.cv.notify_all();
            }
        }
        if need_prepare {
            let res = roller.prepare();
            let mut g = lock(&roller.mailbox);
            match res {
                Ok(seg) => g.prepared = Some(seg),
                Err(e) => {
                    let msg = format!("preparing a segment in {}: {e}", roller.dir.display());
                    shared.poison(msg.clone());
                    g.failed = Some(msg);
                }
            }
            roller.cv.notify_all();
        }
        if shutdown {
            if let Some(seg) = lock(&roller.mailbox).prepared.take() {
                let _ = std::fs::remove_file(seg.path());
            }
            return;
        }
    }
}
