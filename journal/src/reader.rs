//! Reading a journal: iterate from any sequence, validating every frame's checksum and
//! sequence continuity, with a sparse per-segment index for fast seeks.
//!
//! A reader never writes. It sees a live journal up to the last published record; a
//! [`crate::Tailer`] adds waiting on top.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Location, ReadError};
use crate::layout::FrameHeader;
use crate::layout::{
    REC_CRC_OFF, REC_FLAGS_OFF, REC_HEADER_LEN, REC_KIND_OFF, REC_PAYLOAD_LEN_OFF, REC_SEQ_OFF,
    REC_TS_OFF, RecordKind, SEG_HEADER_LEN, SegmentHeader, frame_len_for,
};
use crate::segment::{Frame, Segment, segment_file_name};
use crate::writer::list_dir;

/// One index entry every this many records.
pub const INDEX_STRIDE: u64 = 64;

/// A record, borrowed from the mapping (zero-copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub seq: u64,
    pub kind: RecordKind,
    /// UTC nanoseconds, as given by the writer.
    pub ts_ns: u64,
    /// The payload, 8-byte aligned.
    pub payload: &'a [u8],
}

impl<'a> Record<'a> {
    /// Validates the payload with rkyv's checked access and returns the archived value.
    pub fn access<T>(&self) -> Result<&'a T::Archived, rkyv::rancor::Error>
    where
        T: rkyv::Archive,
        T::Archived: rkyv::Portable
            + for<'b> rkyv::bytecheck::CheckBytes<
                rkyv::api::high::HighValidator<'b, rkyv::rancor::Error>,
            >,
    {
        rkyv::access::<T::Archived, rkyv::rancor::Error>(self.payload)
    }
}

/// A record [`Reader::next`] moved past: a [`Record`] without the borrow.
struct FastRecord {
    off: usize,
    seq: u64,
    kind: RecordKind,
    ts_ns: u64,
    payload_len: usize,
}

/// A published record's position in the current segment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Located {
    off: usize,
    seq: u64,
    kind: RecordKind,
    ts_ns: u64,
    payload_len: usize,
}

struct OpenSegment {
    seg: Segment,
    first_seq: u64,
    /// `(seq, offset)` of every `INDEX_STRIDE`-th record seen so far.
    index: Vec<(u64, usize)>,
}

impl OpenSegment {
    /// Moves `pos` and `next_seq` past the valid record `h` found at `pos`, extends the
    /// sparse index when the record after it starts a stride, and returns where `h` is.
    #[inline]
    fn step_over(&mut self, h: &FrameHeader, pos: &mut usize, next_seq: &mut u64) -> Located {
        let l = Located {
            off: *pos,
            seq: h.seq,
            kind: h.kind,
            ts_ns: h.ts_ns,
            payload_len: h.payload_len as usize,
        };
        *pos += h.frame_len as usize;
        *next_seq += 1;
        if (*next_seq - self.first_seq) % INDEX_STRIDE == 0
            && self.index.last().is_some_and(|(s, _)| *s < *next_seq)
        {
            self.index.push((*next_seq, *pos));
        }
        l
    }
}

/// Iterates records in sequence order.
pub struct Reader {
    dir: PathBuf,
    schema_hash: Option<u64>,
    cur: Option<OpenSegment>,
    pos: usize,
    /// Sequence of the record at `pos`.
    next_seq: u64,
    /// Records below this are skipped (set by `seek`).
    from_seq: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReadError + '_ {
    move |source| ReadError::Io { path: path.to_path_buf(), source }
}

impl Reader {
    /// Opens a reader positioned at the journal's first record.
    pub fn open(dir: impl AsRef<Path>) -> Result<Reader, ReadError> {
        Reader::open_inner(dir.as_ref(), None)
    }

    /// Like [`Reader::open`], but refuses segments with another schema hash.
    pub fn open_with_schema(dir: impl AsRef<Path>, schema_hash: u64) -> Result<Reader, ReadError> {
        Reader::open_inner(dir.as_ref(), Some(schema_hash))
    }

    fn open_inner(dir: &Path, schema_hash: Option<u64>) -> Result<Reader, ReadError> {
        let mut r = Reader {
            dir: dir.to_path_buf(),
            schema_hash,
            cur: None,
            pos: SEG_HEADER_LEN,
            next_seq: 0,
            from_seq: 0,
        };
        let (segs, _) = list_dir(dir).map_err(io(dir))?;
        if let Some((first, _)) = segs.first() {
            r.load_segment(*first)?;
        }
        Ok(r)
    }

    /// Whether a segment is open (false only while the journal has no segment yet).
    pub(crate) fn has_segment(&self) -> bool {
        self.cur.is_some()
    }

