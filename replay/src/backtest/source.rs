//! Where market data comes from: anything that yields [`MdEvent`]s in recorded order.
//!
//! Sources stream: a CSV file or a journal is read as the backtest goes, never loaded
//! whole. [`SliceSource`] serves events already in memory (the synthetic generator's
//! output, or a data set pre-decoded for repeated runs and benchmarks).

use super::event::MdEvent;

/// Why market data could not be read. Every variant names where the problem is.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// What was being read.
        path: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV preamble (directives and column header) is not valid.
    #[error("{origin}:{line}: {problem}")]
    Preamble {
        /// File name.
        origin: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// A data row is not valid.
    #[error("{origin}:{line}: {problem}")]
    Row {
        /// File name.
        origin: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// A journal record could not be read or decoded.
    #[error("{origin}: {problem}")]
    Journal {
        /// Journal directory.
        origin: String,
        /// What went wrong, with the record's sequence when known.
        problem: String,
    },
    /// The data does not describe itself and nothing else describes it.
    #[error("{0}")]
    Undescribed(String),
}

/// How far a source has got, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceProgress {
    /// Units consumed so far.
    pub done: u64,
    /// Units in all, when known.
    pub total: Option<u64>,
}

/// A stream of recorded market-data events, in the order they were recorded.
pub trait EventSource {
    /// The next event, or `None` at the end of the data.
    fn next_event(&mut self) -> Result<Option<MdEvent>, DataError>;

    /// The next event written into `out`; `false` at the end of the data (`out` is then
    /// unspecified). The hot loop's form: no `Option` around the event to copy.
    #[inline]
    fn next_into(&mut self, out: &mut MdEvent) -> Result<bool, DataError> {
        match self.next_event()? {
            Some(e) => {
                *out = e;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Progress in the source's own unit ([`EventSource::unit`]).
    fn progress(&self) -> SourceProgress;

    /// What [`EventSource::progress`] counts (`bytes`, `records`, `events`).
    fn unit(&self) -> &'static str;

    /// Events the source read but did not pass on (e.g. commands of another venue in a
    /// journal), so a report can say that nothing was silently lost.
    fn skipped(&self) -> u64 {
        0
    }
}

/// Events already in memory.
#[derive(Clone, Debug)]
pub struct SliceSource<'a> {
    events: &'a [MdEvent],
    pos: usize,
}

impl<'a> SliceSource<'a> {
    /// Serves `events` in order.
    pub fn new(events: &'a [MdEvent]) -> Self {
        SliceSource { events, pos: 0 }
    }
}

impl EventSource for SliceSource<'_> {
    #[inline]
    fn next_event(&mut self) -> Result<Option<MdEvent>, DataError> {
        let e = self.events.get(self.pos).copied();
        self.pos += 1;
        Ok(e)
    }

    #[inline]
    fn next_into(&mut self, out: &mut MdEvent) -> Result<bool, DataError> {
        match self.events.get(self.pos) {
            Some(e) => {
                *out = *e;
                self.pos += 1;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn progress(&self) -> SourceProgress {
        SourceProgress {
            done: self.pos.min(self.events.len()) as u64,
            total: Some(self.events.len() as u64),
        }
    }

    fn unit(&self) -> &'static str {
        "events"
    }
}
