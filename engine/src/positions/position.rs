//! One account's position in one instrument, under average-cost accounting.
//!
//! Sign conventions: `net_qty_lots > 0` is long, `< 0` short. `open_cost` is the signed
//! notional of the open lots at their entry prices (`Σ price × signed qty`), so it has the
//! sign of the position for positive prices and `open_cost / net_qty_lots` is the exact
//! average entry price.
//!
//! Rounding rule. A fill that reduces the position by `c` of its `n` lots removes
//! `open_cost × c / n` **truncated toward zero** from the open cost, and realizes exactly
//! that removed amount against the fill's notional. The remainder of the division stays in
//! the open cost and is realized when the rest of the position closes (closing all `n`
//! lots removes all of the open cost, with no division remainder). So rounding only moves
//! a fraction of a tick·lot in time; it never creates or loses value:
//! `realized_pnl == cash_flow + open_cost` after every fill, exactly.
//! Fees are kept apart: `realized_pnl` is gross, [`Position::net_realized_pnl`] subtracts
//! fees.

use crate::positions::mul_div_trunc;
use crate::{Price, Qty, Side};

mod snapshot;

/// One (account, instrument) position. `Default` is flat with no history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    net_qty_lots: i64,
    open_cost: i128,
    realized_pnl: i128,
    fees: i128,
    bought_lots: i64,
    sold_lots: i64,
}

/// What one fill did to a position (the deltas the core feeds to loss limits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FillEffect {
    /// Lots of the existing position the fill closed.
    pub closed_lots: i64,
    /// Lots the fill opened (after closing, when it flipped the position).
    pub opened_lots: i64,
    /// Change of the gross realized P&L, ticks·lots.
    pub realized_pnl_delta: i128,
}

/// A fill that cannot be applied. The position is left unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    /// Fill quantities are positive.
    #[error("fill quantity must be positive, got {qty_lots} lots")]
    NonPositiveQty {
        /// The quantity given.
        qty_lots: i64,
    },
    /// The position or a running total would leave its integer range.
    #[error("position arithmetic overflow ({what})")]
    Overflow {
        /// Which quantity overflowed.
        what: &'static str,
    },
}

/// The exact average entry price `numerator / denominator` ticks, `denominator > 0` lots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPrice {
    /// Ticks·lots: the open cost with the sign of a price.
    pub numerator: i128,
    /// Lots: `|net qty|`, always positive.
    pub denominator: i64,
}

impl AvgPrice {
    /// The average price in millionths of a tick, rounded toward negative infinity;
    /// `None` if it does not fit in `i64`.
    pub fn floor_x1e6_ticks(self) -> Option<i64> {
        let scaled = self.numerator.checked_mul(1_000_000)?;
        i64::try_from(scaled.div_euclid(self.denominator as i128)).ok()
    }
}

fn overflow(what: &'static str) -> PositionError {
    PositionError::Overflow { what }
}

impl Position {
    /// Net quantity in lots: long > 0, short < 0.
    #[inline]
    pub const fn net_qty_lots(&self) -> i64 {
        self.net_qty_lots
    }

    /// Net quantity as a [`Qty`].
    #[inline]
    pub const fn net_qty(&self) -> Qty {
        Qty(self.net_qty_lots)
    }

    /// Signed notional of the open lots at entry, ticks·lots (zero when flat).
    #[inline]
    pub const fn open_cost(&self) -> i128 {
        self.open_cost
    }

    /// Gross realized P&L, ticks·lots.
    #[inline]
    pub const fn realized_pnl(&self) -> i128 {
        self.realized_pnl
    }

    /// Fees paid (negative for net rebates), ticks·lots.
    #[inline]
    pub const fn fees(&self) -> i128 {
        self.fees
    }

    /// Realized P&L after fees, ticks·lots.
    #[inline]
    pub const fn net_realized_pnl(&self) -> i128 {
        self.realized_pnl - self.fees
    }

