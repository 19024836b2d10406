//! The simulated venue of a backtest: the recorded book at exchange time, and Keel's own
//! orders resting beside it.
//!
//! Keel's orders are not in the recording, so they are kept apart from the recorded book:
//!
//! - **Requests** (`VenueNewOrder`, `VenueCancel`, `VenueReplace`) are answered as a venue
//!   would, at the time they arrive: an ack, then fills, then an unsolicited cancel of
//!   what may not rest; rejects and cancel rejects with the reason codes of Keel's
//!   simulated venue ([`reason`]). Venue order ids are Keel's order ids.
//! - **Market and marketable limit orders walk the recorded book** from the best level,
//!   taking each level's recorded quantity at its price (taker fills). A post-only order
//!   that would cross is rejected; a FOK that cannot fill completely is rejected; the
//!   remainder of a market or IOC order is cancelled; a limit remainder rests.
//! - **Consuming liquidity** (on by default): what Keel's taker fills take is removed from
//!   the recorded book — in L2 data until the venue next publishes that level, in L3 data
//!   from the recorded orders in queue order (later events for those orders are adjusted
//!   by what was taken). Off, the recorded book is never changed by Keel's trades.
//! - **Resting orders** fill per the [`QueueModel`](super::queue_model): from `trade` rows
//!   in L2 data and `execute` rows in L3 data (in L3 data, `trade` rows only inform the
//!   core). One print fills Keel's orders, best price first, for at most its own
//!   quantity. A recorded book that crosses a resting order without a print does not fill
//!   it.
//! - Fees per [`FeeSchedule`], in every fill.
//!
//! Simplifications, stated: iceberg display quantities are ignored (the whole order is
//! shown); venue status changes do not stop the venue (the core stops sending); after a
//! snapshot, positions are clamped to the rebuilt level, and in FIFO every order present
//! at the end of a snapshot counts as ahead.

use keel_engine::book::{BookCapacity, BookEvent, L2Book, L3Book, NewOrder};
use keel_engine::core::FeedKind;
use keel_engine::schema::{
    CancelRejectTo, CommandBody, Liquidity, OrderFlags, OutputBody, VenueAck, VenueCancel,
    VenueCancelAck, VenueCancelReject, VenueFill, VenueNewOrder, VenueReject, VenueReplace,
    VenueReplaceAck,
};
use keel_engine::{
    InstrumentId, OrdType, OrderId, Price, Qty, Side, TimeInForce, TimestampNs, VenueId,
};

use super::event::{MdEvent, MdKind};
use super::fees::FeeSchedule;
use super::id_map::IdMap;
use super::queue_model::{QueueModel, QueueState};
use super::rng::SplitMix64;

/// Reason codes in rejects: the same numbers as Keel's in-process simulated venue.
pub mod reason {
    /// The instrument is not traded here.
    pub const UNKNOWN_INSTRUMENT: u32 = 1;
    /// The order is not resting (already filled, cancelled, or never known).
    pub const UNKNOWN_ORDER: u32 = 2;
    /// A post-only order would have traded.
    pub const POST_ONLY_WOULD_CROSS: u32 = 3;
    /// A fill-or-kill order could not be filled completely.
    pub const FOK_UNFILLABLE: u32 = 4;
    /// Any other invalid order (type, quantity, post-only that may not rest).
    pub const INVALID: u32 = 99;
}

/// How the venue behaves.
#[derive(Clone, Debug)]
pub struct VenueSettings {
    /// The venue's id, as in the data.
    pub venue: VenueId,
    /// The data's feed kind.
    pub feed: FeedKind,
    /// Size of each recorded book.
    pub book: BookCapacity,
    /// Queue-position model for resting orders.
    pub queue: QueueModel,
    /// Whether Keel's taker fills remove recorded liquidity.
    pub consume_liquidity: bool,
    /// Seed of the probabilistic queue model's draws.
    pub seed: u64,
    /// Fees.
    pub fees: FeeSchedule,
}

