//! [`JournalStore`]: a session's message store in its own `keel_journal` journal.
//!
//! # Records
//! Every record's payload is little-endian:
//!
//! | kind | payload | meaning |
//! |---|---|---|
//! | 16 `SENT_APP` | seq u64, sending time ns u64, MsgType length u8, MsgType, body | an application message sent (kept for resends) |
//! | 17 `SENT_ADMIN` | seq u64 | an administrative message sent (number only) |
//! | 18 `TARGET` | next expected inbound seq u64 | after each accepted inbound message |
//! | 19 `RESET` | — | both numbers back to 1; earlier messages are forgotten |
//!
//! Opening replays the records: the next outbound number is one past the last sent since
//! the last reset, the next inbound one is the last `TARGET`. A sparse index (every 64th
//! application message) lets a resend seek near its first message.
//!
//! # What survives what
//! The guarantees are the journal's (`keel_journal::Journal`): after a process crash
//! everything recorded survives (it is in the page cache); after a power loss, what the
//! flusher had made durable (it msyncs every `flush_interval`). A message is recorded
//! before its bytes are written to the socket, so the store never numbers below what the
//! counterparty has seen; after a power loss it may be behind, and the counterparty's
//! "MsgSeqNum too low" logout says so (reset the session by agreement then).

use super::{MessageStore, StoreError, StoredMessage};
use keel_journal::{Config, Journal, Reader, RecordKind};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SENT_APP: RecordKind = RecordKind(16);
const SENT_ADMIN: RecordKind = RecordKind(17);
const TARGET: RecordKind = RecordKind(18);
const RESET: RecordKind = RecordKind(19);

/// Schema hash of store journals ("FIXSTORE" v1): never confused with an engine journal.
pub const STORE_SCHEMA_HASH: u64 = u64::from_le_bytes(*b"FIXSTOR1");

/// Index entry every this many application messages, to start with.
const INDEX_STRIDE: u64 = 64;
/// Most index entries kept; when full, every other one is dropped and the stride doubles
/// (memory stays bounded and appends never reallocate).
const INDEX_MAX: usize = 8192;

/// How a store journal is opened.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Segment file size, bytes (a multiple of the page size, at least two pages).
    pub segment_size: usize,
    /// How often the flusher msyncs (the power-loss window).
    pub flush_interval: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { segment_size: 1 << 20, flush_interval: Duration::from_millis(10) }
    }
}

/// A persistent message store.
pub struct JournalStore {
    journal: Journal,
    dir: PathBuf,
    next_sender: u64,
    next_target: u64,
    /// Journal sequence of the last reset (0 = none): resends never read before it.
    epoch_jseq: u64,
    /// `(msg seq, journal seq)` of every `stride`-th application message since the epoch
    /// (and of the epoch's first).
    index: Vec<(u64, u64)>,
    stride: u64,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for JournalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalStore")
            .field("dir", &self.dir)
            .field("next_sender", &self.next_sender)
            .field("next_target", &self.next_target)
            .finish()
    }
}

fn u64_at(p: &[u8], at: usize) -> Option<u64> {
    p.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
}

/// A `SENT_APP` payload, parsed.
fn parse_app(payload: &[u8]) -> Option<StoredMessage<'_>> {
    let seq = u64_at(payload, 0)?;
    let sending_time_ns = u64_at(payload, 8)?;
    let t_len = *payload.get(16)? as usize;
    let msg_type = payload.get(17..17 + t_len)?;
    let body = payload.get(17 + t_len..)?;
    Some(StoredMessage { seq, sending_time_ns, msg_type, body })
}

