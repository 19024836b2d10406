//! Start-up configuration of the risk engine.
//!
//! Everything that sizes a table is here: the instruments (dense ids `0..n`), the number of
//! accounts and the session capacity. [`crate::risk::RiskEngine::new`] allocates every
//! table from this once; nothing grows afterwards.
//!
//! Valuation: account and firm aggregates (gross exposure, credit, loss) are kept in one
//! common *valuation unit* of 1e-8 of the reporting currency. Each instrument converts its
//! ticks·lots to that unit with an integer [`InstrumentRisk::value_per_notional_unit`],
//! computed exactly from its tick and lot size and a currency rate; a rate that does not
//! give a whole number is a configuration error, never a rounding.

use crate::schema::LimitKind;
use crate::{Instrument, InstrumentId, Qty};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Valuation units per unit of the reporting currency.
pub const VALUE_UNITS_PER_CURRENCY_UNIT: i64 = 100_000_000;

/// Risk reference data for one instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentRisk {
    /// Dense id; must equal the instrument's index in [`RiskConfig::instruments`].
    pub id: InstrumentId,
    /// Smallest order quantity, lots.
    pub min_qty: Qty,
    /// Largest order quantity, lots.
    pub max_qty: Qty,
    /// Smallest order notional, ticks·lots.
    pub min_notional: i128,
    /// Largest order notional, ticks·lots.
    pub max_notional: i128,
    /// Valuation units (1e-8 of the reporting currency) per tick·lot. Always positive.
    pub value_per_notional_unit: i64,
}

impl InstrumentRisk {
    /// Risk data from reference data, valuing one unit of the instrument's quote currency
    /// at `rate_to_reporting` units of the reporting currency (1 when they are the same).
    pub fn from_instrument(
        inst: &Instrument,
        rate_to_reporting: Decimal,
    ) -> Result<Self, ConfigError> {
        let not_integral = || ConfigError::ValuationNotIntegral {
            symbol: inst.symbol.clone(),
            tick_size: inst.tick_size,
            lot_size: inst.lot_size,
            rate: rate_to_reporting,
        };
        let value = inst
            .notional_unit()
            .checked_mul(rate_to_reporting)
            .and_then(|v| v.checked_mul(Decimal::from(VALUE_UNITS_PER_CURRENCY_UNIT)))
            .ok_or_else(not_integral)?;
        if value <= Decimal::ZERO || !value.fract().is_zero() {
            return Err(not_integral());
        }
        let value_per_notional_unit = value.trunc().to_i64().ok_or_else(not_integral)?;
        Ok(Self {
            id: inst.id,
            min_qty: inst.min_qty,
            max_qty: inst.max_qty,
            min_notional: inst.min_notional,
            max_notional: inst.max_notional,
            value_per_notional_unit,
        })
    }

    /// Risk data with no quantity or notional bounds; for tests and simple set-ups.
    pub fn unbounded(id: InstrumentId, value_per_notional_unit: i64) -> Self {
        Self {
            id,
            min_qty: Qty(1),
            max_qty: Qty(i64::MAX),
            min_notional: 0,
            max_notional: i128::MAX,
            value_per_notional_unit,
        }
    }
}

/// What the price collar does when the core has no reference price for the instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoReferenceRule {
    /// Reject with `NO_REFERENCE_PRICE` (the safe default).
    Reject,
    /// Skip the collar. Orders that need a reference to be valued (market, stops without
    /// a stop price) are still rejected.
    Allow,
}

/// Self-trade prevention: what happens when an order would cross one of the firm's own
/// resting orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StpMode {
    /// Accept the new order; the core cancels the crossing resting order(s) first.
    CancelResting,
    /// Accept the new order into the order table, and the core cancels it at once
    /// (reported as cancelled for self-trade, not rejected).
    CancelAggressing,
    /// Reject the new order with `SELF_TRADE`.
    Reject,
}

