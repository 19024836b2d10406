//! The command and output schema (design §1).
//!
//! A [`Command`] is every input the core can receive: client order entry, venue reports,
//! market data, session events, timer ticks and admin actions. An [`Output`] is everything
//! the core emits: orders, cancels and replaces to venues, execution reports and rejects to
//! clients, answers to admin actions, and journaled anomalies. Both are journaled, so a
//! replay re-derives the outputs from the inputs and proves they match.
//!
//! Every type here is fixed-size (no heap: ids are numeric, client order ids are inline)
//! and `rkyv`-archivable, so a command is copied into the ring and into the journal
//! without allocation. The field-by-field reference is `docs/schema.md`.
//!
//! Units: prices in ticks and quantities in lots of the command's instrument; notionals and
//! fees in ticks·lots of that instrument; times in UTC nanoseconds.

mod command;
mod output;
mod reject;
mod scope;

pub use command::{
    BookSide, CancelOrder, CancelRejectTo, Command, CommandBody, KillSwitch, KillSwitchAction,
    L2Update, L3Add, L3Delete, L3Execute, L3Modify, Liquidity, MarketStatus, MarketTrade,
    MassCancel, NewOrder, OrderFlags, ReplaceOrder, Route, SessionKind, SessionLogon,
    SessionLogout, SetLimit, SetTradingState, SnapshotMark, SnapshotPhase, Timer, VenueAck,
    VenueCancelAck, VenueCancelReject, VenueFill, VenueReject, VenueReplaceAck, VenueStatus,
};
pub use output::{
    AdminAck, Anomaly, CancelReject, ExecReport, ExecType, MassCancelReport, OrdStatus, Output,
    OutputBody, VenueCancel, VenueNewOrder, VenueReplace,
};
pub use reject::{RejectCode, RejectInfo};
pub use scope::{LimitKind, LimitScope, MassCancelScope, Scope, TradingState};

/// Version of the schema; bump on any change to the meaning of a field.
pub const SCHEMA_VERSION: u32 = 1;

/// A fingerprint of the schema, stored in every journal segment header so that a journal
/// is never replayed by a binary whose records mean something else. It covers
/// [`SCHEMA_VERSION`] and the archived sizes and alignments of [`Command`] and [`Output`],
/// so a layout change that forgets the version bump is still caught.
pub const SCHEMA_HASH: u64 = {
    let parts: [u64; 5] = [
        SCHEMA_VERSION as u64,
        std::mem::size_of::<rkyv::Archived<Command>>() as u64,
        std::mem::align_of::<rkyv::Archived<Command>>() as u64,
        std::mem::size_of::<rkyv::Archived<Output>>() as u64,
        std::mem::align_of::<rkyv::Archived<Output>>() as u64,
    ];
    // FNV-1a over the little-endian bytes of each part.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < parts.len() {
        let bytes = parts[i].to_le_bytes();
        let mut j = 0;
        while j < bytes.len() {
            hash ^= bytes[j] as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
            j += 1;
        }
        i += 1;
    }
    hash
};

#[cfg(test)]
mod tests;
