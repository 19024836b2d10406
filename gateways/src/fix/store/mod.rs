//! The message store: a session's sequence numbers and the application messages it sent,
//! kept so that a ResendRequest can be answered, across reconnects and restarts.
//!
//! [`MessageStore`] is what the session layer needs; [`MemoryStore`] keeps it in memory
//! (tests, the test client, initiators that reset on logon) and [`JournalStore`] persists
//! it in a small `keel_journal` journal of its own (one directory per session). The
//! session records every message it sends *before* the bytes leave, and the next expected
//! inbound number after each message it accepts, so after a crash the store never claims
//! less than what the counterparty has seen from Keel.
//!
//! Only application messages are kept in full: administrative messages are never resent
//! (a resend replaces them with SequenceReset-GapFill), so for them only the number is
//! recorded.

mod journal;

pub use journal::{JournalStore, StoreConfig};

use std::collections::VecDeque;

/// A sent application message as kept for resends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredMessage<'a> {
    /// Its MsgSeqNum.
    pub seq: u64,
    /// Its original SendingTime (becomes OrigSendingTime on a resend), UTC ns.
    pub sending_time_ns: u64,
    /// MsgType.
    pub msg_type: &'a [u8],
    /// The body fields (after the standard header, before the trailer).
    pub body: &'a [u8],
}

/// A store that cannot persist or read back: the session must stop (it can no longer
/// promise resends or sequence continuity).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's journal could not be opened.
    #[error("message store {dir}: {source}")]
    Open {
        /// The store's directory.
        dir: std::path::PathBuf,
        /// Why.
        source: keel_journal::OpenError,
    },
    /// An append failed (I/O error, poisoned journal).
    #[error("message store append: {0}")]
    Append(#[from] keel_journal::AppendError),
    /// Reading back failed.
    #[error("message store read: {0}")]
    Read(#[from] keel_journal::ReadError),
    /// A record that does not parse: the store was written by something else.
    #[error("message store record {seq}: {what}")]
    Corrupt {
        /// The journal sequence of the record.
        seq: u64,
        /// What is wrong with it.
        what: String,
    },
}

/// Sequence numbers and sent messages of one session.
pub trait MessageStore {
    /// MsgSeqNum of the next message to send.
    fn next_sender_seq(&self) -> u64;

    /// MsgSeqNum expected on the next message received.
    fn next_target_seq(&self) -> u64;

    /// Records that message number [`next_sender_seq`](Self::next_sender_seq) was sent at
    /// `sending_time_ns` and advances it; `app` is `(MsgType, body)` for an application
    /// message to keep for resends, `None` for an administrative one. Returns its number.
    fn record_sent(
        &mut self,
        sending_time_ns: u64,
        app: Option<(&[u8], &[u8])>,
    ) -> Result<u64, StoreError>;

    /// Sets the next expected inbound number.
    fn set_next_target_seq(&mut self, seq: u64, now_ns: u64) -> Result<(), StoreError>;

    /// Starts over: both numbers back to 1, sent messages forgotten (ResetSeqNumFlag).
    fn reset(&mut self, now_ns: u64) -> Result<(), StoreError>;

    /// Calls `f` for every kept application message numbered `begin..=end`, in order.
    fn sent_messages(
        &mut self,
        begin: u64,
        end: u64,
        f: &mut dyn FnMut(StoredMessage<'_>),
    ) -> Result<(), StoreError>;
}

/// A store in memory, keeping at most `limit` application messages (older ones are
/// gap-filled on a resend).
#[derive(Clone, Debug)]
pub struct MemoryStore {
    next_sender: u64,
    next_target: u64,
    limit: usize,
    sent: VecDeque<(u64, u64, Vec<u8>, Vec<u8>)>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_limit(100_000)
    }
}

impl MemoryStore {
    /// A store that keeps the last `limit` application messages.
    pub fn with_limit(limit: usize) -> MemoryStore {
        MemoryStore { next_sender: 1, next_target: 1, limit, sent: VecDeque::new() }
    }

    /// A store that starts at the given numbers (tests).
    pub fn starting_at(next_sender: u64, next_target: u64) -> MemoryStore {
        MemoryStore { next_sender, next_target, ..MemoryStore::default() }
    }
}

impl MessageStore for MemoryStore {
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
        if let Some((msg_type, body)) = app {
            if self.limit > 0 {
                if self.sent.len() == self.limit {
                    self.sent.pop_front();
                }
                self.sent.push_back((seq, sending_time_ns, msg_type.to_vec(), body.to_vec()));
            }
        }
        self.next_sender += 1;
        Ok(seq)
    }

    fn set_next_target_seq(&mut self, seq: u64, _now_ns: u64) -> Result<(), StoreError> {
        self.next_target = seq;
        Ok(())
    }

    fn reset(&mut self, _now_ns: u64) -> Result<(), StoreError> {
        self.next_sender = 1;
        self.next_target = 1;
        self.sent.clear();
        Ok(())
    }

    fn sent_messages(
        &mut self,
        begin: u64,
        end: u64,
        f: &mut dyn FnMut(StoredMessage<'_>),
    ) -> Result<(), StoreError> {
        for (seq, ts, msg_type, body) in &self.sent {
            if (begin..=end).contains(seq) {
                f(StoredMessage { seq: *seq, sending_time_ns: *ts, msg_type, body });
            }
        }
        Ok(())
    }
}
