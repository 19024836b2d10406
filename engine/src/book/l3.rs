//! The order-by-order book with price-time priority, and its matching.
//!
//! # Matching rules
//! - Fills happen at the maker's price, best level first, and within a level in queue
//!   order (time priority).
//! - **Limit**: trades while the opposite best is at or better than the limit; the rest
//!   rests at the back of its level (GTC/DAY/GTD — expiry is the core's job) or is cancelled
//!   (IOC/FOK). **Market**: trades until filled or the other side is empty; the remainder
//!   is always cancelled.
//! - **FOK**: before touching the book, the quantity available up to the limit is summed,
//!   *including iceberg reserve* — an incoming order does trade through reserve in this
//!   book (a refilled iceberg rejoins the same level), so counting it is exact.
//! - **Post-only**: rejected if it would trade on entry; nothing else happens.
//! - **Iceberg** (`display`): only the displayed part is in the queue and in L2. A maker
//!   trades at most its displayed part per priority pass; once that is exhausted it
//!   refills `min(display, reserve)` and goes to the back of its level. An incoming
//!   iceberg trades its full size.
//! - **Amend** to a new *total* quantity (filled included, as FIX cancel/replace):
//!   same price and leaves not increased keeps priority; a price change or a leaves
//!   increase loses it (and a new price may trade); total ≤ filled ends the order.
//! - **Capacity** is checked before anything changes: an order that may rest needs a free
//!   node, and a free level slot unless its level exists. This is conservative — an order
//!   that would have filled completely is still refused when the book is full.
//! - Self-trade prevention is the core's risk layer, not the book's.
//!
//! The book tracks only live orders: an id may be reused after its order leaves the book
//! (the core rejects duplicate ids over the whole journal).

use super::BookCapacity;
use super::analytics::{Imbalance, LevelView, Microprice, sum_qty};
use super::error::BookError;
use super::event::{BookEvent, CancelReason, EventSink, Fill, NullSink};
use super::index::OrderIndex;
use super::ladder::{Ladder, crosses};
use super::slab::{NIL, Node, Queue, Slab};
use crate::{OrdType, OrderId, Price, Qty, Side, TimeInForce};

mod snapshot;

/// A new order for [`L3Book::submit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// Unique among live orders.
    pub id: OrderId,
    /// Buy or sell.
    pub side: Side,
    /// `Market` or `Limit`; stops are the core's.
    pub ord_type: OrdType,
    /// Limit price; ignored for market orders.
    pub price: Price,
    /// Total quantity (> 0).
    pub qty: Qty,
    /// Time in force: IOC/FOK never rest; the others rest alike in the book.
    pub tif: TimeInForce,
    /// Reject instead of trading on entry.
    pub post_only: bool,
    /// Iceberg display quantity, `1..=qty`; `None` shows everything.
    pub display: Option<Qty>,
}

impl NewOrder {
    /// A GTC limit order.
    pub const fn limit(id: OrderId, side: Side, price: Price, qty: Qty) -> NewOrder {
        NewOrder {
            id,
            side,
            ord_type: OrdType::Limit,
            price,
            qty,
            tif: TimeInForce::Gtc,
            post_only: false,
            display: None,
        }
    }

    /// A market order.
    pub const fn market(id: OrderId, side: Side, qty: Qty) -> NewOrder {
        NewOrder {
            id,
            side,
            ord_type: OrdType::Market,
            price: Price(0),
            qty,
            tif: TimeInForce::Ioc,
            post_only: false,
            display: None,
        }
    }

    /// With this time in force.
    pub const fn tif(mut self, tif: TimeInForce) -> NewOrder {
        self.tif = tif;
        self
    }

    /// Post-only.
    pub const fn post_only(mut self) -> NewOrder {
        self.post_only = true;
        self
    }

    /// An iceberg showing `display`.
    pub const fn iceberg(mut self, display: Qty) -> NewOrder {
        self.display = Some(display);
        self
    }
}

/// What a successful submit or amend did to the incoming order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Executed {
    /// Traded by this command.
    pub filled: Qty,
    /// Left resting (visible + hidden).
    pub rested: Qty,
    /// Cancelled by this command (IOC/market remainder, amend below filled).
    pub cancelled: Qty,
}

/// A resting order, as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderView {
    /// Its id.
    pub id: OrderId,
    /// Its side.
    pub side: Side,
    /// Its price.
    pub price: Price,
    /// Shown quantity.
    pub visible: Qty,
    /// Iceberg reserve.
    pub hidden: Qty,
    /// Executed so far.
    pub filled: Qty,
}

