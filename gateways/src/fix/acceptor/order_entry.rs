//! Client order entry, FIX to Keel: NewOrderSingle (D), OrderCancelRequest (F),
//! OrderCancelReplaceRequest (G) and OrderMassCancelRequest (q) become commands.
//!
//! [`decide`] reads one application message that the session layer accepted and decides
//! what happens to it, without allocating when the message is good:
//! - a [`Decision::Publish`] of the command for the core;
//! - a session-level Reject (35=3) when the message breaks its specification: a tag
//!   missing, not defined for the message, repeated, badly formatted, or a value outside
//!   the dialect's enumerations (SessionRejectReason 1, 2, 13, 6, 5, ...);
//! - a BusinessMessageReject (35=j) for a message type the order-entry dialect does not
//!   take (reason 3), or a field that another field's value requires (reason 5: Price for
//!   a limit order, StopPx for a stop, ExpireTime for GTD, PegOffsetValue for a trailing
//!   stop);
//! - an ExecutionReport with ExecType=8 Rejected for a NewOrderSingle whose content Keel
//!   cannot represent: an unknown Symbol (OrdRejReason 1) or ExDestination, a price or
//!   quantity that is not a whole number of ticks or lots (OrdRejReason 99, with the
//!   exact reason in Text);
//! - an OrderCancelReject (35=9) for such problems in a cancel or a replace, and an
//!   OrderMassCancelReport (35=r) with MassCancelResponse=0 for a mass cancel Keel does
//!   not support.
//!
//! Such rejections are the gateway's: the message never becomes a command, so it is not in
//! the engine's journal (the answer is in the session's message store). Everything the
//! core decides (risk, order state) comes back as outputs and is journaled.

use super::decimals;
use super::dictionary::Dictionary;
use crate::fix::message::{Message, Problem};
use crate::fix::spec::{GroupSpec, Located, MessageSpec, SpecIndex};
use crate::fix::tags::{BusinessRejectReason, SessionRejectReason as R, msg_type as mt, tag};
use crate::fix::value::Number;
use keel_engine::instrument::ConvertError;
use keel_engine::schema::MassCancelScope;
use keel_engine::schema::{
    CancelOrder, CancelRejectTo, CommandBody, MassCancel, NewOrder, OrderFlags, ReplaceOrder, Route,
};
use keel_engine::{AccountId, ClOrdId, OrdType, Price, Qty, Side, TimeInForce, TimestampNs};

/// The Parties component (453), accepted and validated, not used.
pub const PARTIES: GroupSpec = GroupSpec {
    count_tag: tag::NO_PARTY_IDS,
    delimiter: tag::PARTY_ID,
    members: &[tag::PARTY_ID, tag::PARTY_ID_SOURCE, tag::PARTY_ROLE],
    required: false,
};

/// NewOrderSingle as Keel takes it.
pub const NEW_ORDER_SINGLE: MessageSpec = MessageSpec {
    msg_type: mt::NEW_ORDER_SINGLE,
    required: &[
        tag::CL_ORD_ID,
        tag::SYMBOL,
        tag::SIDE,
        tag::TRANSACT_TIME,
        tag::ORDER_QTY,
        tag::ORD_TYPE,
    ],
    optional: &[
        tag::ACCOUNT,
        tag::PRICE,
        tag::STOP_PX,
        tag::TIME_IN_FORCE,
        tag::EXPIRE_TIME,
        tag::EXEC_INST,
        tag::MAX_FLOOR,
        tag::EX_DESTINATION,
        tag::HANDL_INST,
        tag::PEG_OFFSET_VALUE,
        tag::TEXT,
    ],
    groups: &[PARTIES],
};

