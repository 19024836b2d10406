//! # keel-replay
//!
//! Recovery, audit and backtesting over the journal (design §7).
