//! The single writer: [`Journal`].

use std::fs::{File, OpenOptions};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rkyv::api::low::LowSerializer;
use rkyv::rancor::Failure;
use rkyv::ser::allocator::SubAllocator;
use rkyv::ser::writer::Buffer;

use crate::error::{AppendError, CloseError, Location, OpenError, SyncError};
use crate::flusher::{self, Shared};
use crate::layout::{
    END_MARKER_LEN, REC_CRC_OFF, REC_HEADER_LEN, REC_KIND_OFF, REC_PAYLOAD_LEN_OFF, REC_SEQ_OFF,
    REC_TS_OFF, RecordKind, SEG_HEADER_LEN, SegmentHeader, frame_len_for, max_payload_len,
};
use crate::manifest::{self, Digest, ManifestWriter, SealEntry};
use crate::recovery::{SegmentScan, scan_segment};
use crate::roller::{self, Command, Roller, RollerStats};
use crate::segment::{Segment, fsync_dir, page_size, parse_segment_file_name, segment_file_name};

/// Bytes of scratch space rkyv may use while serializing (for types with out-of-line
/// fields); allocated once at open.
const RKYV_SCRATCH_LEN: usize = 4096;

/// How a journal is opened for writing.
#[derive(Clone, Debug)]
pub struct Config {
    /// Size of every new segment file in bytes: a multiple of the page size, at least two
    /// pages, at most 4 GiB.
    pub segment_size: usize,
    /// Hash of the payload schema; every segment records it and opening with another is
    /// an error.
    pub schema_hash: u64,
    /// Sequence of the first record of a new journal.
    pub first_seq: u64,
    /// How often the flusher msyncs what was appended.
    pub flush_interval: Duration,
    /// How often the roller thread looks at its mailbox.
    pub roller_poll: Duration,
    /// Prepared (preallocated, pre-faulted) segments the roller keeps ready ahead of the
    /// writer, 1..=[`MAX_SPARE_SEGMENTS`]. Each holds `segment_size` bytes of disk (or of
    /// RAM on tmpfs). More absorb longer bursts during which the roller gets no CPU; the
    /// roller's sustained rate is what keeps a roll from waiting in the long run.
    pub spare_segments: usize,
}

/// Largest [`Config::spare_segments`] accepted.
pub const MAX_SPARE_SEGMENTS: usize = 64;

impl Default for Config {
    fn default() -> Config {
        Config {
            segment_size: 64 << 20,
            schema_hash: 0,
            first_seq: 1,
            flush_interval: Duration::from_millis(2),
            roller_poll: Duration::from_millis(1),
            spare_segments: 2,
        }
    }
}

/// What opening found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segments found on disk (before any new one was started).
    pub segments: usize,
    /// Records found.
    pub records: u64,
    /// Last sequence present (`first_seq - 1` when empty).
    pub last_seq: u64,
    /// A torn tail that was cut: segment, offset and the number of bytes zeroed.
    pub torn_tail: Option<(PathBuf, u64, u64)>,
    /// Sealed segments that had no manifest entry yet and were sealed on open.
    pub resealed: usize,
    /// Whether a renamed-in-flight segment was adopted.
    pub adopted_prepared: bool,
}

