//! The limit tables: one value per (scope, kind), changed only by `SetLimit` commands (or
//! the start-up defaults, which go through the same validation).
//!
//! Which scopes each kind may be set at, and its unit there:
//!
//! | kind | firm | account | account × instrument | session |
//! |---|---|---|---|---|
//! | `MaxOrderQty` | lots | lots | lots | – |
//! | `MaxOrderNotional` | value units | value units | ticks·lots | – |
//! | `PriceCollarBps` | bps | bps | bps | – |
//! | `MaxPositionLong` / `Short` | – | – | lots | – |
//! | `MaxGrossExposure`, `MaxCredit` | value units | value units | – | – |
//! | `MaxOpenOrders` | count | count | count | – |
//! | `*PerSec` throttles | – | – | – | messages/s |
//! | `DailyLoss`, `MaxDrawdown` | – | value units | – | – |
//! | `DuplicateWindowMs` | ms | – | – | – |
//! | `Restricted` | – | – | 0 / 1 | – |
//!
//! Invariant: every stored value is `>= 0`; [`NO_LIMIT`] (`i64::MAX`) means "not in force".

use crate::schema::{LimitKind, LimitScope, RejectCode, RejectInfo};

/// The value that removes a limit.
pub const NO_LIMIT: i64 = i64::MAX;

/// The longest duplicate window accepted, ms (one day): longer makes no sense and would
/// overflow nothing, but is almost certainly a unit mistake.
pub const DUPLICATE_WINDOW_MS_MAX: i64 = 86_400_000;

/// Every limit kind, in the canonical (digest) order.
pub const ALL_KINDS: [LimitKind; 15] = [
    LimitKind::MaxOrderQty,
    LimitKind::MaxOrderNotional,
    LimitKind::PriceCollarBps,
    LimitKind::MaxPositionLong,
    LimitKind::MaxPositionShort,
    LimitKind::MaxGrossExposure,
    LimitKind::MaxCredit,
    LimitKind::MaxOpenOrders,
    LimitKind::NewOrdersPerSec,
    LimitKind::AmendsPerSec,
    LimitKind::CancelsPerSec,
    LimitKind::DailyLoss,
    LimitKind::MaxDrawdown,
    LimitKind::DuplicateWindowMs,
    LimitKind::Restricted,
];

const SLOTS: usize = 16;

/// One value per kind, indexed by the kind's `repr(u8)` (1..=15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LimitSet([i64; SLOTS]);

impl LimitSet {
    pub(crate) const NONE: LimitSet = LimitSet([NO_LIMIT; SLOTS]);

    #[inline]
    pub(crate) fn get(&self, kind: LimitKind) -> i64 {
        self.0[kind as usize]
    }

    #[inline]
    fn set(&mut self, kind: LimitKind, value: i64) {
        debug_assert!(value >= 0);
        self.0[kind as usize] = value;
    }
}

/// The level a limit is stored at (a [`LimitScope`] without its ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    Firm,
    Account,
    Cell,
    Session,
}

/// True when `kind` may be set at `level`.
pub(crate) fn allowed(kind: LimitKind, level: Level) -> bool {
    use LimitKind::*;
    match kind {
        MaxOrderQty | MaxOrderNotional | PriceCollarBps | MaxOpenOrders => {
            matches!(level, Level::Firm | Level::Account | Level::Cell)
        }
        MaxPositionLong | MaxPositionShort | Restricted => level == Level::Cell,
        MaxGrossExposure | MaxCredit => matches!(level, Level::Firm | Level::Account),
        NewOrdersPerSec | AmendsPerSec | CancelsPerSec => level == Level::Session,
        DailyLoss | MaxDrawdown => level == Level::Account,
        DuplicateWindowMs => level == Level::Firm,
    }
}

/// True when `value` is meaningful for `kind` (scope aside).
pub(crate) fn value_ok(kind: LimitKind, value: i64) -> bool {
    match kind {
        _ if value < 0 => false,
        LimitKind::Restricted => matches!(value, 0 | 1 | NO_LIMIT),
        LimitKind::DuplicateWindowMs => value <= DUPLICATE_WINDOW_MS_MAX || value == NO_LIMIT,
        _ => true,
    }
}

