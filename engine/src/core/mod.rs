//! The deterministic core (design §3, §4).
pub mod market;
