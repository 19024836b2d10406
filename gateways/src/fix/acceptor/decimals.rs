//! Exact conversions between decimals and ticks or lots, fast.
//!
//! The authority is [`Instrument`]'s own conversion (`price_from_decimal`,
//! `price_to_decimal`, ...), which works in [`Decimal`] arithmetic (a remainder and a
//! division per conversion). The functions here compute the same result in 128-bit
//! integer arithmetic when the numbers allow (always, for realistic prices and
//! quantities) and otherwise call the instrument's conversion, which also produces every
//! error. A property test checks that both agree.

use keel_engine::instrument::ConvertError;
use keel_engine::{Instrument, Price, Qty};
use rust_decimal::Decimal;

/// `10^n` for `n <= 28`.
fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// `value / increment` when it is a whole number that fits in `i64`; `None` when it is
/// not, or when the fast path cannot tell (the caller then asks the instrument).
#[inline]
pub fn to_units(value: Decimal, increment: Decimal) -> Option<i64> {
    // value = m / 10^s, increment = im / 10^is: units = m * 10^is / (im * 10^s).
    let num = value.mantissa().checked_mul(pow10(increment.scale())?)?;
    let den = increment.mantissa().checked_mul(pow10(value.scale())?)?;
    if den <= 0 || num % den != 0 {
        return None;
    }
    i64::try_from(num / den).ok()
}

/// `units × increment` at `precision` decimal places, when that is exact and fits.
#[inline]
pub fn from_units(units: i64, increment: Decimal, precision: u32) -> Option<Decimal> {
    let scale = increment.scale();
    if precision < scale {
        return None;
    }
    let m = (units as i128)
        .checked_mul(increment.mantissa())?
        .checked_mul(pow10(precision - scale)?)?;
    Decimal::try_from_i128_with_scale(m, precision).ok()
}

/// A decimal price in ticks of `inst`, exactly.
#[inline]
pub fn price(inst: &Instrument, value: Decimal) -> Result<Price, ConvertError> {
    match to_units(value, inst.tick_size) {
        Some(t) => Ok(Price(t)),
        None => inst.price_from_decimal(value),
    }
}

/// A decimal quantity in lots of `inst`, exactly.
#[inline]
pub fn qty(inst: &Instrument, value: Decimal) -> Result<Qty, ConvertError> {
    match to_units(value, inst.lot_size) {
        Some(l) => Ok(Qty(l)),
        None => inst.qty_from_decimal(value),
    }
}

/// A price in ticks as a decimal at the instrument's price precision.
#[inline]
pub fn price_decimal(inst: &Instrument, p: Price) -> Decimal {
    from_units(p.0, inst.tick_size, inst.price_precision)
        .unwrap_or_else(|| inst.price_to_decimal(p))
}

/// A quantity in lots as a decimal at the instrument's quantity precision.
#[inline]
pub fn qty_decimal(inst: &Instrument, q: Qty) -> Decimal {
    from_units(q.0, inst.lot_size, inst.qty_precision).unwrap_or_else(|| inst.qty_to_decimal(q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_engine::InstrumentId;
    use proptest::prelude::*;

    fn inst(tick: Decimal, lot: Decimal) -> Instrument {
        Instrument::builder(InstrumentId(0), "X").tick_size(tick).lot_size(lot).build().unwrap()
    }

    proptest! {
        #[test]
        fn the_fast_path_agrees_with_the_instrument(
            tick_m in 1i64..1000, tick_s in 0u32..9,
            lot_m in 1i64..1000, lot_s in 0u32..9,
            value_m in -10_000_000_000_000i64..10_000_000_000_000, value_s in 0u32..12,
            units in -1_000_000_000_000i64..1_000_000_000_000,
        ) {
            let i = inst(Decimal::new(tick_m, tick_s), Decimal::new(lot_m, lot_s));
            let v = Decimal::new(value_m, value_s);
            prop_assert_eq!(price(&i, v), i.price_from_decimal(v));
            prop_assert_eq!(qty(&i, v), i.qty_from_decimal(v));
            let p = price_decimal(&i, Price(units));
            let want = i.price_to_decimal(Price(units));
            prop_assert_eq!(p, want);
            prop_assert_eq!(p.to_string(), want.to_string());
            let q = qty_decimal(&i, Qty(units));
            prop_assert_eq!(q.to_string(), i.qty_to_decimal(Qty(units)).to_string());
        }
    }

    #[test]
    fn whole_multiples_convert_and_off_grid_values_are_the_instrument_errors() {
        let i = inst(Decimal::new(1, 2), Decimal::new(1, 3));
        assert_eq!(price(&i, Decimal::new(2_712_345, 2)), Ok(Price(2_712_345)));
        assert_eq!(price(&i, Decimal::new(27_123_450, 3)), Ok(Price(2_712_345)));
        assert!(matches!(price(&i, Decimal::new(90_005, 3)), Err(ConvertError::OffGrid { .. })));
        assert_eq!(qty_decimal(&i, Qty(1500)).to_string(), "1.500");
        assert_eq!(price_decimal(&i, Price(-5)).to_string(), "-0.05");
    }
}