/// What the three levels in force over one account × instrument come to, for the checks'
/// fast path: a check passes at once when it passes against these, and only when it does
/// not are the levels read one by one for the exact reject. Derived from the limit sets
/// (recomputed by every change to them), so never digested or snapshotted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gate {
    /// The smallest `MaxOrderQty` of cell, account and firm.
    pub(crate) max_order_qty: i64,
    /// The smaller `MaxOrderNotional` of account and firm (value units).
    pub(crate) max_order_value: i64,
    /// The smallest `PriceCollarBps` of cell, account and firm.
    pub(crate) collar_bps: i64,
    /// Some `MaxGrossExposure` or `MaxCredit` is in force at account or firm.
    pub(crate) exposure_limited: bool,
    /// Some `MaxOpenOrders` is in force at cell, account or firm.
    pub(crate) open_orders_limited: bool,
    /// Some limit read from the cell's own set alone is set there: `Restricted`,
    /// `MaxOrderNotional` (ticks·lots), `MaxPositionLong` or `MaxPositionShort`. When
    /// none is, those checks cannot refuse and are passed over.
    pub(crate) cell_limited: bool,
}

impl Gate {
    fn of(cell: &LimitSet, account: &LimitSet, firm: &LimitSet) -> Gate {
        let min3 = |k| cell.get(k).min(account.get(k)).min(firm.get(k));
        let set = |s: &LimitSet, k| s.get(k) != NO_LIMIT;
        Gate {
            max_order_qty: min3(LimitKind::MaxOrderQty),
            max_order_value: account
                .get(LimitKind::MaxOrderNotional)
                .min(firm.get(LimitKind::MaxOrderNotional)),
            collar_bps: min3(LimitKind::PriceCollarBps),
            exposure_limited: [account, firm]
                .iter()
                .any(|s| set(s, LimitKind::MaxGrossExposure) || set(s, LimitKind::MaxCredit)),
            open_orders_limited: [cell, account, firm]
                .iter()
                .any(|s| set(s, LimitKind::MaxOpenOrders)),
            cell_limited: [
                LimitKind::Restricted,
                LimitKind::MaxOrderNotional,
                LimitKind::MaxPositionLong,
                LimitKind::MaxPositionShort,
            ]
            .into_iter()
            .any(|k| set(cell, k)),
        }
    }
}

/// All limits, dense tables sized at start-up.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub(crate) firm: LimitSet,
    pub(crate) accounts: Vec<LimitSet>,
    /// `accounts × instruments`, row-major by account.
    pub(crate) cells: Vec<LimitSet>,
    pub(crate) sessions: Vec<LimitSet>,
    /// Per cell, as `cells`: see [`Gate`].
    gates: Vec<Gate>,
    instruments: usize,
}

impl Limits {
    pub(crate) fn new(accounts: usize, instruments: usize, sessions: usize) -> Self {
        let none = Gate::of(&LimitSet::NONE, &LimitSet::NONE, &LimitSet::NONE);
        Self {
            firm: LimitSet::NONE,
            accounts: vec![LimitSet::NONE; accounts],
            cells: vec![LimitSet::NONE; accounts * instruments],
            sessions: vec![LimitSet::NONE; sessions],
            gates: vec![none; accounts * instruments],
            instruments,
        }
    }

    /// The fast-path summary of one cell's limits.
    #[inline]
    pub(crate) fn gate(&self, account: usize, instrument: usize) -> &Gate {
        &self.gates[account * self.instruments + instrument]
    }

    /// Recomputes the gates a change at `scope` touches.
    fn refresh_gates(&mut self, scope: LimitScope) {
        let n = self.instruments;
        let (accounts, instruments) = match scope {
            LimitScope::Firm => (0..self.accounts.len(), 0..n),
            LimitScope::Account(a) => (a.index()..a.index() + 1, 0..n),
            LimitScope::AccountInstrument(a, i) => {
                (a.index()..a.index() + 1, i.index()..i.index() + 1)
            }
            LimitScope::Session(_) => return,
        };
        for a in accounts {
            for i in instruments.clone() {
                let cell = a * n + i;
                self.gates[cell] = Gate::of(&self.cells[cell], &self.accounts[a], &self.firm);
            }
        }
    }

    #[inline]
    pub(crate) fn cell(&self, account: usize, instrument: usize) -> &LimitSet {
        &self.cells[account * self.instruments + instrument]
    }