/// Start-up configuration; see the module docs.
#[derive(Clone, Debug)]
pub struct RiskConfig {
    /// Instruments, indexed by id (`instruments[i].id.0 == i`).
    pub instruments: Vec<InstrumentRisk>,
    /// Accounts are `0..account_count`.
    pub account_count: u32,
    /// Sessions are `0..session_capacity`.
    pub session_capacity: u32,
    /// Firm-wide limits in force at start.
    pub firm_limits: Vec<(LimitKind, i64)>,
    /// Limits every account starts with.
    pub account_defaults: Vec<(LimitKind, i64)>,
    /// Limits every account starts with in every instrument.
    pub account_instrument_defaults: Vec<(LimitKind, i64)>,
    /// Throttle rates every session starts with.
    pub session_defaults: Vec<(LimitKind, i64)>,
    /// The collar rule without a reference price.
    pub no_reference: NoReferenceRule,
    /// Self-trade prevention mode.
    pub stp: StpMode,
    /// How many recent accepted orders the duplicate detector remembers.
    pub duplicate_ring_capacity: usize,
    /// Start of the trading day as an offset from UTC midnight, ns (loss limits reset
    /// their daily baseline at this boundary).
    pub trading_day_offset_ns: u64,
}

impl RiskConfig {
    /// A configuration with no limits, the collar rejecting without a reference, STP
    /// rejecting, a 64-entry duplicate ring and the trading day starting at UTC midnight.
    pub fn new(
        instruments: Vec<InstrumentRisk>,
        account_count: u32,
        session_capacity: u32,
    ) -> Self {
        Self {
            instruments,
            account_count,
            session_capacity,
            firm_limits: Vec::new(),
            account_defaults: Vec::new(),
            account_instrument_defaults: Vec::new(),
            session_defaults: Vec::new(),
            no_reference: NoReferenceRule::Reject,
            stp: StpMode::Reject,
            duplicate_ring_capacity: 64,
            trading_day_offset_ns: 0,
        }
    }
}

/// A configuration the risk engine cannot run with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// tick × lot × rate × 1e8 is not a positive whole number that fits in `i64`.
    #[error(
        "instrument {symbol}: tick {tick_size} x lot {lot_size} x rate {rate} is not a whole \
         number of 1e-8 reporting-currency units"
    )]
    ValuationNotIntegral {
        /// Instrument symbol.
        symbol: String,
        /// Its tick size.
        tick_size: Decimal,
        /// Its lot size.
        lot_size: Decimal,
        /// The currency rate given.
        rate: Decimal,
    },
    /// Instrument ids must be `0..n` in order, so they index tables directly.
    #[error("instrument at index {index} has id {id}; ids must be dense and in order")]
    InstrumentIdsNotDense {
        /// Position in the list.
        index: usize,
        /// The id found there.
        id: InstrumentId,
    },
    /// An instrument's value per notional unit is not positive.
    #[error("instrument {id}: value_per_notional_unit must be positive, got {value}")]
    NonPositiveValuation {
        /// The instrument.
        id: InstrumentId,
        /// The value given.
        value: i64,
    },
    /// A default limit is invalid for its scope or value (same rules as `SetLimit`).
    #[error("default limit {kind:?} = {value} is invalid at {scope} scope")]
    InvalidLimit {
        /// `firm`, `account`, `account-instrument` or `session`.
        scope: &'static str,
        /// The limit.
        kind: LimitKind,
        /// The value.
        value: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn valuation_is_exact() {
        let btc = Instrument::builder(InstrumentId(0), "BTC-USD")
            .tick_size(dec("0.01"))
            .lot_size(dec("0.0001"))
            .build()
            .unwrap();
        // 0.01 × 0.0001 = 1e-6 USD per tick·lot = 100 units of 1e-8.
        let r = InstrumentRisk::from_instrument(&btc, Decimal::ONE).unwrap();
        assert_eq!(r.value_per_notional_unit, 100);
        let eur = InstrumentRisk::from_instrument(&btc, dec("1.08")).unwrap();
        assert_eq!(eur.value_per_notional_unit, 108);
    }

    #[test]
    fn non_integral_valuation_is_a_clear_error() {
        let tiny = Instrument::builder(InstrumentId(0), "TINY")
            .tick_size(dec("0.0001"))
            .lot_size(dec("0.00001"))
            .build()
            .unwrap();
        let err = InstrumentRisk::from_instrument(&tiny, Decimal::ONE).unwrap_err();
        assert!(matches!(err, ConfigError::ValuationNotIntegral { .. }));
        assert!(err.to_string().contains("TINY"), "{err}");
    }
}
