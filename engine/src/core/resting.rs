//! The firm's own resting limit orders, aggregated by price per instrument and side, so
//! self-trade prevention finds the best own price on the other side in O(1) instead of
//! walking the order table.
//!
//! It is derived state: updated at exactly the points where risk exposure changes (order
//! opened, filled, amended, closed), and rebuildable from the order table. Only `Limit`
//! orders count: held stops rest nowhere until triggered.
//!
//! Each (instrument, side) keeps at most `levels` price levels, the best ones, in a
//! ladder, and the lots of every other order as one `outside` total. Invariants:
//! - every price held outside is strictly worse than every price in the ladder;
//! - all the orders at one price are either in its level or all outside.
//!
//! A new price better than the worst level enters the ladder (evicting the worst level
//! outside when full); a price at or below it, while anything is outside, stays outside
//! (it might be worse than something outside). So the ladder's best is the side's best
//! whenever the ladder is not empty; once it empties with lots still outside, the best is
//! unknown ([`OwnResting::best`] says so) and the caller rebuilds that side from the
//! order table. That needs every one of the `levels` best levels to go first: rare, and
//! far cheaper than the walk of every order it replaces.

use crate::book::BookCapacity;
use crate::book::ladder::Ladder;
use crate::risk::OpenOrder;
use crate::{InstrumentId, Price, Side};

/// One side of one instrument.
struct SideLevels {
    /// The best levels, quantities in lots, each above zero.
    ladder: Ladder<i64>,
    /// Lots of the orders whose prices are not in the ladder.
    outside_lots: i64,
}

impl SideLevels {
    fn clear(&mut self) {
        self.ladder.clear();
        self.outside_lots = 0;
    }
}

pub(super) struct OwnResting {
    /// Per instrument, buys then sells: separate ladders, since the firm's own buys and
    /// sells may cross each other (different venues, replaces).
    books: Vec<[SideLevels; 2]>,
}

/// The best own price of a side could not be known from the aggregate: rebuild the side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Unknown;

impl OwnResting {
    /// `levels_per_side` levels for each side of each of `instruments` instruments.
    pub(super) fn new(instruments: usize, capacity: BookCapacity) -> Self {
        let levels = capacity.levels_per_side.max(1);
        let side = |s| SideLevels { ladder: Ladder::with_capacity(s, levels), outside_lots: 0 };
        let books = (0..instruments).map(|_| [side(Side::Buy), side(Side::Sell)]).collect();
        OwnResting { books }
    }

    /// Forgets every order.
    pub(super) fn clear(&mut self) {
        self.books.iter_mut().flatten().for_each(SideLevels::clear);
    }

    /// Forgets the orders of one side of one instrument (before rebuilding it).
    pub(super) fn clear_side(&mut self, instrument: InstrumentId, side: Side) {
        if let Some(books) = self.books.get_mut(instrument.index()) {
            books[side as usize].clear();
        }
    }

    /// A new order of `lots` (> 0) at `price` on `side` of `instrument`: as
    /// [`Self::change`]. Inlined where the price is the side's best level (an order
    /// joining the firm's best, the common case, as in the ladder's own search); any other
    /// goes through [`Self::change_at`].
    #[inline(always)]
    pub(super) fn add(&mut self, instrument: InstrumentId, side: Side, price: Price, lots: i64) {
        debug_assert!(lots > 0);
        if let Some(books) = self.books.get_mut(instrument.index()) {
            let s = &mut books[side as usize];
            // Plain branches, no closure: inlined into a large caller, a combinator may not be.
            if let Some(pos) = s.ladder.best()
                && s.ladder.price(pos) == price
            {
                *s.ladder.val_mut(pos) += lots;
                return;
            }
        }
        self.change_at(instrument, side, price, lots);
    }

    /// Adds `delta` lots (negative to remove) at the order's price: one search of the
    /// side's levels.
    pub(super) fn change(&mut self, o: &OpenOrder, delta: i64) {
        self.change_at(o.instrument, o.side, o.risk_price, delta);
    }

