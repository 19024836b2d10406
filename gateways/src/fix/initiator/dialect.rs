//! The venue dialect: what Keel sends to a venue's FIX acceptor and what it takes back,
//! shared by the initiator ([`super`]) and the simulated venue's acceptor
//! ([`crate::fix::venue`]).
//!
//! - Order entry, Keel → venue: NewOrderSingle (D), OrderCancelRequest (F),
//!   OrderCancelReplaceRequest (G), OrderStatusRequest (H), OrderMassStatusRequest (AF).
//! - Market data, Keel → venue: MarketDataRequest (V) for snapshot + incremental updates
//!   of aggregated price levels (bids, offers) and trades.
//! - Venue → Keel: ExecutionReport (8), OrderCancelReject (9),
//!   MarketDataSnapshotFullRefresh (W), MarketDataIncrementalRefresh (X),
//!   MarketDataRequestReject (Y), BusinessMessageReject (j).
//!
//! Tags and message types beyond [`crate::fix::tags`] are named here (market data and
//! status requests are venue-side only). The [`MessageSpec`]s are the data dictionary of
//! this dialect: an inbound message is validated against its spec before it is read, so a
//! tag outside it is a session-level Reject, never silently ignored. The specs accept the
//! optional fields a standard FIX 4.4 engine commonly sends (checked against QuickFIX's
//! FIX44.xml) so that a real venue interoperates.

use crate::fix::spec::{GroupSpec, MessageSpec};
use crate::fix::tags::tag as t;
use keel_engine::{OrdType, Side, TimeInForce};

/// Tags of the venue dialect that [`crate::fix::tags::tag`] does not name.
pub mod tag {
    pub const COMMISSION: u32 = 12;
    pub const COMM_TYPE: u32 = 13;
    pub const CURRENCY: u32 = 15;
    pub const EXEC_REF_ID: u32 = 19;
    pub const SECURITY_ID_SOURCE: u32 = 22;
    pub const LAST_MKT: u32 = 30;
    pub const SECURITY_ID: u32 = 48;
    pub const NO_RELATED_SYM: u32 = 146;
    pub const SECONDARY_ORDER_ID: u32 = 198;
    pub const SECURITY_EXCHANGE: u32 = 207;
    pub const MD_REQ_ID: u32 = 262;
    pub const SUBSCRIPTION_REQUEST_TYPE: u32 = 263;
    pub const MARKET_DEPTH: u32 = 264;
    pub const MD_UPDATE_TYPE: u32 = 265;
    pub const AGGREGATED_BOOK: u32 = 266;
    pub const NO_MD_ENTRY_TYPES: u32 = 267;
    pub const NO_MD_ENTRIES: u32 = 268;
    pub const MD_ENTRY_TYPE: u32 = 269;
    pub const MD_ENTRY_PX: u32 = 270;
    pub const MD_ENTRY_SIZE: u32 = 271;
    pub const MD_UPDATE_ACTION: u32 = 279;
    pub const MD_REQ_REJ_REASON: u32 = 281;
    pub const NUMBER_OF_ORDERS: u32 = 346;
    pub const MD_ENTRY_POSITION_NO: u32 = 290;
    pub const SECONDARY_EXEC_ID: u32 = 527;
    pub const MASS_STATUS_REQ_ID: u32 = 584;
    pub const MASS_STATUS_REQ_TYPE: u32 = 585;
    pub const ORD_STATUS_REQ_ID: u32 = 790;
    pub const LAST_LIQUIDITY_IND: u32 = 851;
    pub const TOT_NUM_REPORTS: u32 = 911;
    pub const LAST_RPT_REQUESTED: u32 = 912;
}

/// Message types of the venue dialect that [`crate::fix::tags::msg_type`] does not name.
pub mod msg_type {
    pub const ORDER_STATUS_REQUEST: &[u8] = b"H";
    pub const ORDER_MASS_STATUS_REQUEST: &[u8] = b"AF";
    pub const MARKET_DATA_REQUEST_REJECT: &[u8] = b"Y";
}

