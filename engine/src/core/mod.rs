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
mod host;
pub mod market;
mod report;
mod resting;
pub mod sessions;
pub mod snapshot;
pub mod stops;
pub mod testkit;
mod venue;

pub use config::{
    CoreConfig, CoreConfigError, DEFAULT_STRATEGY_EVENTS_PER_COMMAND, RiskSettings, StrategySpec,
    VenueConfig,
};
pub use digest::StateDigest;
pub use market::{FeedKind, Markets};
pub use snapshot::SnapshotError;

use crate::orders::OrderTable;
use crate::positions::PositionBook;
use crate::risk::RiskEngine;
use crate::schema::{
    Command, CommandBody, Output, OutputBody, RejectCode, SessionKind, SessionLogon,
};
use crate::strategy::{OwnFill, build_strategy};
use crate::{Instrument, SessionId, TimestampNs};
use digest::DigestBuilder;
use host::{Strategies, StrategyQueue, Trigger};
use sessions::Sessions;
use venue::MarketChange;

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
    state: State,
    counters: CoreCounters,
    strategies: Strategies,
    queue: StrategyQueue,
    /// What configuration built this core; recorded in its snapshots.
    fingerprint: snapshot::ConfigFingerprint,
}

/// Everything the command handlers change; kept apart from the counters and strategies so
/// a handler, the output emitter and the strategy host borrow disjoint parts.
pub(crate) struct State {
    now: TimestampNs,
    next_order_id: u64,
    instruments: Vec<Instrument>,
    markets: Markets,
    sessions: Sessions,
    orders: OrderTable,
    risk: RiskEngine,
    positions: PositionBook,
    /// Held (stop) orders, in entry order: a trade looks only at these.
    held: Vec<crate::OrderId>,
    /// The firm's own resting limit orders by price (derived; for self-trade prevention).
    own: resting::OwnResting,
}

impl Core {
    /// Builds a core from its configuration, reserving every table. Strategy sessions are
    /// logged on here: they exist from the first command.
    pub fn new(config: &CoreConfig) -> Result<Core, CoreConfigError> {
        let risk_config = config.validate()?;
        let fingerprint = snapshot::ConfigFingerprint::of(config, &risk_config);
        let instrument_ids: Vec<_> = config.instruments.iter().map(|i| i.id).collect();
        let venues: Vec<_> = config.venues.iter().map(|v| (v.id, v.feed)).collect();
        let markets = Markets::new(
            &instrument_ids,
            &venues,
            |i, v| config.instruments[i.index()].venues.contains(&v),
            config.book,
        );
        let values: Vec<i64> =
            risk_config.instruments.iter().map(|r| r.value_per_notional_unit).collect();
        let positions = PositionBook::new(config.account_count as usize, &values)
            .map_err(CoreConfigError::Positions)?;
        let mut sessions = Sessions::with_capacity(config.session_capacity);
        let mut queue =
            StrategyQueue::new(config.session_capacity, config.strategy_events_per_command);
        let mut strategies = Strategies::empty();
        for spec in &config.strategies {
            let params: Vec<(&str, &str)> =
                spec.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let strategy = build_strategy(&spec.name, &params).map_err(|e| {
                CoreConfigError::Strategy { name: spec.name.clone(), problem: e.to_string() }
            })?;
            let logon = SessionLogon {
                kind: SessionKind::Strategy,
                account: spec.account,
                cancel_on_disconnect: false,
            };
            sessions.logon(spec.session, &logon).map_err(|e| CoreConfigError::Strategy {
                name: spec.name.clone(),
                problem: e.to_string(),
            })?;
            strategies.add(&mut queue, strategy, spec.session, spec.account, spec.venue, &markets);
        }
        Ok(Core {
            state: State {
                now: TimestampNs(0),
                next_order_id: 1,
                instruments: config.instruments.clone(),
                markets,
                sessions,
                orders: OrderTable::new(config.orders),
                risk: RiskEngine::new(risk_config)?,
                positions,
                held: Vec::with_capacity(config.orders.orders_max),
                own: resting::OwnResting::new(config.instruments.len(), config.book),
            },
            counters: CoreCounters::default(),
            strategies,
            queue,
            fingerprint,
        })
    }

