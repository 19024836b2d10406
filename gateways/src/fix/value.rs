//! Field values: parsing and formatting FIX data types without allocating.
//!
//! - `int`/`SeqNum`/`NumInGroup`/`Length`: ASCII digits with an optional leading `-`
//!   (only where signed values are allowed); no `+`, no spaces.
//! - `Price`/`Qty`/`float`: `[-]digits[.digits]`, at least one digit, parsed exactly
//!   into a [`Decimal`] (no binary floating point anywhere); up to 28 significant digits.
//!   [`Number::parse`] reads the same syntax into an `i64` mantissa and a scale when 18
//!   digits or fewer are given (prices and quantities), and defers to [`parse_decimal`]
//!   otherwise: the same values, the same refusals, no `Decimal` built on the hot path.
//! - `char`: exactly one byte; `Boolean`: `Y` or `N`.
//!
//! Formatting writes into a caller's `Vec<u8>` whose capacity is reused, so steady-state
//! encoding does not allocate. Short values are laid out in a fixed stack buffer and
//! appended with one copy of the buffer's size, cut to the value's length (a copy of a
//! variable length is a `memcpy` call, which costs more than these values); integers go
//! two digits per division by 100. Property tests check every formatter against the
//! standard library's or `Decimal`'s formatting.

use rust_decimal::Decimal;

/// A value that is not of its tag's data type (SessionRejectReason 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not an integer (or out of its range).
    #[error("not an integer")]
    NotInt,
    /// Not a decimal number, or more than 28 significant digits.
    #[error("not a decimal number")]
    NotDecimal,
    /// Not exactly one character.
    #[error("not a single character")]
    NotChar,
    /// Not `Y` or `N`.
    #[error("not Y or N")]
    NotBool,
    /// Not a UTC timestamp `YYYYMMDD-HH:MM:SS[.fff[fff[fff]]]`.
    #[error("not a UTC timestamp YYYYMMDD-HH:MM:SS[.sss]")]
    NotTimestamp,
    /// Not valid ASCII text.
    #[error("not printable ASCII")]
    NotText,
}

/// Parses an unsigned integer (no sign, no leading `+`).
#[inline]
pub fn parse_u64(v: &[u8]) -> Result<u64, ValueError> {
    if v.is_empty() || v.len() > 20 {
        return Err(ValueError::NotInt);
    }
    let mut n: u64 = 0;
    for &b in v {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(ValueError::NotInt);
        }
        n = n.checked_mul(10).and_then(|n| n.checked_add(d as u64)).ok_or(ValueError::NotInt)?;
    }
    Ok(n)
}

/// Parses a signed integer.
#[inline]
pub fn parse_i64(v: &[u8]) -> Result<i64, ValueError> {
    match v.split_first() {
        Some((b'-', digits)) => {
            let n = parse_u64(digits)?;
            if n > i64::MAX as u64 + 1 {
                return Err(ValueError::NotInt);
            }
            Ok((n as i64).wrapping_neg())
        }
        _ => i64::try_from(parse_u64(v)?).map_err(|_| ValueError::NotInt),
    }
}

/// Parses a single-character value.
#[inline]
pub fn parse_char(v: &[u8]) -> Result<u8, ValueError> {
    match v {
        [c] if c.is_ascii_graphic() => Ok(*c),
        _ => Err(ValueError::NotChar),
    }
}

/// Parses a Boolean (`Y`/`N`).
#[inline]
pub fn parse_bool(v: &[u8]) -> Result<bool, ValueError> {
    match v {
        b"Y" => Ok(true),
        b"N" => Ok(false),
        _ => Err(ValueError::NotBool),
    }
}

/// Checks that `v` is printable ASCII (space allowed) and returns it as text.
#[inline]
pub fn parse_text(v: &[u8]) -> Result<&str, ValueError> {
    if v.iter().all(|b| (0x20..=0x7e).contains(b)) {
        // All bytes are ASCII, so this cannot fail.
        std::str::from_utf8(v).map_err(|_| ValueError::NotText)
    } else {
        Err(ValueError::NotText)
    }
}

/// A decimal as read from FIX text: a mantissa and a scale (`mantissa / 10^scale`) when
/// the mantissa fits in an `i64` (prices and quantities always do), else a [`Decimal`].
/// Either is exactly the value [`parse_decimal`] gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Number {
    /// `mantissa / 10^scale`, `scale` at most 28.
    Fixed {
        /// The digits, signed.
        mantissa: i64,
        /// Digits after the point.
        scale: u32,
    },
    /// Anything longer.
    Big(Decimal),
}

