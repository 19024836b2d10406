//! Queries answered by the gateway from what it has sent to the session: the working
//! orders and the session's positions. Not sequenced, not replayed: a snapshot at the
//! time of the request, closed by a `ListEnd`.

use crate::binary::wire::{Pad, message, wire_enum};
use keel_engine::schema::{ExecType, OrdStatus};
use keel_engine::{ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, Side, TimestampNs};

message! {
    /// Client → server: list my working orders.
    OrderListRequest = OrderListRequest {
        /// Echoed in every answer.
        request_id: u64,
    }
}

message! {
    /// Client → server: list my positions.
    PositionRequest = PositionRequest {
        /// Echoed in every answer.
        request_id: u64,
    }
}

message! {
    /// Server → client: one working order, as of its latest execution report.
    OrderStatus = OrderStatus {
        /// The request's id.
        request_id: u64,
        /// Keel's order id.
        order_id: OrderId,
        /// The order's current client order id.
        cl_ord_id: ClOrdId,
        /// Its previous client order id, if replaced.
        orig_cl_ord_id: Option<ClOrdId>,
        /// Instrument.
        instrument: InstrumentId,
        /// Side.
        side: Side,
        /// Order type.
        ord_type: OrdType,
        /// The last event.
        exec_type: ExecType,
        /// Its state.
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
        /// Time of the last event, UTC ns.
        transact_time: TimestampNs,
    }
}

message! {
    /// Server → client: the session's position in one instrument, from every fill
    /// reported to the session (since the journal began).
    PositionReport = PositionReport {
        /// The request's id.
        request_id: u64,
        /// Instrument.
        instrument: InstrumentId,
        /// Zero.
        pad: Pad<4>,
        /// Bought minus sold, lots.
        net_qty: i64,
        /// Bought, lots.
        bought_qty: i64,
        /// Sold, lots.
        sold_qty: i64,
        /// Σ price × quantity bought, ticks·lots (saturating).
        bought_notional: i64,
        /// Σ price × quantity sold, ticks·lots (saturating).
        sold_notional: i64,
        /// Number of fills.
        fills: u64,
    }
}

wire_enum! {
    /// Which list a `ListEnd` closes.
    ListKind {
        /// `OrderStatus` messages.
        Orders = 1,
        /// `PositionReport` messages.
        Positions = 2,
    }
}

message! {
    /// Server → client: the end of a list.
    ListEnd = ListEnd {
        /// The request's id.
        request_id: u64,
        /// Orders 1 or positions 2.
        list: ListKind,
        /// Zero.
        pad: Pad<3>,
        /// How many messages the list had.
        count: u32,
    }
}
