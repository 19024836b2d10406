//! One segment file, mapped shared into memory.
//!
//! The mapping is a [`memmap2::MmapRaw`]: the writer stores through raw pointers while
//! readers (in this or another process) load through raw pointers, so no `&mut [u8]` ever
//! aliases bytes another thread may read. Published frames are immutable, which is what
//! makes handing out `&[u8]` to them sound.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use crate::layout::{
    FrameHeader, REC_CRC_OFF, REC_FLAGS_OFF, REC_HEADER_LEN, REC_KIND_OFF, REC_PAYLOAD_LEN_OFF,
    REC_SEQ_OFF, REC_TS_OFF, RecordKind, SEG_HEADER_LEN, frame_len_for,
};

/// File name of the segment whose first record has sequence `first_seq`.
pub fn segment_file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.seg")
}

/// Parses a segment file name back into its first sequence.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Page size of the machine, for pre-faulting and msync alignment.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as usize } else { 4096 }
}

/// A mapped segment file.
pub struct Segment {
    map: MmapRaw,
    len: usize,
    path: PathBuf,
    /// Kept open for the life of the mapping.
    _file: File,
    /// End of the last published frame (writer: Release; flusher: Acquire).
    pub(crate) written_end: AtomicUsize,
    /// Everything below this offset has been msynced (flusher only).
    pub(crate) flushed_end: AtomicUsize,
}

// A frame as the checks found it.
pub(crate) enum Frame {
    /// `frame_len == 0`: nothing published here.
    Empty,
    Valid(FrameHeader),
    Invalid(&'static str),
}

impl Segment {
    /// Creates a new file of `size` bytes, allocates its blocks and faults every page into
    /// this process's page tables by writing to it, so the writer never faults on it.
    pub fn create_preallocated(path: &Path, size: usize) -> io::Result<Segment> {
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(path)?;
        file.set_len(size as u64)?;
        // SAFETY: plain syscall on an open fd; reserves blocks so a later write cannot
        // hit ENOSPC as SIGBUS. Failure (e.g. unsupported fs) falls back to set_len.
        let _ = unsafe {
            libc::posix_fallocate(std::os::fd::AsRawFd::as_raw_fd(&file), 0, size as libc::off_t)
        };
        let seg = Segment::map(file, path.to_path_buf(), size)?;
        let base = seg.map.as_mut_ptr();
        // One syscall that write-faults every page in the kernel (Linux >= 5.14); the
        // pages end up present, writable and dirty, exactly as if touched by a store.
        // SAFETY: the range is exactly our private-to-this-process mapping of `size` bytes.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let populated = unsafe { libc::madvise(base.cast(), size, libc::MADV_POPULATE_WRITE) } == 0;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let populated = false;
        if !populated {
            let page = page_size();
            let mut off = 0;
            while off < size {
                // SAFETY: `off < size`, inside the mapping; nobody else knows this file yet.
                unsafe { std::ptr::write_volatile(base.add(off), 0u8) };
                off += page;
            }
        }
        Ok(seg)
    }

    /// Maps an existing segment file read-write.
    pub fn open_rw(path: &Path) -> io::Result<Segment> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let len = file.metadata()?.len() as usize;
        Segment::map(file, path.to_path_buf(), len)
    }