/// What the venue did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VenueStats {
    /// Market-data events the recorded book refused (inconsistent data, capacity).
    pub md_refused: u64,
    /// The first such refusal, in words.
    pub md_refused_first: Option<String>,
    /// Maker fills and their quantity, lots.
    pub maker_fills: u64,
    /// Lots filled as maker.
    pub maker_lots: i64,
    /// Taker fills.
    pub taker_fills: u64,
    /// Lots filled as taker.
    pub taker_lots: i64,
    /// New orders rejected, by reason.
    pub rejects: u64,
    /// Cancels and replaces refused.
    pub cancel_rejects: u64,
}

enum Book {
    L2(L2Book),
    L3(L3Book),
}

impl Book {
    fn best(&self, side: Side) -> Option<(Price, Qty)> {
        match self {
            Book::L2(b) => b.best(side),
            Book::L3(b) => b.best(side),
        }
    }

    fn level_qty(&self, side: Side, price: Price) -> i64 {
        match self {
            Book::L2(b) => b.qty_at(side, price).0,
            Book::L3(b) => b.orders_at(side, price).map(|o| o.visible.0).sum(),
        }
    }

    fn clear(&mut self) {
        match self {
            Book::L2(b) => b.clear(),
            Book::L3(b) => b.clear(),
        }
    }
}

struct Market {
    book: Book,
    rebuilding: bool,
}

/// One of Keel's orders resting at the venue.
#[derive(Clone, Copy, Debug)]
struct OwnOrder {
    id: OrderId,
    instrument: InstrumentId,
    side: Side,
    price: Price,
    total: i64,
    filled: i64,
    post_only: bool,
    /// Order of arrival, for priority among Keel's own orders.
    arrival: u64,
    q: QueueState,
}

impl OwnOrder {
    fn leaves(&self) -> i64 {
        self.total - self.filled
    }
}

/// Order ids the venue uses for Keel's taker orders inside the recorded L3 book; far above
/// any real venue's ids.
const TAKER_PROBE_ID: OrderId = OrderId(u64::MAX - 1);

/// The simulated venue. See the module docs.
pub struct SimVenue {
    s: VenueSettings,
    markets: Vec<Market>,
    /// Keel's resting orders, in priority order within (instrument, side): best price,
    /// then arrival.
    own: Vec<OwnOrder>,
    rng: SplitMix64,
    /// FIFO: when each recorded order took its place in the queue.
    ranks: IdMap<u64>,
    /// L3 with consumption: lots Keel's trades took from each recorded order.
    consumed: IdMap<i64>,
    events: u64,
    arrivals: u64,
    next_exec_id: u64,
    book_events: Vec<BookEvent>,
    takes: Vec<(Price, i64, i64)>,
    stats: VenueStats,
}

/// Whether `p` is on the passive side of `limit` for a resting order on `side`: a trade
/// at `p` went *through* a resting buy at `limit` when `p < limit`.
#[inline]
fn through(side: Side, limit: Price, p: Price) -> bool {
    match side {
        Side::Buy => p < limit,
        Side::Sell => p > limit,
    }
}

/// Whether an order on `side` with `limit` may trade at the opposite price `p`.
#[inline]
fn acceptable(side: Side, limit: Option<Price>, p: Price) -> bool {
    match (side, limit) {
        (_, None) => true,
        (Side::Buy, Some(l)) => p <= l,
        (Side::Sell, Some(l)) => p >= l,
    }
}

impl SimVenue {
    /// A venue for `instruments` instruments, with empty books.
    pub fn new(settings: VenueSettings, instruments: usize) -> SimVenue {
        let markets = (0..instruments)
            .map(|_| Market {
                book: match settings.feed {
                    FeedKind::L2 => Book::L2(L2Book::new(settings.book)),
                    FeedKind::L3 => Book::L3(L3Book::new(settings.book)),
                },
                rebuilding: false,
            })
            .collect();
        SimVenue {
            rng: SplitMix64::new(settings.seed),
            s: settings,
            markets,
            own: Vec::with_capacity(64),
            ranks: IdMap::default(),
            consumed: IdMap::default(),
            events: 0,
            arrivals: 0,
            next_exec_id: 0,
            book_events: Vec::with_capacity(256),
            takes: Vec::with_capacity(64),
            stats: VenueStats::default(),
        }
    }

