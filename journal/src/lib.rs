//! # keel-journal
//!
//! The memory-mapped, segmented, checksummed append-only log (design §5). It knows bytes,
//! records and files, not trading.
