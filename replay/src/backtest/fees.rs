//! Maker and taker fees per instrument, charged on every simulated fill.
//!
//! A rate is given in basis points of the fill's notional (negative for a rebate) with at
//! most four decimals, and the fee of a fill is `price × qty × bps / 10 000` in ticks·lots
//! of the instrument, rounded half away from zero to a whole tick·lot. The venue puts it
//! in the `VenueFill`, and the engine's positions account for it (`fees`, net P&L) exactly
//! as they would for a live venue's fee.
//!
//! Written `MAKER_BPS,TAKER_BPS` for every instrument or `SYMBOL=MAKER_BPS,TAKER_BPS` for
//! one; a later rate for an instrument replaces an earlier one.

use keel_engine::schema::Liquidity;
use keel_engine::{InstrumentId, Price, Qty};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::spec::DataSpec;

/// One instrument's rates, in 1e-8 of the notional (1 bp = 10 000).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    /// Charged when Keel's order rested.
    pub maker_e8: i64,
    /// Charged when Keel's order took liquidity.
    pub taker_e8: i64,
}

/// Rates per instrument.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeeSchedule {
    rates: Vec<Rates>,
}

/// A fee spec that does not parse or names an unknown instrument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("fee {spec:?}: {problem}")]
pub struct FeeError {
    /// The spec given.
    pub spec: String,
    /// What is wrong.
    pub problem: String,
}

impl FeeSchedule {
    /// No fees on `instruments` instruments.
    pub fn zero(instruments: usize) -> Self {
        FeeSchedule { rates: vec![Rates::default(); instruments] }
    }

    /// Applies `specs` in order over zero fees for the instruments of `data`.
    pub fn parse(specs: &[String], data: &DataSpec) -> Result<Self, FeeError> {
        let mut s = FeeSchedule::zero(data.instruments.len());
        for spec in specs {
            let fail = |problem: String| FeeError { spec: spec.clone(), problem };
            let (target, rates) = match spec.split_once('=') {
                Some((symbol, rates)) => {
                    let id = data
                        .instrument_id(symbol)
                        .ok_or_else(|| fail(format!("instrument {symbol:?} is not in the data")))?;
                    (Some(id), rates)
                }
                None => (None, spec.as_str()),
            };
            let Some((maker, taker)) = rates.split_once(',') else {
                return Err(fail("expected MAKER_BPS,TAKER_BPS (e.g. -0.5,2.5)".into()));
            };
            let r = Rates {
                maker_e8: bps_to_e8(maker).map_err(|e| fail(format!("maker: {e}")))?,
                taker_e8: bps_to_e8(taker).map_err(|e| fail(format!("taker: {e}")))?,
            };
            match target {
                Some(id) => s.rates[id.index()] = r,
                None => s.rates.iter_mut().for_each(|x| *x = r),
            }
        }
        Ok(s)
    }

    /// The rates of an instrument.
    pub fn rates(&self, instrument: InstrumentId) -> Rates {
        self.rates.get(instrument.index()).copied().unwrap_or_default()
    }

    /// The fee of a fill, ticks·lots (saturating at the `i64` range).
    #[inline]
    pub fn fee(
        &self,
        instrument: InstrumentId,
        liquidity: Liquidity,
        price: Price,
        qty: Qty,
    ) -> i64 {
        let r = self.rates(instrument);
        let rate = match liquidity {
            Liquidity::Maker => r.maker_e8,
            Liquidity::Taker => r.taker_e8,
        };
        if rate == 0 {
            return 0;
        }
        let scaled = price.notional(qty).saturating_mul(rate as i128);
        let (q, rem) = (scaled / 100_000_000, scaled % 100_000_000);
        let rounded = if rem.abs() * 2 >= 100_000_000 { q + rem.signum() } else { q };
        rounded.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// Human text of every instrument's rates, in bps, for reports.
    pub fn describe(&self, data: &DataSpec) -> Vec<(String, Decimal, Decimal)> {
        data.instruments
            .iter()
            .zip(&self.rates)
            .map(|(i, r)| (i.symbol.clone(), e8_to_bps(r.maker_e8), e8_to_bps(r.taker_e8)))
            .collect()
    }
}

fn bps_to_e8(text: &str) -> Result<i64, String> {
    let bps: Decimal =
        text.trim().parse().map_err(|_| format!("{text:?} is not a number of bps"))?;
    let e8 = bps * Decimal::from(10_000);
    if !e8.fract().is_zero() {
        return Err(format!("{text} bps has more than 4 decimals"));
    }
    e8.to_i64()
        .filter(|v| v.abs() <= 100_000_000)
        .ok_or_else(|| format!("{text} bps is beyond ±10000"))
}

fn e8_to_bps(e8: i64) -> Decimal {
    (Decimal::from(e8) / Decimal::from(10_000)).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::spec::InstrumentSpec;
    use keel_engine::core::FeedKind;

    fn data() -> DataSpec {
        let inst = |s: &str| InstrumentSpec {
            symbol: s.into(),
            tick_size: Decimal::ONE,
            lot_size: Decimal::ONE,
            currency: "USD".into(),
        };
        DataSpec {
            feed: FeedKind::L2,
            venue_id: 1,
            venue_name: "BT".into(),
            instruments: vec![inst("A"), inst("B")],
        }
    }

    #[test]
    fn rates_apply_per_instrument_and_round_half_away() {
        let s = FeeSchedule::parse(&["1,2".into(), "B=-0.5,25".into()], &data()).unwrap();
        let (a, b) = (InstrumentId(0), InstrumentId(1));
        // 1000 ticks × 30 lots = 30 000; 1 bp = 3, 2 bp = 6.
        assert_eq!(s.fee(a, Liquidity::Maker, Price(1000), Qty(30)), 3);
        assert_eq!(s.fee(a, Liquidity::Taker, Price(1000), Qty(30)), 6);
        // -0.5 bp of 30 000 = -1.5 → -2 (half away from zero); 25 bp = 75.
        assert_eq!(s.fee(b, Liquidity::Maker, Price(1000), Qty(30)), -2);
        assert_eq!(s.fee(b, Liquidity::Taker, Price(1000), Qty(30)), 75);
        // 1 bp of 10 000 = 1; of 4 999 = 0.4999 → 0.
        assert_eq!(s.fee(a, Liquidity::Maker, Price(4999), Qty(1)), 0);
    }

    #[test]
    fn bad_specs_say_why() {
        assert!(
            FeeSchedule::parse(&["C=1,2".into()], &data())
                .unwrap_err()
                .problem
                .contains("not in the data")
        );
        assert!(
            FeeSchedule::parse(&["1".into()], &data())
                .unwrap_err()
                .problem
                .contains("MAKER_BPS,TAKER_BPS")
        );
        assert!(
            FeeSchedule::parse(&["1.00001,2".into()], &data())
                .unwrap_err()
                .problem
                .contains("4 decimals")
        );
    }
}