impl Number {
    /// Parses `[-]digits[.digits]` like [`parse_decimal`] (the same values accepted, the
    /// same refused), without building a [`Decimal`] when 18 digits or fewer are given.
    #[inline]
    pub fn parse(v: &[u8]) -> Result<Number, ValueError> {
        match parse_fixed(v) {
            Some((mantissa, scale)) => Ok(Number::Fixed { mantissa, scale }),
            None => parse_decimal(v).map(Number::Big),
        }
    }

    /// The value as a [`Decimal`].
    #[inline]
    pub fn to_decimal(self) -> Decimal {
        match self {
            Number::Fixed { mantissa, scale } => Decimal::new(mantissa, scale),
            Number::Big(d) => d,
        }
    }

    /// The absolute value.
    #[inline]
    pub fn abs(self) -> Number {
        match self {
            // |mantissa| of at most 18 digits cannot overflow.
            Number::Fixed { mantissa, scale } => Number::Fixed { mantissa: mantissa.abs(), scale },
            Number::Big(d) => Number::Big(d.abs()),
        }
    }
}

impl From<Decimal> for Number {
    fn from(d: Decimal) -> Number {
        Number::Big(d)
    }
}

/// `[-]digits[.digits]` with 1 to 18 digits in all, as `(mantissa, scale)`; `None` for
/// anything else (longer, or not a decimal: [`parse_decimal`] then decides).
#[inline]
fn parse_fixed(v: &[u8]) -> Option<(i64, u32)> {
    let (neg, digits) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, v),
    };
    if digits.len() > 19 {
        return None;
    }
    let mut mantissa: i64 = 0;
    let mut count = 0u32;
    let mut point: Option<usize> = None;
    for (i, &b) in digits.iter().enumerate() {
        let d = b.wrapping_sub(b'0');
        if d <= 9 {
            // Wrapping: 19 digits may overflow, and are refused below.
            mantissa = mantissa.wrapping_mul(10).wrapping_add(d as i64);
            count += 1;
        } else if b == b'.' && point.is_none() {
            point = Some(i);
        } else {
            return None;
        }
    }
    // At most 18 digits: only then the mantissa cannot have overflowed.
    if count == 0 || count > 18 {
        return None;
    }
    let scale = point.map_or(0, |p| (digits.len() - p - 1) as u32);
    Some((if neg { -mantissa } else { mantissa }, scale))
}

/// Parses a decimal exactly: `[-]digits[.digits]`.
pub fn parse_decimal(v: &[u8]) -> Result<Decimal, ValueError> {
    let (neg, digits) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, v),
    };
    if digits.is_empty() {
        return Err(ValueError::NotDecimal);
    }
    let mut mantissa: u128 = 0;
    let mut scale: u32 = 0;
    let mut seen_point = false;
    let mut seen_digit = false;
    let mut significant = 0u32;
    for &b in digits {
        if b == b'.' {
            if seen_point {
                return Err(ValueError::NotDecimal);
            }
            seen_point = true;
            continue;
        }
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(ValueError::NotDecimal);
        }
        seen_digit = true;
        if mantissa != 0 || d != 0 {
            significant += 1;
        }
        if significant > 28 {
            return Err(ValueError::NotDecimal);
        }
        mantissa = mantissa * 10 + d as u128;
        if seen_point {
            scale += 1;
            if scale > 28 {
                return Err(ValueError::NotDecimal);
            }
        }
    }
    if !seen_digit {
        return Err(ValueError::NotDecimal);
    }
    let signed = if neg { -(mantissa as i128) } else { mantissa as i128 };
    Decimal::try_from_i128_with_scale(signed, scale).map_err(|_| ValueError::NotDecimal)
}

/// `"00" "01" … "99"`: two digits per division by 100 when formatting.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// `10^i` for every `i` whose power fits in a `u64`.
pub const POW10: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// The number of decimal digits of `n` (1 for 0).
#[inline]
pub fn digit_count(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// Writes the last `buf.len()` decimal digits of `n` into `buf` (zero-padded on the left).
#[inline]
fn fill_digits(buf: &mut [u8], mut n: u64) {
    let mut i = buf.len();
    while i >= 2 {
        let r = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i] = DIGIT_PAIRS[r];
        buf[i + 1] = DIGIT_PAIRS[r + 1];
    }
    if i == 1 {
        buf[0] = b'0' + (n % 10) as u8;
    }
}

