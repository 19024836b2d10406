//! The simulated venue's message store: execution reports and cancel rejects are kept
//! for resends, market-data messages (W, X, Y) only numbered — a resend gap-fills them:
//! stale market data is worthless, and the initiator takes a fresh snapshot on every
//! logon.
//!
//! In memory by default (a venue process is then a new FIX session: its client must
//! start over too, or reset sequence numbers), or in a [`JournalStore`] directory, so
//! that a restarted venue continues its session's numbering (its books still start
//! empty: clients learn that their orders are gone from their status requests).

use crate::fix::store::{JournalStore, MemoryStore, MessageStore, StoreError, StoredMessage};

/// See the module docs.
#[derive(Debug)]
pub enum VenueStore {
    /// Numbers and messages in memory.
    Memory(MemoryStore),
    /// Numbers and messages in a store journal.
    Journal(Box<JournalStore>),
}

impl Default for VenueStore {
    fn default() -> Self {
        VenueStore::Memory(MemoryStore::default())
    }
}

impl VenueStore {
    fn inner(&self) -> &dyn MessageStore {
        match self {
            VenueStore::Memory(m) => m,
            VenueStore::Journal(j) => j.as_ref(),
        }
    }

    fn inner_mut(&mut self) -> &mut dyn MessageStore {
        match self {
            VenueStore::Memory(m) => m,
            VenueStore::Journal(j) => j.as_mut(),
        }
    }
}

fn is_market_data(msg_type: &[u8]) -> bool {
    matches!(msg_type, b"W" | b"X" | b"Y")
}

impl MessageStore for VenueStore {
    fn next_sender_seq(&self) -> u64 {
        self.inner().next_sender_seq()
    }

    fn next_target_seq(&self) -> u64 {
        self.inner().next_target_seq()
    }

    fn record_sent(
        &mut self,
        sending_time_ns: u64,
        app: Option<(&[u8], &[u8])>,
    ) -> Result<u64, StoreError> {
        let kept = app.filter(|(t, _)| !is_market_data(t));
        self.inner_mut().record_sent(sending_time_ns, kept)
    }

    fn set_next_target_seq(&mut self, seq: u64, now_ns: u64) -> Result<(), StoreError> {
        self.inner_mut().set_next_target_seq(seq, now_ns)
    }

    fn reset(&mut self, now_ns: u64) -> Result<(), StoreError> {
        self.inner_mut().reset(now_ns)
    }

    fn sent_messages(
        &mut self,
        begin: u64,
        end: u64,
        f: &mut dyn FnMut(StoredMessage<'_>),
    ) -> Result<(), StoreError> {
        self.inner_mut().sent_messages(begin, end, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_data_is_numbered_but_not_kept() {
        let mut s = VenueStore::default();
        assert_eq!(s.record_sent(1, Some((b"8", b"11=A\x01"))).unwrap(), 1);
        assert_eq!(s.record_sent(2, Some((b"X", b"268=0\x01"))).unwrap(), 2);
        assert_eq!(s.record_sent(3, None).unwrap(), 3);
        let mut kept = Vec::new();
        s.sent_messages(1, 3, &mut |m| kept.push(m.seq)).unwrap();
        assert_eq!(kept, [1]);
        assert_eq!(s.next_sender_seq(), 4);
    }
}
