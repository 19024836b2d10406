//! Scanning a segment on open: checksums, sequence continuity, and the torn-tail rule.
//!
//! A bad frame (non-zero length that fails a check, or a zero length) with **nothing
//! valid after it** is a torn tail: the writer died mid-append. It is cut off by zeroing
//! it. A bad frame **followed by any valid frame** is corruption: opening fails and names
//! the segment, byte offset and sequence.

use crate::error::Location;
use crate::layout::{REC_HEADER_LEN, RecordKind, SEG_HEADER_LEN};
use crate::segment::{Frame, Segment};

/// What a scan of one segment found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentScan {
    pub first_seq: u64,
    /// Number of records (end marker excluded).
    pub records: u64,
    /// Sequence the next record would get.
    pub next_seq: u64,
    /// End offset of the last valid frame (end marker included).
    pub end: usize,
    /// `Some(next segment's first seq)` when the segment ends with an end marker.
    pub sealed_next: Option<u64>,
    pub first_ts_ns: Option<u64>,
    pub last_ts_ns: Option<u64>,
    /// A torn tail `[end, end + bytes)` that recovery must cut.
    pub torn: Option<TornTail>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TornTail {
    pub offset: usize,
    pub bytes: usize,
    pub reason: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corruption {
    pub location: Location,
    pub reason: String,
}

/// Scans every frame of `seg`, which starts at `first_seq`.
pub fn scan_segment(seg: &Segment, first_seq: u64) -> Result<SegmentScan, Corruption> {
    let mut s = SegmentScan {
        first_seq,
        records: 0,
        next_seq: first_seq,
        end: SEG_HEADER_LEN,
        sealed_next: None,
        first_ts_ns: None,
        last_ts_ns: None,
        torn: None,
    };
    let corrupt = |off: usize, seq: u64, reason: String| Corruption {
        location: Location { segment: seg.path().to_path_buf(), offset: off as u64, seq },
        reason,
    };
    let bad: Option<&'static str> = loop {
        match seg.check_frame(s.end) {
            Frame::Empty => break None,
            Frame::Invalid(reason) => break Some(reason),
            Frame::Valid(h) if h.kind == RecordKind::SEGMENT_END => {
                if h.seq != s.next_seq {
                    return Err(corrupt(
                        s.end,
                        s.next_seq,
                        format!("end marker names seq {}", h.seq),
                    ));
                }
                s.end += h.frame_len as usize;
                s.sealed_next = Some(h.seq);
                return Ok(s);
            }
            Frame::Valid(h) => {
                if h.seq != s.next_seq {
                    return Err(corrupt(
                        s.end,
                        s.next_seq,
                        format!(
                            "sequence gap: found seq {} where {} was expected",
                            h.seq, s.next_seq
                        ),
                    ));
                }
                s.first_ts_ns.get_or_insert(h.ts_ns);
                s.last_ts_ns = Some(h.ts_ns);
                s.records += 1;
                s.next_seq += 1;
                s.end += h.frame_len as usize;
            }
        }
    };
    let junk_end = seg.last_nonzero_end(s.end);
    if bad.is_none() && junk_end == s.end {
        return Ok(s); // clean end: zeros all the way
    }
    // Anything valid after the bad frame makes it corruption, not a torn tail.
    let mut off = s.end + 8;
    while off + REC_HEADER_LEN <= junk_end {
        if let Frame::Valid(h) = seg.check_frame(off) {
            let reason = match bad {
                Some(r) => format!("{r}; a valid frame (seq {}) follows at offset {off}", h.seq),
                None => {
                    format!("zeroed frame; a valid frame (seq {}) follows at offset {off}", h.seq)
                }
            };
            return Err(corrupt(s.end, s.next_seq, reason));
        }
        off += 8;
    }
    s.torn = Some(TornTail {
        offset: s.end,
        bytes: junk_end - s.end,
        reason: bad.unwrap_or("partially written frame (length not yet published)"),
    });
    Ok(s)
}