    /// Validates and applies one limit. `ADMIN_INVALID` carries the offending number: the
    /// value when the value is bad, the id when an id is unknown, and `-1` when the kind
    /// may not be set at that scope.
    pub(crate) fn apply(
        &mut self,
        scope: LimitScope,
        kind: LimitKind,
        value: i64,
    ) -> Result<(), RejectInfo> {
        let invalid = |v: i64| Err(RejectInfo::new(RejectCode::AdminInvalid, v, 0));
        let level = match scope {
            LimitScope::Firm => Level::Firm,
            LimitScope::Account(_) => Level::Account,
            LimitScope::AccountInstrument(..) => Level::Cell,
            LimitScope::Session(_) => Level::Session,
        };
        if !allowed(kind, level) {
            return invalid(-1);
        }
        if !value_ok(kind, value) {
            return invalid(value);
        }
        // `Restricted` stores NO_LIMIT as "lifted" so every stored value reads the same way.
        let slot = match scope {
            LimitScope::Firm => &mut self.firm,
            LimitScope::Account(a) => match self.accounts.get_mut(a.index()) {
                Some(s) => s,
                None => return invalid(i64::from(a.0)),
            },
            LimitScope::AccountInstrument(a, i) => {
                if a.index() >= self.accounts.len() {
                    return invalid(i64::from(a.0));
                }
                if i.index() >= self.instruments {
                    return invalid(i64::from(i.0));
                }
                &mut self.cells[a.index() * self.instruments + i.index()]
            }
            LimitScope::Session(s) => match self.sessions.get_mut(s.index()) {
                Some(set) => set,
                None => return invalid(i64::from(s.0)),
            },
        };
        slot.set(kind, value);
        self.refresh_gates(scope);
        Ok(())
    }

    /// The value in force at exactly `scope` (no inheritance), or `None` for an unknown id.
    pub(crate) fn get(&self, scope: LimitScope, kind: LimitKind) -> Option<i64> {
        Some(match scope {
            LimitScope::Firm => self.firm.get(kind),
            LimitScope::Account(a) => self.accounts.get(a.index())?.get(kind),
            LimitScope::AccountInstrument(a, i) => {
                if a.index() >= self.accounts.len() || i.index() >= self.instruments {
                    return None;
                }
                self.cell(a.index(), i.index()).get(kind)
            }
            LimitScope::Session(s) => self.sessions.get(s.index())?.get(kind),
        })
    }

    pub(crate) fn digest_into(&self, sink: &mut impl FnMut(&[u8])) {
        let sets = std::iter::once(&self.firm)
            .chain(&self.accounts)
            .chain(&self.cells)
            .chain(&self.sessions);
        for set in sets {
            for kind in ALL_KINDS {
                sink(&set.get(kind).to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, InstrumentId, SessionId};

    #[test]
    fn scope_and_value_rules() {
        let mut l = Limits::new(2, 3, 4);
        let cell = LimitScope::AccountInstrument(AccountId(1), InstrumentId(2));
        assert_eq!(l.apply(cell, LimitKind::MaxPositionLong, 10), Ok(()));
        assert_eq!(l.get(cell, LimitKind::MaxPositionLong), Some(10));
        let bad = |v| Err(RejectInfo::new(RejectCode::AdminInvalid, v, 0));
        assert_eq!(l.apply(LimitScope::Firm, LimitKind::MaxPositionLong, 10), bad(-1));
        assert_eq!(l.apply(cell, LimitKind::MaxOrderQty, -5), bad(-5));
        assert_eq!(l.apply(cell, LimitKind::Restricted, 2), bad(2));
        assert_eq!(l.apply(LimitScope::Account(AccountId(2)), LimitKind::MaxCredit, 1), bad(2));
        assert_eq!(
            l.apply(LimitScope::Session(SessionId(9)), LimitKind::NewOrdersPerSec, 1),
            bad(9)
        );
        assert_eq!(
            l.apply(
                LimitScope::AccountInstrument(AccountId(0), InstrumentId(3)),
                LimitKind::MaxOrderQty,
                1
            ),
            bad(3)
        );
        assert_eq!(
            l.apply(LimitScope::Firm, LimitKind::DuplicateWindowMs, 86_400_001),
            bad(86_400_001)
        );
    }
}
