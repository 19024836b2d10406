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
//!
//! Layout (measured on the order table's maps, whose keys are up to 36 bytes): a dense
//! array of 4-byte *tags*, one per bucket, beside the entries. A tag is 0 for an empty
//! bucket, else the high bit and 31 bits of the key's hash, whose low bits are the home
//! bucket. A probe reads tags only and compares a key only on an equal tag, so a miss
//! touches one small array, and deletion finds each entry's home from its tag without
//! hashing the key again.

use crate::{ClOrdId, OrderId, SessionId, VenueId};

/// A deterministic hash of a key.
pub(super) trait FixedHash: Copy + Eq {
    fn fixed_hash(&self) -> u64;
    /// A value for the storage of empty buckets; never observed.
    const PLACEHOLDER: Self;
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
    /// Fibonacci hashing: the core assigns order ids one after another, and a multiply by
    /// 2^64 / φ spreads consecutive keys evenly over the high bits the tag keeps (one
    /// multiply where `mix64` takes five steps).
    #[inline]
    fn fixed_hash(&self) -> u64 {
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
    const PLACEHOLDER: Self = OrderId(0);
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
        // The session, multiplied first so that it cannot cancel against the id's first
        // bytes (session 1 with id "0" and session 0 with id "1" hashed alike when it was
        // only xored in); then the id's four words (zero padding included, so equal ids
        // hash equally), each folded in with a multiply, which carries every bit upward;
        // mix64 brings the high bits back down to the home bucket.
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut h = (u64::from(self.session.0) ^ 0xcbf2_9ce4_8422_2325).wrapping_mul(K);
        for w in self.cl_ord_id.words() {
            h = (h ^ w).wrapping_mul(K);
        }
        mix64(h)
    }
    const PLACEHOLDER: Self = ClKey { session: SessionId(0), cl_ord_id: ClOrdId::EMPTY };
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
    const PLACEHOLDER: Self = ExecKey { venue: VenueId(0), exec_id: 0 };
}

/// A key's tag (31 bits of its hash, see the module docs), computed once by a caller that
/// looks a key up and later inserts it (see [`FixedMap::tag_of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag(u32);

const EMPTY: u32 = 0;
const TAG_BIT: u32 = 1 << 31;

/// The map. Holds at most `keys_max` keys (set at construction).
#[derive(Clone, Debug)]
pub(super) struct FixedMap<K, V> {
    /// Per bucket: [`EMPTY`], or [`TAG_BIT`] | 31 bits of the key's hash.
    tags: Vec<u32>,
    entries: Vec<(K, V)>,
    mask: usize,
    len: usize,
    keys_max: usize,
}

