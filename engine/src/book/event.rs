//! What a book command did, as a stream of events written into a caller's sink.
//!
//! Per command the order is: `Amended` (amends only), then `Fill`s and `Replenished`
//! (iceberg makers refilling) in execution order, then at most one `Rested` or
//! `Cancelled` for the incoming order's remainder.

use crate::{OrderId, Price, Qty, Side};

/// One execution between a resting maker and an incoming taker, at the maker's price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// The resting order.
    pub maker: OrderId,
    /// The incoming (or re-priced) order.
    pub taker: OrderId,
    /// The taker's side.
    pub taker_side: Side,
    /// Execution price: the maker's level.
    pub price: Price,
    /// Executed quantity (> 0).
    pub qty: Qty,
    /// Maker's leaves after this fill (visible + hidden); 0 means the maker is done.
    pub maker_leaves: Qty,
    /// Taker's unexecuted quantity after this fill.
    pub taker_leaves: Qty,
}

/// Why an order's remainder left the book without trading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelReason {
    /// Cancel request (or a feed delete).
    Requested,
    /// Unfilled part of a market, IOC or FOK order: it may not rest.
    Unfilled,
    /// Amended to a total quantity at or below what had already filled.
    AmendedBelowFilled,
}

/// An event produced by a book command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookEvent {
    /// A trade.
    Fill(Fill),
    /// An iceberg maker's visible part was exhausted and refilled from its reserve; it is
    /// now at the back of its level's queue.
    Replenished {
        /// The iceberg.
        id: OrderId,
        /// Its side.
        side: Side,
        /// Its price.
        price: Price,
        /// New visible quantity.
        visible: Qty,
        /// Hidden reserve left.
        hidden: Qty,
    },
    /// The incoming order's remainder now rests at the back of its level.
    Rested {
        /// The order.
        id: OrderId,
        /// Its side.
        side: Side,
        /// Its price.
        price: Price,
        /// Resting quantity (visible + hidden).
        leaves: Qty,
        /// Visible part.
        visible: Qty,
    },
    /// An amend was accepted; for a price change or a quantity increase (`priority_kept`
    /// false) fills and a `Rested` may follow.
    Amended {
        /// The order.
        id: OrderId,
        /// Its side.
        side: Side,
        /// New price.
        price: Price,
        /// New leaves (new total quantity − filled).
        leaves: Qty,
        /// True for a pure quantity reduction at the same price.
        priority_kept: bool,
    },
    /// An order's remainder left the book.
    Cancelled {
        /// The order.
        id: OrderId,
        /// Its side.
        side: Side,
        /// Its price (the limit; for market orders the price given, ignored).
        price: Price,
        /// Quantity cancelled.
        leaves: Qty,
        /// Why.
        reason: CancelReason,
    },
}

/// Where a book writes events. Implementations must not allocate on the hot path.
pub trait EventSink {
    /// Receives one event.
    fn event(&mut self, event: BookEvent);
}

impl EventSink for Vec<BookEvent> {
    /// Pushes; the caller reserves enough capacity (and clears between commands) so this
    /// never reallocates in steady state.
    #[inline]
    fn event(&mut self, event: BookEvent) {
        self.push(event);
    }
}

/// A sink that drops every event (feed replicas, benchmarks).
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl EventSink for NullSink {
    #[inline]
    fn event(&mut self, _event: BookEvent) {}
}
