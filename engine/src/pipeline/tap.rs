//! The market-data tap: a copy of every market-data command the core has journaled and
//! applied, for gateways that serve market data to their clients (the native binary
//! protocol's book stream).
//!
//! A gateway asks for it with [`Gateway::wants_market_data`](super::Gateway::wants_market_data);
//! the pipeline then gives it one bounded SPSC ring (`pipeline.outbound_ring` slots). After
//! the core applies a market-data command it pushes a copy to every tap, in the core's
//! order, and the gateway's runner hands each to
//! [`Gateway::on_market_data`](super::Gateway::on_market_data).
//!
//! - **Not journaled again.** The command already is (it is an input); the tap is a view.
//!   A gateway that replays the tapped commands into its own
//!   [`Markets`](crate::core::Markets) holds the same books as the core's, for every
//!   venue that sends a snapshot when it connects.
//! - **Back-pressure, never loss.** A full tap makes the core wait, exactly like a full
//!   outbound ring (the runner drains both every round, also while stopping), and the
//!   wait is counted in `outbound_full_waits`.

use crate::schema::{Command, CommandBody};
use crossbeam::queue::ArrayQueue;
use std::sync::Arc;

/// One gateway's market-data ring (core: producer; gateway: consumer).
pub(crate) type Tap = Arc<ArrayQueue<Command>>;

/// True for the commands a tap carries: book updates, trades, snapshot marks and
/// venue status changes.
#[inline]
pub fn is_feed(body: &CommandBody) -> bool {
    matches!(
        body,
        CommandBody::L2Update(_)
            | CommandBody::L3Add(_)
            | CommandBody::L3Modify(_)
            | CommandBody::L3Delete(_)
            | CommandBody::L3Execute(_)
            | CommandBody::Trade(_)
            | CommandBody::Snapshot(_)
            | CommandBody::VenueStatus(_)
    )
}
