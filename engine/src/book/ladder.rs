//! The price levels of one side, kept in a sorted array with the **best level at the end**,
//! so the common case — inserting or removing at or near the top of book — moves few or no
//! elements, and the best level is `len - 1`.
//!
//! Keys are stored apart from level data (a dense `i64` array is what the search touches:
//! [`Ladder::find`] probes the positions a key's tick distance from the best and from the
//! worst level name, and bisects between them when neither holds it). A bid's key is its price; an ask's key is `!price` (= −price − 1, which cannot
//! overflow), so both sides sort ascending towards their best price.
//!
//! Both arrays are reserved at start-up; an insert into a full ladder is refused by the
//! caller (`LEVELS_FULL`), so they never reallocate.

use crate::{Price, Side};

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
    /// Keys are distinct integers, so a key `d` ticks behind the best is at most `d`
    /// levels deep (at or above position `n - 1 - d`), and a key `e` ticks in front of the
    /// worst has at most `e` levels below it (at or below position `e`). Where no tick is
    /// empty — near the top of a liquid book, and near its bottom, where levels are
    /// replaced — those bounds are the position itself. So both are probed at once, and a
    /// hit in either is found with one load each and no branch that depends on the depth
    /// (the walk from the top this replaced mispredicted about once a call, its exit
    /// depending on the depth). Otherwise the key lies strictly between the two probes:
    /// bisection over that window.
    ///
    /// Always inlined: a call (register saves, return) was a quarter of its instructions.
    #[inline(always)]
    pub fn find(&self, price: Price) -> Result<usize, usize> {
        let k = self.key(price);
        let n = self.keys.len();
        let (Some(&worst), Some(&best)) = (self.keys.first(), self.keys.last()) else {
            return Err(0);
        };
        if k > best {
            return Err(n);
        }
        if k < worst {
            return Err(0);
        }
        // `worst <= k <= best`, so both differences fit in a u64.
        let behind_best = best.wrapping_sub(k) as u64;
        let above_worst = k.wrapping_sub(worst) as u64;
        // Out of range, a probe falls on the best (or the worst), which is not `k` then.
        let top = if behind_best < n as u64 { n - 1 - behind_best as usize } else { n - 1 };
        let bottom = if above_worst < n as u64 { above_worst as usize } else { 0 };
        // One branch on a selected probe: written as `top_hit | bottom_hit`, the compiler
        // made two branches of it, the first mispredicted whenever the bottom one hit.
        let probe = if self.keys[top] == k { top } else { bottom };
        if self.keys[probe] == k {
            return Ok(probe);
        }
        // keys[top] < k unless `top` was clamped; keys[bottom] > k unless clamped; and
        // keys[n - 1] = best > k (a miss), so `k`'s place is in [lo, hi].
        let lo = if behind_best < n as u64 { top + 1 } else { 0 };
        let hi = if above_worst < n as u64 { bottom } else { n - 1 };
        match self.keys[lo..hi].binary_search(&k) {
            Ok(p) => Ok(lo + p),
            Err(p) => Err(lo + p),
        }
    }

    /// Inserts a level at `pos` (from [`Ladder::find`]). The caller checked `!is_full()`.
    #[inline]
    pub fn insert(&mut self, pos: usize, price: Price, val: T) {
        debug_assert!(!self.is_full());
        let k = self.key(price);
        self.keys.insert(pos, k);
        self.vals.insert(pos, val);
    }

    /// Removes the level at `pos`. The best level (the last) is taken off the end:
    /// `Vec::remove` calls `memmove` even with nothing to shift, and removing the best
    /// level is common (the best cancelled or traded away).
    #[inline]
    pub fn remove(&mut self, pos: usize) -> T {
        if pos + 1 == self.keys.len() {
            // The last element: `swap_remove` moves nothing.
            self.keys.swap_remove(pos);
            return self.vals.swap_remove(pos);
        }
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

    /// Dense stretches with a gap between them: keys found by the probe from the top, by
    /// the one from the bottom, and by bisection between probes that both miss.
    #[test]
    fn find_probes_both_ends_then_bisects() {
        for side in [Side::Buy, Side::Sell] {
            let mut l: Ladder<()> = Ladder::with_capacity(side, 64);
            let prices: Vec<i64> = match side {
                Side::Buy => (0..40).chain(60..63).collect(),
                Side::Sell => (0..3).chain(23..63).collect(),
            };
            for p in prices {
                let pos = l.find(Price(p)).unwrap_err();
                l.insert(pos, Price(p), ());
            }
            for q in -3..66 {
                let k = if side == Side::Buy { q } else { !q };
                assert_eq!(l.find(Price(q)), l.keys.binary_search(&k), "{side:?} {q}");
            }
        }
    }

    use proptest::prelude::*;

    proptest! {
        /// Any set of keys, dense or sparse, near the extremes or not: `find` answers as
        /// bisection does, for present keys, absent ones and ones beyond either end.
        #[test]
        fn find_agrees_with_bisection_on_any_book(
            prices in prop::collection::btree_set(
                prop_oneof![-40i64..40, (0i64..8).prop_map(|x| x * 7 + 100), any::<i64>()],
                0..60,
            ),
            probes in prop::collection::vec(prop_oneof![-50i64..160, any::<i64>()], 1..40),
        ) {
            for side in [Side::Buy, Side::Sell] {
                let mut l: Ladder<()> = Ladder::with_capacity(side, 64);
                for &p in &prices {
                    let pos = l.find(Price(p)).unwrap_err();
                    l.insert(pos, Price(p), ());
                }
                for &q in probes.iter().chain(prices.iter()) {
                    let k = if side == Side::Buy { q } else { !q };
                    prop_assert_eq!(l.find(Price(q)), l.keys.binary_search(&k));
                }
            }
        }
    }
}