/// ExecType (150) values.
pub mod exec_type {
    pub const NEW: u8 = b'0';
    pub const DONE_FOR_DAY: u8 = b'3';
    pub const CANCELED: u8 = b'4';
    pub const REPLACED: u8 = b'5';
    pub const PENDING_CANCEL: u8 = b'6';
    pub const REJECTED: u8 = b'8';
    pub const PENDING_NEW: u8 = b'A';
    pub const EXPIRED: u8 = b'C';
    pub const RESTATED: u8 = b'D';
    pub const PENDING_REPLACE: u8 = b'E';
    pub const TRADE: u8 = b'F';
    pub const TRADE_CORRECT: u8 = b'G';
    pub const TRADE_CANCEL: u8 = b'H';
    pub const ORDER_STATUS: u8 = b'I';
}

/// OrdStatus (39) values.
pub mod ord_status {
    pub const NEW: u8 = b'0';
    pub const PARTIALLY_FILLED: u8 = b'1';
    pub const FILLED: u8 = b'2';
    pub const DONE_FOR_DAY: u8 = b'3';
    pub const CANCELED: u8 = b'4';
    pub const PENDING_CANCEL: u8 = b'6';
    pub const STOPPED: u8 = b'7';
    pub const REJECTED: u8 = b'8';
    pub const SUSPENDED: u8 = b'9';
    pub const PENDING_NEW: u8 = b'A';
    pub const CALCULATED: u8 = b'B';
    pub const EXPIRED: u8 = b'C';
    pub const ACCEPTED_FOR_BIDDING: u8 = b'D';
    pub const PENDING_REPLACE: u8 = b'E';

    /// True for the statuses after which nothing more happens to an order.
    pub fn is_terminal(s: u8) -> bool {
        matches!(s, FILLED | CANCELED | REJECTED | EXPIRED)
    }

    /// True for every status FIX 4.4 defines.
    pub fn is_valid(s: u8) -> bool {
        matches!(s, b'0'..=b'9' | b'A'..=b'E')
    }
}

/// OrdRejReason (103) / CxlRejReason (102) values the simulated venue sends.
pub mod reject_reason {
    /// OrdRejReason 1: unknown symbol.
    pub const UNKNOWN_SYMBOL: u32 = 1;
    /// OrdRejReason 5 / CxlRejReason 1: unknown order.
    pub const UNKNOWN_ORDER: u32 = 5;
    /// CxlRejReason 1: unknown order.
    pub const CXL_UNKNOWN_ORDER: u32 = 1;
    /// CxlRejReason 0 / OrdRejReason 99: other.
    pub const OTHER: u32 = 99;
    /// OrdRejReason 6: duplicate order (a ClOrdID already used).
    pub const DUPLICATE_ORDER: u32 = 6;
    /// OrdRejReason 11: unsupported order characteristic.
    pub const UNSUPPORTED: u32 = 11;
}

/// MDEntryType (269) values used.
pub mod md_entry {
    pub const BID: u8 = b'0';
    pub const OFFER: u8 = b'1';
    pub const TRADE: u8 = b'2';
}

/// MDUpdateAction (279) values.
pub mod md_action {
    pub const NEW: u8 = b'0';
    pub const CHANGE: u8 = b'1';
    pub const DELETE: u8 = b'2';
}

/// Side (54) of a Keel side.
pub fn side_char(side: Side) -> u8 {
    match side {
        Side::Buy => b'1',
        Side::Sell => b'2',
    }
}

/// Keel side of a Side (54) value.
pub fn side_of(c: u8) -> Option<Side> {
    match c {
        b'1' => Some(Side::Buy),
        b'2' => Some(Side::Sell),
        _ => None,
    }
}

