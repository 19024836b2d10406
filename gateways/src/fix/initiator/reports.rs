//! Venue → Keel: ExecutionReports (8) and OrderCancelRejects (9) as venue reports for
//! the core.
//!
//! | ExecType (150) | command |
//! |---|---|
//! | 0 New | `VenueAck` (venue_order_id from 37) |
//! | 8 Rejected | `VenueReject` (reason = OrdRejReason 103, 0 when absent) |
//! | F Trade | `VenueFill` (exec_id from 17, LastPx 31, LastQty 32, maker/taker from LastLiquidityInd 851: 1 maker, else taker; fee 0) |
//! | 4 Canceled | `VenueCancelAck` (unsolicited unless Keel's cancel is outstanding) |
//! | C Expired | `VenueCancelAck`, unsolicited |
//! | 5 Replaced | `VenueReplaceAck` (Price 44, OrderQty 38; the request's values when absent) |
//! | A PendingNew, 6 PendingCancel, E PendingReplace | nothing (Keel is already pending) |
//! | I OrderStatus | the answer to a status request: reconciliation ([`super::reconcile`]) |
//! | 3 DoneForDay, D Restated, G TradeCorrect, H TradeCancel | nothing: the core has no such command; logged as an error with the report |
//!
//! OrderCancelReject → `VenueCancelReject` (response_to from 434, reason = CxlRejReason
//! 102). The order is found by the Keel order id in ClOrdID (11) — or OrigClOrdID (41)
//! when 11 is not Keel's (see [`super::ids`]). A report for an order the initiator does not
//! track is still published: the core journals it as an anomaly, so nothing is lost.

use super::dialect::tag as vt;
use super::dialect::{exec_type as et, ord_status};
use super::ids::{parse_cl_ord_id, venue_id_number};
use super::orders::{OrderTracker, Pending};
use super::symbols::{Symbols, price_of, qty_of};
use crate::fix::message::{Message, Problem};
use crate::fix::tags::{SessionRejectReason as R, tag};
use keel_engine::schema::{
    CancelRejectTo, CommandBody, Liquidity, VenueAck, VenueCancelAck, VenueCancelReject, VenueFill,
    VenueReject, VenueReplaceAck,
};
use keel_engine::{ClOrdId, Instrument, OrderId, Price, Qty, TimestampNs, VenueId};
use rust_decimal::Decimal;

/// Why a report could not become a command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// A field is missing or malformed (answered with a session-level Reject).
    #[error("{0}")]
    Field(Problem),
    /// Neither ClOrdID nor OrigClOrdID names a Keel order.
    #[error("ClOrdID {cl_ord_id:?} is not one Keel sent")]
    ForeignClOrdId {
        /// The ClOrdID.
        cl_ord_id: String,
    },
    /// The instrument is unknown (neither tracked nor a known Symbol).
    #[error("order {order}: unknown instrument (Symbol {symbol:?})")]
    UnknownInstrument {
        /// The Keel order id.
        order: OrderId,
        /// The Symbol given, if any.
        symbol: String,
    },
    /// A price or quantity does not fit the core's integers.
    #[error("order {order}: {what} {value} is out of range")]
    OutOfRange {
        /// The Keel order id.
        order: OrderId,
        /// Which field.
        what: &'static str,
        /// The value.
        value: Decimal,
    },
    /// An ExecType the core cannot represent (restatements, trade corrections).
    #[error("order {order}: ExecType {exec_type} cannot be applied (no such venue report)")]
    Unsupported {
        /// The Keel order id.
        order: OrderId,
        /// ExecType.
        exec_type: char,
    },
}

impl From<Problem> for ReportError {
    fn from(p: Problem) -> ReportError {
        ReportError::Field(p)
    }
}

