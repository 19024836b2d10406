//! The protocol's messages, one file per family. Each is declared with the
//! [`message!`](crate::binary::wire) macro: its fields in wire order, from which its size,
//! layout and codec follow.

pub mod market_data;
pub mod orders;
pub mod queries;
pub mod reports;
pub mod session;
