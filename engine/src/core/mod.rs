//! The deterministic core (design §3, §4): one single-threaded state machine that owns the
//! market books, the firm's orders, positions, risk and strategies, and turns each
//! [`Command`] into zero or more [`Output`]s.
//!
//! # Contract
//! - **Deterministic.** [`Core::apply`] is a pure function of the configuration and the
//!   commands applied so far. The core never reads a clock, a random source, the
//!   environment or a file; time is the command's timestamp made monotonic
//!   (`now = max(now, cmd.ts)`). Iteration is always in a defined order (ids, slots of
//!   dense tables). [`Core::digest`] hashes a canonical encoding of the whole state, so two
//!   cores fed the same commands have equal digests on any machine.
//! - **No allocation in steady state.** Every table is sized from [`CoreConfig`] in
//!   [`Core::new`]. Running out of room is a clean reject (`ORDER_CAPACITY`,
//!   `TABLE_CAPACITY`), never a reallocation. Outputs go to the caller's [`OutputSink`].
//! - **Never panics on input.** A bad command is answered with a reject carrying a stable
//!   code and its numbers; a venue report that contradicts Keel's view of an order is an
//!   [`Anomaly`](crate::schema::Anomaly) output and changes nothing.
//!
//! # Order of work for one command
//! 1. `now = max(now, cmd.ts)`.
//! 2. Apply: market data → books; client entry → validation, routing, risk, order table;
//!    venue reports → order state machine, positions, risk exposure; admin → limits,
//!    states, kill switches; timer → expiries.
//! 3. Strategies see the events that concern them (book updates, their own orders' reports
//!    and fills, timers) and their intents pass through step 2 like any client's orders,
//!    within the same command.

mod admin;
pub mod config;
pub mod digest;
mod entry;
pub mod market;
mod report;
pub mod sessions;
pub mod stops;
mod venue;

pub use config::{CoreConfig, CoreConfigError, RiskSettings, StrategySpec, VenueConfig};
pub use digest::StateDigest;
pub use market::{FeedKind, Markets};

use crate::orders::OrderTable;
use crate::positions::PositionBook;
use crate::risk::RiskEngine;
use crate::schema::{Command, CommandBody, Output, OutputBody, RejectCode};
use crate::{Instrument, TimestampNs};
use digest::DigestBuilder;
use sessions::Sessions;

/// Where the core writes its outputs. The pipeline's sink journals them and publishes
/// them to the gateways; tests use a `Vec<Output>` (reserve it to stay allocation-free).
pub trait OutputSink {
    /// Takes one output.
    fn emit(&mut self, output: Output);
}

impl OutputSink for Vec<Output> {
    #[inline]
    fn emit(&mut self, output: Output) {
        self.push(output);
    }
}

/// Counts every command kind and reject code; plain integers a metrics thread may copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreCounters {
    /// Commands applied, by [`CommandBody`] variant index.
    pub commands_by_kind: [u64; COMMAND_KINDS],
    /// Rejects emitted, by [`RejectCode`] declaration index.
    pub rejects_by_code: [u64; REJECT_CODES],
    /// Fills applied.
    pub fills: u64,
    /// Venue reports refused as anomalies.
    pub anomalies: u64,
    /// Outputs emitted.
    pub outputs: u64,
}

/// Number of [`CommandBody`] variants.
pub const COMMAND_KINDS: usize = 24;
/// Room for every [`RejectCode`].
pub const REJECT_CODES: usize = 64;
const _: () = assert!(RejectCode::ALL.len() <= REJECT_CODES);

impl Default for CoreCounters {
    fn default() -> Self {
        CoreCounters {
            commands_by_kind: [0; COMMAND_KINDS],
            rejects_by_code: [0; REJECT_CODES],
            fills: 0,
            anomalies: 0,
            outputs: 0,
        }
    }
}

