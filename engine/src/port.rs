//! Ports: what the core needs from the outside, as traits the adapters implement.
//!
//! The engine depends on no other crate of Keel's; the journal, the gateways and replay
//! plug in through these traits (design §2).

use crate::core::Core;
use crate::schema::{Command, Output};

/// Where the core's inputs and outputs are recorded, in order: an input is appended
/// before it is applied, and its outputs after. Implemented over the memory-mapped journal
/// by `keel_replay::log`, and by in-memory recorders in tests.
pub trait CommandJournal {
    /// Why an append failed. After a failure nothing more may be acknowledged.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Appends an input; returns its sequence.
    fn append_input(&mut self, cmd: &Command) -> Result<u64, Self::Error>;

    /// Appends an output of the most recent input; returns its sequence.
    fn append_output(&mut self, out: &Output) -> Result<u64, Self::Error>;

    /// Called by the pipeline on the core thread between batches of commands, with the
    /// state after the outputs of the last appended input. Recorders take their periodic
    /// snapshots here; the default does nothing. Must cost next to nothing when there is
    /// nothing to do: it runs after every batch.
    fn after_batch(&mut self, core: &Core) -> Result<(), Self::Error> {
        let _ = core;
        Ok(())
    }
}

/// An in-memory journal: every record in order, for tests and backtests that need no
/// files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryJournal {
    /// The records, in append order; a record's sequence is its index + 1.
    pub records: Vec<Recorded>,
}

/// One record of a [`MemoryJournal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// An input.
    Input(Command),
    /// An output.
    Output(Output),
}

impl CommandJournal for MemoryJournal {
    type Error = std::convert::Infallible;

    fn append_input(&mut self, cmd: &Command) -> Result<u64, Self::Error> {
        self.records.push(Recorded::Input(*cmd));
        Ok(self.records.len() as u64)
    }

    fn append_output(&mut self, out: &Output) -> Result<u64, Self::Error> {
        self.records.push(Recorded::Output(*out));
        Ok(self.records.len() as u64)
    }
}