/// OrdType (40) of the types a venue receives (stops are held by Keel).
pub fn ord_type_char(t: OrdType) -> u8 {
    match t {
        OrdType::Market => b'1',
        OrdType::Limit => b'2',
        OrdType::Stop => b'3',
        OrdType::StopLimit => b'4',
        // Never sent: the core emulates trailing stops. `P` is FIX's "pegged".
        OrdType::TrailingStop => b'P',
    }
}

/// Keel type of an OrdType (40) value that a venue order can have.
pub fn ord_type_of(c: u8) -> Option<OrdType> {
    match c {
        b'1' => Some(OrdType::Market),
        b'2' => Some(OrdType::Limit),
        _ => None,
    }
}

/// TimeInForce (59).
pub fn tif_char(tif: TimeInForce) -> u8 {
    match tif {
        TimeInForce::Day => b'0',
        TimeInForce::Gtc => b'1',
        TimeInForce::Ioc => b'3',
        TimeInForce::Fok => b'4',
        TimeInForce::Gtd => b'6',
    }
}

/// Keel time in force of a TimeInForce (59) value.
pub fn tif_of(c: u8) -> Option<TimeInForce> {
    match c {
        b'0' => Some(TimeInForce::Day),
        b'1' => Some(TimeInForce::Gtc),
        b'3' => Some(TimeInForce::Ioc),
        b'4' => Some(TimeInForce::Fok),
        b'6' => Some(TimeInForce::Gtd),
        _ => None,
    }
}

/// ExecInst (18) value `6` ("participate don't initiate"): post-only.
pub const EXEC_INST_POST_ONLY: &[u8] = b"6";

// ---- specs: venue -> Keel --------------------------------------------------------------

/// ExecutionReport as the initiator accepts it.
pub const EXECUTION_REPORT: MessageSpec = MessageSpec {
    msg_type: b"8",
    required: &[
        t::ORDER_ID,
        t::EXEC_ID,
        t::EXEC_TYPE,
        t::ORD_STATUS,
        t::SIDE,
        t::LEAVES_QTY,
        t::CUM_QTY,
    ],
    optional: &[
        t::ACCOUNT,
        t::AVG_PX,
        t::CL_ORD_ID,
        t::ORIG_CL_ORD_ID,
        t::SYMBOL,
        t::ORDER_QTY,
        t::ORD_TYPE,
        t::PRICE,
        t::STOP_PX,
        t::TIME_IN_FORCE,
        t::EXPIRE_TIME,
        t::EXEC_INST,
        t::MAX_FLOOR,
        t::LAST_PX,
        t::LAST_QTY,
        t::TRANSACT_TIME,
        t::TEXT,
        t::ORD_REJ_REASON,
        t::HANDL_INST,
        tag::COMMISSION,
        tag::COMM_TYPE,
        tag::CURRENCY,
        tag::EXEC_REF_ID,
        tag::LAST_MKT,
        tag::SECURITY_ID,
        tag::SECURITY_ID_SOURCE,
        tag::SECURITY_EXCHANGE,
        tag::SECONDARY_ORDER_ID,
        tag::SECONDARY_EXEC_ID,
        tag::LAST_LIQUIDITY_IND,
        tag::ORD_STATUS_REQ_ID,
        tag::MASS_STATUS_REQ_ID,
        tag::TOT_NUM_REPORTS,
        tag::LAST_RPT_REQUESTED,
    ],
    groups: &[],
};

/// OrderCancelReject as the initiator accepts it.
pub const ORDER_CANCEL_REJECT: MessageSpec = MessageSpec {
    msg_type: b"9",
    required: &[
        t::ORDER_ID,
        t::CL_ORD_ID,
        t::ORIG_CL_ORD_ID,
        t::ORD_STATUS,
        t::CXL_REJ_RESPONSE_TO,
    ],
    optional: &[t::ACCOUNT, t::CXL_REJ_REASON, t::TEXT, t::TRANSACT_TIME, tag::SECONDARY_ORDER_ID],
    groups: &[],
};

