//! The read-only context of one strategy call.

use crate::strategy::MarketView;
use crate::{AccountId, InstrumentId, Qty, TimestampNs};

/// What a strategy knows about one of its instruments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstrumentView {
    /// The instrument.
    pub instrument: InstrumentId,
    /// Its top of book and last trade.
    pub market: MarketView,
    /// The strategy account's net position in it (filled quantity only, long > 0), with
    /// the current call's fill already applied.
    pub position: Qty,
}

/// Everything a strategy may read during one call. Built by the core from its own state
/// without allocation: `views` borrows a table the core keeps per strategy, one entry per
/// instrument in [`Strategy::instruments`](crate::strategy::Strategy::instruments) order.
#[derive(Clone, Copy, Debug)]
pub struct StrategyContext<'a> {
    /// Core time of the command being processed (monotonic).
    pub now: TimestampNs,
    /// The account the strategy trades for.
    pub account: AccountId,
    /// One view per instrument the strategy trades.
    pub views: &'a [InstrumentView],
}

impl StrategyContext<'_> {
    /// The view of `instrument`, if the strategy trades it.
    #[inline]
    pub fn view(&self, instrument: InstrumentId) -> Option<&InstrumentView> {
        self.views.iter().find(|v| v.instrument == instrument)
    }
}
