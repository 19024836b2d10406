//! Replay's error types: one per boundary, each naming where (segment, byte offset,
//! sequence) or which record (sequence) the problem is.

use std::path::PathBuf;

use keel_engine::core::CoreConfigError;
use keel_journal::ReadError;

use crate::log::DecodeError;

/// Recovery (or a replay for a query) stopped.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    /// The journal could not be opened (missing directory, bad header, schema mismatch).
    #[error("cannot open journal {dir}: {source}")]
    Open {
        /// The journal directory.
        dir: PathBuf,
        /// What the reader found.
        #[source]
        source: ReadError,
    },
    /// A frame failed validation while reading: the error names the segment, the byte
    /// offset and the expected sequence.
    #[error("journal read failed: {0}")]
    Read(#[from] ReadError),
    /// A record's payload is not a valid command or output (its sequence is in the error).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The configuration does not build a core.
    #[error("invalid core configuration: {0}")]
    Config(#[from] CoreConfigError),
    /// The snapshot directory could not be listed.
    #[error("cannot list snapshots in {path}: {source}")]
    Snapshots {
        /// The snapshot directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl RecoverError {
    /// The journal sequence the problem is at, when there is one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            RecoverError::Read(ReadError::Corrupt { location, .. }) => Some(location.seq),
            RecoverError::Open { source: ReadError::Corrupt { location, .. }, .. } => {
                Some(location.seq)
            }
            RecoverError::Read(ReadError::NoSuchSeq(seq)) => Some(*seq),
            RecoverError::Decode(e) => Some(e.seq),
            _ => None,
        }
    }
}