/// The index of a command kind, for counters and reports.
pub fn command_kind_index(body: &CommandBody) -> usize {
    match body {
        CommandBody::NewOrder(_) => 0,
        CommandBody::CancelOrder(_) => 1,
        CommandBody::ReplaceOrder(_) => 2,
        CommandBody::MassCancel(_) => 3,
        CommandBody::VenueAck(_) => 4,
        CommandBody::VenueReject(_) => 5,
        CommandBody::VenueFill(_) => 6,
        CommandBody::VenueCancelAck(_) => 7,
        CommandBody::VenueReplaceAck(_) => 8,
        CommandBody::VenueCancelReject(_) => 9,
        CommandBody::L2Update(_) => 10,
        CommandBody::L3Add(_) => 11,
        CommandBody::L3Modify(_) => 12,
        CommandBody::L3Delete(_) => 13,
        CommandBody::L3Execute(_) => 14,
        CommandBody::Trade(_) => 15,
        CommandBody::Snapshot(_) => 16,
        CommandBody::VenueStatus(_) => 17,
        CommandBody::SessionLogon(_) => 18,
        CommandBody::SessionLogout(_) => 19,
        CommandBody::Timer(_) => 20,
        CommandBody::SetLimit(_) => 21,
        CommandBody::SetTradingState(_) => 22,
        CommandBody::KillSwitch(_) => 23,
    }
}

/// Names of the command kinds, by [`command_kind_index`].
pub const COMMAND_KIND_NAMES: [&str; COMMAND_KINDS] = [
    "new_order",
    "cancel_order",
    "replace_order",
    "mass_cancel",
    "venue_ack",
    "venue_reject",
    "venue_fill",
    "venue_cancel_ack",
    "venue_replace_ack",
    "venue_cancel_reject",
    "l2_update",
    "l3_add",
    "l3_modify",
    "l3_delete",
    "l3_execute",
    "trade",
    "snapshot",
    "venue_status",
    "session_logon",
    "session_logout",
    "timer",
    "set_limit",
    "set_trading_state",
    "kill_switch",
];

/// The core state machine. See the module docs for the contract.
pub struct Core {
    now: TimestampNs,
    next_order_id: u64,
    instruments: Vec<Instrument>,
    markets: Markets,
    sessions: Sessions,
    orders: OrderTable,
    risk: RiskEngine,
    positions: PositionBook,
    /// Held (stop) orders in the table; the trigger scan is skipped when zero.
    held_orders: u32,
    counters: CoreCounters,
}

impl Core {
    /// Builds a core from its configuration, reserving every table.
    pub fn new(config: &CoreConfig) -> Result<Core, CoreConfigError> {
        let risk_config = config.validate()?;
        let instrument_ids: Vec<_> = config.instruments.iter().map(|i| i.id).collect();
        let venues: Vec<_> = config.venues.iter().map(|v| (v.id, v.feed)).collect();
        let markets = Markets::new(
            &instrument_ids,
            &venues,
            |i, v| config.instruments[i.index()].venues.contains(&v),
            config.book,
        );
        let values: Vec<i64> = risk_config.instruments.iter().map(|r| r.value_per_notional_unit).collect();
        let positions = PositionBook::new(config.account_count as usize, &values)
            .map_err(|e| CoreConfigError::Strategy { name: "positions".into(), problem: e.to_string() })?;
        Ok(Core {
            now: TimestampNs(0),
            next_order_id: 1,
            instruments: config.instruments.clone(),
            markets,
            sessions: Sessions::with_capacity(config.session_capacity),
            orders: OrderTable::new(config.orders),
            risk: RiskEngine::new(risk_config)?,
            positions,
            held_orders: 0,
            counters: CoreCounters::default(),
        })
    }

