//! Rendering helpers shared by the audit queries: UTC times with nanoseconds, the
//! `--from/--to/--at` point syntax, and a plain-text table.

use std::fmt::Write as _;

/// UTC nanoseconds since the epoch as RFC 3339 with nanoseconds, e.g.
/// `2026-01-02T00:00:00.123456789Z` (civil-from-days; no time zone database).
pub fn utc(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ns % 1_000_000_000
    )
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (up to 9 fraction digits) to UTC ns.
pub fn parse_utc(s: &str) -> Result<u64, String> {
    let bad = || format!("invalid UTC time {s:?} (expected e.g. 2026-01-02T00:00:00.123456789Z)");
    let s2 = s.strip_suffix('Z').ok_or_else(bad)?;
    let (date, time) = s2.split_once('T').ok_or_else(bad)?;
    let mut dp = date.split('-');
    let num = |p: Option<&str>, len: usize| -> Result<i64, String> {
        let p = p.ok_or_else(bad)?;
        if p.len() != len || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse::<i64>().map_err(|_| bad())
    };
    let (y, mo, d) = (num(dp.next(), 4)?, num(dp.next(), 2)?, num(dp.next(), 2)?);
    if dp.next().is_some() {
        return Err(bad());
    }
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (time, None),
    };
    let mut tp = hms.split(':');
    let (h, mi, sec) = (num(tp.next(), 2)?, num(tp.next(), 2)?, num(tp.next(), 2)?);
    if tp.next().is_some()
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
        || y < 1970
    {
        return Err(bad());
    }
    let mut nanos = 0u64;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        nanos = f.parse::<u64>().map_err(|_| bad())? * 10u64.pow(9 - f.len() as u32);
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec;
    u64::try_from(secs)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000_000))
        .and_then(|s| s.checked_add(nanos))
        .ok_or_else(bad)
}

/// A point in the journal: a sequence, a time, or the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// A journal sequence (`seq:123`).
    Seq(u64),
    /// A UTC time in ns (`2026-01-02T00:00:00.123456789Z`).
    Time(u64),
    /// The end of the journal (`end`).
    End,
}

impl std::str::FromStr for Point {
    type Err = String;
    fn from_str(s: &str) -> Result<Point, String> {
        if s == "end" {
            return Ok(Point::End);
        }
        if let Some(n) = s.strip_prefix("seq:") {
            return n.parse().map(Point::Seq).map_err(|_| format!("invalid sequence in {s:?}"));
        }
        parse_utc(s).map(Point::Time)
    }
}

impl Point {
    /// The replay limit for this point.
    pub fn until(self) -> crate::recover::Until {
        match self {
            Point::Seq(s) => crate::recover::Until::Seq(s),
            Point::Time(t) => crate::recover::Until::Time(t),
            Point::End => crate::recover::Until::End,
        }
    }

    /// As a lower bound (`--from`): true when a record at (`seq`, `ts_ns`) is at or after it.
    pub fn admits_from(self, seq: u64, ts_ns: u64) -> bool {
        match self {
            Point::Seq(s) => s <= seq,
            Point::Time(t) => t <= ts_ns,
            Point::End => false,
        }
    }

    /// As an upper bound (`--to`): true when a record at (`seq`, `ts_ns`) is at or before it.
    pub fn admits_to(self, seq: u64, ts_ns: u64) -> bool {
        match self {
            Point::Seq(s) => seq <= s,
            Point::Time(t) => ts_ns <= t,
            Point::End => true,
        }
    }
}

/// A plain-text table: a header row and rows of cells, columns padded to their widest
/// cell, separated by two spaces. Cells never contain newlines.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, c) in cells.enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let _ = write!(l, "{c:<w$}", w = widths.get(i).copied().unwrap_or(0));
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_round_trips() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(utc(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123456789Z");
        for ns in [0, 1_767_312_000_000_000_123, 951_782_400_000_000_000, 4_102_444_800_999_999_999]
        {
            assert_eq!(parse_utc(&utc(ns)).unwrap(), ns);
        }
        assert_eq!(parse_utc("2026-01-02T00:00:00.5Z").unwrap(), 1_767_312_000_500_000_000);
        assert_eq!(parse_utc("2026-01-02T00:00:00Z").unwrap(), 1_767_312_000_000_000_000);
        assert!(parse_utc("2026-01-02 00:00:00Z").is_err());
        assert!(parse_utc("2026-13-02T00:00:00Z").is_err());
    }

    #[test]
    fn points_parse() {
        assert_eq!("seq:12".parse::<Point>().unwrap(), Point::Seq(12));
        assert_eq!("end".parse::<Point>().unwrap(), Point::End);
        assert_eq!(
            "2026-01-02T00:00:00.000000001Z".parse::<Point>().unwrap(),
            Point::Time(1_767_312_000_000_000_001)
        );
        assert!("seq:x".parse::<Point>().is_err());
    }
}
