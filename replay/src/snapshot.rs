//! Snapshot files: a core's state at a journal sequence, so recovery replays only what
//! came after it (design §7).
//!
//! # Files
//! `<journal dir>/snapshots/snapshot-<seq>.bin`, `<seq>` zero-padded to 20 digits so names
//! sort by sequence. Each file is a fixed header followed by the body the
//! [`SnapshotCodec`] wrote (the engine's own encoding, which carries and checks its own
//! digest).
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 8 | magic `KEELSNAP` |
//! | 8 | 4 | format version ([`SNAPSHOT_VERSION`]), LE |
//! | 12 | 4 | header length ([`HEADER_LEN`]), LE |
//! | 16 | 8 | [`SCHEMA_HASH`] of the journal's records, LE |
//! | 24 | 8 | journal sequence of the last input applied, LE |
//! | 32 | 8 | core time (`Core::now`, UTC ns), LE |
//! | 40 | 8 | body length in bytes, LE |
//! | 48 | 32 | `Core::digest` of the state |
//! | 80 | 4 | CRC32C of the body, LE |
//! | 84 | 4 | CRC32C of bytes 0..84, LE |
//!
//! # Durability
//! Written to `snapshot-<seq>.bin.tmp`, fsynced, renamed into place and the directory
//! fsynced: after a crash a snapshot file is either absent or whole. A `.tmp` file left
//! by a crash is ignored (and removed by the next [`write_snapshot`]).
//!
//! # Recovery
//! [`load_newest`] tries snapshots newest first and takes the first that validates: the
//! header (magic, version, CRC, schema hash, sequence matching the file name), the body's
//! CRC, the codec's own checks, the rebuilt core's digest against the header, and the
//! journal holding an input at the snapshot's sequence. Every refusal is reported with
//! its reason; when none validates, recovery starts from the beginning of the journal.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use keel_engine::core::{Core, CoreConfig};
use keel_engine::schema::SCHEMA_HASH;
use keel_journal::{Reader, RecordKind};

use crate::error::RecoverError;
use crate::recover::Until;

/// Magic at the start of every snapshot file.
pub const MAGIC: [u8; 8] = *b"KEELSNAP";
/// Format version of the header.
pub const SNAPSHOT_VERSION: u32 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 88;
/// Name of the snapshot directory inside the journal directory.
pub const SNAPSHOT_DIR: &str = "snapshots";

const OFF_VERSION: usize = 8;
const OFF_HEADER_LEN: usize = OFF_VERSION + 4;
const OFF_SCHEMA: usize = OFF_HEADER_LEN + 4;
const OFF_SEQ: usize = OFF_SCHEMA + 8;
const OFF_NOW: usize = OFF_SEQ + 8;
const OFF_BODY_LEN: usize = OFF_NOW + 8;
const OFF_DIGEST: usize = OFF_BODY_LEN + 8;
const OFF_BODY_CRC: usize = OFF_DIGEST + 32;
const OFF_HEADER_CRC: usize = OFF_BODY_CRC + 4;
const _: () = assert!(OFF_HEADER_CRC + 4 == HEADER_LEN);
const _: () = assert!(HEADER_LEN % 8 == 0);

/// How a core's state becomes bytes and back. The engine's implementation is
/// `Core::write_snapshot` / `Core::read_snapshot` ([`EngineCodec`]); tests may use their
/// own.
pub trait SnapshotCodec {
    /// Writes the core's state.
    fn write(&self, core: &Core, w: &mut dyn Write) -> io::Result<()>;
    /// Rebuilds a core from bytes written by [`SnapshotCodec::write`] with the same
    /// configuration.
    fn read(
        &self,
        config: &CoreConfig,
        bytes: &[u8],
    ) -> Result<Core, Box<dyn std::error::Error + Send + Sync>>;
}

/// The engine's snapshot encoding: `Core::write_snapshot` / `Core::read_snapshot`, whose
/// body carries its own digest and configuration fingerprint, checked on read.
#[derive(Clone, Copy, Debug, Default)]
pub struct EngineCodec;