/// Writes the last `buf.len()` decimal digits of `n` into `buf`, zero-padded (a field of
/// fixed width, such as a timestamp's fraction of a second).
#[inline]
pub fn write_fixed_width(buf: &mut [u8], n: u64) {
    fill_digits(buf, n);
}

/// Appends the first `len` bytes of `buf`. The whole (fixed-size) buffer is copied and the
/// excess cut off: a copy of a known size is a few moves, where one of a variable size
/// is a call to `memcpy` that costs more than these short values.
#[inline(always)]
fn extend_prefix<const N: usize>(out: &mut Vec<u8>, buf: &[u8; N], len: usize) {
    debug_assert!(len <= N);
    let start = out.len();
    out.extend_from_slice(buf);
    out.truncate(start + len);
}

/// Appends the decimal digits of `n`.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let len = digit_count(n);
    fill_digits(&mut buf[..len], n);
    extend_prefix(out, &buf, len);
}

/// Appends `t=`: the start of a field.
#[inline]
pub fn write_tag(out: &mut Vec<u8>, t: u32) {
    let mut buf = [0u8; 12];
    let len = digit_count(t as u64);
    fill_digits(&mut buf[..len], t as u64);
    buf[len] = b'=';
    extend_prefix(out, &buf, len + 1);
}

/// Appends `n` with a `-` when negative.
#[inline]
pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// Appends `n` zero-padded to at least `width` digits (timestamps, the checksum); a
/// width above 20 counts as 20, and 0 with width 0 writes nothing.
#[inline]
pub fn write_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let significant = if n == 0 { 0 } else { digit_count(n) };
    let len = significant.max(width).min(20);
    let mut buf = [0u8; 20];
    fill_digits(&mut buf[..len], n);
    extend_prefix(out, &buf, len);
}

