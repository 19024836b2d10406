//! Fixed-point prices and quantities.
//!
//! A [`Price`] is a whole number of ticks and a [`Qty`] a whole number of lots of one
//! instrument; the instrument's reference data gives their decimal meaning
//! (see [`crate::Instrument`]). Both are plain `i64` newtypes so arithmetic on the hot path
//! is integer arithmetic. Notional (`price × quantity`) is computed in `i128` ticks·lots
//! so it never overflows.

use rkyv::{Archive, Deserialize, Serialize};

/// A price in ticks of its instrument. May be negative (spreads, some futures).
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
pub struct Price(pub i64);

/// A quantity in lots of its instrument. Order quantities are positive; signed values are
/// used for positions (long > 0, short < 0).
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
pub struct Qty(pub i64);

impl Price {
    /// The price in ticks.
    #[inline]
    pub const fn ticks(self) -> i64 {
        self.0
    }

    /// Notional value of `qty` at this price, in ticks·lots, widened so it cannot overflow.
    #[inline]
    pub const fn notional(self, qty: Qty) -> i128 {
        self.0 as i128 * qty.0 as i128
    }
}

impl Qty {
    /// The zero quantity.
    pub const ZERO: Qty = Qty(0);

    /// The quantity in lots.
    #[inline]
    pub const fn lots(self) -> i64 {
        self.0
    }

    /// True when the quantity is zero.
    #[inline]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The smaller of two quantities.
    #[inline]
    pub fn min(self, other: Qty) -> Qty {
        Qty(self.0.min(other.0))
    }
}

macro_rules! impl_arith {
    ($t:ident) => {
        impl std::ops::Add for $t {
            type Output = $t;
            #[inline]
            fn add(self, rhs: $t) -> $t {
                $t(self.0 + rhs.0)
            }
        }
        impl std::ops::Sub for $t {
            type Output = $t;
            #[inline]
            fn sub(self, rhs: $t) -> $t {
                $t(self.0 - rhs.0)
            }
        }
        impl std::ops::AddAssign for $t {
            #[inline]
            fn add_assign(&mut self, rhs: $t) {
                self.0 += rhs.0;
            }
        }
        impl std::ops::SubAssign for $t {
            #[inline]
            fn sub_assign(&mut self, rhs: $t) {
                self.0 -= rhs.0;
            }
        }
        impl std::ops::Neg for $t {
            type Output = $t;
            #[inline]
            fn neg(self) -> $t {
                $t(-self.0)
            }
        }
    };
}
impl_arith!(Price);
impl_arith!(Qty);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notional_does_not_overflow() {
        let n = Price(i64::MAX).notional(Qty(i64::MAX));
        assert_eq!(n, i64::MAX as i128 * i64::MAX as i128);
    }

    #[test]
    fn arithmetic() {
        assert_eq!(Qty(5) - Qty(7), Qty(-2));
        assert_eq!(-Price(3), Price(-3));
        assert_eq!(Qty(3).min(Qty(2)), Qty(2));
    }
}
