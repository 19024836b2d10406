//! The wire primitives of the native binary protocol: the frame header, the field codec
//! ([`WireField`]) and the [`message!`](crate::binary::wire) macro that declares a message
//! as a list of fields and derives its size, its layout table and its codec from that list.
//!
//! Every field is little-endian at a fixed offset; a message's offsets are the running sum
//! of the sizes before it, starting after the 16-byte header, so a layout can only be
//! changed by changing the declaration (and the golden-bytes tests and
//! `docs/binary-protocol.md` with it). Decoding validates every field: an enum byte outside
//! its values, a non-zero pad byte, a malformed text field is a [`FieldError`] naming the
//! field's offset, never a guess.

use keel_engine::schema::{
    CancelRejectTo, ExecType, MarketStatus, OrdStatus, OrderFlags, RejectCode, RejectInfo,
};
use keel_engine::{
    ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce, TimestampNs,
    VenueId,
};

/// Protocol version carried in every header. A peer speaking another version is refused.
pub const VERSION: u8 = 1;

/// Size of the frame header, bytes.
pub const HEADER_LEN: usize = 16;

/// The largest frame of the protocol (the `Depth` message), bytes.
pub const MAX_FRAME_LEN: usize = 360;

/// The header that starts every frame.
///
/// | offset | size | field | |
/// |---|---|---|---|
/// | 0 | 2 | `len` u16 | whole frame length, header included; fixed per type |
/// | 2 | 1 | `msg_type` u8 | see [`MsgType`](super::MsgType) |
/// | 3 | 1 | `version` u8 | [`VERSION`] |
/// | 4 | 4 | `reserved` u32 | zero |
/// | 8 | 8 | `seq` u64 | the message's sequence in its stream (0 when unsequenced) |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Whole frame length, header included.
    pub len: u16,
    /// Message type.
    pub msg_type: u8,
    /// Protocol version.
    pub version: u8,
    /// Sequence number in the message's stream, 0 when the message is unsequenced.
    pub seq: u64,
}

impl Header {
    /// Writes the header into the first [`HEADER_LEN`] bytes of `buf`.
    #[inline]
    pub fn put(&self, buf: &mut [u8]) {
        buf[0..2].copy_from_slice(&self.len.to_le_bytes());
        buf[2] = self.msg_type;
        buf[3] = self.version;
        buf[4..8].copy_from_slice(&0u32.to_le_bytes());
        buf[8..16].copy_from_slice(&self.seq.to_le_bytes());
    }

    /// Reads a header; `buf` holds at least [`HEADER_LEN`] bytes. Checks only the reserved
    /// bytes: length, type and version are checked by the frame decoder.
    #[inline]
    pub fn get(buf: &[u8]) -> Result<Header, FieldError> {
        if buf[4..8] != [0; 4] {
            return Err(FieldError { offset: 4, problem: FieldProblem::NonZeroPad });
        }
        Ok(Header {
            len: u16::from_le_bytes([buf[0], buf[1]]),
            msg_type: buf[2],
            version: buf[3],
            seq: u64::from_le_bytes(buf[8..16].try_into().expect("8 bytes")),
        })
    }
}

/// What was wrong with a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    /// An enum byte outside its defined values.
    BadEnum(u8),
    /// Flag bits that are not defined.
    UnknownFlags(u8),
    /// Padding or reserved bytes that are not zero.
    NonZeroPad,
    /// A text field that is not printable ASCII, NUL-padded, or is empty where required.
    BadText,
    /// A reject code that is not in the published list.
    UnknownRejectCode(u16),
    /// A count larger than its array.
    CountTooLarge(u8),
}

/// A field that does not hold a valid value; `offset` is its byte offset in the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field at offset {offset}: {problem:?}")]
pub struct FieldError {
    /// Byte offset of the field within the frame (header included).
    pub offset: usize,
    /// What was wrong.
    pub problem: FieldProblem,
}

/// A value with a fixed little-endian wire form of [`WireField::SIZE`] bytes.
pub trait WireField: Sized {
    /// Bytes on the wire.
    const SIZE: usize;
    /// The wire type as written in `docs/binary-protocol.md` (e.g. `u32`, `char[32]`).
    const WIRE: &'static str;
    /// Writes the value into `buf` (exactly `SIZE` bytes).
    fn put(&self, buf: &mut [u8]);
    /// Reads and validates a value from `buf` (exactly `SIZE` bytes).
    fn get(buf: &[u8]) -> Result<Self, FieldProblem>;
}

