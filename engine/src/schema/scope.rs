//! What an admin action or a mass cancel applies to, and the risk limits it can change.

use crate::{AccountId, InstrumentId, SessionId};
use rkyv::{Archive, Deserialize, Serialize};

/// The level a kill switch or trading-state change applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
pub enum Scope {
    /// Every account and session of the firm.
    Firm,
    /// One account, across all its sessions.
    Account(AccountId),
    /// One session (a FIX or binary connection, or an in-process strategy).
    Session(SessionId),
}

/// What a mass cancel cancels. Always limited to the requesting session's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
pub enum MassCancelScope {
    /// Every working order of the account.
    Account,
    /// The account's working orders in one instrument.
    Instrument(InstrumentId),
    /// The working orders entered by one session of the account.
    Session(SessionId),
}

/// Where a risk limit applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
pub enum LimitScope {
    /// Firm-wide.
    Firm,
    /// One account, all instruments.
    Account(AccountId),
    /// One account in one instrument.
    AccountInstrument(AccountId, InstrumentId),
    /// One session (message throttles).
    Session(SessionId),
}

/// A risk limit that can be changed at run time. The unit of the value is fixed per kind
/// (quantities in lots, notionals in ticks·lots of the instrument for per-instrument
/// limits, in the firm's valuation unit for account and firm aggregates; see
/// `docs/risk.md`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Archive, Serialize, Deserialize,
)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum LimitKind {
    /// Largest quantity of one order, lots.
    MaxOrderQty = 1,
    /// Largest notional of one order.
    MaxOrderNotional = 2,
    /// Price collar: largest distance from the reference price, in basis points.
    PriceCollarBps = 3,
    /// Largest long position, lots (open buy orders count at once).
    MaxPositionLong = 4,
    /// Largest short position, lots, as a positive number (open sells count at once).
    MaxPositionShort = 5,
    /// Largest gross exposure: |position| + open orders, valued at their prices.
    MaxGrossExposure = 6,
    /// Credit: largest value of open buy orders plus long positions.
    MaxCredit = 7,
    /// Largest number of working orders.
    MaxOpenOrders = 8,
    /// New orders per second allowed to a session (token bucket rate).
    NewOrdersPerSec = 9,
    /// Amends per second allowed to a session.
    AmendsPerSec = 10,
    /// Cancels per second allowed to a session.
    CancelsPerSec = 11,
    /// Largest daily loss (realized + unrealized) before the account is switched to
    /// reducing-only, as a positive number.
    DailyLoss = 12,
    /// Largest fall of equity from its daily peak before the account is halted.
    MaxDrawdown = 13,
    /// Window, in milliseconds, in which an identical order is a duplicate.
    DuplicateWindowMs = 14,
    /// 1 restricts the instrument (no new orders), 0 lifts the restriction.
    Restricted = 15,
}

/// The trading state of an account (or of the firm).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum TradingState {
    /// Orders accepted subject to risk.
    Active = 0,
    /// Only orders that reduce the position are accepted.
    ReducingOnly = 1,
    /// No new orders; cancels still accepted.
    Halted = 2,
}