    /// What the venue did so far.
    pub fn stats(&self) -> &VenueStats {
        &self.stats
    }

    /// Keel's orders resting now.
    pub fn resting(&self) -> usize {
        self.own.len()
    }

    /// Where Keel's resting order `id` stands: (lots ahead, leaves).
    pub fn queue_of(&self, id: OrderId) -> Option<(i64, i64)> {
        self.own.iter().find(|o| o.id == id).map(|o| (o.q.ahead, o.leaves()))
    }

    /// Best recorded price and quantity of a side, at venue time.
    pub fn best(&self, instrument: InstrumentId, side: Side) -> Option<(Price, Qty)> {
        self.markets.get(instrument.index()).and_then(|m| m.book.best(side))
    }

    fn refuse(&mut self, e: &MdEvent, why: impl FnOnce() -> String) {
        self.stats.md_refused += 1;
        if self.stats.md_refused_first.is_none() {
            self.stats.md_refused_first = Some(format!(
                "{} event at exchange time {} (order {}): {}",
                e.kind.name(),
                e.exchange_ts.0,
                e.order_id,
                why()
            ));
        }
    }

    // ------------------------------------------------------------------ market data

    /// Applies a recorded event at venue time `now`; fills of Keel's resting orders go to
    /// `out`.
    #[inline(always)]
    pub fn on_market_data(&mut self, e: &MdEvent, now: TimestampNs, out: &mut Vec<CommandBody>) {
        self.events += 1;
        // The common case inline (a call per event cost ~15 instructions), the rest out of
        // line.
        let i = e.instrument.index();
        if e.kind == MdKind::L2 && i < self.markets.len() {
            let watch = !self.own.is_empty() && !self.markets[i].rebuilding;
            return self.l2(e, watch);
        }
        self.other_market_data(e, now, out);
    }

    /// `on_market_data` for everything but an L2 event of a known instrument (the event
    /// is counted already).
    #[inline(never)]
    fn other_market_data(&mut self, e: &MdEvent, now: TimestampNs, out: &mut Vec<CommandBody>) {
        let i = e.instrument.index();
        if i >= self.markets.len() {
            if e.kind != MdKind::Status {
                self.refuse(e, || format!("instrument {} is not in the data", e.instrument));
            }
            return;
        }
        let watch = !self.own.is_empty() && !self.markets[i].rebuilding;
        match e.kind {
            MdKind::L2 => self.l2(e, watch),
            MdKind::Trade => {
                if watch && self.s.feed == FeedKind::L2 {
                    self.print(e, now, out);
                }
            }
            MdKind::Add => self.l3_add(e, watch),
            MdKind::Modify => self.l3_modify(e, watch),
            MdKind::Delete => self.l3_delete(e, watch),
            MdKind::Execute => self.l3_execute(e, watch, now, out),
            MdKind::SnapshotBegin => {
                let m = &mut self.markets[i];
                m.book.clear();
                m.rebuilding = true;
            }
            MdKind::SnapshotEnd => {
                self.markets[i].rebuilding = false;
                let rank = self.events;
                let book = &self.markets[i].book;
                for o in self.own.iter_mut().filter(|o| o.instrument == e.instrument) {
                    let level = book.level_qty(o.side, o.price);
                    o.q.level_seen = level;
                    o.q.ahead = o.q.ahead.min(level);
                    o.q.traded_since_update = 0;
                    o.q.rank = rank;
                }
            }
            MdKind::Status => {}
        }
    }