    /// Applies one command, writing its outputs to `out`.
    pub fn apply(&mut self, cmd: &Command, out: &mut impl OutputSink) {
        self.now = self.now.max(cmd.ts);
        self.counters.commands_by_kind[command_kind_index(&cmd.body)] += 1;
        let mut out = Emitter { sink: out, counters: &mut self.counters, now: self.now };
        let session = cmd.session;
        match &cmd.body {
            CommandBody::NewOrder(o) => self.new_order(session, o, &mut out),
            CommandBody::CancelOrder(c) => self.cancel_order(session, c, &mut out),
            CommandBody::ReplaceOrder(r) => self.replace_order(session, r, &mut out),
            CommandBody::MassCancel(m) => self.mass_cancel(session, m, &mut out),
            CommandBody::VenueAck(a) => self.venue_ack(a, &mut out),
            CommandBody::VenueReject(r) => self.venue_reject(r, &mut out),
            CommandBody::VenueFill(f) => self.venue_fill(f, &mut out),
            CommandBody::VenueCancelAck(c) => self.venue_cancel_ack(c, &mut out),
            CommandBody::VenueReplaceAck(r) => self.venue_replace_ack(r, &mut out),
            CommandBody::VenueCancelReject(r) => self.venue_cancel_reject(r, &mut out),
            CommandBody::L2Update(_)
            | CommandBody::L3Add(_)
            | CommandBody::L3Modify(_)
            | CommandBody::L3Delete(_)
            | CommandBody::L3Execute(_)
            | CommandBody::Trade(_)
            | CommandBody::Snapshot(_)
            | CommandBody::VenueStatus(_) => self.market_data(&cmd.body, &mut out),
            CommandBody::SessionLogon(l) => self.session_logon(session, l, &mut out),
            CommandBody::SessionLogout(l) => self.session_logout(session, l, &mut out),
            CommandBody::Timer(_) => self.timer(&mut out),
            CommandBody::SetLimit(s) => self.set_limit(session, s, &mut out),
            CommandBody::SetTradingState(s) => self.set_trading_state(session, s, &mut out),
            CommandBody::KillSwitch(k) => self.kill_switch(session, k, &mut out),
        }
    }

    /// The core's time: the latest command time seen.
    pub fn now(&self) -> TimestampNs {
        self.now
    }

    /// The next order id the core will assign.
    pub fn next_order_id(&self) -> u64 {
        self.next_order_id
    }

    /// Counters since start.
    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }

    /// The market books.
    pub fn markets(&self) -> &Markets {
        &self.markets
    }

    /// The firm's working orders.
    pub fn orders(&self) -> &OrderTable {
        &self.orders
    }

    /// Positions and P&L.
    pub fn positions(&self) -> &PositionBook {
        &self.positions
    }

    /// Risk limits, states and exposure.
    pub fn risk(&self) -> &RiskEngine {
        &self.risk
    }

    /// Instrument reference data, by id.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// A digest of the whole state (see [`digest`]). Not for the hot path: it walks every
    /// table.
    pub fn digest(&self) -> StateDigest {
        let mut d = DigestBuilder::new();
        d.component("clock", |s| {
            s(&self.now.0.to_le_bytes());
            s(&self.next_order_id.to_le_bytes());
            s(&self.held_orders.to_le_bytes());
        });
        d.component("markets", |s| self.markets.digest_into(s));
        d.component("sessions", |s| self.sessions.digest_into(s));
        d.component("orders", |s| self.orders.digest_into(&mut |b: &[u8]| s(b)));
        d.component("risk", |s| self.risk.digest_into(&mut |b: &[u8]| s(b)));
        d.component("positions", |s| self.positions.digest_into(&mut |b: &[u8]| s(b)));
        d.finish()
    }
}

/// Wraps the caller's sink: stamps core time, counts outputs and rejects.
pub(crate) struct Emitter<'a, S: OutputSink> {
    sink: &'a mut S,
    counters: &'a mut CoreCounters,
    now: TimestampNs,
}

impl<S: OutputSink> Emitter<'_, S> {
    #[inline]
    fn emit(&mut self, body: OutputBody) {
        self.counters.outputs += 1;
        let reject = match &body {
            OutputBody::ExecReport(r) => r.reject,
            OutputBody::CancelReject(r) => Some(r.reject),
            OutputBody::MassCancelReport(r) => r.reject,
            OutputBody::AdminAck(r) => r.reject,
            OutputBody::Anomaly(a) => {
                self.counters.anomalies += 1;
                Some(a.reject)
            }
            _ => None,
        };
        if let Some(r) = reject {
            // A fieldless enum's `as` cast is its declaration index, < REJECT_CODES.
            self.counters.rejects_by_code[r.code as usize] += 1;
        }
        self.sink.emit(Output { ts: self.now, body });
    }
}

#[cfg(test)]
mod tests;
