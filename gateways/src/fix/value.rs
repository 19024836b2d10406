//! Field values: parsing and formatting FIX data types without allocating.
//!
//! - `int`/`SeqNum`/`NumInGroup`/`Length`: ASCII digits with an optional leading `-`
//!   (only where signed values are allowed); no `+`, no spaces.
//! - `Price`/`Qty`/`float`: `[-]digits[.digits]`, at least one digit, parsed exactly
//!   into a [`Decimal`] (no binary floating point anywhere); up to 28 significant digits.
//! - `char`: exactly one byte; `Boolean`: `Y` or `N`.
//!
//! Formatting writes into a caller's `Vec<u8>` whose capacity is reused, so steady-state
//! encoding does not allocate.

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

/// Appends the decimal digits of `n`.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `n` with a `-` when negative.
#[inline]
pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// Appends `n` zero-padded to at least `width` digits (timestamps, the checksum).
#[inline]
pub fn write_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut n = n;
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let len = (buf.len() - i).max(width).min(buf.len());
    out.extend_from_slice(&buf[buf.len() - len..]);
}

/// Appends a decimal at its own scale (`1.50` stays `1.50`), never in exponent form.
pub fn write_decimal(out: &mut Vec<u8>, d: &Decimal) {
    let scale = d.scale() as usize;
    let m = d.mantissa();
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