    /// Maps an existing segment file read-only.
    pub fn open_ro(path: &Path) -> io::Result<Segment> {
        let file = File::open(path)?;
        let len = file.metadata()?.len() as usize;
        if len < SEG_HEADER_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "file shorter than a segment header",
            ));
        }
        let map = MmapOptions::new().len(len).map_raw_read_only(&file)?;
        Ok(Segment::from_parts(map, file, path.to_path_buf(), len))
    }

    fn map(file: File, path: PathBuf, len: usize) -> io::Result<Segment> {
        if len < SEG_HEADER_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "file shorter than a segment header",
            ));
        }
        let map = MmapOptions::new().len(len).map_raw(&file)?;
        Ok(Segment::from_parts(map, file, path, len))
    }

    fn from_parts(map: MmapRaw, file: File, path: PathBuf, len: usize) -> Segment {
        Segment {
            map,
            len,
            path,
            _file: file,
            written_end: AtomicUsize::new(0),
            flushed_end: AtomicUsize::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Base of the mapping (page aligned).
    #[inline]
    pub(crate) fn base(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// Bytes `[off, off + len)`, which must be immutable for as long as the borrow lives:
    /// a published frame, or any range of a segment nobody writes.
    #[inline]
    pub(crate) fn bytes(&self, off: usize, len: usize) -> &[u8] {
        assert!(off <= self.len && len <= self.len - off, "range outside the segment");
        // SAFETY: in bounds (checked above); callers only ask for published, immutable bytes.
        unsafe { std::slice::from_raw_parts(self.base().add(off), len) }
    }

    /// Acquire-loads the frame length at `off` (which must be 8-aligned and in bounds).
    #[inline]
    pub(crate) fn load_frame_len(&self, off: usize) -> u32 {
        assert!(off % 8 == 0 && off + 4 <= self.len);
        // SAFETY: in bounds and 4-aligned (page-aligned base + 8-aligned offset); the
        // writer stores this word with a Release store through the same atomic view.
        unsafe { (*(self.base().add(off) as *const AtomicU32)).load(Ordering::Acquire) }
    }

    /// Reads and checks the frame at `off` (8-aligned). `Valid` means: sane length,
    /// consistent payload length, zero flags, non-zero kind and a matching CRC32C.
    ///
    /// Every record read goes through here, so the header is read as four aligned words
    /// with one bounds check instead of field by field.
    #[inline]
    pub(crate) fn check_frame(&self, off: usize) -> Frame {
        if off > self.len || REC_HEADER_LEN > self.len - off {
            return Frame::Invalid("frame header runs past the segment end");
        }
        if off % 8 != 0 {
            return Frame::Invalid("frame offset not 8-aligned");
        }
        // SAFETY: in bounds (checked above) and 4-aligned (page-aligned base + 8-aligned
        // offset); the writer stores this word with a Release store through the same
        // atomic view.
        let frame_len = unsafe {
            (*(self.base().add(off) as *const AtomicU32)).load(Ordering::Acquire) as usize
        };
        if frame_len == 0 {
            return Frame::Empty;
        }
        if frame_len < REC_HEADER_LEN || frame_len % 8 != 0 || frame_len > self.len - off {
            return Frame::Invalid("frame length out of bounds");
        }
        // SAFETY: `[off, off + frame_len)` is in bounds (checked above) and 8-aligned; a
        // non-zero length was published after every byte of the frame (Acquire above), and
        // published frames are never written again.
        let (h, covered) = unsafe {
            let p = self.base().add(off);
            let h = std::ptr::read(p as *const [u64; REC_HEADER_LEN / 8]);
            let covered = std::slice::from_raw_parts(
                p.add(REC_PAYLOAD_LEN_OFF),
                frame_len - REC_PAYLOAD_LEN_OFF,
            );
            (h, covered)
        };
        const _: () = assert!(REC_CRC_OFF == 4 && REC_PAYLOAD_LEN_OFF == 8);
        const _: () = assert!(REC_KIND_OFF == 12 && REC_FLAGS_OFF == 14);
        const _: () = assert!(REC_SEQ_OFF == 16 && REC_TS_OFF == 24);
        let (w0, w1) = (u64::from_le(h[0]), u64::from_le(h[1]));
        let stored = (w0 >> 32) as u32;
        let payload_len = w1 as u32;
        let kind = (w1 >> 32) as u16;
        let flags = (w1 >> 48) as u16;
        if frame_len_for(payload_len as usize) != frame_len {
            return Frame::Invalid("frame length does not match payload length");
        }
        if kind == 0 || flags != 0 {
            return Frame::Invalid("zero kind or non-zero flags");
        }
        if crate::crc::frame_crc(covered) != stored {
            return Frame::Invalid("checksum mismatch");
        }
        Frame::Valid(FrameHeader {
            frame_len: frame_len as u32,
            payload_len,
            kind: RecordKind(kind),
            seq: u64::from_le(h[2]),
            ts_ns: u64::from_le(h[3]),
        })
    }

    /// The payload of the frame at `off`, of `payload_len` bytes, without a bounds check.
    ///
    /// # Safety
    /// [`Segment::check_frame`] must have found a valid frame at `off` with this payload
    /// length: then the payload lies inside the segment and is published (immutable).
    #[inline]
    pub(crate) unsafe fn frame_payload(&self, off: usize, payload_len: usize) -> &[u8] {
        debug_assert!(off + REC_HEADER_LEN + payload_len <= self.len);
        // SAFETY: in bounds and immutable per the caller's guarantee.
        unsafe { std::slice::from_raw_parts(self.base().add(off + REC_HEADER_LEN), payload_len) }
    }

    /// msync `[off, end)` (widened to pages) with `MS_SYNC`.
    pub(crate) fn flush_range(&self, off: usize, end: usize) -> io::Result<()> {
        let page = page_size();
        let start = off / page * page;
        let end = end.min(self.len);
        if end <= start {
            return Ok(());
        }
        self.map.flush_range(start, end - start)
    }

    /// Zeroes `[off, end)`. Only for recovery, before anyone else can see the bytes.
    pub(crate) fn zero(&self, off: usize, end: usize) {
        assert!(off <= end && end <= self.len);
        // SAFETY: in bounds; called during recovery while the writer lock is held and
        // before any frame in the range is published.
        unsafe { std::ptr::write_bytes(self.base().add(off), 0, end - off) };
    }

    /// Writes `bytes` at `off`. Only for unpublished ranges owned by the writer.
    pub(crate) fn write_at(&self, off: usize, bytes: &[u8]) {
        assert!(off <= self.len && bytes.len() <= self.len - off);
        // SAFETY: in bounds; the writer owns unpublished bytes exclusively.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.base().add(off), bytes.len()) };
    }

    /// End offset of the last non-zero 8-byte word at or after `from` (or `from`).
    pub(crate) fn last_nonzero_end(&self, from: usize) -> usize {
        let mut end = self.len & !7;
        while end > from {
            let w = self.bytes(end - 8, 8);
            if w != [0u8; 8] {
                return end;
            }
            end -= 8;
        }
        from
    }
}

/// fsyncs a directory so that entries created or renamed in it are durable.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
