//! `keel audit verify`: the journal's own checks (headers, checksums, sequence continuity,
//! the BLAKE3 seal chain) and a full replay proving every recorded output is the one the
//! core derives.

use std::path::Path;

use keel_engine::core::CoreConfig;
use keel_journal::{Inspection, inspect};

use crate::error::RecoverError;
use crate::recover::{Progress, RecoverOptions, Recovered, recover};

/// The outcome of [`verify`].
pub struct Verification {
    /// What the journal's inspection found.
    pub inspection: Inspection,
    /// The replay, or why it stopped.
    pub replay: Result<Recovered, RecoverError>,
}

impl Verification {
    /// True when the journal is intact and every output matched.
    pub fn ok(&self) -> bool {
        self.inspection.problems.is_empty()
            && matches!(&self.replay, Ok(r) if r.outputs_match() && r.unrecorded_tail.is_empty())
    }

    /// The sequence of the first problem found, when one has a sequence.
    pub fn first_problem_seq(&self) -> Option<u64> {
        match &self.replay {
            Err(e) => e.seq(),
            Ok(r) => r
                .mismatches
                .first()
                .map(|m| m.seq)
                .or_else(|| (!r.unrecorded_tail.is_empty()).then_some(r.last_seq + 1)),
        }
    }
}

/// Inspects and replays the journal at `dir` with `config` (mismatches kept: up to
/// `mismatches_max`).
pub fn verify(
    dir: &Path,
    config: &CoreConfig,
    mismatches_max: usize,
    progress: Progress,
) -> Result<Verification, keel_journal::ReadError> {
    let inspection = inspect(dir, true)?;
    let replay = recover(
        dir,
        config,
        RecoverOptions { mismatches_max, progress, ..RecoverOptions::default() },
    );
    Ok(Verification { inspection, replay })
}