    #[inline(always)]
    fn l2(&mut self, e: &MdEvent, watch: bool) {
        let side = e.side.unwrap_or(Side::Buy);
        if watch {
            for o in self.own.iter_mut() {
                // One branch, rarely taken, rather than three: with a bid and an ask
                // resting, a branch on the side alone went each way half the time. (Written
                // as `&&` or `&` of the comparisons, the compiler made three branches.)
                let differs = (o.instrument.0 ^ e.instrument.0) as u64
                    | (o.side as u64 ^ side as u64)
                    | (o.price.0 ^ e.price.0) as u64;
                if differs == 0 {
                    self.s.queue.level_changed(&mut o.q, e.qty.0, &mut self.rng);
                }
            }
        }
        let Book::L2(book) = &mut self.markets[e.instrument.index()].book else {
            return self.refuse(e, || "an l2 event in L3 data".into());
        };
        if let Err(err) = book.set(side, e.price, e.qty) {
            self.refuse(e, || err.to_string());
        }
    }

    /// Re-reads the recorded level under each of Keel's orders at (side, price) after a
    /// change the model sees as a level change (probabilistic and conservative models on
    /// L3 data).
    fn level_changed_l3(&mut self, instrument: InstrumentId, side: Side, price: Price) {
        if self.s.queue == QueueModel::Fifo {
            return;
        }
        let book = &self.markets[instrument.index()].book;
        for o in self.own.iter_mut() {
            if o.instrument == instrument && o.side == side && o.price == price {
                let level = book.level_qty(side, price);
                self.s.queue.level_changed(&mut o.q, level, &mut self.rng);
            }
        }
    }

    /// FIFO: a recorded order that was ahead of Keel's orders at (side, price) lost `qty`.
    fn fifo_removed(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        rank: u64,
        qty: i64,
    ) {
        if self.s.queue != QueueModel::Fifo {
            return;
        }
        for o in self.own.iter_mut() {
            if o.instrument == instrument && o.side == side && o.price == price && rank <= o.q.rank
            {
                self.s.queue.removed_ahead(&mut o.q, qty);
            }
        }
    }

    fn l3_book(&mut self, instrument: InstrumentId) -> Option<&mut L3Book> {
        match &mut self.markets[instrument.index()].book {
            Book::L3(b) => Some(b),
            Book::L2(_) => None,
        }
    }

    fn l3_add(&mut self, e: &MdEvent, watch: bool) {
        let side = e.side.unwrap_or(Side::Buy);
        let Some(book) = self.l3_book(e.instrument) else {
            return self.refuse(e, || "an add event in L2 data".into());
        };
        if let Err(err) = book.add(OrderId(e.order_id), side, e.price, e.qty) {
            return self.refuse(e, || err.to_string());
        }
        if self.s.queue == QueueModel::Fifo {
            self.ranks.insert(e.order_id, self.events);
        }
        if watch {
            self.level_changed_l3(e.instrument, side, e.price);
        }
    }

    fn l3_modify(&mut self, e: &MdEvent, watch: bool) {
        let taken = self.consumed.get(&e.order_id).copied().unwrap_or(0);
        let Some(book) = self.l3_book(e.instrument) else {
            return self.refuse(e, || "a modify event in L2 data".into());
        };
        let Some(before) = book.order(OrderId(e.order_id)) else {
            if taken > 0 {
                return; // Keel's trades took all of it already
            }
            return self.refuse(e, || "unknown order".into());
        };
        let leaves = e.qty.0 - taken;
        let result = if leaves <= 0 {
            book.delete(OrderId(e.order_id))
        } else {
            book.modify(OrderId(e.order_id), e.price, Qty(leaves))
        };
        if let Err(err) = result {
            return self.refuse(e, || err.to_string());
        }
        let lost_priority = e.price != before.price || leaves > before.visible.0;
        if self.s.queue == QueueModel::Fifo {
            let rank = self.ranks.get(&e.order_id).copied().unwrap_or(0);
            let removed = if lost_priority || leaves <= 0 {
                before.visible.0
            } else {
                before.visible.0 - leaves
            };
            if watch {
                self.fifo_removed(e.instrument, before.side, before.price, rank, removed);
            }
            if leaves <= 0 {
                self.ranks.remove(&e.order_id);
            } else if lost_priority {
                self.ranks.insert(e.order_id, self.events);
            }
        }
        if watch {
            self.level_changed_l3(e.instrument, before.side, before.price);
            if e.price != before.price {
                self.level_changed_l3(e.instrument, before.side, e.price);
            }
        }
    }

