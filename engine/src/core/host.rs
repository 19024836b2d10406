//! Hosting in-process strategies inside the core.
//!
//! A strategy is called on the core thread with a read-only [`StrategyContext`] built from
//! the core's books and positions, and answers with [`Intent`]s. Each intent becomes the
//! same `NewOrder` / `CancelOrder` / `ReplaceOrder` a client would send, on the strategy's
//! own session, and passes the same validation and pre-trade risk — within the command
//! that caused it, so a replay reproduces every strategy decision from the journaled
//! inputs alone.
//!
//! Reports about a strategy's own orders are queued as they are emitted and delivered
//! after the command's own work, in emission order. Delivery is bounded per command
//! (`CoreConfig::strategy_events_per_command`) so a strategy that answers every reject with a new order
//! cannot spin the core; what is left waits for the next command.

use super::market::Markets;
use super::{Emitter, OutputSink, State};
use crate::positions::PositionBook;
use crate::schema::{CancelOrder, ExecReport, ExecType, NewOrder, OutputBody, ReplaceOrder, Route};
use crate::strategy::{
    InstrumentView, Intents, Level, MarketCalls, MarketView, OrderEntry, OrderUpdate,
    OrderUpdateKind, OwnFill, Strategy, StrategyContext,
};
use crate::{AccountId, InstrumentId, SessionId, Side, VenueId};

mod snapshot;

/// Most intents one strategy call may make.
pub const INTENTS_PER_CALL_MAX: usize = 64;
const NO_SLOT: u16 = u16::MAX;

/// One hosted strategy.
pub(super) struct Slot {
    strategy: Box<dyn Strategy>,
    session: SessionId,
    account: AccountId,
    venue: VenueId,
    views: Vec<InstrumentView>,
    /// Per view, where its market is kept in [`Markets`] (resolved once: the views are
    /// refreshed on every call).
    market_slots: Vec<Option<usize>>,
    /// The market-data calls the strategy waives.
    calls: MarketCalls,
    /// When the strategy's last call was an `on_book`: the markets' top epoch and the
    /// fill count its views were refreshed at. `None` after any other call.
    last_book: Option<(u64, u64)>,
    /// The markets' top epoch and the fill count the views were last refreshed at: equal
    /// values now mean the views are current (see [`Strategies::run`]).
    refreshed_at: Option<(u64, u64)>,
}

/// Something to tell a strategy about its own orders.
#[derive(Clone, Copy, Debug)]
pub(super) enum StrategyEvent {
    Fill(OwnFill),
    Update(OrderUpdate),
}

/// Reports waiting for their strategies; filled by the [`Emitter`].
pub(super) struct StrategyQueue {
    /// True once a strategy is hosted: without one, outputs need no look at all.
    hosting: bool,
    by_session: Vec<u16>,
    events: Vec<(u16, StrategyEvent)>,
    /// Most events delivered per command.
    per_command: usize,
    /// Events left undelivered at the per-command bound, carried to the next command.
    pub(super) deferred_total: u64,
}

impl StrategyQueue {
    pub(super) fn new(session_capacity: u32, per_command: usize) -> Self {
        StrategyQueue {
            hosting: false,
            by_session: vec![NO_SLOT; session_capacity as usize],
            events: Vec::with_capacity(per_command.max(1) * 2),
            per_command: per_command.max(1),
            deferred_total: 0,
        }
    }

    #[inline]
    fn slot_of(&self, session: SessionId) -> Option<u16> {
        self.by_session.get(session.index()).copied().filter(|&s| s != NO_SLOT)
    }

    /// Queues the strategy-facing meaning of an output, if it concerns a strategy. Runs
    /// for every output: the owner is looked up before anything is built.
    #[inline]
    pub(super) fn observe(&mut self, body: &OutputBody) {
        if self.hosting {
            self.observe_hosted(body);
        }
    }

    fn observe_hosted(&mut self, body: &OutputBody) {
        let session = match body {
            OutputBody::ExecReport(r) => r.session,
            OutputBody::CancelReject(r) => r.session,
            _ => return,
        };
        let Some(slot) = self.slot_of(session) else { return };
        let update = match body {
            OutputBody::ExecReport(r) => match update_kind(r.exec_type) {
                Some(kind) => update_of(r, kind),
                None => return,
            },
            OutputBody::CancelReject(r) => OrderUpdate {
                kind: OrderUpdateKind::CancelRejected,
                cl_ord_id: r.cl_ord_id,
                orig_cl_ord_id: Some(r.orig_cl_ord_id),
                instrument: InstrumentId(u32::MAX),
                side: Side::Buy,
                price: crate::Price(0),
                leaves_qty: crate::Qty::ZERO,
            },
            _ => return,
        };
        self.events.push((slot, StrategyEvent::Update(update)));
    }

    /// Queues a fill of a strategy's order.
    #[inline]
    pub(super) fn fill(&mut self, session: SessionId, fill: OwnFill) {
        if let Some(slot) = self.slot_of(session) {
            self.events.push((slot, StrategyEvent::Fill(fill)));
        }
    }
}

