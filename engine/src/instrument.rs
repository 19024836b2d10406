//! Instrument reference data and exact decimal conversion.
//!
//! An [`Instrument`] gives ticks and lots their decimal meaning. Conversion from a
//! [`Decimal`] succeeds only for a whole number of ticks (or lots) that fits in `i64`;
//! anything else is a [`ConvertError`], never a silent rounding. Conversion back is exact
//! and is rendered at the instrument's precision, so `to_decimal(from_decimal(x)) == x`.

use crate::{InstrumentId, Price, Qty, VenueId};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Reference data for one tradable instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instrument {
    /// Dense id used everywhere inside the engine.
    pub id: InstrumentId,
    /// Venue-independent symbol, e.g. `BTC-USD`.
    pub symbol: String,
    /// Value of one price tick.
    pub tick_size: Decimal,
    /// Value of one quantity lot.
    pub lot_size: Decimal,
    /// Smallest order quantity accepted.
    pub min_qty: Qty,
    /// Largest order quantity accepted.
    pub max_qty: Qty,
    /// Smallest order notional accepted, in ticks·lots.
    pub min_notional: i128,
    /// Largest order notional accepted, in ticks·lots.
    pub max_notional: i128,
    /// Decimal places used to render prices.
    pub price_precision: u32,
    /// Decimal places used to render quantities.
    pub qty_precision: u32,
    /// Currency that prices are quoted in.
    pub currency: String,
    /// Venues that list the instrument.
    pub venues: Vec<VenueId>,
}

/// A decimal value that does not convert exactly to ticks or lots.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// Not a whole multiple of the tick (or lot) size.
    #[error("{what} {value} is not a multiple of the {what} increment {increment}")]
    OffGrid {
        /// `price`, `quantity` or `notional`.
        what: &'static str,
        /// The value given.
        value: Decimal,
        /// The tick or lot size.
        increment: Decimal,
    },
    /// A whole number of increments, but too many to fit in an `i64`.
    #[error("{what} {value} is out of range")]
    OutOfRange {
        /// `price`, `quantity` or `notional`.
        what: &'static str,
        /// The value given.
        value: Decimal,
    },
}

/// Reference data that does not describe a usable instrument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    /// Tick or lot size zero or negative.
    #[error("instrument {symbol}: {what} must be positive, got {value}")]
    NonPositive {
        /// The instrument's symbol.
        symbol: String,
        /// `tick_size` or `lot_size`.
        what: &'static str,
        /// The value given.
        value: Decimal,
    },
    /// A precision too small to render one increment exactly.
    #[error("instrument {symbol}: {what} {precision} cannot show the increment {increment}")]
    PrecisionTooSmall {
        /// The instrument's symbol.
        symbol: String,
        /// `price_precision` or `qty_precision`.
        what: &'static str,
        /// The precision given.
        precision: u32,
        /// The increment it must render.
        increment: Decimal,
    },
    /// `min > max` for quantity or notional.
    #[error("instrument {symbol}: min {what} exceeds max {what}")]
    EmptyRange {
        /// The instrument's symbol.
        symbol: String,
        /// `quantity` or `notional`.
        what: &'static str,
    },
}

impl Instrument {
    /// Starts reference data with a tick and lot of 1 and no quantity or notional bounds.
    pub fn builder(id: InstrumentId, symbol: &str) -> InstrumentBuilder {
        InstrumentBuilder {
            inner: Instrument {
                id,
                symbol: symbol.to_owned(),
                tick_size: Decimal::ONE,
                lot_size: Decimal::ONE,
                min_qty: Qty(1),
                max_qty: Qty(i64::MAX),
                min_notional: 0,
                max_notional: i128::MAX,
                price_precision: 0,
                qty_precision: 0,
                currency: String::new(),
                venues: Vec::new(),
            },
            price_precision: None,
            qty_precision: None,
        }
    }

    /// Exact conversion of a decimal price to ticks.
    pub fn price_from_decimal(&self, value: Decimal) -> Result<Price, ConvertError> {
        to_units("price", value, self.tick_size).map(Price)
    }

    /// A price in ticks as a decimal at the instrument's price precision.
    pub fn price_to_decimal(&self, price: Price) -> Decimal {
        from_units(price.0 as i128, self.tick_size, self.price_precision)
    }

    /// Exact conversion of a decimal quantity to lots.
    pub fn qty_from_decimal(&self, value: Decimal) -> Result<Qty, ConvertError> {
        to_units("quantity", value, self.lot_size).map(Qty)
    }

