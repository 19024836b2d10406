//! On-disk byte layout: the segment header and the record frame.
//!
//! Every offset is derived from the one before it, and the sizes and alignments the rest
//! of the crate relies on are checked at compile time. All integers are little-endian.
//! `docs/journal-format.md` draws the same layout as tables.

/// Magic bytes at offset 0 of every segment.
pub const SEGMENT_MAGIC: [u8; 8] = *b"KEELJNL\0";
/// Format version written by this crate; any other version is refused.
pub const FORMAT_VERSION: u32 = 1;

// ---- segment header -------------------------------------------------------------------
pub const SEG_MAGIC_OFF: usize = 0;
pub const SEG_VERSION_OFF: usize = SEG_MAGIC_OFF + 8;
pub const SEG_HEADER_LEN_OFF: usize = SEG_VERSION_OFF + 4;
pub const SEG_SIZE_OFF: usize = SEG_HEADER_LEN_OFF + 4;
pub const SEG_SCHEMA_OFF: usize = SEG_SIZE_OFF + 8;
pub const SEG_FIRST_SEQ_OFF: usize = SEG_SCHEMA_OFF + 8;
pub const SEG_CREATED_NS_OFF: usize = SEG_FIRST_SEQ_OFF + 8;
pub const SEG_RESERVED_OFF: usize = SEG_CREATED_NS_OFF + 8;
pub const SEG_RESERVED_LEN: usize = 12;
/// CRC32C of bytes `[0, SEG_CRC_OFF)`.
pub const SEG_CRC_OFF: usize = SEG_RESERVED_OFF + SEG_RESERVED_LEN;
/// Size of the segment header; the first record frame starts here.
pub const SEG_HEADER_LEN: usize = SEG_CRC_OFF + 4;

const _: () = assert!(SEG_HEADER_LEN == 64);
// Records start 8-aligned because the mapping is page aligned and the header is a
// multiple of 8.
const _: () = assert!(SEG_HEADER_LEN % RECORD_ALIGN == 0);
const _: () = assert!(SEG_VERSION_OFF % 4 == 0 && SEG_SIZE_OFF % 8 == 0);
const _: () = assert!(SEG_SCHEMA_OFF % 8 == 0 && SEG_FIRST_SEQ_OFF % 8 == 0);
const _: () = assert!(SEG_CREATED_NS_OFF % 8 == 0 && SEG_CRC_OFF % 4 == 0);

// ---- record frame ---------------------------------------------------------------------
/// Total frame length in bytes (header + payload + padding). Written last, with a
/// Release store; `0` means "nothing here (yet)".
pub const REC_FRAME_LEN_OFF: usize = 0;
/// CRC32C of bytes `[REC_PAYLOAD_LEN_OFF, frame_len)`: everything after the checksum,
/// padding included. The frame length itself is bound by `frame_len == frame_len_for(payload_len)`.
pub const REC_CRC_OFF: usize = REC_FRAME_LEN_OFF + 4;
pub const REC_PAYLOAD_LEN_OFF: usize = REC_CRC_OFF + 4;
pub const REC_KIND_OFF: usize = REC_PAYLOAD_LEN_OFF + 4;
/// Reserved, must be zero.
pub const REC_FLAGS_OFF: usize = REC_KIND_OFF + 2;
pub const REC_SEQ_OFF: usize = REC_FLAGS_OFF + 2;
pub const REC_TS_OFF: usize = REC_SEQ_OFF + 8;
/// Size of the record header; the payload starts here.
pub const REC_HEADER_LEN: usize = REC_TS_OFF + 8;
/// Alignment of every frame, and so of every payload.
pub const RECORD_ALIGN: usize = 8;

const _: () = assert!(REC_HEADER_LEN == 32);
const _: () = assert!(REC_HEADER_LEN % RECORD_ALIGN == 0);
const _: () = assert!(REC_FRAME_LEN_OFF % 4 == 0, "frame_len is accessed as an AtomicU32");
const _: () = assert!(REC_SEQ_OFF % 8 == 0 && REC_TS_OFF % 8 == 0);
const _: () = assert!(REC_KIND_OFF % 2 == 0 && REC_FLAGS_OFF % 2 == 0);

/// Bytes the writer always keeps free at the end of a segment for the end marker.
pub const END_MARKER_LEN: usize = REC_HEADER_LEN;

/// Frame length of a record with a payload of `payload_len` bytes.
#[inline]
pub const fn frame_len_for(payload_len: usize) -> usize {
    (REC_HEADER_LEN + payload_len + (RECORD_ALIGN - 1)) & !(RECORD_ALIGN - 1)
}

/// Largest payload a segment of `segment_size` bytes can hold.
pub const fn max_payload_len(segment_size: usize) -> usize {
    segment_size - SEG_HEADER_LEN - END_MARKER_LEN - REC_HEADER_LEN
}

/// Kind of a record. The journal reserves a few values; callers may use any other
/// non-zero value below [`RecordKind::SEGMENT_END`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKind(pub u16);

impl RecordKind {
    /// A command that entered the engine.
    pub const INPUT: RecordKind = RecordKind(1);
    /// Something the engine emitted.
    pub const OUTPUT: RecordKind = RecordKind(2);
    /// Marks that a snapshot was taken at this point of the log.
    pub const SNAPSHOT_MARKER: RecordKind = RecordKind(3);
    /// Reserved: the end-of-segment marker. Its `seq` is the first sequence of the next
    /// segment; it does not consume a sequence number. Never appended by callers.
    pub const SEGMENT_END: RecordKind = RecordKind(u16::MAX);

