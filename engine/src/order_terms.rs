//! The terms of an order: its type and time in force.
//!
//! These are the venue-neutral meanings; the FIX and binary codecs map their own codes to
//! and from them at the edge.

use rkyv::{Archive, Deserialize, Serialize};

/// How an order's price is determined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum OrdType {
    /// Executes against the best available prices; never rests.
    Market = 0,
    /// Executes at the limit price or better; the remainder rests per time in force.
    Limit = 1,
    /// Held by the core until the stop price trades, then released as a market order.
    Stop = 2,
    /// Held by the core until the stop price trades, then released as a limit order.
    StopLimit = 3,
    /// A stop whose stop price follows the market at a fixed offset; emulated by the core.
    TrailingStop = 4,
}

/// How long an order may work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc = 0,
    /// Expires at the end of the trading day.
    Day = 1,
    /// Good till a given date/time (carried beside the order as an expiry timestamp).
    Gtd = 2,
    /// Immediate or cancel: whatever does not fill at once is cancelled.
    Ioc = 3,
    /// Fill or kill: fills completely at once, or not at all.
    Fok = 4,
}

impl TimeInForce {
    /// True when no part of the order may rest on a book.
    #[inline]
    pub const fn is_immediate(self) -> bool {
        matches!(self, TimeInForce::Ioc | TimeInForce::Fok)
    }
}