/// The single writer of a journal directory.
///
/// # Durability contract
///
/// * `append` returns once the record is in the shared mapping, i.e. in the kernel's page
///   cache. **A process crash** (panic, `SIGKILL`, OOM kill) loses nothing that `append`
///   returned: the kernel writes the pages back. A record that was half-written when the
///   process died has no published length; recovery cuts it as a torn tail.
/// * **A power loss or kernel crash** keeps exactly the records up to the durable sequence
///   ([`Journal::durable_seq`]): the flusher thread msyncs every `flush_interval` and only
///   then advances it. Records after it may be lost; the kernel may also have written some
///   of their pages back out of order, which recovery reports as corruption rather than
///   guessing (see `docs/journal-format.md`).
/// * [`Journal::sync`] forces a flush and waits; [`Journal::wait_durable`] (or a
///   [`Durability`] handle on another thread) waits for a given sequence, so a caller can
///   hold outputs until their inputs are durable.
/// * An msync/fsync error **poisons** the journal: every later `append` fails with
///   [`AppendError::Poisoned`] and the durable sequence never advances again, so nothing
///   is acknowledged after an I/O error (Linux may drop dirty pages after a failed
///   writeback; retrying would be lying).
/// * Segment files are created and renamed with a directory fsync; seal digests go to
///   `MANIFEST` with write + fsync.
///
/// # Example
///
/// ```
/// use keel_journal::{Config, Journal, Reader, RecordKind};
///
/// let dir = tempfile::tempdir().unwrap();
/// let config = Config { segment_size: 1 << 16, schema_hash: 0xfeed, ..Config::default() };
/// let mut journal = Journal::open(dir.path(), config).unwrap();
/// let seq = journal.append(RecordKind::INPUT, 1_700_000_000_000_000_000, b"hello").unwrap();
/// journal.sync().unwrap();
/// journal.close().unwrap();
///
/// let mut reader = Reader::open(dir.path()).unwrap();
/// let rec = reader.next().unwrap().unwrap();
/// assert_eq!((rec.seq, rec.kind, rec.payload), (seq, RecordKind::INPUT, &b"hello"[..]));
/// ```
pub struct Journal {
    /// Base of the current segment's mapping (`seg.base()`, cached: one load less on the
    /// append path).
    base: *mut u8,
    /// Where the next frame goes.
    pos: usize,
    /// `seg.len() - END_MARKER_LEN`: room always left for the end marker.
    limit: usize,
    next_seq: u64,
    shared: Arc<Shared>,
    seg: Arc<Segment>,
    dir: PathBuf,
    config: Config,
    seg_first_seq: u64,
    roller: Arc<Roller>,
    flusher_thread: Option<JoinHandle<()>>,
    roller_thread: Option<JoinHandle<()>>,
    scratch: Box<[MaybeUninit<u8>]>,
    report: RecoveryReport,
    _lock: DirLock,
}

// SAFETY: `base` points into the mapping that `seg` (an `Arc` this struct holds) keeps
// alive, and is only dereferenced by methods taking `&mut self`, i.e. by whichever single
// thread owns the journal; every other field is `Send + Sync`.
unsafe impl Send for Journal {}
// SAFETY: as above: no `&self` method reads or writes through `base`.
unsafe impl Sync for Journal {}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> OpenError + '_ {
    move |source| OpenError::Io { path: path.to_path_buf(), source }
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// The exclusive lock on a journal directory (`flock` on `<dir>/LOCK`), released when
/// dropped.
///
/// Released explicitly (`LOCK_UN`), not by closing the file: an flock belongs to the open
/// file description, and a process that forks (any `Command::spawn` on another thread)
/// gives the child a copy of every descriptor until the child execs. Closing only our
/// descriptor would leave the lock held through that copy for as long as the child takes
/// to exec, so a reopen right after a drop could fail with [`OpenError::Locked`] (seen
/// under load in the journal's own tests). An explicit unlock releases it for every copy.
struct DirLock {
    file: File,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // SAFETY: flock on the valid fd this struct owns. Failure leaves the lock to be
        // released at close, as before; there is nothing better to do in a destructor.
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&self.file), libc::LOCK_UN) };
    }
}

fn lock_dir(dir: &Path) -> Result<DirLock, OpenError> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    // SAFETY: flock on a valid fd; the lock lives as long as the returned DirLock.
    let rc = unsafe {
        libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX | libc::LOCK_NB)
    };
    if rc != 0 {
        return Err(OpenError::Locked(dir.to_path_buf()));
    }
    Ok(DirLock { file })
}

/// `(first_seq, path)` of segment files, sorted.
pub(crate) type SegmentList = Vec<(u64, PathBuf)>;

