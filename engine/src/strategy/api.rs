//! The strategy interface the core calls.

use crate::schema::MarketTrade;
use crate::strategy::{Intents, OrderUpdate, OwnFill, StrategyContext};
use crate::{InstrumentId, TimestampNs};

/// An in-process strategy. Object safe: the core holds a `Box<dyn Strategy>` built at
/// start-up and calls it on the core thread; no call may allocate, block or read a clock.
///
/// Every call may write intents into `out`, which the core drains after the call. A call
/// must not assume that its intents were accepted by risk: the outcome comes back as an
/// [`OrderUpdate`] (e.g. `Rejected`).
pub trait Strategy {
    /// The registry name, e.g. `market_maker`.
    fn name(&self) -> &'static str;

    /// The instruments whose events this strategy wants, in the order the core lays out
    /// [`StrategyContext::views`]. Fixed for the strategy's lifetime.
    fn instruments(&self) -> &[InstrumentId];

    /// The top of book of `instrument` changed (called once per applied book command, not
    /// during a snapshot).
    fn on_book(&mut self, ctx: &StrategyContext<'_>, instrument: InstrumentId, out: &mut Intents);

    /// A market trade printed on one of the strategy's instruments.
    fn on_trade(&mut self, ctx: &StrategyContext<'_>, trade: &MarketTrade, out: &mut Intents) {
        let _ = (ctx, trade, out);
    }

    /// One of the strategy's orders was filled (positions already updated).
    fn on_fill(&mut self, ctx: &StrategyContext<'_>, fill: &OwnFill, out: &mut Intents);

    /// One of the strategy's orders was acknowledged, replaced, cancelled, expired or
    /// rejected, or a cancel/replace request was refused.
    fn on_order_update(
        &mut self,
        ctx: &StrategyContext<'_>,
        update: &OrderUpdate,
        out: &mut Intents,
    );

    /// Time passed (a timer command); `now == ctx.now`.
    fn on_timer(&mut self, ctx: &StrategyContext<'_>, now: TimestampNs, out: &mut Intents) {
        let _ = (ctx, now, out);
    }

    /// Appends the strategy's own state to `out`, for a core snapshot: everything that
    /// decides its future behaviour (ids issued, orders it believes working, timers), but
    /// not its parameters, which come from configuration. Called off the hot path, between
    /// commands; may allocate.
    fn snapshot(&self, out: &mut Vec<u8>);

    /// Restores state written by [`Strategy::snapshot`] into a strategy freshly built from
    /// the same parameters, so that it behaves exactly as the one snapshotted on every
    /// future call. On error (bytes that do not decode) says what is wrong; the strategy
    /// is then not to be used.
    fn restore(&mut self, bytes: &[u8]) -> Result<(), String>;
}
