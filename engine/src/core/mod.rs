//! The deterministic core (design §3, §4).
pub mod digest;
pub mod market;
pub mod sessions;
pub mod stops;
