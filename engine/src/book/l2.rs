//! The aggregated level book fed by venue L2 updates ("set level to qty; 0 deletes").
//!
//! Venue feeds may cross transiently (a bid update arriving before the ask delete it
//! implies). This book trusts the latest update: setting a level removes every opposite
//! level at or through its price, so the book is never crossed.

use super::BookCapacity;
use super::analytics::{Imbalance, LevelView, Microprice, sum_qty};
use super::error::BookError;
use super::ladder::{Ladder, crosses};
use crate::{Price, Qty, Side};

mod snapshot;

/// Price levels of both sides, bounded at start-up.
pub struct L2Book {
    bids: Ladder<Qty>,
    asks: Ladder<Qty>,
}

impl L2Book {
    /// Reserves all memory the book will use (`capacity.orders` is not used).
    pub fn new(capacity: BookCapacity) -> L2Book {
        L2Book {
            bids: Ladder::with_capacity(Side::Buy, capacity.levels_per_side),
            asks: Ladder::with_capacity(Side::Sell, capacity.levels_per_side),
        }
    }

    /// Empties the book (before a snapshot).
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    #[inline]
    fn ladder(&self, side: Side) -> &Ladder<Qty> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    /// Sets the level at `price` to `qty`; `qty == 0` deletes it (deleting an absent level
    /// is a no-op). A new level on a full side is refused with `LEVELS_FULL`, unchanged.
    #[inline]
    pub fn set(&mut self, side: Side, price: Price, qty: Qty) -> Result<(), BookError> {
        self.set_top(side, price, qty).map(|_| ())
    }

    /// [`L2Book::set`], telling whether the top of book (best price or quantity of either
    /// side) may have changed: `false` only when it certainly did not (a level behind the
    /// best set or removed, an absent level deleted), which lets a strategy host skip
    /// callers that only read the top.
    ///
    /// Always inlined: the simulated venue of a backtest calls it once an event from a
    /// loop the compiler did not inline it into, and the call cost ~20 instructions.
    #[inline(always)]
    pub fn set_top(&mut self, side: Side, price: Price, qty: Qty) -> Result<bool, BookError> {
        if qty.0 < 0 {
            return Err(BookError::InvalidQty { qty });
        }
        let (own, other) = match side {
            Side::Buy => (&mut self.bids, &mut self.asks),
            Side::Sell => (&mut self.asks, &mut self.bids),
        };
        // The best level is the last: a position at `len - 1` (before a removal, after an
        // insert) is the top.
        let top = match own.find(price) {
            Ok(pos) if qty.0 == 0 => {
                let top = pos + 1 == own.len();
                own.remove(pos);
                // Deleting a level never crosses the book.
                return Ok(top);
            }
            Ok(pos) => {
                *own.val_mut(pos) = qty;
                pos + 1 == own.len()
            }
            Err(_) if qty.0 == 0 => return Ok(false),
            Err(pos) => {
                if own.is_full() {
                    return Err(BookError::LevelsFull { side, capacity: own.capacity() });
                }
                own.insert(pos, price, qty);
                pos + 1 == own.len()
            }
        };
        // Uncross: opposite levels this price trades through are stale. Only a new best
        // level can cross. Whether the opposite best is crossed is tested first: it is
        // rarely true, where `top` goes either way with the data.
        let mut uncrossed = false;
        let crossing = other.best().is_some_and(|pos| crosses(side, price, other.price(pos)));
        if crossing && top {
            while let Some(pos) = other.best() {
                if !crosses(side, price, other.price(pos)) {
                    break;
                }
                other.remove(pos);
                uncrossed = true;
            }
        }
        Ok(top || uncrossed)
    }

    /// Best bid price and quantity.
    #[inline]
    pub fn best_bid(&self) -> Option<(Price, Qty)> {
        self.best(Side::Buy)
    }

    /// Best ask price and quantity.
    #[inline]
    pub fn best_ask(&self) -> Option<(Price, Qty)> {
        self.best(Side::Sell)
    }

    /// Best price and quantity of a side.
    #[inline]
    pub fn best(&self, side: Side) -> Option<(Price, Qty)> {
        let l = self.ladder(side);
        l.best().map(|pos| (l.price(pos), *l.val(pos)))
    }

    /// Quantity at `price` on `side` (zero if no level).
    pub fn qty_at(&self, side: Side, price: Price) -> Qty {
        let l = self.ladder(side);
        l.find(price).map(|pos| *l.val(pos)).unwrap_or(Qty(0))
    }

    /// Writes up to `out.len()` levels of `side`, best first; returns how many.
    pub fn depth(&self, side: Side, out: &mut [LevelView]) -> usize {
        let mut n = 0;
        for ((price, &qty), slot) in self.ladder(side).iter().zip(out.iter_mut()) {
            *slot = LevelView { price, qty, orders: 0 };
            n += 1;
        }
        n
    }