impl OrderView {
    fn of(n: &Node) -> OrderView {
        OrderView {
            id: n.id,
            side: n.side,
            price: n.price,
            visible: n.visible,
            hidden: n.hidden,
            filled: n.filled,
        }
    }
}

/// A price level's aggregate and its queue.
#[derive(Clone, Copy, Debug, Default)]
struct Level {
    visible: Qty,
    hidden: Qty,
    queue: Queue,
}

/// Order-by-order book with matching. See the module docs for the rules.
pub struct L3Book {
    slab: Slab,
    index: OrderIndex,
    bids: Ladder<Level>,
    asks: Ladder<Level>,
}

/// Display size of a non-iceberg: everything is visible.
const SHOW_ALL: Qty = Qty(i64::MAX);

impl L3Book {
    /// Reserves all memory the book will ever use.
    pub fn new(capacity: BookCapacity) -> L3Book {
        L3Book {
            slab: Slab::with_capacity(capacity.orders),
            index: OrderIndex::with_capacity(capacity.orders),
            bids: Ladder::with_capacity(Side::Buy, capacity.levels_per_side),
            asks: Ladder::with_capacity(Side::Sell, capacity.levels_per_side),
        }
    }

    /// Empties the book (before applying a snapshot). O(capacity); allocates nothing.
    pub fn clear(&mut self) {
        self.slab.clear();
        self.index.clear();
        self.bids.clear();
        self.asks.clear();
    }

    #[inline]
    fn ladder(&self, side: Side) -> &Ladder<Level> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    // ---------------------------------------------------------------- matching commands

    /// Enters a new order: validates, matches, then rests or cancels the remainder.
    /// On `Err` nothing changed and nothing was written to `sink`.
    pub fn submit<S: EventSink>(
        &mut self,
        order: &NewOrder,
        sink: &mut S,
    ) -> Result<Executed, BookError> {
        let o = order;
        if o.qty.0 <= 0 {
            return Err(BookError::InvalidQty { qty: o.qty });
        }
        if let Some(d) = o.display {
            if d.0 <= 0 || d > o.qty {
                return Err(BookError::InvalidDisplay { display: d, qty: o.qty });
            }
        }
        let limit = match o.ord_type {
            OrdType::Market => None,
            OrdType::Limit => Some(o.price),
            ord_type => return Err(BookError::UnsupportedOrdType { ord_type }),
        };
        let may_rest = limit.is_some() && !o.tif.is_immediate();
        if o.post_only && !may_rest {
            return Err(BookError::PostOnlyNotResting);
        }
        if self.index.get(o.id).is_some() {
            return Err(BookError::DuplicateOrderId { id: o.id });
        }
        if may_rest {
            self.check_room(o.side, o.price, None)?;
        }
        if o.post_only {
            self.check_post_only(o.side, o.price)?;
        }
        if o.tif == TimeInForce::Fok {
            let available = self.available(o.side, limit, o.qty);
            if available < o.qty {
                return Err(BookError::FokUnfillable { qty: o.qty, available });
            }
        }

        let leaves = self.match_incoming(o.id, o.side, limit, o.qty, sink);
        let mut done = Executed { filled: o.qty - leaves, ..Executed::default() };
        if leaves.0 > 0 {
            if may_rest {
                let display = o.display.unwrap_or(SHOW_ALL);
                self.rest(o.id, o.side, o.price, leaves, done.filled, display, o.post_only, sink);
                done.rested = leaves;
            } else {
                sink.event(BookEvent::Cancelled {
                    id: o.id,
                    side: o.side,
                    price: o.price,
                    leaves,
                    reason: CancelReason::Unfilled,
                });
                done.cancelled = leaves;
            }
        }
        self.debug_check();
        Ok(done)
    }

    /// Cancels a resting order; returns the quantity cancelled (visible + hidden).
    pub fn cancel<S: EventSink>(&mut self, id: OrderId, sink: &mut S) -> Result<Qty, BookError> {
        let i = self.index.get(id).ok_or(BookError::UnknownOrderId { id })?;
        let n = self.remove_resting(i);
        sink.event(BookEvent::Cancelled {
            id,
            side: n.side,
            price: n.price,
            leaves: n.leaves(),
            reason: CancelReason::Requested,
        });
        self.debug_check();
        Ok(n.leaves())
    }

