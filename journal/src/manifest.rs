//! The seal chain: a BLAKE3 digest per sealed segment, chained to the previous one, kept
//! in `MANIFEST`.
//!
//! `digest_k = BLAKE3(digest_{k-1} || segment_k[0 .. used_bytes])`, with
//! `digest_{-1} = [0; 32]`. The covered bytes include the segment header (schema hash,
//! first sequence) and the end marker, so altering, removing or reordering any record or
//! segment changes every later digest.
//!
//! Each manifest line is `first_seq last_seq used_bytes prev_hex digest_hex crc_hex`,
//! where `crc_hex` is the CRC32C of the line's text before it. Lines are appended with
//! `write` + `fsync`; a torn last line (crash during the append) is ignored and rewritten.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::segment::Segment;

/// Name of the manifest file in the journal directory.
pub const MANIFEST_FILE: &str = "MANIFEST";

pub type Digest = [u8; 32];

/// One sealed segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealEntry {
    pub first_seq: u64,
    /// `first_seq - 1` for a segment with no records.
    pub last_seq: u64,
    pub used_bytes: u64,
    pub prev: Digest,
    pub digest: Digest,
}

/// Computes a segment's chained digest over its first `used_bytes`.
pub fn chain_digest(prev: &Digest, seg: &Segment, used_bytes: usize) -> Digest {
    let mut h = blake3::Hasher::new();
    h.update(prev);
    h.update(seg.bytes(0, used_bytes));
    *h.finalize().as_bytes()
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex32(s: &str) -> Option<Digest> {
    if s.len() != 64 {
        return None;
    }
    let mut d = [0u8; 32];
    for (i, byte) in d.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(d)
}

impl SealEntry {
    pub fn to_line(&self) -> String {
        let body = format!(
            "{} {} {} {} {}",
            self.first_seq,
            self.last_seq,
            self.used_bytes,
            hex(&self.prev),
            hex(&self.digest)
        );
        format!("{body} {:08x}\n", crc32c::crc32c(body.as_bytes()))
    }

    pub fn parse_line(line: &str) -> Option<SealEntry> {
        let (body, crc) = line.rsplit_once(' ')?;
        if u32::from_str_radix(crc, 16).ok()? != crc32c::crc32c(body.as_bytes()) {
            return None;
        }
        let f: Vec<&str> = body.split(' ').collect();
        if f.len() != 5 {
            return None;
        }
        Some(SealEntry {
            first_seq: f[0].parse().ok()?,
            last_seq: f[1].parse().ok()?,
            used_bytes: f[2].parse().ok()?,
            prev: unhex32(f[3])?,
            digest: unhex32(f[4])?,
        })
    }
}

/// The manifest's entries, and whether a torn last line was dropped.
#[derive(Debug, Default)]
pub struct Manifest {
    pub entries: Vec<SealEntry>,
    pub torn_last_line: bool,
}

/// Reads `dir/MANIFEST` (absent means empty). A bad line that is not the last is an error.
pub fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Manifest::default()),
        Err(e) => return Err(format!("cannot read: {e}")),
    };
    let text = String::from_utf8_lossy(&text);
    let mut m = Manifest::default();
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        match SealEntry::parse_line(line) {
            Some(e) if !last || complete => {
                if let Some(p) = m.entries.last() {
                    if e.prev != p.digest || e.first_seq != p.last_seq + 1 {
                        return Err(format!("line {} does not chain to line {}", i + 1, i));
                    }
                }
                m.entries.push(e);
            }
            _ if last => m.torn_last_line = true,
            _ => return Err(format!("line {} is damaged (checksum or syntax)", i + 1)),
        }
    }
    Ok(m)
}

/// Appends to `MANIFEST` with write + fsync.
pub struct ManifestWriter {
    path: PathBuf,
    file: File,
}

impl ManifestWriter {
    /// Opens the manifest for appending, rewriting it without a torn last line if needed.
    pub fn open(dir: &Path, m: &Manifest) -> io::Result<ManifestWriter> {
        let path = dir.join(MANIFEST_FILE);
        if m.torn_last_line {
            let tmp = dir.join("MANIFEST.tmp");
            let mut f = File::create(&tmp)?;
            for e in &m.entries {
                f.write_all(e.to_line().as_bytes())?;
            }
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        crate::segment::fsync_dir(dir)?;
        Ok(ManifestWriter { path, file })
    }

    pub fn append(&mut self, e: &SealEntry) -> io::Result<()> {
        self.file.write_all(e.to_line().as_bytes())?;
        self.file.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_round_trip_and_damage() {
        let e = SealEntry {
            first_seq: 1,
            last_seq: 10,
            used_bytes: 4096,
            prev: [0; 32],
            digest: [7; 32],
        };
        let line = e.to_line();
        assert_eq!(SealEntry::parse_line(line.trim_end()), Some(e));
        let damaged = line.replacen("4096", "4097", 1);
        assert_eq!(SealEntry::parse_line(damaged.trim_end()), None);
    }
}
