//! A fixed-capacity open-addressing hash map with a fixed (unseeded) hash.
//!
//! Why not `HashMap`: its default hasher is seeded from a random source, and it grows by
//! reallocating. This map is sized once (a power of two at least twice the most keys it
//! will ever hold, so probes stay short) and never allocates again; its hash is a fixed
//! function of the key, so behaviour is identical on every run and machine. Iteration
//! order is never exposed.
//!
//! Linear probing with backward-shift deletion: no tombstones, so a long run of inserts
//! and removals does not degrade lookups.

use crate::{ClOrdId, OrderId, SessionId, VenueId};

/// A deterministic hash of a key.
pub(super) trait FixedHash: Copy + Eq {
    fn fixed_hash(&self) -> u64;
}

/// The splitmix64 finaliser: a cheap bijective mix with good avalanche.
#[inline]
pub(super) const fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl FixedHash for OrderId {
    #[inline]
    fn fixed_hash(&self) -> u64 {
        mix64(self.0)
    }
}

/// A client order id in the scope where it must be unique: its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ClKey {
    pub session: SessionId,
    pub cl_ord_id: ClOrdId,
}

impl FixedHash for ClKey {
    #[inline]
    fn fixed_hash(&self) -> u64 {
        // FNV-1a over the id's bytes, seeded with the session.
        let mut h = 0xcbf2_9ce4_8422_2325 ^ u64::from(self.session.0);
        for &b in self.cl_ord_id.as_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        mix64(h)
    }
}

/// A venue's execution id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ExecKey {
    pub venue: VenueId,
    pub exec_id: u64,
}

impl FixedHash for ExecKey {
    #[inline]
    fn fixed_hash(&self) -> u64 {
        mix64(self.exec_id ^ mix64(u64::from(self.venue.0)))
    }
}

/// The map. Holds at most `keys_max` keys (set at construction).
#[derive(Clone, Debug)]
pub(super) struct FixedMap<K, V> {
    buckets: Vec<Option<(K, V)>>,
    mask: usize,
    len: usize,
    keys_max: usize,
}

impl<K: FixedHash, V: Copy> FixedMap<K, V> {
    /// A map for up to `keys_max` keys, with at least twice as many buckets.
    pub fn with_capacity(keys_max: usize) -> Self {
        let buckets_len = (keys_max.max(1) * 2).next_power_of_two();
        FixedMap { buckets: vec![None; buckets_len], mask: buckets_len - 1, len: 0, keys_max }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn home(&self, key: &K) -> usize {
        // Truncation to the bucket mask is the point.
        (key.fixed_hash() as usize) & self.mask
    }

    /// The bucket holding `key`, if present. Terminates because the map is never full.
    fn find(&self, key: &K) -> Option<usize> {
        let mut i = self.home(key);
        loop {
            match &self.buckets[i] {
                None => return None,
                Some((k, _)) if k == key => return Some(i),
                Some(_) => i = (i + 1) & self.mask,
            }
        }
    }

    #[inline]
    pub fn get(&self, key: &K) -> Option<V> {
        self.find(key).and_then(|i| self.buckets[i].map(|(_, v)| v))
    }

    #[inline]
    pub fn contains(&self, key: &K) -> bool {
        self.find(key).is_some()
    }

    /// Inserts or overwrites. Returns `false` (and changes nothing) when a new key would
    /// exceed `keys_max`; callers size the map so this is a bug, not a rejection.
    pub fn insert(&mut self, key: K, value: V) -> bool {
        let mut i = self.home(&key);
        loop {
            match &mut self.buckets[i] {
                Some((k, v)) if *k == key => {
                    *v = value;
                    return true;
                }
                Some(_) => i = (i + 1) & self.mask,
                slot @ None => {
                    if self.len == self.keys_max {
                        return false;
                    }
                    *slot = Some((key, value));
                    self.len += 1;
                    return true;
                }
            }
        }
    }

    /// Removes `key`, returning its value. Backward-shift deletion keeps every remaining
    /// key reachable from its home bucket without tombstones.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let mut hole = self.find(key)?;
        let value = self.buckets[hole].take().map(|(_, v)| v);
        self.len -= 1;
        let mut i = (hole + 1) & self.mask;
        // Bounded: at most one pass over the buckets, since at least one is empty.
        while let Some((k, _)) = &self.buckets[i] {
            let home = self.home(k);
            // Move the entry into the hole if the hole lies on its probe path
            // (cyclically between its home and its current bucket).
            let dist_current = i.wrapping_sub(home) & self.mask;
            let dist_hole = hole.wrapping_sub(home) & self.mask;
            if dist_hole < dist_current {
                self.buckets[hole] = self.buckets[i].take();
                hole = i;
            }
            i = (i + 1) & self.mask;
        }
        value
    }

    /// Visits every entry, in bucket order (not observable outside the table: used for
    /// invariant checks only).
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        for (k, v) in self.buckets.iter().flatten() {
            f(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        #[test]
        fn behaves_like_a_btreemap(ops in proptest::collection::vec((0u64..40, any::<bool>()), 0..400)) {
            let mut map = FixedMap::<OrderId, u64>::with_capacity(40);
            let mut model = BTreeMap::new();
            for (k, insert) in ops {
                if insert {
                    prop_assert!(map.insert(OrderId(k), k * 3));
                    model.insert(k, k * 3);
                } else {
                    prop_assert_eq!(map.remove(&OrderId(k)), model.remove(&k));
                }
                prop_assert_eq!(map.len(), model.len());
                for k in 0..40 {
                    prop_assert_eq!(map.get(&OrderId(k)), model.get(&k).copied());
                }
            }
        }
    }

    #[test]
    fn refuses_keys_past_capacity() {
        let mut map = FixedMap::<OrderId, ()>::with_capacity(2);
        assert!(map.insert(OrderId(1), ()));
        assert!(map.insert(OrderId(2), ()));
        assert!(!map.insert(OrderId(3), ()));
        assert!(map.insert(OrderId(2), ()));
        assert_eq!(map.len(), 2);
    }
}