    /// Cancel/replace to `price` and a new **total** quantity `qty` (filled included).
    /// See the module docs for priority; a post-only order amended to a crossing price is
    /// rejected unchanged.
    pub fn amend<S: EventSink>(
        &mut self,
        id: OrderId,
        price: Price,
        qty: Qty,
        sink: &mut S,
    ) -> Result<Executed, BookError> {
        let i = self.index.get(id).ok_or(BookError::UnknownOrderId { id })?;
        if qty.0 <= 0 {
            return Err(BookError::InvalidQty { qty });
        }
        let n = self.slab[i];
        if qty <= n.filled {
            let n = self.remove_resting(i);
            sink.event(BookEvent::Cancelled {
                id,
                side: n.side,
                price: n.price,
                leaves: n.leaves(),
                reason: CancelReason::AmendedBelowFilled,
            });
            self.debug_check();
            return Ok(Executed { cancelled: n.leaves(), ..Executed::default() });
        }
        let leaves = qty - n.filled;
        let side = n.side;
        if price == n.price && leaves <= n.leaves() {
            // Reduction in place: time priority kept. Shrink the reserve first so the
            // order keeps showing what it showed.
            let visible = n.visible.min(leaves);
            let hidden = leaves - visible;
            let pos = self.find_level(side, n.price);
            let lvl = self.ladder_mut(side).val_mut(pos);
            lvl.visible -= n.visible - visible;
            lvl.hidden -= n.hidden - hidden;
            let node = &mut self.slab[i];
            node.visible = visible;
            node.hidden = hidden;
            sink.event(BookEvent::Amended { id, side, price, leaves, priority_kept: true });
            self.debug_check();
            return Ok(Executed { rested: leaves, ..Executed::default() });
        }
        if n.post_only {
            self.check_post_only(side, price)?;
        }
        // Room for the new level: the old one frees a slot if this order is alone in it.
        let old_pos = self.find_level(side, n.price);
        let freed = (self.ladder(side).val(old_pos).queue.count == 1).then_some(n.price);
        self.check_room_level(side, price, freed)?;

        let n = self.remove_resting(i);
        sink.event(BookEvent::Amended { id, side, price, leaves, priority_kept: false });
        let rest = self.match_incoming(id, side, Some(price), leaves, sink);
        let filled_now = leaves - rest;
        if rest.0 > 0 {
            self.rest(id, side, price, rest, n.filled + filled_now, n.display, n.post_only, sink);
        }
        self.debug_check();
        Ok(Executed { filled: filled_now, rested: rest, cancelled: Qty(0) })
    }

    // ---------------------------------------------------------------- L3 feed replica