/// An entry of a full refresh (W).
pub const MD_FULL_ENTRIES: GroupSpec = GroupSpec {
    count_tag: tag::NO_MD_ENTRIES,
    delimiter: tag::MD_ENTRY_TYPE,
    members: &[
        tag::MD_ENTRY_TYPE,
        tag::MD_ENTRY_PX,
        tag::MD_ENTRY_SIZE,
        tag::NUMBER_OF_ORDERS,
        tag::MD_ENTRY_POSITION_NO,
    ],
    required: true,
};

/// MarketDataSnapshotFullRefresh as the initiator accepts it (one symbol per message).
pub const MD_SNAPSHOT: MessageSpec = MessageSpec {
    msg_type: b"W",
    required: &[t::SYMBOL],
    optional: &[tag::MD_REQ_ID, tag::SECURITY_ID, tag::SECURITY_ID_SOURCE, tag::SECURITY_EXCHANGE],
    groups: &[MD_FULL_ENTRIES],
};

/// An entry of an incremental refresh (X): its own action, symbol and level.
pub const MD_INC_ENTRIES: GroupSpec = GroupSpec {
    count_tag: tag::NO_MD_ENTRIES,
    delimiter: tag::MD_UPDATE_ACTION,
    members: &[
        tag::MD_UPDATE_ACTION,
        tag::MD_ENTRY_TYPE,
        t::SYMBOL,
        tag::SECURITY_ID,
        tag::SECURITY_ID_SOURCE,
        tag::MD_ENTRY_PX,
        tag::MD_ENTRY_SIZE,
        tag::NUMBER_OF_ORDERS,
        tag::MD_ENTRY_POSITION_NO,
    ],
    required: true,
};

/// MarketDataIncrementalRefresh as the initiator accepts it.
pub const MD_INCREMENTAL: MessageSpec = MessageSpec {
    msg_type: b"X",
    required: &[],
    optional: &[tag::MD_REQ_ID],
    groups: &[MD_INC_ENTRIES],
};

/// MarketDataRequestReject.
pub const MD_REQUEST_REJECT: MessageSpec = MessageSpec {
    msg_type: b"Y",
    required: &[tag::MD_REQ_ID],
    optional: &[tag::MD_REQ_REJ_REASON, t::TEXT],
    groups: &[],
};

/// BusinessMessageReject.
pub const BUSINESS_MESSAGE_REJECT: MessageSpec = MessageSpec {
    msg_type: b"j",
    required: &[t::REF_MSG_TYPE, t::BUSINESS_REJECT_REASON],
    optional: &[t::REF_SEQ_NUM, t::BUSINESS_REJECT_REF_ID, t::TEXT],
    groups: &[],
};

// ---- specs: Keel -> venue (what the simulated venue accepts) ---------------------------

/// NewOrderSingle as the simulated venue accepts it.
pub const NEW_ORDER_SINGLE: MessageSpec = MessageSpec {
    msg_type: b"D",
    required: &[t::CL_ORD_ID, t::SYMBOL, t::SIDE, t::TRANSACT_TIME, t::ORDER_QTY, t::ORD_TYPE],
    optional: &[
        t::ACCOUNT,
        t::PRICE,
        t::TIME_IN_FORCE,
        t::EXPIRE_TIME,
        t::EXEC_INST,
        t::MAX_FLOOR,
        t::HANDL_INST,
        t::TEXT,
    ],
    groups: &[],
};

/// OrderCancelRequest as the simulated venue accepts it.
pub const ORDER_CANCEL_REQUEST: MessageSpec = MessageSpec {
    msg_type: b"F",
    required: &[t::ORIG_CL_ORD_ID, t::CL_ORD_ID, t::SYMBOL, t::SIDE, t::TRANSACT_TIME],
    optional: &[t::ACCOUNT, t::ORDER_ID, t::ORDER_QTY, t::TEXT],
    groups: &[],
};

