//! The firm's order book-keeping inside the deterministic core (design §4, "Orders").
//!
//! - [`state`]: the explicit transition table, with the venue races it allows.
//! - [`order`]: one order's terms and dynamic state (fills, notional, pending replace).
//! - [`table`]: the fixed-capacity order table with O(1) lookups by id and by client
//!   order id, duplicate detection and deterministic iteration.
//!
//! Nothing here allocates after [`OrderTable::new`], reads a clock or a random source,
//! or panics on bad input: every refusal is a [`crate::schema::RejectInfo`].
//!
//! ```
//! use keel_engine::orders::{Order, OrderState, OrderTable, OrderTerms};
//! use keel_engine::schema::{NewOrder, OrderFlags, Route, VenueFill, Liquidity};
//! use keel_engine::*;
//!
//! let mut table = OrderTable::with_capacity(16);
//! let new = NewOrder {
//!     cl_ord_id: "A-1".parse().unwrap(), account: AccountId(1), instrument: InstrumentId(1),
//!     route: Route::Venue(VenueId(1)), side: Side::Buy, ord_type: OrdType::Limit,
//!     tif: TimeInForce::Gtc, flags: OrderFlags::NONE, price: Price(100), stop_price: Price(0),
//!     trail_ticks: 0, qty: Qty(10), display_qty: Qty(0), expire_at: TimestampNs(0),
//! };
//! let terms = OrderTerms::from_new(OrderId(1), SessionId(7), VenueId(1), &new);
//! table.insert(Order::new(terms, TimestampNs(1))).unwrap();
//! table.get_mut(OrderId(1)).unwrap().apply_venue_ack(55, TimestampNs(2)).unwrap();
//! let fill = VenueFill {
//!     venue: VenueId(1), order_id: OrderId(1), exec_id: 9, price: Price(100), qty: Qty(10),
//!     fee: 0, liquidity: Liquidity::Maker, venue_ts: TimestampNs(3),
//! };
//! assert_eq!(table.apply_fill(&fill, TimestampNs(3)).unwrap().state, OrderState::Filled);
//! assert!(table.apply_fill(&fill, TimestampNs(4)).is_err()); // duplicate exec id
//! assert!(table.remove(OrderId(1)).is_some());
//! ```

mod fixed_map;
pub mod order;
mod ring;
pub mod state;
pub mod table;

pub use order::{FillOutcome, Order, OrderTerms, PendingReplace, ReplaceOutcome};
pub use state::{IllegalTransition, OrderEvent, OrderState, Status, transition};
pub use table::{OrderFilter, OrderMut, OrderTable, OrderTableConfig};
