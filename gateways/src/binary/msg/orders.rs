//! Order entry, client → server. Each carries the client sequence in its header (exactly
//! one more than the previous order-entry message of the session). The session's account
//! is implied: a client trades for the account configured for it.

use crate::binary::wire::{Pad, message, wire_enum};
use keel_engine::schema::OrderFlags;
use keel_engine::{ClOrdId, InstrumentId, OrdType, Price, Qty, Side, TimeInForce, VenueId};

message! {
    /// A new order.
    NewOrder = NewOrder {
        /// The client's id for the order, unique per session.
        cl_ord_id: ClOrdId,
        /// What is traded.
        instrument: InstrumentId,
        /// Venue id, or 0 for the venue with the best price.
        venue: VenueId,
        /// Buy 1, sell 2.
        side: Side,
        /// Market 1, limit 2, stop 3, stop-limit 4, trailing stop 5.
        ord_type: OrdType,
        /// GTC 1, DAY 2, GTD 3, IOC 4, FOK 5.
        tif: TimeInForce,
        /// Bit 0 post-only, bit 1 reduce-only.
        flags: OrderFlags,
        /// Zero.
        pad: Pad<6>,
        /// Limit price, ticks (limit and stop-limit).
        price: Price,
        /// Trigger price, ticks (stop, stop-limit; trailing stop: 0 starts from the market).
        stop_price: Price,
        /// Trailing distance, ticks (trailing stop).
        trail_ticks: i64,
        /// Quantity, lots.
        qty: Qty,
        /// Displayed quantity, lots (0 shows all).
        display_qty: Qty,
        /// GTD expiry, UTC ns; 0 otherwise.
        expire_at: u64,
    }
}

message! {
    /// Cancel a working order.
    CancelOrder = CancelOrder {
        /// The client's id for this request.
        cl_ord_id: ClOrdId,
        /// The client order id of the order to cancel (its latest, after replaces).
        orig_cl_ord_id: ClOrdId,
    }
}

message! {
    /// Cancel/replace: new price and/or quantity.
    ReplaceOrder = ReplaceOrder {
        /// The order's new client order id.
        cl_ord_id: ClOrdId,
        /// Its current client order id.
        orig_cl_ord_id: ClOrdId,
        /// New limit price, ticks.
        price: Price,
        /// New stop price, ticks.
        stop_price: Price,
        /// New total quantity (filled included), lots.
        qty: Qty,
        /// New displayed quantity, lots (0 shows all).
        display_qty: Qty,
    }
}

wire_enum! {
    /// Which of the account's working orders a mass cancel cancels.
    MassCancelScope {
        /// All of the account's.
        Account = 1,
        /// The account's orders in `instrument`.
        Instrument = 2,
        /// The orders entered on this session.
        Session = 3,
    }
}

message! {
    /// Cancel many working orders at once.
    MassCancel = MassCancel {
        /// The client's id for this request.
        cl_ord_id: ClOrdId,
        /// Account 1, instrument 2, session 3.
        scope: MassCancelScope,
        /// Zero.
        pad: Pad<3>,
        /// The instrument (scope 2; otherwise ignored).
        instrument: InstrumentId,
    }
}