/// OrderCancelRequest as Keel takes it.
pub const ORDER_CANCEL_REQUEST: MessageSpec = MessageSpec {
    msg_type: mt::ORDER_CANCEL_REQUEST,
    required: &[tag::ORIG_CL_ORD_ID, tag::CL_ORD_ID, tag::SYMBOL, tag::SIDE, tag::TRANSACT_TIME],
    optional: &[tag::ACCOUNT, tag::ORDER_ID, tag::ORDER_QTY, tag::TEXT],
    groups: &[PARTIES],
};

/// OrderCancelReplaceRequest as Keel takes it: price, quantity, stop price and display
/// quantity can change; the other terms are the order's.
pub const ORDER_CANCEL_REPLACE_REQUEST: MessageSpec = MessageSpec {
    msg_type: mt::ORDER_CANCEL_REPLACE_REQUEST,
    required: &[
        tag::ORIG_CL_ORD_ID,
        tag::CL_ORD_ID,
        tag::SYMBOL,
        tag::SIDE,
        tag::TRANSACT_TIME,
        tag::ORDER_QTY,
        tag::ORD_TYPE,
    ],
    optional: &[
        tag::ACCOUNT,
        tag::ORDER_ID,
        tag::PRICE,
        tag::STOP_PX,
        tag::MAX_FLOOR,
        tag::HANDL_INST,
        tag::TEXT,
    ],
    groups: &[PARTIES],
};

/// OrderMassCancelRequest as Keel takes it.
pub const ORDER_MASS_CANCEL_REQUEST: MessageSpec = MessageSpec {
    msg_type: mt::ORDER_MASS_CANCEL_REQUEST,
    required: &[tag::CL_ORD_ID, tag::MASS_CANCEL_REQUEST_TYPE, tag::TRANSACT_TIME],
    optional: &[tag::SYMBOL, tag::SIDE, tag::TEXT],
    groups: &[PARTIES],
};

/// OrdRejReason 1.
pub const ORD_REJ_UNKNOWN_SYMBOL: u32 = 1;
/// OrdRejReason 99.
pub const ORD_REJ_OTHER: u32 = 99;
/// CxlRejReason 99.
pub const CXL_REJ_OTHER: u32 = 99;
/// MassCancelRejectReason 1: invalid or unknown security.
pub const MASS_REJ_UNKNOWN_SECURITY: u8 = b'1';
/// MassCancelRejectReason 0: mass cancel (of this kind) not supported. (99 "other" is
/// not a valid value of this CHAR field in the FIX 4.4 dictionary.)
pub const MASS_REJ_NOT_SUPPORTED: u8 = b'0';

/// A NewOrderSingle refused by the gateway, echoed in its ExecutionReport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRefusal {
    /// ClOrdID.
    pub cl_ord_id: ClOrdId,
    /// Side.
    pub side: Side,
    /// Symbol as sent.
    pub symbol: Vec<u8>,
    /// OrderQty as sent.
    pub qty: Vec<u8>,
    /// OrdType as sent.
    pub ord_type: u8,
    /// OrdRejReason.
    pub reason: u32,
    /// Text.
    pub text: String,
}

/// A cancel or replace refused by the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelRefusal {
    /// ClOrdID of the request.
    pub cl_ord_id: Vec<u8>,
    /// OrigClOrdID of the request.
    pub orig_cl_ord_id: Vec<u8>,
    /// Cancel or replace.
    pub response_to: CancelRejectTo,
    /// Text.
    pub text: String,
}

/// What the gateway does with one application message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Publish this command to the core.
    Publish(CommandBody),
    /// Session-level Reject (35=3).
    Reject(Problem, String),
    /// BusinessMessageReject (35=j).
    BusinessReject {
        /// BusinessRejectReason.
        reason: BusinessRejectReason,
        /// BusinessRejectRefID (the ClOrdID, when there is one).
        ref_id: Vec<u8>,
        /// Text.
        text: String,
    },
    /// ExecutionReport 150=8 for a NewOrderSingle.
    RejectOrder(OrderRefusal),
    /// OrderCancelReject for a cancel or a replace.
    RejectCancel(CancelRefusal),
    /// OrderMassCancelReport 531=0.
    RejectMassCancel {
        /// ClOrdID of the request.
        cl_ord_id: Vec<u8>,
        /// MassCancelRequestType as sent.
        request_type: u8,
        /// MassCancelRejectReason.
        reason: u8,
        /// Text.
        text: String,
    },
}

