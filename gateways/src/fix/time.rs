//! UTCTimestamp (`YYYYMMDD-HH:MM:SS[.sss[sss[sss]]]`), to and from UTC nanoseconds.
//!
//! FIX 4.4 specifies milliseconds; later versions allow micro- and nanoseconds, and
//! engines such as QuickFIX accept them in 4.4 sessions. Keel parses 0, 3, 6 or 9
//! fractional digits and writes the precision its configuration asks for
//! ([`Precision`]). A leap second (`:60`) is accepted and read as the next second.
//! Times before 1970 or after 2262 (outside `u64` nanoseconds) are refused.

use super::value::ValueError;

/// Fractional digits written in timestamps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// `.sss` (the FIX 4.4 standard).
    #[default]
    Millis,
    /// `.ssssss`.
    Micros,
    /// `.sssssssss`.
    Nanos,
}

impl Precision {
    /// Parses the configuration's `"ms"`, `"us"` or `"ns"`.
    pub fn from_name(name: &str) -> Option<Precision> {
        match name {
            "ms" => Some(Precision::Millis),
            "us" => Some(Precision::Micros),
            "ns" => Some(Precision::Nanos),
            _ => None,
        }
    }
}

const NS_PER_S: u64 = 1_000_000_000;
const S_PER_DAY: u64 = 86_400;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Writes `v` (below 100) as two digits at `buf[at..at + 2]`.
#[inline(always)]
fn put2(buf: &mut [u8], at: usize, v: u32) {
    buf[at] = b'0' + (v / 10) as u8;
    buf[at + 1] = b'0' + (v % 10) as u8;
}

/// `YYYYMMDD` of a day count since 1970-01-01.
fn render_date(day: u64) -> [u8; 8] {
    let (y, m, d) = civil_from_days(day as i64);
    let mut date = [0u8; 8];
    // Years are 1970..=2554 for u64 nanoseconds: always four digits.
    let y = y as u32;
    put2(&mut date, 0, y / 100);
    put2(&mut date, 2, y % 100);
    put2(&mut date, 4, m);
    put2(&mut date, 6, d);
    date
}

thread_local! {
    /// The last day rendered on this thread and its `YYYYMMDD`: timestamps written one
    /// after another fall on the same day, and the calendar arithmetic is most of the
    /// cost of writing one. (`u64::MAX`: nothing rendered yet.)
    static LAST_DATE: std::cell::Cell<(u64, [u8; 8])> =
        const { std::cell::Cell::new((u64::MAX, [0; 8])) };
}

/// `YYYYMMDD` of a day count since 1970-01-01, from this thread's one-day cache.
#[inline]
fn date_digits(day: u64) -> [u8; 8] {
    LAST_DATE.with(|last| {
        let (cached_day, digits) = last.get();
        if cached_day == day {
            return digits;
        }
        let digits = render_date(day);
        last.set((day, digits));
        digits
    })
}

/// Appends `ns` (UTC nanoseconds) as a UTCTimestamp.
///
/// The text is laid out in a fixed buffer (every field has a fixed place) and appended in
/// one copy of the precision's constant length.
pub fn write_timestamp(out: &mut Vec<u8>, ns: u64, precision: Precision) {
    let secs = ns / NS_PER_S;
    let frac = ns % NS_PER_S;
    let sod = (secs % S_PER_DAY) as u32;
    let mut buf = *b"00000000-00:00:00.000000000";
    buf[..8].copy_from_slice(&date_digits(secs / S_PER_DAY));
    put2(&mut buf, 9, sod / 3600);
    put2(&mut buf, 12, sod / 60 % 60);
    put2(&mut buf, 15, sod % 60);
    match precision {
        Precision::Millis => {
            super::value::write_fixed_width(&mut buf[18..21], frac / 1_000_000);
            out.extend_from_slice(&buf[..21]);
        }
        Precision::Micros => {
            super::value::write_fixed_width(&mut buf[18..24], frac / 1_000);
            out.extend_from_slice(&buf[..24]);
        }
        Precision::Nanos => {
            super::value::write_fixed_width(&mut buf[18..27], frac);
            out.extend_from_slice(&buf);
        }
    }
}

/// The two digits at `v[at..at + 2]` (the caller checked the length).
#[inline(always)]
fn two(v: &[u8], at: usize) -> Result<u32, ValueError> {
    let hi = v[at].wrapping_sub(b'0');
    let lo = v[at + 1].wrapping_sub(b'0');
    if hi > 9 || lo > 9 {
        return Err(ValueError::NotTimestamp);
    }
    Ok(hi as u32 * 10 + lo as u32)
}

