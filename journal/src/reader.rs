//! Reading a journal: iterate from any sequence, validating every frame's checksum and
//! sequence continuity, with a sparse per-segment index for fast seeks.
//!
//! A reader never writes. It sees a live journal up to the last published record; a
//! [`crate::Tailer`] adds waiting on top.

use std::path::{Path, PathBuf};

use crate::error::{Location, ReadError};
use crate::layout::FrameHeader;
use crate::layout::{REC_HEADER_LEN, RecordKind, SEG_HEADER_LEN, SegmentHeader};
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
    /// The record `advance_in_segment` moved past last.
    last: Located,
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
            last: Located { off: 0, seq: 0, kind: RecordKind(0), ts_ns: 0, payload_len: 0 },
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
    #[allow(clippy::should_implement_trait)] // a lending iterator: records borrow the reader
    #[inline]
    pub fn next(&mut self) -> Result<Option<Record<'_>>, ReadError> {
        if self.advance_in_segment().is_some() {
            let cur = self.cur.as_ref().expect("advanced in it");
            // SAFETY: `advance_in_segment` just found a valid frame at `last.off` with this
            // payload length.
            let payload = unsafe { cur.seg.frame_payload(self.last.off, self.last.payload_len) };
            let l = self.last;
            return Ok(Some(Record { seq: l.seq, kind: l.kind, ts_ns: l.ts_ns, payload }));
        }
        Ok(self.advance()?.map(|l| self.record_at(l)))
    }

    /// The common case of [`Reader::advance`], kept small so that it inlines into a
    /// replay loop: the next frame is a valid record of the current segment with the
    /// expected sequence and nothing is being skipped; it is left in `self.last`.
    /// Anything else (end of the journal, segment end, damage, a seek's skipping) is left
    /// to `advance`, which checks the frame again and says what it found.
    #[inline]
    fn advance_in_segment(&mut self) -> Option<()> {
        let cur = self.cur.as_mut()?;
        let Frame::Valid(h) = cur.seg.check_frame(self.pos) else { return None };
        if h.kind == RecordKind::SEGMENT_END || h.seq != self.next_seq || h.seq < self.from_seq {
            return None;
        }
        self.last = cur.step_over(&h, &mut self.pos, &mut self.next_seq);
        Some(())
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