    fn l3_delete(&mut self, e: &MdEvent, watch: bool) {
        let taken = self.consumed.remove(&e.order_id).unwrap_or(0);
        let Some(book) = self.l3_book(e.instrument) else {
            return self.refuse(e, || "a delete event in L2 data".into());
        };
        let Some(before) = book.order(OrderId(e.order_id)) else {
            if taken == 0 {
                self.refuse(e, || "unknown order".into());
            }
            return;
        };
        if let Err(err) = book.delete(OrderId(e.order_id)) {
            return self.refuse(e, || err.to_string());
        }
        let rank = self.ranks.remove(&e.order_id).unwrap_or(0);
        if watch {
            self.fifo_removed(e.instrument, before.side, before.price, rank, before.visible.0);
            self.level_changed_l3(e.instrument, before.side, before.price);
        }
    }

    fn l3_execute(
        &mut self,
        e: &MdEvent,
        watch: bool,
        now: TimestampNs,
        out: &mut Vec<CommandBody>,
    ) {
        let taken = self.consumed.get(&e.order_id).copied().unwrap_or(0);
        let Some(book) = self.l3_book(e.instrument) else {
            return self.refuse(e, || "an execute event in L2 data".into());
        };
        let Some(before) = book.order(OrderId(e.order_id)) else {
            // Keel's trades may have taken the whole order already; otherwise the data
            // names an order the book never had.
            if taken == 0 {
                self.refuse(e, || "unknown order".into());
            }
            return;
        };
        // The recorded book holds what Keel's trades left of the order; the execution
        // takes from that (and what Keel took stays taken for the order's later events).
        let qty = e.qty.0.min(before.visible.0 + before.hidden.0);
        if let Err(err) = book.execute(OrderId(e.order_id), Qty(qty)) {
            return self.refuse(e, || err.to_string());
        }
        let rank = self.ranks.get(&e.order_id).copied().unwrap_or(0);
        if book_order_gone(&self.markets[e.instrument.index()].book, e.order_id) {
            self.ranks.remove(&e.order_id);
        }
        if !watch {
            return;
        }
        // The print is the full recorded execution: it is what the aggressor traded.
        let mut left = e.qty.0;
        let model = self.s.queue;
        let level_after =
            self.markets[e.instrument.index()].book.level_qty(before.side, before.price);
        for k in 0..self.own.len() {
            if left == 0 {
                break;
            }
            let o = &mut self.own[k];
            if o.instrument != e.instrument || o.side != before.side {
                continue;
            }
            let fill = if o.price == before.price {
                let was_ahead = rank <= o.q.rank;
                let leaves = o.leaves();
                let f = model.execution_at_level(&mut o.q, left, was_ahead, leaves);
                o.q.level_seen = level_after;
                o.q.traded_since_update = 0;
                o.q.ahead = o.q.ahead.min(level_after);
                f
            } else if through(o.side, o.price, e.price) {
                left.min(o.leaves())
            } else {
                0
            };
            if fill > 0 {
                left -= fill;
                self.fill_resting(k, fill, now, out);
            }
        }
        self.own.retain(|o| o.leaves() > 0);
    }

    /// An L2 trade print: fills Keel's resting orders on the side it hit.
    fn print(&mut self, e: &MdEvent, now: TimestampNs, out: &mut Vec<CommandBody>) {
        let mut left = e.qty.0;
        let model = self.s.queue;
        for k in 0..self.own.len() {
            if left == 0 {
                break;
            }
            let o = &mut self.own[k];
            if o.instrument != e.instrument {
                continue;
            }
            // The aggressor, when known, hits the other side only.
            if e.side == Some(o.side) {
                continue;
            }
            let fill = if e.price == o.price {
                let leaves = o.leaves();
                model.print_at_level(&mut o.q, left, leaves)
            } else if through(o.side, o.price, e.price) {
                left.min(o.leaves())
            } else {
                0
            };
            if fill > 0 {
                left -= fill;
                self.fill_resting(k, fill, now, out);
            }
        }
        self.own.retain(|o| o.leaves() > 0);
    }

