//! Exact `a × b / d` without intermediate overflow.

/// `a × b / d` truncated toward zero, for `0 <= b <= d` and `d > 0`.
///
/// Used wherever a fraction `b / d <= 1` of an `i128` amount is taken (the cost removed by
/// a partial close, the microprice weight). The result never exceeds `|a|` in magnitude, so
/// it always fits; the computation splits `a = q·d + r` so no intermediate overflows:
/// `a·b/d = q·b + r·b/d`, where `|q·b| <= |a|` and `|r·b| < d² <= 2^128` (done in `u128`).
/// Because `q` and `r` have the sign of `a` (Rust's `/` and `%` truncate), truncating
/// `r·b/d` truncates the whole toward zero.
///
/// # Panics
/// In debug builds, when `d == 0` or `b > d`.
#[inline]
pub fn mul_div_trunc(a: i128, b: u64, d: u64) -> i128 {
    debug_assert!(d > 0 && b <= d, "mul_div_trunc needs 0 <= b <= d, d > 0 (b={b}, d={d})");
    if d == 0 {
        return 0;
    }
    // The common case fits 64 bits: one hardware division instead of a 128-bit one (a
    // library call). Same exact, truncated result.
    if let (Ok(a), Ok(b), Ok(d)) = (i64::try_from(a), i64::try_from(b), i64::try_from(d))
        && let Some(ab) = a.checked_mul(b)
    {
        return i128::from(ab / d);
    }
    let d_wide = d as i128;
    let q = a / d_wide;
    let r = a % d_wide;
    let frac = (r.unsigned_abs() * b as u128 / d as u128) as i128;
    let frac = if r < 0 { -frac } else { frac };
    q * b as i128 + frac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The general path alone, to check the fast path against.
    fn wide(a: i128, b: u64, d: u64) -> i128 {
        let d_wide = d as i128;
        let (q, r) = (a / d_wide, a % d_wide);
        let frac = (r.unsigned_abs() * b as u128 / d as u128) as i128;
        q * b as i128 + if r < 0 { -frac } else { frac }
    }

    #[test]
    fn the_fast_path_equals_the_general_one() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for i in 0..200_000u32 {
            let bits = (next() % 127) as u32;
            let a = (next() as i128 | ((next() as i128) << 64)) >> (127 - bits);
            let d = (next() >> (1 + next() % 63)) + 1;
            let b = if i % 3 == 0 { d } else { next() % (d + 1) };
            assert_eq!(mul_div_trunc(a, b, d), wide(a, b, d), "{a}*{b}/{d}");
        }
    }

    #[test]
    fn matches_plain_arithmetic_when_it_fits() {
        for a in [-1001i128, -7, -1, 0, 1, 7, 1001, 123_456_789] {
            for (b, d) in [(0u64, 3u64), (1, 3), (2, 3), (3, 3), (5, 7), (1, 1)] {
                assert_eq!(mul_div_trunc(a, b, d), a * b as i128 / d as i128, "{a}*{b}/{d}");
            }
        }
    }

    #[test]
    fn the_64_bit_path_agrees_with_the_128_bit_one() {
        let wide = |a: i128, b: u64, d: u64| {
            let (q, r) = (a / d as i128, a % d as i128);
            let frac = (r.unsigned_abs() * b as u128 / d as u128) as i128;
            q * b as i128 + if r < 0 { -frac } else { frac }
        };
        let edges = [
            i64::MIN as i128,
            i64::MIN as i128 + 1,
            -3_037_000_500,
            -1,
            0,
            1,
            3_037_000_500,
            i64::MAX as i128,
        ];
        for a in edges {
            for (b, d) in [
                (0u64, 1u64),
                (1, 2),
                (3_037_000_499, 3_037_000_500),
                (i64::MAX as u64, i64::MAX as u64),
                (1 << 62, u64::MAX),
            ] {
                assert_eq!(mul_div_trunc(a, b, d), wide(a, b, d), "{a}*{b}/{d}");
            }
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        let a = i128::MAX - 5;
        assert_eq!(mul_div_trunc(a, u64::MAX, u64::MAX), a);
        assert_eq!(mul_div_trunc(i128::MIN + 1, u64::MAX - 1, u64::MAX).signum(), -1);
        assert_eq!(mul_div_trunc(i128::MAX, 1, 2), i128::MAX / 2);
        // 2^63 / (2^64 - 1) is a hair over one half.
        let half = mul_div_trunc(i128::MAX, 1 << 63, u64::MAX);
        assert!(half > i128::MAX / 2 && half < i128::MAX / 2 + (1 << 64));
    }
}
