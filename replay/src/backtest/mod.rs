//! Backtesting on the same core (design §7): recorded market data replayed through
//! [`keel_engine::core::Core`] and a strategy, against a simulated venue that fills Keel's
//! orders from the recorded book, with latency and queue-position models. `keel backtest`
//! is the command line over this module; `docs/backtest.md` is the user's guide.
//!
//! ```text
//!  source (CSV | journal | synthetic)
//!     │ MdEvent, in recorded order
//!     ▼
//!  venue side, at exchange time ──► SimVenue: recorded book + Keel's resting orders
//!     │ feed latency                   ▲ requests          │ acks, fills, rejects
//!     ▼                                │ (request latency) ▼ (report latency)
//!  core side, at arrival time ───► Core (book, strategy, risk, orders, positions)
//! ```
//!
//! One idea per module:
//! - [`event`]: the in-memory market-data event, and its conversion to commands;
//! - [`spec`]: what a data set is about (feed, venue, instruments), exact decimal grids;
//! - [`csv`]: the documented CSV format, read as a stream, errors with line numbers;
//! - [`journal_source`]: market data from a Keel journal; [`convert`]: into one;
//! - [`source`]: the [`EventSource`] trait and in-memory events;
//! - [`sched`]: the deterministic event queue of messages in flight;
//! - [`latency`]: latency models; [`queue_model`]: queue-position models;
//! - [`venue`]: the simulated venue; [`fees`]: maker/taker fees; [`id_map`]: maps keyed by
//!   order ids, with a cheap hasher;
//! - [`config`]: settings and the core's configuration; [`runner`]: the loop;
//! - [`metrics`], [`report`], [`html`], [`svg`]: measuring and reporting;
//! - [`synth`]: the synthetic data generator; [`rng`]: its seeded generator.
//!
//! The whole run is a function of the data, the settings and the seed: no clock, no OS
//! randomness, no hash-ordered iteration. The same inputs give the same report, byte for
//! byte.

pub mod config;
pub mod convert;
pub mod csv;
pub mod event;
pub mod feed;
pub mod fees;
pub mod html;
pub mod id_map;
pub mod journal_source;
pub mod latency;
pub mod metrics;
pub mod queue_model;
pub mod report;
pub mod rng;
pub mod runner;
pub mod sched;
pub mod source;
pub mod spec;
pub mod svg;
pub mod synth;
pub mod tally;
pub mod venue;

use std::path::Path;

pub use config::{BacktestConfig, ConfigError};
pub use event::{MdEvent, MdKind};
pub use latency::LatencyModel;
pub use queue_model::QueueModel;
pub use report::{Report, SourceInfo};
pub use runner::{Backtest, BacktestError, Outcome, Progress};
pub use source::{DataError, EventSource, SliceSource};
pub use spec::DataSpec;

/// Opens market data: a CSV file, or a journal directory described by its sidecar or, for
/// a journal written by `keel serve`, by `described` (built from serve's configuration).
pub fn open_data(
    path: &Path,
    described: Option<DataSpec>,
) -> Result<(Box<dyn EventSource>, DataSpec, SourceInfo), DataError> {
    let info =
        |format: &str| SourceInfo { source: path.display().to_string(), format: format.into() };
    if path.is_dir() {
        let spec = match spec::DataSpec::read_sidecar(path) {
            Ok(Some(spec)) => spec,
            Ok(None) => described.ok_or_else(|| {
                DataError::Undescribed(format!(
                    "{}: a journal without {} needs the configuration it was written with \
                     (--config, as for keel serve)",
                    path.display(),
                    spec::SIDECAR_FILE
                ))
            })?,
            Err(e) => return Err(DataError::Undescribed(e.to_string())),
        };
        let source = journal_source::JournalSource::open(path, spec.venue())?;
        return Ok((Box::new(source), spec, info("journal")));
    }
    let source = csv::CsvSource::open(path)?;
    let spec = source.spec().clone();
    Ok((Box::new(source), spec, info("csv")))
}

/// Runs a backtest of `config` over `source` and builds its report.
pub fn run<S: EventSource + ?Sized>(
    config: &BacktestConfig,
    data: &DataSpec,
    source: &mut S,
    info: &SourceInfo,
    progress: Progress,
) -> Result<Report, BacktestError> {
    let outcome = Backtest::new(config.clone(), data)?.run(source, progress)?;
    Ok(Report::build(&outcome, config, data, info)?)
}