fn reject(p: Problem, text: impl Into<String>) -> Decision {
    Decision::Reject(p, text.into())
}

fn out_of_range(t: u32, what: &str) -> Decision {
    reject(Problem::new(R::ValueOutOfRange, t), what)
}

fn conditional(ref_id: &[u8], text: String) -> Decision {
    Decision::BusinessReject {
        reason: BusinessRejectReason::ConditionallyRequiredFieldMissing,
        ref_id: ref_id.to_vec(),
        text,
    }
}

fn problem_text(p: &Problem, msg: &Message<'_>) -> String {
    match msg.get(p.tag) {
        Some(v) => format!("{p}: {:?}", String::from_utf8_lossy(v)),
        None => p.to_string(),
    }
}

macro_rules! try_field {
    ($e:expr, $msg:expr) => {
        match $e {
            Ok(v) => v,
            Err(p) => {
                let text = problem_text(&p, $msg);
                return reject(p, text);
            }
        }
    };
}

/// The session's view of an order-entry message: who sent it.
#[derive(Clone, Copy, Debug)]
pub struct Sender {
    /// The session's account (orders trade for it unless Account (1) names another, which
    /// the core then refuses).
    pub account: AccountId,
}

/// Decides what to do with an application message (see the module docs).
pub fn decide(msg: &Message<'_>, dict: &Dictionary, sender: Sender) -> Decision {
    match msg.msg_type() {
        mt::NEW_ORDER_SINGLE => new_order(msg, dict, sender),
        mt::ORDER_CANCEL_REQUEST => cancel(msg, sender),
        mt::ORDER_CANCEL_REPLACE_REQUEST => replace(msg, dict, sender),
        mt::ORDER_MASS_CANCEL_REQUEST => mass_cancel(msg, dict, sender),
        other => Decision::BusinessReject {
            reason: BusinessRejectReason::UnsupportedMessageType,
            ref_id: Vec::new(),
            text: format!(
                "MsgType {} is not supported by Keel's order entry (D, F, G, q)",
                String::from_utf8_lossy(other)
            ),
        },
    }
}

/// The body fields of a validated order-entry message, by tag: [`SpecIndex::validate`]
/// finds them in its one pass over the message, so that each is then read in constant
/// time instead of by a scan of the fields.
type Fields<'a> = Located<'a>;

/// The order-entry specs, indexed at compile time.
static NEW_ORDER_SINGLE_INDEX: SpecIndex = SpecIndex::new(&NEW_ORDER_SINGLE);
static ORDER_CANCEL_REQUEST_INDEX: SpecIndex = SpecIndex::new(&ORDER_CANCEL_REQUEST);
static ORDER_CANCEL_REPLACE_REQUEST_INDEX: SpecIndex =
    SpecIndex::new(&ORDER_CANCEL_REPLACE_REQUEST);
static ORDER_MASS_CANCEL_REQUEST_INDEX: SpecIndex = SpecIndex::new(&ORDER_MASS_CANCEL_REQUEST);

fn cl_ord_id(f: &Fields<'_>, t: u32) -> Result<ClOrdId, Decision> {
    let v = f.get(t).unwrap_or_default();
    ClOrdId::from_bytes(v).map_err(|e| out_of_range(t, &format!("{e} (tag {t})")))
}

fn account(f: &Fields<'_>, sender: Sender) -> Result<AccountId, Decision> {
    match f.field(tag::ACCOUNT) {
        None => Ok(sender.account),
        Some(a) => match a.u64() {
            Ok(n) if n <= u32::MAX as u64 => Ok(AccountId(n as u32)),
            _ => Err(reject(
                Problem::new(R::IncorrectDataFormat, tag::ACCOUNT),
                "Account (1) must be the number of a Keel account",
            )),
        },
    }
}

