//! Client order entry, Keel to FIX: the core's outputs and the gateway's refusals as
//! message bodies.
//!
//! - `ExecReport` → ExecutionReport (8): ExecType (150), OrdStatus (39), LeavesQty (151),
//!   CumQty (14) and AvgPx (6) with the standard semantics; ExecID (17) is the output's
//!   journal sequence, so it is unique and the same after a restart; a rejection carries
//!   OrdRejReason (103) and the stable reject code with its numbers in Text (58), e.g.
//!   `NOTIONAL_EXCEEDS_MAX: notional=1500000, max=1000000`.
//! - `CancelReject` → OrderCancelReject (9) with CxlRejReason (102) and the code in Text.
//! - `MassCancelReport` → OrderMassCancelReport (r).
//!
//! Prices and quantities are rendered exactly from ticks and lots at the instrument's
//! precision; AvgPx is `cum_notional / cum_qty` ticks, rounded half-even to the
//! instrument's price precision plus four decimals (trailing zeros trimmed down to the
//! price precision). Formatting writes into a reused [`Body`]: no allocation.

use super::decimals;
use super::order_entry::{CancelRefusal, OrderRefusal};
use crate::fix::encode::Body;
use crate::fix::tags::{BusinessRejectReason, tag};
use crate::fix::time::Precision;
use crate::fix::value::Number;
use keel_engine::schema::{
    CancelReject, CancelRejectTo, ExecReport, ExecType, MassCancelReport, OrdStatus, RejectCode,
};
use keel_engine::{Instrument, OrdType, Price, Qty, Side};
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Write as _;

/// ExecType (150).
pub fn exec_type_char(t: ExecType) -> u8 {
    match t {
        ExecType::PendingNew => b'A',
        ExecType::New => b'0',
        ExecType::Trade => b'F',
        ExecType::PendingCancel => b'6',
        ExecType::Canceled => b'4',
        ExecType::PendingReplace => b'E',
        ExecType::Replaced => b'5',
        ExecType::Rejected => b'8',
        ExecType::Expired => b'C',
        // FIX 4.4's dictionary has no "triggered": a restatement, explained in Text.
        ExecType::Triggered => b'D',
    }
}

/// OrdStatus (39).
pub fn ord_status_char(s: OrdStatus) -> u8 {
    match s {
        OrdStatus::PendingNew => b'A',
        OrdStatus::New => b'0',
        OrdStatus::PartiallyFilled => b'1',
        OrdStatus::Filled => b'2',
        OrdStatus::PendingCancel => b'6',
        OrdStatus::Canceled => b'4',
        OrdStatus::PendingReplace => b'E',
        OrdStatus::Rejected => b'8',
        OrdStatus::Expired => b'C',
    }
}

/// OrdType (40).
pub fn ord_type_char(t: OrdType) -> u8 {
    match t {
        OrdType::Market => b'1',
        OrdType::Limit => b'2',
        OrdType::Stop => b'3',
        OrdType::StopLimit => b'4',
        OrdType::TrailingStop => b'P',
    }
}

/// Side (54).
pub fn side_char(s: Side) -> u8 {
    match s {
        Side::Buy => b'1',
        Side::Sell => b'2',
    }
}

/// OrdRejReason (103) for a core reject code.
pub fn ord_rej_reason(code: RejectCode) -> u64 {
    use RejectCode::*;
    match code {
        UnknownInstrument => 1,
        InstrumentNotTradable => 2,
        QtyExceedsMax
        | NotionalExceedsMax
        | PriceOutsideCollar
        | PositionLongExceedsMax
        | PositionShortExceedsMax
        | GrossExposureExceedsMax
        | CreditExceedsMax
        | OpenOrdersExceedsMax
        | ThrottleNew
        | DailyLossExceeded
        | DrawdownExceeded
        | ReducingOnly
        | ReduceOnlyWouldIncrease => 3,
        UnknownOrder => 5,
        DuplicateClOrdId | DuplicateOrder => 6,
        UnsupportedOrder => 11,
        QtyNotPositive | QtyBelowMin | QtyAboveMax => 13,
        UnknownAccount => 15,
        _ => 99,
    }
}