    fn fill_resting(&mut self, k: usize, qty: i64, now: TimestampNs, out: &mut Vec<CommandBody>) {
        let o = &mut self.own[k];
        o.filled += qty;
        let (id, instrument, price) = (o.id, o.instrument, o.price);
        self.stats.maker_fills += 1;
        self.stats.maker_lots += qty;
        let fee = self.s.fees.fee(instrument, Liquidity::Maker, price, Qty(qty));
        self.next_exec_id += 1;
        out.push(CommandBody::VenueFill(VenueFill {
            venue: self.s.venue,
            order_id: id,
            exec_id: self.next_exec_id,
            price,
            qty: Qty(qty),
            fee,
            liquidity: Liquidity::Maker,
            venue_ts: now,
        }));
    }

    // ------------------------------------------------------------------ requests

    /// Answers one of Keel's requests arriving at venue time `now`.
    pub fn on_request(&mut self, req: &OutputBody, now: TimestampNs, out: &mut Vec<CommandBody>) {
        match req {
            OutputBody::VenueNewOrder(o) => self.new_order(o, now, out),
            OutputBody::VenueCancel(c) => self.cancel(c, now, out),
            OutputBody::VenueReplace(r) => self.replace(r, now, out),
            _ => {}
        }
    }

    fn reject(&mut self, id: OrderId, reason: u32, now: TimestampNs, out: &mut Vec<CommandBody>) {
        self.stats.rejects += 1;
        out.push(CommandBody::VenueReject(VenueReject {
            venue: self.s.venue,
            order_id: id,
            reason,
            venue_ts: now,
        }));
    }

    fn cancel_reject(
        &mut self,
        id: OrderId,
        to: CancelRejectTo,
        reason: u32,
        now: TimestampNs,
        out: &mut Vec<CommandBody>,
    ) {
        self.stats.cancel_rejects += 1;
        out.push(CommandBody::VenueCancelReject(VenueCancelReject {
            venue: self.s.venue,
            order_id: id,
            response_to: to,
            reason,
            venue_ts: now,
        }));
    }

    fn unsolicited_cancel(&self, id: OrderId, now: TimestampNs, out: &mut Vec<CommandBody>) {
        out.push(CommandBody::VenueCancelAck(VenueCancelAck {
            venue: self.s.venue,
            order_id: id,
            unsolicited: true,
            venue_ts: now,
        }));
    }

    fn marketable(&self, instrument: InstrumentId, side: Side, limit: Option<Price>) -> bool {
        self.markets[instrument.index()]
            .book
            .best(side.opposite())
            .is_some_and(|(p, _)| acceptable(side, limit, p))
    }

    /// Quantity available to a taker on `side` up to `limit`, capped at `want`.
    fn available(
        &self,
        instrument: InstrumentId,
        side: Side,
        limit: Option<Price>,
        want: i64,
    ) -> i64 {
        let book = &self.markets[instrument.index()].book;
        let mut sum = 0;
        let mut add = |price: Price, qty: Qty| {
            if sum >= want || !acceptable(side, limit, price) {
                return false;
            }
            sum += qty.0;
            true
        };
        match book {
            Book::L2(b) => {
                for l in b.levels(side.opposite()) {
                    if !add(l.price, l.qty) {
                        break;
                    }
                }
            }
            Book::L3(b) => {
                for l in b.levels(side.opposite()) {
                    if !add(l.price, l.qty) {
                        break;
                    }
                }
            }
        }
        sum.min(want)
    }