fn update_kind(exec_type: ExecType) -> Option<OrderUpdateKind> {
    Some(match exec_type {
        ExecType::New => OrderUpdateKind::Acked,
        ExecType::Replaced => OrderUpdateKind::Replaced,
        ExecType::Canceled => OrderUpdateKind::Canceled,
        ExecType::Expired => OrderUpdateKind::Expired,
        ExecType::Rejected => OrderUpdateKind::Rejected,
        // Fills arrive through `StrategyQueue::fill`, with the fee; pending states and
        // triggers are not events a strategy acts on.
        _ => return None,
    })
}

fn update_of(r: &ExecReport, kind: OrderUpdateKind) -> OrderUpdate {
    // A cancel the strategy requested is reported under its request's id with the order's
    // as the original; the strategy is told about the order.
    let (cl_ord_id, orig_cl_ord_id) = match (kind, r.orig_cl_ord_id) {
        (OrderUpdateKind::Canceled, Some(order)) => (order, None),
        _ => (r.cl_ord_id, r.orig_cl_ord_id),
    };
    OrderUpdate {
        kind,
        cl_ord_id,
        orig_cl_ord_id,
        instrument: r.instrument,
        side: r.side,
        price: r.price,
        leaves_qty: r.leaves_qty,
    }
}

/// Every hosted strategy, with the scratch space their calls use.
pub(super) struct Strategies {
    slots: Vec<Slot>,
    intents: Intents,
}

/// Which callback a market change or timer calls.
#[derive(Clone, Copy, Debug)]
pub(super) enum Trigger {
    None,
    Book(InstrumentId),
    Trade(crate::schema::MarketTrade),
    Timer,
}

impl Strategies {
    pub(super) fn empty() -> Self {
        Strategies { slots: Vec::new(), intents: Intents::with_capacity(INTENTS_PER_CALL_MAX) }
    }

    /// Hosts `strategy` on `session` for `account`, sending to `venue`.
    pub(super) fn add(
        &mut self,
        queue: &mut StrategyQueue,
        strategy: Box<dyn Strategy>,
        session: SessionId,
        account: AccountId,
        venue: VenueId,
        markets: &Markets,
    ) {
        let views: Vec<InstrumentView> = strategy
            .instruments()
            .iter()
            .map(|&instrument| InstrumentView { instrument, ..InstrumentView::default() })
            .collect();
        queue.by_session[session.index()] = self.slots.len() as u16;
        queue.hosting = true;
        let calls = strategy.market_calls();
        let market_slots = views.iter().map(|v| markets.slot_of(v.instrument, venue)).collect();
        self.slots.push(Slot {
            strategy,
            session,
            account,
            venue,
            views,
            market_slots,
            calls,
            last_book: None,
            refreshed_at: None,
        });
    }

    pub(super) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Runs the strategies after a command: the market or timer callback first, then every
    /// queued report, each followed by the intents it produced. Always inlined: `Core::apply`
    /// calls it where the trigger's kind is known (an L2 update), so the dispatch on it
    /// folds away there.
    #[inline(always)]
    pub(super) fn run<S: OutputSink>(
        &mut self,
        state: &mut State,
        trigger: Trigger,
        out: &mut Emitter<'_, S>,
    ) {
        for s in 0..self.slots.len() {
            // What the views would be refreshed at: equal values mean equal views (see
            // `Markets::top_epoch`; positions change only by fills).
            let seen = views_at(state, out);
            let slot = &self.slots[s];
            // A book change, most triggers, is tested for first, here and in the call: a
            // conditional branch the data predicts, where a `match` made a jump table.
            // The views' currency is tested before the instruments: it fails for every
            // update behind the best level, and costs one comparison.
            let wants = if let Trigger::Book(i) = trigger {
                (slot.calls.unchanged_views || slot.last_book != Some(seen))
                    && slot.views.iter().any(|v| v.instrument == i)
            } else {
                match trigger {
                    Trigger::None | Trigger::Book(_) => false,
                    Trigger::Trade(t) => {
                        slot.calls.trades && slot.views.iter().any(|v| v.instrument == t.instrument)
                    }
                    Trigger::Timer => true,
                }
            };
            if !wants {
                continue;
            }
            self.call(s, state, seen, |strategy, ctx, intents| {
                if let Trigger::Book(i) = trigger {
                    return strategy.on_book(ctx, i, intents);
                }
                match trigger {
                    Trigger::Trade(t) => strategy.on_trade(ctx, &t, intents),
                    Trigger::Timer => strategy.on_timer(ctx, ctx.now, intents),
                    Trigger::Book(_) | Trigger::None => {}
                }
            });
            if let Trigger::Book(_) = trigger {
                self.slots[s].last_book = Some(seen);
            }
            self.submit(s, state, out);
        }
        let mut delivered = 0;
        while delivered < out.queue.events.len() && delivered < out.queue.per_command {
            let (s, event) = out.queue.events[delivered];
            delivered += 1;
            let seen = views_at(state, out);
            self.call(s as usize, state, seen, |strategy, ctx, intents| match &event {
                StrategyEvent::Fill(f) => strategy.on_fill(ctx, f, intents),
                StrategyEvent::Update(u) => strategy.on_order_update(ctx, u, intents),
            });
            self.submit(s as usize, state, out);
        }
        let left = out.queue.events.len() - delivered;
        out.queue.deferred_total += left as u64;
        out.queue.events.drain(..delivered);
    }