    /// Whether callers may append records of this kind.
    pub const fn is_user(self) -> bool {
        self.0 != 0 && self.0 != u16::MAX
    }
}

/// The fixed fields of a segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    pub segment_size: u64,
    pub schema_hash: u64,
    pub first_seq: u64,
    pub created_ns: u64,
}

impl SegmentHeader {
    /// Encodes the header, CRC included.
    pub fn encode(&self) -> [u8; SEG_HEADER_LEN] {
        let mut b = [0u8; SEG_HEADER_LEN];
        b[SEG_MAGIC_OFF..SEG_MAGIC_OFF + 8].copy_from_slice(&SEGMENT_MAGIC);
        b[SEG_VERSION_OFF..SEG_VERSION_OFF + 4].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[SEG_HEADER_LEN_OFF..SEG_HEADER_LEN_OFF + 4]
            .copy_from_slice(&(SEG_HEADER_LEN as u32).to_le_bytes());
        b[SEG_SIZE_OFF..SEG_SIZE_OFF + 8].copy_from_slice(&self.segment_size.to_le_bytes());
        b[SEG_SCHEMA_OFF..SEG_SCHEMA_OFF + 8].copy_from_slice(&self.schema_hash.to_le_bytes());
        b[SEG_FIRST_SEQ_OFF..SEG_FIRST_SEQ_OFF + 8].copy_from_slice(&self.first_seq.to_le_bytes());
        b[SEG_CREATED_NS_OFF..SEG_CREATED_NS_OFF + 8]
            .copy_from_slice(&self.created_ns.to_le_bytes());
        let crc = crc32c::crc32c(&b[..SEG_CRC_OFF]);
        b[SEG_CRC_OFF..SEG_CRC_OFF + 4].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and checks a header. The error says which check failed.
    pub fn decode(b: &[u8]) -> Result<SegmentHeader, HeaderProblem> {
        if b.len() < SEG_HEADER_LEN {
            return Err(HeaderProblem::TooShort { len: b.len() });
        }
        let found_magic: [u8; 8] = b[..8].try_into().expect("8 bytes");
        if found_magic != SEGMENT_MAGIC {
            return Err(HeaderProblem::BadMagic { found: found_magic });
        }
        let version = u32_at(b, SEG_VERSION_OFF);
        if version != FORMAT_VERSION {
            return Err(HeaderProblem::UnsupportedVersion { found: version });
        }
        let stored = u32_at(b, SEG_CRC_OFF);
        let computed = crc32c::crc32c(&b[..SEG_CRC_OFF]);
        if stored != computed {
            return Err(HeaderProblem::BadChecksum { stored, computed });
        }
        let header_len = u32_at(b, SEG_HEADER_LEN_OFF);
        if header_len as usize != SEG_HEADER_LEN {
            return Err(HeaderProblem::BadHeaderLen { found: header_len });
        }
        Ok(SegmentHeader {
            segment_size: u64_at(b, SEG_SIZE_OFF),
            schema_hash: u64_at(b, SEG_SCHEMA_OFF),
            first_seq: u64_at(b, SEG_FIRST_SEQ_OFF),
            created_ns: u64_at(b, SEG_CREATED_NS_OFF),
        })
    }
}

/// Why a segment header was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderProblem {
    #[error("file too short for a segment header ({len} bytes)")]
    TooShort { len: usize },
    #[error("wrong magic {found:02x?} (expected {SEGMENT_MAGIC:02x?})")]
    BadMagic { found: [u8; 8] },
    #[error("unsupported format version {found} (this build reads version {FORMAT_VERSION})")]
    UnsupportedVersion { found: u32 },
    #[error("header checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    BadChecksum { stored: u32, computed: u32 },
    #[error("header length {found} (expected {SEG_HEADER_LEN})")]
    BadHeaderLen { found: u32 },
}

/// The decoded fixed fields of a record frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub frame_len: u32,
    pub payload_len: u32,
    pub kind: RecordKind,
    pub seq: u64,
    pub ts_ns: u64,
}

#[inline]
pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().expect("4 bytes"))
}

#[inline]
pub(crate) fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_len_rounds_to_8() {
        assert_eq!(frame_len_for(0), 32);
        assert_eq!(frame_len_for(1), 40);
        assert_eq!(frame_len_for(8), 40);
        assert_eq!(frame_len_for(64), 96);
        assert_eq!(frame_len_for(65), 104);
    }

    #[test]
    fn header_round_trip_and_checks() {
        let h =
            SegmentHeader { segment_size: 1 << 20, schema_hash: 7, first_seq: 42, created_ns: 9 };
        let mut b = h.encode();
        assert_eq!(SegmentHeader::decode(&b), Ok(h));
        b[SEG_FIRST_SEQ_OFF] ^= 1;
        assert!(matches!(SegmentHeader::decode(&b), Err(HeaderProblem::BadChecksum { .. })));
        b[0] = b'X';
        assert!(matches!(SegmentHeader::decode(&b), Err(HeaderProblem::BadMagic { .. })));
    }
}