    /// A quantity in lots as a decimal at the instrument's quantity precision.
    pub fn qty_to_decimal(&self, qty: Qty) -> Decimal {
        from_units(qty.0 as i128, self.lot_size, self.qty_precision)
    }

    /// Value of one tick·lot of notional.
    pub fn notional_unit(&self) -> Decimal {
        self.tick_size * self.lot_size
    }

    /// Exact conversion of a decimal notional (in the quote currency) to ticks·lots.
    pub fn notional_from_decimal(&self, value: Decimal) -> Result<i128, ConvertError> {
        let unit = self.notional_unit();
        let units = checked_units("notional", value, unit)?;
        units.to_i128().ok_or(ConvertError::OutOfRange { what: "notional", value })
    }

    /// A notional in ticks·lots as a decimal, at price + quantity precision.
    ///
    /// Saturates at `Decimal::MAX` for values beyond its 96-bit range (only reachable with
    /// absurd limits such as "unbounded").
    pub fn notional_to_decimal(&self, notional: i128) -> Decimal {
        from_units(notional, self.notional_unit(), self.price_precision + self.qty_precision)
    }
}

fn checked_units(
    what: &'static str,
    value: Decimal,
    increment: Decimal,
) -> Result<Decimal, ConvertError> {
    let rem = value.checked_rem(increment).ok_or(ConvertError::OutOfRange { what, value })?;
    if !rem.is_zero() {
        return Err(ConvertError::OffGrid { what, value, increment });
    }
    let units = value.checked_div(increment).ok_or(ConvertError::OutOfRange { what, value })?;
    // `value` is a whole multiple of `increment`, so the quotient is an integer; trunc()
    // only drops a zero fraction that division may leave in the scale.
    Ok(units.trunc())
}

fn to_units(what: &'static str, value: Decimal, increment: Decimal) -> Result<i64, ConvertError> {
    checked_units(what, value, increment)?.to_i64().ok_or(ConvertError::OutOfRange { what, value })
}

fn from_units(units: i128, increment: Decimal, precision: u32) -> Decimal {
    let Ok(units) = Decimal::try_from_i128_with_scale(units, 0) else {
        return if units < 0 { Decimal::MIN } else { Decimal::MAX };
    };
    let mut value = units.checked_mul(increment).unwrap_or(if units.is_sign_negative() {
        Decimal::MIN
    } else {
        Decimal::MAX
    });
    value.rescale(precision);
    value
}

/// Builds and validates [`Instrument`] reference data.
#[derive(Clone, Debug)]
pub struct InstrumentBuilder {
    inner: Instrument,
    price_precision: Option<u32>,
    qty_precision: Option<u32>,
}

impl InstrumentBuilder {
    /// Value of one price tick.
    pub fn tick_size(mut self, tick: Decimal) -> Self {
        self.inner.tick_size = tick;
        self
    }
    /// Value of one quantity lot.
    pub fn lot_size(mut self, lot: Decimal) -> Self {
        self.inner.lot_size = lot;
        self
    }
    /// Minimum and maximum order quantity, in lots.
    pub fn qty_range(mut self, min: Qty, max: Qty) -> Self {
        self.inner.min_qty = min;
        self.inner.max_qty = max;
        self
    }
    /// Minimum and maximum order notional, in ticks·lots.
    pub fn notional_range(mut self, min: i128, max: i128) -> Self {
        self.inner.min_notional = min;
        self.inner.max_notional = max;
        self
    }
    /// Decimal places for prices (default: the tick size's own scale).
    pub fn price_precision(mut self, places: u32) -> Self {
        self.price_precision = Some(places);
        self
    }
    /// Decimal places for quantities (default: the lot size's own scale).
    pub fn qty_precision(mut self, places: u32) -> Self {
        self.qty_precision = Some(places);
        self
    }
    /// Quote currency.
    pub fn currency(mut self, currency: &str) -> Self {
        self.inner.currency = currency.to_owned();
        self
    }
    /// Venues that list the instrument.
    pub fn venues(mut self, venues: &[VenueId]) -> Self {
        self.inner.venues = venues.to_vec();
        self
    }

