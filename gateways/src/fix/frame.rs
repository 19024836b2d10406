//! Framing: is a whole message at the front of the buffer, and is it intact?
//!
//! Decoding is two steps (is a whole frame here? then parse). This module is the first:
//! it reads only BeginString (8), BodyLength (9) and the trailer, and verifies
//! the CheckSum (10). A frame is
//!
//! ```text
//! 8=FIX.4.4␁9=<len>␁ <body: len bytes, ending in ␁> 10=<3 digits>␁
//! ```
//!
//! where `<len>` counts the bytes after the `9=…␁` field up to and including the SOH before
//! `10=`, and the checksum is the sum of every byte before `10=`, modulo 256, as exactly
//! three digits.
//!
//! A message that is not framed this way is *garbled*: per the standard it is ignored
//! (the session does not advance its sequence number) and reading resumes at the next
//! `8=FIX` that follows a SOH. [`scan`] never reads past the buffer, never allocates, and
//! bounds a frame's length, so a peer cannot make the reader wait for or buffer more than
//! `max_len` bytes.

/// The field separator.
pub const SOH: u8 = 0x01;

/// The longest `8=…␁` field accepted before a frame is declared garbled.
const BEGIN_STRING_FIELD_MAX: usize = 16;
/// Most digits of BodyLength (a body of up to 9 999 999 bytes).
const BODY_LENGTH_DIGITS_MAX: usize = 7;
/// `10=ddd␁`.
pub const TRAILER_LEN: usize = 7;

/// Why a frame is garbled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Garbled {
    /// The bytes do not start with `8=`.
    #[error("the message does not start with BeginString (8=)")]
    NoBeginString,
    /// BodyLength (9) is not the second field, or not a number.
    #[error("BodyLength (9) is missing, not second, or not a number")]
    BadBodyLength,
    /// The frame would be longer than the configured maximum.
    #[error("the message is longer than the maximum of {max} bytes")]
    TooLong {
        /// The maximum frame length.
        max: usize,
    },
    /// `10=ddd␁` is not where BodyLength says the body ends.
    #[error("BodyLength does not match the message: no CheckSum (10) where the body ends")]
    BodyLengthMismatch,
    /// The checksum does not match the bytes.
    #[error("CheckSum is {found}, the bytes sum to {computed}")]
    BadChecksum {
        /// The value in the message.
        found: u16,
        /// The value computed over the bytes.
        computed: u8,
    },
}

/// What the front of a buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// A complete, intact frame of this many bytes.
    Frame(usize),
    /// Not enough bytes yet to tell.
    Incomplete,
    /// The front is garbled: drop `skip` bytes (at least one) and scan again.
    Garbled {
        /// Bytes to drop.
        skip: usize,
        /// What was wrong.
        why: Garbled,
    },
}

/// The FIX checksum: the sum of the bytes modulo 256.
#[inline]
pub fn checksum(bytes: &[u8]) -> u8 {
    // Widen in chunks so the compiler vectorizes the sum; u32 lanes cannot overflow for
    // chunks of 2^24 bytes, far beyond any frame.
    let mut sum: u32 = 0;
    for chunk in bytes.chunks(1 << 16) {
        sum = sum.wrapping_add(chunk.iter().map(|&b| b as u32).sum::<u32>());
    }
    sum as u8
}

/// Looks at the front of `buf` (see the module docs). `max_len` bounds a frame.
pub fn scan(buf: &[u8], max_len: usize) -> Scan {
    if buf.is_empty() {
        return Scan::Incomplete;
    }
    if !starts_with_partial(buf, b"8=") {
        return garbled(buf, Garbled::NoBeginString);
    }
    // BeginString value up to its SOH.
    let Some(bs_end) = find_soh(buf, 2, BEGIN_STRING_FIELD_MAX) else {
        return if buf.len() >= BEGIN_STRING_FIELD_MAX {
            garbled(buf, Garbled::NoBeginString)
        } else {
            Scan::Incomplete
        };
    };
    if bs_end == 2 {
        return garbled(buf, Garbled::NoBeginString);
    }
    // "9=" and the length digits.
    let bl_start = bs_end + 1;
    let rest = &buf[bl_start..];
    if !starts_with_partial(rest, b"9=") {
        return garbled(buf, Garbled::BadBodyLength);
    }
    let digits_start = bl_start + 2;
    let Some(bl_end) = find_soh(buf, digits_start, BODY_LENGTH_DIGITS_MAX + 1) else {
        return if buf.len() > digits_start + BODY_LENGTH_DIGITS_MAX {
            garbled(buf, Garbled::BadBodyLength)
        } else if buf[digits_start.min(buf.len())..].iter().all(u8::is_ascii_digit) {
            Scan::Incomplete
        } else {
            garbled(buf, Garbled::BadBodyLength)
        };
    };
    let digits = &buf[digits_start..bl_end];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return garbled(buf, Garbled::BadBodyLength);
    }
    let body_len = digits.iter().fold(0usize, |n, d| n * 10 + (d - b'0') as usize);
    let body_start = bl_end + 1;
    let body_end = body_start + body_len;
    let total = body_end + TRAILER_LEN;
    if total > max_len {
        return garbled(buf, Garbled::TooLong { max: max_len });
    }
    if buf.len() < total {
        // Keep waiting only while what has arrived of the trailer could still be one.
        if buf.len() > body_end && !trailer_prefix_ok(&buf[body_end..]) {
            return garbled(buf, Garbled::BodyLengthMismatch);
        }
        return Scan::Incomplete;
    }
    let trailer = &buf[body_end..total];
    let body_ends_with_soh = body_len > 0 && buf[body_end - 1] == SOH;
    if !body_ends_with_soh || !trailer_prefix_ok(trailer) {
        return garbled(buf, Garbled::BodyLengthMismatch);
    }
    let found = (trailer[3] - b'0') as u16 * 100
        + (trailer[4] - b'0') as u16 * 10
        + (trailer[5] - b'0') as u16;
    let computed = checksum(&buf[..body_end]);
    if found != computed as u16 {
        // The frame is well delimited: drop exactly it.
        return Scan::Garbled { skip: total, why: Garbled::BadChecksum { found, computed } };
    }
    Scan::Frame(total)
}

