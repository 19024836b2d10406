//! What the core tells a strategy about its own orders.
//!
//! Ids are the strategy's own client order ids. The core applies a fill to positions
//! *before* calling `on_fill`, so the context already shows the new position.

use crate::schema::Liquidity;
use crate::{ClOrdId, InstrumentId, Price, Qty, Side};

/// An execution of one of the strategy's orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnFill {
    /// The order's client order id (during a pending replace, the venue may report either
    /// the old or the new id).
    pub cl_ord_id: ClOrdId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side of the order.
    pub side: Side,
    /// Execution price.
    pub price: Price,
    /// Executed quantity.
    pub qty: Qty,
    /// Quantity still working after this fill; zero means the order is done.
    pub leaves_qty: Qty,
    /// Fee, ticks·lots (negative for a rebate).
    pub fee: i64,
    /// Maker or taker.
    pub liquidity: Liquidity,
}

/// What happened to one of the strategy's orders (other than a fill).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderUpdateKind {
    /// The venue acknowledged the order `cl_ord_id`; it is working.
    Acked,
    /// The replace `orig_cl_ord_id → cl_ord_id` took effect; the order now works under
    /// `cl_ord_id` at `price` with `leaves_qty`.
    Replaced,
    /// The order `cl_ord_id` was cancelled (requested, IOC remainder, or unsolicited); done.
    Canceled,
    /// The order `cl_ord_id` expired (DAY/GTD); done.
    Expired,
    /// The new order `cl_ord_id` was rejected by Keel's risk checks or the venue; done.
    Rejected,
    /// The cancel or replace request `cl_ord_id` for the order `orig_cl_ord_id` was
    /// refused; the order keeps working unchanged under `orig_cl_ord_id` (unless a fill
    /// says it is done).
    CancelRejected,
}

/// A state change of one of the strategy's orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderUpdate {
    /// What happened.
    pub kind: OrderUpdateKind,
    /// The id the update is about (see [`OrderUpdateKind`]).
    pub cl_ord_id: ClOrdId,
    /// The order's previous id, for `Replaced` and `CancelRejected`.
    pub orig_cl_ord_id: Option<ClOrdId>,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Limit price in force after the update.
    pub price: Price,
    /// Quantity still working after the update (zero when done).
    pub leaves_qty: Qty,
}
