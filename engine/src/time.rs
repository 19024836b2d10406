//! Time as carried by commands.
//!
//! The core never reads a clock: every command carries the UTC nanosecond timestamp that
//! its gateway stamped on ingress, and the core makes that time monotonic.

use rkyv::{Archive, Deserialize, Serialize};

/// Nanoseconds since the Unix epoch, UTC.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Archive,
    Serialize,
    Deserialize,
)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(transparent)]
pub struct TimestampNs(pub u64);

impl TimestampNs {
    /// Nanoseconds per second.
    pub const NS_PER_S: u64 = 1_000_000_000;

    /// The later of two timestamps: how the core makes command time monotonic.
    #[inline]
    pub fn max(self, other: TimestampNs) -> TimestampNs {
        TimestampNs(self.0.max(other.0))
    }

    /// `self - earlier`, saturating at zero.
    #[inline]
    pub const fn saturating_since_ns(self, earlier: TimestampNs) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}