/// CxlRejReason (102) for a core reject code.
pub fn cxl_rej_reason(code: RejectCode) -> u64 {
    use RejectCode::*;
    match code {
        OrderNotWorking => 0,
        UnknownOrder => 1,
        RequestPending => 3,
        DuplicateClOrdId => 6,
        ThrottleAmend
        | ThrottleCancel
        | KillSwitch
        | Halted
        | QtyExceedsMax
        | NotionalExceedsMax
        | PriceOutsideCollar
        | PositionLongExceedsMax
        | PositionShortExceedsMax
        | GrossExposureExceedsMax
        | CreditExceedsMax => 2,
        _ => 99,
    }
}

/// Writes a value with `Display` into Text without allocating.
fn text_of(body: &mut Body, args: std::fmt::Arguments<'_>) {
    let mut s = TextBuf::default();
    let _ = s.write_fmt(args);
    body.str(tag::TEXT, s.as_bytes());
}

/// A fixed buffer for short texts (longer ones are cut).
struct TextBuf {
    buf: [u8; 256],
    len: usize,
}

impl Default for TextBuf {
    fn default() -> Self {
        TextBuf { buf: [0; 256], len: 0 }
    }
}

impl TextBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for TextBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            if self.len == self.buf.len() {
                break;
            }
            // Printable ASCII only (a FIX value holds no SOH).
            self.buf[self.len] = if (0x20..=0x7e).contains(&b) { b } else { b'?' };
            self.len += 1;
        }
        Ok(())
    }
}

fn price(body: &mut Body, t: u32, inst: Option<&Instrument>, p: Price) {
    match inst {
        Some(i) => body.number(t, decimals::price_number(i, p)),
        None => body.i64(t, p.0),
    };
}

fn qty(body: &mut Body, t: u32, inst: Option<&Instrument>, q: Qty) {
    match inst {
        Some(i) => body.number(t, decimals::qty_number(i, q)),
        None => body.i64(t, q.0),
    };
}

/// The average fill price: `cum_notional / cum_qty` ticks as a decimal price.
pub fn avg_px(inst: &Instrument, cum_notional: i64, cum_qty: Qty) -> Decimal {
    if cum_qty.0 == 0 {
        return Decimal::ZERO;
    }
    if cum_notional % cum_qty.0 == 0 {
        // A whole number of ticks (one fill, or fills at one price): exact, no division.
        return decimals::price_decimal(inst, Price(cum_notional / cum_qty.0));
    }
    let places = inst.price_precision + 4;
    let ticks = Decimal::from(cum_notional) / Decimal::from(cum_qty.0);
    let mut avg = (ticks * inst.tick_size)
        .round_dp_with_strategy(places, RoundingStrategy::MidpointNearestEven)
        .normalize();
    if avg.scale() < inst.price_precision {
        avg.rescale(inst.price_precision);
    }
    avg
}

/// [`avg_px`] as a [`Number`]: a whole number of ticks (the usual case) without building a
/// `Decimal`.
fn avg_px_number(inst: &Instrument, cum_notional: i64, cum_qty: Qty) -> Number {
    if cum_qty.0 != 0 && cum_notional % cum_qty.0 == 0 {
        return decimals::price_number(inst, Price(cum_notional / cum_qty.0));
    }
    Number::Big(avg_px(inst, cum_notional, cum_qty))
}

/// An ExecutionReport for a core `ExecReport` (see the module docs).
pub fn execution_report(
    body: &mut Body,
    r: &ExecReport,
    exec_id: u64,
    transact_ns: u64,
    inst: Option<&Instrument>,
    precision: Precision,
) {
    body.clear();
    if r.order_id.0 == 0 {
        body.str(tag::ORDER_ID, b"NONE");
    } else {
        body.u64(tag::ORDER_ID, r.order_id.0);
    }
    body.str(tag::CL_ORD_ID, r.cl_ord_id.as_bytes());
    if let Some(orig) = &r.orig_cl_ord_id {
        body.str(tag::ORIG_CL_ORD_ID, orig.as_bytes());
    }
    body.u64(tag::EXEC_ID, exec_id)
        .char(tag::EXEC_TYPE, exec_type_char(r.exec_type))
        .char(tag::ORD_STATUS, ord_status_char(r.ord_status))
        .u64(tag::ACCOUNT, r.account.0 as u64);
    match inst {
        Some(i) => body.str(tag::SYMBOL, i.symbol.as_bytes()),
        None => body.u64(tag::SYMBOL, r.instrument.0 as u64),
    };
    body.char(tag::SIDE, side_char(r.side)).char(tag::ORD_TYPE, ord_type_char(r.ord_type));
    if matches!(r.ord_type, OrdType::Limit | OrdType::StopLimit) && r.price.0 != 0 {
        price(body, tag::PRICE, inst, r.price);
    }
    qty(body, tag::ORDER_QTY, inst, r.qty);
    if r.exec_type == ExecType::Trade {
        qty(body, tag::LAST_QTY, inst, r.last_qty);
        price(body, tag::LAST_PX, inst, r.last_px);
    }
    qty(body, tag::LEAVES_QTY, inst, r.leaves_qty);
    qty(body, tag::CUM_QTY, inst, r.cum_qty);
    match inst {
        Some(i) => body.number(tag::AVG_PX, avg_px_number(i, r.cum_notional, r.cum_qty)),
        None => body.u64(tag::AVG_PX, 0),
    };
    body.timestamp(tag::TRANSACT_TIME, transact_ns, precision);
    if let Some(info) = &r.reject {
        body.u64(tag::ORD_REJ_REASON, ord_rej_reason(info.code));
        text_of(body, format_args!("{info}"));
    } else if r.exec_type == ExecType::Triggered {
        body.str(tag::TEXT, b"TRIGGERED: the stop was released to the venue");
    }
}

