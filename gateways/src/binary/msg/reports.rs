//! Order-entry answers, server → client. All are sequenced: the header's `seq` is the
//! session's server sequence, contiguous from 1, kept across reconnects and server
//! restarts, and replayed after a reconnect.
//!
//! The first thirteen fields after the header (offsets 16..144) are the same in the six
//! execution messages: the order as it stands after the event.

use crate::binary::wire::{Pad, message, wire_enum};
use keel_engine::schema::{CancelRejectTo, ExecType, OrdStatus, RejectInfo};
use keel_engine::{ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, Side, TimestampNs};

message! {
    /// Keel accepted the order and sent it (exec type pending-new 1), the venue
    /// acknowledged it (new 2), or a held stop triggered and was released (triggered 10).
    OrderAck = OrderAck {
        /// Keel's order id.
        order_id: OrderId,
        /// The client order id.
        cl_ord_id: ClOrdId,
        /// The previous client order id (replace and cancel reports), else zeros.
        orig_cl_ord_id: Option<ClOrdId>,
        /// Instrument.
        instrument: InstrumentId,
        /// Side.
        side: Side,
        /// Order type.
        ord_type: OrdType,
        /// What happened.
        exec_type: ExecType,
        /// The order's state after it.
        ord_status: OrdStatus,
        /// Limit price in force, ticks.
        price: Price,
        /// Order quantity in force, lots.
        qty: Qty,
        /// Quantity still working, lots.
        leaves_qty: Qty,
        /// Quantity filled so far, lots.
        cum_qty: Qty,
        /// Σ price × quantity of the fills, ticks·lots (average price = this / cum_qty).
        cum_notional: i64,
        /// Core time of the event, UTC ns.
        transact_time: TimestampNs,
    }
}

message! {
    /// The order was rejected (exec type rejected 8), by Keel (risk, validation) or by the
    /// venue, with the stable reject code and its numbers.
    OrderReject = OrderReject {
        /// Keel's order id (0 when rejected before one was assigned).
        order_id: OrderId,
        /// The client order id.
        cl_ord_id: ClOrdId,
        /// Zeros.
        orig_cl_ord_id: Option<ClOrdId>,
        /// Instrument.
        instrument: InstrumentId,
        /// Side.
        side: Side,
        /// Order type.
        ord_type: OrdType,
        /// Rejected 8.
        exec_type: ExecType,
        /// Rejected 8.
        ord_status: OrdStatus,
        /// Limit price asked, ticks.
        price: Price,
        /// Quantity asked, lots.
        qty: Qty,
        /// Zero.
        leaves_qty: Qty,
        /// Zero.
        cum_qty: Qty,
        /// Zero.
        cum_notional: i64,
        /// Core time, UTC ns.
        transact_time: TimestampNs,
        /// Why: code (u16, `docs/risk.md`), value, limit.
        reject: RejectInfo,
    }
}

message! {
    /// A fill (exec type trade 3): partial (status 3) or full (status 4).
    Fill = Fill {
        /// Keel's order id.
        order_id: OrderId,
        /// The client order id.
        cl_ord_id: ClOrdId,
        /// Zeros.
        orig_cl_ord_id: Option<ClOrdId>,
        /// Instrument.
        instrument: InstrumentId,
        /// Side.
        side: Side,
        /// Order type.
        ord_type: OrdType,
        /// Trade 3.
        exec_type: ExecType,
        /// Partially filled 3 or filled 4.
        ord_status: OrdStatus,
        /// Limit price in force, ticks.
        price: Price,
        /// Order quantity, lots.
        qty: Qty,
        /// Quantity still working, lots.
        leaves_qty: Qty,
        /// Quantity filled so far, lots.
        cum_qty: Qty,
        /// Σ price × quantity of the fills, ticks·lots.
        cum_notional: i64,
        /// Core time, UTC ns.
        transact_time: TimestampNs,
        /// Price of this fill, ticks.
        last_px: Price,
        /// Quantity of this fill, lots.
        last_qty: Qty,
    }
}

message! {
    /// A cancel in progress (exec type pending-cancel 4) or done (canceled 5) after a
    /// cancel request of this session, a mass cancel, a kill switch or cancel-on-
    /// disconnect. `cl_ord_id` is the request's id; when it equals `orig_cl_ord_id` (or
    /// `orig` is zeros) Keel cancelled on its own initiative (mass cancel, kill switch).
    CancelAck = CancelAck {
        /// Keel's order id.
        order_id: OrderId,
        /// The cancel request's client id (or the order's, see above).
        cl_ord_id: ClOrdId,
        /// The order's client order id.
        orig_cl_ord_id: Option<ClOrdId>,
        /// Instrument.
        instrument: InstrumentId,
        /// Side.
        side: Side,
        /// Order type.
        ord_type: OrdType,
        /// Pending-cancel 4 or canceled 5.
        exec_type: ExecType,
        /// Pending-cancel 5 or canceled 6.
        ord_status: OrdStatus,
        /// Limit price, ticks.
        price: Price,
        /// Order quantity, lots.
        qty: Qty,
        /// Quantity still working (0 once cancelled), lots.
        leaves_qty: Qty,
        /// Quantity filled, lots.
        cum_qty: Qty,
        /// Σ price × quantity of the fills, ticks·lots.
        cum_notional: i64,
        /// Core time, UTC ns.
        transact_time: TimestampNs,
    }
}

