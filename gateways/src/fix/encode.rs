//! Encoding: message bodies field by field, then the whole frame with its standard header,
//! BodyLength and CheckSum.
//!
//! [`Body`] appends `tag=value␁` fields to a buffer it reuses. [`write_message`] appends a
//! complete frame to an output buffer in one pass: the header's length is computed before
//! it is written, so BodyLength goes out first without a second copy of the body, and the
//! checksum is summed over the bytes just written. Nothing allocates once the buffers
//! have grown to the largest message.

use super::frame::{SOH, checksum};
use super::tags::tag;
use super::time::{Precision, write_timestamp};
use super::value::{
    Number, write_decimal, write_fixed, write_i64, write_padded, write_tag, write_u64,
};
use rust_decimal::Decimal;

/// BeginString of every message Keel writes.
pub const BEGIN_STRING: &[u8] = b"FIX.4.4";

/// A message body being built.
#[derive(Clone, Debug, Default)]
pub struct Body {
    buf: Vec<u8>,
}

impl Body {
    /// An empty body with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Body {
        Body { buf: Vec::with_capacity(capacity) }
    }

    /// Empties the body, keeping its capacity.
    #[inline]
    pub fn clear(&mut self) -> &mut Body {
        self.buf.clear();
        self
    }

    /// The encoded fields.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    #[inline]
    fn tag(&mut self, t: u32) {
        write_tag(&mut self.buf, t);
    }

    /// A string (or any raw value). The caller guarantees it holds no SOH.
    #[inline]
    pub fn str(&mut self, t: u32, v: &[u8]) -> &mut Body {
        debug_assert!(!v.contains(&SOH), "tag {t}: a value may not contain SOH");
        self.tag(t);
        self.buf.extend_from_slice(v);
        self.buf.push(SOH);
        self
    }

    /// An unsigned integer.
    #[inline]
    pub fn u64(&mut self, t: u32, v: u64) -> &mut Body {
        self.tag(t);
        write_u64(&mut self.buf, v);
        self.buf.push(SOH);
        self
    }

    /// A signed integer.
    #[inline]
    pub fn i64(&mut self, t: u32, v: i64) -> &mut Body {
        self.tag(t);
        write_i64(&mut self.buf, v);
        self.buf.push(SOH);
        self
    }

    /// A single character.
    #[inline]
    pub fn char(&mut self, t: u32, v: u8) -> &mut Body {
        self.tag(t);
        self.buf.push(v);
        self.buf.push(SOH);
        self
    }

    /// `Y` or `N`.
    #[inline]
    pub fn bool(&mut self, t: u32, v: bool) -> &mut Body {
        self.char(t, if v { b'Y' } else { b'N' })
    }

    /// A decimal at its own scale.
    #[inline]
    pub fn decimal(&mut self, t: u32, v: &Decimal) -> &mut Body {
        self.tag(t);
        write_decimal(&mut self.buf, v);
        self.buf.push(SOH);
        self
    }

    /// `mantissa / 10^scale` (`scale` at most 28), written as [`Body::decimal`] writes the
    /// `Decimal` of that mantissa and scale, without building one.
    #[inline]
    pub fn fixed(&mut self, t: u32, mantissa: i64, scale: u32) -> &mut Body {
        self.tag(t);
        write_fixed(&mut self.buf, mantissa, scale);
        self.buf.push(SOH);
        self
    }

    /// A [`Number`] at its own scale, as [`Body::decimal`] writes its `Decimal`.
    #[inline]
    pub fn number(&mut self, t: u32, v: Number) -> &mut Body {
        match v {
            Number::Fixed { mantissa, scale } => self.fixed(t, mantissa, scale),
            Number::Big(d) => self.decimal(t, &d),
        }
    }

    /// A UTCTimestamp.
    #[inline]
    pub fn timestamp(&mut self, t: u32, ns: u64, precision: Precision) -> &mut Body {
        self.tag(t);
        write_timestamp(&mut self.buf, ns, precision);
        self.buf.push(SOH);
        self
    }
}

/// The standard header of a message to write.
#[derive(Clone, Copy, Debug)]
pub struct Header<'a> {
    /// MsgType (35).
    pub msg_type: &'a [u8],
    /// SenderCompID (49).
    pub sender: &'a [u8],
    /// TargetCompID (56).
    pub target: &'a [u8],
    /// MsgSeqNum (34).
    pub seq: u64,
    /// SendingTime (52), UTC ns.
    pub sending_time_ns: u64,
    /// For a resend: PossDupFlag (43) = Y and this OrigSendingTime (122).
    pub orig_sending_time_ns: Option<u64>,
    /// Precision of the timestamps.
    pub precision: Precision,
}