    /// Records below `seq` will be skipped.
    pub(crate) fn skip_below(&mut self, seq: u64) {
        self.from_seq = seq;
    }

    /// Sequence of the next record this reader will return.
    pub fn next_seq(&self) -> u64 {
        self.next_seq.max(self.from_seq)
    }

    fn load_segment(&mut self, first_seq: u64) -> Result<(), ReadError> {
        let path = self.dir.join(segment_file_name(first_seq));
        let seg = Segment::open_ro(&path).map_err(io(&path))?;
        let h = SegmentHeader::decode(seg.bytes(0, SEG_HEADER_LEN))
            .map_err(|problem| ReadError::BadHeader { path: path.clone(), problem })?;
        if let Some(expected) = self.schema_hash {
            if h.schema_hash != expected {
                return Err(ReadError::SchemaMismatch { path, expected, found: h.schema_hash });
            }
        }
        if h.first_seq != first_seq {
            return Err(ReadError::Corrupt {
                location: Location { segment: path, offset: 0, seq: first_seq },
                reason: format!("header says first seq {}", h.first_seq),
            });
        }
        self.cur = Some(OpenSegment { seg, first_seq, index: vec![(first_seq, SEG_HEADER_LEN)] });
        self.pos = SEG_HEADER_LEN;
        self.next_seq = first_seq;
        Ok(())
    }

    /// Positions the reader so that the next record returned is `seq` (or the first one
    /// after it that exists, once written). Uses the segment file names to find the
    /// segment and a sparse index of frame offsets inside it.
    pub fn seek(&mut self, seq: u64) -> Result<(), ReadError> {
        let (segs, _) = list_dir(&self.dir).map_err(io(&self.dir))?;
        let i = segs.partition_point(|(first, _)| *first <= seq);
        if i == 0 {
            return Err(ReadError::NoSuchSeq(seq));
        }
        let first = segs[i - 1].0;
        if self.cur.as_ref().map(|c| c.first_seq) != Some(first) {
            self.load_segment(first)?;
        }
        self.from_seq = seq;
        // Extend the sparse index by hopping frame headers (cheap: no checksums) up to `seq`.
        let cur = self.cur.as_mut().expect("loaded");
        let (mut s, mut off) = *cur.index.last().expect("non-empty");
        while s < seq {
            let len = cur.seg.load_frame_len(off) as usize;
            if len < REC_HEADER_LEN || len > cur.seg.len() - off {
                break; // end of published data (or damage, reported by `next`)
            }
            let kind = u16::from_le_bytes(
                cur.seg.bytes(off + crate::layout::REC_KIND_OFF, 2).try_into().expect("2"),
            );
            if kind == RecordKind::SEGMENT_END.0 {
                break;
            }
            off += len;
            s += 1;
            if (s - cur.first_seq) % INDEX_STRIDE == 0 {
                cur.index.push((s, off));
            }
        }
        let k = cur.index.partition_point(|(s, _)| *s <= seq) - 1;
        let (s, off) = cur.index[k];
        self.next_seq = s;
        self.pos = off;
        Ok(())
    }

