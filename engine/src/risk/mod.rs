//! Pre-trade risk inside the deterministic core (design §4, `docs/risk.md`).
//!
//! [`RiskEngine`] owns limits, trading states, kill switches, message throttles, the
//! duplicate-order ring and its own exposure aggregates. The core owns orders and
//! positions and keeps risk informed:
//!
//! 1. before entering an order it calls [`RiskEngine::check_new`] (or
//!    [`RiskEngine::check_replace`], [`RiskEngine::check_cancel`]); a reject is a
//!    [`RejectInfo`] with a stable code and the numbers that caused it;
//! 2. when an accepted order is entered it calls [`RiskEngine::on_order_open`], and then
//!    [`RiskEngine::on_order_amended`], [`RiskEngine::on_fill`] and
//!    [`RiskEngine::on_order_closed`] as its life goes on, always passing the
//!    [`Accepted::risk_price`] it was given;
//! 3. admin commands go to [`RiskEngine::set_limit`], [`RiskEngine::set_trading_state`]
//!    and [`RiskEngine::kill_switch`]; P&L updates to [`RiskEngine::on_account_pnl`].
//!
//! Contract: every input is a journaled command (or derived from one), nothing reads a
//! clock or a random source, and every table is sized in [`RiskEngine::new`]; the checks
//! and hooks never allocate. So replaying a journal reproduces every decision, and
//! [`RiskEngine::digest_into`] folds the whole logical state into the core's digest.

mod check;
pub mod config;
mod duplicate;
pub mod exposure;
pub mod limits;
pub mod order;
mod snapshot;
pub mod state;
pub mod throttle;

pub use config::{ConfigError, InstrumentRisk, NoReferenceRule, RiskConfig, StpMode};
pub use exposure::{AggregateExposure, CellExposure};
pub use limits::NO_LIMIT;
pub use order::{
    Accepted, NewOrderRisk, OpenOrder, OwnResting, ReleaseRisk, ReplaceRisk, RiskContext, StpAction,
};
pub use state::LossBreach;

use crate::schema::{
    KillSwitch, KillSwitchAction, LimitKind, LimitScope, RejectCode, RejectInfo, Scope, SetLimit,
    SetTradingState, TradingState,
};
use crate::{AccountId, InstrumentId, Price, Qty, SessionId, Side, TimestampNs};
pub(crate) use check::Checked;
use check::{Entry, Terms};
use duplicate::DuplicateRing;
use exposure::Exposure;
use limits::Limits;
use state::States;
use throttle::TokenBucket;

/// The three session throttles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Throttle {
    New = 0,
    Amend = 1,
    Cancel = 2,
}

impl Throttle {
    const ALL: [Throttle; 3] = [Throttle::New, Throttle::Amend, Throttle::Cancel];

    fn kind(self) -> LimitKind {
        match self {
            Throttle::New => LimitKind::NewOrdersPerSec,
            Throttle::Amend => LimitKind::AmendsPerSec,
            Throttle::Cancel => LimitKind::CancelsPerSec,
        }
    }

    fn code(self) -> RejectCode {
        match self {
            Throttle::New => RejectCode::ThrottleNew,
            Throttle::Amend => RejectCode::ThrottleAmend,
            Throttle::Cancel => RejectCode::ThrottleCancel,
        }
    }

    fn of(kind: LimitKind) -> Option<Throttle> {
        Throttle::ALL.into_iter().find(|t| t.kind() == kind)
    }
}

/// Pre-trade risk; see the module docs.
#[derive(Clone, Debug)]
pub struct RiskEngine {
    instruments: Vec<InstrumentRisk>,
    limits: Limits,
    buckets: Vec<[TokenBucket; 3]>,
    states: States,
    exposure: Exposure,
    duplicates: DuplicateRing,
    no_reference: NoReferenceRule,
    stp: StpMode,
    trading_day_offset_ns: u64,
}