    /// Total lots bought.
    #[inline]
    pub const fn bought_lots(&self) -> i64 {
        self.bought_lots
    }

    /// Total lots sold.
    #[inline]
    pub const fn sold_lots(&self) -> i64 {
        self.sold_lots
    }

    /// The exact average entry price, or `None` when flat.
    pub fn avg_price(&self) -> Option<AvgPrice> {
        if self.net_qty_lots == 0 {
            return None;
        }
        let sign = self.net_qty_lots.signum() as i128;
        Some(AvgPrice { numerator: self.open_cost * sign, denominator: self.net_qty_lots.abs() })
    }

    /// Unrealized P&L marked at `mark` (the core passes the mid), ticks·lots:
    /// `mark × net − open_cost`.
    #[inline]
    pub fn unrealized(&self, mark: Price) -> i128 {
        mark.notional(self.net_qty()) - self.open_cost
    }

    /// Applies one fill of `qty` lots at `price` on `side`, paying `fee` ticks·lots.
    ///
    /// Increasing fills add their notional to the open cost; reducing fills realize P&L
    /// against the average cost (see the module's rounding rule); a fill that flips the
    /// position closes the old one entirely and opens the rest at the fill price.
    /// On error nothing changes.
    pub fn apply_fill(
        &mut self,
        side: Side,
        price: Price,
        qty: Qty,
        fee: i64,
    ) -> Result<FillEffect, PositionError> {
        let qty_lots = qty.lots();
        if qty_lots <= 0 {
            return Err(PositionError::NonPositiveQty { qty_lots });
        }
        let sign = side.sign();
        let net = self.net_qty_lots;
        let reducing = net != 0 && net.signum() != sign;
        let closed_lots = if reducing { qty_lots.min(net.abs()) } else { 0 };
        let opened_lots = qty_lots - closed_lots;

        // Cost leaving the position for the closed lots (truncated toward zero), and the
        // fill's signed notional for them; the difference is realized.
        let removed_cost = if closed_lots == 0 {
            0
        } else {
            mul_div_trunc(self.open_cost, closed_lots as u64, net.unsigned_abs())
        };
        let closed_notional = price.ticks() as i128 * (closed_lots as i128 * sign as i128);
        let realized_delta =
            (-closed_notional).checked_sub(removed_cost).ok_or(overflow("realized P&L"))?;
        let opened_cost = price.ticks() as i128 * (opened_lots as i128 * sign as i128);

        let new_net = net.checked_add(sign * qty_lots).ok_or(overflow("net quantity"))?;
        let new_open = (self.open_cost - removed_cost)
            .checked_add(opened_cost)
            .ok_or(overflow("open cost"))?;
        let new_realized =
            self.realized_pnl.checked_add(realized_delta).ok_or(overflow("realized P&L"))?;
        let new_fees = self.fees.checked_add(fee as i128).ok_or(overflow("fees"))?;
        let (new_bought, new_sold) = match side {
            Side::Buy => (self.bought_lots.checked_add(qty_lots), Some(self.sold_lots)),
            Side::Sell => (Some(self.bought_lots), self.sold_lots.checked_add(qty_lots)),
        };
        let (Some(new_bought), Some(new_sold)) = (new_bought, new_sold) else {
            return Err(overflow("volume"));
        };

        self.net_qty_lots = new_net;
        self.open_cost = new_open;
        self.realized_pnl = new_realized;
        self.fees = new_fees;
        self.bought_lots = new_bought;
        self.sold_lots = new_sold;
        debug_assert!(self.net_qty_lots != 0 || self.open_cost == 0, "flat with open cost");
        debug_assert_eq!(self.bought_lots - self.sold_lots, self.net_qty_lots);
        Ok(FillEffect { closed_lots, opened_lots, realized_pnl_delta: realized_delta })
    }