    /// Applies one command, writing its outputs to `sink`.
    pub fn apply(&mut self, cmd: &Command, sink: &mut impl OutputSink) {
        let Core { state, counters, strategies, queue, .. } = self;
        state.now = state.now.max(cmd.ts);
        counters.commands_by_kind[command_kind_index(&cmd.body)] += 1;
        let mut out = Emitter { sink, counters, queue, now: state.now };
        // L2 updates, most of the traffic, are tested for first, and every other command
        // is applied out of line: a conditional branch the data predicts instead of a jump
        // table's indirect one, and a small frame for the common path.
        let trigger = if let CommandBody::L2Update(u) = &cmd.body {
            if let Some(i) = state.l2_update(u, &mut out) {
                // The strategies run here with the trigger's kind known, so their host
                // needs no dispatch on it.
                if !strategies.is_empty() {
                    strategies.run(state, Trigger::Book(i), &mut out);
                }
                return;
            }
            Trigger::None
        } else {
            apply_other(state, cmd.session, &cmd.body, &mut out)
        };
        if !strategies.is_empty() {
            strategies.run(state, trigger, &mut out);
        }
    }

    /// The core's time: the latest command time seen.
    pub fn now(&self) -> TimestampNs {
        self.state.now
    }

    /// The next order id the core will assign.
    pub fn next_order_id(&self) -> u64 {
        self.state.next_order_id
    }

    /// Counters since start.
    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }

    /// Strategy reports carried to a later command by the per-command delivery bound.
    pub fn strategy_events_deferred(&self) -> u64 {
        self.queue.deferred_total
    }

    /// The market books.
    pub fn markets(&self) -> &Markets {
        &self.state.markets
    }

    /// The firm's working orders.
    pub fn orders(&self) -> &OrderTable {
        &self.state.orders
    }

    /// Positions and P&L.
    pub fn positions(&self) -> &PositionBook {
        &self.state.positions
    }

    /// Risk limits, states and exposure.
    pub fn risk(&self) -> &RiskEngine {
        &self.state.risk
    }

    /// Instrument reference data, by id.
    pub fn instruments(&self) -> &[Instrument] {
        &self.state.instruments
    }

    /// True when the own-resting aggregate agrees with a rebuild from the order table
    /// (for tests: the aggregate is derived state and must never drift).
    pub fn own_resting_consistent(&self) -> bool {
        self.state.own_resting_consistent()
    }

    /// A digest of the whole state (see [`digest`]). Not for the hot path: it walks every
    /// table.
    pub fn digest(&self) -> StateDigest {
        let s = &self.state;
        let mut d = DigestBuilder::new();
        d.component("clock", |h| {
            h(&s.now.0.to_le_bytes());
            h(&s.next_order_id.to_le_bytes());
            h(&(s.held.len() as u64).to_le_bytes());
            for id in &s.held {
                h(&id.0.to_le_bytes());
            }
        });
        d.component("markets", |h| s.markets.digest_into(h));
        d.component("sessions", |h| s.sessions.digest_into(h));
        d.component("orders", |h| s.orders.digest_into(&mut |b: &[u8]| h(b)));
        d.component("risk", |h| s.risk.digest_into(&mut |b: &[u8]| h(b)));
        d.component("positions", |h| s.positions.digest_into(&mut |b: &[u8]| h(b)));
        d.finish()
    }
}