fn side(f: &Fields<'_>) -> Result<Side, Decision> {
    match f.get(tag::SIDE) {
        Some(b"1") => Ok(Side::Buy),
        Some(b"2") => Ok(Side::Sell),
        _ => Err(out_of_range(tag::SIDE, "Side must be 1 (buy) or 2 (sell)")),
    }
}

fn ord_type(f: &Fields<'_>) -> Result<(u8, OrdType), Decision> {
    let t = match f.get(tag::ORD_TYPE) {
        Some([c]) => *c,
        _ => 0,
    };
    let o = match t {
        b'1' => OrdType::Market,
        b'2' => OrdType::Limit,
        b'3' => OrdType::Stop,
        b'4' => OrdType::StopLimit,
        b'P' => OrdType::TrailingStop,
        _ => {
            return Err(out_of_range(
                tag::ORD_TYPE,
                "OrdType must be 1 (market), 2 (limit), 3 (stop), 4 (stop limit) or P (trailing stop peg)",
            ));
        }
    };
    Ok((t, o))
}

/// An exact price, quantity or offset; a convert error is a business refusal (the text).
fn convert<T>(
    msg: &Message<'_>,
    fields: &Fields<'_>,
    t: u32,
    f: impl Fn(Number) -> Result<T, ConvertError>,
) -> Result<Option<Result<T, String>>, Decision> {
    let Some(field) = fields.field(t) else { return Ok(None) };
    let d = field.number().map_err(|p| reject(p, problem_text(&p, msg)))?;
    Ok(Some(f(d).map_err(|e| format!("{e} (tag {t})"))))
}