    /// Appends the canonical little-endian encoding (72 bytes) to `sink`.
    pub(crate) fn digest_into(&self, sink: &mut impl FnMut(&[u8])) {
        sink(&self.net_qty_lots.to_le_bytes());
        sink(&self.open_cost.to_le_bytes());
        sink(&self.realized_pnl.to_le_bytes());
        sink(&self.fees.to_le_bytes());
        sink(&self.bought_lots.to_le_bytes());
        sink(&self.sold_lots.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(p: &mut Position, side: Side, price: i64, qty: i64) -> FillEffect {
        p.apply_fill(side, Price(price), Qty(qty), 0).unwrap()
    }

    #[test]
    fn long_round_trip_realizes_the_price_difference() {
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 100, 10);
        assert_eq!(p.open_cost(), 1000);
        assert_eq!(p.unrealized(Price(105)), 50);
        let e = fill(&mut p, Side::Sell, 110, 10);
        assert_eq!(e, FillEffect { closed_lots: 10, opened_lots: 0, realized_pnl_delta: 100 });
        assert_eq!((p.net_qty_lots(), p.open_cost(), p.realized_pnl()), (0, 0, 100));
        assert_eq!(p.avg_price(), None);
    }

    #[test]
    fn short_round_trip_realizes_the_price_difference() {
        let mut p = Position::default();
        fill(&mut p, Side::Sell, 100, 10);
        assert_eq!(p.open_cost(), -1000);
        assert_eq!(p.avg_price(), Some(AvgPrice { numerator: 1000, denominator: 10 }));
        assert_eq!(p.unrealized(Price(90)), 100);
        fill(&mut p, Side::Buy, 90, 10);
        assert_eq!(p.realized_pnl(), 100);
    }

    #[test]
    fn partial_close_truncates_toward_zero_and_keeps_the_remainder() {
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 3, 1);
        fill(&mut p, Side::Buy, 3, 1);
        fill(&mut p, Side::Buy, 4, 1); // open cost 10 for 3 lots
        let e = fill(&mut p, Side::Sell, 5, 2);
        // removed = trunc(10 × 2 / 3) = 6; realized = 10 - 6.
        assert_eq!(e.realized_pnl_delta, 4);
        assert_eq!(p.open_cost(), 4);
        fill(&mut p, Side::Sell, 5, 1);
        assert_eq!(p.open_cost(), 0);
        assert_eq!(p.realized_pnl(), 15 - 10);
    }

    #[test]
    fn flip_closes_then_opens_at_the_fill_price() {
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 100, 5);
        let e = fill(&mut p, Side::Sell, 120, 8);
        assert_eq!(e, FillEffect { closed_lots: 5, opened_lots: 3, realized_pnl_delta: 100 });
        assert_eq!((p.net_qty_lots(), p.open_cost()), (-3, -360));
        assert_eq!((p.bought_lots(), p.sold_lots()), (5, 8));
    }

    #[test]
    fn fees_are_kept_apart() {
        let mut p = Position::default();
        p.apply_fill(Side::Buy, Price(100), Qty(1), 7).unwrap();
        p.apply_fill(Side::Sell, Price(101), Qty(1), -2).unwrap();
        assert_eq!((p.realized_pnl(), p.fees(), p.net_realized_pnl()), (1, 5, -4));
    }

    #[test]
    fn bad_fills_change_nothing() {
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 100, 1);
        let before = p;
        assert_eq!(
            p.apply_fill(Side::Buy, Price(1), Qty(0), 0),
            Err(PositionError::NonPositiveQty { qty_lots: 0 })
        );
        assert!(p.apply_fill(Side::Buy, Price(1), Qty(i64::MAX), 0).is_err());
        assert_eq!(p, before);
    }

    #[test]
    fn average_price_in_millionths() {
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 3, 1);
        fill(&mut p, Side::Buy, 4, 2);
        assert_eq!(p.avg_price().unwrap().floor_x1e6_ticks(), Some(3_666_666));
    }
}