impl SnapshotCodec for EngineCodec {
    fn write(&self, core: &Core, mut w: &mut dyn Write) -> io::Result<()> {
        core.write_snapshot(&mut w)
    }
    fn read(
        &self,
        config: &CoreConfig,
        bytes: &[u8],
    ) -> Result<Core, Box<dyn std::error::Error + Send + Sync>> {
        Core::read_snapshot(config, bytes).map_err(|e| Box::new(e) as _)
    }
}

/// Writing a snapshot failed; no snapshot file was created.
#[derive(Debug, thiserror::Error)]
#[error("writing snapshot {path}: {source}")]
pub struct WriteSnapshotError {
    /// The file being written.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: io::Error,
}

/// The snapshot directory of a journal directory.
pub fn snapshot_dir(journal_dir: &Path) -> PathBuf {
    journal_dir.join(SNAPSHOT_DIR)
}

/// The file name of the snapshot at `seq`.
pub fn snapshot_file_name(seq: u64) -> String {
    format!("snapshot-{seq:020}.bin")
}

/// The sequence in a snapshot file name.
pub fn parse_snapshot_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".bin")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The snapshot files of a journal, newest first.
pub fn list_snapshots(journal_dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let dir = snapshot_dir(journal_dir);
    let mut found = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if let Some(seq) = parse_snapshot_file_name(&entry.file_name().to_string_lossy()) {
            found.push((seq, entry.path()));
        }
    }
    found.sort_by_key(|s| std::cmp::Reverse(s.0));
    Ok(found)
}

/// The decoded header of a snapshot file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// Header format version.
    pub version: u32,
    /// Schema hash of the journal's records.
    pub schema_hash: u64,
    /// Journal sequence of the last input applied.
    pub seq: u64,
    /// Core time.
    pub now_ns: u64,
    /// Body length.
    pub body_len: u64,
    /// The core's digest.
    pub digest: [u8; 32],
    /// CRC32C of the body.
    pub body_crc: u32,
}

impl SnapshotHeader {
    /// The header's bytes, with its CRC.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(&MAGIC);
        b[OFF_VERSION..][..4].copy_from_slice(&self.version.to_le_bytes());
        b[OFF_HEADER_LEN..][..4].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        b[OFF_SCHEMA..][..8].copy_from_slice(&self.schema_hash.to_le_bytes());
        b[OFF_SEQ..][..8].copy_from_slice(&self.seq.to_le_bytes());
        b[OFF_NOW..][..8].copy_from_slice(&self.now_ns.to_le_bytes());
        b[OFF_BODY_LEN..][..8].copy_from_slice(&self.body_len.to_le_bytes());
        b[OFF_DIGEST..][..32].copy_from_slice(&self.digest);
        b[OFF_BODY_CRC..][..4].copy_from_slice(&self.body_crc.to_le_bytes());
        let crc = crc32c::crc32c(&b[..OFF_HEADER_CRC]);
        b[OFF_HEADER_CRC..][..4].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and checks a header (magic, CRC, version, length); the schema hash and
    /// sequence are checked by the caller, who knows what to expect.
    pub fn decode(b: &[u8]) -> Result<SnapshotHeader, String> {
        if b.len() < HEADER_LEN {
            return Err(format!("file of {} bytes is shorter than the header", b.len()));
        }
        if b[..8] != MAGIC {
            return Err("bad magic".into());
        }
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        let crc = crc32c::crc32c(&b[..OFF_HEADER_CRC]);
        if crc != u32_at(OFF_HEADER_CRC) {
            return Err(format!(
                "header CRC32C mismatch (stored {:#010x}, computed {crc:#010x})",
                u32_at(OFF_HEADER_CRC)
            ));
        }
        let version = u32_at(OFF_VERSION);
        if version != SNAPSHOT_VERSION {
            return Err(format!("format version {version}, this build reads {SNAPSHOT_VERSION}"));
        }
        if u32_at(OFF_HEADER_LEN) as usize != HEADER_LEN {
            return Err(format!("header length {}", u32_at(OFF_HEADER_LEN)));
        }
        Ok(SnapshotHeader {
            version,
            schema_hash: u64_at(OFF_SCHEMA),
            seq: u64_at(OFF_SEQ),
            now_ns: u64_at(OFF_NOW),
            body_len: u64_at(OFF_BODY_LEN),
            digest: b[OFF_DIGEST..OFF_DIGEST + 32].try_into().expect("32 bytes"),
            body_crc: u32_at(OFF_BODY_CRC),
        })
    }
}

