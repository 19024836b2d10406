//! # keel-journal
//!
//! The memory-mapped, segmented, checksummed append-only log (design §5). It knows bytes,
//! records and files, not trading.
//!
//! * One writer ([`Journal`]) appends records to fixed-size segment files named by their
//!   first sequence. A background thread keeps [`Config::spare_segments`] segments created,
//!   preallocated and pre-faulted ahead of it, so an append is a bounds check, a copy, a
//!   few stores, a CRC32C and a Release store of the frame length: no allocation, no
//!   syscall.
//! * Readers ([`Reader`], [`Tailer`]) in any process validate every frame (checksum,
//!   sequence continuity) and hand out zero-copy [`Record`]s; [`Record::access`] runs
//!   rkyv's checked access on the payload.
//! * Opening recovers: a torn tail is cut, corruption is refused with its location.
//! * Sealed segments are chained with BLAKE3 in `MANIFEST`; [`inspect`] re-verifies it.
//!
//! ## What survives what
//!
//! | event | survives |
//! |---|---|
//! | process crash (panic, `SIGKILL`, OOM kill) | every record `append` returned: it is in the page cache. A record half-written at the kill has no published length and is cut as a torn tail on the next open. |
//! | power loss, kernel crash | records up to [`Journal::durable_seq`]: the flusher msyncs every `flush_interval`; [`Journal::sync`] forces it, [`Journal::wait_durable`] waits for a sequence. Later records may be lost (and may leave a hole that recovery reports as corruption). |
//! | msync / fsync error | nothing after it: the journal is poisoned, every later append fails and the durable sequence stops. |
//! | bit rot, tampering | nothing is silently replayed: CRC32C per record, BLAKE3 chain per sealed segment. |
//!
//! The full contract is on [`Journal`]; the byte layout is in [`layout`] and
//! `docs/journal-format.md`.
//!
//! ## What an append costs
//!
//! The writer touches only memory: the segment is pre-faulted by the roller thread, the
//! flusher and roller are never woken by the writer (they poll). Exceptions, all rare: a
//! roll locks an (uncontended) mutex and waits if no spare segment is ready
//! ([`Journal::roll_stalls`]); the first write to the current page after each msync takes
//! a minor fault, because msync write-protects the pages it cleaned (not on tmpfs, which
//! has no writeback).
//!
//! The pages themselves are not free: every byte a journal holds is a new page-cache page
//! that the roller allocates, zeroes and maps (`fallocate` + `MADV_POPULATE_WRITE`), then
//! hashes into the seal chain and unmaps once sealed. On the 2-core VM of
//! `docs/benchmarks.md` that is about 1.5 ms of the roller's CPU per MiB on tmpfs
//! (preparing 0.7–1.0, hashing 0.5–0.7, unmapping 0.1–0.2). The roller prepares before
//! it seals, so during a burst only preparing must keep up with the writer; a writer
//! that outruns even that for longer than the spares last waits at a roll. The
//! per-append cost of the writer itself is measured without rolls by
//! `cargo run --release -p keel-journal --example append_loop`.
//!
//! ```
//! use keel_journal::{Config, Journal, RecordKind, Tailer};
//! use std::time::Duration;
//!
//! #[derive(rkyv::Archive, rkyv::Serialize)]
//! struct Fill { order_id: u64, qty: i64, price: i64 }
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut journal = Journal::open(dir.path(), Config { segment_size: 1 << 16, ..Config::default() }).unwrap();
//! let seq = journal.append_archived(RecordKind::OUTPUT, 42, &Fill { order_id: 7, qty: 3, price: 101 }).unwrap();
//!
//! let mut tailer = Tailer::open(dir.path(), seq).unwrap();
//! let rec = tailer.next_timeout(Duration::from_secs(5)).unwrap();
//! let fill = rec.access::<Fill>().unwrap();
//! assert_eq!((fill.order_id.to_native(), fill.qty.to_native(), fill.price.to_native()), (7, 3, 101));
//! journal.wait_durable(seq, Duration::from_secs(5)).unwrap();
//! ```

mod crc;
pub mod error;
mod flusher;
pub mod layout;
pub mod manifest;
mod reader;
pub mod recovery;
mod roller;
mod segment;
mod tailer;
mod verify;
mod writer;

pub use error::{AppendError, CloseError, Location, OpenError, ReadError, SyncError};
pub use layout::RecordKind;
pub use reader::{INDEX_STRIDE, Reader, Record};
pub use roller::RollerStats;
pub use segment::{parse_segment_file_name, segment_file_name};
pub use tailer::Tailer;
pub use verify::{Inspection, SegmentInfo, inspect};
pub use writer::{Config, Durability, Journal, MAX_SPARE_SEGMENTS, RecoveryReport};
