//! Decoding a frame into a [`Message`]: a view of its fields that borrows the frame.
//!
//! The second step of decoding (the first is [`frame`](super::frame)). [`Decoder`] splits
//! an intact frame into `(tag, value range)` entries kept in a table it owns and reuses,
//! so decoding allocates nothing after the decoder is built. Values stay in the frame;
//! they are parsed only when asked for ([`Field`]).
//!
//! # What decoding checks
//! - BeginString, BodyLength and MsgType are the first three fields; otherwise the
//!   message is treated as garbled ([`DecodeError`]), like a framing error.
//! - Every other structural problem is recorded as the message's first [`Problem`]
//!   (the SessionRejectReason and the tag), and decoding goes on so that the header
//!   fields the session needs (MsgSeqNum above all) are still found: a tag that is not a
//!   positive number without leading zeros (0), a field without a value (4), a header
//!   field after a body field or a CheckSum that is not last (14), a header field twice
//!   (13), more fields than the table holds (99).
//! - Length-prefixed data fields (e.g. RawData 96 after RawDataLength 95) are read by
//!   their length, so they may contain SOH.
//!
//! Per-message rules (required tags, tags allowed, repeating groups) are
//! [`spec`](super::spec)'s.

use super::frame::SOH;
use super::tags::{SessionRejectReason, data_tag_for, is_data_length_tag, tag};
use super::time::parse_timestamp;
use super::value::{self, ValueError};
use rust_decimal::Decimal;

/// One field's place in the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldRef {
    /// The tag (0 when it was not a valid number).
    pub tag: u32,
    start: u32,
    end: u32,
}

/// A structural problem and the tag it concerns: the content of a session-level Reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem {
    /// SessionRejectReason (373).
    pub reason: SessionRejectReason,
    /// RefTagID (371), 0 when no tag applies.
    pub tag: u32,
}

impl Problem {
    /// A problem with `tag`.
    pub const fn new(reason: SessionRejectReason, tag: u32) -> Problem {
        Problem { reason, tag }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.tag == 0 {
            f.write_str(self.reason.text())
        } else {
            write!(f, "{} (tag {})", self.reason.text(), self.tag)
        }
    }
}

/// A frame that cannot be read as a message at all: treated as garbled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// BeginString, BodyLength and MsgType are not the first three fields.
    #[error("BeginString, BodyLength and MsgType are not the first three fields")]
    BadHeaderOrder,
}

/// Splits frames into fields; owns the reusable field table.
#[derive(Debug)]
pub struct Decoder {
    fields: Vec<FieldRef>,
    max_fields: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(Decoder::DEFAULT_MAX_FIELDS)
    }
}

/// Bit per entry of [`super::tags::HEADER_TAGS`] (15 entries).
#[inline]
fn header_bit(t: u32) -> Option<u32> {
    super::tags::header_index(t).map(|i| 1u32 << i)
}