fn new_order(msg: &Message<'_>, dict: &Dictionary, sender: Sender) -> Decision {
    let f = try_field!(NEW_ORDER_SINGLE_INDEX.validate(msg), msg);
    let id = match cl_ord_id(&f, tag::CL_ORD_ID) {
        Ok(id) => id,
        Err(d) => return d,
    };
    let side = match side(&f) {
        Ok(s) => s,
        Err(d) => return d,
    };
    let (ord_type_char, ord_type) = match ord_type(&f) {
        Ok(o) => o,
        Err(d) => return d,
    };
    try_field!(f.require(tag::TRANSACT_TIME).and_then(|x| x.timestamp()), msg);
    let account = match account(&f, sender) {
        Ok(a) => a,
        Err(d) => return d,
    };
    let tif = match f.get(tag::TIME_IN_FORCE) {
        None | Some(b"0") => TimeInForce::Day,
        Some(b"1") => TimeInForce::Gtc,
        Some(b"3") => TimeInForce::Ioc,
        Some(b"4") => TimeInForce::Fok,
        Some(b"6") => TimeInForce::Gtd,
        Some(_) => {
            return out_of_range(
                tag::TIME_IN_FORCE,
                "TimeInForce must be 0 (day), 1 (GTC), 3 (IOC), 4 (FOK) or 6 (GTD)",
            );
        }
    };
    let mut flags = OrderFlags::NONE;
    let mut trailing_peg = false;
    if let Some(v) = f.get(tag::EXEC_INST) {
        for part in v.split(|&b| b == b' ') {
            match part {
                b"6" => flags = flags.with(OrderFlags::POST_ONLY),
                b"E" => flags = flags.with(OrderFlags::REDUCE_ONLY),
                b"a" => trailing_peg = true,
                _ => {
                    return out_of_range(
                        tag::EXEC_INST,
                        "ExecInst values must be 6 (post only), E (reduce only) or a (trailing stop peg)",
                    );
                }
            }
        }
    }
    if let Some(h) = f.get(tag::HANDL_INST) {
        if h != b"1" {
            return out_of_range(
                tag::HANDL_INST,
                "HandlInst must be 1 (automated, no intervention)",
            );
        }
    }
    let refuse = |reason: u32, text: String| {
        Decision::RejectOrder(OrderRefusal {
            cl_ord_id: id,
            side,
            symbol: f.get(tag::SYMBOL).unwrap_or_default().to_vec(),
            qty: f.get(tag::ORDER_QTY).unwrap_or_default().to_vec(),
            ord_type: ord_type_char,
            reason,
            text,
        })
    };
    let symbol = f.get(tag::SYMBOL).unwrap_or_default();
    let Some(inst) = dict.by_symbol(symbol) else {
        return refuse(
            ORD_REJ_UNKNOWN_SYMBOL,
            format!("unknown symbol {:?}", String::from_utf8_lossy(symbol)),
        );
    };
    let route = match f.get(tag::EX_DESTINATION) {
        None => Route::BestPrice,
        Some(name) => match dict.venue(name) {
            Some(v) => Route::Venue(v),
            None => {
                return refuse(
                    ORD_REJ_OTHER,
                    format!("unknown ExDestination {:?}", String::from_utf8_lossy(name)),
                );
            }
        },
    };
    // Conditionally required and conditionally forbidden fields.
    let needs_price = matches!(ord_type, OrdType::Limit | OrdType::StopLimit);
    let needs_stop = matches!(ord_type, OrdType::Stop | OrdType::StopLimit);
    let is_peg = ord_type == OrdType::TrailingStop;
    let has = |t| f.get(t).is_some();
    let ref_id = id.as_bytes();
    if needs_price && !has(tag::PRICE) {
        return conditional(
            ref_id,
            format!("Price (44) is required for OrdType {}", ord_type_char as char),
        );
    }
    if !needs_price && has(tag::PRICE) {
        return out_of_range(tag::PRICE, "Price (44) is only for limit and stop-limit orders");
    }
    if needs_stop && !has(tag::STOP_PX) {
        return conditional(
            ref_id,
            format!("StopPx (99) is required for OrdType {}", ord_type_char as char),
        );
    }
    if !needs_stop && !is_peg && has(tag::STOP_PX) {
        return out_of_range(
            tag::STOP_PX,
            "StopPx (99) is only for stop, stop-limit and trailing stop orders",
        );
    }
    if is_peg && !(trailing_peg && has(tag::PEG_OFFSET_VALUE)) {
        return conditional(
            ref_id,
            "OrdType P needs ExecInst (18) a (trailing stop peg) and PegOffsetValue (211)".into(),
        );
    }
    if !is_peg && (trailing_peg || has(tag::PEG_OFFSET_VALUE)) {
        return out_of_range(
            tag::EXEC_INST,
            "ExecInst a and PegOffsetValue (211) are only for OrdType P",
        );
    }
    if tif == TimeInForce::Gtd && !has(tag::EXPIRE_TIME) {
        return conditional(ref_id, "ExpireTime (126) is required for TimeInForce 6 (GTD)".into());
    }
    if tif != TimeInForce::Gtd && has(tag::EXPIRE_TIME) {
        return out_of_range(tag::EXPIRE_TIME, "ExpireTime (126) is only for TimeInForce 6 (GTD)");
    }
    let expire_at = match f.field(tag::EXPIRE_TIME) {
        Some(x) => TimestampNs(try_field!(x.timestamp(), msg)),
        None => TimestampNs(0),
    };
    macro_rules! exact {
        ($t:expr, $f:expr) => {
            match convert(msg, &f, $t, $f) {
                Err(d) => return d,
                Ok(None) => None,
                Ok(Some(Ok(v))) => Some(v),
                Ok(Some(Err(text))) => return refuse(ORD_REJ_OTHER, text),
            }
        };
    }
    let qty = exact!(tag::ORDER_QTY, |d| decimals::qty(inst, d)).unwrap_or(Qty(0));
    let price = exact!(tag::PRICE, |d| decimals::price(inst, d)).unwrap_or(Price(0));
    let stop_price = exact!(tag::STOP_PX, |d| decimals::price(inst, d)).unwrap_or(Price(0));
    let display_qty = exact!(tag::MAX_FLOOR, |d| decimals::qty(inst, d)).unwrap_or(Qty(0));
    let trail_ticks =
        exact!(tag::PEG_OFFSET_VALUE, |d| decimals::price(inst, d.abs())).map_or(0, |p| p.0);
    Decision::Publish(CommandBody::NewOrder(NewOrder {
        cl_ord_id: id,
        account,
        instrument: inst.id,
        route,
        side,
        ord_type,
        tif,
        flags,
        price,
        stop_price,
        trail_ticks,
        qty,
        display_qty,
        expire_at,
    }))
}

