//! Read-only inspection of a whole journal directory: what `keel journal info` prints and
//! what `keel journal verify` checks (headers, every checksum, sequence continuity across
//! segments, and the BLAKE3 seal chain in `MANIFEST`).

use std::path::{Path, PathBuf};

use crate::error::ReadError;
use crate::layout::{SEG_HEADER_LEN, SegmentHeader};
use crate::manifest::{self, Digest};
use crate::recovery::scan_segment;
use crate::segment::Segment;
use crate::writer::list_dir;

/// Summary of one segment.
#[derive(Clone, Debug)]
pub struct SegmentInfo {
    pub path: PathBuf,
    pub first_seq: u64,
    pub records: u64,
    pub first_ts_ns: Option<u64>,
    pub last_ts_ns: Option<u64>,
    /// Bytes in use (header + frames).
    pub used_bytes: u64,
    pub size_bytes: u64,
    pub schema_hash: u64,
    /// Ends with an end marker.
    pub sealed: bool,
    /// `Some(true)` when its manifest digest was recomputed and matched.
    pub digest_ok: Option<bool>,
}

impl SegmentInfo {
    /// Last sequence in the segment, if it has records.
    pub fn last_seq(&self) -> Option<u64> {
        (self.records > 0).then(|| self.first_seq + self.records - 1)
    }
}

/// Everything found; `problems` is empty for an intact journal.
#[derive(Clone, Debug, Default)]
pub struct Inspection {
    pub segments: Vec<SegmentInfo>,
    pub problems: Vec<String>,
}

impl Inspection {
    pub fn records(&self) -> u64 {
        self.segments.iter().map(|s| s.records).sum()
    }
    pub fn first_seq(&self) -> Option<u64> {
        self.segments.iter().find(|s| s.records > 0).map(|s| s.first_seq)
    }
    pub fn last_seq(&self) -> Option<u64> {
        self.segments.iter().rev().find_map(|s| s.last_seq())
    }
    pub fn first_ts_ns(&self) -> Option<u64> {
        self.segments.iter().find_map(|s| s.first_ts_ns)
    }
    pub fn last_ts_ns(&self) -> Option<u64> {
        self.segments.iter().rev().find_map(|s| s.last_ts_ns)
    }
}

/// Inspects `dir` without modifying it. With `check_digests`, recomputes the seal chain.
pub fn inspect(dir: impl AsRef<Path>, check_digests: bool) -> Result<Inspection, ReadError> {
    let dir = dir.as_ref();
    let (segs, _) =
        list_dir(dir).map_err(|source| ReadError::Io { path: dir.to_path_buf(), source })?;
    let mut out = Inspection::default();
    let manifest = match manifest::read_manifest(dir) {
        Ok(m) => {
            if m.torn_last_line {
                out.problems.push("MANIFEST: torn last line (repaired on next open)".into());
            }
            m.entries
        }
        Err(e) => {
            out.problems.push(format!("MANIFEST: {e}"));
            Vec::new()
        }
    };
    if segs.is_empty() {
        out.problems.push(format!("{}: no segment files", dir.display()));
    }
    let mut expected: Option<u64> = manifest.first().map(|e| e.first_seq);
    let mut chain: Digest = [0; 32];
    let mut sealed_count = 0usize;
    for (i, (first_seq, path)) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if let Some(exp) = expected {
            if *first_seq != exp {
                out.problems.push(format!(
                    "missing segment: expected one starting at seq {exp}, found {}",
                    path.display()
                ));
            }
        }
        // A segment that cannot be read is reported, and the check goes on with the next
        // one (an audit wants every damaged place, not only the first): the manifest says
        // where the next segment should start and what the chain was.
        let mut skip = |problem: String, out: &mut Inspection| {
            out.problems.push(problem);
            match manifest.get(sealed_count) {
                Some(e) if e.first_seq == *first_seq => {
                    chain = e.digest;
                    sealed_count += 1;
                    expected = Some(e.last_seq + 1);
                }
                _ => expected = None,
            }
        };
        let seg = match Segment::open_ro(path) {
            Ok(s) => s,
            Err(e) => {
                skip(format!("{}: {e}", path.display()), &mut out);
                continue;
            }
        };
        let header = match SegmentHeader::decode(seg.bytes(0, SEG_HEADER_LEN)) {
            Ok(h) => h,
            Err(p) => {
                skip(format!("{}: bad header: {p}", path.display()), &mut out);
                continue;
            }
        };
        if header.first_seq != *first_seq {
            out.problems.push(format!(
                "{}: header says first seq {}",
                path.display(),
                header.first_seq
            ));
        }
        let scan = match scan_segment(&seg, *first_seq) {
            Ok(s) => s,
            Err(c) => {
                skip(format!("corruption in {}: {}", c.location, c.reason), &mut out);
                continue;
            }
        };
        if let Some(t) = scan.torn {
            out.problems.push(format!(
                "torn tail in {} at byte offset {} (expected seq {}): {} bytes, {} (cut on next open{})",
                path.display(),
                t.offset,
                scan.next_seq,
                t.bytes,
                t.reason,
                if last { "" } else { "; but this is not the last segment: corruption" }
            ));
        }
        if scan.sealed_next.is_none() && !last {
            out.problems.push(format!("{}: not sealed, yet later segments exist", path.display()));
        }
        let mut digest_ok = None;
        if scan.sealed_next.is_some() {
            match manifest.get(sealed_count) {
                Some(e) if e.first_seq == *first_seq => {
                    if e.used_bytes != scan.end as u64
                        || e.last_seq + 1 != scan.next_seq
                        || e.prev != chain
                    {
                        out.problems.push(format!(
                            "{}: manifest entry does not match the segment",
                            path.display()
                        ));
                        digest_ok = Some(false);
                    } else if check_digests {
                        let d = manifest::chain_digest(&chain, &seg, scan.end);
                        digest_ok = Some(d == e.digest);
                        if d != e.digest {
                            out.problems.push(format!(
                                "{}: BLAKE3 seal digest mismatch (records altered, removed or reordered)",
                                path.display()
                            ));
                        }
                    }
                    chain = e.digest;
                }
                Some(e) => {
                    out.problems.push(format!(
                        "{}: manifest entry {} names a segment starting at {}",
                        path.display(),
                        sealed_count + 1,
                        e.first_seq
                    ));
                }
                None => out.problems.push(format!(
                    "{}: sealed but not in MANIFEST (sealed on next open)",
                    path.display()
                )),
            }
            sealed_count += 1;
        }
        expected = scan.sealed_next;
        out.segments.push(SegmentInfo {
            path: path.clone(),
            first_seq: *first_seq,
            records: scan.records,
            first_ts_ns: scan.first_ts_ns,
            last_ts_ns: scan.last_ts_ns,
            used_bytes: scan.end as u64,
            size_bytes: seg.len() as u64,
            schema_hash: header.schema_hash,
            sealed: scan.sealed_next.is_some(),
            digest_ok,
        });
    }
    if manifest.len() > sealed_count && out.problems.is_empty() {
        out.problems.push(format!(
            "MANIFEST has {} entries but only {sealed_count} sealed segments exist",
            manifest.len()
        ));
    }
    Ok(out)
}