#[inline]
fn digits(n: u64) -> usize {
    super::value::digit_count(n)
}

#[inline]
fn timestamp_len(p: Precision) -> usize {
    match p {
        Precision::Millis => 21,
        Precision::Micros => 24,
        Precision::Nanos => 27,
    }
}

#[inline]
fn field_len(t: u32, value_len: usize) -> usize {
    digits(t as u64) + 1 + value_len + 1
}

/// Appends a header field whose `tag=` is given as text.
#[inline]
fn put(out: &mut Vec<u8>, tag_eq: &[u8], v: &[u8]) {
    out.extend_from_slice(tag_eq);
    out.extend_from_slice(v);
    out.push(SOH);
}

/// Appends a complete message (header, `body`, trailer) to `out`; returns its length.
pub fn write_message(out: &mut Vec<u8>, h: &Header<'_>, body: &[u8]) -> usize {
    let start = out.len();
    let ts_len = timestamp_len(h.precision);
    let mut body_len = field_len(tag::MSG_TYPE, h.msg_type.len())
        + field_len(tag::SENDER_COMP_ID, h.sender.len())
        + field_len(tag::TARGET_COMP_ID, h.target.len())
        + field_len(tag::MSG_SEQ_NUM, digits(h.seq))
        + field_len(tag::SENDING_TIME, ts_len)
        + body.len();
    if h.orig_sending_time_ns.is_some() {
        body_len += field_len(tag::POSS_DUP_FLAG, 1) + field_len(tag::ORIG_SENDING_TIME, ts_len);
    }
    out.reserve(body_len + 32);
    put(out, b"8=", BEGIN_STRING);
    out.extend_from_slice(b"9=");
    write_u64(out, body_len as u64);
    out.push(SOH);
    let body_start = out.len();
    put(out, b"35=", h.msg_type);
    put(out, b"49=", h.sender);
    put(out, b"56=", h.target);
    out.extend_from_slice(b"34=");
    write_u64(out, h.seq);
    out.push(SOH);
    if h.orig_sending_time_ns.is_some() {
        out.extend_from_slice(b"43=Y\x01");
    }
    out.extend_from_slice(b"52=");
    write_timestamp(out, h.sending_time_ns, h.precision);
    out.push(SOH);
    if let Some(orig) = h.orig_sending_time_ns {
        out.extend_from_slice(b"122=");
        write_timestamp(out, orig, h.precision);
        out.push(SOH);
    }
    out.extend_from_slice(body);
    debug_assert_eq!(out.len() - body_start, body_len, "BodyLength computed before writing");
    let sum = checksum(&out[start..]);
    out.extend_from_slice(b"10=");
    write_padded(out, sum as u64, 3);
    out.push(SOH);
    out.len() - start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::frame::{Scan, scan};
    use crate::fix::message::Decoder;

    #[test]
    fn a_written_message_frames_and_decodes() {
        let mut body = Body::default();
        body.str(tag::CL_ORD_ID, b"A1")
            .char(tag::SIDE, b'1')
            .decimal(tag::PRICE, &Decimal::new(271_2345, 2))
            .i64(tag::CUM_QTY, -3)
            .timestamp(tag::TRANSACT_TIME, 1_700_000_000_123_456_789, Precision::Micros);
        for (precision, orig) in
            [(Precision::Millis, None), (Precision::Nanos, Some(1_700_000_000_000_000_000))]
        {
            let mut out = b"junk".to_vec();
            let h = Header {
                msg_type: b"D",
                sender: b"KEEL",
                target: b"CLIENT",
                seq: 1234567,
                sending_time_ns: 1_700_000_000_123_456_789,
                orig_sending_time_ns: orig,
                precision,
            };
            let n = write_message(&mut out, &h, body.as_bytes());
            let m = &out[4..];
            assert_eq!(n, m.len());
            assert_eq!(scan(m, 4096), Scan::Frame(m.len()));
            let mut d = Decoder::default();
            let msg = d.decode(m).unwrap();
            assert_eq!(msg.problem(), None);
            assert_eq!(msg.get(tag::MSG_SEQ_NUM), Some(&b"1234567"[..]));
            assert_eq!(msg.get(tag::PRICE), Some(&b"27123.45"[..]));
            assert_eq!(msg.get(tag::POSS_DUP_FLAG).is_some(), orig.is_some());
            assert_eq!(msg.field(tag::ORIG_SENDING_TIME).map(|f| f.timestamp().unwrap()), orig);
        }
    }
}
