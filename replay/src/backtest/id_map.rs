//! Hash maps keyed by order ids, with a cheap hasher.
//!
//! Order ids are Keel's own (dense, sequential) or a venue's; nothing adversarial picks
//! them, so the default SipHash (its cost showed once per request in the backtest) buys
//! nothing here. Only lookups, inserts and removals are made in these maps, or folds whose
//! result does not depend on the order of iteration (a sum): the hasher never shows in a
//! result.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast hasher for `u64` ids: one multiply of the id with its high bits folded in.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }
}

/// A map from ids with [`IdHasher`].
pub type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map() {
        let mut m: IdMap<u64> = IdMap::default();
        for id in 0..10_000u64 {
            m.insert(id * 7919, id);
        }
        assert_eq!(m.len(), 10_000);
        assert_eq!(m.get(&(42 * 7919)), Some(&42));
        assert_eq!(m.remove(&(9_999 * 7919)), Some(9_999));
        assert_eq!(m.get(&1), None);
        assert_eq!(m.values().sum::<u64>(), (0..9_999u64).sum::<u64>());
    }
}
