//! The deterministic core (design §3, §4).
pub mod market;
pub mod sessions;
