//! The simulated venue (design §6), in process: a price-time matching engine per
//! instrument ([`L3Book`](keel_engine::L3Book)) fed by a seeded synthetic order flow. It
//! publishes an L3 market-data feed (adds, modifies, deletes, executions, trade prints)
//! and executes Keel's orders, answering with acks, rejects, fills and cancel acks, after
//! a configurable one-way latency.
//!
//! [`SimVenue`] is the exchange logic with no threads and no clock; [`SimGateway`] runs
//! it as a pipeline [`Gateway`](keel_engine::pipeline::Gateway).

mod gateway;
mod venue;

pub use gateway::{SimConfig, SimGateway};
pub use venue::{FlowConfig, SYNTHETIC_ID_BASE, SimInstrument, SimVenue, reason};
