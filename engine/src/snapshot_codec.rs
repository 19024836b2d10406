//! The little-endian encoding used by core snapshots ([`crate::core::snapshot`]).
//!
//! A [`Writer`] appends fixed-width little-endian integers, booleans as one byte (0 or 1),
//! and length-prefixed byte strings (`u32` length). A [`Reader`] takes them back and
//! reports every failure with the absolute offset (within the whole snapshot) of the value
//! that failed: too few bytes ([`CodecError::Truncated`]), a value that is not a valid
//! encoding ([`CodecError::Invalid`]), or a value that the configuration cannot hold
//! ([`CodecError::OutOfRange`]).
//!
//! Nothing here is on the hot path: snapshots are written and read between commands, and
//! may allocate.
//!
//! ```
//! use keel_engine::snapshot_codec::{Reader, Writer};
//!
//! let mut w = Writer::new();
//! w.u32(7);
//! w.i64(-3);
//! w.bytes(b"abc");
//! let bytes = w.into_inner();
//! let mut r = Reader::new(&bytes);
//! assert_eq!(r.u32().unwrap(), 7);
//! assert_eq!(r.i64().unwrap(), -3);
//! assert_eq!(r.bytes().unwrap(), b"abc");
//! assert!(r.finish().is_ok());
//! assert!(r.u8().is_err(), "reading past the end is a truncation");
//! ```

use crate::order_terms::{OrdType, TimeInForce};
use crate::schema::{Liquidity, MarketStatus, SessionKind, TradingState};
use crate::{ClOrdId, Side};

/// Why a value could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input ended: `needed` more bytes were wanted at `offset`.
    #[error("truncated at offset {offset}: {needed} more bytes needed")]
    Truncated {
        /// Absolute offset of the read that ran out.
        offset: usize,
        /// Bytes that were missing.
        needed: usize,
    },
    /// The bytes at `offset` are not a valid encoding (an unknown tag, a bad boolean, an
    /// inconsistent record).
    #[error("invalid value at offset {offset}: {detail}")]
    Invalid {
        /// Absolute offset of the value.
        offset: usize,
        /// What is wrong.
        detail: String,
    },
    /// The value at `offset` is well formed but does not fit the configuration (more
    /// entries than a table holds, an id outside a table).
    #[error("value out of range at offset {offset}: {detail}")]
    OutOfRange {
        /// Absolute offset of the value.
        offset: usize,
        /// What is wrong.
        detail: String,
    },
}

impl CodecError {
    /// The absolute offset the error refers to.
    pub fn offset(&self) -> usize {
        match self {
            CodecError::Truncated { offset, .. }
            | CodecError::Invalid { offset, .. }
            | CodecError::OutOfRange { offset, .. } => *offset,
        }
    }
}

/// Appends little-endian values to a byte buffer.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Writer {
        Writer { buf: Vec::new() }
    }

    /// The bytes written so far.
    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Raw bytes, no length.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// A boolean as 0 or 1.
    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    /// A `u16`.
    pub fn u16(&mut self, v: u16) {
        self.raw(&v.to_le_bytes());
    }

    /// A `u32`.
    pub fn u32(&mut self, v: u32) {
        self.raw(&v.to_le_bytes());
    }

    /// A `u64`.
    pub fn u64(&mut self, v: u64) {
        self.raw(&v.to_le_bytes());
    }

    /// An `i64`.
    pub fn i64(&mut self, v: i64) {
        self.raw(&v.to_le_bytes());
    }

    /// A `u128`.
    pub fn u128(&mut self, v: u128) {
        self.raw(&v.to_le_bytes());
    }

    /// An `i128`.
    pub fn i128(&mut self, v: i128) {
        self.raw(&v.to_le_bytes());
    }

    /// A count or length as `u32`. Panics above `u32::MAX` (no table is that large).
    pub fn len_u32(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("snapshot table lengths fit a u32"));
    }

    /// A `u32` length, then the bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.len_u32(bytes.len());
        self.raw(bytes);
    }

    /// A client order id as a length-prefixed byte string.
    pub fn cl_ord_id(&mut self, id: &ClOrdId) {
        self.bytes(id.as_bytes());
    }

    /// An optional value: 0, or 1 then the value.
    pub fn option<T>(&mut self, v: Option<T>, put: impl FnOnce(&mut Writer, T)) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                put(self, v);
            }
        }
    }
}

