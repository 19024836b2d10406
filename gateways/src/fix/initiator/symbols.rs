//! Instruments by Symbol (55), and exact conversions between FIX decimals and Keel's
//! ticks and lots.
//!
//! A price or quantity that is not a whole number of ticks or lots cannot be represented
//! in the core. From a venue that is a venue bug; the report is still published (losing a
//! fill would be worse), rounded to the nearest increment, and the conversion reports the
//! rounding so the caller logs it with the numbers.

use keel_engine::{Instrument, InstrumentId, Price, Qty};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::HashMap;

/// The instruments one venue trades.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    instruments: Vec<Instrument>,
    by_symbol: HashMap<Box<[u8]>, usize>,
}

/// A value converted to ticks or lots, and whether it had to be rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Converted<T> {
    /// The value in ticks or lots.
    pub value: T,
    /// True when the decimal was off the grid and was rounded to the nearest increment.
    pub rounded: bool,
}

impl Symbols {
    /// The table of `instruments`.
    pub fn new(instruments: Vec<Instrument>) -> Symbols {
        let by_symbol = instruments
            .iter()
            .enumerate()
            .map(|(i, inst)| (inst.symbol.as_bytes().to_vec().into_boxed_slice(), i))
            .collect();
        Symbols { instruments, by_symbol }
    }

    /// Every instrument.
    pub fn all(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The instrument called `symbol`.
    pub fn by_symbol(&self, symbol: &[u8]) -> Option<&Instrument> {
        self.by_symbol.get(symbol).map(|&i| &self.instruments[i])
    }

    /// The instrument with id `id`.
    pub fn get(&self, id: InstrumentId) -> Option<&Instrument> {
        match self.instruments.get(id.index()) {
            Some(i) if i.id == id => Some(i),
            _ => self.instruments.iter().find(|i| i.id == id),
        }
    }
}

fn to_units(value: Decimal, increment: Decimal) -> Option<(i64, bool)> {
    let units = value.checked_div(increment)?;
    let rounded = units.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
    let n = i64::try_from(rounded.mantissa() / 10i128.pow(rounded.scale())).ok()?;
    Some((n, rounded != units))
}

/// A FIX price in ticks of `inst`; `None` when it does not fit an `i64`.
pub fn price_of(inst: &Instrument, value: Decimal) -> Option<Converted<Price>> {
    to_units(value, inst.tick_size).map(|(n, rounded)| Converted { value: Price(n), rounded })
}

/// A FIX quantity in lots of `inst`; `None` when it does not fit an `i64`.
pub fn qty_of(inst: &Instrument, value: Decimal) -> Option<Converted<Qty>> {
    to_units(value, inst.lot_size).map(|(n, rounded)| Converted { value: Qty(n), rounded })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn btc() -> Instrument {
        Instrument::builder(InstrumentId(0), "BTC-USD")
            .tick_size(Decimal::from_str("0.01").unwrap())
            .lot_size(Decimal::from_str("0.001").unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn exact_values_convert_and_off_grid_ones_round_visibly() {
        let i = btc();
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(
            price_of(&i, d("50000.01")),
            Some(Converted { value: Price(5_000_001), rounded: false })
        );
        assert_eq!(
            price_of(&i, d("50000.016")),
            Some(Converted { value: Price(5_000_002), rounded: true })
        );
        assert_eq!(qty_of(&i, d("1.5")), Some(Converted { value: Qty(1500), rounded: false }));
        assert_eq!(qty_of(&i, d("-0.002")), Some(Converted { value: Qty(-2), rounded: false }));
        assert_eq!(price_of(&i, d("1e20")), None);
        let s = Symbols::new(vec![i.clone()]);
        assert_eq!(s.by_symbol(b"BTC-USD").map(|x| x.id), Some(InstrumentId(0)));
        assert!(s.by_symbol(b"ETH-USD").is_none());
        assert_eq!(s.get(InstrumentId(0)).map(|x| x.symbol.as_str()), Some("BTC-USD"));
    }
}