/// Writes a snapshot of `core`, whose last applied input is journal record `seq`, into
/// `<journal_dir>/snapshots/` (temp file, fsync, rename, directory fsync). Returns its path.
pub fn write_snapshot(
    journal_dir: &Path,
    seq: u64,
    core: &Core,
    codec: &dyn SnapshotCodec,
) -> Result<PathBuf, WriteSnapshotError> {
    let path = snapshot_dir(journal_dir).join(snapshot_file_name(seq));
    let bytes = encode_snapshot(seq, core, codec)
        .map_err(|source| WriteSnapshotError { path: path.clone(), source })?;
    store_snapshot(journal_dir, seq, &bytes)
}

/// The bytes of a snapshot file (header and body) for `core` at input `seq`. The part of
/// [`write_snapshot`] that needs the core: the pipeline runs it on the core thread and
/// leaves the file I/O ([`store_snapshot`]) to another.
pub fn encode_snapshot(seq: u64, core: &Core, codec: &dyn SnapshotCodec) -> io::Result<Vec<u8>> {
    let mut file = vec![0u8; HEADER_LEN];
    codec.write(core, &mut file)?;
    let body = &file[HEADER_LEN..];
    let header = SnapshotHeader {
        version: SNAPSHOT_VERSION,
        schema_hash: SCHEMA_HASH,
        seq,
        now_ns: core.now().0,
        body_len: body.len() as u64,
        digest: core.digest().0,
        body_crc: crc32c::crc32c(body),
    };
    file[..HEADER_LEN].copy_from_slice(&header.encode());
    Ok(file)
}

/// Stores the bytes [`encode_snapshot`] made as `<journal_dir>/snapshots/snapshot-<seq>.bin`,
/// crash-safely (temp file, fsync, rename, directory fsync). Returns its path.
pub fn store_snapshot(
    journal_dir: &Path,
    seq: u64,
    bytes: &[u8],
) -> Result<PathBuf, WriteSnapshotError> {
    let dir = snapshot_dir(journal_dir);
    let path = dir.join(snapshot_file_name(seq));
    let tmp = dir.join(format!("{}.tmp", snapshot_file_name(seq)));
    let fail = |p: &Path| {
        let p = p.to_path_buf();
        move |source| WriteSnapshotError { path: p, source }
    };
    fs::create_dir_all(&dir).map_err(fail(&dir))?;
    // Leftovers of an interrupted write.
    if let Ok(entries) = fs::read_dir(&dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().ends_with(".bin.tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
    let mut file = File::create(&tmp).map_err(fail(&tmp))?;
    file.write_all(bytes).map_err(fail(&tmp))?;
    file.sync_all().map_err(fail(&tmp))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(fail(&path))?;
    File::open(&dir).and_then(|d| d.sync_all()).map_err(fail(&dir))?;
    Ok(path)
}

/// Removes all but the newest `keep` snapshot files (at least one is always kept).
/// Returns how many were removed.
pub fn prune_snapshots(journal_dir: &Path, keep: usize) -> io::Result<usize> {
    let mut removed = 0;
    for (_, path) in list_snapshots(journal_dir)?.into_iter().skip(keep.max(1)) {
        fs::remove_file(path)?;
        removed += 1;
    }
    Ok(removed)
}

/// A snapshot that was not used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotRejection {
    /// Its file.
    pub path: PathBuf,
    /// Why it was refused.
    pub reason: String,
}

impl std::fmt::Display for SnapshotRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// A snapshot that validated, with a reader positioned just after its input.
pub struct LoadedSnapshot {
    /// The rebuilt core.
    pub core: Core,
    /// The journal sequence of its last input.
    pub seq: u64,
    /// Its file.
    pub path: PathBuf,
    /// A reader whose next record is `seq + 1`.
    pub reader: Reader,
}

/// What [`load_newest`] found.
pub struct Loaded {
    /// The newest snapshot that validated.
    pub found: Option<LoadedSnapshot>,
    /// Newer snapshots that did not, with why.
    pub rejections: Vec<SnapshotRejection>,
}

/// Validates one snapshot file and rebuilds its core.
pub fn load_snapshot(
    path: &Path,
    expected_seq: Option<u64>,
    config: &CoreConfig,
    codec: &dyn SnapshotCodec,
) -> Result<(SnapshotHeader, Core), String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let h = SnapshotHeader::decode(&bytes)?;
    if h.schema_hash != SCHEMA_HASH {
        return Err(format!(
            "schema hash {:#018x}, this build's records are {SCHEMA_HASH:#018x}",
            h.schema_hash
        ));
    }
    if let Some(seq) = expected_seq {
        if h.seq != seq {
            return Err(format!("header says seq {}, file name says {seq}", h.seq));
        }
    }
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != h.body_len {
        return Err(format!("body is {} bytes, header says {}", body.len(), h.body_len));
    }
    let crc = crc32c::crc32c(body);
    if crc != h.body_crc {
        return Err(format!(
            "body CRC32C mismatch (stored {:#010x}, computed {crc:#010x})",
            h.body_crc
        ));
    }
    let core = codec.read(config, body).map_err(|e| format!("engine refused the body: {e}"))?;
    if core.digest().0 != h.digest {
        return Err("the rebuilt core's digest differs from the header's".into());
    }
    Ok((h, core))
}

