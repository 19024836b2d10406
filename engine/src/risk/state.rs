//! Trading states, kill switches and the loss-limit trackers that move trading states.
//!
//! - A trading state is held for the firm and for each account; an order is subject to the
//!   more severe of the two (`Halted` > `ReducingOnly` > `Active`).
//! - A kill switch is a flag at firm, account and session level; any engaged flag that
//!   covers an order blocks it. Engaging returns the scope whose working orders the core
//!   must cancel; releasing cancels nothing and does not change any trading state.
//! - Loss limits only ever escalate a state (`Active` → `ReducingOnly` → `Halted`); going
//!   back is an explicit `SetTradingState` command, so a human decides.

use crate::TimestampNs;
use crate::schema::{RejectCode, RejectInfo, TradingState};

/// Severity order of trading states.
#[inline]
pub fn severity(state: TradingState) -> u8 {
    match state {
        TradingState::Active => 0,
        TradingState::ReducingOnly => 1,
        TradingState::Halted => 2,
    }
}

/// The more severe of two states.
#[inline]
pub fn most_severe(a: TradingState, b: TradingState) -> TradingState {
    if severity(a) >= severity(b) { a } else { b }
}

/// A loss limit moved an account's trading state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LossBreach {
    /// The account's new state.
    pub state: TradingState,
    /// Why, with the numbers: `DAILY_LOSS_EXCEEDED` (loss, max) or `DRAWDOWN_EXCEEDED`
    /// (drawdown, max), valuation units.
    pub reason: RejectInfo,
}

const DAY_NS: u64 = 86_400 * TimestampNs::NS_PER_S;

/// One account's daily equity baseline and peak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LossTracker {
    /// False until the first P&L update.
    pub seen: bool,
    /// Trading-day number of the baseline.
    pub day: u64,
    /// Equity P&L at the start of the day, valuation units.
    pub day_start: i128,
    /// Highest equity P&L seen today.
    pub peak: i128,
    /// Last equity P&L seen.
    pub last: i128,
}

impl LossTracker {
    /// Records `equity` at `now` and returns (daily loss, drawdown from peak), both >= 0.
    ///
    /// At the first update of a trading day the baseline is the last equity seen before it
    /// (the close of the previous day), or this one if there was none.
    pub fn update(&mut self, now: TimestampNs, day_offset_ns: u64, equity: i128) -> (i128, i128) {
        let day = now.0.saturating_sub(day_offset_ns) / DAY_NS;
        if !self.seen || day != self.day {
            let start = if self.seen { self.last } else { equity };
            *self = LossTracker { seen: true, day, day_start: start, peak: start, last: start };
        }
        self.peak = self.peak.max(equity);
        self.last = equity;
        let loss = (self.day_start - equity).max(0);
        let drawdown = self.peak - equity;
        debug_assert!(drawdown >= 0);
        (loss, drawdown)
    }
}

/// Decides the state change for an account after a P&L update.
pub fn loss_transition(
    current: TradingState,
    loss: i128,
    drawdown: i128,
    daily_loss_max: i64,
    drawdown_max: i64,
) -> Option<LossBreach> {
    let sat = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
    if drawdown > i128::from(drawdown_max) && current != TradingState::Halted {
        return Some(LossBreach {
            state: TradingState::Halted,
            reason: RejectInfo::new(RejectCode::DrawdownExceeded, sat(drawdown), drawdown_max),
        });
    }
    if loss > i128::from(daily_loss_max) && current == TradingState::Active {
        return Some(LossBreach {
            state: TradingState::ReducingOnly,
            reason: RejectInfo::new(RejectCode::DailyLossExceeded, sat(loss), daily_loss_max),
        });
    }
    None
}

/// Trading states and kill switches, dense tables.
#[derive(Clone, Debug)]
pub(crate) struct States {
    pub(crate) firm_state: TradingState,
    pub(crate) account_state: Vec<TradingState>,
    pub(crate) firm_kill: bool,
    pub(crate) account_kill: Vec<bool>,
    pub(crate) session_kill: Vec<bool>,
    pub(crate) loss: Vec<LossTracker>,
}

impl States {
    pub(crate) fn new(accounts: usize, sessions: usize) -> Self {
        Self {
            firm_state: TradingState::Active,
            account_state: vec![TradingState::Active; accounts],
            firm_kill: false,
            account_kill: vec![false; accounts],
            session_kill: vec![false; sessions],
            loss: vec![LossTracker::default(); accounts],
        }
    }

    /// The state an order of `account` is subject to.
    #[inline]
    pub(crate) fn effective(&self, account: usize) -> TradingState {
        most_severe(self.firm_state, self.account_state[account])
    }

    /// True when a kill switch covers `account` or `session`. Always inlined: every
    /// order's check reads it, and the call cost more than the three loads.
    #[inline(always)]
    pub(crate) fn killed(&self, account: usize, session: usize) -> bool {
        self.firm_kill || self.account_kill[account] || self.session_kill[session]
    }

    pub(crate) fn digest_into(&self, sink: &mut impl FnMut(&[u8])) {
        sink(&[self.firm_state as u8, u8::from(self.firm_kill)]);
        for s in &self.account_state {
            sink(&[*s as u8]);
        }
        for k in self.account_kill.iter().chain(&self.session_kill) {
            sink(&[u8::from(*k)]);
        }
        for t in &self.loss {
            sink(&[u8::from(t.seen)]);
            sink(&t.day.to_le_bytes());
            sink(&t.day_start.to_le_bytes());
            sink(&t.peak.to_le_bytes());
            sink(&t.last.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_resets_at_day_boundary() {
        let mut t = LossTracker::default();
        let day = |d: u64, ns: u64| TimestampNs(d * DAY_NS + ns);
        assert_eq!(t.update(day(10, 0), 0, 100), (0, 0));
        assert_eq!(t.update(day(10, 5), 0, 150), (0, 0));
        assert_eq!(t.update(day(10, 6), 0, 40), (60, 110));
        // Next day: the baseline is yesterday's last equity.
        assert_eq!(t.update(day(11, 0), 0, 30), (10, 10));
        assert_eq!(t.day_start, 40);
    }

    #[test]
    fn transitions_only_escalate() {
        use TradingState::*;
        assert_eq!(loss_transition(Active, 10, 10, 10, 10), None);
        assert_eq!(loss_transition(Active, 11, 0, 10, 10).unwrap().state, ReducingOnly);
        assert_eq!(loss_transition(ReducingOnly, 11, 0, 10, 10), None);
        assert_eq!(loss_transition(ReducingOnly, 0, 11, 10, 10).unwrap().state, Halted);
        assert_eq!(loss_transition(Halted, 99, 99, 10, 10), None);
    }
}