/// Reads little-endian values back, tracking the absolute offset.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`, which start at offset 0.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0, base: 0 }
    }

    /// A reader over `bytes`, which start at absolute offset `base` of a larger input
    /// (so errors name the offset in that input).
    pub fn with_base(bytes: &'a [u8], base: usize) -> Reader<'a> {
        Reader { bytes, pos: 0, base }
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// An [`CodecError::Invalid`] at absolute offset `at`.
    pub fn invalid_at(at: usize, detail: impl Into<String>) -> CodecError {
        CodecError::Invalid { offset: at, detail: detail.into() }
    }

    /// An [`CodecError::OutOfRange`] at absolute offset `at`.
    pub fn out_of_range_at(at: usize, detail: impl Into<String>) -> CodecError {
        CodecError::OutOfRange { offset: at, detail: detail.into() }
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), CodecError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(Self::invalid_at(
                self.offset(),
                format!("{} unread bytes at the end of the section", self.remaining()),
            ))
        }
    }

    /// The next `n` bytes.
    pub fn raw(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if self.remaining() < n {
            return Err(CodecError::Truncated {
                offset: self.offset(),
                needed: n - self.remaining(),
            });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.raw(N)?);
        Ok(a)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.array::<1>()?[0])
    }

    /// A boolean (0 or 1; anything else is invalid).
    pub fn bool(&mut self) -> Result<bool, CodecError> {
        let at = self.offset();
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(Self::invalid_at(at, format!("boolean byte {b}"))),
        }
    }

    /// A `u16`.
    pub fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// A `u32`.
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A `u64`.
    pub fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// An `i64`.
    pub fn i64(&mut self) -> Result<i64, CodecError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A `u128`.
    pub fn u128(&mut self) -> Result<u128, CodecError> {
        Ok(u128::from_le_bytes(self.array()?))
    }

    /// An `i128`.
    pub fn i128(&mut self) -> Result<i128, CodecError> {
        Ok(i128::from_le_bytes(self.array()?))
    }

    /// A `u32` count that must be at most `max` (the configured room for `what`).
    pub fn count(&mut self, max: usize, what: &str) -> Result<usize, CodecError> {
        let at = self.offset();
        let n = self.u32()? as usize;
        if n > max {
            return Err(Self::out_of_range_at(at, format!("{n} {what}, room for {max}")));
        }
        Ok(n)
    }

    /// A `u32` count that must equal `expected` (a table size fixed by configuration).
    pub fn exact_count(&mut self, expected: usize, what: &str) -> Result<(), CodecError> {
        let at = self.offset();
        let n = self.u32()? as usize;
        if n != expected {
            return Err(Self::out_of_range_at(
                at,
                format!("{n} {what}, the configuration has {expected}"),
            ));
        }
        Ok(())
    }

    /// A `u32` length, then that many bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let n = self.u32()? as usize;
        self.raw(n)
    }

    /// A client order id.
    pub fn cl_ord_id(&mut self) -> Result<ClOrdId, CodecError> {
        let at = self.offset();
        let bytes = self.bytes()?;
        ClOrdId::from_bytes(bytes)
            .map_err(|e| Self::invalid_at(at, format!("client order id: {e}")))
    }

    /// An optional value written by [`Writer::option`].
    pub fn option<T>(
        &mut self,
        get: impl FnOnce(&mut Reader<'a>) -> Result<T, CodecError>,
    ) -> Result<Option<T>, CodecError> {
        let at = self.offset();
        match self.u8()? {
            0 => Ok(None),
            1 => get(self).map(Some),
            b => Err(Self::invalid_at(at, format!("option tag {b}"))),
        }
    }

    /// A one-byte tag decoded by `decode`; an unknown tag is invalid.
    pub fn tag<T>(
        &mut self,
        what: &str,
        decode: impl FnOnce(u8) -> Option<T>,
    ) -> Result<T, CodecError> {
        let at = self.offset();
        let b = self.u8()?;
        decode(b).ok_or_else(|| Self::invalid_at(at, format!("unknown {what} code {b}")))
    }

    /// A [`Side`].
    pub fn side(&mut self) -> Result<Side, CodecError> {
        self.tag("side", |b| match b {
            0 => Some(Side::Buy),
            1 => Some(Side::Sell),
            _ => None,
        })
    }

    /// An [`OrdType`].
    pub fn ord_type(&mut self) -> Result<OrdType, CodecError> {
        self.tag("order type", |b| {
            [
                OrdType::Market,
                OrdType::Limit,
                OrdType::Stop,
                OrdType::StopLimit,
                OrdType::TrailingStop,
            ]
            .into_iter()
            .find(|t| *t as u8 == b)
        })
    }

    /// A [`TimeInForce`].
    pub fn tif(&mut self) -> Result<TimeInForce, CodecError> {
        self.tag("time in force", |b| {
            [
                TimeInForce::Gtc,
                TimeInForce::Day,
                TimeInForce::Gtd,
                TimeInForce::Ioc,
                TimeInForce::Fok,
            ]
            .into_iter()
            .find(|t| *t as u8 == b)
        })
    }

    /// A [`TradingState`].
    pub fn trading_state(&mut self) -> Result<TradingState, CodecError> {
        self.tag("trading state", |b| {
            [TradingState::Active, TradingState::ReducingOnly, TradingState::Halted]
                .into_iter()
                .find(|t| *t as u8 == b)
        })
    }

    /// A [`SessionKind`].
    pub fn session_kind(&mut self) -> Result<SessionKind, CodecError> {
        self.tag("session kind", |b| {
            [
                SessionKind::FixClient,
                SessionKind::BinaryClient,
                SessionKind::Strategy,
                SessionKind::Venue,
                SessionKind::Admin,
            ]
            .into_iter()
            .find(|t| *t as u8 == b)
        })
    }

    /// A [`MarketStatus`].
    pub fn market_status(&mut self) -> Result<MarketStatus, CodecError> {
        self.tag("market status", |b| {
            [MarketStatus::Open, MarketStatus::Halted, MarketStatus::Closed]
                .into_iter()
                .find(|t| *t as u8 == b)
        })
    }

    /// A [`Liquidity`].
    pub fn liquidity(&mut self) -> Result<Liquidity, CodecError> {
        self.tag("liquidity", |b| {
            [Liquidity::Maker, Liquidity::Taker].into_iter().find(|t| *t as u8 == b)
        })
    }
}

