//! The audit queries behind `keel audit orders|positions|risk|book`: each builds rows
//! (plain serde structs) from the journal, and [`render`] prints them as a table, JSON
//! lines or CSV.

pub mod book;
pub mod orders;
pub mod positions;
pub mod risk;

use std::io::Write;

use keel_engine::core::CoreConfig;
use keel_engine::{Instrument, InstrumentId, VenueId};
use serde::Serialize;

use crate::format::table;

/// How rows are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Aligned plain-text columns with a header row.
    #[default]
    Table,
    /// One JSON object per line.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Writing failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    /// Serializing a row failed.
    #[error("serializing a row failed: {0}")]
    Csv(#[from] csv::Error),
    /// Serializing a row failed.
    #[error("serializing a row failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// Prints `rows` in `format`. Columns are the struct's fields, in order; `None` is an
/// empty cell (table, CSV) or `null` (JSON).
pub fn render<T: Serialize>(
    rows: &[T],
    format: Format,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    match format {
        Format::Json => {
            for r in rows {
                serde_json::to_writer(&mut *w, r)?;
                w.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let mut c = csv::Writer::from_writer(&mut *w);
            for r in rows {
                c.serialize(r)?;
            }
            c.flush()?;
        }
        Format::Table => {
            // The CSV serializer knows the column names; reuse it, then align.
            let mut buf = Vec::new();
            {
                let mut c = csv::Writer::from_writer(&mut buf);
                for r in rows {
                    c.serialize(r)?;
                }
                c.flush()?;
            }
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(&buf[..]);
            let mut all: Vec<Vec<String>> = Vec::new();
            for rec in rdr.records() {
                all.push(rec?.iter().map(|s| s.replace('\n', " ")).collect());
            }
            if all.is_empty() {
                writeln!(w, "(no rows)")?;
                return Ok(());
            }
            let header = all.remove(0);
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            w.write_all(table(&header, &all).as_bytes())?;
        }
    }
    Ok(())
}

/// Names of instruments and venues from a configuration.
pub struct Names<'a> {
    config: &'a CoreConfig,
}

impl<'a> Names<'a> {
    /// Names from `config`.
    pub fn new(config: &'a CoreConfig) -> Self {
        Names { config }
    }

    /// An instrument by id.
    pub fn instrument(&self, id: InstrumentId) -> Option<&'a Instrument> {
        self.config.instruments.iter().find(|i| i.id == id)
    }

    /// An instrument's symbol, or its number when unknown.
    pub fn symbol(&self, id: InstrumentId) -> String {
        self.instrument(id).map_or_else(|| id.to_string(), |i| i.symbol.clone())
    }

    /// A venue's name, or its number when unknown.
    pub fn venue(&self, id: VenueId) -> String {
        self.config
            .venues
            .iter()
            .find(|v| v.id == id)
            .map_or_else(|| id.to_string(), |v| v.name.clone())
    }

    /// Resolves an instrument given as a symbol or a number.
    pub fn find_instrument(&self, s: &str) -> Result<InstrumentId, String> {
        if let Some(i) = self.config.instruments.iter().find(|i| i.symbol == s) {
            return Ok(i.id);
        }
        s.parse::<u32>()
            .ok()
            .map(InstrumentId)
            .filter(|id| self.instrument(*id).is_some())
            .ok_or_else(|| format!("unknown instrument {s:?}"))
    }

    /// Resolves a venue given as a name or a number.
    pub fn find_venue(&self, s: &str) -> Result<VenueId, String> {
        if let Some(v) = self.config.venues.iter().find(|v| v.name == s) {
            return Ok(v.id);
        }
        s.parse::<u16>()
            .ok()
            .map(VenueId)
            .filter(|id| self.config.venues.iter().any(|v| v.id == *id))
            .ok_or_else(|| format!("unknown venue {s:?}"))
    }

    /// A price in ticks as a decimal string at the instrument's precision.
    pub fn price(&self, i: InstrumentId, p: keel_engine::Price) -> String {
        self.instrument(i).map_or_else(|| p.0.to_string(), |x| x.price_to_decimal(p).to_string())
    }

    /// A quantity in lots as a decimal string at the instrument's precision.
    pub fn qty(&self, i: InstrumentId, q: keel_engine::Qty) -> String {
        self.instrument(i).map_or_else(|| q.0.to_string(), |x| x.qty_to_decimal(q).to_string())
    }

    /// A notional in ticks·lots as a decimal string.
    pub fn notional(&self, i: InstrumentId, n: i128) -> String {
        self.instrument(i).map_or_else(|| n.to_string(), |x| x.notional_to_decimal(n).to_string())
    }
}

/// A journal read error or a decode error while scanning.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Opening or reading the journal failed.
    #[error(transparent)]
    Recover(#[from] crate::error::RecoverError),
    /// A filter names something the configuration does not have.
    #[error("{0}")]
    Filter(String),
}

impl From<keel_journal::ReadError> for ScanError {
    fn from(e: keel_journal::ReadError) -> Self {
        ScanError::Recover(e.into())
    }
}

impl From<crate::log::DecodeError> for ScanError {
    fn from(e: crate::log::DecodeError) -> Self {
        ScanError::Recover(e.into())
    }
}

/// Opens a schema-checked reader.
pub(crate) fn open_reader(dir: &std::path::Path) -> Result<keel_journal::Reader, ScanError> {
    keel_journal::Reader::open_with_schema(dir, keel_engine::schema::SCHEMA_HASH).map_err(
        |source| {
            ScanError::Recover(crate::error::RecoverError::Open { dir: dir.to_path_buf(), source })
        },
    )
}
