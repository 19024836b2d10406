//! # keel-gateways
//!
//! Adapters between Keel's core and the outside world (design §6).
