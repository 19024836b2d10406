//! Top-of-book analytics as exact integer ratios: no `f64` touches a price.

use crate::{Price, Qty};

/// One aggregated level, as written by `depth` into a caller's buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelView {
    /// Level price.
    pub price: Price,
    /// Visible quantity (iceberg reserve excluded).
    pub qty: Qty,
    /// Number of orders (0 in an L2 book, which does not know them).
    pub orders: u32,
}

/// Order-book imbalance over some levels: `(bid − ask) / (bid + ask)` kept as its two sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Imbalance {
    /// Visible bid quantity summed.
    pub bid: Qty,
    /// Visible ask quantity summed.
    pub ask: Qty,
}

impl Imbalance {
    /// The imbalance in parts per million, in `-1_000_000..=1_000_000` (positive: more
    /// bids), rounded toward zero; `None` when both sums are zero.
    pub fn ppm(&self) -> Option<i64> {
        let (b, a) = (self.bid.0 as i128, self.ask.0 as i128);
        let den = b + a;
        (den != 0).then(|| ((b - a) * 1_000_000 / den) as i64)
    }
}

/// Size-weighted mid `(bid_px·ask_qty + ask_px·bid_qty) / (bid_qty + ask_qty)`, in ticks,
/// as an exact fraction: `num / den` ticks with `den > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Microprice {
    /// Numerator, in ticks·lots.
    pub num: i128,
    /// Denominator, in lots (> 0).
    pub den: i128,
}

impl Microprice {
    /// From the top of book; `None` unless both quantities are positive.
    pub fn from_top(bid: (Price, Qty), ask: (Price, Qty)) -> Option<Microprice> {
        let ((bp, bq), (ap, aq)) = (bid, ask);
        if bq.0 <= 0 || aq.0 <= 0 {
            return None;
        }
        let num = bp.0 as i128 * aq.0 as i128 + ap.0 as i128 * bq.0 as i128;
        Some(Microprice { num, den: bq.0 as i128 + aq.0 as i128 })
    }

    /// The microprice in `1/per_tick` sub-ticks, rounded toward negative infinity
    /// (e.g. `per_tick = 1_000_000` gives micro-ticks).
    pub fn subticks(&self, per_tick: i64) -> i128 {
        (self.num * per_tick as i128).div_euclid(self.den)
    }
}

/// Sums the visible quantity of the first `levels` levels.
pub(crate) fn sum_qty(iter: impl Iterator<Item = Qty>, levels: usize) -> Qty {
    iter.take(levels).fold(Qty(0), |a, q| a + q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microprice_leans_toward_the_thin_side() {
        // Heavy bid (9) vs light ask (1): microprice near the ask.
        let m = Microprice::from_top((Price(100), Qty(9)), (Price(102), Qty(1))).unwrap();
        assert_eq!((m.num, m.den), (100 + 102 * 9, 10));
        assert_eq!(m.subticks(10), 1018);
        assert_eq!(Microprice::from_top((Price(1), Qty(0)), (Price(2), Qty(1))), None);
    }

    #[test]
    fn imbalance_ppm() {
        assert_eq!(Imbalance { bid: Qty(3), ask: Qty(1) }.ppm(), Some(500_000));
        assert_eq!(Imbalance { bid: Qty(0), ask: Qty(2) }.ppm(), Some(-1_000_000));
        assert_eq!(Imbalance { bid: Qty(0), ask: Qty(0) }.ppm(), None);
    }
}