macro_rules! int_field {
    ($($t:ty, $n:literal, $wire:literal;)*) => {$(
        impl WireField for $t {
            const SIZE: usize = $n;
            const WIRE: &'static str = $wire;
            #[inline]
            fn put(&self, buf: &mut [u8]) {
                buf.copy_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
                Ok(<$t>::from_le_bytes(buf.try_into().expect("field size")))
            }
        }
    )*};
}
int_field! {
    u8, 1, "u8";
    u16, 2, "u16";
    u32, 4, "u32";
    u64, 8, "u64";
    i64, 8, "i64";
}

macro_rules! newtype_field {
    ($($t:ident($inner:ty), $wire:literal;)*) => {$(
        impl WireField for $t {
            const SIZE: usize = <$inner as WireField>::SIZE;
            const WIRE: &'static str = $wire;
            #[inline]
            fn put(&self, buf: &mut [u8]) {
                self.0.put(buf)
            }
            #[inline]
            fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
                <$inner>::get(buf).map($t)
            }
        }
    )*};
}
newtype_field! {
    InstrumentId(u32), "u32";
    VenueId(u16), "u16";
    SessionId(u32), "u32";
    OrderId(u64), "u64";
    Price(i64), "i64 ticks";
    Qty(i64), "i64 lots";
    TimestampNs(u64), "u64 ns";
}

macro_rules! enum_field {
    ($($t:ident { $($v:ident = $n:literal),* $(,)? })*) => {$(
        impl WireField for $t {
            const SIZE: usize = 1;
            const WIRE: &'static str = "u8";
            #[inline]
            fn put(&self, buf: &mut [u8]) {
                buf[0] = match self { $($t::$v => $n,)* };
            }
            #[inline]
            fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
                match buf[0] {
                    $($n => Ok($t::$v),)*
                    b => Err(FieldProblem::BadEnum(b)),
                }
            }
        }
    )*};
}
enum_field! {
    Side { Buy = 1, Sell = 2 }
    OrdType { Market = 1, Limit = 2, Stop = 3, StopLimit = 4, TrailingStop = 5 }
    TimeInForce { Gtc = 1, Day = 2, Gtd = 3, Ioc = 4, Fok = 5 }
    OrdStatus {
        PendingNew = 1, New = 2, PartiallyFilled = 3, Filled = 4, PendingCancel = 5,
        Canceled = 6, PendingReplace = 7, Rejected = 8, Expired = 9,
    }
    ExecType {
        PendingNew = 1, New = 2, Trade = 3, PendingCancel = 4, Canceled = 5,
        PendingReplace = 6, Replaced = 7, Rejected = 8, Expired = 9, Triggered = 10,
    }
    CancelRejectTo { Cancel = 1, Replace = 2 }
    MarketStatus { Open = 1, Halted = 2, Closed = 3 }
}

/// Declares a protocol enum carried as one byte (values start at 1: a zero byte is never
/// valid, so an unset field is caught).
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $v:ident = $n:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vdoc])* $v = $n,)*
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
        }

        impl $crate::binary::wire::WireField for $name {
            const SIZE: usize = 1;
            const WIRE: &'static str = "u8";
            #[inline]
            fn put(&self, buf: &mut [u8]) {
                buf[0] = *self as u8;
            }
            #[inline]
            fn get(buf: &[u8]) -> Result<Self, $crate::binary::wire::FieldProblem> {
                match buf[0] {
                    $($n => Ok($name::$v),)*
                    b => Err($crate::binary::wire::FieldProblem::BadEnum(b)),
                }
            }
        }
    };
}
pub(crate) use wire_enum;

impl WireField for OrderFlags {
    const SIZE: usize = 1;
    const WIRE: &'static str = "u8 bits";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        buf[0] = self.0;
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        const KNOWN: u8 = OrderFlags::POST_ONLY.0 | OrderFlags::REDUCE_ONLY.0;
        if buf[0] & !KNOWN != 0 {
            return Err(FieldProblem::UnknownFlags(buf[0]));
        }
        Ok(OrderFlags(buf[0]))
    }
}

impl WireField for bool {
    const SIZE: usize = 1;
    const WIRE: &'static str = "u8 0/1";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        buf[0] = *self as u8;
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        match buf[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(FieldProblem::BadEnum(b)),
        }
    }
}

/// `N` bytes of padding: written as zeros, and must be zeros when read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pad<const N: usize>;