/// An OrderCancelReject for a core `CancelReject`.
pub fn order_cancel_reject(
    body: &mut Body,
    c: &CancelReject,
    transact_ns: u64,
    precision: Precision,
) {
    body.clear();
    if c.order_id.0 == 0 {
        body.str(tag::ORDER_ID, b"NONE");
    } else {
        body.u64(tag::ORDER_ID, c.order_id.0);
    }
    body.str(tag::CL_ORD_ID, c.cl_ord_id.as_bytes())
        .str(tag::ORIG_CL_ORD_ID, c.orig_cl_ord_id.as_bytes())
        .char(tag::ORD_STATUS, ord_status_char(c.ord_status))
        .u64(tag::ACCOUNT, c.account.0 as u64)
        .char(tag::CXL_REJ_RESPONSE_TO, response_to_char(c.response_to))
        .u64(tag::CXL_REJ_REASON, cxl_rej_reason(c.reject.code))
        .timestamp(tag::TRANSACT_TIME, transact_ns, precision);
    text_of(body, format_args!("{}", c.reject));
}

fn response_to_char(r: CancelRejectTo) -> u8 {
    match r {
        CancelRejectTo::Cancel => b'1',
        CancelRejectTo::Replace => b'2',
    }
}

/// An OrderMassCancelReport for a core `MassCancelReport`. `request_type` is the
/// MassCancelRequestType of the request (the gateway remembers it); the report's
/// OrderID is the output's journal sequence.
pub fn mass_cancel_report(
    body: &mut Body,
    m: &MassCancelReport,
    request_type: u8,
    report_id: u64,
    transact_ns: u64,
    precision: Precision,
) {
    body.clear();
    body.str(tag::CL_ORD_ID, m.cl_ord_id.as_bytes())
        .u64(tag::ORDER_ID, report_id)
        .char(tag::MASS_CANCEL_REQUEST_TYPE, request_type);
    match &m.reject {
        None => {
            body.char(tag::MASS_CANCEL_RESPONSE, request_type)
                .u64(tag::TOTAL_AFFECTED_ORDERS, m.affected as u64);
        }
        Some(info) => {
            body.char(tag::MASS_CANCEL_RESPONSE, b'0')
                .char(tag::MASS_CANCEL_REJECT_REASON, b'0')
                .u64(tag::TOTAL_AFFECTED_ORDERS, 0);
            text_of(body, format_args!("{info}"));
        }
    }
    body.timestamp(tag::TRANSACT_TIME, transact_ns, precision);
}

/// The ExecutionReport (150=8) for a NewOrderSingle the gateway refused.
pub fn order_refusal(
    body: &mut Body,
    r: &OrderRefusal,
    exec_id: &[u8],
    transact_ns: u64,
    precision: Precision,
) {
    body.clear();
    body.str(tag::ORDER_ID, b"NONE")
        .str(tag::CL_ORD_ID, r.cl_ord_id.as_bytes())
        .str(tag::EXEC_ID, exec_id)
        .char(tag::EXEC_TYPE, b'8')
        .char(tag::ORD_STATUS, b'8')
        .str(tag::SYMBOL, &r.symbol)
        .char(tag::SIDE, side_char(r.side))
        .char(tag::ORD_TYPE, r.ord_type)
        .str(tag::ORDER_QTY, &r.qty)
        .u64(tag::LEAVES_QTY, 0)
        .u64(tag::CUM_QTY, 0)
        .u64(tag::AVG_PX, 0)
        .timestamp(tag::TRANSACT_TIME, transact_ns, precision)
        .u64(tag::ORD_REJ_REASON, r.reason as u64);
    text_of(body, format_args!("{}", r.text));
}