#[inline]
fn num(v: &[u8]) -> Result<u32, ValueError> {
    let mut n = 0u32;
    for &b in v {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(ValueError::NotTimestamp);
        }
        n = n * 10 + d as u32;
    }
    Ok(n)
}

/// Parses a UTCTimestamp into UTC nanoseconds.
pub fn parse_timestamp(v: &[u8]) -> Result<u64, ValueError> {
    const BAD: ValueError = ValueError::NotTimestamp;
    if v.len() < 17 || v[8] != b'-' || v[11] != b':' || v[14] != b':' {
        return Err(BAD);
    }
    let y = (two(v, 0)? * 100 + two(v, 2)?) as i64;
    let mo = two(v, 4)?;
    let d = two(v, 6)?;
    let h = two(v, 9)?;
    let mi = two(v, 12)?;
    let s = two(v, 15)?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return Err(BAD);
    }
    let frac_ns = match &v[17..] {
        [] => 0,
        [b'.', f @ ..] if matches!(f.len(), 3 | 6 | 9) => {
            num(f)? as u64 * 10u64.pow(9 - f.len() as u32)
        }
        _ => return Err(BAD),
    };
    let days = days_from_civil(y, mo, d);
    if days < 0 {
        return Err(BAD);
    }
    let secs = days as u64 * S_PER_DAY + h as u64 * 3600 + mi as u64 * 60 + s as u64;
    secs.checked_mul(NS_PER_S).and_then(|n| n.checked_add(frac_ns)).ok_or(BAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(ns: u64, p: Precision) -> String {
        let mut out = Vec::new();
        write_timestamp(&mut out, ns, p);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_at_each_precision() {
        let ns = 1_700_000_000_123_456_789;
        assert_eq!(fmt(ns, Precision::Millis), "20231114-22:13:20.123");
        assert_eq!(fmt(ns, Precision::Micros), "20231114-22:13:20.123456");
        assert_eq!(fmt(ns, Precision::Nanos), "20231114-22:13:20.123456789");
        assert_eq!(fmt(0, Precision::Millis), "19700101-00:00:00.000");
    }

    proptest::proptest! {
        #[test]
        fn formatting_agrees_with_field_by_field_arithmetic(ns in 0u64..u64::MAX) {
            let secs = ns / NS_PER_S;
            let (y, m, d) = civil_from_days((secs / S_PER_DAY) as i64);
            let sod = secs % S_PER_DAY;
            let frac = ns % NS_PER_S;
            let date = format!(
                "{y:04}{m:02}{d:02}-{:02}:{:02}:{:02}",
                sod / 3600,
                sod / 60 % 60,
                sod % 60
            );
            proptest::prop_assert_eq!(
                fmt(ns, Precision::Millis),
                format!("{date}.{:03}", frac / 1_000_000)
            );
            proptest::prop_assert_eq!(
                fmt(ns, Precision::Micros),
                format!("{date}.{:06}", frac / 1_000)
            );
            proptest::prop_assert_eq!(fmt(ns, Precision::Nanos), format!("{date}.{frac:09}"));
            proptest::prop_assert_eq!(parse_timestamp(fmt(ns, Precision::Nanos).as_bytes()), Ok(ns));
            // Again, now that the day is cached, and the day after.
            proptest::prop_assert_eq!(fmt(ns, Precision::Nanos), format!("{date}.{frac:09}"));
            proptest::prop_assert_eq!(
                &render_date(secs / S_PER_DAY)[..],
                &date.as_bytes()[..8]
            );
        }
    }

    #[test]
    fn parses_what_it_formats_and_refuses_nonsense() {
        for ns in
            [0u64, 1_700_000_000_123_456_789, 951_782_400_000_000_000, 4_102_444_799_999_999_999]
        {
            assert_eq!(parse_timestamp(fmt(ns, Precision::Nanos).as_bytes()), Ok(ns));
            let ms = ns / 1_000_000 * 1_000_000;
            assert_eq!(parse_timestamp(fmt(ns, Precision::Millis).as_bytes()), Ok(ms));
        }
        assert_eq!(parse_timestamp(b"20240229-12:00:00"), Ok(1_709_208_000_000_000_000));
        assert_eq!(parse_timestamp(b"20161231-23:59:60"), Ok(1_483_228_800_000_000_000));
        for bad in [
            &b"20230229-00:00:00"[..],
            b"20231301-00:00:00",
            b"20231114-24:00:00",
            b"20231114-22:13:20.12",
            b"20231114 22:13:20",
            b"2023111-22:13:20.123",
            b"19691231-23:59:59",
            b"20231114-22:13:20.",
            b"20231114-22:13:2x",
        ] {
            assert_eq!(parse_timestamp(bad), Err(ValueError::NotTimestamp), "{bad:?}");
        }
    }
}