    /// Calls strategy `s` with its views refreshed; `seen` is [`views_at`] now. Always
    /// inlined: it runs for most market-data commands.
    #[inline(always)]
    fn call(
        &mut self,
        s: usize,
        state: &State,
        seen: (u64, u64),
        f: impl FnOnce(&mut dyn Strategy, &StrategyContext<'_>, &mut Intents),
    ) {
        let slot = &mut self.slots[s];
        slot.last_book = None;
        // Views refreshed at the same top epoch and fill count show what a refresh would
        // (e.g. the reports of a venue answer, which moves no market).
        if slot.refreshed_at != Some(seen) {
            let positions = slot.refreshed_at.is_none_or(|(_, fills)| fills != seen.1);
            refresh_views(
                &mut slot.views,
                &slot.market_slots,
                slot.account,
                &state.markets,
                positions.then_some(&state.positions),
            );
            slot.refreshed_at = Some(seen);
        }
        let ctx = StrategyContext { now: state.now, account: slot.account, views: &slot.views };
        f(slot.strategy.as_mut(), &ctx, &mut self.intents);
    }

    /// Sends the intents of strategy `s` through order entry on its session. Always
    /// inlined, the entry out of line: most calls intend nothing, and a call to learn that
    /// cost ~20 instructions.
    #[inline(always)]
    fn submit<S: OutputSink>(&mut self, s: usize, state: &mut State, out: &mut Emitter<'_, S>) {
        // Most calls intend nothing.
        if !self.intents.is_empty() {
            self.submit_intents(s, state, out);
        }
    }

    #[inline(never)]
    fn submit_intents<S: OutputSink>(
        &mut self,
        s: usize,
        state: &mut State,
        out: &mut Emitter<'_, S>,
    ) {
        let (session, account, venue) = {
            let slot = &self.slots[s];
            (slot.session, slot.account, slot.venue)
        };
        let mut entry = Entry { state, session, out };
        for intent in self.intents.as_slice() {
            intent.enter(account, Route::Venue(venue), &mut entry);
        }
        self.intents.clear();
    }
}

/// Order entry on a strategy's session, for [`Intent::enter`].
struct Entry<'a, 'o, S: OutputSink> {
    state: &'a mut State,
    session: SessionId,
    out: &'a mut Emitter<'o, S>,
}

impl<S: OutputSink> OrderEntry for Entry<'_, '_, S> {
    #[inline]
    fn new_order(&mut self, o: &NewOrder) {
        self.state.new_order(self.session, o, self.out);
    }

    #[inline]
    fn cancel_order(&mut self, c: &CancelOrder) {
        self.state.cancel_order(self.session, c, self.out);
    }

    #[inline]
    fn replace_order(&mut self, r: &ReplaceOrder) {
        self.state.replace_order(self.session, r, self.out);
    }
}

/// What a strategy's views are refreshed at: the markets' top epoch (see
/// [`Markets::top_epoch`]) and the fill count (positions change only by fills). Equal
/// values mean equal views.
#[inline]
fn views_at<S: OutputSink>(state: &State, out: &Emitter<'_, S>) -> (u64, u64) {
    (state.markets.top_epoch(), out.counters.fills)
}

/// Refreshes the market of every view, and the position too when `positions` is given
/// (it is not when no fill happened since the last refresh). Always inlined into its one
/// caller: it runs on most strategy calls, and the call cost ~15 instructions.
#[inline(always)]
fn refresh_views(
    views: &mut [InstrumentView],
    market_slots: &[Option<usize>],
    account: AccountId,
    markets: &Markets,
    positions: Option<&PositionBook>,
) {
    let level =
        |top: Option<(crate::Price, crate::Qty)>| top.map(|(price, qty)| Level { price, qty });
    for (view, &slot) in views.iter_mut().zip(market_slots) {
        view.market = match slot.and_then(|s| markets.at(s)) {
            Some(m) => {
                let (bid, ask) = m.book.top();
                MarketView {
                    best_bid: level(bid),
                    best_ask: level(ask),
                    last_trade: m.last_trade.map(|t| t.price),
                }
            }
            None => MarketView::default(),
        };
        if let Some(positions) = positions {
            view.position = positions
                .position(account, view.instrument)
                .map_or(crate::Qty::ZERO, |p| p.net_qty());
        }
    }
}