/// The first SOH at or after `from`, eight bytes at a time: values are short (1 to 30
/// bytes), where a call to a vectorized search (`memchr`, measured) costs more than it
/// saves.
#[inline(always)]
fn find_soh(frame: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while i + 8 <= frame.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&frame[i..i + 8]);
        // Bytes equal to SOH become zero; the lowest flagged byte is the first zero (a
        // borrow can only flag bytes above a true zero).
        let x = u64::from_le_bytes(word) ^ ONES;
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return Some(i + (zeros.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    frame[i..].iter().position(|&b| b == SOH).map(|p| i + p)
}

/// Reads the tag at `pos`: `(tag, valid, index of the byte that ended it)`, where a
/// valid tag is 1 to 9 digits without a leading zero, and it ends at `=`, SOH or the end of
/// the frame. The common case (a valid tag followed by `=`) takes one tight loop; anything
/// else is re-read byte by byte by [`read_tag_slow`], which is the rule's statement.
#[inline(always)]
fn read_tag(frame: &[u8], pos: usize) -> (u32, bool, usize) {
    let len = frame.len();
    if pos < len {
        let first = frame[pos].wrapping_sub(b'1');
        if first < 9 {
            let mut t = first as u32 + 1;
            let mut i = pos + 1;
            while i < len {
                let d = frame[i].wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                // Wrapping: a tag of more than 9 digits is re-read by the slow path.
                t = t.wrapping_mul(10).wrapping_add(d as u32);
                i += 1;
            }
            if i - pos <= 9 && i < len && frame[i] == b'=' {
                return (t, true, i);
            }
        }
    }
    read_tag_slow(frame, pos)
}

/// [`read_tag`] for every case: digits up to `=` or SOH; a non-digit, a leading zero or
/// more than 9 digits make the tag invalid (and its value 0).
#[cold]
fn read_tag_slow(frame: &[u8], pos: usize) -> (u32, bool, usize) {
    let len = frame.len();
    let mut t: u32 = 0;
    let mut tag_ok = true;
    let mut i = pos;
    while i < len && frame[i] != b'=' && frame[i] != SOH {
        let d = frame[i].wrapping_sub(b'0');
        if d > 9 || (i == pos && d == 0) || t > 99_999_999 {
            tag_ok = false;
        } else {
            t = t * 10 + d as u32;
        }
        i += 1;
    }
    if i == pos {
        tag_ok = false;
    }
    (t, tag_ok, i)
}

impl Decoder {
    /// Fields per message by default: far beyond any message of Keel's dialect.
    pub const DEFAULT_MAX_FIELDS: usize = 512;

    /// A decoder for messages of at most `max_fields` fields (allocated once, here).
    pub fn new(max_fields: usize) -> Decoder {
        Decoder { fields: Vec::with_capacity(max_fields.max(4)), max_fields: max_fields.max(4) }
    }

    /// Decodes an intact frame (as found by [`frame::scan`](super::frame::scan)).
    pub fn decode<'a>(&'a mut self, frame: &'a [u8]) -> Result<Message<'a>, DecodeError> {
        self.fields.clear();
        let mut problem: Option<Problem> = None;
        let mut note = |p: Problem| {
            if problem.is_none() {
                problem = Some(p);
            }
        };
        let mut pos = 0usize;
        let len = frame.len();
        let mut seen_body = false;
        let mut header_seen: u32 = 0;
        let mut data_len: Option<(u32, usize)> = None;
        while pos < len {
            // The tag: digits up to '='.
            let (mut t, tag_ok, i) = read_tag(frame, pos);
            let has_equals = i < len && frame[i] == b'=';
            if !tag_ok {
                t = 0;
            }
            let value_start = if has_equals { i + 1 } else { i };
            // The value: by the length given just before for data fields, else up to SOH.
            let mut value_end = None;
            if let Some((dt, n)) = data_len.take() {
                if dt == t && has_equals {
                    let end = value_start.saturating_add(n);
                    if end < len && frame[end] == SOH {
                        value_end = Some(end);
                    } else {
                        note(Problem::new(SessionRejectReason::IncorrectDataFormat, t));
                    }
                }
            }
            let value_end = match value_end {
                Some(e) => e,
                // The framer guarantees a final SOH; stay total anyway.
                None => find_soh(frame, value_start).unwrap_or(len),
            };
            if !tag_ok {
                note(Problem::new(SessionRejectReason::InvalidTagNumber, 0));
            } else if !has_equals || value_end == value_start {
                note(Problem::new(SessionRejectReason::TagWithoutValue, t));
            }
            if let Some(dt) = is_data_length_tag(t).then(|| data_tag_for(t)).flatten() {
                if let Ok(n) = value::parse_u64(&frame[value_start..value_end]) {
                    data_len = Some((dt, n as usize));
                }
            }
            let index = self.fields.len();
            // Structure: 8, 9, 35 first; header fields before body fields, once each;
            // the checksum last.
            match index {
                0 if t != tag::BEGIN_STRING => return Err(DecodeError::BadHeaderOrder),
                1 if t != tag::BODY_LENGTH => return Err(DecodeError::BadHeaderOrder),
                2 if t != tag::MSG_TYPE => return Err(DecodeError::BadHeaderOrder),
                _ => {}
            }
            if t == tag::CHECK_SUM {
                if value_end + 1 < len {
                    note(Problem::new(SessionRejectReason::TagOutOfOrder, t));
                }
            } else if let Some(bit) = header_bit(t) {
                if seen_body {
                    note(Problem::new(SessionRejectReason::TagOutOfOrder, t));
                } else if header_seen & bit != 0 {
                    note(Problem::new(SessionRejectReason::TagAppearsMoreThanOnce, t));
                }
                header_seen |= bit;
            } else {
                seen_body = true;
            }
            if index < self.max_fields {
                self.fields.push(FieldRef {
                    tag: t,
                    start: value_start as u32,
                    end: value_end as u32,
                });
            } else {
                note(Problem::new(SessionRejectReason::Other, 0));
            }
            pos = value_end + 1;
        }
        if self.fields.len() < 4 {
            return Err(DecodeError::BadHeaderOrder);
        }
        Ok(Message { buf: frame, fields: &self.fields, problem })
    }
}

/// A decoded message: the frame and its field table.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    buf: &'a [u8],
    fields: &'a [FieldRef],
    problem: Option<Problem>,
}

