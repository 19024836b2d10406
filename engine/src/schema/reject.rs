//! Stable reject codes.
//!
//! Every rejection the core makes carries a [`RejectCode`] and the numbers that caused it
//! ([`RejectInfo`]). Codes are part of the wire and journal contract: their numeric values
//! never change and are never reused. `docs/risk.md` lists each with its meaning.
//! Ranges: 1xx validation, 2xx risk limits, 3xx order state, 4xx venue anomalies,
//! 5xx capacity, 6xx admin.
//!
//! The numeric value is [`RejectCode::value`], not the Rust discriminant: rkyv archives an
//! enum by its declaration index, so new codes are only ever appended to the list (a test
//! pins the archived tag of every code).

use rkyv::{Archive, Deserialize, Serialize};
use std::fmt;

macro_rules! reject_codes {
    ($($(#[$doc:meta])* $name:ident = $value:literal, $text:literal, $value_name:literal, $limit_name:literal;)*) => {
        /// A stable, machine-readable reason for a rejection.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Archive, Serialize, Deserialize)]
        #[rkyv(derive(Debug, PartialEq, Eq))]
        pub enum RejectCode {
            $($(#[$doc])* $name,)*
        }

        impl RejectCode {
            /// Every code, in declaration order (which is also the archived tag order).
            pub const ALL: &'static [RejectCode] = &[$(RejectCode::$name),*];

            /// The code's stable name, e.g. `NOTIONAL_EXCEEDS_MAX`.
            pub const fn as_str(self) -> &'static str {
                match self { $(RejectCode::$name => $text,)* }
            }

            /// The stable numeric value.
            pub const fn value(self) -> u16 {
                match self { $(RejectCode::$name => $value,)* }
            }

            /// The code with this numeric value.
            pub fn from_value(value: u16) -> Option<RejectCode> {
                match value { $($value => Some(RejectCode::$name),)* _ => None }
            }

            /// What [`RejectInfo::value`] and [`RejectInfo::limit`] mean for this code;
            /// an empty name means the number is unused.
            pub const fn field_names(self) -> (&'static str, &'static str) {
                match self { $(RejectCode::$name => ($value_name, $limit_name),)* }
            }
        }
    };
}

reject_codes! {
    /// The instrument id is not configured.
    UnknownInstrument = 101, "UNKNOWN_INSTRUMENT", "instrument", "";
    /// The account id is not configured, or the session may not trade for it.
    UnknownAccount = 102, "UNKNOWN_ACCOUNT", "account", "";
    /// The venue is not configured or does not list the instrument.
    UnknownVenue = 103, "UNKNOWN_VENUE", "venue", "";
    /// Quantity zero or negative.
    QtyNotPositive = 104, "QTY_NOT_POSITIVE", "qty", "";
    /// Quantity below the instrument minimum.
    QtyBelowMin = 105, "QTY_BELOW_MIN", "qty", "min";
    /// Quantity above the instrument maximum.
    QtyAboveMax = 106, "QTY_ABOVE_MAX", "qty", "max";
    /// Limit price missing or not positive where one is required.
    PriceInvalid = 107, "PRICE_INVALID", "price", "";
    /// Notional below the instrument minimum.
    NotionalBelowMin = 108, "NOTIONAL_BELOW_MIN", "notional", "min";
    /// Display quantity larger than the order, or negative.
    DisplayQtyInvalid = 109, "DISPLAY_QTY_INVALID", "display_qty", "qty";
    /// The combination of type, time in force and flags is not supported.
    UnsupportedOrder = 110, "UNSUPPORTED_ORDER", "ord_type", "tif";
    /// GTD without an expiry, or an expiry already past.
    ExpiryInvalid = 111, "EXPIRY_INVALID", "expire_at_ns", "now_ns";
    /// No venue has a price for best-price routing.
    NoRoute = 112, "NO_ROUTE", "instrument", "";
    /// Instrument is not currently tradable (venue halted or closed).
    InstrumentNotTradable = 113, "INSTRUMENT_NOT_TRADABLE", "instrument", "";
    /// Order quantity above the risk limit.
    QtyExceedsMax = 201, "QTY_EXCEEDS_MAX", "qty", "max";
    /// Order notional above the risk limit.
    NotionalExceedsMax = 202, "NOTIONAL_EXCEEDS_MAX", "notional", "max";
    /// Price further from the reference than the collar allows.
    PriceOutsideCollar = 203, "PRICE_OUTSIDE_COLLAR", "price", "reference";
    /// No reference price and the configured rule rejects.
    NoReferencePrice = 204, "NO_REFERENCE_PRICE", "price", "";
    /// Resulting long position above the limit.
    PositionLongExceedsMax = 205, "POSITION_LONG_EXCEEDS_MAX", "position", "max";
    /// Resulting short position above the limit.
    PositionShortExceedsMax = 206, "POSITION_SHORT_EXCEEDS_MAX", "position", "max";
    /// Gross exposure above the limit.
    GrossExposureExceedsMax = 207, "GROSS_EXPOSURE_EXCEEDS_MAX", "exposure", "max";
    /// Credit used above the limit.
    CreditExceedsMax = 208, "CREDIT_EXCEEDS_MAX", "credit", "max";
    /// Too many working orders.
    OpenOrdersExceedsMax = 209, "OPEN_ORDERS_EXCEEDS_MAX", "open_orders", "max";
    /// New-order message rate above the session throttle.
    ThrottleNew = 210, "THROTTLE_NEW", "rate_per_s", "max";
    /// Amend rate above the session throttle.
    ThrottleAmend = 211, "THROTTLE_AMEND", "rate_per_s", "max";
    /// Cancel rate above the session throttle.
    ThrottleCancel = 212, "THROTTLE_CANCEL", "rate_per_s", "max";
    /// The client order id was already used by the session.
    DuplicateClOrdId = 213, "DUPLICATE_CL_ORD_ID", "", "";
    /// An identical order was entered within the duplicate window.
    DuplicateOrder = 214, "DUPLICATE_ORDER", "age_ns", "window_ns";
    /// The instrument is restricted for the account.
    InstrumentRestricted = 215, "INSTRUMENT_RESTRICTED", "instrument", "";
    /// The order would trade against one of the firm's own resting orders.
    SelfTrade = 216, "SELF_TRADE", "resting_price", "price";
    /// The account is reducing-only and the order would increase the position.
    ReducingOnly = 217, "REDUCING_ONLY", "position", "qty";
    /// The account (or firm) is halted.
    Halted = 218, "HALTED", "", "";
    /// A kill switch blocks the order.
    KillSwitch = 219, "KILL_SWITCH", "", "";
    /// Daily loss limit reached.
    DailyLossExceeded = 220, "DAILY_LOSS_EXCEEDED", "loss", "max";
    /// Drawdown limit reached.
    DrawdownExceeded = 221, "DRAWDOWN_EXCEEDED", "drawdown", "max";
    /// A reduce-only order would increase or flip the position.
    ReduceOnlyWouldIncrease = 222, "REDUCE_ONLY_WOULD_INCREASE", "position", "qty";
    /// No working order with that client order id.
    UnknownOrder = 301, "UNKNOWN_ORDER", "", "";
    /// The order is already filled, cancelled, rejected or expired.
    OrderNotWorking = 302, "ORDER_NOT_WORKING", "", "";
    /// A cancel or replace is already pending for the order.
    RequestPending = 303, "REQUEST_PENDING", "", "";
    /// A replace would set the quantity at or below what has already filled.
    ReplaceBelowFilled = 304, "REPLACE_BELOW_FILLED", "qty", "filled";
    /// The transition is not allowed from the order's current state.
    IllegalTransition = 305, "ILLEGAL_TRANSITION", "state", "event";
    /// A replace may not change the side, instrument or type of an order.
    ReplaceChangesTerms = 306, "REPLACE_CHANGES_TERMS", "", "";
    /// A venue report for an order Keel does not know.
    VenueUnknownOrder = 401, "VENUE_UNKNOWN_ORDER", "order_id", "";
    /// A fill that would take the filled quantity past the order quantity.
    VenueOverfill = 402, "VENUE_OVERFILL", "filled", "qty";
    /// A fill with an execution id already seen.
    VenueDuplicateFill = 403, "VENUE_DUPLICATE_FILL", "exec_id", "";
    /// The venue rejected the order.
    VenueRejected = 404, "VENUE_REJECTED", "venue_reason", "";
    /// The venue rejected a cancel or replace.
    VenueCancelRejected = 405, "VENUE_CANCEL_REJECTED", "venue_reason", "";
    /// The order table is full.
    OrderCapacity = 501, "ORDER_CAPACITY", "orders", "max";
    /// A book or other start-up-sized table is full.
    TableCapacity = 502, "TABLE_CAPACITY", "", "max";
    /// Admin action names something unknown or carries an invalid value.
    AdminInvalid = 601, "ADMIN_INVALID", "value", "";
    /// A fill that would take the order's cumulative notional past what an execution
    /// report carries (`i64` ticks·lots); the fill is refused. Appended after 601: codes
    /// are archived by declaration index.
    VenueNotionalOverflow = 406, "VENUE_NOTIONAL_OVERFLOW", "notional", "max";
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reject code and the numbers that caused it, e.g.
/// `NOTIONAL_EXCEEDS_MAX: notional=1500000, max=1000000`. The numbers are in the units of
/// the check (ticks, lots, ticks·lots, counts); [`RejectCode::field_names`] names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
pub struct RejectInfo {
    /// Why.
    pub code: RejectCode,
    /// The offending value.
    pub value: i64,
    /// The limit it was checked against.
    pub limit: i64,
}

impl RejectInfo {
    /// A reject with both numbers.
    pub const fn new(code: RejectCode, value: i64, limit: i64) -> Self {
        Self { code, value, limit }
    }

    /// A reject with no numbers.
    pub const fn bare(code: RejectCode) -> Self {
        Self { code, value: 0, limit: 0 }
    }
}

impl fmt::Display for RejectInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())?;
        match self.code.field_names() {
            ("", "") => Ok(()),
            (value, "") => write!(f, ": {value}={}", self.value),
            ("", limit) => write!(f, ": {limit}={}", self.limit),
            (value, limit) => write!(f, ": {value}={}, {limit}={}", self.value, self.limit),
        }
    }
}
