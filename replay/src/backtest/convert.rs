//! `keel backtest convert`: market data into a Keel journal, for fast repeated runs.
//!
//! Each event becomes the market-data command the core takes, appended as an `INPUT`
//! record stamped with the event's `local_ts` (as a gateway stamps ingress) on the venue
//! session, so the journal replays through [`super::journal_source`] exactly as the CSV
//! did. The data's description goes beside the segments in
//! [`SIDECAR_FILE`](super::spec::SIDECAR_FILE). Reading a journal skips CSV parsing and
//! decimal conversion; every record is still checksummed and validated.

use std::path::Path;

use keel_engine::TimestampNs;
use keel_engine::schema::Command;
use keel_journal::{Config, Journal, RecordKind};

use super::config::VENUE_SESSION;
use super::source::{DataError, EventSource};
use super::spec::DataSpec;
use crate::log::journal_config;

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The input could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The output directory is not empty.
    #[error("{0}: the output directory must not exist or be empty")]
    NotEmpty(String),
    /// The journal could not be written.
    #[error("{path}: {problem}")]
    Journal {
        /// The output directory.
        path: String,
        /// What went wrong.
        problem: String,
    },
}

/// Writes every event of `source` into a new journal at `out`, then `spec` (with the event
/// count) beside it.
/// Returns the number of events written.
pub fn to_journal<S: EventSource + ?Sized>(
    source: &mut S,
    spec: &DataSpec,
    out: &Path,
    mut progress: impl FnMut(u64),
) -> Result<u64, ConvertError> {
    let path = out.display().to_string();
    let fail = |problem: String| ConvertError::Journal { path: path.clone(), problem };
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(|e| fail(e.to_string()))?;
        if entries.next().is_some() {
            return Err(ConvertError::NotEmpty(path.clone()));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| fail(e.to_string()))?;
    let mut journal =
        Journal::open(out, journal_config(Config::default())).map_err(|e| fail(e.to_string()))?;
    let venue = spec.venue();
    let mut n = 0u64;
    while let Some(e) = source.next_event()? {
        let cmd = Command {
            ts: TimestampNs(e.local_ts.0),
            session: VENUE_SESSION,
            body: e.to_body(venue),
        };
        journal
            .append_archived(RecordKind::INPUT, cmd.ts.0, &cmd)
            .map_err(|e| fail(e.to_string()))?;
        n += 1;
        if n & 0xffff == 0 {
            progress(n);
        }
    }
    journal.close().map_err(|e| fail(e.to_string()))?;
    // Last: a directory without its description is not mistaken for a finished conversion.
    spec.write_sidecar(out, Some(n)).map_err(|e| fail(e.to_string()))?;
    Ok(n)
}
