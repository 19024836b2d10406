//! Exact conversions between decimals and ticks or lots, fast.
//!
//! The authority is [`Instrument`]'s own conversion (`price_from_decimal`,
//! `price_to_decimal`, ...), which works in [`Decimal`] arithmetic (a remainder and a
//! division per conversion). The functions here compute the same result in 128-bit
//! integer arithmetic when the numbers allow (always, for realistic prices and
//! quantities) and otherwise call the instrument's conversion, which also produces every
//! error. A property test checks that both agree.

use crate::fix::value::{Number, POW10};
use keel_engine::instrument::ConvertError;
use keel_engine::{Instrument, Price, Qty};
use rust_decimal::Decimal;

/// `10^n` for `n <= 28`.
#[inline]
fn pow10(n: u32) -> Option<i128> {
    match POW10.get(n as usize) {
        Some(&p) => Some(p as i128),
        None => 10i128.checked_pow(n),
    }
}

/// `mantissa / 10^scale` divided by `increment`, when that is a whole number that fits in
/// `i64`; `None` when it is not, or when the fast path cannot tell.
#[inline]
fn units(mantissa: i128, scale: u32, increment: Decimal) -> Option<i64> {
    // value = m / 10^s, increment = im / 10^is: units = m * 10^is / (im * 10^s).
    // In 64 bits when everything fits (realistic prices and quantities): 128-bit
    // multiplications and divisions cost several times more.
    let pow64 = |n: u32| POW10.get(n as usize).and_then(|&p| i64::try_from(p).ok());
    if let (Ok(m), Ok(im), Some(p_is), Some(p_s)) = (
        i64::try_from(mantissa),
        i64::try_from(increment.mantissa()),
        pow64(increment.scale()),
        pow64(scale),
    ) {
        if let (Some(num), Some(den)) = (m.checked_mul(p_is), im.checked_mul(p_s)) {
            if den <= 0 {
                return None;
            }
            // |num / den| <= |num|: the quotient fits.
            return if num % den == 0 { Some(num / den) } else { None };
        }
    }
    let num = mantissa.checked_mul(pow10(increment.scale())?)?;
    let den = increment.mantissa().checked_mul(pow10(scale)?)?;
    if den <= 0 {
        return None;
    }
    if num % den != 0 {
        return None;
    }
    i64::try_from(num / den).ok()
}

/// `value / increment` when it is a whole number that fits in `i64`; `None` when it is
/// not, or when the fast path cannot tell (the caller then asks the instrument).
#[inline]
pub fn to_units(value: Decimal, increment: Decimal) -> Option<i64> {
    units(value.mantissa(), value.scale(), increment)
}

/// [`to_units`] of a parsed [`Number`].
#[inline]
fn number_units(value: Number, increment: Decimal) -> Option<i64> {
    match value {
        Number::Fixed { mantissa, scale } => units(mantissa as i128, scale, increment),
        Number::Big(d) => to_units(d, increment),
    }
}

/// `units × increment` as `(mantissa, precision)`: the decimal at `precision` places,
/// when that is exact and fits.
#[inline]
fn from_units_fixed(units: i64, increment: Decimal, precision: u32) -> Option<(i128, u32)> {
    let scale = increment.scale();
    if precision < scale {
        return None;
    }
    // 64-bit multiplications when they cannot overflow (realistic prices and quantities).
    let pow = POW10.get((precision - scale) as usize).and_then(|&p| i64::try_from(p).ok());
    if let (Ok(im), Some(p)) = (i64::try_from(increment.mantissa()), pow) {
        if let Some(m) = units.checked_mul(im).and_then(|m| m.checked_mul(p)) {
            return Some((m as i128, precision));
        }
    }
    let m = (units as i128)
        .checked_mul(increment.mantissa())?
        .checked_mul(pow10(precision - scale)?)?;
    Some((m, precision))
}

/// `units × increment` at `precision` decimal places, when that is exact and fits.
#[inline]
pub fn from_units(units: i64, increment: Decimal, precision: u32) -> Option<Decimal> {
    let (m, precision) = from_units_fixed(units, increment, precision)?;
    Decimal::try_from_i128_with_scale(m, precision).ok()
}

/// A decimal price (a [`Decimal`] or a parsed [`Number`]) in ticks of `inst`, exactly.
#[inline]
pub fn price(inst: &Instrument, value: impl Into<Number>) -> Result<Price, ConvertError> {
    let value = value.into();
    match number_units(value, inst.tick_size) {
        Some(t) => Ok(Price(t)),
        None => inst.price_from_decimal(value.to_decimal()),
    }
}

/// A decimal quantity (a [`Decimal`] or a parsed [`Number`]) in lots of `inst`, exactly.
#[inline]
pub fn qty(inst: &Instrument, value: impl Into<Number>) -> Result<Qty, ConvertError> {
    let value = value.into();
    match number_units(value, inst.lot_size) {
        Some(l) => Ok(Qty(l)),
        None => inst.qty_from_decimal(value.to_decimal()),
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

/// [`price_decimal`] as a [`Number`]: the same digits, without building a [`Decimal`]
/// when the mantissa fits in an `i64`.
#[inline]
pub fn price_number(inst: &Instrument, p: Price) -> Number {
    units_number(p.0, inst.tick_size, inst.price_precision, || price_decimal(inst, p))
}

/// [`qty_decimal`] as a [`Number`] (see [`price_number`]).
#[inline]
pub fn qty_number(inst: &Instrument, q: Qty) -> Number {
    units_number(q.0, inst.lot_size, inst.qty_precision, || qty_decimal(inst, q))
}

/// `units × increment` at `precision` places as a [`Number`]; `decimal` gives it when the
/// mantissa does not fit an `i64` (or the fast path cannot tell).
#[inline]
fn units_number(
    units: i64,
    increment: Decimal,
    precision: u32,
    decimal: impl FnOnce() -> Decimal,
) -> Number {
    match from_units_fixed(units, increment, precision) {
        Some((m, scale)) if scale <= 28 => match i64::try_from(m) {
            Ok(mantissa) => Number::Fixed { mantissa, scale },
            Err(_) => Number::Big(decimal()),
        },
        _ => Number::Big(decimal()),
    }
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
            // From text, through the parser the gateway uses.
            let n = Number::parse(v.to_string().as_bytes()).unwrap();
            prop_assert_eq!(price(&i, n), i.price_from_decimal(v));
            prop_assert_eq!(qty(&i, n), i.qty_from_decimal(v));
            prop_assert_eq!(price(&i, n.abs()), i.price_from_decimal(v.abs()));
            let p = price_decimal(&i, Price(units));
            let want = i.price_to_decimal(Price(units));
            prop_assert_eq!(p, want);
            prop_assert_eq!(p.to_string(), want.to_string());
            prop_assert_eq!(price_number(&i, Price(units)).to_decimal().to_string(), want.to_string());
            prop_assert_eq!(
                qty_number(&i, Qty(units)).to_decimal().to_string(),
                i.qty_to_decimal(Qty(units)).to_string()
            );
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