/// One field of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    /// The tag.
    pub tag: u32,
    /// The raw value (between `=` and SOH).
    pub value: &'a [u8],
}

impl<'a> Field<'a> {
    fn bad(&self, _e: ValueError) -> Problem {
        Problem::new(SessionRejectReason::IncorrectDataFormat, self.tag)
    }

    /// An unsigned integer.
    #[inline]
    pub fn u64(&self) -> Result<u64, Problem> {
        value::parse_u64(self.value).map_err(|e| self.bad(e))
    }

    /// A signed integer.
    #[inline]
    pub fn i64(&self) -> Result<i64, Problem> {
        value::parse_i64(self.value).map_err(|e| self.bad(e))
    }

    /// A single character.
    #[inline]
    pub fn char(&self) -> Result<u8, Problem> {
        value::parse_char(self.value).map_err(|e| self.bad(e))
    }

    /// `Y` or `N`.
    #[inline]
    pub fn bool(&self) -> Result<bool, Problem> {
        value::parse_bool(self.value).map_err(|e| self.bad(e))
    }

    /// An exact decimal (Price, Qty, float).
    #[inline]
    pub fn decimal(&self) -> Result<Decimal, Problem> {
        value::parse_decimal(self.value).map_err(|e| self.bad(e))
    }

    /// An exact decimal as a [`value::Number`] (no `Decimal` built for 18 digits or fewer).
    #[inline]
    pub fn number(&self) -> Result<value::Number, Problem> {
        value::Number::parse(self.value).map_err(|e| self.bad(e))
    }

    /// A UTCTimestamp, as UTC nanoseconds.
    #[inline]
    pub fn timestamp(&self) -> Result<u64, Problem> {
        parse_timestamp(self.value).map_err(|e| self.bad(e))
    }

    /// Printable ASCII text.
    #[inline]
    pub fn text(&self) -> Result<&'a str, Problem> {
        value::parse_text(self.value).map_err(|e| self.bad(e))
    }
}