impl<const N: usize> WireField for Pad<N> {
    const SIZE: usize = N;
    const WIRE: &'static str = "pad";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        buf.fill(0);
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        if buf.iter().any(|&b| b != 0) {
            return Err(FieldProblem::NonZeroPad);
        }
        Ok(Pad)
    }
}

/// Text of up to `N` bytes of printable ASCII (0x21..=0x7e, or also spaces inside for
/// symbols), NUL-padded on the wire. Once a NUL appears every following byte is NUL.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Text<const N: usize> {
    bytes: [u8; N],
}

impl<const N: usize> Text<N> {
    /// Builds a text field; `None` when longer than `N` bytes or not printable ASCII.
    pub fn new(s: &str) -> Option<Self> {
        let src = s.as_bytes();
        if src.len() > N || !src.iter().all(|b| (0x20..=0x7e).contains(b)) {
            return None;
        }
        let mut bytes = [0u8; N];
        bytes[..src.len()].copy_from_slice(src);
        Some(Text { bytes })
    }

    /// The empty text.
    pub const fn empty() -> Self {
        Text { bytes: [0; N] }
    }

    /// The bytes before the first NUL.
    pub fn as_bytes(&self) -> &[u8] {
        let len = self.bytes.iter().position(|&b| b == 0).unwrap_or(N);
        &self.bytes[..len]
    }

    /// The text (always ASCII by construction).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl<const N: usize> std::fmt::Debug for Text<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// Checks NUL padding and the character range; returns the text's length.
fn check_text(buf: &[u8]) -> Result<usize, FieldProblem> {
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if buf[len..].iter().any(|&b| b != 0) || !buf[..len].iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(FieldProblem::BadText);
    }
    Ok(len)
}

impl<const N: usize> WireField for Text<N> {
    const SIZE: usize = N;
    const WIRE: &'static str = "char[]";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        buf.copy_from_slice(&self.bytes);
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        check_text(buf)?;
        Ok(Text { bytes: buf.try_into().expect("field size") })
    }
}

/// Up to `N` bytes of any value but NUL (a password), NUL-padded: once a NUL appears
/// every following byte is NUL. Its `Debug` never shows the bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Secret<const N: usize> {
    bytes: [u8; N],
}

impl<const N: usize> Secret<N> {
    /// Builds a secret; `None` when longer than `N` bytes or holding a NUL.
    pub fn new(src: &[u8]) -> Option<Self> {
        if src.len() > N || src.contains(&0) {
            return None;
        }
        let mut bytes = [0u8; N];
        bytes[..src.len()].copy_from_slice(src);
        Some(Secret { bytes })
    }

    /// The bytes before the first NUL.
    pub fn as_bytes(&self) -> &[u8] {
        let len = self.bytes.iter().position(|&b| b == 0).unwrap_or(N);
        &self.bytes[..len]
    }
}

impl<const N: usize> std::fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl<const N: usize> WireField for Secret<N> {
    const SIZE: usize = N;
    const WIRE: &'static str = "byte[]";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        buf.copy_from_slice(&self.bytes);
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        let len = buf.iter().position(|&b| b == 0).unwrap_or(N);
        if buf[len..].iter().any(|&b| b != 0) {
            return Err(FieldProblem::BadText);
        }
        Ok(Secret { bytes: buf.try_into().expect("field size") })
    }
}

/// Levels in a depth message, per side.
pub const DEPTH_LEVELS: usize = 10;

/// One price level: `price` i64 ticks, `qty` i64 lots (16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Level {
    /// Level price.
    pub price: Price,
    /// Visible quantity at the level.
    pub qty: Qty,
}

/// [`DEPTH_LEVELS`] levels from the best outward; unused levels are zero.
impl WireField for [Level; DEPTH_LEVELS] {
    const SIZE: usize = 16 * DEPTH_LEVELS;
    const WIRE: &'static str = "level[10]";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        for (l, b) in self.iter().zip(buf.chunks_exact_mut(16)) {
            b[..8].copy_from_slice(&l.price.0.to_le_bytes());
            b[8..].copy_from_slice(&l.qty.0.to_le_bytes());
        }
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        let mut out = [Level::default(); DEPTH_LEVELS];
        for (l, b) in out.iter_mut().zip(buf.chunks_exact(16)) {
            l.price = Price(i64::from_le_bytes(b[..8].try_into().expect("8 bytes")));
            l.qty = Qty(i64::from_le_bytes(b[8..].try_into().expect("8 bytes")));
        }
        Ok(out)
    }
}

