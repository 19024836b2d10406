//! # keel-gateways
//!
//! Adapters between Keel's core and the outside world (design §6). Each implements the
//! engine's [`Gateway`](keel_engine::pipeline::Gateway) port and runs on its own thread.
//!
//! - [`auth`]: client credentials (salted Argon2id hashes) and the directory of
//!   configured clients, each with its fixed session and account.
//! - [`binary`]: the native binary protocol: frames and codec, the session, the acceptor
//!   gateway and a client library.
//! - [`fix`]: FIX 4.4 — codec, session layer (both roles), message store, the client
//!   order-entry acceptor and a small client for tests and benchmarks.
//! - [`sim`]: the in-process simulated venue (matching engine + seeded synthetic flow),
//!   the embedded default so `keel serve` runs with nothing else.

pub mod auth;
pub mod binary;
pub mod fix;
pub mod sim;
