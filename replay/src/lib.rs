//! # keel-replay
//!
//! Recovery, audit and backtesting over the journal (design §7).
//!
//! * [`log`] fixes how Keel's commands and outputs are laid out in the journal and records
//!   a core into it.
//! * [`recover()`] rebuilds a core from a journal (from the newest valid [`snapshot`] when
//!   given a codec), re-deriving every output and comparing it with the recorded one.
//! * [`checkpoint`] takes periodic snapshots of a live core (for `keel serve`) without
//!   making the core thread wait for the disk.
//! * [`verify()`] adds the journal's own checks (checksums, continuity, seal chain).
//! * [`fixed`] is the one-pass checked access replay decodes every record with.
//! * [`query`] answers `keel audit orders|positions|risk|book`; [`format`] renders.
//! * [`backtest`] replays market data through the core and a strategy against a simulated
//!   venue (`keel backtest`).

pub mod backtest;
pub mod checkpoint;
pub mod error;
pub mod fixed;
pub mod format;
pub mod in_place;
pub mod log;
pub mod query;
pub mod recover;
pub mod snapshot;
pub mod verify;

pub use error::RecoverError;
pub use recover::{
    Counts, Mismatch, Progress, RecoverOptions, Recovered, SnapshotUsed, Until, recover,
};
pub use snapshot::{EngineCodec, SnapshotCodec, write_snapshot};
pub use verify::{Verification, verify};