impl JournalStore {
    /// Opens (creating if needed) the store in `dir` and recovers its state.
    pub fn open(dir: &Path, config: &StoreConfig) -> Result<JournalStore, StoreError> {
        let jc = Config {
            segment_size: config.segment_size,
            schema_hash: STORE_SCHEMA_HASH,
            flush_interval: config.flush_interval,
            ..Config::default()
        };
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            dir: dir.to_path_buf(),
            source: keel_journal::OpenError::Io { path: dir.to_path_buf(), source: e },
        })?;
        let journal = Journal::open(dir, jc)
            .map_err(|source| StoreError::Open { dir: dir.to_path_buf(), source })?;
        let mut store = JournalStore {
            journal,
            dir: dir.to_path_buf(),
            next_sender: 1,
            next_target: 1,
            epoch_jseq: 0,
            index: Vec::with_capacity(INDEX_MAX),
            stride: INDEX_STRIDE,
            scratch: Vec::with_capacity(1024),
        };
        if store.journal.last_seq() > 0 {
            store.recover()?;
        }
        Ok(store)
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn reader(&self) -> Result<Reader, StoreError> {
        Ok(Reader::open_with_schema(&self.dir, STORE_SCHEMA_HASH)?)
    }

    fn recover(&mut self) -> Result<(), StoreError> {
        let mut reader = self.reader()?;
        while let Some(rec) = reader.next()? {
            let corrupt = |what: &str| StoreError::Corrupt { seq: rec.seq, what: what.into() };
            match rec.kind {
                SENT_APP => {
                    let m = parse_app(rec.payload).ok_or_else(|| corrupt("short SENT_APP"))?;
                    self.index_app(m.seq, rec.seq);
                    self.next_sender = m.seq + 1;
                }
                SENT_ADMIN => {
                    self.next_sender =
                        u64_at(rec.payload, 0).ok_or_else(|| corrupt("short SENT_ADMIN"))? + 1;
                }
                TARGET => {
                    self.next_target =
                        u64_at(rec.payload, 0).ok_or_else(|| corrupt("short TARGET"))?;
                }
                RESET => {
                    self.next_sender = 1;
                    self.next_target = 1;
                    self.epoch_jseq = rec.seq;
                    self.index.clear();
                    self.stride = INDEX_STRIDE;
                }
                other => return Err(corrupt(&format!("unknown record kind {}", other.0))),
            }
        }
        Ok(())
    }
}

impl JournalStore {
    /// Notes an application message in the sparse index.
    fn index_app(&mut self, seq: u64, jseq: u64) {
        index_push(&mut self.index, &mut self.stride, INDEX_MAX, seq, jseq);
    }
}

/// Adds `(seq, jseq)` to a sparse index of at most `max` entries: entries are every
/// `stride`-th message (and the first); when full, every other one is dropped and the
/// stride doubles. Never grows the vector past `max`, so with that capacity reserved it
/// never reallocates.
fn index_push(index: &mut Vec<(u64, u64)>, stride: &mut u64, max: usize, seq: u64, jseq: u64) {
    if !(seq % *stride == 0 || index.is_empty()) {
        return;
    }
    if index.len() >= max {
        *stride *= 2;
        let s = *stride;
        let mut keep = 0;
        for i in 0..index.len() {
            if i == 0 || index[i].0 % s == 0 {
                index[keep] = index[i];
                keep += 1;
            }
        }
        index.truncate(keep);
        if seq % s != 0 || index.len() >= max {
            return;
        }
    }
    index.push((seq, jseq));
}

impl MessageStore for JournalStore {
    fn next_sender_seq(&self) -> u64 {
        self.next_sender
    }

    fn next_target_seq(&self) -> u64 {
        self.next_target
    }

    fn record_sent(
        &mut self,
        sending_time_ns: u64,
        app: Option<(&[u8], &[u8])>,
    ) -> Result<u64, StoreError> {
        let seq = self.next_sender;
        match app {
            Some((msg_type, body)) => {
                let p = &mut self.scratch;
                p.clear();
                p.extend_from_slice(&seq.to_le_bytes());
                p.extend_from_slice(&sending_time_ns.to_le_bytes());
                p.push(msg_type.len() as u8);
                p.extend_from_slice(msg_type);
                p.extend_from_slice(body);
                let jseq = self.journal.append(SENT_APP, sending_time_ns, p)?;
                self.index_app(seq, jseq);
            }
            None => {
                self.journal.append(SENT_ADMIN, sending_time_ns, &seq.to_le_bytes())?;
            }
        }
        self.next_sender = seq + 1;
        Ok(seq)
    }