/// [`Core::apply`] for every command but an L2 update; returns what the strategies are
/// called for.
#[inline(never)]
fn apply_other<S: OutputSink>(
    state: &mut State,
    session: SessionId,
    body: &CommandBody,
    out: &mut Emitter<'_, S>,
) -> Trigger {
    match body {
        CommandBody::NewOrder(o) => state.new_order(session, o, out),
        CommandBody::CancelOrder(c) => state.cancel_order(session, c, out),
        CommandBody::ReplaceOrder(r) => state.replace_order(session, r, out),
        CommandBody::MassCancel(m) => state.mass_cancel(session, m, out),
        CommandBody::VenueAck(a) => state.venue_ack(a, out),
        CommandBody::VenueReject(r) => state.venue_reject(r, out),
        CommandBody::VenueFill(f) => state.venue_fill(f, out),
        CommandBody::VenueCancelAck(c) => state.venue_cancel_ack(c, out),
        CommandBody::VenueReplaceAck(r) => state.venue_replace_ack(r, out),
        CommandBody::VenueCancelReject(r) => state.venue_cancel_reject(r, out),
        CommandBody::L2Update(u) => {
            return match state.l2_update(u, out) {
                Some(i) => Trigger::Book(i),
                None => Trigger::None,
            };
        }
        CommandBody::Trade(t) => {
            return match state.trade(t, out) {
                Some(_) => Trigger::Trade(*t),
                None => Trigger::None,
            };
        }
        CommandBody::L3Add(_)
        | CommandBody::L3Modify(_)
        | CommandBody::L3Delete(_)
        | CommandBody::L3Execute(_)
        | CommandBody::Snapshot(_)
        | CommandBody::VenueStatus(_) => {
            // Not a trade print (those are matched above): any change is a book's.
            return match state.market_data(body, out) {
                MarketChange::Book(i) | MarketChange::Trade(i) => Trigger::Book(i),
                MarketChange::None => Trigger::None,
            };
        }
        CommandBody::SessionLogon(l) => state.session_logon(session, l, out),
        CommandBody::SessionLogout(l) => state.session_logout(session, l, out),
        CommandBody::Timer(_) => {
            state.timer(out);
            return Trigger::Timer;
        }
        CommandBody::SetLimit(s) => state.set_limit(session, s, out),
        CommandBody::SetTradingState(s) => state.set_trading_state(session, s, out),
        CommandBody::KillSwitch(k) => state.kill_switch(session, k, out),
    }
    Trigger::None
}

/// Wraps the caller's sink: stamps core time, counts outputs and rejects.
pub(crate) struct Emitter<'a, S: OutputSink> {
    sink: &'a mut S,
    counters: &'a mut CoreCounters,
    queue: &'a mut StrategyQueue,
    now: TimestampNs,
}

impl<S: OutputSink> Emitter<'_, S> {
    /// Always inlined: at each call the kind of output is known, so the reject count folds
    /// to a constant or a field read, and the output is built where the sink takes it.
    /// The sink's own `emit` is inlined or not as it says.
    #[inline(always)]
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
        self.queue.observe(&body);
        self.sink.emit(Output { ts: self.now, body });
    }

    #[inline]
    fn count_fill(&mut self) {
        self.counters.fills += 1;
    }

    /// Tells the owning strategy, if any, of a fill.
    #[inline]
    fn own_fill(&mut self, session: SessionId, fill: OwnFill) {
        self.queue.fill(session, fill);
    }
}

#[cfg(test)]
mod tests;

/// Applies a command to a core with journaling: the input is appended before it is
/// applied and each output after (design §1). `outputs` is cleared and left holding this
/// command's outputs, for the caller to publish. An append error stops the work at once:
/// the command is not applied (input failed) or its outputs are not all recorded (output
/// failed); either way the caller must stop acknowledging.
pub fn apply_journaled<J: crate::port::CommandJournal>(
    core: &mut Core,
    journal: &mut J,
    cmd: &Command,
    outputs: &mut Vec<Output>,
) -> Result<u64, J::Error> {
    let seq = journal.append_input(cmd)?;
    outputs.clear();
    core.apply(cmd, outputs);
    for out in outputs.iter() {
        journal.append_output(out)?;
    }
    Ok(seq)
}