    /// Feed: a new resting order. Rejected with `POST_ONLY_WOULD_CROSS` if it would cross.
    pub fn add(
        &mut self,
        id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<(), BookError> {
        self.submit(&NewOrder::limit(id, side, price, qty).post_only(), &mut NullSink).map(|_| ())
    }

    /// Feed: order now has `leaves` at `price` (same priority rules as [`L3Book::amend`]).
    /// A well-formed feed never modifies an order through the other side; if one does,
    /// this book trades it rather than ever holding a crossed state.
    pub fn modify(&mut self, id: OrderId, price: Price, leaves: Qty) -> Result<(), BookError> {
        let i = self.index.get(id).ok_or(BookError::UnknownOrderId { id })?;
        if leaves.0 <= 0 {
            return Err(BookError::InvalidQty { qty: leaves });
        }
        let filled = self.slab[i].filled;
        self.amend(id, price, filled + leaves, &mut NullSink).map(|_| ())
    }

    /// Feed: order deleted.
    pub fn delete(&mut self, id: OrderId) -> Result<(), BookError> {
        self.cancel(id, &mut NullSink).map(|_| ())
    }

    /// Feed: `qty` of a resting order executed. Returns its leaves; at zero it is removed.
    pub fn execute(&mut self, id: OrderId, qty: Qty) -> Result<Qty, BookError> {
        let i = self.index.get(id).ok_or(BookError::UnknownOrderId { id })?;
        let n = self.slab[i];
        if qty.0 <= 0 || qty > n.leaves() {
            return Err(BookError::InvalidQty { qty });
        }
        let pos = self.find_level(n.side, n.price);
        let from_visible = qty.min(n.visible);
        let from_hidden = qty - from_visible;
        let Self { slab, index, bids, asks } = self;
        let ladder = match n.side {
            Side::Buy => bids,
            Side::Sell => asks,
        };
        let lvl = ladder.val_mut(pos);
        let node = &mut slab[i];
        node.visible -= from_visible;
        node.hidden -= from_hidden;
        node.filled += qty;
        lvl.visible -= from_visible;
        lvl.hidden -= from_hidden;
        let leaves = node.leaves();
        if node.visible.0 == 0 {
            if node.hidden.0 > 0 {
                let r = node.display.min(node.hidden);
                node.visible = r;
                node.hidden -= r;
                lvl.visible += r;
                lvl.hidden -= r;
                lvl.queue.move_to_back(slab, i);
            } else {
                lvl.queue.unlink(slab, i);
                slab.free(i);
                index.remove(id);
                debug_assert_level(lvl);
                if lvl.queue.count == 0 {
                    ladder.remove(pos);
                }
            }
        }
        self.debug_check();
        Ok(leaves)
    }

    // ---------------------------------------------------------------- queries

    /// Best bid price and visible quantity.
    #[inline]
    pub fn best_bid(&self) -> Option<(Price, Qty)> {
        self.best(Side::Buy)
    }

    /// Best ask price and visible quantity.
    #[inline]
    pub fn best_ask(&self) -> Option<(Price, Qty)> {
        self.best(Side::Sell)
    }

    /// Best price and visible quantity of a side.
    #[inline]
    pub fn best(&self, side: Side) -> Option<(Price, Qty)> {
        let l = self.ladder(side);
        l.best().map(|pos| (l.price(pos), l.val(pos).visible))
    }

    /// Writes up to `out.len()` levels of `side`, best first; returns how many.
    pub fn depth(&self, side: Side, out: &mut [LevelView]) -> usize {
        let mut n = 0;
        for ((price, lvl), slot) in self.ladder(side).iter().zip(out.iter_mut()) {
            *slot = LevelView { price, qty: lvl.visible, orders: lvl.queue.count };
            n += 1;
        }
        n
    }

    /// Levels of `side`, best first.
    pub fn levels(&self, side: Side) -> impl Iterator<Item = LevelView> + '_ {
        self.ladder(side).iter().map(|(price, lvl)| LevelView {
            price,
            qty: lvl.visible,
            orders: lvl.queue.count,
        })
    }

    /// Visible-quantity imbalance over the best `levels` levels of each side.
    pub fn imbalance(&self, levels: usize) -> Imbalance {
        Imbalance {
            bid: sum_qty(self.bids.iter().map(|(_, l)| l.visible), levels),
            ask: sum_qty(self.asks.iter().map(|(_, l)| l.visible), levels),
        }
    }

    /// Microprice from the top of book, when both sides have one.
    pub fn microprice(&self) -> Option<Microprice> {
        Microprice::from_top(self.best_bid()?, self.best_ask()?)
    }

    /// A resting order by id.
    pub fn order(&self, id: OrderId) -> Option<OrderView> {
        self.index.get(id).map(|i| OrderView::of(&self.slab[i]))
    }