impl<'a> Message<'a> {
    /// The whole frame.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// BeginString (8).
    #[inline]
    pub fn begin_string(&self) -> &'a [u8] {
        self.value_at(0)
    }

    /// MsgType (35).
    #[inline]
    pub fn msg_type(&self) -> &'a [u8] {
        self.value_at(2)
    }

    /// The first structural problem found while decoding, if any.
    #[inline]
    pub fn problem(&self) -> Option<Problem> {
        self.problem
    }

    /// Number of fields, header and trailer included.
    #[inline]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Never true for a decoded message (it has at least its header).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    #[inline]
    fn value_at(&self, i: usize) -> &'a [u8] {
        let f = self.fields[i];
        &self.buf[f.start as usize..f.end as usize]
    }

    /// The `i`-th field.
    #[inline]
    pub fn field_at(&self, i: usize) -> Field<'a> {
        Field { tag: self.fields[i].tag, value: self.value_at(i) }
    }

    /// Every field in order.
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + '_ {
        (0..self.fields.len()).map(|i| self.field_at(i))
    }

    /// The field table (for [`spec`](super::spec) validation).
    #[inline]
    pub(crate) fn refs(&self) -> &'a [FieldRef] {
        self.fields
    }

    /// The first field with `tag`.
    #[inline]
    pub fn field(&self, tag: u32) -> Option<Field<'a>> {
        self.fields.iter().position(|f| f.tag == tag).map(|i| self.field_at(i))
    }

    /// The raw value of the first field with `tag`.
    #[inline]
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.field(tag).map(|f| f.value)
    }

    /// The field with `tag`, or "required tag missing".
    #[inline]
    pub fn require(&self, tag: u32) -> Result<Field<'a>, Problem> {
        self.field(tag).ok_or(Problem::new(SessionRejectReason::RequiredTagMissing, tag))
    }

    /// The instances of a repeating group (empty when the count tag is absent). Assumes
    /// the message passed [`spec::validate`](super::spec::validate) for a spec holding
    /// `group`; otherwise instances are cut where the structure breaks.
    pub fn group(&self, group: &'a super::spec::GroupSpec) -> GroupIter<'a> {
        let start = self
            .fields
            .iter()
            .position(|f| f.tag == group.count_tag)
            .map_or(self.fields.len(), |i| i + 1);
        GroupIter { msg: *self, group, pos: start }
    }
}

/// One instance of a repeating group.
#[derive(Clone, Copy, Debug)]
pub struct GroupInstance<'a> {
    msg: Message<'a>,
    from: usize,
    to: usize,
}

impl<'a> GroupInstance<'a> {
    /// The first field with `tag` in this instance.
    pub fn field(&self, tag: u32) -> Option<Field<'a>> {
        (self.from..self.to).find(|&i| self.msg.fields[i].tag == tag).map(|i| self.msg.field_at(i))
    }

    /// The raw value of `tag` in this instance.
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.field(tag).map(|f| f.value)
    }

    /// The field with `tag`, or "required tag missing".
    pub fn require(&self, tag: u32) -> Result<Field<'a>, Problem> {
        self.field(tag).ok_or(Problem::new(SessionRejectReason::RequiredTagMissing, tag))
    }
}

/// Iterator over a group's instances.
#[derive(Debug)]
pub struct GroupIter<'a> {
    msg: Message<'a>,
    group: &'a super::spec::GroupSpec,
    pos: usize,
}

impl<'a> Iterator for GroupIter<'a> {
    type Item = GroupInstance<'a>;