/// Tries the snapshots of `journal_dir` newest first (skipping those past `until`) and
/// returns the first that validates, with the ones refused before it.
pub fn load_newest(
    journal_dir: &Path,
    config: &CoreConfig,
    codec: &dyn SnapshotCodec,
    until: Until,
) -> Result<Loaded, RecoverError> {
    let list = list_snapshots(journal_dir)
        .map_err(|source| RecoverError::Snapshots { path: snapshot_dir(journal_dir), source })?;
    let mut rejections = Vec::new();
    for (seq, path) in list {
        if let Until::Seq(s) = until {
            if seq > s {
                continue;
            }
        }
        let reject = |reason: String| SnapshotRejection { path: path.clone(), reason };
        let (h, core) = match load_snapshot(&path, Some(seq), config, codec) {
            Ok(x) => x,
            Err(reason) => {
                rejections.push(reject(reason));
                continue;
            }
        };
        if let Until::Time(t) = until {
            if h.now_ns > t {
                continue;
            }
        }
        match reader_after(journal_dir, seq) {
            Ok(reader) => {
                return Ok(Loaded {
                    found: Some(LoadedSnapshot { core, seq, path, reader }),
                    rejections,
                });
            }
            Err(reason) => rejections.push(reject(reason)),
        }
    }
    Ok(Loaded { found: None, rejections })
}

/// A reader positioned after the input at `seq`, which must exist.
fn reader_after(journal_dir: &Path, seq: u64) -> Result<Reader, String> {
    let mut reader = Reader::open_with_schema(journal_dir, SCHEMA_HASH)
        .map_err(|e| format!("cannot open the journal: {e}"))?;
    reader.seek(seq).map_err(|e| format!("the journal has no record {seq}: {e}"))?;
    match reader.next() {
        Ok(Some(rec)) if rec.seq == seq && rec.kind == RecordKind::INPUT => Ok(reader),
        Ok(Some(rec)) => Err(format!(
            "journal record {} is of kind {:?}, not the input the snapshot names",
            rec.seq, rec.kind
        )),
        Ok(None) => Err(format!("the journal ends before seq {seq}")),
        Err(e) => Err(format!("journal read at seq {seq} failed: {e}")),
    }
}