    /// Levels of `side`, best first.
    pub fn levels(&self, side: Side) -> impl Iterator<Item = LevelView> + '_ {
        self.ladder(side).iter().map(|(price, &qty)| LevelView { price, qty, orders: 0 })
    }

    /// Number of levels on `side`.
    pub fn level_count(&self, side: Side) -> usize {
        self.ladder(side).len()
    }

    /// Quantity imbalance over the best `levels` levels of each side.
    pub fn imbalance(&self, levels: usize) -> Imbalance {
        Imbalance {
            bid: sum_qty(self.bids.iter().map(|(_, &q)| q), levels),
            ask: sum_qty(self.asks.iter().map(|(_, &q)| q), levels),
        }
    }

    /// Microprice from the top of book, when both sides have one.
    pub fn microprice(&self) -> Option<Microprice> {
        Microprice::from_top(self.best_bid()?, self.best_ask()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: BookCapacity = BookCapacity { orders: 0, levels_per_side: 3 };

    #[test]
    fn set_update_delete() {
        let mut b = L2Book::new(CAP);
        b.set(Side::Buy, Price(99), Qty(5)).unwrap();
        b.set(Side::Buy, Price(98), Qty(7)).unwrap();
        b.set(Side::Sell, Price(101), Qty(2)).unwrap();
        assert_eq!(b.best_bid(), Some((Price(99), Qty(5))));
        b.set(Side::Buy, Price(99), Qty(1)).unwrap();
        assert_eq!(b.best_bid(), Some((Price(99), Qty(1))));
        b.set(Side::Buy, Price(99), Qty(0)).unwrap();
        assert_eq!(b.best_bid(), Some((Price(98), Qty(7))));
        b.set(Side::Buy, Price(50), Qty(0)).unwrap();
        assert_eq!(b.level_count(Side::Buy), 1);
        assert_eq!(
            b.set(Side::Buy, Price(1), Qty(-1)),
            Err(BookError::InvalidQty { qty: Qty(-1) })
        );
    }

    #[test]
    fn set_top_says_when_the_top_may_have_moved() {
        let mut b = L2Book::new(BookCapacity { orders: 0, levels_per_side: 8 });
        assert_eq!(b.set_top(Side::Buy, Price(99), Qty(5)), Ok(true), "first bid");
        assert_eq!(b.set_top(Side::Buy, Price(97), Qty(5)), Ok(false), "behind the best");
        assert_eq!(b.set_top(Side::Buy, Price(97), Qty(6)), Ok(false), "behind, updated");
        assert_eq!(b.set_top(Side::Buy, Price(96), Qty(0)), Ok(false), "absent, deleted");
        assert_eq!(b.set_top(Side::Buy, Price(99), Qty(4)), Ok(true), "best, updated");
        assert_eq!(b.set_top(Side::Buy, Price(100), Qty(1)), Ok(true), "new best");
        assert_eq!(b.set_top(Side::Buy, Price(97), Qty(0)), Ok(false), "behind, deleted");
        assert_eq!(b.set_top(Side::Sell, Price(105), Qty(1)), Ok(true), "first ask");
        assert_eq!(b.set_top(Side::Sell, Price(107), Qty(1)), Ok(false));
        assert_eq!(b.set_top(Side::Buy, Price(100), Qty(0)), Ok(true), "best deleted");
        // A new best bid through the asks removes them: the top moved on both sides.
        assert_eq!(b.set_top(Side::Buy, Price(106), Qty(1)), Ok(true));
        assert_eq!(b.best_ask(), Some((Price(107), Qty(1))));
        assert_eq!(b.best_bid(), Some((Price(106), Qty(1))));
        assert_eq!(
            b.set_top(Side::Buy, Price(1), Qty(-1)),
            Err(BookError::InvalidQty { qty: Qty(-1) })
        );
    }

    #[test]
    fn full_side_is_a_typed_error_and_updates_still_work() {
        let mut b = L2Book::new(CAP);
        for p in 1..=3 {
            b.set(Side::Sell, Price(100 + p), Qty(1)).unwrap();
        }
        assert_eq!(
            b.set(Side::Sell, Price(110), Qty(1)),
            Err(BookError::LevelsFull { side: Side::Sell, capacity: 3 })
        );
        b.set(Side::Sell, Price(102), Qty(9)).unwrap();
        assert_eq!(b.qty_at(Side::Sell, Price(102)), Qty(9));
    }

    #[test]
    fn crossing_update_removes_stale_opposite_levels() {
        let mut b = L2Book::new(CAP);
        b.set(Side::Sell, Price(101), Qty(1)).unwrap();
        b.set(Side::Sell, Price(102), Qty(1)).unwrap();
        b.set(Side::Buy, Price(101), Qty(4)).unwrap();
        assert_eq!(b.best_ask(), Some((Price(102), Qty(1))));
        assert_eq!(b.best_bid(), Some((Price(101), Qty(4))));
        let mut out = [LevelView::default(); 4];
        assert_eq!(b.depth(Side::Sell, &mut out), 1);
        assert_eq!(b.imbalance(5), Imbalance { bid: Qty(4), ask: Qty(1) });
        let m = b.microprice().unwrap();
        assert_eq!((m.num, m.den), (101 + 102 * 4, 5));
    }
}