/// A count of levels, `0..=DEPTH_LEVELS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelCount(pub u8);

impl WireField for LevelCount {
    const SIZE: usize = 1;
    const WIRE: &'static str = "u8";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        buf[0] = self.0;
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        if buf[0] as usize > DEPTH_LEVELS {
            return Err(FieldProblem::CountTooLarge(buf[0]));
        }
        Ok(LevelCount(buf[0]))
    }
}

/// Wire size of a client order id: [`ClOrdId::CAPACITY`] bytes and at least one NUL.
pub const CL_ORD_ID_LEN: usize = 32;

/// Per-byte masks of a 32-byte field: bit `i` set when byte `i` is NUL, and when it is
/// printable without space (0x21..=0x7e). A fixed-length loop without an early exit, so it
/// compiles to a few vector instructions rather than a byte-at-a-time scan.
#[inline]
fn id_masks(buf: &[u8; CL_ORD_ID_LEN]) -> (u32, u32) {
    let mut zero = 0u32;
    let mut print = 0u32;
    for (i, &b) in buf.iter().enumerate() {
        zero |= u32::from(b == 0) << i;
        print |= u32::from(b.wrapping_sub(0x21) < 0x7e - 0x21 + 1) << i;
    }
    (zero, print)
}

impl WireField for ClOrdId {
    const SIZE: usize = CL_ORD_ID_LEN;
    const WIRE: &'static str = "char[32]";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        let b = self.as_bytes();
        buf[..b.len()].copy_from_slice(b);
        buf[b.len()..].fill(0);
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        let buf: &[u8; CL_ORD_ID_LEN] = buf.try_into().expect("field size");
        let (zero, print) = id_masks(buf);
        // 1..=31 printable bytes, then only NULs.
        let len = zero.trailing_zeros() as usize;
        if len == 0 || len >= CL_ORD_ID_LEN {
            return Err(FieldProblem::BadText);
        }
        let head = (1u32 << len) - 1;
        if print & head != head || zero >> len != u32::MAX >> len {
            return Err(FieldProblem::BadText);
        }
        ClOrdId::from_bytes(&buf[..len]).map_err(|_| FieldProblem::BadText)
    }
}

/// An optional client order id: all zero bytes is `None`.
impl WireField for Option<ClOrdId> {
    const SIZE: usize = CL_ORD_ID_LEN;
    const WIRE: &'static str = "char[32]";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        match self {
            Some(id) => id.put(buf),
            None => buf.fill(0),
        }
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        if buf[0] == 0 {
            if buf.iter().any(|&b| b != 0) {
                return Err(FieldProblem::BadText);
            }
            return Ok(None);
        }
        ClOrdId::get(buf).map(Some)
    }
}

/// A reject: `code` u16 (the stable value of `docs/risk.md`), 6 pad bytes, `value` i64,
/// `limit` i64: 24 bytes. In an optional reject, code 0 means none (and the rest is zero).
impl WireField for Option<RejectInfo> {
    const SIZE: usize = 24;
    const WIRE: &'static str = "reject";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        match self {
            Some(r) => {
                buf[0..2].copy_from_slice(&r.code.value().to_le_bytes());
                buf[2..8].fill(0);
                buf[8..16].copy_from_slice(&r.value.to_le_bytes());
                buf[16..24].copy_from_slice(&r.limit.to_le_bytes());
            }
            None => buf.fill(0),
        }
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        if buf[2..8] != [0; 6] {
            return Err(FieldProblem::NonZeroPad);
        }
        let code = u16::from_le_bytes([buf[0], buf[1]]);
        if code == 0 {
            if buf[8..].iter().any(|&b| b != 0) {
                return Err(FieldProblem::NonZeroPad);
            }
            return Ok(None);
        }
        let code = RejectCode::from_value(code).ok_or(FieldProblem::UnknownRejectCode(code))?;
        Ok(Some(RejectInfo {
            code,
            value: i64::from_le_bytes(buf[8..16].try_into().expect("8 bytes")),
            limit: i64::from_le_bytes(buf[16..24].try_into().expect("8 bytes")),
        }))
    }
}

/// A required reject (code 0 is out of range).
impl WireField for RejectInfo {
    const SIZE: usize = 24;
    const WIRE: &'static str = "reject";
    #[inline]
    fn put(&self, buf: &mut [u8]) {
        Some(*self).put(buf)
    }
    #[inline]
    fn get(buf: &[u8]) -> Result<Self, FieldProblem> {
        Option::<RejectInfo>::get(buf)?.ok_or(FieldProblem::UnknownRejectCode(0))
    }
}