    fn set_next_target_seq(&mut self, seq: u64, now_ns: u64) -> Result<(), StoreError> {
        self.journal.append(TARGET, now_ns, &seq.to_le_bytes())?;
        self.next_target = seq;
        Ok(())
    }

    fn reset(&mut self, now_ns: u64) -> Result<(), StoreError> {
        self.epoch_jseq = self.journal.append(RESET, now_ns, &[])?;
        self.next_sender = 1;
        self.next_target = 1;
        self.index.clear();
        self.stride = INDEX_STRIDE;
        Ok(())
    }

    fn sent_messages(
        &mut self,
        begin: u64,
        end: u64,
        f: &mut dyn FnMut(StoredMessage<'_>),
    ) -> Result<(), StoreError> {
        // The last index entry at or before `begin`, else the epoch's start.
        let from = match self.index.partition_point(|(s, _)| *s <= begin) {
            0 => self.epoch_jseq + 1,
            n => self.index[n - 1].1,
        };
        if from > self.journal.last_seq() {
            return Ok(());
        }
        let mut reader = self.reader()?;
        reader.seek(from)?;
        while let Some(rec) = reader.next()? {
            if rec.kind != SENT_APP {
                continue;
            }
            let m = parse_app(rec.payload)
                .ok_or(StoreError::Corrupt { seq: rec.seq, what: "short SENT_APP".into() })?;
            if m.seq > end {
                break;
            }
            if m.seq >= begin {
                f(m);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> StoreConfig {
        // Small segments, so that the test crosses several.
        StoreConfig { segment_size: 1 << 16, ..StoreConfig::default() }
    }

    fn collect(s: &mut JournalStore, b: u64, e: u64) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        s.sent_messages(b, e, &mut |m| out.push((m.seq, m.body.to_vec()))).unwrap();
        out
    }

    #[test]
    fn the_sparse_index_stays_bounded_and_ordered() {
        let mut index = Vec::with_capacity(8);
        let mut stride = 4;
        for seq in 1..=1000u64 {
            index_push(&mut index, &mut stride, 8, seq, seq * 10);
            assert!(index.len() <= 8);
            assert!(index.windows(2).all(|w| w[0].0 < w[1].0));
        }
        assert_eq!(index.capacity(), 8, "never reallocated");
        assert_eq!(index[0], (1, 10), "the first message stays");
        assert!(stride >= 128, "the stride doubled as the index filled: {stride}");
        assert!(index.iter().skip(1).all(|(s, j)| s % stride == 0 && *j == s * 10));
    }

    #[test]
    fn numbers_and_messages_survive_a_reopen_and_a_reset_forgets() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = JournalStore::open(dir.path(), &config()).unwrap();
            assert_eq!((s.next_sender_seq(), s.next_target_seq()), (1, 1));
            for i in 1..=300u64 {
                let app = (i % 3 != 0).then_some((&b"8"[..], format!("11=O{i}\x01")));
                let app = app.as_ref().map(|(t, b)| (*t, b.as_bytes()));
                assert_eq!(s.record_sent(i * 10, app).unwrap(), i);
                s.set_next_target_seq(i + 1, i * 10).unwrap();
            }
        }
        let mut s = JournalStore::open(dir.path(), &config()).unwrap();
        assert_eq!((s.next_sender_seq(), s.next_target_seq()), (301, 301));
        let got = collect(&mut s, 100, 106);
        let seqs: Vec<u64> = got.iter().map(|(q, _)| *q).collect();
        assert_eq!(seqs, [100, 101, 103, 104, 106]);
        assert_eq!(got[0].1, b"11=O100\x01");
        assert_eq!(collect(&mut s, 1, 2).len(), 2);
        assert!(collect(&mut s, 400, 500).is_empty());
        s.reset(9_999).unwrap();
        s.record_sent(10_000, Some((b"8", b"11=X\x01"))).unwrap();
        drop(s);
        let mut s = JournalStore::open(dir.path(), &config()).unwrap();
        assert_eq!((s.next_sender_seq(), s.next_target_seq()), (2, 1));
        assert_eq!(collect(&mut s, 1, 1000), [(1, b"11=X\x01".to_vec())]);
    }
}