    /// The queue at `price` on `side`, front (highest priority) first; empty if no level.
    pub fn orders_at(&self, side: Side, price: Price) -> OrdersAt<'_> {
        let l = self.ladder(side);
        let next = l.find(price).map(|pos| l.val(pos).queue.head).unwrap_or(NIL);
        OrdersAt { slab: &self.slab, next }
    }

    /// Number of resting orders.
    #[inline]
    pub fn len(&self) -> usize {
        self.slab.live() as usize
    }

    /// True when no order rests.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.slab.live() == 0
    }

    /// Number of price levels on `side`.
    #[inline]
    pub fn level_count(&self, side: Side) -> usize {
        self.ladder(side).len()
    }

    /// The capacity the book was built with.
    pub fn capacity(&self) -> BookCapacity {
        BookCapacity { orders: self.slab.capacity(), levels_per_side: self.bids.capacity() }
    }

    /// True when best bid ≥ best ask (never, after any command of this book).
    pub fn is_crossed(&self) -> bool {
        match (self.best_bid(), self.best_ask()) {
            (Some((b, _)), Some((a, _))) => b >= a,
            _ => false,
        }
    }

    /// Checks every invariant in O(orders): for tests and debug tooling.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.is_crossed() {
            return Err("book is crossed");
        }
        let mut total = 0u32;
        for side in [Side::Buy, Side::Sell] {
            let mut prev: Option<Price> = None;
            for (price, lvl) in self.ladder(side).iter() {
                if let Some(p) = prev {
                    let ordered = match side {
                        Side::Buy => price < p,
                        Side::Sell => price > p,
                    };
                    if !ordered {
                        return Err("levels out of order");
                    }
                }
                prev = Some(price);
                let (mut vis, mut hid, mut count, mut i, mut last) =
                    (Qty(0), Qty(0), 0u32, lvl.queue.head, NIL);
                while i != NIL {
                    let n = &self.slab[i];
                    if n.price != price || n.side != side || n.prev != last {
                        return Err("order linked into the wrong level");
                    }
                    if n.visible.0 <= 0 || n.hidden.0 < 0 || n.visible > n.display {
                        return Err("order quantities out of range");
                    }
                    if self.index.get(n.id) != Some(i) {
                        return Err("index disagrees with slab");
                    }
                    vis += n.visible;
                    hid += n.hidden;
                    count += 1;
                    last = i;
                    i = n.next;
                }
                if count == 0 || count != lvl.queue.count || last != lvl.queue.tail {
                    return Err("queue count or tail wrong");
                }
                if vis != lvl.visible || hid != lvl.hidden {
                    return Err("level quantity differs from its orders");
                }
                total += count;
            }
        }
        if total != self.slab.live() {
            return Err("live orders not all in levels");
        }
        Ok(())
    }

    // ---------------------------------------------------------------- internals

    #[inline]
    fn ladder_mut(&mut self, side: Side) -> &mut Ladder<Level> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    #[inline]
    fn debug_check(&self) {
        debug_assert!(!self.is_crossed(), "book crossed after a command");
    }

    /// Position of the level of a resting order (it exists by invariant).
    #[inline]
    fn find_level(&self, side: Side, price: Price) -> usize {
        match self.ladder(side).find(price) {
            Ok(pos) => pos,
            Err(_) => unreachable!("a resting order's level exists"),
        }
    }

    fn check_room(&self, side: Side, price: Price, freed: Option<Price>) -> Result<(), BookError> {
        if self.slab.is_full() {
            return Err(BookError::OrdersFull { capacity: self.slab.capacity() });
        }
        self.check_room_level(side, price, freed)
    }

    /// A level at `price` exists or can be added (counting a level about to be freed).
    fn check_room_level(
        &self,
        side: Side,
        price: Price,
        freed: Option<Price>,
    ) -> Result<(), BookError> {
        let l = self.ladder(side);
        if l.is_full() && freed.is_none() && l.find(price).is_err() {
            return Err(BookError::LevelsFull { side, capacity: l.capacity() });
        }
        Ok(())
    }

    fn check_post_only(&self, side: Side, price: Price) -> Result<(), BookError> {
        match self.best(side.opposite()) {
            Some((best, _)) if crosses(side, price, best) => {
                Err(BookError::PostOnlyWouldCross { price, opposite_best: best })
            }
            _ => Ok(()),
        }
    }

    /// Quantity (visible + hidden) on the other side up to `limit`, stopping once `need`
    /// is reached.
    fn available(&self, side: Side, limit: Option<Price>, need: Qty) -> Qty {
        let mut sum = Qty(0);
        for (price, lvl) in self.ladder(side.opposite()).iter() {
            if limit.is_some_and(|l| !crosses(side, l, price)) || sum >= need {
                break;
            }
            sum += lvl.visible + lvl.hidden;
        }
        sum
    }

    /// Trades an incoming quantity against the other side; returns what is left.
    #[inline]
    fn match_incoming<S: EventSink>(
        &mut self,
        taker: OrderId,
        side: Side,
        limit: Option<Price>,
        mut qty: Qty,
        sink: &mut S,
    ) -> Qty {
        let Self { slab, index, bids, asks } = self;
        let ladder = match side {
            Side::Buy => asks,
            Side::Sell => bids,
        };
        while qty.0 > 0 {
            let Some(pos) = ladder.best() else { break };
            let price = ladder.price(pos);
            if limit.is_some_and(|l| !crosses(side, l, price)) {
                break;
            }
            let lvl = ladder.val_mut(pos);
            // Bounded: each pass consumes a whole visible part or the taker's remainder.
            while qty.0 > 0 && lvl.queue.head != NIL {
                let i = lvl.queue.head;
                let node = &mut slab[i];
                let q = qty.min(node.visible);
                node.visible -= q;
                node.filled += q;
                lvl.visible -= q;
                qty -= q;
                sink.event(BookEvent::Fill(Fill {
                    maker: node.id,
                    taker,
                    taker_side: side,
                    price,
                    qty: q,
                    maker_leaves: node.leaves(),
                    taker_leaves: qty,
                }));
                if node.visible.0 == 0 {
                    if node.hidden.0 > 0 {
                        let r = node.display.min(node.hidden);
                        node.visible = r;
                        node.hidden -= r;
                        lvl.visible += r;
                        lvl.hidden -= r;
                        let (id, hidden) = (node.id, node.hidden);
                        lvl.queue.move_to_back(slab, i);
                        sink.event(BookEvent::Replenished {
                            id,
                            side: side.opposite(),
                            price,
                            visible: r,
                            hidden,
                        });
                    } else {
                        let id = node.id;
                        lvl.queue.unlink(slab, i);
                        slab.free(i);
                        index.remove(id);
                    }
                }
            }
            debug_assert_level(lvl);
            if lvl.queue.count == 0 {
                ladder.remove(pos);
            }
        }
        qty
    }

    /// Puts a remainder at the back of its level. Room was checked before matching, and
    /// matching only frees nodes and opposite-side levels, so this cannot fail.
    #[allow(clippy::too_many_arguments)]
    fn rest<S: EventSink>(
        &mut self,
        id: OrderId,
        side: Side,
        price: Price,
        leaves: Qty,
        filled: Qty,
        display: Qty,
        post_only: bool,
        sink: &mut S,
    ) {
        let visible = display.min(leaves);
        let hidden = leaves - visible;
        let node = Node {
            id,
            price,
            visible,
            hidden,
            display,
            filled,
            prev: NIL,
            next: NIL,
            side,
            post_only,
        };
        let Some(i) = self.slab.alloc(node) else {
            unreachable!("room was checked before matching")
        };
        self.index.insert(id, i);
        let Self { slab, bids, asks, .. } = self;
        let ladder = match side {
            Side::Buy => bids,
            Side::Sell => asks,
        };
        let pos = match ladder.find(price) {
            Ok(pos) => pos,
            Err(pos) => {
                ladder.insert(pos, price, Level::default());
                pos
            }
        };
        let lvl = ladder.val_mut(pos);
        lvl.queue.push_back(slab, i);
        lvl.visible += visible;
        lvl.hidden += hidden;
        sink.event(BookEvent::Rested { id, side, price, leaves, visible });
    }

    /// Unlinks and frees a resting order, dropping its level if now empty.
    fn remove_resting(&mut self, i: u32) -> Node {
        let n = self.slab[i];
        let pos = self.find_level(n.side, n.price);
        let Self { slab, index, bids, asks } = self;
        let ladder = match n.side {
            Side::Buy => bids,
            Side::Sell => asks,
        };
        let lvl = ladder.val_mut(pos);
        lvl.queue.unlink(slab, i);
        lvl.visible -= n.visible;
        lvl.hidden -= n.hidden;
        debug_assert_level(lvl);
        if lvl.queue.count == 0 {
            ladder.remove(pos);
        }
        slab.free(i);
        index.remove(n.id);
        n
    }
}

/// Cheap debug check of a level's aggregate (the full O(orders) check is
/// [`L3Book::validate`]): never negative, and an emptied level has nothing left in it —
/// which fails whenever the aggregate drifted from the sum of its orders.
#[inline]
fn debug_assert_level(lvl: &Level) {
    debug_assert!(lvl.visible.0 >= 0 && lvl.hidden.0 >= 0, "negative level quantity");
    debug_assert!(
        lvl.queue.count > 0 || (lvl.visible.0 == 0 && lvl.hidden.0 == 0),
        "empty level with quantity: level sum differs from its orders"
    );
    debug_assert!(lvl.queue.count == 0 || lvl.visible.0 > 0, "non-empty level shows nothing");
}

/// Iterator over one level's queue, front first.
pub struct OrdersAt<'a> {
    slab: &'a Slab,
    next: u32,
}

impl Iterator for OrdersAt<'_> {
    type Item = OrderView;
    fn next(&mut self) -> Option<OrderView> {
        if self.next == NIL {
            return None;
        }
        let n = &self.slab[self.next];
        self.next = n.next;
        Some(OrderView::of(n))
    }
}