impl<K: FixedHash, V: Copy + Default> FixedMap<K, V> {
    /// A map for up to `keys_max` keys, with at least twice as many buckets.
    pub fn with_capacity(keys_max: usize) -> Self {
        let buckets_len = (keys_max.max(1) * 2).next_power_of_two();
        // A tag holds the home bucket in its low 31 bits.
        assert!(buckets_len <= TAG_BIT as usize, "FixedMap of {keys_max} keys is too large");
        FixedMap {
            tags: vec![EMPTY; buckets_len],
            entries: vec![(K::PLACEHOLDER, V::default()); buckets_len],
            mask: buckets_len - 1,
            len: 0,
            keys_max,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn tag(key: &K) -> u32 {
        // Truncation to 31 bits is the point.
        (key.fixed_hash() >> 33) as u32 | TAG_BIT
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        tag as usize & self.mask
    }

    /// `Ok(bucket)` holding `key`, or `Err(bucket)`: the empty bucket ending its probe.
    /// Terminates because the map is never full. Always inlined: a probe is a short loop,
    /// and every lookup and insert runs one.
    #[inline(always)]
    fn probe(&self, key: &K, tag: u32) -> Result<usize, usize> {
        let mut i = self.home(tag);
        loop {
            let t = self.tags[i];
            if t == EMPTY {
                return Err(i);
            }
            if t == tag && self.entries[i].0 == *key {
                return Ok(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    #[inline]
    pub fn get(&self, key: &K) -> Option<V> {
        self.probe(key, Self::tag(key)).ok().map(|i| self.entries[i].1)
    }

    #[inline]
    pub fn contains(&self, key: &K) -> bool {
        self.probe(key, Self::tag(key)).is_ok()
    }

    /// `key`'s tag, to pass with it to [`Self::contains_tagged`] and
    /// [`Self::insert_new_tagged`]. Only the hash is kept, never a bucket: the map may
    /// change in between.
    #[inline]
    pub fn tag_of(key: &K) -> Tag {
        Tag(Self::tag(key))
    }

    /// As [`Self::contains`], with `key`'s tag from [`Self::tag_of`].
    #[inline]
    pub fn contains_tagged(&self, key: &K, tag: Tag) -> bool {
        debug_assert_eq!(tag.0, Self::tag(key), "tag of another key");
        self.probe(key, tag.0).is_ok()
    }

    /// Inserts or overwrites. Returns `false` (and changes nothing) when a new key would
    /// exceed `keys_max`; callers size the map so this is a bug, not a rejection.
    pub fn insert(&mut self, key: K, value: V) -> bool {
        let tag = Self::tag(&key);
        match self.probe(&key, tag) {
            Ok(i) => {
                self.entries[i].1 = value;
                true
            }
            Err(i) => self.fill(i, tag, key, value),
        }
    }

    /// Inserts a key that must be new, in one probe. `Err(value)` of the key already
    /// there (nothing changes); `Ok(false)` when the map is at `keys_max` (a sizing bug).
    /// Always inlined: the order table's insert (once per new order) is its caller.
    #[inline(always)]
    pub fn insert_new(&mut self, key: K, value: V) -> Result<bool, V> {
        self.insert_new_tagged(&key, Self::tag_of(&key), value)
    }

    /// As [`Self::insert_new`], with `key`'s tag from [`Self::tag_of`]. Always inlined
    /// (see [`Self::insert_new`]).
    #[inline(always)]
    /// The key is borrowed: it is copied once, into its bucket.
    pub fn insert_new_tagged(&mut self, key: &K, tag: Tag, value: V) -> Result<bool, V> {
        debug_assert_eq!(tag.0, Self::tag(key), "tag of another key");
        match self.probe(key, tag.0) {
            Ok(i) => Err(self.entries[i].1),
            Err(i) => Ok(self.fill(i, tag.0, *key, value)),
        }
    }

    #[inline(always)]
    fn fill(&mut self, i: usize, tag: u32, key: K, value: V) -> bool {
        if self.len == self.keys_max {
            return false;
        }
        self.tags[i] = tag;
        self.entries[i] = (key, value);
        self.len += 1;
        true
    }

    /// Removes `key`, returning its value. Backward-shift deletion keeps every remaining
    /// key reachable from its home bucket without tombstones.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let mut hole = self.probe(key, Self::tag(key)).ok()?;
        let value = self.entries[hole].1;
        self.tags[hole] = EMPTY;
        self.len -= 1;
        let mut i = (hole + 1) & self.mask;
        // Bounded: at most one pass over the buckets, since at least one is empty.
        loop {
            let t = self.tags[i];
            if t == EMPTY {
                break;
            }
            let home = self.home(t);
            // Move the entry into the hole if the hole lies on its probe path
            // (cyclically between its home and its current bucket).
            let dist_current = i.wrapping_sub(home) & self.mask;
            let dist_hole = hole.wrapping_sub(home) & self.mask;
            if dist_hole < dist_current {
                self.tags[hole] = t;
                self.entries[hole] = self.entries[i];
                self.tags[i] = EMPTY;
                hole = i;
            }
            i = (i + 1) & self.mask;
        }
        Some(value)
    }

    /// Visits every entry, in bucket order (not observable outside the table: used for
    /// invariant checks only).
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        for (t, (k, v)) in self.tags.iter().zip(&self.entries) {
            if *t != EMPTY {
                f(k, v);
            }
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
    fn client_order_ids_collide_only_when_equal() {
        let key =
            |s: u32, id: &str| ClKey { session: SessionId(s), cl_ord_id: id.parse().unwrap() };
        let mut map = FixedMap::<ClKey, u32>::with_capacity(64);
        let ids = ["A", "A1", "1A", "B", "0000000000000000000000000000001"];
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(map.insert_new(key(1, id), n as u32), Ok(true));
            assert_eq!(map.insert_new(key(2, id), 100 + n as u32), Ok(true));
        }
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(map.get(&key(1, id)), Some(n as u32));
            assert_eq!(map.insert_new(key(2, id), 0), Err(100 + n as u32));
        }
        assert_eq!(map.get(&key(3, "A")), None);
        assert_eq!(map.len(), 2 * ids.len());
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