    /// Takes up to `qty` on `side` up to `limit` from the recorded book; returns what was
    /// taken, as taker fills written to `out`.
    #[allow(clippy::too_many_arguments)]
    fn take(
        &mut self,
        id: OrderId,
        instrument: InstrumentId,
        side: Side,
        limit: Option<Price>,
        qty: i64,
        now: TimestampNs,
        out: &mut Vec<CommandBody>,
    ) -> i64 {
        self.takes.clear();
        let consume = self.s.consume_liquidity;
        let mut left = qty;
        match &mut self.markets[instrument.index()].book {
            Book::L2(b) => {
                for l in b.levels(side.opposite()) {
                    if left == 0 || !acceptable(side, limit, l.price) {
                        break;
                    }
                    let t = left.min(l.qty.0);
                    left -= t;
                    self.takes.push((l.price, t, l.qty.0));
                }
                if consume {
                    for &(price, t, level) in &self.takes {
                        // Setting a level the book holds to a smaller quantity cannot fail.
                        let _ = b.set(side.opposite(), price, Qty(level - t));
                    }
                }
            }
            Book::L3(b) if consume => {
                // The recorded book matches Keel's taker in queue order; what it takes
                // from each recorded order is remembered for that order's later events.
                self.book_events.clear();
                let probe = NewOrder {
                    id: TAKER_PROBE_ID,
                    side,
                    ord_type: if limit.is_some() { OrdType::Limit } else { OrdType::Market },
                    price: limit.unwrap_or(Price(0)),
                    qty: Qty(qty),
                    tif: TimeInForce::Ioc,
                    post_only: false,
                    display: None,
                };
                if b.submit(&probe, &mut self.book_events).is_ok() {
                    for ev in &self.book_events {
                        if let BookEvent::Fill(f) = ev {
                            *self.consumed.entry(f.maker.0).or_insert(0) += f.qty.0;
                            match self.takes.last_mut() {
                                Some(last) if last.0 == f.price => last.1 += f.qty.0,
                                _ => self.takes.push((f.price, f.qty.0, 0)),
                            }
                            left -= f.qty.0;
                        }
                    }
                }
            }
            Book::L3(b) => {
                for l in b.levels(side.opposite()) {
                    if left == 0 || !acceptable(side, limit, l.price) {
                        break;
                    }
                    let t = left.min(l.qty.0);
                    left -= t;
                    self.takes.push((l.price, t, l.qty.0));
                }
            }
        }
        for k in 0..self.takes.len() {
            let (price, t, _) = self.takes[k];
            self.stats.taker_fills += 1;
            self.stats.taker_lots += t;
            let fee = self.s.fees.fee(instrument, Liquidity::Taker, price, Qty(t));
            self.next_exec_id += 1;
            out.push(CommandBody::VenueFill(VenueFill {
                venue: self.s.venue,
                order_id: id,
                exec_id: self.next_exec_id,
                price,
                qty: Qty(t),
                fee,
                liquidity: Liquidity::Taker,
                venue_ts: now,
            }));
        }
        qty - left
    }

    fn rest(&mut self, mut o: OwnOrder) {
        self.arrivals += 1;
        o.arrival = self.arrivals;
        let level = self.markets[o.instrument.index()].book.level_qty(o.side, o.price);
        o.q = QueueState::join(level, self.events);
        let better = |a: &OwnOrder, b: &OwnOrder| {
            (a.instrument, a.side) == (b.instrument, b.side)
                && (match a.side {
                    Side::Buy => a.price > b.price,
                    Side::Sell => a.price < b.price,
                })
        };
        let pos = self.own.iter().position(|x| better(&o, x)).unwrap_or(self.own.len());
        self.own.insert(pos, o);
    }

