//! The flusher thread: msyncs what the writer appended, on an interval or on demand, and
//! publishes the durable sequence. An msync error poisons the journal.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::SyncError;
use crate::segment::Segment;

/// State shared by the writer, the flusher, the roller and durability waiters.
pub(crate) struct Shared {
    /// Last appended sequence (writer: Release after each append).
    pub appended_seq: AtomicU64,
    /// Last sequence known to be on stable storage.
    pub durable_seq: AtomicU64,
    pub poisoned: AtomicBool,
    cause: Mutex<Option<String>>,
    durable_lock: Mutex<()>,
    durable_cv: Condvar,
    req: Mutex<FlushRequest>,
    req_cv: Condvar,
    /// Segments that may hold appended but not yet msynced bytes, oldest first. The writer
    /// pushes a segment before publishing anything in it.
    pub unflushed: Mutex<Vec<Arc<Segment>>>,
    /// Test hook: make the next msync fail as if the device had.
    pub fail_next_flush: AtomicBool,
}

#[derive(Default)]
struct FlushRequest {
    sync: bool,
    shutdown: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn new(last_seq: u64) -> Shared {
        Shared {
            appended_seq: AtomicU64::new(last_seq),
            durable_seq: AtomicU64::new(last_seq),
            poisoned: AtomicBool::new(false),
            cause: Mutex::new(None),
            durable_lock: Mutex::new(()),
            durable_cv: Condvar::new(),
            req: Mutex::new(FlushRequest::default()),
            req_cv: Condvar::new(),
            unflushed: Mutex::new(Vec::new()),
            fail_next_flush: AtomicBool::new(false),
        }
    }

    /// Records the first I/O error; from now on nothing is appended or acknowledged.
    pub fn poison(&self, cause: String) {
        lock(&self.cause).get_or_insert(cause);
        self.poisoned.store(true, Ordering::SeqCst);
        let _g = lock(&self.durable_lock);
        self.durable_cv.notify_all();
    }

    pub fn cause(&self) -> String {
        lock(&self.cause).clone().unwrap_or_else(|| "unknown".into())
    }

    pub fn request_sync(&self) {
        lock(&self.req).sync = true;
        self.req_cv.notify_one();
    }

    pub fn request_shutdown(&self) {
        lock(&self.req).shutdown = true;
        self.req_cv.notify_one();
    }

    /// Blocks until `seq` is durable, the journal is poisoned, or `timeout` passes.
    pub fn wait_durable(&self, seq: u64, timeout: Duration) -> Result<(), SyncError> {
        let last = self.appended_seq.load(Ordering::Acquire);
        if seq > last {
            return Err(SyncError::NotAppended { seq, last });
        }
        let deadline = Instant::now() + timeout;
        let mut g = lock(&self.durable_lock);
        loop {
            if self.poisoned.load(Ordering::SeqCst) {
                return Err(SyncError::Poisoned { cause: self.cause() });
            }
            let durable = self.durable_seq.load(Ordering::Acquire);
            if durable >= seq {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(SyncError::Timeout { seq, durable });
            }
            g = self
                .durable_cv
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// One flush pass. Returns false once poisoned.
    pub fn flush_once(&self) -> bool {
        if self.poisoned.load(Ordering::SeqCst) {
            return false;
        }
        // Read the target first: every record <= target has its bytes and its segment's
        // `written_end` published before this Acquire load.
        let target = self.appended_seq.load(Ordering::Acquire);
        let segs: Vec<Arc<Segment>> = lock(&self.unflushed).clone();
        for seg in &segs {
            let end = seg.written_end.load(Ordering::Acquire);
            let from = seg.flushed_end.load(Ordering::Relaxed);
            if end <= from {
                continue;
            }
            let res = if self.fail_next_flush.swap(false, Ordering::SeqCst) {
                Err(std::io::Error::other("injected msync failure"))
            } else {
                seg.flush_range(from, end)
            };
            if let Err(e) = res {
                self.poison(format!("msync of {} failed: {e}", seg.path().display()));
                return false;
            }
            seg.flushed_end.store(end, Ordering::Relaxed);
        }
        if segs.len() > 1 {
            // All but the newest were complete (end marker written) before the newest was
            // pushed, so they are now fully flushed.
            lock(&self.unflushed).drain(..segs.len() - 1);
        }
        if target > self.durable_seq.load(Ordering::Relaxed) {
            let _g = lock(&self.durable_lock);
            self.durable_seq.store(target, Ordering::Release);
            self.durable_cv.notify_all();
        }
        true
    }
}

/// Body of the flusher thread.
pub(crate) fn run(shared: Arc<Shared>, interval: Duration) {
    loop {
        let shutdown = {
            let mut g = lock(&shared.req);
            if !g.sync && !g.shutdown {
                g = shared.req_cv.wait_timeout(g, interval).unwrap_or_else(|e| e.into_inner()).0;
            }
            g.sync = false;
            g.shutdown
        };
        shared.flush_once();
        if shutdown {
            return;
        }
    }
}