    /// Returns the next record, `Ok(None)` at the current end of the journal.
    ///
    /// The common case (the next frame is a valid record of the current segment, with the
    /// expected sequence, and nothing is being skipped) is [`Reader::next_in_segment`],
    /// small enough to inline into a replay loop; anything else (end of the journal,
    /// segment end, damage, a seek's skipping) goes to [`Reader::advance`], which checks
    /// the frame again and says what it found.
    #[allow(clippy::should_implement_trait)] // a lending iterator: records borrow the reader
    #[inline(always)]
    pub fn next(&mut self) -> Result<Option<Record<'_>>, ReadError> {
        // Both paths meet in a `FastRecord` (plain words), so that the fast one keeps the
        // record in registers when this inlines into a loop.
        let f = match self.next_in_segment() {
            Some(f) => f,
            None => match self.next_slow()? {
                Some(f) => f,
                None => return Ok(None),
            },
        };
        let cur = self.cur.as_ref().expect("the frame was found in the current segment");
        // SAFETY: `next_in_segment` or `advance` just found a valid frame at `f.off` with
        // this payload length in the current segment.
        let payload = unsafe { cur.seg.frame_payload(f.off, f.payload_len) };
        Ok(Some(Record { seq: f.seq, kind: f.kind, ts_ns: f.ts_ns, payload }))
    }

    #[cold]
    #[inline(never)]
    fn next_slow(&mut self) -> Result<Option<FastRecord>, ReadError> {
        Ok(self.advance()?.map(|l| FastRecord {
            off: l.off,
            seq: l.seq,
            kind: l.kind,
            ts_ns: l.ts_ns,
            payload_len: l.payload_len,
        }))
    }

    /// Moves past the next frame if it is a valid record of the current segment with the
    /// expected sequence and at or after `from_seq`; `None` leaves the reader unchanged.
    ///
    /// It accepts exactly the frames [`Segment::check_frame`] finds `Valid` that
    /// `advance` would return (tested against it in `fast_path_agrees_with_check_frame`),
    /// with the checks folded together:
    ///
    /// - `frame_len == frame_len_for(payload_len)` also says `frame_len` is non-zero, at
    ///   least a header and a multiple of 8, so that `pos` stays 8-aligned;
    /// - `(w1 >> 32) - 1 < 0xfffe` says the flags are zero and the kind is neither 0 nor
    ///   `SEGMENT_END`.
    #[inline(always)]
    fn next_in_segment(&mut self) -> Option<FastRecord> {
        let cur = self.cur.as_mut()?;
        let off = self.pos;
        // `pos` is always 8-aligned and inside the segment (it only moves past valid
        // frames); checked anyway, as the reads below rely on it (a few instructions).
        let room = cur.seg.len().wrapping_sub(off);
        if room < REC_HEADER_LEN || room > cur.seg.len() || off % 8 != 0 {
            return None;
        }
        // SAFETY: `[off, off + 32)` is inside the mapping and 8-aligned (checked above;
        // the base is page-aligned); the writer stores the first word with a Release store
        // through the same atomic view, and writes the rest of the frame before it, so
        // after the Acquire load the header is published when `frame_len` is not zero (and
        // `frame_len == 0` is refused below).
        let (frame_len, h) = unsafe {
            let p = cur.seg.base().add(off);
            let frame_len = (*(p as *const AtomicU32)).load(Ordering::Acquire) as usize;
            (frame_len, std::ptr::read(p as *const [u64; REC_HEADER_LEN / 8]))
        };
        const _: () = assert!(REC_CRC_OFF == 4 && REC_PAYLOAD_LEN_OFF == 8);
        const _: () = assert!(REC_KIND_OFF == 12 && REC_FLAGS_OFF == 14);
        const _: () = assert!(REC_SEQ_OFF == 16 && REC_TS_OFF == 24);
        let (w0, w1) = (u64::from_le(h[0]), u64::from_le(h[1]));
        let payload_len = w1 as u32 as usize;
        let seq = u64::from_le(h[2]);
        if frame_len_for(payload_len) != frame_len
            || frame_len > room
            || (w1 >> 32).wrapping_sub(1) >= u64::from(RecordKind::SEGMENT_END.0 - 1)
            || seq != self.next_seq
            || seq < self.from_seq
        {
            return None;
        }
        // SAFETY: `[off + 8, off + frame_len)` is inside the mapping (checked above) and
        // published (non-zero `frame_len`, Acquire above); published frames are immutable.
        let covered = unsafe {
            std::slice::from_raw_parts(
                cur.seg.base().add(off + REC_PAYLOAD_LEN_OFF),
                frame_len - REC_PAYLOAD_LEN_OFF,
            )
        };
        if crate::crc::frame_crc(covered) != (w0 >> 32) as u32 {
            return None;
        }
        let header = FrameHeader {
            frame_len: frame_len as u32,
            payload_len: payload_len as u32,
            kind: RecordKind((w1 >> 32) as u16),
            seq,
            ts_ns: u64::from_le(h[3]),
        };
        cur.step_over(&header, &mut self.pos, &mut self.next_seq);
        Some(FastRecord { off, seq, kind: header.kind, ts_ns: header.ts_ns, payload_len })
    }

    pub(crate) fn record_at(&self, l: Located) -> Record<'_> {
        let cur = self.cur.as_ref().expect("located in the current segment");
        Record {
            seq: l.seq,
            kind: l.kind,
            ts_ns: l.ts_ns,
            payload: cur.seg.bytes(l.off + REC_HEADER_LEN, l.payload_len),
        }
    }

    /// Moves past the next published record and says where it is.
    pub(crate) fn advance(&mut self) -> Result<Option<Located>, ReadError> {
        loop {
            let Some(cur) = self.cur.as_mut() else {
                // Nothing existed at open: look again.
                let (segs, _) = list_dir(&self.dir).map_err(io(&self.dir))?;
                match segs.first() {
                    Some((first, _)) => {
                        self.load_segment(*first)?;
                        continue;
                    }
                    None => return Ok(None),
                }
            };
            let location = |reason: String| ReadError::Corrupt {
                location: Location {
                    segment: cur.seg.path().to_path_buf(),
                    offset: self.pos as u64,
                    seq: self.next_seq,
                },
                reason,
            };
            match cur.seg.check_frame(self.pos) {
                Frame::Empty => return Ok(None),
                Frame::Invalid(reason) => return Err(location(reason.into())),
                Frame::Valid(h) if h.kind == RecordKind::SEGMENT_END => {
                    if h.seq != self.next_seq {
                        return Err(location(format!("end marker names seq {}", h.seq)));
                    }
                    let path = self.dir.join(segment_file_name(h.seq));
                    if !path.exists() {
                        return Ok(None); // not created (or not renamed) yet
                    }
                    self.load_segment(h.seq)?;
                }
                Frame::Valid(h) => {
                    if h.seq != self.next_seq {
                        return Err(location(format!("sequence gap: found seq {}", h.seq)));
                    }
                    let l = cur.step_over(&h, &mut self.pos, &mut self.next_seq);
                    if h.seq >= self.from_seq {
                        return Ok(Some(l));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Journal};

    /// A record as both paths see it.
    type Seen = (u64, u16, u64, Vec<u8>);

    /// The records the fast path returns (until it declines), and those `advance` (the
    /// checks of `Segment::check_frame`) returns until it reports the end or an error.
    fn both_ways(dir: &Path) -> (Vec<Seen>, Vec<Seen>) {
        let mut fast = Vec::new();
        let mut r = Reader::open(dir).unwrap();
        while let Some(f) = r.next_in_segment() {
            let cur = r.cur.as_ref().unwrap();
            fast.push((
                f.seq,
                f.kind.0,
                f.ts_ns,
                cur.seg.bytes(f.off + 32, f.payload_len).to_vec(),
            ));
        }
        let mut slow = Vec::new();
        let mut r = Reader::open(dir).unwrap();
        while let Ok(Some(l)) = r.advance() {
            let rec = r.record_at(l);
            slow.push((rec.seq, rec.kind.0, rec.ts_ns, rec.payload.to_vec()));
        }
        (fast, slow)
    }

    #[test]
    fn fast_path_agrees_with_check_frame() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { segment_size: 1 << 16, ..Config::default() };
        let mut j = Journal::open(dir.path(), config).unwrap();
        for i in 0..12u64 {
            let payload: Vec<u8> = (0..(i * 13 % 40) as u8).collect();
            j.append(RecordKind(1 + (i % 3) as u16), 1000 + i, &payload).unwrap();
        }
        j.sync().unwrap();
        drop(j);
        let (segs, _) = list_dir(dir.path()).unwrap();
        assert_eq!(segs.len(), 1, "one segment");
        let path = dir.path().join(segment_file_name(segs[0].0));
        let orig = std::fs::read(&path).unwrap();
        let (fast, slow) = both_ways(dir.path());
        assert_eq!(fast.len(), 12);
        assert_eq!(fast, slow);

        // Damage every header byte of the first frames, and a few payload bytes, with the
        // checksum left as it was and recomputed (so that only the header checks stand
        // between the damage and the reader).
        let mut frames = vec![SEG_HEADER_LEN];
        for _ in 0..3 {
            let off = *frames.last().unwrap();
            frames.push(off + u32::from_le_bytes(orig[off..off + 4].try_into().unwrap()) as usize);
        }
        let mut cases = 0;
        let mut declined = 0;
        for &off in &frames[..3] {
            for at in (0..REC_HEADER_LEN).chain([REC_HEADER_LEN, REC_HEADER_LEN + 3]) {
                for value in [orig[off + at] ^ 1, orig[off + at] ^ 0x80, 0, 0xff, 0xfe, 0x20] {
                    for fix_crc in [false, true] {
                        let mut b = orig.clone();
                        b[off + at] = value;
                        let frame_len =
                            u32::from_le_bytes(b[off..off + 4].try_into().unwrap()) as usize;
                        if fix_crc && frame_len >= 8 && off + frame_len <= b.len() {
                            let crc = crc32c::crc32c(&b[off + 8..off + frame_len]);
                            b[off + 4..off + 8].copy_from_slice(&crc.to_le_bytes());
                        }
                        std::fs::write(&path, &b).unwrap();
                        let (fast, slow) = both_ways(dir.path());
                        assert_eq!(
                            fast, slow,
                            "byte {at} of the frame at {off} set to {value:#x}, crc fixed: {fix_crc}"
                        );
                        cases += 1;
                        declined += usize::from(fast.len() < 12);
                    }
                }
            }
        }
        // Both answers were exercised.
        assert!(declined > 0 && declined < cases, "{declined} of {cases}");
    }
}