    fn new_order(&mut self, o: &VenueNewOrder, now: TimestampNs, out: &mut Vec<CommandBody>) {
        if o.instrument.index() >= self.markets.len() {
            return self.reject(o.order_id, reason::UNKNOWN_INSTRUMENT, now, out);
        }
        let post_only = o.flags.contains(OrderFlags::POST_ONLY);
        let immediate = matches!(o.tif, TimeInForce::Ioc | TimeInForce::Fok);
        let limit = match o.ord_type {
            OrdType::Market => None,
            OrdType::Limit => Some(o.price),
            _ => return self.reject(o.order_id, reason::INVALID, now, out),
        };
        if o.qty.0 <= 0 || (post_only && (limit.is_none() || immediate)) {
            return self.reject(o.order_id, reason::INVALID, now, out);
        }
        let marketable = self.marketable(o.instrument, o.side, limit);
        if post_only && marketable {
            return self.reject(o.order_id, reason::POST_ONLY_WOULD_CROSS, now, out);
        }
        if o.tif == TimeInForce::Fok
            && self.available(o.instrument, o.side, limit, o.qty.0) < o.qty.0
        {
            return self.reject(o.order_id, reason::FOK_UNFILLABLE, now, out);
        }
        out.push(CommandBody::VenueAck(VenueAck {
            venue: self.s.venue,
            order_id: o.order_id,
            venue_order_id: o.order_id.0,
            venue_ts: now,
        }));
        let filled = if marketable {
            self.take(o.order_id, o.instrument, o.side, limit, o.qty.0, now, out)
        } else {
            0
        };
        let leaves = o.qty.0 - filled;
        if leaves == 0 {
            return;
        }
        if limit.is_none() || immediate {
            return self.unsolicited_cancel(o.order_id, now, out);
        }
        self.rest(OwnOrder {
            id: o.order_id,
            instrument: o.instrument,
            side: o.side,
            price: o.price,
            total: o.qty.0,
            filled,
            post_only,
            arrival: 0,
            q: QueueState::default(),
        });
    }

    fn cancel(&mut self, c: &VenueCancel, now: TimestampNs, out: &mut Vec<CommandBody>) {
        match self.own.iter().position(|o| o.id == c.order_id) {
            Some(k) => {
                self.own.remove(k);
                out.push(CommandBody::VenueCancelAck(VenueCancelAck {
                    venue: self.s.venue,
                    order_id: c.order_id,
                    unsolicited: false,
                    venue_ts: now,
                }));
            }
            None => self.cancel_reject(
                c.order_id,
                CancelRejectTo::Cancel,
                reason::UNKNOWN_ORDER,
                now,
                out,
            ),
        }
    }

    fn replace(&mut self, r: &VenueReplace, now: TimestampNs, out: &mut Vec<CommandBody>) {
        let Some(k) = self.own.iter().position(|o| o.id == r.order_id) else {
            return self.cancel_reject(
                r.order_id,
                CancelRejectTo::Replace,
                reason::UNKNOWN_ORDER,
                now,
                out,
            );
        };
        let o = self.own[k];
        let ack = CommandBody::VenueReplaceAck(VenueReplaceAck {
            venue: self.s.venue,
            order_id: r.order_id,
            price: r.price,
            qty: r.qty,
            venue_ts: now,
        });
        if r.qty.0 <= o.filled {
            // Amended to no more than what has filled: the order is done.
            self.own.remove(k);
            out.push(ack);
            return self.unsolicited_cancel(r.order_id, now, out);
        }
        let leaves = r.qty.0 - o.filled;
        if r.price == o.price && leaves <= o.leaves() {
            // Reduction in place: the order keeps its place in the queue.
            self.own[k].total = r.qty.0;
            out.push(ack);
            return;
        }
        let marketable = self.marketable(o.instrument, o.side, Some(r.price));
        if o.post_only && marketable {
            return self.cancel_reject(
                r.order_id,
                CancelRejectTo::Replace,
                reason::POST_ONLY_WOULD_CROSS,
                now,
                out,
            );
        }
        self.own.remove(k);
        out.push(ack);
        let filled_now = if marketable {
            self.take(o.id, o.instrument, o.side, Some(r.price), leaves, now, out)
        } else {
            0
        };
        if filled_now == leaves {
            return;
        }
        self.rest(OwnOrder { price: r.price, total: r.qty.0, filled: o.filled + filled_now, ..o });
    }
}

fn book_order_gone(book: &Book, id: u64) -> bool {
    match book {
        Book::L3(b) => b.order(OrderId(id)).is_none(),
        Book::L2(_) => true,
    }
}
