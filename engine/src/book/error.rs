//! Why a book command was rejected. A rejected command leaves the book untouched and
//! emits no events.

use crate::{OrdType, OrderId, Price, Qty, Side};

/// A rejected book command, with a stable code ([`BookError::code`]) and the numbers that
/// caused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// Order (or amend/execute) quantity not positive, or an execution beyond leaves.
    #[error("INVALID_QTY: qty={}", .qty.0)]
    InvalidQty {
        /// The rejected quantity.
        qty: Qty,
    },
    /// Iceberg display quantity not in `1..=qty`.
    #[error("INVALID_DISPLAY_QTY: display={}, qty={}", .display.0, .qty.0)]
    InvalidDisplay {
        /// The rejected display quantity.
        display: Qty,
        /// The order quantity.
        qty: Qty,
    },
    /// Stops and trailing stops are emulated by the core, never sent to a book.
    #[error("UNSUPPORTED_ORD_TYPE: ord_type={ord_type:?}")]
    UnsupportedOrdType {
        /// The rejected order type.
        ord_type: OrdType,
    },
    /// Post-only combined with a market order or IOC/FOK: it could never rest.
    #[error("POST_ONLY_NOT_RESTING: post-only needs a limit order that may rest")]
    PostOnlyNotResting,
    /// An order with this id is already resting.
    #[error("DUPLICATE_ORDER_ID: id={id}")]
    DuplicateOrderId {
        /// The duplicated id.
        id: OrderId,
    },
    /// No resting order has this id.
    #[error("UNKNOWN_ORDER_ID: id={id}")]
    UnknownOrderId {
        /// The unknown id.
        id: OrderId,
    },
    /// The order slab is full.
    #[error("ORDERS_FULL: capacity={capacity}")]
    OrdersFull {
        /// [`BookCapacity::orders`](super::BookCapacity::orders).
        capacity: u32,
    },
    /// The side's ladder has no room for a new price level.
    #[error("LEVELS_FULL: side={side:?}, capacity={capacity}")]
    LevelsFull {
        /// The full side.
        side: Side,
        /// [`BookCapacity::levels_per_side`](super::BookCapacity::levels_per_side).
        capacity: u32,
    },
    /// A post-only order (or an amend of one, or a feed `add`) would trade on entry.
    #[error("POST_ONLY_WOULD_CROSS: price={}, opposite_best={}", .price.0, .opposite_best.0)]
    PostOnlyWouldCross {
        /// The order's limit price.
        price: Price,
        /// The best price on the other side.
        opposite_best: Price,
    },
    /// A fill-or-kill order cannot fill completely; nothing traded.
    #[error("FOK_UNFILLABLE: qty={}, available={}", .qty.0, .available.0)]
    FokUnfillable {
        /// The order quantity.
        qty: Qty,
        /// Quantity available up to the limit, hidden iceberg reserve included.
        available: Qty,
    },
}

impl BookError {
    /// The stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            BookError::InvalidQty { .. } => "INVALID_QTY",
            BookError::InvalidDisplay { .. } => "INVALID_DISPLAY_QTY",
            BookError::UnsupportedOrdType { .. } => "UNSUPPORTED_ORD_TYPE",
            BookError::PostOnlyNotResting => "POST_ONLY_NOT_RESTING",
            BookError::DuplicateOrderId { .. } => "DUPLICATE_ORDER_ID",
            BookError::UnknownOrderId { .. } => "UNKNOWN_ORDER_ID",
            BookError::OrdersFull { .. } => "ORDERS_FULL",
            BookError::LevelsFull { .. } => "LEVELS_FULL",
            BookError::PostOnlyWouldCross { .. } => "POST_ONLY_WOULD_CROSS",
            BookError::FokUnfillable { .. } => "FOK_UNFILLABLE",
        }
    }
}