/// The OrderCancelReject for a cancel or replace the gateway refused.
pub fn cancel_refusal(body: &mut Body, r: &CancelRefusal, transact_ns: u64, precision: Precision) {
    body.clear();
    body.str(tag::ORDER_ID, b"NONE")
        .str(tag::CL_ORD_ID, &r.cl_ord_id)
        .str(tag::ORIG_CL_ORD_ID, &r.orig_cl_ord_id)
        .char(tag::ORD_STATUS, b'8')
        .char(tag::CXL_REJ_RESPONSE_TO, response_to_char(r.response_to))
        .u64(tag::CXL_REJ_REASON, 99)
        .timestamp(tag::TRANSACT_TIME, transact_ns, precision);
    text_of(body, format_args!("{}", r.text));
}

/// The OrderMassCancelReport (531=0) for a mass cancel the gateway refused.
pub fn mass_cancel_refusal(
    body: &mut Body,
    cl_ord_id: &[u8],
    request_type: u8,
    reason: u8,
    text: &str,
    transact_ns: u64,
    precision: Precision,
) {
    body.clear();
    body.str(tag::CL_ORD_ID, cl_ord_id)
        .str(tag::ORDER_ID, b"NONE")
        .char(tag::MASS_CANCEL_REQUEST_TYPE, request_type)
        .char(tag::MASS_CANCEL_RESPONSE, b'0')
        .char(tag::MASS_CANCEL_REJECT_REASON, reason)
        .u64(tag::TOTAL_AFFECTED_ORDERS, 0)
        .timestamp(tag::TRANSACT_TIME, transact_ns, precision);
    text_of(body, format_args!("{text}"));
}

/// A BusinessMessageReject (j).
pub fn business_reject(
    body: &mut Body,
    ref_seq: u64,
    ref_msg_type: &[u8],
    reason: BusinessRejectReason,
    ref_id: &[u8],
    text: &str,
) {
    body.clear();
    body.u64(tag::REF_SEQ_NUM, ref_seq).str(tag::REF_MSG_TYPE, ref_msg_type);
    if !ref_id.is_empty() {
        body.str(tag::BUSINESS_REJECT_REF_ID, ref_id);
    }
    body.u64(tag::BUSINESS_REJECT_REASON, reason.code() as u64);
    text_of(body, format_args!("{text}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_engine::InstrumentId;
    use std::str::FromStr;

    fn inst() -> Instrument {
        Instrument::builder(InstrumentId(0), "BTC-USD")
            .tick_size(Decimal::from_str("0.01").unwrap())
            .lot_size(Decimal::from_str("0.001").unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn avg_px_is_exact_when_it_can_be_and_rounded_beyond() {
        let i = inst();
        assert_eq!(avg_px(&i, 0, Qty(0)).to_string(), "0");
        // 3 lots at 100.05 and 5 lots at 100.04 (ticks): (3*10005 + 5*10004) / 8.
        assert_eq!(avg_px(&i, 3 * 10_005 + 5 * 10_004, Qty(8)).to_string(), "100.04375");
        assert_eq!(avg_px(&i, 2 * 10_000, Qty(2)).to_string(), "100.00");
        // 1/3 of a tick: rounded at 2 + 4 places.
        assert_eq!(avg_px(&i, 10_000 * 2 + 10_001, Qty(3)).to_string(), "100.003333");
        for (n, q) in [(0, 0), (3 * 10_005 + 5 * 10_004, 8), (20_000, 2), (-20_000, 2), (7, 3)] {
            assert_eq!(
                avg_px_number(&i, n, Qty(q)).to_decimal().to_string(),
                avg_px(&i, n, Qty(q)).to_string()
            );
        }
    }

    #[test]
    fn texts_are_cut_and_cleaned() {
        let mut b = Body::default();
        text_of(&mut b, format_args!("a\u{1}b{}", "x".repeat(300)));
        let v = b.as_bytes();
        assert!(v.starts_with(b"58=a?b"));
        assert_eq!(v.len(), 3 + 256 + 1);
    }
}
