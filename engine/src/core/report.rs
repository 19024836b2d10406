//! Building execution reports from an order's state, so every report carries the same
//! FIX semantics: `leaves + cum = qty` while working, `leaves = 0` once terminal, and the
//! exact cumulative notional from which the edge computes AvgPx.

use crate::orders::Order;
use crate::schema::{ExecReport, ExecType, OrdStatus, RejectInfo};
use crate::{ClOrdId, OrderId, Price, Qty};

/// The fill part of a report: zero for everything but `Trade`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LastFill {
    /// Price of the fill.
    pub px: Price,
    /// Quantity of the fill.
    pub qty: Qty,
}

/// A report about `order` after an event of kind `exec_type`.
///
/// `cl_ord_id` is the id the report answers (the order's, or a cancel/replace request's),
/// `orig` the id it replaces, when there is one.
///
/// Inlined so that the report is built where the caller puts it (the output), not built
/// and then copied (a report is ~200 bytes).
#[inline(always)]
pub fn exec_report(
    order: &Order,
    exec_type: ExecType,
    cl_ord_id: ClOrdId,
    orig: Option<ClOrdId>,
    fill: LastFill,
    reject: Option<RejectInfo>,
) -> ExecReport {
    let t = order.terms();
    ExecReport {
        session: t.session,
        account: t.account,
        order_id: t.id,
        cl_ord_id,
        orig_cl_ord_id: orig,
        instrument: t.instrument,
        side: t.side,
        ord_type: t.ord_type,
        exec_type,
        ord_status: order.ord_status(),
        price: t.price,
        qty: t.qty,
        last_px: fill.px,
        last_qty: fill.qty,
        leaves_qty: order.leaves(),
        cum_qty: order.filled(),
        // An order whose notional no longer fits an i64 has been refused further fills
        // (see `Core`); saturating keeps the report well-formed in any case.
        cum_notional: order.cum_notional_i64().unwrap_or(i64::MAX),
        reject,
    }
}

/// A reject of a new order that never entered the order table.
pub fn new_order_reject(
    session: crate::SessionId,
    order: &crate::schema::NewOrder,
    reject: RejectInfo,
) -> ExecReport {
    ExecReport {
        session,
        account: order.account,
        order_id: OrderId(0),
        cl_ord_id: order.cl_ord_id,
        orig_cl_ord_id: None,
        instrument: order.instrument,
        side: order.side,
        ord_type: order.ord_type,
        exec_type: ExecType::Rejected,
        ord_status: OrdStatus::Rejected,
        price: order.price,
        qty: order.qty,
        last_px: Price(0),
        last_qty: Qty::ZERO,
        leaves_qty: Qty::ZERO,
        cum_qty: Qty::ZERO,
        cum_notional: 0,
        reject: Some(reject),
    }
}
