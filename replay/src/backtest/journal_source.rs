//! Market data from a Keel journal: the market-data inputs (`L2Update`, `L3*`, `Trade`,
//! `Snapshot`, `VenueStatus`) of one venue, in journal order; everything else (order
//! entry, venue reports, timers, admin, outputs) is skipped, because the backtest makes
//! its own. Records are validated (checksum, continuity, rkyv checked access) as in
//! every journal read.
//!
//! The events' `local_ts` is the command's ingress time and `exchange_ts` the venue's
//! time the command carries.

use std::path::Path;

use keel_engine::VenueId;
use keel_engine::schema::SCHEMA_HASH;
use keel_journal::{Reader, RecordKind};

use super::event::MdEvent;
use super::source::{DataError, EventSource, SourceProgress};
use crate::log::{Entry, decode};

/// Reads one venue's market data from a journal directory.
pub struct JournalSource {
    reader: Reader,
    origin: String,
    venue: VenueId,
    events: u64,
    total_estimate: Option<u64>,
    other_venue: u64,
}

impl JournalSource {
    /// Opens `dir` for the market data of `venue`.
    pub fn open(dir: &Path, venue: VenueId) -> Result<Self, DataError> {
        let origin = dir.display().to_string();
        let reader = Reader::open_with_schema(dir, SCHEMA_HASH)
            .map_err(|e| DataError::Journal { origin: origin.clone(), problem: e.to_string() })?;
        // A converted journal's sidecar knows its size in events; records of other kinds
        // make the count approximate for journals written by keel serve, which have none.
        let total_estimate = super::spec::DataSpec::read_sidecar_with_events(dir)
            .ok()
            .flatten()
            .and_then(|(_, events)| events);
        Ok(JournalSource { reader, origin, venue, events: 0, total_estimate, other_venue: 0 })
    }

    /// Market-data commands of other venues that were skipped.
    pub fn other_venue_events(&self) -> u64 {
        self.other_venue
    }
}

impl EventSource for JournalSource {
    fn next_event(&mut self) -> Result<Option<MdEvent>, DataError> {
        loop {
            let record = self.reader.next().map_err(|e| DataError::Journal {
                origin: self.origin.clone(),
                problem: e.to_string(),
            })?;
            let Some(record) = record else { return Ok(None) };
            if record.kind != RecordKind::INPUT {
                continue;
            }
            let entry = decode(&record).map_err(|e| DataError::Journal {
                origin: self.origin.clone(),
                problem: e.to_string(),
            })?;
            let Entry::Input { cmd, .. } = entry else { continue };
            match MdEvent::from_command(cmd.ts, &cmd.body) {
                Some((venue, e)) if venue == self.venue => {
                    self.events += 1;
                    return Ok(Some(e));
                }
                Some(_) => self.other_venue += 1,
                None => {}
            }
        }
    }

    fn progress(&self) -> SourceProgress {
        SourceProgress { done: self.events, total: self.total_estimate }
    }

    fn unit(&self) -> &'static str {
        "events"
    }

    fn skipped(&self) -> u64 {
        self.other_venue
    }
}
