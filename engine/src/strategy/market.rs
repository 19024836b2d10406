//! What a strategy sees of one instrument's market: top of book and the last trade.
//!
//! The core fills [`MarketView`] from its books (best level per side, aggregated over the
//! venues it routes to) and from trade prints. Derived signals — microprice and imbalance —
//! are computed here from those fields, in integer fixed point, so every strategy and every
//! replay computes them identically.

use crate::positions::mul_div_trunc;
use crate::{Price, Qty};

/// One price level: price and total quantity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Level {
    /// Level price.
    pub price: Price,
    /// Total quantity at the level, lots (positive).
    pub qty: Qty,
}

/// Top of book and last trade of one instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarketView {
    /// Best bid, if any.
    pub best_bid: Option<Level>,
    /// Best ask, if any.
    pub best_ask: Option<Level>,
    /// Price of the last market trade seen, if any.
    pub last_trade: Option<Price>,
}

/// Millionths per unit: the scale of `_x1e6` and `_ppm` fixed-point values.
pub(crate) const SCALE_X1E6: i64 = 1_000_000;

/// [`MarketView::microprice_x1e6_ticks`] with exact 128-bit intermediates, for inputs whose
/// steps do not fit 64 bits.
#[cold]
#[inline(never)]
fn microprice_wide(bid: Level, ask: Level) -> Option<i64> {
    let bid_qty = bid.qty.lots().max(0) as u64;
    let ask_qty = ask.qty.lots().max(0) as u64;
    let spread_x1e6 = (ask.price.ticks() as i128 - bid.price.ticks() as i128) * SCALE_X1E6 as i128;
    let offset = match bid_qty.checked_add(ask_qty) {
        Some(0) => spread_x1e6 / 2,
        Some(total) => mul_div_trunc(spread_x1e6, bid_qty, total),
        // Two quantities near u64::MAX: halve both, the weight barely moves.
        None => mul_div_trunc(spread_x1e6, bid_qty / 2, bid_qty / 2 + ask_qty / 2),
    };
    i64::try_from(bid.price.ticks() as i128 * SCALE_X1E6 as i128 + offset).ok()
}

impl MarketView {
    /// A view with both sides present.
    pub fn two_sided(bid: (i64, i64), ask: (i64, i64)) -> Self {
        Self {
            best_bid: Some(Level { price: Price(bid.0), qty: Qty(bid.1) }),
            best_ask: Some(Level { price: Price(ask.0), qty: Qty(ask.1) }),
            last_trade: None,
        }
    }

    /// Both sides, when both are present.
    #[inline]
    pub fn top(&self) -> Option<(Level, Level)> {
        Some((self.best_bid?, self.best_ask?))
    }

    /// Microprice in millionths of a tick: the quantity-weighted mid
    /// `(bid × ask_qty + ask × bid_qty) / (bid_qty + ask_qty)`, which leans toward the side
    /// with *less* quantity (the price more likely to trade next).
    ///
    /// Computed as `bid × 1e6 + (ask − bid) × 1e6 × bid_qty / (bid_qty + ask_qty)`,
    /// truncated toward zero, with exact 128-bit intermediates. Non-positive quantities
    /// count as zero; with no quantity on either side it is the mid. `None` when a side is
    /// missing or the result does not fit in `i64`.
    pub fn microprice_x1e6_ticks(&self) -> Option<i64> {
        let (bid, ask) = self.top()?;
        let (bid_px, ask_px) = (bid.price.ticks(), ask.price.ticks());
        let bid_qty = bid.qty.lots().max(0);
        let ask_qty = ask.qty.lots().max(0);
        // Every step in 64 bits when it fits (ordinary prices and quantities): the same
        // exact, truncated result without 128-bit arithmetic.
        if let Some(total) = bid_qty.checked_add(ask_qty)
            && let Some(spread_x1e6) =
                ask_px.checked_sub(bid_px).and_then(|s| s.checked_mul(SCALE_X1E6))
            && let Some(weighted) = spread_x1e6.checked_mul(bid_qty)
            && let Some(base) = bid_px.checked_mul(SCALE_X1E6)
        {
            let offset = if total == 0 { spread_x1e6 / 2 } else { weighted / total };
            return base.checked_add(offset);
        }
        microprice_wide(bid, ask)
    }

    /// Top-of-book imbalance in parts per million:
    /// `(bid_qty − ask_qty) × 1e6 / (bid_qty + ask_qty)`, truncated toward zero, in
    /// `-1_000_000..=1_000_000`; positive when bids outweigh asks. `None` when a side is
    /// missing or both quantities are zero.
    pub fn imbalance_ppm(&self) -> Option<i64> {
        let (bid, ask) = self.top()?;
        let bid_qty = bid.qty.lots().max(0) as i128;
        let ask_qty = ask.qty.lots().max(0) as i128;
        let total = bid_qty + ask_qty;
        if total == 0 {
            return None;
        }
        Some(((bid_qty - ask_qty) * SCALE_X1E6 as i128 / total) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microprice_leans_toward_the_thin_side() {
        // Equal sizes: the mid.
        assert_eq!(
            MarketView::two_sided((100, 5), (102, 5)).microprice_x1e6_ticks(),
            Some(101_000_000)
        );
        // Heavy bid: close to the ask.
        assert_eq!(
            MarketView::two_sided((100, 3), (102, 1)).microprice_x1e6_ticks(),
            Some(101_500_000)
        );
        // Thirds truncate.
        assert_eq!(
            MarketView::two_sided((100, 1), (101, 2)).microprice_x1e6_ticks(),
            Some(100_333_333)
        );
        assert_eq!(
            MarketView::two_sided((100, 0), (102, 0)).microprice_x1e6_ticks(),
            Some(101_000_000)
        );
        let one_sided = MarketView { best_ask: None, ..MarketView::two_sided((1, 1), (2, 1)) };
        assert_eq!(one_sided.microprice_x1e6_ticks(), None);
        let huge = MarketView::two_sided((i64::MAX - 1, i64::MAX), (i64::MAX, i64::MAX));
        assert_eq!(huge.microprice_x1e6_ticks(), None); // does not fit, does not panic
        let big_qty = MarketView::two_sided((100, i64::MAX), (102, i64::MAX));
        assert_eq!(big_qty.microprice_x1e6_ticks(), Some(101_000_000));
    }

    /// The 64-bit path, whenever it answers, equals the 128-bit one.
    #[test]
    fn the_64_bit_microprice_equals_the_wide_one() {
        use proptest::prelude::*;
        let any = || {
            prop_oneof![
                -1_000_000i64..1_000_000,
                any::<i64>(),
                (0i64..3).prop_map(|k| i64::MAX - k),
                (0i64..3).prop_map(|k| i64::MIN + k),
            ]
        };
        proptest!(|(bid in any(), ask in any(), bq in any(), aq in any())| {
            let view = MarketView::two_sided((bid, bq), (ask, aq));
            let (b, a) = view.top().unwrap();
            prop_assert_eq!(view.microprice_x1e6_ticks(), microprice_wide(b, a));
        });
    }

    #[test]
    fn imbalance_is_signed_ppm() {
        assert_eq!(MarketView::two_sided((100, 3), (101, 1)).imbalance_ppm(), Some(500_000));
        assert_eq!(MarketView::two_sided((100, 1), (101, 3)).imbalance_ppm(), Some(-500_000));
        assert_eq!(MarketView::two_sided((100, 0), (101, 0)).imbalance_ppm(), None);
    }
}
