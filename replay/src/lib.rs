//! # keel-replay
//!
//! Recovery, audit and backtesting over the journal (design §7). [`log`] fixes how Keel's
//! commands and outputs are laid out in the journal and records a core into it.

pub mod log;
