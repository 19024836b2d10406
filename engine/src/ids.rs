//! Identifiers.
//!
//! Numeric ids are dense small integers assigned from configuration (instruments, venues,
//! accounts, sessions) or by the core (orders), so they index pre-sized tables directly.
//! A client's order id ([`ClOrdId`]) is the client's own text, kept inline with no heap.

use rkyv::{Archive, Deserialize, Serialize};
use std::fmt;

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Archive, Serialize,
            Deserialize,
        )]
        #[rkyv(derive(Debug, PartialEq, Eq))]
        #[repr(transparent)]
        pub struct $name(pub $inner);

        impl $name {
            /// The id as a table index.
            #[inline]
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

numeric_id!(
    /// An instrument, as numbered in the configuration.
    InstrumentId(u32)
);
numeric_id!(
    /// A venue (exchange or simulated venue), as numbered in the configuration.
    VenueId(u16)
);
numeric_id!(
    /// A trading account; risk limits and positions are kept per account.
    AccountId(u32)
);
numeric_id!(
    /// A client or venue session (FIX, binary, in-process strategy).
    SessionId(u32)
);
numeric_id!(
    /// Keel's own order id, unique within a journal; assigned by the core.
    OrderId(u64)
);

/// A client order id (FIX tag 11): up to [`ClOrdId::CAPACITY`] bytes of printable ASCII,
/// stored inline so it can live in fixed-size commands and archived records.
///
/// Bytes past `len` are always zero, so the derived equality and hashing are on content.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
pub struct ClOrdId {
    len: u8,
    bytes: [u8; ClOrdId::CAPACITY],
}

/// Why a string cannot be a [`ClOrdId`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClOrdIdError {
    /// Empty ids are not allowed.
    #[error("client order id is empty")]
    Empty,
    /// Longer than [`ClOrdId::CAPACITY`] bytes.
    #[error("client order id is {len} bytes, the maximum is {max}")]
    TooLong {
        /// Length of the rejected id.
        len: usize,
        /// [`ClOrdId::CAPACITY`].
        max: usize,
    },
    /// A byte outside printable ASCII (0x21..=0x7e).
    #[error("client order id has a byte 0x{byte:02x} at offset {offset} outside printable ASCII")]
    BadByte {
        /// The offending byte.
        byte: u8,
        /// Its offset in the id.
        offset: usize,
    },
}

impl ClOrdId {
    /// Maximum length in bytes.
    pub const CAPACITY: usize = 31;

    /// Builds an id from bytes, checking length and content.
    pub fn from_bytes(src: &[u8]) -> Result<Self, ClOrdIdError> {
        if src.is_empty() {
            return Err(ClOrdIdError::Empty);
        }
        if src.len() > Self::CAPACITY {
            return Err(ClOrdIdError::TooLong { len: src.len(), max: Self::CAPACITY });
        }
        if let Some(offset) = src.iter().position(|b| !(0x21..=0x7e).contains(b)) {
            return Err(ClOrdIdError::BadByte { byte: src[offset], offset });
        }
        let mut bytes = [0u8; Self::CAPACITY];
        bytes[..src.len()].copy_from_slice(src);
        Ok(Self { len: src.len() as u8, bytes })
    }

    /// Builds a numeric id (decimal digits) without allocating; used by strategies and
    /// generators that number their own orders.
    pub fn from_u64(mut n: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut bytes = [0u8; Self::CAPACITY];
        let len = digits.len() - i;
        bytes[..len].copy_from_slice(&digits[i..]);
        Self { len: len as u8, bytes }
    }

    /// An id of decimal digits (a [`crate::strategy::ClOrdIdSeq`]'s text), which need no
    /// check: they are printable ASCII and fewer than [`Self::CAPACITY`].
    #[inline]
    pub(crate) fn from_digits<const N: usize>(digits: &[u8; N]) -> Self {
        const { assert!(N > 0 && N <= Self::CAPACITY) };
        debug_assert!(digits.iter().all(u8::is_ascii_digit));
        let mut bytes = [0u8; Self::CAPACITY];
        bytes[..N].copy_from_slice(digits);
        Self { len: N as u8, bytes }
    }

    /// The zero-length id: not a valid client order id (construction refuses it); a
    /// placeholder for storage that is never read.
    pub const EMPTY: ClOrdId = ClOrdId { len: 0, bytes: [0; Self::CAPACITY] };

    /// The id as four little-endian words of its bytes and their zero padding: bytes
    /// 0..8, 8..16, 16..24 and 23..31 (the last overlaps the third by one byte, so that
    /// each word is one plain load). The bytes past the length are zero, so the words
    /// determine the id: equal ids have equal words, and a hash may fold them instead of
    /// the bytes.
    #[inline]
    pub fn words(&self) -> [u64; 4] {
        let b = &self.bytes;
        let word = |i: usize| {
            u64::from_le_bytes([
                b[i],
                b[i + 1],
                b[i + 2],
                b[i + 3],
                b[i + 4],
                b[i + 5],
                b[i + 6],
                b[i + 7],
            ])
        };
        [word(0), word(8), word(16), word(23)]
    }

    /// The id's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The id as text (always ASCII by construction).
    pub fn as_str(&self) -> &str {
        // Construction admits only printable ASCII, so this never fails.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl std::str::FromStr for ClOrdId {
    type Err = ClOrdIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(s.as_bytes())
    }
}

impl fmt::Debug for ClOrdId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClOrdId({:?})", self.as_str())
    }
}

impl fmt::Display for ClOrdId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text() {
        let id: ClOrdId = "ORD-0001".parse().unwrap();
        assert_eq!(id.as_str(), "ORD-0001");
        assert_eq!(id.to_string(), "ORD-0001");
    }

    #[test]
    fn rejects_bad_input_naming_the_problem() {
        assert_eq!(ClOrdId::from_bytes(b""), Err(ClOrdIdError::Empty));
        assert_eq!(
            ClOrdId::from_bytes(&[b'a'; 32]),
            Err(ClOrdIdError::TooLong { len: 32, max: 31 })
        );
        assert_eq!(
            ClOrdId::from_bytes(b"ab c"),
            Err(ClOrdIdError::BadByte { byte: b' ', offset: 2 })
        );
    }

    #[test]
    fn numeric_ids_match_their_text() {
        for n in [0u64, 7, 10, 12345, u64::MAX] {
            assert_eq!(ClOrdId::from_u64(n), n.to_string().parse::<ClOrdId>().unwrap());
        }
    }

    #[test]
    fn equality_is_on_content() {
        let a: ClOrdId = "X1".parse().unwrap();
        let b = ClOrdId::from_bytes(b"X1").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, "X2".parse().unwrap());
    }
}
