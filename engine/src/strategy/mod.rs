//! In-process strategies (design §4 "Strategies").
//!
//! The core calls a [`Strategy`] on book updates, market trades, the strategy's own fills
//! and order updates, and timers. Each call gets a read-only [`StrategyContext`] (time,
//! account, and per instrument the top of book and the strategy's net position) and an
//! [`Intents`] buffer to write orders, cancels and replaces into. The core turns every
//! intent into the same [`NewOrder`](crate::schema::NewOrder) /
//! [`CancelOrder`](crate::schema::CancelOrder) / [`ReplaceOrder`](crate::schema::ReplaceOrder)
//! command a client would send ([`Intent::to_command_body`]), so strategy orders pass the
//! same risk checks as anyone's.
//!
//! Contract for implementations:
//! - **Deterministic**: state changes only in these calls; time is `ctx.now`; no clock,
//!   randomness, I/O or hash-ordered iteration.
//! - **Allocation-free** after construction: strategies keep fixed state and write into the
//!   caller's pre-sized [`Intents`]; ids come from a [`ClOrdIdSeq`].
//! - **Honest bookkeeping**: [`Intents::push`] refuses intents when the buffer is full; a
//!   strategy records an order as sent only when the push succeeded.
//! - **Waived calls are no-ops**: a strategy may waive market-data calls that could not
//!   change what it does ([`Strategy::market_calls`]: an `on_book` whose views are the
//!   same as at its own previous `on_book`, trades it does not read); the core then skips
//!   them, which must leave its behaviour exactly as if they had been made.
//!
//! Strategies are built by name at start-up with [`build_strategy`].

mod api;
mod context;
mod events;
mod intents;
mod market;
mod market_maker;
mod registry;
mod taker;

pub use api::{MarketCalls, Strategy};
pub use context::{InstrumentView, StrategyContext};
pub use events::{OrderUpdate, OrderUpdateKind, OwnFill};
pub(crate) use intents::OrderEntry;
pub use intents::{ClOrdIdSeq, Intent, Intents};
pub use market::{Level, MarketView};
pub use market_maker::{MarketMaker, MarketMakerParams};
pub use registry::{STRATEGY_NAMES, StrategyConfigError, build_strategy};
pub use taker::{Taker, TakerParams};