/// Appends `mantissa / 10^scale` exactly as [`write_decimal`] writes the [`Decimal`] of
/// that mantissa and scale (`scale` at most 28): the integer part (at least `0`), and
/// `scale` fractional digits, trailing zeros kept.
#[inline]
pub fn write_fixed(out: &mut Vec<u8>, mantissa: i64, scale: u32) {
    debug_assert!(scale <= 28);
    let scale = scale as usize;
    let abs = mantissa.unsigned_abs();
    let significant = if abs == 0 { 0 } else { digit_count(abs) };
    let ndigits = significant.max(scale + 1);
    let neg = usize::from(mantissa < 0);
    let point = usize::from(scale > 0);
    let len = neg + ndigits + point;
    // Sign, at most 29 digits (20 significant, padding up to scale 28 + 1), the point.
    let mut buf = [b'0'; 32];
    // Right to left from the end: `scale` fraction digits, the point, the integer digits.
    let mut i = len;
    let mut n = abs;
    for _ in 0..scale {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    if scale > 0 {
        i -= 1;
        buf[i] = b'.';
    }
    while i > neg {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    if neg == 1 {
        buf[0] = b'-';
    }
    extend_prefix(out, &buf, len);
}

/// Appends a decimal at its own scale (`1.50` stays `1.50`), never in exponent form.
pub fn write_decimal(out: &mut Vec<u8>, d: &Decimal) {
    let m = d.mantissa();
    // Prices and quantities almost always fit: 64-bit arithmetic, one copy.
    if let Ok(small) = i64::try_from(m) {
        return write_fixed(out, small, d.scale());
    }
    let scale = d.scale() as usize;
    if m < 0 {
        out.push(b'-');
    }
    let abs = m.unsigned_abs();
    // At most 29 digits for a 96-bit mantissa, plus room for leading zeros up to scale 28.
    let mut buf = [b'0'; 40];
    let mut i = buf.len();
    // 64-bit division is several times cheaper than 128-bit: use it when it fits (prices
    // and quantities almost always do).
    if let Ok(mut small) = u64::try_from(abs) {
        while small > 0 {
            i -= 1;
            buf[i] = b'0' + (small % 10) as u8;
            small /= 10;
        }
    } else {
        let mut big = abs;
        while big > 0 {
            i -= 1;
            buf[i] = b'0' + (big % 10) as u8;
            big /= 10;
        }
    }
    let ndigits = (buf.len() - i).max(scale + 1);
    let digits = &buf[buf.len() - ndigits..];
    let int_len = ndigits - scale;
    out.extend_from_slice(&digits[..int_len]);
    if scale > 0 {
        out.push(b'.');
        out.extend_from_slice(&digits[int_len..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn integers_parse_strictly() {
        assert_eq!(parse_u64(b"0"), Ok(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [&b""[..], b"18446744073709551616", b"+1", b"1 ", b"-1", b"1a"] {
            assert_eq!(parse_u64(bad), Err(ValueError::NotInt), "{bad:?}");
        }
        assert_eq!(parse_i64(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), Err(ValueError::NotInt));
        assert_eq!(parse_i64(b"-"), Err(ValueError::NotInt));
    }

    #[test]
    fn decimals_parse_exactly_and_print_back() {
        for s in ["0", "1", "-1", "1.5", "0.001", "27123.45", "100.", ".5", "-0.50", "1.000"] {
            let d = parse_decimal(s.as_bytes()).unwrap();
            assert_eq!(d, dec(s.trim_end_matches('.')), "{s}");
        }
        for bad in
            ["", "-", ".", "1.2.3", "1e5", "1,5", " 1", "+1", "12345678901234567890123456789"]
        {
            assert_eq!(parse_decimal(bad.as_bytes()), Err(ValueError::NotDecimal), "{bad}");
        }
        for s in ["0", "1.50", "-0.001", "27123.45", "0.10", "123456789012345678901234567.8"] {
            let mut out = Vec::new();
            write_decimal(&mut out, &dec(s));
            assert_eq!(String::from_utf8(out).unwrap(), s);
        }
    }

    proptest::proptest! {
        #[test]
        fn numbers_parse_as_decimal_does(
            text in proptest::collection::vec(
                proptest::sample::select(&b"-0123456789.x"[..]), 0..24),
            digits in "-?[0-9]{0,20}(\\.[0-9]{0,20})?",
        ) {
            for v in [&text[..], digits.as_bytes()] {
                let want = parse_decimal(v);
                let got = Number::parse(v);
                proptest::prop_assert_eq!(got.map(Number::to_decimal), want);
                if let Ok(d) = want {
                    let got = got.unwrap();
                    // Same mantissa and scale, not only the same value.
                    proptest::prop_assert_eq!(got.to_decimal().scale(), d.scale());
                    proptest::prop_assert_eq!(got.to_decimal().mantissa(), d.mantissa());
                    proptest::prop_assert_eq!(got.abs().to_decimal(), d.abs());
                    if let Ok(s) = std::str::from_utf8(v) {
                        if let Ok(rd) = Decimal::from_str(s) {
                            proptest::prop_assert_eq!(rd, d);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn integers_print() {
        let mut out = Vec::new();
        write_u64(&mut out, 0);
        out.push(b'|');
        write_i64(&mut out, i64::MIN);
        out.push(b'|');
        write_padded(&mut out, 7, 3);
        out.push(b'|');
        write_padded(&mut out, 255, 3);
        out.push(b'|');
        write_padded(&mut out, 0, 2);
        assert_eq!(String::from_utf8(out).unwrap(), "0|-9223372036854775808|007|255|00");
    }

    proptest::proptest! {
        #[test]
        fn fast_formatting_agrees_with_the_standard_library_and_decimal(
            n in proptest::num::u64::ANY,
            small in 0u64..100_000,
            width in 0usize..24,
            m in proptest::num::i64::ANY,
            m_small in -100_000i64..100_000,
            scale in 0u32..=28,
        ) {
            let mut out = Vec::new();
            write_u64(&mut out, n);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
            for v in [n, small] {
                let mut out = Vec::new();
                write_padded(&mut out, v, width);
                let want = if v == 0 && width == 0 {
                    String::new()
                } else {
                    format!("{v:0width$}", width = width.min(20))
                };
                proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), want);
            }
            for v in [m, m_small, 0] {
                let mut out = Vec::new();
                write_fixed(&mut out, v, scale);
                let want = Decimal::new(v, scale).to_string();
                proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), want.clone());
                let mut out = Vec::new();
                write_decimal(&mut out, &Decimal::new(v, scale));
                proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), want);
            }
            let mut out = Vec::new();
            write_tag(&mut out, n as u32);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!("{}=", n as u32));
        }
    }

    #[test]
    fn chars_bools_text() {
        assert_eq!(parse_char(b"1"), Ok(b'1'));
        assert_eq!(parse_char(b"12"), Err(ValueError::NotChar));
        assert_eq!(parse_bool(b"Y"), Ok(true));
        assert_eq!(parse_bool(b"y"), Err(ValueError::NotBool));
        assert_eq!(parse_text(b"ab c"), Ok("ab c"));
        assert_eq!(parse_text(b"a\xffb"), Err(ValueError::NotText));
    }
}
