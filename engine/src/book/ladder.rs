//! The price levels of one side, kept in a sorted array with the **best level at the end**,
//! so the common case — inserting or removing at or near the top of book — moves few or no
//! elements, and the best level is `len - 1`.
//!
//! Keys are stored apart from level data (a dense `i64` array is what the binary search
//! touches). A bid's key is its price; an ask's key is `!price` (= −price − 1, which cannot
//! overflow), so both sides sort ascending towards their best price.
//!
//! Both arrays are reserved at start-up; an insert into a full ladder is refused by the
//! caller (`LEVELS_FULL`), so they never reallocate.

use crate::{Price, Side};

/// Levels nearest the top searched linearly by [`Ladder::find`].
const TOP_WINDOW: usize = 16;

pub(crate) struct Ladder<T> {
    keys: Vec<i64>,
    vals: Vec<T>,
    side: Side,
    cap: usize,
}

impl<T> Ladder<T> {
    pub fn with_capacity(side: Side, cap: u32) -> Ladder<T> {
        let cap = cap as usize;
        Ladder { keys: Vec::with_capacity(cap), vals: Vec::with_capacity(cap), side, cap }
    }

    #[inline]
    fn key(&self, price: Price) -> i64 {
        match self.side {
            Side::Buy => price.0,
            Side::Sell => !price.0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    #[inline]
    pub fn is_full(&self) -> bool {
        self.keys.len() >= self.cap
    }

    #[inline]
    pub fn capacity(&self) -> u32 {
        self.cap as u32
    }

    /// `Ok(pos)` of the level at `price`, or `Err(pos)` where it would be inserted.
    ///
    /// Most traffic is within a few levels of the top, i.e. the end of the array: the best
    /// level is checked first, then the last [`TOP_WINDOW`] keys are walked from the top
    /// down; deeper, bisection.
    #[inline]
    pub fn find(&self, price: Price) -> Result<usize, usize> {
        let k = self.key(price);
        let n = self.keys.len();
        // The best level itself, or a new best, is the most common case of all: one
        // comparison instead of the window count.
        let Some(&best) = self.keys.last() else { return Err(0) };
        if k >= best {
            return if k == best { Ok(n - 1) } else { Err(n) };
        }
        let base = n.saturating_sub(TOP_WINDOW);
        if base > 0 && self.keys[base] > k {
            return self.keys[..base].binary_search(&k);
        }
        // Walk down from the best: updates are weighted to the top (a level `d` deep costs
        // `d` comparisons, where the branch-free count over the window cost ~60
        // instructions at any depth).
        let mut pos = n - 1; // keys[pos] > k (the best was checked above)
        while pos > base && self.keys[pos - 1] > k {
            pos -= 1;
        }
        // Here keys[pos] > k and, unless pos == 0, keys[pos - 1] <= k (keys[base] <= k).
        if pos > 0 && self.keys[pos - 1] == k { Ok(pos - 1) } else { Err(pos) }
    }

    /// Inserts a level at `pos` (from [`Ladder::find`]). The caller checked `!is_full()`.
    #[inline]
    pub fn insert(&mut self, pos: usize, price: Price, val: T) {
        debug_assert!(!self.is_full());
        let k = self.key(price);
        self.keys.insert(pos, k);
        self.vals.insert(pos, val);
    }

    #[inline]
    pub fn remove(&mut self, pos: usize) -> T {
        self.keys.remove(pos);
        self.vals.remove(pos)
    }

    /// Position of the best level.
    #[inline]
    pub fn best(&self) -> Option<usize> {
        self.keys.len().checked_sub(1)
    }

    #[inline]
    pub fn price(&self, pos: usize) -> Price {
        // The key transform is its own inverse.
        Price(self.key(Price(self.keys[pos])))
    }

    #[inline]
    pub fn val(&self, pos: usize) -> &T {
        &self.vals[pos]
    }

    #[inline]
    pub fn val_mut(&mut self, pos: usize) -> &mut T {
        &mut self.vals[pos]
    }

    /// Levels from best to worst.
    pub fn iter(&self) -> impl Iterator<Item = (Price, &T)> + '_ {
        (0..self.len()).rev().map(move |pos| (self.price(pos), &self.vals[pos]))
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.vals.clear();
    }
}

/// True when an order on `taker` side with limit `limit` trades against a level at `level`.
#[inline]
pub(crate) fn crosses(taker: Side, limit: Price, level: Price) -> bool {
    match taker {
        Side::Buy => level <= limit,
        Side::Sell => level >= limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_is_last_on_both_sides() {
        for side in [Side::Buy, Side::Sell] {
            let mut l: Ladder<()> = Ladder::with_capacity(side, 8);
            for p in [5, 1, 9, 3, i64::MIN, i64::MAX] {
                let pos = l.find(Price(p)).unwrap_err();
                l.insert(pos, Price(p), ());
            }
            let prices: Vec<i64> = l.iter().map(|(p, _)| p.0).collect();
            match side {
                Side::Buy => assert_eq!(prices, [i64::MAX, 9, 5, 3, 1, i64::MIN]),
                Side::Sell => assert_eq!(prices, [i64::MIN, 1, 3, 5, 9, i64::MAX]),
            }
            assert_eq!(l.find(Price(3)).map(|pos| l.price(pos)), Ok(Price(3)));
        }
    }

    #[test]
    fn find_agrees_with_bisection_at_every_depth() {
        for side in [Side::Buy, Side::Sell] {
            let mut l: Ladder<()> = Ladder::with_capacity(side, 64);
            for p in (0..40i64).rev().map(|x| x * 3) {
                let pos = l.find(Price(p)).unwrap_err();
                l.insert(pos, Price(p), ());
                for q in -2..122 {
                    let k = if side == Side::Buy { q } else { !q };
                    assert_eq!(l.find(Price(q)), l.keys.binary_search(&k), "{side:?} {q}");
                }
            }
        }
    }
}