    /// Adds `delta` lots (negative to remove) at `price` on `side` of `instrument`.
    fn change_at(&mut self, instrument: InstrumentId, side: Side, price: Price, delta: i64) {
        if delta == 0 {
            return;
        }
        let Some(books) = self.books.get_mut(instrument.index()) else { return };
        let s = &mut books[side as usize];
        match s.ladder.find(price) {
            Ok(pos) => {
                let qty = *s.ladder.val(pos) + delta;
                debug_assert!(qty >= 0, "own resting went negative at {:?}", price);
                if qty > 0 {
                    *s.ladder.val_mut(pos) = qty;
                } else {
                    s.ladder.remove(pos);
                }
            }
            // Not a level: the order is (or goes) outside...
            Err(_) if delta < 0 => {
                s.outside_lots += delta;
                debug_assert!(s.outside_lots >= 0, "own resting went negative outside");
            }
            // ...unless it is better than the worst level (position 0 is below every
            // level), which is better than everything outside.
            Err(0) if s.outside_lots > 0 || (s.ladder.is_full() && s.ladder.len() > 0) => {
                s.outside_lots += delta;
            }
            Err(mut pos) => {
                if s.ladder.is_full() {
                    s.outside_lots += s.ladder.remove(0);
                    pos -= 1;
                }
                s.ladder.insert(pos, price, delta);
            }
        }
    }

    /// The best own resting price on `side`, `None` when there is none, or [`Unknown`]
    /// when the side must be rebuilt from the orders first.
    #[inline]
    pub(super) fn best(
        &self,
        instrument: InstrumentId,
        side: Side,
    ) -> Result<Option<Price>, Unknown> {
        let Some(books) = self.books.get(instrument.index()) else { return Ok(None) };
        let s = &books[side as usize];
        match s.ladder.best() {
            Some(pos) => Ok(Some(s.ladder.price(pos))),
            None if s.outside_lots > 0 => Err(Unknown),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, Qty};
    use proptest::prelude::*;

    fn order(side: Side, price: i64, lots: i64) -> OpenOrder {
        OpenOrder {
            account: AccountId(0),
            instrument: InstrumentId(0),
            side,
            risk_price: Price(price),
            leaves: Qty(lots),
        }
    }

    proptest! {
        /// Against a model that keeps every order: whenever the aggregate knows the best,
        /// it is the model's best; when it does not, a rebuild from the model's orders
        /// knows it.
        #[test]
        fn best_is_exact_or_unknown(
            ops in proptest::collection::vec((any::<bool>(), 0i64..40, 1i64..4, any::<bool>()), 1..300),
            levels in 1u32..6,
        ) {
            let capacity = BookCapacity { orders: 0, levels_per_side: levels };
            let mut own = OwnResting::new(1, capacity);
            let mut model: Vec<OpenOrder> = Vec::new();
            for (buy, price, lots, add) in ops {
                let side = if buy { Side::Buy } else { Side::Sell };
                if add || model.is_empty() {
                    let o = order(side, price, lots);
                    own.change(&o, lots);
                    model.push(o);
                } else {
                    let o = model.remove(price as usize % model.len());
                    own.change(&o, -o.leaves.0);
                }
                for side in [Side::Buy, Side::Sell] {
                    let prices = model.iter().filter(|o| o.side == side).map(|o| o.risk_price);
                    let expected = match side {
                        Side::Buy => prices.max(),
                        Side::Sell => prices.min(),
                    };
                    match own.best(InstrumentId(0), side) {
                        Ok(best) => prop_assert_eq!(best, expected),
                        Err(Unknown) => {
                            own.clear_side(InstrumentId(0), side);
                            for o in model.iter().filter(|o| o.side == side) {
                                own.change(o, o.leaves.0);
                            }
                            prop_assert_eq!(own.best(InstrumentId(0), side), Ok(expected));
                        }
                    }
                }
            }
        }
    }
}
