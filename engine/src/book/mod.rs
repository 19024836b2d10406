//! Order books: an aggregated [`L2Book`] fed by venue level updates, and an order-by-order
//! [`L3Book`] with price-time priority that also *matches* (it is the simulated venue's
//! matching engine and, fed through [`L3Book::add`]/[`L3Book::modify`]/[`L3Book::execute`]/
//! [`L3Book::delete`], a replica of a venue's L3 feed).
//!
//! # Contract
//! - **Bounded memory, sized at start-up.** [`BookCapacity`] fixes the number of resting
//!   orders and the number of price levels per side. Every container is reserved in `new`;
//!   nothing allocates afterwards. Running out is a typed [`BookError`]
//!   (`ORDERS_FULL`, `LEVELS_FULL`), checked *before* the book is touched.
//! - **Deterministic.** No clock, no random source, no `HashMap` with a random seed: the
//!   order-id index is an open-addressing table with a fixed multiplicative hash.
//! - **Fixed point.** Prices are [`Price`](crate::Price) ticks and quantities
//!   [`Qty`](crate::Qty) lots; imbalance and microprice are exact integer ratios
//!   ([`Imbalance`], [`Microprice`]).
//! - **Output without allocation.** Matching writes [`BookEvent`]s into a caller's
//!   [`EventSink`]; a `Vec<BookEvent>` is a sink, and it is the caller's job to reserve it
//!   (it grows only if a single command produces more events than reserved).
//!
//! # Invariants (checked by `debug_assert!` and by [`L3Book::validate`])
//! - After every command the book is not crossed: best bid < best ask.
//! - A level's visible (hidden) quantity equals the sum of its orders' visible (hidden)
//!   quantities; no level is empty; every resting order has visible quantity > 0.
//! - Quantity is conserved: for every order, entered = resting + filled + cancelled.
//!
//! # Example
//! ```
//! use keel_engine::book::{BookCapacity, BookEvent, L3Book, NewOrder};
//! use keel_engine::{OrderId, Price, Qty, Side};
//!
//! let mut book = L3Book::new(BookCapacity { orders: 1024, levels_per_side: 64 });
//! let mut events: Vec<BookEvent> = Vec::with_capacity(64);
//! book.submit(&NewOrder::limit(OrderId(1), Side::Sell, Price(101), Qty(5)), &mut events).unwrap();
//! book.submit(&NewOrder::limit(OrderId(2), Side::Buy, Price(99), Qty(5)), &mut events).unwrap();
//! events.clear();
//! let done = book.submit(&NewOrder::market(OrderId(3), Side::Buy, Qty(3)), &mut events).unwrap();
//! assert_eq!(done.filled, Qty(3));
//! assert_eq!(book.best_ask(), Some((Price(101), Qty(2))));
//! assert!(matches!(events[0], BookEvent::Fill(f) if f.maker == OrderId(1) && f.price == Price(101)));
//! ```

mod analytics;
mod error;
mod event;
mod index;
mod l2;
mod l3;
pub(crate) mod ladder;
mod slab;

pub use analytics::{Imbalance, LevelView, Microprice};
pub use error::BookError;
pub use event::{BookEvent, CancelReason, EventSink, Fill, NullSink};
pub use l2::L2Book;
pub use l3::{Executed, L3Book, NewOrder, OrderView, OrdersAt};

/// How much a book may hold, fixed at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookCapacity {
    /// Maximum number of resting orders (both sides together). Must be < `u32::MAX`.
    pub orders: u32,
    /// Maximum number of distinct price levels on each side.
    pub levels_per_side: u32,
}
