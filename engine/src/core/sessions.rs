//! Sessions as the core knows them: who is logged on, what kind of session it is, which
//! account it trades for, and whether its orders are cancelled when it disconnects.
//!
//! Sessions are authenticated by their gateways; the core trusts a `SessionLogon` command
//! and refuses order entry from a session that has not logged on (or has logged out).
//! The table is dense, indexed by session id, sized at start-up.

use crate::schema::{SessionKind, SessionLogon};
use crate::{AccountId, SessionId};

mod snapshot;

/// One session's entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionEntry {
    /// What the session is.
    pub kind: SessionKind,
    /// The account it trades for.
    pub account: AccountId,
    /// Cancel its working orders when it disconnects.
    pub cancel_on_disconnect: bool,
    /// True between logon and logout.
    pub logged_on: bool,
}

/// A session id outside the configured capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("session {session} is outside the configured capacity of {capacity} sessions")]
pub struct SessionCapacity {
    /// The session named.
    pub session: SessionId,
    /// The configured capacity.
    pub capacity: usize,
}

/// Every session the core has seen, by id.
#[derive(Clone, Debug)]
pub struct Sessions {
    entries: Vec<Option<SessionEntry>>,
}

impl Sessions {
    /// Room for session ids `0..capacity`.
    pub fn with_capacity(capacity: u32) -> Sessions {
        Sessions { entries: vec![None; capacity as usize] }
    }

    /// Records a logon; a repeated logon replaces the earlier terms.
    pub fn logon(
        &mut self,
        session: SessionId,
        logon: &SessionLogon,
    ) -> Result<(), SessionCapacity> {
        let capacity = self.entries.len();
        let slot =
            self.entries.get_mut(session.index()).ok_or(SessionCapacity { session, capacity })?;
        *slot = Some(SessionEntry {
            kind: logon.kind,
            account: logon.account,
            cancel_on_disconnect: logon.cancel_on_disconnect,
            logged_on: true,
        });
        Ok(())
    }

    /// Records a logout and returns the entry as it was, if the session was logged on.
    pub fn logout(&mut self, session: SessionId) -> Option<SessionEntry> {
        let entry = self.entries.get_mut(session.index())?.as_mut()?;
        let before = *entry;
        entry.logged_on = false;
        before.logged_on.then_some(before)
    }

    /// The session's entry while it is logged on.
    pub fn active(&self, session: SessionId) -> Option<&SessionEntry> {
        self.entries.get(session.index())?.as_ref().filter(|e| e.logged_on)
    }

    /// Feeds the table to a digest, in id order.
    pub fn digest_into(&self, sink: &mut dyn FnMut(&[u8])) {
        for (id, entry) in self.entries.iter().enumerate() {
            if let Some(e) = entry {
                sink(&(id as u32).to_le_bytes());
                sink(&[e.kind as u8, e.cancel_on_disconnect as u8, e.logged_on as u8]);
                sink(&e.account.0.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logon(account: u32) -> SessionLogon {
        SessionLogon {
            kind: SessionKind::FixClient,
            account: AccountId(account),
            cancel_on_disconnect: true,
        }
    }

    #[test]
    fn logon_logout_cycle() {
        let mut s = Sessions::with_capacity(4);
        assert!(s.active(SessionId(1)).is_none());
        s.logon(SessionId(1), &logon(7)).unwrap();
        assert_eq!(s.active(SessionId(1)).unwrap().account, AccountId(7));
        assert!(s.logout(SessionId(1)).unwrap().cancel_on_disconnect);
        assert!(s.active(SessionId(1)).is_none());
        assert!(s.logout(SessionId(1)).is_none(), "a second logout is not a disconnect");
    }

    #[test]
    fn out_of_range_session_is_an_error() {
        let mut s = Sessions::with_capacity(2);
        assert_eq!(
            s.logon(SessionId(2), &logon(1)),
            Err(SessionCapacity { session: SessionId(2), capacity: 2 })
        );
        assert!(s.active(SessionId(99)).is_none());
    }
}