    fn next(&mut self) -> Option<GroupInstance<'a>> {
        let fields = self.msg.fields;
        if self.pos >= fields.len() || fields[self.pos].tag != self.group.delimiter {
            return None;
        }
        let from = self.pos;
        let mut to = from + 1;
        while to < fields.len()
            && fields[to].tag != self.group.delimiter
            && self.group.members.contains(&fields[to].tag)
        {
            to += 1;
        }
        self.pos = to;
        Some(GroupInstance { msg: self.msg, from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::frame::checksum;

    pub(crate) fn frame(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let head = format!("8=FIX.4.4\x019={}\x01", body.len());
        let mut m = (head + &body).into_bytes();
        let sum = checksum(&m);
        m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        m
    }

    #[test]
    fn fields_are_split_and_looked_up() {
        let m = frame("35=D|49=C|56=K|34=7|52=20240101-00:00:00.000|11=A1|38=1.5|");
        let mut d = Decoder::default();
        let msg = d.decode(&m).unwrap();
        assert_eq!(msg.msg_type(), b"D");
        assert_eq!(msg.begin_string(), b"FIX.4.4");
        assert_eq!(msg.problem(), None);
        assert_eq!(msg.get(tag::CL_ORD_ID), Some(&b"A1"[..]));
        assert_eq!(msg.require(tag::MSG_SEQ_NUM).unwrap().u64(), Ok(7));
        assert_eq!(msg.field(tag::ORDER_QTY).unwrap().decimal().unwrap().to_string(), "1.5");
        assert_eq!(
            msg.require(tag::PRICE),
            Err(Problem::new(SessionRejectReason::RequiredTagMissing, tag::PRICE))
        );
        assert_eq!(msg.fields().last().unwrap().tag, tag::CHECK_SUM);
    }

    #[test]
    fn structural_problems_are_recorded_with_the_first_winning() {
        let mut d = Decoder::default();
        let cases: &[(&str, Problem)] = &[
            ("35=D|49=C|56=K|34=7|11=|", Problem::new(SessionRejectReason::TagWithoutValue, 11)),
            ("35=D|49=C|56=K|34=7|1x1=a|", Problem::new(SessionRejectReason::InvalidTagNumber, 0)),
            ("35=D|49=C|56=K|34=7|011=a|", Problem::new(SessionRejectReason::InvalidTagNumber, 0)),
            ("35=D|49=C|56=K|34=7|abc|", Problem::new(SessionRejectReason::InvalidTagNumber, 0)),
            ("35=D|49=C|56=K|11=a|34=7|", Problem::new(SessionRejectReason::TagOutOfOrder, 34)),
            (
                "35=D|49=C|49=C|56=K|34=7|",
                Problem::new(SessionRejectReason::TagAppearsMoreThanOnce, 49),
            ),
            (
                "35=D|49=C|56=K|34=7|10=000|11=a|",
                Problem::new(SessionRejectReason::TagOutOfOrder, 10),
            ),
        ];
        for (body, want) in cases {
            let m = frame(body);
            let msg = d.decode(&m).unwrap();
            assert_eq!(msg.problem(), Some(*want), "{body}");
            // The sequence number is still readable after a problem.
            assert_eq!(msg.get(tag::MSG_SEQ_NUM), Some(&b"7"[..]), "{body}");
        }
        let m = frame("49=C|35=D|");
        assert_eq!(d.decode(&m).unwrap_err(), DecodeError::BadHeaderOrder);
    }

    #[test]
    fn data_fields_may_hold_soh() {
        let m = frame("35=A|49=C|56=K|34=1|95=3|96=a|b|98=0|");
        let mut d = Decoder::default();
        let msg = d.decode(&m).unwrap();
        assert_eq!(msg.problem(), None);
        assert_eq!(msg.get(96), Some(&b"a\x01b"[..]));
        assert_eq!(msg.get(tag::ENCRYPT_METHOD), Some(&b"0"[..]));
    }

    proptest::proptest! {
        #[test]
        fn the_soh_search_agrees_with_a_scan(
            bytes in proptest::collection::vec(proptest::sample::select(
                &b"\x01\x00\x02\x81\xffa="[..]), 0..40),
            from in 0usize..40,
        ) {
            let from = from.min(bytes.len());
            let want = bytes[from..].iter().position(|&b| b == SOH).map(|p| from + p);
            proptest::prop_assert_eq!(find_soh(&bytes, from), want);
        }

        #[test]
        fn the_fast_tag_reader_agrees_with_the_rule(
            bytes in proptest::collection::vec(proptest::sample::select(
                &b"0123456789=\x01a"[..]), 0..16),
            pos in 0usize..4,
        ) {
            let pos = pos.min(bytes.len());
            proptest::prop_assert_eq!(read_tag(&bytes, pos), read_tag_slow(&bytes, pos));
        }
    }

    #[test]
    fn too_many_fields_is_a_problem_not_a_panic() {
        let body: String = (0..20).map(|i| format!("{}=x|", 5000 + i)).collect();
        let m = frame(&format!("35=D|49=C|56=K|34=7|{body}"));
        let mut d = Decoder::new(8);
        let msg = d.decode(&m).unwrap();
        assert_eq!(msg.len(), 8);
        assert_eq!(msg.problem(), Some(Problem::new(SessionRejectReason::Other, 0)));
    }
}