fn cancel(msg: &Message<'_>, sender: Sender) -> Decision {
    let f = try_field!(ORDER_CANCEL_REQUEST_INDEX.validate(msg), msg);
    let (id, orig) = match (cl_ord_id(&f, tag::CL_ORD_ID), cl_ord_id(&f, tag::ORIG_CL_ORD_ID)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(d), _) | (_, Err(d)) => return d,
    };
    if let Err(d) = side(&f) {
        return d;
    }
    try_field!(f.require(tag::TRANSACT_TIME).and_then(|x| x.timestamp()), msg);
    if let Some(q) = f.field(tag::ORDER_QTY) {
        try_field!(q.decimal(), msg);
    }
    let account = match account(&f, sender) {
        Ok(a) => a,
        Err(d) => return d,
    };
    Decision::Publish(CommandBody::CancelOrder(CancelOrder {
        cl_ord_id: id,
        orig_cl_ord_id: orig,
        account,
    }))
}

fn replace(msg: &Message<'_>, dict: &Dictionary, sender: Sender) -> Decision {
    let f = try_field!(ORDER_CANCEL_REPLACE_REQUEST_INDEX.validate(msg), msg);
    let (id, orig) = match (cl_ord_id(&f, tag::CL_ORD_ID), cl_ord_id(&f, tag::ORIG_CL_ORD_ID)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(d), _) | (_, Err(d)) => return d,
    };
    if let Err(d) = side(&f) {
        return d;
    }
    let (ord_type_char, ord_type) = match ord_type(&f) {
        Ok(o) => o,
        Err(d) => return d,
    };
    try_field!(f.require(tag::TRANSACT_TIME).and_then(|x| x.timestamp()), msg);
    if let Some(h) = f.get(tag::HANDL_INST) {
        if h != b"1" {
            return out_of_range(
                tag::HANDL_INST,
                "HandlInst must be 1 (automated, no intervention)",
            );
        }
    }
    let account = match account(&f, sender) {
        Ok(a) => a,
        Err(d) => return d,
    };
    let refuse = |text: String| {
        Decision::RejectCancel(CancelRefusal {
            cl_ord_id: id.as_bytes().to_vec(),
            orig_cl_ord_id: orig.as_bytes().to_vec(),
            response_to: CancelRejectTo::Replace,
            text,
        })
    };
    let symbol = f.get(tag::SYMBOL).unwrap_or_default();
    let Some(inst) = dict.by_symbol(symbol) else {
        return refuse(format!("unknown symbol {:?}", String::from_utf8_lossy(symbol)));
    };
    let needs_price = matches!(ord_type, OrdType::Limit | OrdType::StopLimit);
    let needs_stop = matches!(ord_type, OrdType::Stop | OrdType::StopLimit);
    let has = |t| f.get(t).is_some();
    if needs_price && !has(tag::PRICE) {
        return conditional(
            id.as_bytes(),
            format!("Price (44) is required for OrdType {}", ord_type_char as char),
        );
    }
    if !needs_price && has(tag::PRICE) {
        return out_of_range(tag::PRICE, "Price (44) is only for limit and stop-limit orders");
    }
    if needs_stop && !has(tag::STOP_PX) {
        return conditional(
            id.as_bytes(),
            format!("StopPx (99) is required for OrdType {}", ord_type_char as char),
        );
    }
    if !needs_stop && has(tag::STOP_PX) {
        return out_of_range(tag::STOP_PX, "StopPx (99) is only for stop and stop-limit orders");
    }
    macro_rules! exact {
        ($t:expr, $f:expr) => {
            match convert(msg, &f, $t, $f) {
                Err(d) => return d,
                Ok(None) => None,
                Ok(Some(Ok(v))) => Some(v),
                Ok(Some(Err(text))) => return refuse(text),
            }
        };
    }
    let qty = exact!(tag::ORDER_QTY, |d| decimals::qty(inst, d)).unwrap_or(Qty(0));
    let price = exact!(tag::PRICE, |d| decimals::price(inst, d)).unwrap_or(Price(0));
    let stop_price = exact!(tag::STOP_PX, |d| decimals::price(inst, d)).unwrap_or(Price(0));
    let display_qty = exact!(tag::MAX_FLOOR, |d| decimals::qty(inst, d)).unwrap_or(Qty(0));
    Decision::Publish(CommandBody::ReplaceOrder(ReplaceOrder {
        cl_ord_id: id,
        orig_cl_ord_id: orig,
        account,
        price,
        stop_price,
        qty,
        display_qty,
    }))
}

