//! Following a journal that another thread or process is writing.
//!
//! The tailer polls the next frame's length word (an Acquire load on the shared mapping,
//! coherent across processes). While nothing is there it backs off: a short spin, then
//! `yield_now`, then sleeps of `max_sleep` between polls. Every wait is bounded by the
//! caller's timeout.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::ReadError;
use crate::reader::{Reader, Record};

const SPINS: u32 = 64;
const YIELDS: u32 = 64;

/// Follows a live journal across segment rolls.
pub struct Tailer {
    reader: Reader,
    max_sleep: Duration,
}

impl Tailer {
    /// Starts at `from_seq` (which, like the journal itself, may not exist yet).
    pub fn open(dir: impl AsRef<Path>, from_seq: u64) -> Result<Tailer, ReadError> {
        let mut reader = Reader::open(dir)?;
        if reader.next_seq() < from_seq {
            match reader.seek(from_seq) {
                // No segment yet: start at the first one that appears, skipping to `from_seq`.
                Err(ReadError::NoSuchSeq(_)) if !reader.has_segment() => {
                    reader.skip_below(from_seq)
                }
                r => r?,
            }
        }
        Ok(Tailer { reader, max_sleep: Duration::from_micros(50) })
    }

    /// Sets the longest sleep between polls once spinning and yielding found nothing.
    pub fn with_max_sleep(mut self, max_sleep: Duration) -> Tailer {
        self.max_sleep = max_sleep;
        self
    }

    /// Sequence of the next record.
    pub fn next_seq(&self) -> u64 {
        self.reader.next_seq()
    }

    /// Returns the next record if it is already there.
    pub fn try_next(&mut self) -> Result<Option<Record<'_>>, ReadError> {
        self.reader.next()
    }

    /// Waits for the next record, at most `timeout`; `Err(Timeout)` after that.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Record<'_>, ReadError> {
        let deadline = Instant::now() + timeout;
        let mut idle = 0u32;
        loop {
            if let Some(l) = self.reader.advance()? {
                return Ok(self.reader.record_at(l));
            }
            if idle < SPINS {
                std::hint::spin_loop();
            } else if idle < SPINS + YIELDS {
                std::thread::yield_now();
            } else {
                let now = Instant::now();
                if now >= deadline {
                    return Err(ReadError::Timeout(timeout));
                }
                std::thread::sleep(self.max_sleep.min(deadline - now));
            }
            idle = idle.saturating_add(1);
        }
    }
}