/// True when `buf` is a prefix of `want` or starts with it.
#[inline]
fn starts_with_partial(buf: &[u8], want: &[u8]) -> bool {
    let n = buf.len().min(want.len());
    buf[..n] == want[..n]
}

/// True when `t` (at most 7 bytes) could be the start of `10=ddd␁`.
fn trailer_prefix_ok(t: &[u8]) -> bool {
    t.iter().enumerate().take(TRAILER_LEN).all(|(i, &b)| match i {
        0 => b == b'1',
        1 => b == b'0',
        2 => b == b'=',
        3..=5 => b.is_ascii_digit(),
        _ => b == SOH,
    })
}

/// The index of the first SOH in `buf[from..from + within]`.
#[inline]
fn find_soh(buf: &[u8], from: usize, within: usize) -> Option<usize> {
    let end = buf.len().min(from.saturating_add(within));
    if from >= end {
        return None;
    }
    buf[from..end].iter().position(|&b| b == SOH).map(|i| from + i)
}

/// Resynchronizes after garbage at the front: skip to the next `8=FIX` that does not
/// continue a tag number (it follows a SOH or a non-digit), or keep only a tail that could
/// be the start of one. The first byte is always dropped, so scanning progresses.
fn garbled(buf: &[u8], why: Garbled) -> Scan {
    const START: &[u8] = b"8=FIX";
    for at in 1..buf.len() {
        if buf[at] == b'8'
            && !buf[at - 1].is_ascii_digit()
            && starts_with_partial(&buf[at..], START)
        {
            return Scan::Garbled { skip: at, why };
        }
    }
    Scan::Garbled { skip: buf.len().max(1), why }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let head = format!("8=FIX.4.4\x019={}\x01", body.len());
        let mut m = (head + &body).into_bytes();
        let sum = checksum(&m);
        m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        m
    }

    #[test]
    fn a_whole_frame_is_found_and_its_prefixes_are_incomplete() {
        let m = frame("35=0|49=A|56=B|34=1|52=20240101-00:00:00.000|");
        assert_eq!(scan(&m, 4096), Scan::Frame(m.len()));
        for n in 0..m.len() {
            assert_eq!(scan(&m[..n], 4096), Scan::Incomplete, "prefix of {n} bytes");
        }
        let mut two = m.clone();
        two.extend_from_slice(&m);
        assert_eq!(scan(&two, 4096), Scan::Frame(m.len()));
    }

    #[test]
    fn a_bad_checksum_drops_exactly_the_frame() {
        let mut m = frame("35=0|49=A|56=B|34=1|");
        let n = m.len();
        m[n - 2] = if m[n - 2] == b'9' { b'0' } else { m[n - 2] + 1 };
        match scan(&m, 4096) {
            Scan::Garbled { skip, why: Garbled::BadChecksum { .. } } => assert_eq!(skip, n),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_wrong_body_length_resyncs_at_the_next_message() {
        let good = frame("35=0|49=A|56=B|34=2|");
        let mut bad = frame("35=0|49=A|56=B|34=1|");
        // Shorten the declared length by one: the trailer is not where it says.
        let s = String::from_utf8(bad.clone()).unwrap();
        let len: usize = s.split('\x01').nth(1).unwrap()[2..].parse().unwrap();
        bad = s.replacen(&format!("9={len}"), &format!("9={}", len - 1), 1).into_bytes();
        let mut buf = bad.clone();
        buf.extend_from_slice(&good);
        match scan(&buf, 4096) {
            Scan::Garbled { skip, why: Garbled::BodyLengthMismatch } => {
                assert_eq!(&buf[skip..], &good[..]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_is_skipped_and_limits_hold() {
        assert!(matches!(scan(b"hello", 4096), Scan::Garbled { skip: 5, .. }));
        assert!(matches!(
            scan(b"8=FIX.4.4\x0135=0\x01", 4096),
            Scan::Garbled { why: Garbled::BadBodyLength, .. }
        ));
        assert!(matches!(
            scan(b"8=FIX.4.4\x019=99999\x01", 100),
            Scan::Garbled { why: Garbled::TooLong { max: 100 }, .. }
        ));
        assert!(matches!(
            scan(b"8=FIX.4.4\x019=12345678\x01", 1 << 30),
            Scan::Garbled { why: Garbled::BadBodyLength, .. }
        ));
        assert_eq!(scan(b"8=FIX.4.4\x019=12", 4096), Scan::Incomplete);
        // A partial "8=FI" at the end is kept for the next read; "58=FIX" in a value is
        // not a message start.
        match scan(b"junk\x018=FI", 4096) {
            Scan::Garbled { skip, .. } => assert_eq!(skip, 5),
            other => panic!("{other:?}"),
        }
        match scan(b"j\x0158=FIX\x01x8=FIX.4.4", 4096) {
            Scan::Garbled { skip, .. } => assert_eq!(skip, 10),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_checksum_is_the_byte_sum_mod_256() {
        assert_eq!(checksum(b""), 0);
        assert_eq!(checksum(&[255, 2]), 1);
        let m = b"8=FIX.4.2\x019=49\x0135=5\x0134=1\x0149=ARCA\x0152=20150916-04:14:05.306\x0156=TW\x01";
        assert_eq!(checksum(m), 157);
    }
}
