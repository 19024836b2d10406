//! Identifiers between Keel and a venue.
//!
//! - **ClOrdID (11) Keel sends.** An order goes out as its Keel [`OrderId`] in decimal
//!   (`"1234"`); every cancel or replace of it needs a fresh ClOrdID, so the `k`-th
//!   request is `"1234-k"` (k = 1, 2, ...), and OrigClOrdID (41) names the version in
//!   force. The mapping back is pure: the digits before `-` are the Keel order id, so a
//!   report is attributed without any table, across restarts, and never ambiguously.
//! - **OrderID (37) and ExecID (17) a venue sends** are text. The core keeps them as
//!   `u64` (`venue_order_id`, `exec_id`): a value of at most 19 decimal digits is taken as
//!   its number, anything else as its 64-bit FNV-1a hash with the top bit set (numbers
//!   below 2^63 and hashes never meet). The same text always gives the same number, so a
//!   replayed or resent report maps identically.

use keel_engine::OrderId;

/// Most bytes of a ClOrdID Keel writes: 20 digits, `-`, 10 digits.
pub const CL_ORD_ID_MAX: usize = 31;

/// Writes the ClOrdID of version `version` of order `id` into `buf`; returns its length.
pub fn write_cl_ord_id(buf: &mut [u8; CL_ORD_ID_MAX], id: OrderId, version: u32) -> usize {
    let mut n = write_digits(buf, 0, id.0);
    if version > 0 {
        buf[n] = b'-';
        n = write_digits(buf, n + 1, version as u64);
    }
    n
}

fn write_digits(buf: &mut [u8; CL_ORD_ID_MAX], at: usize, mut v: u64) -> usize {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let len = tmp.len() - i;
    buf[at..at + len].copy_from_slice(&tmp[i..]);
    at + len
}

/// The Keel order and version a ClOrdID names, if it is one Keel wrote.
pub fn parse_cl_ord_id(v: &[u8]) -> Option<(OrderId, u32)> {
    let (id, version) = match v.iter().position(|&b| b == b'-') {
        Some(p) => (&v[..p], Some(&v[p + 1..])),
        None => (v, None),
    };
    let id = digits(id)?;
    let version = match version {
        None => 0,
        Some(d) => u32::try_from(digits(d)?).ok().filter(|&k| k > 0)?,
    };
    Some((OrderId(id), version))
}

fn digits(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 || (v.len() > 1 && v[0] == b'0') {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(d as u64)?;
    }
    Some(n)
}

/// A venue's text identifier as the `u64` the core keeps (see the module docs).
pub fn venue_id_number(v: &[u8]) -> u64 {
    if !v.is_empty() && v.len() <= 19 && v.iter().all(u8::is_ascii_digit) {
        // At most 19 digits: below 10^19 < 2^64, and a leading zero changes nothing.
        let n = v.iter().fold(0u64, |n, d| n * 10 + (d - b'0') as u64);
        if n < 1 << 63 {
            return n;
        }
    }
    fnv1a(v) | 1 << 63
}

/// 64-bit FNV-1a.
pub fn fnv1a(v: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in v {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cl(id: u64, v: u32) -> String {
        let mut buf = [0u8; CL_ORD_ID_MAX];
        let n = write_cl_ord_id(&mut buf, OrderId(id), v);
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn cl_ord_ids_round_trip() {
        assert_eq!(cl(1234, 0), "1234");
        assert_eq!(cl(1234, 3), "1234-3");
        assert_eq!(cl(u64::MAX, u32::MAX), "18446744073709551615-4294967295");
        for (id, v) in [(0, 0), (1, 1), (99, 0), (u64::MAX, u32::MAX), (7, 12)] {
            assert_eq!(parse_cl_ord_id(cl(id, v).as_bytes()), Some((OrderId(id), v)));
        }
    }

    #[test]
    fn foreign_cl_ord_ids_are_not_keel_orders() {
        for bad in ["", "-", "12-", "-3", "12-0", "012", "1a", "12-3-4", "ABC", "12-04x"] {
            assert_eq!(parse_cl_ord_id(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn venue_ids_are_numbers_or_tagged_hashes() {
        assert_eq!(venue_id_number(b"42"), 42);
        assert_eq!(venue_id_number(b"0042"), 42);
        let h = venue_id_number(b"ORD-42");
        assert!(h >= 1 << 63);
        assert_eq!(h, venue_id_number(b"ORD-42"));
        assert_ne!(h, venue_id_number(b"ORD-43"));
        // 20 digits do not fit the numeric range: hashed.
        assert!(venue_id_number(b"99999999999999999999") >= 1 << 63);
    }
}
