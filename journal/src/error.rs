//! One precise error type per boundary: opening (and recovering), appending, waiting for
//! durability, reading, and closing.

use std::io;
use std::path::PathBuf;

use crate::layout::HeaderProblem;

/// Where in the log a problem was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub segment: PathBuf,
    /// Byte offset of the frame inside the segment file.
    pub offset: u64,
    /// The sequence number expected at that frame.
    pub seq: u64,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at byte offset {} (expected seq {})",
            self.segment.display(),
            self.offset,
            self.seq
        )
    }
}

/// Opening a journal for writing (including recovery) failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("journal {0} is locked by another writer")]
    Locked(PathBuf),
    #[error("bad segment header in {path}: {problem}")]
    BadHeader { path: PathBuf, problem: HeaderProblem },
    #[error(
        "schema hash mismatch in {path}: journal has {found:#018x}, caller expects {expected:#018x}"
    )]
    SchemaMismatch { path: PathBuf, expected: u64, found: u64 },
    #[error("segment {path}: {what}")]
    BadSegment { path: PathBuf, what: String },
    #[error("missing segment: expected a segment starting at seq {expected_seq}, found {found}")]
    MissingSegment { expected_seq: u64, found: String },
    #[error("corruption in {location}: {reason}")]
    Corrupt { location: Location, reason: String },
    #[error("manifest {path}: {what}")]
    Manifest { path: PathBuf, what: String },
}

/// An append was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error(
        "the journal is poisoned by an earlier I/O error ({cause}); nothing is appended after it"
    )]
    Poisoned { cause: String },
    #[error(
        "record of {payload_len} bytes exceeds the maximum of {max} bytes for this segment size"
    )]
    TooLarge { payload_len: usize, max: usize },
    #[error("record kind {0} is reserved")]
    ReservedKind(u16),
    #[error("serialization failed: {0}")]
    Serialize(String),
    #[error("the background segment preparer stopped")]
    PreparerGone,
}

/// Waiting for durability failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "the journal is poisoned by an I/O error ({cause}); the durable sequence will not advance"
    )]
    Poisoned { cause: String },
    #[error("timed out waiting for seq {seq} to become durable (durable: {durable})")]
    Timeout { seq: u64, durable: u64 },
    #[error("seq {seq} has not been appended (last appended: {last})")]
    NotAppended { seq: u64, last: u64 },
}

/// Reading or tailing failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("bad segment header in {path}: {problem}")]
    BadHeader { path: PathBuf, problem: HeaderProblem },
    #[error(
        "schema hash mismatch in {path}: journal has {found:#018x}, caller expects {expected:#018x}"
    )]
    SchemaMismatch { path: PathBuf, expected: u64, found: u64 },
    #[error("corruption in {location}: {reason}")]
    Corrupt { location: Location, reason: String },
    #[error("no segment holds seq {0}")]
    NoSuchSeq(u64),
    #[error("timed out after {0:?} waiting for the next record")]
    Timeout(std::time::Duration),
}

/// Closing failed; the journal may not be sealed or durable.
#[derive(Debug, thiserror::Error)]
pub enum CloseError {
    #[error("the journal is poisoned: {cause}")]
    Poisoned { cause: String },
    #[error("background thread panicked")]
    ThreadPanicked,
}