/// A decoded ExecutionReport, in Keel's terms where they are fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecReportView<'a> {
    /// Keel's order.
    pub order: OrderId,
    /// ClOrdID version of the report (from 11).
    pub version: u32,
    /// ExecType (150).
    pub exec_type: u8,
    /// OrdStatus (39).
    pub ord_status: u8,
    /// OrderID (37) text.
    pub venue_order_text: &'a [u8],
    /// ExecID (17) text.
    pub exec_id_text: &'a [u8],
    /// LastPx (31).
    pub last_px: Option<Decimal>,
    /// LastQty (32).
    pub last_qty: Option<Decimal>,
    /// Price (44).
    pub price: Option<Decimal>,
    /// OrderQty (38).
    pub order_qty: Option<Decimal>,
    /// CumQty (14).
    pub cum_qty: Decimal,
    /// LeavesQty (151).
    pub leaves_qty: Decimal,
    /// AvgPx (6).
    pub avg_px: Option<Decimal>,
    /// OrdRejReason (103).
    pub ord_rej_reason: Option<u32>,
    /// LastLiquidityInd (851).
    pub liquidity: Option<u32>,
    /// Symbol (55).
    pub symbol: Option<&'a [u8]>,
    /// TransactTime (60), UTC ns.
    pub transact_ns: Option<u64>,
    /// OrdStatusReqID (790), on status answers.
    pub status_req_id: Option<u64>,
}

fn opt_dec(msg: &Message<'_>, t: u32) -> Result<Option<Decimal>, Problem> {
    msg.field(t).map(|f| f.decimal()).transpose()
}

/// The Keel order a report names: ClOrdID (11) first, else OrigClOrdID (41).
fn keel_order(msg: &Message<'_>) -> Result<(OrderId, u32), ReportError> {
    let cl = msg.get(tag::CL_ORD_ID);
    if let Some(found) = cl.and_then(parse_cl_ord_id) {
        return Ok(found);
    }
    if let Some(found) = msg.get(tag::ORIG_CL_ORD_ID).and_then(parse_cl_ord_id) {
        return Ok(found);
    }
    Err(ReportError::ForeignClOrdId {
        cl_ord_id: String::from_utf8_lossy(cl.unwrap_or_default()).into_owned(),
    })
}

/// Reads an ExecutionReport that passed [`EXECUTION_REPORT`](super::dialect::EXECUTION_REPORT).
pub fn parse_execution_report<'a>(msg: &Message<'a>) -> Result<ExecReportView<'a>, ReportError> {
    let exec_type = msg.require(tag::EXEC_TYPE)?.char()?;
    let ord_status = msg.require(tag::ORD_STATUS)?.char()?;
    if !ord_status::is_valid(ord_status) {
        return Err(Problem::new(R::ValueOutOfRange, tag::ORD_STATUS).into());
    }
    let (order, version) = keel_order(msg)?;
    Ok(ExecReportView {
        order,
        version,
        exec_type,
        ord_status,
        venue_order_text: msg.require(tag::ORDER_ID)?.value,
        exec_id_text: msg.require(tag::EXEC_ID)?.value,
        last_px: opt_dec(msg, tag::LAST_PX)?,
        last_qty: opt_dec(msg, tag::LAST_QTY)?,
        price: opt_dec(msg, tag::PRICE)?,
        order_qty: opt_dec(msg, tag::ORDER_QTY)?,
        cum_qty: msg.require(tag::CUM_QTY)?.decimal()?,
        leaves_qty: msg.require(tag::LEAVES_QTY)?.decimal()?,
        avg_px: opt_dec(msg, tag::AVG_PX)?,
        ord_rej_reason: msg
            .field(tag::ORD_REJ_REASON)
            .map(|f| f.u64())
            .transpose()?
            .map(|v| v as u32),
        liquidity: msg
            .field(vt::LAST_LIQUIDITY_IND)
            .map(|f| f.u64())
            .transpose()?
            .map(|v| v as u32),
        symbol: msg.get(tag::SYMBOL),
        transact_ns: msg.field(tag::TRANSACT_TIME).map(|f| f.timestamp()).transpose()?,
        status_req_id: msg.field(vt::ORD_STATUS_REQ_ID).map(|f| f.u64()).transpose()?,
    })
}

