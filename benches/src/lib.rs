//! # keel-benches
//!
//! Criterion micro-benchmarks live in `benches/benches/`; this library will hold the load
//! generators behind `keel bench`.