message! {
    /// A replace in progress (exec type pending-replace 6) or done (replaced 7): the
    /// terms in force and the order's new client order id.
    ReplaceAck = ReplaceAck {
        /// Keel's order id.
        order_id: OrderId,
        /// The order's new client order id.
        cl_ord_id: ClOrdId,
        /// Its previous client order id.
        orig_cl_ord_id: Option<ClOrdId>,
        /// Instrument.
        instrument: InstrumentId,
        /// Side.
        side: Side,
        /// Order type.
        ord_type: OrdType,
        /// Pending-replace 6 or replaced 7.
        exec_type: ExecType,
        /// The order's state.
        ord_status: OrdStatus,
        /// Limit price in force, ticks.
        price: Price,
        /// Order quantity in force, lots.
        qty: Qty,
        /// Quantity still working, lots.
        leaves_qty: Qty,
        /// Quantity filled, lots.
        cum_qty: Qty,
        /// Σ price × quantity of the fills, ticks·lots.
        cum_notional: i64,
        /// Core time, UTC ns.
        transact_time: TimestampNs,
    }
}

wire_enum! {
    /// Why an order ended without this session asking.
    UnsolicitedReason {
        /// The venue cancelled it (an IOC/FOK remainder, a venue-side cancel, Keel's
        /// restart reconciling orders the venue no longer knows).
        Venue = 1,
        /// It expired (DAY, GTD).
        Expired = 2,
        /// Keel cancelled it for a reason given in `reject` (self-trade prevention).
        Keel = 3,
    }
}

message! {
    /// The order ended without a request from this session (exec type canceled 5 or
    /// expired 9).
    UnsolicitedCancel = UnsolicitedCancel {
        /// Keel's order id.
        order_id: OrderId,
        /// The order's client order id.
        cl_ord_id: ClOrdId,
        /// Zeros.
        orig_cl_ord_id: Option<ClOrdId>,
        /// Instrument.
        instrument: InstrumentId,
        /// Side.
        side: Side,
        /// Order type.
        ord_type: OrdType,
        /// Canceled 5 or expired 9.
        exec_type: ExecType,
        /// Canceled 6 or expired 9.
        ord_status: OrdStatus,
        /// Limit price, ticks.
        price: Price,
        /// Order quantity, lots.
        qty: Qty,
        /// Zero.
        leaves_qty: Qty,
        /// Quantity filled, lots.
        cum_qty: Qty,
        /// Σ price × quantity of the fills, ticks·lots.
        cum_notional: i64,
        /// Core time, UTC ns.
        transact_time: TimestampNs,
        /// Venue 1, expired 2, Keel 3.
        reason: UnsolicitedReason,
        /// Zero.
        pad: Pad<7>,
        /// With reason 3, the code and numbers; else zeros.
        reject: Option<RejectInfo>,
    }
}

message! {
    /// A cancel or replace request was refused; the order is unchanged.
    CancelReject = CancelReject {
        /// Keel's order id, when known (else 0).
        order_id: OrderId,
        /// The refused request's client id.
        cl_ord_id: ClOrdId,
        /// The client order id the request named.
        orig_cl_ord_id: ClOrdId,
        /// Cancel 1 or replace 2.
        response_to: CancelRejectTo,
        /// The order's state (rejected 8 when unknown).
        ord_status: OrdStatus,
        /// Zero.
        pad: Pad<6>,
        /// Why: code, value, limit.
        reject: RejectInfo,
        /// Core time, UTC ns.
        transact_time: TimestampNs,
    }
}

message! {
    /// The answer to a mass cancel: how many orders were sent a cancel (each then gets its
    /// own `CancelAck`s), or why it was refused.
    MassCancelAck = MassCancelAck {
        /// The request's client id.
        cl_ord_id: ClOrdId,
        /// Orders affected.
        affected: u32,
        /// Zero.
        pad: Pad<4>,
        /// Zeros when accepted; else code, value, limit.
        reject: Option<RejectInfo>,
        /// Core time, UTC ns.
        transact_time: TimestampNs,
    }
}

/// The order as it stands after an event: the thirteen fields (offsets 16..144) that the
/// six execution messages share, read from whichever of them arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderState {
    /// Keel's order id.
    pub order_id: OrderId,
    /// The client order id the message is about (see each message).
    pub cl_ord_id: ClOrdId,
    /// The previous client order id, when the message carries one.
    pub orig_cl_ord_id: Option<ClOrdId>,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Order type.
    pub ord_type: OrdType,
    /// What happened.
    pub exec_type: ExecType,
    /// The order's state after it.
    pub ord_status: OrdStatus,
    /// Limit price, ticks.
    pub price: Price,
    /// Order quantity, lots.
    pub qty: Qty,
    /// Quantity still working, lots.
    pub leaves_qty: Qty,
    /// Quantity filled so far, lots.
    pub cum_qty: Qty,
    /// Σ price × quantity of the fills, ticks·lots.
    pub cum_notional: i64,
    /// Core time of the event, UTC ns.
    pub transact_time: TimestampNs,
}

/// Implements `From<&Message> for OrderState` for the execution messages.
macro_rules! order_state_of {
    ($($msg:ident),*) => {$(
        impl From<&$msg> for OrderState {
            fn from(m: &$msg) -> OrderState {
                OrderState {
                    order_id: m.order_id,
                    cl_ord_id: m.cl_ord_id,
                    orig_cl_ord_id: m.orig_cl_ord_id,
                    instrument: m.instrument,
                    side: m.side,
                    ord_type: m.ord_type,
                    exec_type: m.exec_type,
                    ord_status: m.ord_status,
                    price: m.price,
                    qty: m.qty,
                    leaves_qty: m.leaves_qty,
                    cum_qty: m.cum_qty,
                    cum_notional: m.cum_notional,
                    transact_time: m.transact_time,
                }
            }
        }
    )*};
}
order_state_of!(OrderAck, OrderReject, Fill, CancelAck, ReplaceAck, UnsolicitedCancel);