impl RiskEngine {
    /// Builds every table from `config`. Default limits go through the same validation as
    /// `SetLimit`.
    pub fn new(config: RiskConfig) -> Result<Self, ConfigError> {
        for (index, inst) in config.instruments.iter().enumerate() {
            if inst.id.index() != index {
                return Err(ConfigError::InstrumentIdsNotDense { index, id: inst.id });
            }
            if inst.value_per_notional_unit <= 0 {
                return Err(ConfigError::NonPositiveValuation {
                    id: inst.id,
                    value: inst.value_per_notional_unit,
                });
            }
        }
        let (accounts, sessions) =
            (config.account_count as usize, config.session_capacity as usize);
        let n = config.instruments.len();
        let mut table = Limits::new(accounts, n, sessions);
        let mut apply = |name: &'static str, scope: LimitScope, list: &[(LimitKind, i64)]| {
            for &(kind, value) in list {
                table.apply(scope, kind, value).map_err(|_| ConfigError::InvalidLimit {
                    scope: name,
                    kind,
                    value,
                })?;
            }
            Ok(())
        };
        apply("firm", LimitScope::Firm, &config.firm_limits)?;
        // Validate the per-scope defaults even when there is nobody to apply them to.
        let (a0, i0, s0) = (AccountId(0), InstrumentId(0), SessionId(0));
        for (name, scope, list) in [
            ("account", LimitScope::Account(a0), &config.account_defaults),
            (
                "account-instrument",
                LimitScope::AccountInstrument(a0, i0),
                &config.account_instrument_defaults,
            ),
            ("session", LimitScope::Session(s0), &config.session_defaults),
        ] {
            for &(kind, value) in list.iter() {
                if !limits::allowed(kind, level_of(scope)) || !limits::value_ok(kind, value) {
                    return Err(ConfigError::InvalidLimit { scope: name, kind, value });
                }
            }
        }
        for a in 0..config.account_count {
            apply("account", LimitScope::Account(AccountId(a)), &config.account_defaults)?;
            for i in 0..n as u32 {
                let scope = LimitScope::AccountInstrument(AccountId(a), InstrumentId(i));
                apply("account-instrument", scope, &config.account_instrument_defaults)?;
            }
        }
        for s in 0..config.session_capacity {
            apply("session", LimitScope::Session(SessionId(s)), &config.session_defaults)?;
        }
        let buckets = table
            .sessions
            .iter()
            .map(|set| Throttle::ALL.map(|t| TokenBucket::full(set.get(t.kind()))))
            .collect();
        let vpn = config.instruments.iter().map(|i| i.value_per_notional_unit).collect();
        Ok(Self {
            instruments: config.instruments,
            limits: table,
            buckets,
            states: States::new(accounts, sessions),
            exposure: Exposure::new(accounts, vpn),
            duplicates: DuplicateRing::new(config.duplicate_ring_capacity),
            no_reference: config.no_reference,
            stp: config.stp,
            trading_day_offset_ns: config.trading_day_offset_ns,
        })
    }

    // ---- checks -------------------------------------------------------------------------

    /// Checks a new order from `session` at command time `now`. On success the core enters
    /// the order, acts on [`Accepted::stp`] and calls [`Self::on_order_open`] with
    /// [`Accepted::risk_price`].
    ///
    /// Always inlined: the core calls it at one place, once per new order, and the checks
    /// then read the order's terms where the caller has them.
    #[inline(always)]
    pub fn check_new(
        &mut self,
        now: TimestampNs,
        session: SessionId,
        order: &NewOrderRisk,
        ctx: &RiskContext,
    ) -> Result<Accepted, RejectInfo> {
        self.check_new_terms(now, session, order, ctx, false).map(Checked::accepted)
    }

    /// As [`Self::check_new`], for an order whose shape the core has checked already with
    /// the same rules (display quantity within `0..=qty`, a positive limit price for limit
    /// and stop-limit orders, a positive stop price for stop and stop-limit orders): those
    /// checks are not repeated. Also answers the order's value, for
    /// [`Self::on_new_order_open`].
    #[inline(always)]
    pub(crate) fn check_shaped_new(
        &mut self,
        now: TimestampNs,
        session: SessionId,
        order: &NewOrderRisk,
        ctx: &RiskContext,
    ) -> Result<Checked, RejectInfo> {
        self.check_new_terms(now, session, order, ctx, true)
    }

    #[inline(always)]
    fn check_new_terms(
        &mut self,
        now: TimestampNs,
        session: SessionId,
        order: &NewOrderRisk,
        ctx: &RiskContext,
        shaped: bool,
    ) -> Result<Checked, RejectInfo> {
        self.apply_reference(order.instrument, ctx);
        let s = self.session_index(session)?;
        self.take_token(now, s, Throttle::New)?;
        let terms = Terms {
            account: order.account,
            instrument: order.instrument,
            side: order.side,
            ord_type: order.ord_type,
            flags: order.flags,
            price: order.price,
            stop_price: order.stop_price,
            qty: order.qty,
            leaves: order.qty,
            display_qty: order.display_qty,
            entry: Entry::New,
            shaped,
        };
        self.check_terms(now, s, &terms, ctx)
    }

    /// Checks a cancel/replace. Limits on the order's size apply to the new terms; position,
    /// gross exposure and credit count only the change in working exposure, so a replace
    /// that reduces exposure is never rejected for it. On success the core calls
    /// [`Self::on_order_amended`] when the replace takes effect.
    pub fn check_replace(
        &mut self,
        now: TimestampNs,
        session: SessionId,
        order: &ReplaceRisk,
        ctx: &RiskContext,
    ) -> Result<Accepted, RejectInfo> {
        self.apply_reference(order.current.instrument, ctx);
        let s = self.session_index(session)?;
        self.take_token(now, s, Throttle::Amend)?;
        let c = order.current;
        let terms = Terms {
            account: c.account,
            instrument: c.instrument,
            side: c.side,
            ord_type: order.ord_type,
            flags: order.flags,
            price: order.price,
            stop_price: order.stop_price,
            qty: order.qty,
            leaves: order.leaves,
            display_qty: order.display_qty,
            entry: Entry::Replace(c.risk_price, c.leaves),
            shaped: false,
        };
        self.check_terms(now, s, &terms, ctx).map(Checked::accepted)
    }

    /// Checks a held order the core is releasing to its venue (a stop, stop-limit or
    /// trailing stop that triggered), owned by `session`: every check of a new order
    /// against the limits and states in force now, with the order as it goes to the venue
    /// (a market order, or a limit at the stop-limit's price). Its own exposure and
    /// working-order count, counted since entry, are not counted twice; no throttle token
    /// is spent and the duplicate-order check does not apply (the core, not the client,
    /// sends it). On success the core re-values the order with
    /// [`Self::on_order_amended`] at [`Accepted::risk_price`].
    pub fn check_release(
        &mut self,
        now: TimestampNs,
        session: SessionId,
        order: &ReleaseRisk,
        ctx: &RiskContext,
    ) -> Result<Accepted, RejectInfo> {
        self.apply_reference(order.current.instrument, ctx);
        let s = self.session_index(session)?;
        let c = order.current;
        let terms = Terms {
            account: c.account,
            instrument: c.instrument,
            side: c.side,
            ord_type: order.ord_type,
            flags: order.flags,
            price: order.price,
            stop_price: Price(0),
            qty: order.qty,
            leaves: c.leaves,
            display_qty: order.display_qty,
            entry: Entry::Release(c.risk_price, c.leaves),
            shaped: false,
        };
        self.check_terms(now, s, &terms, ctx).map(Checked::accepted)
    }

    /// Checks a client's cancel request: only the cancel throttle. Cancels the core makes
    /// itself (kill switch, cancel on disconnect, STP, mass cancel fan-out) are not
    /// throttled and do not call this.
    pub fn check_cancel(&mut self, now: TimestampNs, session: SessionId) -> Result<(), RejectInfo> {
        let s = self.session_index(session)?;
        self.take_token(now, s, Throttle::Cancel)
    }

    /// The context's reference price becomes the instrument's mark whatever the check
    /// decides, so exposure valuation never depends on whether an order was accepted.
    #[inline]
    fn apply_reference(&mut self, instrument: InstrumentId, ctx: &RiskContext) {
        // Most orders see the mark of the order before: nothing to re-value.
        let unchanged = self.exposure.marks.get(instrument.index()) == Some(&ctx.reference);
        if let (Some(reference), false) = (ctx.reference, unchanged) {
            self.on_mark(instrument, reference);
        }
    }

    fn session_index(&self, session: SessionId) -> Result<usize, RejectInfo> {
        let s = session.index();
        if s < self.buckets.len() {
            Ok(s)
        } else {
            let cap = self.buckets.len() as i64;
            Err(RejectInfo::new(RejectCode::TableCapacity, i64::from(session.0), cap))
        }
    }

    /// Always inlined: every client message spends a token, and at each call the throttle
    /// is a constant.
    #[inline(always)]
    fn take_token(&mut self, now: TimestampNs, s: usize, t: Throttle) -> Result<(), RejectInfo> {
        let rate = self.limits.sessions[s].get(t.kind());
        if self.buckets[s][t as usize].try_take(now, rate) {
            Ok(())
        } else {
            // The bucket holds less than one message: this one would exceed the rate.
            Err(RejectInfo::new(t.code(), rate.saturating_add(1), rate))
        }
    }

    // ---- exposure hooks -----------------------------------------------------------------

    fn cell_index(&self, account: AccountId, instrument: InstrumentId) -> Option<(usize, usize)> {
        let ok = account.index() < self.states.account_state.len()
            && instrument.index() < self.instruments.len();
        debug_assert!(ok, "hook for unknown account {account} or instrument {instrument}");
        ok.then_some((account.index(), instrument.index()))
    }

    /// An accepted order was entered with `order.leaves` working at `order.risk_price`.
    /// Always inlined: the core calls it at one place, once per new order.
    #[inline(always)]
    pub fn on_order_open(&mut self, order: &OpenOrder) {
        if let Some((a, i)) = self.cell_index(order.account, order.instrument) {
            self.exposure.open(a, i, order.side, order.risk_price, order.leaves);
        }
    }

    /// As [`Self::on_order_open`] for a new order accepted by [`Self::check_shaped_new`],
    /// with the value it answered ([`Checked::order_value_units`]: the order's whole
    /// quantity, which a new order has working, at its risk price), so it is not computed
    /// again. Always inlined: the core calls it at one place, once per new order.
    #[inline(always)]
    pub(crate) fn on_new_order_open(&mut self, order: &OpenOrder, value_units: i128) {
        debug_assert_eq!(
            value_units,
            exposure::order_value(
                order.risk_price,
                order.leaves,
                self.instruments[order.instrument.index()].value_per_notional_unit
            )
        );
        if let Some((a, i)) = self.cell_index(order.account, order.instrument) {
            self.exposure.open_valued(a, i, order.side, order.leaves, value_units);
        }
    }

    /// A replace took effect: `before` is the order as counted until now, and it now works
    /// `leaves` at `risk_price`.
    pub fn on_order_amended(&mut self, before: &OpenOrder, risk_price: Price, leaves: Qty) {
        if let Some((a, i)) = self.cell_index(before.account, before.instrument) {
            let after = (risk_price, leaves);
            self.exposure.amend(a, i, before.side, (before.risk_price, before.leaves), after);
        }
    }

    /// `qty` of an order whose risk price is `order_risk_price` filled: the order's leaves
    /// shrink by `qty` and the position moves by `qty`. Call [`Self::on_order_closed`] too
    /// when the fill completes the order (with zero leaves).
    pub fn on_fill(
        &mut self,
        account: AccountId,
        instrument: InstrumentId,
        side: Side,
        order_risk_price: Price,
        qty: Qty,
    ) {
        if let Some((a, i)) = self.cell_index(account, instrument) {
            self.exposure.fill(a, i, side, order_risk_price, qty);
        }
    }

    /// An order stopped working (filled, cancelled, expired, rejected by the venue) with
    /// `order.leaves` unfilled.
    pub fn on_order_closed(&mut self, order: &OpenOrder) {
        if let Some((a, i)) = self.cell_index(order.account, order.instrument) {
            self.exposure.close(a, i, order.side, order.risk_price, order.leaves);
        }
    }

    /// The instrument's reference price changed: positions in it are re-valued. The checks
    /// also apply [`RiskContext::reference`] as the mark, so calling this is only needed to
    /// keep exposure fresh between orders. O(accounts).
    pub fn on_mark(&mut self, instrument: InstrumentId, mark: Price) {
        if instrument.index() < self.instruments.len() {
            self.exposure.set_mark(instrument, mark);
        }
    }

    // ---- admin and state ----------------------------------------------------------------

    /// Applies a `SetLimit` command. `ADMIN_INVALID` when the kind cannot be set at that
    /// scope (value −1), the id is unknown (value = the id) or the value is meaningless
    /// (value = the value).
    pub fn set_limit(&mut self, cmd: &SetLimit) -> Result<(), RejectInfo> {
        let old = self.limits.get(cmd.scope, cmd.kind);
        self.limits.apply(cmd.scope, cmd.kind, cmd.value)?;
        if let (LimitScope::Session(s), Some(t), Some(old)) =
            (cmd.scope, Throttle::of(cmd.kind), old)
        {
            self.buckets[s.index()][t as usize].on_rate_change(old, cmd.value);
        }
        Ok(())
    }

    /// Applies a `SetTradingState` command (firm or account; a session scope or unknown
    /// account is `ADMIN_INVALID`).
    pub fn set_trading_state(&mut self, cmd: &SetTradingState) -> Result<(), RejectInfo> {
        match cmd.scope {
            Scope::Firm => self.states.firm_state = cmd.state,
            Scope::Account(a) => match self.states.account_state.get_mut(a.index()) {
                Some(s) => *s = cmd.state,
                None => return Err(RejectInfo::new(RejectCode::AdminInvalid, i64::from(a.0), 0)),
            },
            Scope::Session(s) => {
                return Err(RejectInfo::new(RejectCode::AdminInvalid, i64::from(s.0), 0));
            }
        }
        Ok(())
    }

    /// Applies a `KillSwitch` command. On `Engage` returns the scope whose working orders
    /// the core must cancel (it iterates its own order table); on `Release`, `None`.
    pub fn kill_switch(&mut self, cmd: &KillSwitch) -> Result<Option<Scope>, RejectInfo> {
        let engaged = cmd.action == KillSwitchAction::Engage;
        let invalid = |id: u32| Err(RejectInfo::new(RejectCode::AdminInvalid, i64::from(id), 0));
        let flag = match cmd.scope {
            Scope::Firm => &mut self.states.firm_kill,
            Scope::Account(a) => match self.states.account_kill.get_mut(a.index()) {
                Some(f) => f,
                None => return invalid(a.0),
            },
            Scope::Session(s) => match self.states.session_kill.get_mut(s.index()) {
                Some(f) => f,
                None => return invalid(s.0),
            },
        };
        *flag = engaged;
        Ok(engaged.then_some(cmd.scope))
    }

    /// A session ended. The core cancels its orders if it asked for cancel-on-disconnect.
    /// Risk deliberately keeps the session's throttle buckets and kill switch: a client must
    /// not refill its bucket or clear a kill by reconnecting.
    pub fn on_session_logout(&mut self, session: SessionId) {
        debug_assert!(session.index() < self.buckets.len(), "logout of unknown session");
    }

    /// The account's equity P&L (realized + unrealized − fees since it started, valuation
    /// units) at command time `now`. Returns the trading-state change a loss limit forces,
    /// already applied here, for the core to journal and act on (a `Halted` account's
    /// working orders are the core's to cancel).
    pub fn on_account_pnl(
        &mut self,
        account: AccountId,
        now: TimestampNs,
        equity_pnl_value_units: i128,
    ) -> Option<LossBreach> {
        let a = account.index();
        let tracker = self.states.loss.get_mut(a)?;
        let (loss, drawdown) =
            tracker.update(now, self.trading_day_offset_ns, equity_pnl_value_units);
        let set = &self.limits.accounts[a];
        let breach = state::loss_transition(
            self.states.account_state[a],
            loss,
            drawdown,
            set.get(LimitKind::DailyLoss),
            set.get(LimitKind::MaxDrawdown),
        )?;
        self.states.account_state[a] = breach.state;
        Some(breach)
    }

    // ---- inspection ---------------------------------------------------------------------

    /// The limit set at exactly `scope` ([`NO_LIMIT`] when none), `None` for an unknown id.
    pub fn limit(&self, scope: LimitScope, kind: LimitKind) -> Option<i64> {
        self.limits.get(scope, kind)
    }

    /// The trading state an account's orders are subject to (firm and account combined).
    pub fn trading_state(&self, account: AccountId) -> Option<TradingState> {
        (account.index() < self.states.account_state.len())
            .then(|| self.states.effective(account.index()))
    }

    /// True when a kill switch is engaged at exactly `scope`.
    pub fn kill_engaged(&self, scope: Scope) -> bool {
        match scope {
            Scope::Firm => self.states.firm_kill,
            Scope::Account(a) => self.states.account_kill.get(a.index()).copied().unwrap_or(false),
            Scope::Session(s) => self.states.session_kill.get(s.index()).copied().unwrap_or(false),
        }
    }

    /// Exposure of one account in one instrument.
    pub fn cell_exposure(
        &self,
        account: AccountId,
        instrument: InstrumentId,
    ) -> Option<CellExposure> {
        let ok = account.index() < self.states.account_state.len()
            && instrument.index() < self.instruments.len();
        ok.then(|| *self.exposure.cell(account.index(), instrument.index()))
    }

    /// One account's aggregate exposure.
    pub fn account_exposure(&self, account: AccountId) -> Option<AggregateExposure> {
        self.exposure.accounts.get(account.index()).copied()
    }

    /// The firm's aggregate exposure.
    pub fn firm_exposure(&self) -> AggregateExposure {
        self.exposure.firm
    }

    /// The instrument's current mark.
    pub fn mark(&self, instrument: InstrumentId) -> Option<Price> {
        self.exposure.marks.get(instrument.index()).copied().flatten()
    }

    /// Risk reference data of an instrument.
    pub fn instrument(&self, instrument: InstrumentId) -> Option<&InstrumentRisk> {
        self.instruments.get(instrument.index())
    }

    /// Feeds the whole logical state to `sink` in a canonical order: limits (firm,
    /// accounts, cells, sessions; every kind in [`limits::ALL_KINDS`] order), trading
    /// states, kill switches and loss trackers, throttle buckets, marks and exposures, and
    /// the duplicate ring oldest first. Integers are little-endian. Configuration-only data
    /// (instruments, modes) is not fed: it is the same on every replay of a journal.
    pub fn digest_into(&self, sink: &mut impl FnMut(&[u8])) {
        self.limits.digest_into(sink);
        self.states.digest_into(sink);
        for b in self.buckets.iter().flatten() {
            sink(&b.credit.to_le_bytes());
            sink(&b.last_refill_ns.to_le_bytes());
        }
        self.exposure.digest_into(sink);
        self.duplicates.digest_into(sink);
    }
}

fn level_of(scope: LimitScope) -> limits::Level {
    match scope {
        LimitScope::Firm => limits::Level::Firm,
        LimitScope::Account(_) => limits::Level::Account,
        LimitScope::AccountInstrument(..) => limits::Level::Cell,
        LimitScope::Session(_) => limits::Level::Session,
    }
}