fn mass_cancel(msg: &Message<'_>, dict: &Dictionary, sender: Sender) -> Decision {
    let f = try_field!(ORDER_MASS_CANCEL_REQUEST_INDEX.validate(msg), msg);
    let id = match cl_ord_id(&f, tag::CL_ORD_ID) {
        Ok(id) => id,
        Err(d) => return d,
    };
    try_field!(f.require(tag::TRANSACT_TIME).and_then(|x| x.timestamp()), msg);
    let request_type = match f.get(tag::MASS_CANCEL_REQUEST_TYPE) {
        Some([c @ b'1'..=b'7']) => *c,
        _ => {
            return out_of_range(
                tag::MASS_CANCEL_REQUEST_TYPE,
                "MassCancelRequestType must be one of 1..7",
            );
        }
    };
    let refuse = |reason: u8, text: String| Decision::RejectMassCancel {
        cl_ord_id: id.as_bytes().to_vec(),
        request_type,
        reason,
        text,
    };
    if f.get(tag::SIDE).is_some() {
        return refuse(MASS_REJ_NOT_SUPPORTED, "a mass cancel by Side is not supported".into());
    }
    let scope = match request_type {
        b'7' => {
            if f.get(tag::SYMBOL).is_some() {
                return out_of_range(
                    tag::SYMBOL,
                    "Symbol (55) is only for MassCancelRequestType 1",
                );
            }
            MassCancelScope::Account
        }
        b'1' => {
            let Some(symbol) = f.get(tag::SYMBOL) else {
                return conditional(
                    id.as_bytes(),
                    "Symbol (55) is required for MassCancelRequestType 1".into(),
                );
            };
            match dict.by_symbol(symbol) {
                Some(i) => MassCancelScope::Instrument(i.id),
                None => {
                    return refuse(
                        MASS_REJ_UNKNOWN_SECURITY,
                        format!("unknown symbol {:?}", String::from_utf8_lossy(symbol)),
                    );
                }
            }
        }
        _ => {
            return refuse(
                MASS_REJ_NOT_SUPPORTED,
                "only MassCancelRequestType 1 (security) and 7 (all orders) are supported".into(),
            );
        }
    };
    Decision::Publish(CommandBody::MassCancel(MassCancel {
        cl_ord_id: id,
        account: sender.account,
        scope,
    }))
}