/// One field of a message's layout, as documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLayout {
    /// Field name.
    pub name: &'static str,
    /// Byte offset in the frame (header included).
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// Wire type.
    pub wire: &'static str,
}

/// A message body with a fixed layout (see [`message!`]).
pub trait Body: Sized {
    /// The message's type byte.
    const TYPE: super::MsgType;
    /// Whole frame length, header included.
    const FRAME_LEN: usize;
    /// Every field after the header, in order.
    const LAYOUT: &'static [FieldLayout];
    /// Writes the body after the header; `frame` is exactly `FRAME_LEN` bytes.
    fn put_body(&self, frame: &mut [u8]);
    /// Reads and validates the body; `frame` is exactly `FRAME_LEN` bytes.
    fn get_body(frame: &[u8]) -> Result<Self, FieldError>;

    /// Encodes a whole frame with sequence `seq` into `frame[..FRAME_LEN]`.
    #[inline]
    fn encode(&self, seq: u64, frame: &mut [u8]) {
        let frame = &mut frame[..Self::FRAME_LEN];
        Header { len: Self::FRAME_LEN as u16, msg_type: Self::TYPE as u8, version: VERSION, seq }
            .put(frame);
        self.put_body(frame);
    }
}

/// Declares a message: a struct whose fields are laid out in declaration order after the
/// header, with its [`Body`] implementation and a compile-time check that the frame is a
/// multiple of 8 bytes.
macro_rules! message {
    (
        $(#[$doc:meta])*
        $name:ident = $ty:ident {
            $($(#[$fdoc:meta])* $field:ident : $fty:ty,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $fty,)*
        }

        impl $crate::binary::wire::Body for $name {
            const TYPE: $crate::binary::MsgType = $crate::binary::MsgType::$ty;
            const FRAME_LEN: usize =
                $crate::binary::wire::HEADER_LEN $(+ <$fty as $crate::binary::wire::WireField>::SIZE)*;
            const LAYOUT: &'static [$crate::binary::wire::FieldLayout] = &{
                const N: usize = 0 $(+ { let _ = stringify!($field); 1 })*;
                let sizes: [usize; N] = [$(<$fty as $crate::binary::wire::WireField>::SIZE),*];
                let names: [&str; N] = [$(stringify!($field)),*];
                let wires: [&str; N] = [$(<$fty as $crate::binary::wire::WireField>::WIRE),*];
                let mut out = [$crate::binary::wire::FieldLayout {
                    name: "", offset: 0, size: 0, wire: "" }; N];
                let mut i = 0;
                let mut offset = $crate::binary::wire::HEADER_LEN;
                while i < N {
                    out[i] = $crate::binary::wire::FieldLayout {
                        name: names[i], offset, size: sizes[i], wire: wires[i] };
                    offset += sizes[i];
                    i += 1;
                }
                out
            };

            #[inline]
            #[allow(unused_assignments, unused_variables, unused_mut)]
            fn put_body(&self, frame: &mut [u8]) {
                let mut at = $crate::binary::wire::HEADER_LEN;
                $(
                    let n = <$fty as $crate::binary::wire::WireField>::SIZE;
                    $crate::binary::wire::WireField::put(&self.$field, &mut frame[at..at + n]);
                    at += n;
                )*
            }

            #[inline]
            #[allow(unused_assignments, unused_variables, unused_mut)]
            fn get_body(frame: &[u8]) -> Result<Self, $crate::binary::wire::FieldError> {
                let mut at = $crate::binary::wire::HEADER_LEN;
                $(
                    let n = <$fty as $crate::binary::wire::WireField>::SIZE;
                    let $field = <$fty as $crate::binary::wire::WireField>::get(&frame[at..at + n])
                        .map_err(|problem| $crate::binary::wire::FieldError { offset: at, problem })?;
                    at += n;
                )*
                Ok($name { $($field,)* })
            }
        }

        const _: () = assert!(
            <$name as $crate::binary::wire::Body>::FRAME_LEN % 8 == 0,
            concat!(stringify!($name), " is not a multiple of 8 bytes")
        );
        const _: () = assert!(
            <$name as $crate::binary::wire::Body>::FRAME_LEN <= $crate::binary::wire::MAX_FRAME_LEN,
            concat!(stringify!($name), " is larger than MAX_FRAME_LEN")
        );
    };
}
pub(crate) use message;