    /// Validates and returns the reference data.
    pub fn build(self) -> Result<Instrument, InstrumentError> {
        let mut inst = self.inner;
        let symbol = || inst.symbol.clone();
        for (what, value) in [("tick_size", inst.tick_size), ("lot_size", inst.lot_size)] {
            if value <= Decimal::ZERO {
                return Err(InstrumentError::NonPositive { symbol: symbol(), what, value });
            }
        }
        let tick_scale = inst.tick_size.normalize().scale();
        let lot_scale = inst.lot_size.normalize().scale();
        let price_precision = self.price_precision.unwrap_or(tick_scale);
        let qty_precision = self.qty_precision.unwrap_or(lot_scale);
        for (what, precision, scale, increment) in [
            ("price_precision", price_precision, tick_scale, inst.tick_size),
            ("qty_precision", qty_precision, lot_scale, inst.lot_size),
        ] {
            if precision < scale {
                return Err(InstrumentError::PrecisionTooSmall {
                    symbol: symbol(),
                    what,
                    precision,
                    increment,
                });
            }
        }
        if inst.min_qty > inst.max_qty {
            return Err(InstrumentError::EmptyRange { symbol: symbol(), what: "quantity" });
        }
        if inst.min_notional > inst.max_notional {
            return Err(InstrumentError::EmptyRange { symbol: symbol(), what: "notional" });
        }
        inst.price_precision = price_precision;
        inst.qty_precision = qty_precision;
        Ok(inst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn btc() -> Instrument {
        Instrument::builder(InstrumentId(1), "BTC-USD")
            .tick_size(dec("0.5"))
            .lot_size(dec("0.001"))
            .build()
            .unwrap()
    }

    #[test]
    fn off_grid_price_is_an_error_not_a_rounding() {
        let i = btc();
        assert_eq!(i.price_from_decimal(dec("100.5")), Ok(Price(201)));
        assert_eq!(
            i.price_from_decimal(dec("100.25")),
            Err(ConvertError::OffGrid {
                what: "price",
                value: dec("100.25"),
                increment: dec("0.5")
            })
        );
        assert!(matches!(i.qty_from_decimal(dec("0.0015")), Err(ConvertError::OffGrid { .. })));
    }

    #[test]
    fn out_of_range_is_an_error() {
        let i =
            Instrument::builder(InstrumentId(1), "X").tick_size(dec("0.0000001")).build().unwrap();
        assert!(matches!(
            i.price_from_decimal(dec("79228162514264337593543950")),
            Err(ConvertError::OutOfRange { .. })
        ));
    }

    #[test]
    fn renders_at_precision() {
        let i = btc();
        assert_eq!(i.price_to_decimal(Price(201)).to_string(), "100.5");
        assert_eq!(i.qty_to_decimal(Qty(1500)).to_string(), "1.500");
        assert_eq!(i.notional_to_decimal(Price(201).notional(Qty(1500))).to_string(), "150.7500");
        assert_eq!(i.notional_from_decimal(dec("150.75")), Ok(301_500));
    }

    #[test]
    fn invalid_reference_data_is_named() {
        let err = Instrument::builder(InstrumentId(2), "BAD")
            .tick_size(Decimal::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(err.to_string(), "instrument BAD: tick_size must be positive, got 0");
        let err = Instrument::builder(InstrumentId(2), "BAD")
            .tick_size(dec("0.01"))
            .price_precision(1)
            .build()
            .unwrap_err();
        assert!(matches!(err, InstrumentError::PrecisionTooSmall { .. }));
        let err = Instrument::builder(InstrumentId(2), "BAD")
            .qty_range(Qty(5), Qty(1))
            .build()
            .unwrap_err();
        assert!(matches!(err, InstrumentError::EmptyRange { what: "quantity", .. }));
    }

    proptest! {
        #[test]
        fn price_round_trips_exactly(ticks in -1_000_000_000_000i64..1_000_000_000_000, tick_exp in 0u32..8, tick_mant in 1i64..100) {
            let i = Instrument::builder(InstrumentId(1), "P")
                .tick_size(Decimal::new(tick_mant, tick_exp))
                .build()
                .unwrap();
            let d = i.price_to_decimal(Price(ticks));
            prop_assert_eq!(i.price_from_decimal(d), Ok(Price(ticks)));
            prop_assert_eq!(i.price_to_decimal(i.price_from_decimal(d).unwrap()), d);
        }

        #[test]
        fn qty_round_trips_exactly(lots in 0i64..1_000_000_000_000, lot_exp in 0u32..8) {
            let i = Instrument::builder(InstrumentId(1), "Q")
                .lot_size(Decimal::new(1, lot_exp))
                .build()
                .unwrap();
            let d = i.qty_to_decimal(Qty(lots));
            prop_assert_eq!(i.qty_from_decimal(d), Ok(Qty(lots)));
        }
    }
}
