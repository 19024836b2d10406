//! Snapshot of [`Sessions`]: every slot, logged on or not.

use super::{SessionEntry, Sessions};
use crate::AccountId;
use crate::schema::SessionKind;
use crate::snapshot_codec::{Bounds, CodecError, Reader, Writer};

impl Sessions {
    /// Appends every session slot to `w`.
    pub(crate) fn snapshot_write(&self, w: &mut Writer) {
        w.len_u32(self.entries.len());
        for e in &self.entries {
            w.option(e.as_ref(), |w, e| {
                w.u8(e.kind as u8);
                w.u32(e.account.0);
                w.bool(e.cancel_on_disconnect);
                w.bool(e.logged_on);
            });
        }
    }

    /// Restores the slots written by [`Sessions::snapshot_write`]; a trading session's
    /// account must be below `accounts`, as at logon.
    pub(crate) fn snapshot_read(
        &mut self,
        r: &mut Reader<'_>,
        accounts: u32,
    ) -> Result<(), CodecError> {
        r.exact_count(self.entries.len(), "sessions")?;
        for entry in self.entries.iter_mut() {
            *entry = r.option(|r| {
                let kind = r.session_kind()?;
                let at = r.offset();
                let account = AccountId(r.u32()?);
                // Admin and venue sessions are not tied to a trading account.
                if !matches!(kind, SessionKind::Admin | SessionKind::Venue) {
                    Bounds::check(at, "account", account.0, accounts)?;
                }
                Ok(SessionEntry {
                    kind,
                    account,
                    cancel_on_disconnect: r.bool()?,
                    logged_on: r.bool()?,
                })
            })?;
        }
        Ok(())
    }
}