/// OrderCancelReplaceRequest as the simulated venue accepts it.
pub const ORDER_CANCEL_REPLACE_REQUEST: MessageSpec = MessageSpec {
    msg_type: b"G",
    required: &[
        t::ORIG_CL_ORD_ID,
        t::CL_ORD_ID,
        t::SYMBOL,
        t::SIDE,
        t::TRANSACT_TIME,
        t::ORDER_QTY,
        t::ORD_TYPE,
    ],
    optional: &[
        t::ACCOUNT,
        t::ORDER_ID,
        t::PRICE,
        t::TIME_IN_FORCE,
        t::EXPIRE_TIME,
        t::EXEC_INST,
        t::MAX_FLOOR,
        t::HANDL_INST,
        t::TEXT,
    ],
    groups: &[],
};

/// OrderStatusRequest as the simulated venue accepts it.
pub const ORDER_STATUS_REQUEST: MessageSpec = MessageSpec {
    msg_type: b"H",
    required: &[t::CL_ORD_ID, t::SYMBOL, t::SIDE],
    optional: &[t::ACCOUNT, t::ORDER_ID, tag::ORD_STATUS_REQ_ID],
    groups: &[],
};

/// OrderMassStatusRequest as the simulated venue accepts it (type 7, all orders, or 1,
/// the orders of one symbol).
pub const ORDER_MASS_STATUS_REQUEST: MessageSpec = MessageSpec {
    msg_type: b"AF",
    required: &[tag::MASS_STATUS_REQ_ID, tag::MASS_STATUS_REQ_TYPE],
    optional: &[t::ACCOUNT, t::SYMBOL, t::SIDE],
    groups: &[],
};

/// The entry types a MarketDataRequest asks for.
pub const MD_ENTRY_TYPES: GroupSpec = GroupSpec {
    count_tag: tag::NO_MD_ENTRY_TYPES,
    delimiter: tag::MD_ENTRY_TYPE,
    members: &[tag::MD_ENTRY_TYPE],
    required: true,
};

/// The instruments a MarketDataRequest names.
pub const MD_RELATED_SYM: GroupSpec = GroupSpec {
    count_tag: tag::NO_RELATED_SYM,
    delimiter: t::SYMBOL,
    members: &[t::SYMBOL, tag::SECURITY_ID, tag::SECURITY_ID_SOURCE],
    required: true,
};

/// MarketDataRequest as the simulated venue accepts it.
pub const MARKET_DATA_REQUEST: MessageSpec = MessageSpec {
    msg_type: b"V",
    required: &[tag::MD_REQ_ID, tag::SUBSCRIPTION_REQUEST_TYPE, tag::MARKET_DEPTH],
    optional: &[tag::MD_UPDATE_TYPE, tag::AGGREGATED_BOOK],
    groups: &[MD_ENTRY_TYPES, MD_RELATED_SYM],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerations_round_trip() {
        for s in [Side::Buy, Side::Sell] {
            assert_eq!(side_of(side_char(s)), Some(s));
        }
        for t in [OrdType::Market, OrdType::Limit] {
            assert_eq!(ord_type_of(ord_type_char(t)), Some(t));
        }
        for tif in [
            TimeInForce::Day,
            TimeInForce::Gtc,
            TimeInForce::Ioc,
            TimeInForce::Fok,
            TimeInForce::Gtd,
        ] {
            assert_eq!(tif_of(tif_char(tif)), Some(tif));
        }
        assert!(ord_status::is_terminal(ord_status::FILLED));
        assert!(!ord_status::is_terminal(ord_status::PARTIALLY_FILLED));
        assert!(!ord_status::is_valid(b'Z'));
    }

    #[test]
    fn specs_fit_the_validator() {
        // The validator keeps a 64-bit seen-set per spec.
        for s in [
            &EXECUTION_REPORT,
            &ORDER_CANCEL_REJECT,
            &MD_SNAPSHOT,
            &MD_INCREMENTAL,
            &NEW_ORDER_SINGLE,
            &ORDER_CANCEL_REPLACE_REQUEST,
            &MARKET_DATA_REQUEST,
        ] {
            assert!(s.required.len() + s.optional.len() <= 64);
        }
    }
}