/// The instrument of a report's order: the tracked one, else by Symbol.
pub fn instrument_of<'s>(
    symbols: &'s Symbols,
    tracker: &OrderTracker,
    order: OrderId,
    symbol: Option<&[u8]>,
) -> Result<&'s Instrument, ReportError> {
    let found = match tracker.get(order) {
        Some(t) => symbols.get(t.instrument),
        None => symbol.and_then(|s| symbols.by_symbol(s)),
    };
    found.ok_or_else(|| ReportError::UnknownInstrument {
        order,
        symbol: String::from_utf8_lossy(symbol.unwrap_or_default()).into_owned(),
    })
}

/// A converted price or quantity; rounding is logged with the numbers.
pub(crate) fn price(
    inst: &Instrument,
    order: OrderId,
    what: &'static str,
    v: Decimal,
) -> Result<Price, ReportError> {
    let c = price_of(inst, v).ok_or(ReportError::OutOfRange { order, what, value: v })?;
    if c.rounded {
        tracing::warn!(%order, field = what, value = %v, tick = %inst.tick_size, ticks = c.value.0,
            "venue price is not a whole number of ticks: rounded to the nearest tick");
    }
    Ok(c.value)
}

/// See [`price`].
pub(crate) fn qty(
    inst: &Instrument,
    order: OrderId,
    what: &'static str,
    v: Decimal,
) -> Result<Qty, ReportError> {
    let c = qty_of(inst, v).ok_or(ReportError::OutOfRange { order, what, value: v })?;
    if c.rounded {
        tracing::warn!(%order, field = what, value = %v, lot = %inst.lot_size, lots = c.value.0,
            "venue quantity is not a whole number of lots: rounded to the nearest lot");
    }
    Ok(c.value)
}

/// Records the venue's OrderID on the tracked order.
pub(crate) fn note_venue_order_id(tracker: &mut OrderTracker, order: OrderId, text: &[u8]) -> u64 {
    let id = venue_id_number(text);
    if let Some(t) = tracker.get_mut(order) {
        if !text.is_empty() && text != b"NONE" {
            t.venue_order_id = id;
            if t.venue_order_text.is_none() {
                t.venue_order_text = ClOrdId::from_bytes(text).ok();
            }
        }
    }
    id
}

