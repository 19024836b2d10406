//! The native binary protocol in `keel serve`: the gateway built from the `[binary]`
//! section and the `protocol = "binary"` clients, and its report history rebuilt from the
//! journal so that every session's server sequence (and the reports retained for replay)
//! survives a restart.

use crate::config::{BinarySettings, Resolved};
use keel_engine::SessionId;
use keel_engine::schema::SCHEMA_HASH;
use keel_gateways::auth::{ClientDirectory, Protocol};
use keel_gateways::binary::{BinaryConfig, BinaryGateway, HistorySlot, Ledgers};
use keel_journal::{Reader, RecordKind};
use keel_replay::log::{Entry, decode};
use std::path::Path;
use std::sync::Arc;

/// Rebuilds the binary sessions' ledgers from a journal and hands them to the gateway.
#[derive(Clone)]
pub struct History {
    slot: HistorySlot,
    sessions: Vec<SessionId>,
    retain: usize,
}

impl History {
    /// Reads every output record of the journal at `dir` (after recovery, before the
    /// gateway starts) into the ledgers; returns how many reports they hold.
    pub fn load(&self, dir: &Path) -> Result<u64, String> {
        let mut ledgers = Ledgers::new(self.sessions.iter().copied(), self.retain);
        let mut reports = 0;
        let mut reader = Reader::open_with_schema(dir, SCHEMA_HASH)
            .map_err(|e| format!("binary history: {}: {e}", dir.display()))?;
        while let Some(rec) = reader.next().map_err(|e| format!("binary history: {e}"))? {
            if rec.kind != RecordKind::OUTPUT {
                continue;
            }
            if let Entry::Output { seq, out } =
                decode(&rec).map_err(|e| format!("binary history: {e}"))?
            {
                reports += u64::from(ledgers.record(seq, &out).is_some());
            }
        }
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(ledgers);
        }
        Ok(reports)
    }
}

/// The gateway and its history loader, or `None` when `[binary]` is off.
pub fn build(r: &Resolved) -> Result<Option<(BinaryGateway, History)>, String> {
    let Some(b) = &r.binary else { return Ok(None) };
    let directory = ClientDirectory::new(r.clients.clone());
    let sessions: Vec<SessionId> =
        directory.for_protocol(Protocol::Binary).map(|c| c.session).collect();
    let gateway = BinaryGateway::bind(config(r, b, sessions.clone()), Arc::new(directory))
        .map_err(|e| e.to_string())?;
    let history = History { slot: gateway.history_slot(), sessions, retain: b.replay_retain };
    Ok(Some((gateway, history)))
}

fn config(r: &Resolved, b: &BinarySettings, sessions: Vec<SessionId>) -> BinaryConfig {
    BinaryConfig {
        name: "binary".into(),
        listen: b.listen,
        heartbeat_ms: b.heartbeat_ms,
        logon_timeout_ms: b.logon_timeout_ms,
        max_connections: b.max_connections,
        send_buffer_bytes: b.send_buffer_bytes,
        max_subscriptions: b.max_subscriptions,
        retain: b.replay_retain,
        sessions,
        instruments: r.core.instruments.clone(),
        venues: r.core.venues.iter().map(|v| (v.id, v.feed)).collect(),
        book: r.book,
    }
}
