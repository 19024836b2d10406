//! Outputs: everything the core emits.

use super::{CancelRejectTo, OrderFlags, RejectInfo};
use crate::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};
use rkyv::{Archive, Deserialize, Serialize};

/// One output of the core, stamped with the core's (monotonic) time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct Output {
    /// Core time when it was produced: the time of the command that caused it.
    pub ts: TimestampNs,
    /// The output itself.
    pub body: OutputBody,
}

/// The kinds of output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub enum OutputBody {
    /// Send a new order to a venue.
    VenueNewOrder(VenueNewOrder),
    /// Ask a venue to cancel an order.
    VenueCancel(VenueCancel),
    /// Ask a venue to replace an order.
    VenueReplace(VenueReplace),
    /// Tell a client about its order.
    ExecReport(ExecReport),
    /// Tell a client its cancel or replace was refused.
    CancelReject(CancelReject),
    /// Answer a mass cancel.
    MassCancelReport(MassCancelReport),
    /// Answer an admin action.
    AdminAck(AdminAck),
    /// A venue report that does not fit Keel's view of the order, kept for the audit.
    Anomaly(Anomaly),
}

/// An order to a venue. Stops and trailing stops never reach a venue: the core holds
/// them and sends a market or limit order when they trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueNewOrder {
    /// Destination.
    pub venue: VenueId,
    /// Keel's id, sent as the venue-side client order id.
    pub order_id: OrderId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub ord_type: OrdType,
    /// Time in force at the venue.
    pub tif: TimeInForce,
    /// Post-only (reduce-only is enforced by Keel, not sent).
    pub flags: OrderFlags,
    /// Limit price (limit orders).
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Displayed quantity; zero shows all.
    pub display_qty: Qty,
    /// GTD expiry; zero otherwise.
    pub expire_at: TimestampNs,
}

/// A cancel request to a venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueCancel {
    /// Destination.
    pub venue: VenueId,
    /// Keel's id of the order.
    pub order_id: OrderId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side of the order.
    pub side: Side,
    /// The venue's id of the order, when acknowledged (zero before).
    pub venue_order_id: u64,
}

/// A cancel/replace request to a venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueReplace {
    /// Destination.
    pub venue: VenueId,
    /// Keel's id of the order.
    pub order_id: OrderId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side of the order.
    pub side: Side,
    /// The venue's id of the order.
    pub venue_order_id: u64,
    /// New price.
    pub price: Price,
    /// New total quantity.
    pub qty: Qty,
    /// New display quantity; zero shows all.
    pub display_qty: Qty,
}

/// What happened, in an execution report (FIX ExecType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum ExecType {
    /// Accepted by Keel, on its way to the venue.
    PendingNew = 0,
    /// Acknowledged by the venue (or accepted and held, for stops).
    New = 1,
    /// A fill (partial or full; see the order status).
    Trade = 2,
    /// A cancel request was accepted by Keel and sent.
    PendingCancel = 3,
    /// Cancelled.
    Canceled = 4,
    /// A replace request was accepted by Keel and sent.
    PendingReplace = 5,
    /// Replaced: new terms in force.
    Replaced = 6,
    /// Rejected, by Keel (see the reject code) or by the venue.
    Rejected = 7,
    /// Expired (DAY, GTD).
    Expired = 8,
    /// A held stop order triggered and was released to the venue.
    Triggered = 9,
}

/// The state of an order (FIX OrdStatus).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum OrdStatus {
    /// Sent to the venue, not yet acknowledged.
    PendingNew = 0,
    /// Working, nothing filled.
    New = 1,
    /// Working, partly filled.
    PartiallyFilled = 2,
    /// Completely filled.
    Filled = 3,
    /// Cancel sent, not yet confirmed.
    PendingCancel = 4,
    /// Cancelled.
    Canceled = 5,
    /// Replace sent, not yet confirmed.
    PendingReplace = 6,
    /// Rejected.
    Rejected = 7,
    /// Expired.
    Expired = 8,
}

/// An execution report to the client session that owns the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct ExecReport {
    /// Destination session.
    pub session: SessionId,
    /// The order's account.
    pub account: AccountId,
    /// Keel's id of the order (zero when rejected before one was assigned).
    pub order_id: OrderId,
    /// The client order id this report answers.
    pub cl_ord_id: ClOrdId,
    /// The previous client order id, on replace and cancel reports.
    pub orig_cl_ord_id: Option<ClOrdId>,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Order type.
    pub ord_type: OrdType,
    /// What happened.
    pub exec_type: ExecType,
    /// The order's state after it.
    pub ord_status: OrdStatus,
    /// Limit price in force.
    pub price: Price,
    /// Order quantity in force.
    pub qty: Qty,
    /// Price of this fill (Trade only).
    pub last_px: Price,
    /// Quantity of this fill (Trade only).
    pub last_qty: Qty,
    /// Quantity still working.
    pub leaves_qty: Qty,
    /// Quantity filled so far.
    pub cum_qty: Qty,
    /// Sum of price × quantity over all fills, ticks·lots: the average price is
    /// `cum_notional / cum_qty`, computed exactly at the edge.
    pub cum_notional: i64,
    /// Why, for `Rejected`.
    pub reject: Option<RejectInfo>,
}

/// A refused cancel or replace (FIX OrderCancelReject).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct CancelReject {
    /// Destination session.
    pub session: SessionId,
    /// The account named in the request.
    pub account: AccountId,
    /// Keel's id of the order, when known (zero otherwise).
    pub order_id: OrderId,
    /// The client id of the refused request.
    pub cl_ord_id: ClOrdId,
    /// The client order id the request named.
    pub orig_cl_ord_id: ClOrdId,
    /// Cancel or replace.
    pub response_to: CancelRejectTo,
    /// The order's state, unchanged by the refusal (Rejected when unknown).
    pub ord_status: OrdStatus,
    /// Why.
    pub reject: RejectInfo,
}

/// The answer to a mass cancel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct MassCancelReport {
    /// Destination session.
    pub session: SessionId,
    /// The client id of the request.
    pub cl_ord_id: ClOrdId,
    /// How many orders were sent a cancel.
    pub affected: u32,
    /// Why, when the request was refused.
    pub reject: Option<RejectInfo>,
}

/// The answer to an admin command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct AdminAck {
    /// Destination (the admin session).
    pub session: SessionId,
    /// How many orders the action cancelled (kill switch), else zero.
    pub affected: u32,
    /// Why, when the action was refused.
    pub reject: Option<RejectInfo>,
}

/// A venue report that contradicts Keel's view of an order; journaled, never applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct Anomaly {
    /// Reporting venue.
    pub venue: VenueId,
    /// Keel's id named in the report.
    pub order_id: OrderId,
    /// What was wrong, with the numbers.
    pub reject: RejectInfo,
}
