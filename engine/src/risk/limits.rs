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

/// All limits, dense tables sized at start-up.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub(crate) firm: LimitSet,
    pub(crate) accounts: Vec<LimitSet>,
    /// `accounts × instruments`, row-major by account.
    pub(crate) cells: Vec<LimitSet>,
    pub(crate) sessions: Vec<LimitSet>,
    instruments: usize,
}

impl Limits {
    pub(crate) fn new(accounts: usize, instruments: usize, sessions: usize) -> Self {
        Self {
            firm: LimitSet::NONE,
            accounts: vec![LimitSet::NONE; accounts],
            cells: vec![LimitSet::NONE; accounts * instruments],
            sessions: vec![LimitSet::NONE; sessions],
            instruments,
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
