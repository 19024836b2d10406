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

    /// The book of `instrument` changed (called once per applied book command, not during
    /// a snapshot; see [`Strategy::market_calls`] for the calls a strategy may waive).
    fn on_book(&mut self, ctx: &StrategyContext<'_>, instrument: InstrumentId, out: &mut Intents);

    /// Which market-data calls this strategy waives, because they could not change what it
    /// does. Read once when the core hosts it. The default waives nothing.
    fn market_calls(&self) -> MarketCalls {
        MarketCalls::EVERY
    }

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

/// Market-data calls a strategy waives (see [`Strategy::market_calls`]). Waiving is an
/// optimisation the strategy vouches for: a waived call must be one that would have done
/// nothing (no intent, no change of state that could ever matter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketCalls {
    /// Call [`Strategy::on_book`] even when nothing its views show has changed since its
    /// previous call, and that call was an `on_book` (a book update behind the best level,
    /// with no fill and no other callback in between). Waive it (`false`) only when
    /// `on_book` reads nothing but the views and the strategy's own state — not `ctx.now`,
    /// not how often it is called — and calling it twice in a row with the same views does
    /// nothing the second time.
    pub unchanged_views: bool,
    /// Call [`Strategy::on_trade`]. Waive it (`false`) when the strategy keeps the default,
    /// empty, `on_trade`.
    pub trades: bool,
}

impl MarketCalls {
    /// Every call: the default.
    pub const EVERY: MarketCalls = MarketCalls { unchanged_views: true, trades: true };
}