/// Applies an ExecutionReport that is not a status answer: pushes the venue report(s) for
/// the core to `out` and updates the tracker. Status answers (ExecType I) are the
/// caller's (reconciliation) and push nothing here.
pub fn apply_execution_report(
    r: &ExecReportView<'_>,
    venue: VenueId,
    symbols: &Symbols,
    tracker: &mut OrderTracker,
    now: TimestampNs,
    out: &mut Vec<CommandBody>,
) -> Result<(), ReportError> {
    let order = r.order;
    let venue_ts = TimestampNs(r.transact_ns.unwrap_or(now.0));
    match r.exec_type {
        et::NEW => {
            let venue_order_id = note_venue_order_id(tracker, order, r.venue_order_text);
            if let Some(t) = tracker.get_mut(order) {
                t.acked = true;
            }
            out.push(CommandBody::VenueAck(VenueAck {
                venue,
                order_id: order,
                venue_order_id,
                venue_ts,
            }));
        }
        et::REJECTED => {
            tracker.ended(order);
            out.push(CommandBody::VenueReject(VenueReject {
                venue,
                order_id: order,
                reason: r.ord_rej_reason.unwrap_or(0),
                venue_ts,
            }));
        }
        et::TRADE => {
            let inst = instrument_of(symbols, tracker, order, r.symbol)?;
            let last_px = r.last_px.ok_or(Problem::new(R::RequiredTagMissing, tag::LAST_PX))?;
            let last_qty = r.last_qty.ok_or(Problem::new(R::RequiredTagMissing, tag::LAST_QTY))?;
            let px = price(inst, order, "LastPx", last_px)?;
            let q = qty(inst, order, "LastQty", last_qty)?;
            note_venue_order_id(tracker, order, r.venue_order_text);
            tracker.filled(order, px, q);
            out.push(CommandBody::VenueFill(VenueFill {
                venue,
                order_id: order,
                exec_id: venue_id_number(r.exec_id_text),
                price: px,
                qty: q,
                fee: 0,
                liquidity: if r.liquidity == Some(1) { Liquidity::Maker } else { Liquidity::Taker },
                venue_ts,
            }));
        }
        et::CANCELED | et::EXPIRED => {
            let solicited = r.exec_type == et::CANCELED
                && matches!(tracker.get(order).map(|t| t.pending), Some(Pending::Cancel { .. }));
            tracker.ended(order);
            out.push(CommandBody::VenueCancelAck(VenueCancelAck {
                venue,
                order_id: order,
                unsolicited: !solicited,
                venue_ts,
            }));
        }
        et::REPLACED => {
            let inst = instrument_of(symbols, tracker, order, r.symbol)?;
            let requested = match tracker.get(order).map(|t| t.pending) {
                Some(Pending::Replace { price, qty, .. }) => Some((price, qty)),
                _ => None,
            };
            let new_price = match r.price {
                Some(p) => price(inst, order, "Price", p)?,
                None => requested
                    .map(|(p, _)| p)
                    .ok_or(Problem::new(R::RequiredTagMissing, tag::PRICE))?,
            };
            let new_qty = match r.order_qty {
                Some(q) => qty(inst, order, "OrderQty", q)?,
                None => requested
                    .map(|(_, q)| q)
                    .ok_or(Problem::new(R::RequiredTagMissing, tag::ORDER_QTY))?,
            };
            note_venue_order_id(tracker, order, r.venue_order_text);
            let mut done = false;
            if let Some(t) = tracker.get_mut(order) {
                t.price = new_price;
                t.qty = new_qty;
                t.version = r.version;
                t.pending = Pending::None;
                done = t.cum_qty >= t.qty || ord_status::is_terminal(r.ord_status);
            }
            if done {
                tracker.ended(order);
            }
            out.push(CommandBody::VenueReplaceAck(VenueReplaceAck {
                venue,
                order_id: order,
                price: new_price,
                qty: new_qty,
                venue_ts,
            }));
        }
        et::PENDING_NEW | et::PENDING_CANCEL | et::PENDING_REPLACE => {
            note_venue_order_id(tracker, order, r.venue_order_text);
        }
        et::ORDER_STATUS => {}
        other => {
            return Err(ReportError::Unsupported { order, exec_type: other as char });
        }
    }
    Ok(())
}

/// Applies an OrderCancelReject (validated against
/// [`ORDER_CANCEL_REJECT`](super::dialect::ORDER_CANCEL_REJECT)).
pub fn apply_cancel_reject(
    msg: &Message<'_>,
    venue: VenueId,
    tracker: &mut OrderTracker,
    now: TimestampNs,
    out: &mut Vec<CommandBody>,
) -> Result<(), ReportError> {
    let (order, _) = keel_order(msg)?;
    let response_to = match msg.require(tag::CXL_REJ_RESPONSE_TO)?.char()? {
        b'1' => CancelRejectTo::Cancel,
        b'2' => CancelRejectTo::Replace,
        _ => return Err(Problem::new(R::ValueOutOfRange, tag::CXL_REJ_RESPONSE_TO).into()),
    };
    let reason = msg.field(tag::CXL_REJ_REASON).map(|f| f.u64()).transpose()?.unwrap_or(0) as u32;
    let venue_ts = TimestampNs(
        msg.field(tag::TRANSACT_TIME).map(|f| f.timestamp()).transpose()?.unwrap_or(now.0),
    );
    if let Some(t) = tracker.get_mut(order) {
        t.pending = Pending::None;
    }
    out.push(CommandBody::VenueCancelReject(VenueCancelReject {
        venue,
        order_id: order,
        response_to,
        reason,
        venue_ts,
    }));
    Ok(())
}