/// Table sizes from the configuration that restored ids must fall inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Accounts are `0..accounts`.
    pub accounts: u32,
    /// Instruments are `0..instruments`.
    pub instruments: u32,
    /// Sessions are `0..sessions`.
    pub sessions: u32,
}

impl Bounds {
    /// Fails with [`CodecError::OutOfRange`] at `at` unless `id < limit`.
    pub fn check(at: usize, what: &str, id: u32, limit: u32) -> Result<(), CodecError> {
        if id < limit {
            Ok(())
        } else {
            Err(Reader::out_of_range_at(at, format!("{what} {id} is outside 0..{limit}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_offsets() {
        let mut w = Writer::new();
        w.u8(9);
        w.bool(true);
        w.u16(0xbeef);
        w.i128(-5);
        w.u128(u128::MAX);
        w.cl_ord_id(&ClOrdId::from_u64(42));
        w.option(Some(3u64), |w, v| w.u64(v));
        w.option(None::<u64>, |w, v| w.u64(v));
        w.u8(Side::Sell as u8);
        let bytes = w.into_inner();
        let mut r = Reader::with_base(&bytes, 100);
        assert_eq!(r.u8().unwrap(), 9);
        assert!(r.bool().unwrap());
        assert_eq!(r.u16().unwrap(), 0xbeef);
        assert_eq!(r.i128().unwrap(), -5);
        assert_eq!(r.u128().unwrap(), u128::MAX);
        assert_eq!(r.cl_ord_id().unwrap(), ClOrdId::from_u64(42));
        assert_eq!(r.option(|r| r.u64()).unwrap(), Some(3));
        assert_eq!(r.option(|r| r.u64()).unwrap(), None);
        assert_eq!(r.side().unwrap(), Side::Sell);
        r.finish().unwrap();
        assert_eq!(r.u32(), Err(CodecError::Truncated { offset: 100 + bytes.len(), needed: 4 }));

        let mut r = Reader::with_base(&[2, 7], 10);
        assert!(matches!(r.bool(), Err(CodecError::Invalid { offset: 10, .. })));
        assert!(matches!(r.side(), Err(CodecError::Invalid { offset: 11, .. })));
        let mut r = Reader::new(&[5, 0, 0, 0]);
        assert!(matches!(r.count(4, "orders"), Err(CodecError::OutOfRange { offset: 0, .. })));
    }
}