/// Lists the segment files, sorted, and the prepared leftovers.
pub(crate) fn list_dir(dir: &Path) -> std::io::Result<(SegmentList, Vec<PathBuf>)> {
    let mut segs = Vec::new();
    let mut tmps = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(seq) = parse_segment_file_name(name) {
            segs.push((seq, entry.path()));
        } else if roller::is_prealloc_name(name) {
            tmps.push(entry.path());
        }
    }
    segs.sort();
    Ok((segs, tmps))
}

/// Opens and checks one segment's header.
fn open_segment(path: &Path, name_seq: u64, schema_hash: u64) -> Result<Segment, OpenError> {
    let seg = Segment::open_rw(path).map_err(io_err(path))?;
    let h = SegmentHeader::decode(seg.bytes(0, SEG_HEADER_LEN))
        .map_err(|problem| OpenError::BadHeader { path: path.to_path_buf(), problem })?;
    if h.schema_hash != schema_hash {
        return Err(OpenError::SchemaMismatch {
            path: path.to_path_buf(),
            expected: schema_hash,
            found: h.schema_hash,
        });
    }
    if h.first_seq != name_seq {
        return Err(OpenError::BadSegment {
            path: path.to_path_buf(),
            what: format!(
                "header says first seq {} but the file name says {name_seq}",
                h.first_seq
            ),
        });
    }
    if h.segment_size != seg.len() as u64 {
        return Err(OpenError::BadSegment {
            path: path.to_path_buf(),
            what: format!("header says {} bytes but the file has {}", h.segment_size, seg.len()),
        });
    }
    Ok(seg)
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir`, recovering it: checks every
    /// segment header and record, cuts a torn tail, refuses corruption, gaps and foreign
    /// schemas, and seals segments that were full but not yet in the manifest.
    pub fn open(dir: impl AsRef<Path>, config: Config) -> Result<Journal, OpenError> {
        let dir = dir.as_ref().to_path_buf();
        let page = page_size();
        if config.segment_size % page != 0
            || config.segment_size < 2 * page
            || config.segment_size > 1 << 32
        {
            return Err(OpenError::Config(format!(
                "segment_size {} must be a multiple of {page}, at least {} and at most 4 GiB",
                config.segment_size,
                2 * page
            )));
        }
        if !(1..=MAX_SPARE_SEGMENTS).contains(&config.spare_segments) {
            return Err(OpenError::Config(format!(
                "spare_segments {} must be 1..={MAX_SPARE_SEGMENTS}",
                config.spare_segments
            )));
        }
        if config.first_seq == 0 {
            return Err(OpenError::Config("first_seq must be at least 1".into()));
        }
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let lock = lock_dir(&dir)?;
        let manifest_path = dir.join(manifest::MANIFEST_FILE);
        let manifest = manifest::read_manifest(&dir)
            .map_err(|what| OpenError::Manifest { path: manifest_path.clone(), what })?;
        let roller = Arc::new(Roller::new(&dir, config.segment_size, config.spare_segments));

        let (listed, tmps) = list_dir(&dir).map_err(io_err(&dir))?;
        let mut report = RecoveryReport { segments: listed.len(), ..RecoveryReport::default() };
        let mut segs: Vec<(Segment, SegmentScan)> = Vec::with_capacity(listed.len() + 1);
        for (i, (name_seq, path)) in listed.iter().enumerate() {
            if let Some((_, prev)) = segs.last() {
                let expected_seq = prev.sealed_next.ok_or_else(|| OpenError::BadSegment {
                    path: listed[i - 1].1.clone(),
                    what: format!("not sealed, yet a later segment {} exists", path.display()),
                })?;
                if *name_seq != expected_seq {
                    return Err(OpenError::MissingSegment {
                        expected_seq,
                        found: path.display().to_string(),
                    });
                }
            } else if let Some(first) = manifest.entries.first() {
                if *name_seq != first.first_seq {
                    return Err(OpenError::MissingSegment {
                        expected_seq: first.first_seq,
                        found: path.display().to_string(),
                    });
                }
            }
            let seg = open_segment(path, *name_seq, config.schema_hash)?;
            let scan = scan_segment(&seg, *name_seq)
                .map_err(|c| OpenError::Corrupt { location: c.location, reason: c.reason })?;
            if let Some(t) = scan.torn {
                if i + 1 != listed.len() {
                    return Err(OpenError::Corrupt {
                        location: Location {
                            segment: path.clone(),
                            offset: t.offset as u64,
                            seq: scan.next_seq,
                        },
                        reason: format!("{} in a segment that is not the last", t.reason),
                    });
                }
            }
            segs.push((seg, scan));
        }
        if segs.is_empty() && !manifest.entries.is_empty() {
            return Err(OpenError::MissingSegment {
                expected_seq: manifest.entries[0].first_seq,
                found: "no segment files".into(),
            });
        }

        // A prepared segment the writer had started (header written) before the crash but
        // the roller had not renamed yet is adopted; any other leftover is removed.
        for tmp in tmps {
            let adopt = match segs.last() {
                Some((_, last)) if last.sealed_next.is_some() => {
                    let seg = Segment::open_rw(&tmp).map_err(io_err(&tmp))?;
                    match SegmentHeader::decode(seg.bytes(0, SEG_HEADER_LEN)) {
                        Ok(h) if Some(h.first_seq) == last.sealed_next => Some(h.first_seq),
                        _ => None,
                    }
                }
                _ => None,
            };
            match adopt {
                Some(first_seq) => {
                    let to = dir.join(segment_file_name(first_seq));
                    std::fs::rename(&tmp, &to).map_err(io_err(&to))?;
                    fsync_dir(&dir).map_err(io_err(&dir))?;
                    let seg = open_segment(&to, first_seq, config.schema_hash)?;
                    let scan = scan_segment(&seg, first_seq).map_err(|c| OpenError::Corrupt {
                        location: c.location,
                        reason: c.reason,
                    })?;
                    segs.push((seg, scan));
                    report.adopted_prepared = true;
                }
                None => std::fs::remove_file(&tmp).map_err(io_err(&tmp))?,
            }
        }

        // Cut a torn tail of the last segment.
        if let Some((seg, scan)) = segs.last_mut() {
            if let Some(t) = scan.torn.take() {
                seg.zero(t.offset, t.offset + t.bytes);
                seg.flush_range(t.offset, t.offset + t.bytes).map_err(io_err(seg.path()))?;
                report.torn_tail =
                    Some((seg.path().to_path_buf(), t.offset as u64, t.bytes as u64));
            }
        }
        report.records = segs.iter().map(|(_, s)| s.records).sum();

        // Seal chain: manifest entries must describe the sealed segments, in order.
        let sealed: Vec<&(Segment, SegmentScan)> =
            segs.iter().filter(|(_, s)| s.sealed_next.is_some()).collect();
        if manifest.entries.len() > sealed.len() {
            return Err(OpenError::Manifest {
                path: manifest_path,
                what: format!(
                    "{} entries but only {} sealed segments",
                    manifest.entries.len(),
                    sealed.len()
                ),
            });
        }
        for (e, (_, s)) in manifest.entries.iter().zip(&sealed) {
            if e.first_seq != s.first_seq
                || e.last_seq + 1 != s.next_seq
                || e.used_bytes != s.end as u64
            {
                return Err(OpenError::Manifest {
                    path: manifest_path.clone(),
                    what: format!(
                        "entry for seq {} does not match segment starting at {}",
                        e.first_seq, s.first_seq
                    ),
                });
            }
        }
        let mut manifest_writer =
            ManifestWriter::open(&dir, &manifest).map_err(io_err(&manifest_path))?;
        let mut chain: Digest = manifest.entries.last().map(|e| e.digest).unwrap_or([0; 32]);
        for (seg, s) in &sealed[manifest.entries.len()..] {
            seg.flush_range(0, s.end).map_err(io_err(seg.path()))?;
            let digest = manifest::chain_digest(&chain, seg, s.end);
            let entry = SealEntry {
                first_seq: s.first_seq,
                last_seq: s.next_seq - 1,
                used_bytes: s.end as u64,
                prev: chain,
                digest,
            };
            manifest_writer.append(&entry).map_err(io_err(&manifest_path))?;
            chain = digest;
            report.resealed += 1;
        }

        // The segment to write into: the last one unless it is sealed (or none exists).
        let (seg, first_seq, pos, next_seq) = match segs.pop() {
            Some((seg, s)) if s.sealed_next.is_none() => (seg, s.first_seq, s.end, s.next_seq),
            last => {
                let next_seq =
                    last.map(|(_, s)| s.sealed_next.expect("sealed")).unwrap_or(config.first_seq);
                let seg = roller.prepare().map_err(io_err(&dir))?;
                let header = SegmentHeader {
                    segment_size: config.segment_size as u64,
                    schema_hash: config.schema_hash,
                    first_seq: next_seq,
                    created_ns: now_ns(),
                };
                seg.write_at(0, &header.encode());
                let to = dir.join(segment_file_name(next_seq));
                std::fs::rename(seg.path(), &to).map_err(io_err(&to))?;
                fsync_dir(&dir).map_err(io_err(&dir))?;
                (seg, next_seq, SEG_HEADER_LEN, next_seq)
            }
        };
        seg.flush_range(0, pos).map_err(io_err(seg.path()))?;
        seg.written_end.store(pos, Ordering::Relaxed);
        seg.flushed_end.store(pos, Ordering::Relaxed);
        report.last_seq = next_seq - 1;

        let seg = Arc::new(seg);
        let shared = Arc::new(Shared::new(next_seq - 1));
        shared.unflushed.lock().unwrap_or_else(PoisonError::into_inner).push(seg.clone());
        // Start with every spare ready: a burst right after open must not wait for the
        // roller (a segment takes tens of milliseconds to prepare).
        roller.fill_spares().map_err(io_err(&dir))?;
        let flusher_thread = {
            let shared = shared.clone();
            let interval = config.flush_interval;
            std::thread::Builder::new()
                .name("journal-flusher".into())
                .spawn(move || flusher::run(shared, interval))
                .map_err(io_err(&dir))?
        };
        let roller_thread = {
            let (roller, shared, poll) = (roller.clone(), shared.clone(), config.roller_poll);
            std::thread::Builder::new()
                .name("journal-roller".into())
                .spawn(move || roller::run(roller, shared, chain, manifest_writer, poll))
                .map_err(io_err(&dir))?
        };
        let limit = seg.len() - END_MARKER_LEN;
        Ok(Journal {
            base: seg.base(),
            dir,
            config,
            seg,
            seg_first_seq: first_seq,
            pos,
            limit,
            next_seq,
            shared,
            roller,
            flusher_thread: Some(flusher_thread),
            roller_thread: Some(roller_thread),
            scratch: vec![MaybeUninit::uninit(); RKYV_SCRATCH_LEN].into_boxed_slice(),
            report,
            _lock: lock,
        })
    }

    /// What opening found and repaired.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    /// Directory of the journal.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sequence the next append gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The last appended sequence (`first_seq - 1` if none).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// The last sequence known to survive a power loss.
    pub fn durable_seq(&self) -> u64 {
        self.shared.durable_seq.load(Ordering::Acquire)
    }

    /// Largest payload an append accepts.
    pub fn max_payload_len(&self) -> usize {
        max_payload_len(self.config.segment_size)
    }

    /// Times a roll had to wait for the background thread to prepare a segment.
    pub fn roll_stalls(&self) -> u64 {
        self.roller.stalls.load(Ordering::Relaxed)
    }

    /// What the roller has done since open (prepare and seal times, roll stalls).
    pub fn roller_stats(&self) -> RollerStats {
        self.roller.stats()
    }

    /// Prepared segments ready for the next rolls right now (the roller refills up to
    /// [`Config::spare_segments`] in the background).
    pub fn spare_segments_ready(&self) -> usize {
        self.roller.spare_ready()
    }

    /// A handle other threads can use to wait for durability.
    pub fn durability(&self) -> Durability {
        Durability { shared: self.shared.clone() }
    }

    /// Appends a record and returns its sequence. No allocation and no syscall, except on
    /// the rare roll to the next segment (which may wait for the preparer).
    ///
    /// The common case is one predicted branch for every check (poison, reserved kind,
    /// room left), a copy of the payload, three header stores, a CRC32C of the frame
    /// (`crc.rs`) and the Release store of the frame length, then the two plain stores
    /// that tell the flusher how far to msync.
    #[inline]
    pub fn append(
        &mut self,
        kind: RecordKind,
        ts_ns: u64,
        payload: &[u8],
    ) -> Result<u64, AppendError> {
        let len = payload.len();
        let frame = frame_len_for(len);
        // One branch for the three rare cases; `check` sorts them out.
        if self.shared.poisoned.load(Ordering::Relaxed)
            | !kind.is_user()
            | (frame > self.limit - self.pos)
        {
            self.check(kind, frame, len)?;
        }
        // SAFETY: `pos + frame <= limit < seg.len()` (checked above, or by `check`, which
        // rolled to a segment where it holds); `base` is the current segment's mapping. The
        // bytes past `pos` are unpublished and owned by this single writer. The zeroed last
        // word (8-aligned, at or after the header) is the padding; the payload then
        // overwrites the part of it that is payload. `publish` sees the padding already zero.
        unsafe {
            let p = self.base.add(self.pos);
            (p.add(frame - 8) as *mut u64).write(0);
            std::ptr::copy_nonoverlapping(payload.as_ptr(), p.add(REC_HEADER_LEN), len);
        }
        Ok(self.publish(kind, ts_ns, len, true))
    }

    /// Appends `value` archived with rkyv, serialized straight into the mapped segment (no
    /// intermediate buffer). Types must not need more than 8-byte alignment.
    pub fn append_archived<T>(
        &mut self,
        kind: RecordKind,
        ts_ns: u64,
        value: &T,
    ) -> Result<u64, AppendError>
    where
        T: for<'a> rkyv::Serialize<LowSerializer<Buffer<'a>, SubAllocator<'a>, Failure>>,
    {
        self.check(kind, REC_HEADER_LEN, 0)?;
        let mut rolled = false;
        loop {
            let at = self.pos + REC_HEADER_LEN;
            let room = self.limit - at;
            // SAFETY: `[at, at + room)` lies inside the segment, before the end-marker
            // reserve; it is unpublished, so no reader looks at it, and this writer is the
            // only one touching it while the slice lives.
            let dst = unsafe { std::slice::from_raw_parts_mut(self.base.add(at), room) };
            let scratch = SubAllocator::new(&mut self.scratch);
            match rkyv::api::low::to_bytes_in_with_alloc::<_, _, Failure>(
                value,
                Buffer::from(dst),
                scratch,
            ) {
                Ok(buf) => {
                    let len = buf.len();
                    return Ok(self.publish(kind, ts_ns, len, false));
                }
                Err(_) => {
                    // The failed attempt may have left bytes behind; keep "zeros after the
                    // last frame" true.
                    self.seg.zero(at, at + room);
                    if rolled || self.pos == SEG_HEADER_LEN {
                        return Err(AppendError::Serialize(format!(
                            "value does not fit in {room} bytes (or rkyv scratch of {RKYV_SCRATCH_LEN} bytes)"
                        )));
                    }
                    self.roll()?;
                    rolled = true;
                }
            }
        }
    }

    /// Checks poison, kind and size, and rolls if the frame does not fit.
    #[cold]
    #[inline(never)]
    fn check(&mut self, kind: RecordKind, frame: usize, len: usize) -> Result<(), AppendError> {
        if self.shared.poisoned.load(Ordering::Relaxed) {
            return Err(AppendError::Poisoned { cause: self.shared.cause() });
        }
        if !kind.is_user() {
            return Err(AppendError::ReservedKind(kind.0));
        }
        if frame > self.limit - self.pos {
            let max = self.max_payload_len();
            if len > max {
                return Err(AppendError::TooLarge { payload_len: len, max });
            }
            self.roll()?;
        }
        Ok(())
    }

    /// Writes the header of the frame at `pos` whose payload (`len` bytes) is already in
    /// place, zero-pads it (unless `padded`), checksums it and publishes its length.
    #[inline]
    fn publish(&mut self, kind: RecordKind, ts_ns: u64, len: usize, padded: bool) -> u64 {
        let frame = frame_len_for(len);
        debug_assert!(frame <= self.limit - self.pos);
        let seq = self.next_seq;
        // SAFETY: `[pos, pos + frame)` is inside the current segment, whose mapping starts
        // at `base` (checked by the caller), and unpublished; `pos` is 8-aligned and the
        // mapping page-aligned, so the u32/u64 stores are aligned. The frame length goes
        // last, with a Release store through an atomic view, so a reader that
        // Acquire-loads it sees every byte before it.
        unsafe {
            let p = self.base.add(self.pos);
            if !padded {
                std::ptr::write_bytes(p.add(REC_HEADER_LEN + len), 0, frame - REC_HEADER_LEN - len);
            }
            // payload_len, kind and zero flags in one word.
            const _: () = assert!(REC_KIND_OFF == REC_PAYLOAD_LEN_OFF + 4);
            let w1 = (len as u64) | (u64::from(kind.0) << 32);
            (p.add(REC_PAYLOAD_LEN_OFF) as *mut u64).write(w1.to_le());
            (p.add(REC_SEQ_OFF) as *mut u64).write(seq.to_le());
            (p.add(REC_TS_OFF) as *mut u64).write(ts_ns.to_le());
            let covered =
                std::slice::from_raw_parts(p.add(REC_PAYLOAD_LEN_OFF), frame - REC_PAYLOAD_LEN_OFF);
            let crc = crate::crc::frame_crc(covered);
            (p.add(REC_CRC_OFF) as *mut u32).write(crc.to_le());
            (*(p as *const AtomicU32)).store((frame as u32).to_le(), Ordering::Release);
        }
        self.pos += frame;
        self.next_seq = seq + 1;
        // The flusher's view: where to msync to and which sequence that makes durable. Both
        // are needed after every append, because the writer may go idle right after it and
        // the flusher must still cover it within `flush_interval`. On x86 these Release
        // stores are plain stores to lines that only the flusher reads (every interval).
        self.seg.written_end.store(self.pos, Ordering::Release);
        self.shared.appended_seq.store(seq, Ordering::Release);
        seq
    }

    /// Writes the end marker at `pos`: a header-only frame whose seq is the next segment's
    /// first sequence.
    fn write_end_marker(&mut self) {
        debug_assert!(self.pos + END_MARKER_LEN <= self.seg.len());
        let base = self.base;
        // SAFETY: the writer always keeps END_MARKER_LEN bytes free past `limit`, so the
        // marker fits; same alignment and publication argument as `publish`.
        unsafe {
            let p = base.add(self.pos);
            (p.add(REC_PAYLOAD_LEN_OFF) as *mut u32).write(0);
            (p.add(REC_KIND_OFF) as *mut u32).write((RecordKind::SEGMENT_END.0 as u32).to_le());
            (p.add(REC_SEQ_OFF) as *mut u64).write(self.next_seq.to_le());
            (p.add(REC_TS_OFF) as *mut u64).write(0);
            let covered = std::slice::from_raw_parts(
                p.add(REC_PAYLOAD_LEN_OFF),
                END_MARKER_LEN - REC_PAYLOAD_LEN_OFF,
            );
            (p.add(REC_CRC_OFF) as *mut u32).write(crate::crc::frame_crc(covered).to_le());
            (*(p as *const AtomicU32)).store((END_MARKER_LEN as u32).to_le(), Ordering::Release);
        }
        self.pos += END_MARKER_LEN;
        self.seg.written_end.store(self.pos, Ordering::Release);
    }

    /// Seals the current segment and switches to the prepared one.
    #[cold]
    #[inline(never)]
    fn roll(&mut self) -> Result<(), AppendError> {
        let next = self.roller.take_prepared()?;
        let first_seq = self.next_seq;
        let header = SegmentHeader {
            segment_size: next.len() as u64,
            schema_hash: self.config.schema_hash,
            first_seq,
            created_ns: now_ns(),
        };
        next.write_at(0, &header.encode());
        next.written_end.store(SEG_HEADER_LEN, Ordering::Relaxed);
        let next_path = next.path().to_path_buf();
        let next = Arc::new(next);
        self.write_end_marker();
        self.shared.unflushed.lock().unwrap_or_else(PoisonError::into_inner).push(next.clone());
        let old = std::mem::replace(&mut self.seg, next);
        let seal = Command::Seal {
            seg: old,
            first_seq: self.seg_first_seq,
            last_seq: first_seq - 1,
            used: self.pos,
        };
        self.roller.push(seal, Some(Command::Activate { from: next_path, first_seq }));
        self.seg_first_seq = first_seq;
        self.base = self.seg.base();
        self.pos = SEG_HEADER_LEN;
        self.limit = self.seg.len() - END_MARKER_LEN;
        Ok(())
    }

    /// Forces a flush of everything appended so far and waits for it. Returns the durable
    /// sequence.
    pub fn sync(&self) -> Result<u64, SyncError> {
        self.durability().sync()
    }

    /// Waits until `seq` is durable.
    pub fn wait_durable(&self, seq: u64, timeout: Duration) -> Result<(), SyncError> {
        self.shared.wait_durable(seq, timeout)
    }

    /// Test hook: the next msync fails as if the device had reported an error.
    #[doc(hidden)]
    pub fn inject_flush_failure(&self) {
        self.shared.fail_next_flush.store(true, Ordering::SeqCst);
    }

    /// Seals the current segment (end marker + manifest digest), flushes everything and
    /// stops the background threads. The next open starts a new segment.
    pub fn close(mut self) -> Result<(), CloseError> {
        if self.shared.poisoned.load(Ordering::SeqCst) {
            let cause = self.shared.cause();
            let _ = self.stop();
            return Err(CloseError::Poisoned { cause });
        }
        self.write_end_marker();
        let seal = Command::Seal {
            seg: self.seg.clone(),
            first_seq: self.seg_first_seq,
            last_seq: self.next_seq - 1,
            used: self.pos,
        };
        self.roller.push(seal, None);
        self.stop()?;
        if self.shared.poisoned.load(Ordering::SeqCst) {
            return Err(CloseError::Poisoned { cause: self.shared.cause() });
        }
        Ok(())
    }

    fn stop(&mut self) -> Result<(), CloseError> {
        self.roller.shutdown();
        self.shared.request_shutdown();
        let mut ok = true;
        for t in [self.roller_thread.take(), self.flusher_thread.take()].into_iter().flatten() {
            ok &= t.join().is_ok();
        }
        if ok { Ok(()) } else { Err(CloseError::ThreadPanicked) }
    }
}

impl Drop for Journal {
    /// Without `close`, the journal is flushed but left unsealed (as after a crash).
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A cloneable, thread-safe handle to wait for durability.
#[derive(Clone)]
pub struct Durability {
    shared: Arc<Shared>,
}

impl Durability {
    /// The last sequence known to survive a power loss.
    pub fn durable_seq(&self) -> u64 {
        self.shared.durable_seq.load(Ordering::Acquire)
    }

    /// Waits until `seq` is durable, or fails if the journal is poisoned.
    pub fn wait_durable(&self, seq: u64, timeout: Duration) -> Result<(), SyncError> {
        self.shared.wait_durable(seq, timeout)
    }

    /// Forces a flush of everything appended so far and waits for it.
    pub fn sync(&self) -> Result<u64, SyncError> {
        let target = self.shared.appended_seq.load(Ordering::Acquire);
        self.shared.request_sync();
        self.shared.wait_durable(target, Duration::from_secs(60))?;
        Ok(self.durable_seq())
    }
}
