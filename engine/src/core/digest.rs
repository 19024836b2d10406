//! The state digest: a BLAKE3 hash over a canonical encoding of the whole core state.
//!
//! Every component feeds its logical state (not its memory layout) in a fixed order, with
//! little-endian integers and a tag before each component, so two cores that hold the same
//! state give the same digest whatever their slot placement, and a digest from one machine
//! equals the digest from another. Replay determinism is proved by comparing digests.

use std::fmt;

/// A 32-byte state digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateDigest(pub [u8; 32]);

impl fmt::Display for StateDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for StateDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateDigest({self})")
    }
}

/// Accumulates the canonical encoding of components, each behind a tag.
pub struct DigestBuilder {
    hasher: blake3::Hasher,
}

impl DigestBuilder {
    /// An empty digest.
    pub fn new() -> DigestBuilder {
        DigestBuilder { hasher: blake3::Hasher::new() }
    }

    /// Feeds one component: its tag, then whatever `feed` writes.
    pub fn component(&mut self, tag: &str, feed: impl FnOnce(&mut dyn FnMut(&[u8]))) {
        self.hasher.update(&(tag.len() as u32).to_le_bytes());
        self.hasher.update(tag.as_bytes());
        let hasher = &mut self.hasher;
        feed(&mut |bytes: &[u8]| {
            hasher.update(bytes);
        });
    }

    /// The digest of everything fed.
    pub fn finish(&self) -> StateDigest {
        StateDigest(*self.hasher.finalize().as_bytes())
    }
}

impl Default for DigestBuilder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_separate_components() {
        let mut a = DigestBuilder::new();
        a.component("x", |s| s(b"ab"));
        a.component("y", |s| s(b"c"));
        let mut b = DigestBuilder::new();
        b.component("x", |s| s(b"a"));
        b.component("y", |s| s(b"bc"));
        assert_ne!(a.finish(), b.finish(), "the tag frames each component");
        let mut c = DigestBuilder::new();
        c.component("x", |s| s(b"ab"));
        c.component("y", |s| s(b"c"));
        assert_eq!(a.finish(), c.finish());
        assert_eq!(a.finish().to_string().len(), 64);
    }
}
