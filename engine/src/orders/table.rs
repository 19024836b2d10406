//! The order table: every order that is not yet finished, in a fixed-capacity slab.
//!
//! Contract:
//! - **Static allocation.** All storage is allocated by [`OrderTable::new`]; nothing
//!   allocates afterwards. A full table refuses an insert with
//!   `ORDER_CAPACITY: orders=<len>, max=<capacity>`.
//! - **O(1) lookups without a seeded hasher**, by [`OrderId`] and by
//!   `(SessionId, ClOrdId)`, through preallocated open-addressing maps with a fixed hash
//!   ([`super::fixed_map`]).
//! - **Deterministic iteration in `OrderId` order.** Live orders are also threaded on a
//!   list kept sorted by id, and each slot has a 16-byte summary (account, session,
//!   instrument, state) beside it, so a walk in scope (mass cancel, kill switch) reads
//!   two small arrays and touches an order only when it is in scope. The summary's state
//!   is kept in step by [`OrderMut`], the only way to change an order in the table. The core assigns ids in increasing order, so an insert is an
//!   O(1) append; an out-of-order insert (e.g. a snapshot restored in another order)
//!   walks back from the tail to its place. Iteration, mass cancel and the digest follow
//!   this list, so they never depend on slot placement.
//! - **Duplicate client order ids.** A `(session, cl_ord_id)` is a duplicate while an
//!   order in the table uses it (as its current id, or as the id of a replace awaiting the
//!   venue), and for the last [`OrderTableConfig::cl_ord_id_history`] ids retired from the
//!   table (by removal of a finished order, a replace acked — the old id — or a replace
//!   refused — the refused id). Older ids fall out of the bound, oldest first; detecting
//!   those is the journal's job (audit), not the hot path's.
//! - **Duplicate executions.** The last [`OrderTableConfig::exec_id_history`]
//!   `(venue, exec_id)` pairs of applied fills are remembered, evicted FIFO; a repeat is
//!   `VENUE_DUPLICATE_FILL: exec_id`. It is checked before the order lookup, so a repeat of
//!   the fill that finished (and removed) an order is still reported as a duplicate.
//! - **Removal.** Finished (terminal) orders are removed by the core after their final
//!   report; their slot is reused. The journal keeps the history.

use super::fixed_map::{ClKey, ExecKey, FixedMap, Tag};
use super::order::{FillOutcome, Order, OrderTerms, ReplaceOutcome, digest_cl_ord_id};
use super::ring::Ring;
use super::state::OrderState;
use super::state::{IllegalTransition, OrderEvent};
use crate::schema::{
    MassCancelScope, RejectCode, RejectInfo, ReplaceOrder, Scope, VenueFill, VenueReplaceAck,
};
use crate::{AccountId, ClOrdId, InstrumentId, OrderId, SessionId, TimestampNs, VenueId};

mod snapshot;

/// Sizes, fixed at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderTableConfig {
    /// Most orders in the table at once.
    pub orders_max: usize,
    /// How many retired client order ids are still refused as duplicates.
    pub cl_ord_id_history: usize,
    /// How many recent execution ids are remembered for duplicate detection.
    pub exec_id_history: usize,
}

impl OrderTableConfig {
    /// `orders_max` orders, with both histories as large as the table.
    pub const fn with_orders_max(orders_max: usize) -> Self {
        OrderTableConfig { orders_max, cl_ord_id_history: orders_max, exec_id_history: orders_max }
    }
}

/// Which working orders a mass cancel or kill switch applies to; `None` matches all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only this account's orders.
    pub account: Option<AccountId>,
    /// Only orders in this instrument.
    pub instrument: Option<InstrumentId>,
    /// Only orders entered by this session.
    pub session: Option<SessionId>,
}

impl OrderFilter {
    /// Every order.
    pub const ALL: OrderFilter = OrderFilter { account: None, instrument: None, session: None };

    /// A kill switch's scope.
    pub const fn from_scope(scope: Scope) -> Self {
        match scope {
            Scope::Firm => OrderFilter::ALL,
            Scope::Account(a) => OrderFilter { account: Some(a), ..OrderFilter::ALL },
            Scope::Session(s) => OrderFilter { session: Some(s), ..OrderFilter::ALL },
        }
    }

    /// A mass cancel's scope: always within the requesting account.
    pub const fn from_mass_cancel(account: AccountId, scope: MassCancelScope) -> Self {
        let base = OrderFilter { account: Some(account), instrument: None, session: None };
        match scope {
            MassCancelScope::Account => base,
            MassCancelScope::Instrument(i) => OrderFilter { instrument: Some(i), ..base },
            MassCancelScope::Session(s) => OrderFilter { session: Some(s), ..base },
        }
    }

    #[inline]
    fn matches_meta(&self, m: &SlotMeta) -> bool {
        self.account.is_none_or(|a| a == m.account)
            && self.instrument.is_none_or(|i| i == m.instrument)
            && self.session.is_none_or(|s| s == m.session)
    }

    /// True when `order` is in scope (working or not).
    #[inline]
    pub fn matches(&self, order: &Order) -> bool {
        let t = order.terms();
        self.account.is_none_or(|a| a == t.account)
            && self.instrument.is_none_or(|i| i == t.instrument)
            && self.session.is_none_or(|s| s == t.session)
    }
}

/// What a client order id key maps to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ClEntry {
    /// Used by the order in this slot.
    Live(u32),
    /// Retired, still in the history ring.
    #[default]
    Recent,
}

const NIL: u32 = u32::MAX;

/// What a walk needs of an order without reading it (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SlotMeta {
    account: AccountId,
    session: SessionId,
    instrument: InstrumentId,
    state: OrderState,
    /// True while the slot holds an order of the table (a free slot keeps its last order,
    /// never read).
    live: bool,
}

impl SlotMeta {
    const EMPTY: SlotMeta = SlotMeta {
        account: AccountId(0),
        session: SessionId(0),
        instrument: InstrumentId(0),
        state: OrderState::Cancelled,
        live: false,
    };

    /// The summary of a live order.
    #[inline]
    fn of(order: &Order) -> SlotMeta {
        let t = order.terms();
        SlotMeta {
            account: t.account,
            session: t.session,
            instrument: t.instrument,
            state: order.state(),
            live: true,
        }
    }
}

/// The client order id index.
type ClMap = FixedMap<ClKey, ClEntry>;

/// The client order id index's tag for an order's terms.
#[inline]
fn cl_tag(t: &OrderTerms) -> Tag {
    ClMap::tag_of(&ClKey { session: t.session, cl_ord_id: t.cl_ord_id })
}

/// An order of the table, borrowed to change it: when it goes, the table's summary of the
/// order takes its state.
#[derive(Debug)]
pub struct OrderMut<'a> {
    order: &'a mut Order,
    state: &'a mut OrderState,
}

impl std::ops::Deref for OrderMut<'_> {
    type Target = Order;
    #[inline]
    fn deref(&self) -> &Order {
        self.order
    }
}

impl std::ops::DerefMut for OrderMut<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Order {
        self.order
    }
}

impl Drop for OrderMut<'_> {
    #[inline]
    fn drop(&mut self) {
        *self.state = self.order.state();
    }
}

/// Links of the id-ordered list of live orders.
#[derive(Clone, Copy, Debug)]
struct Link {
    prev: u32,
    next: u32,
}

/// The order table (see the module docs for the contract).
#[derive(Clone, Debug)]
pub struct OrderTable {
    config: OrderTableConfig,
    /// Every slot holds an order; only the live ones (`meta[slot].live`) are the table's.
    /// Orders are written in their slot (an order is a few hundred bytes: the hot path
    /// never builds one beside it and moves it in).
    slots: Vec<Order>,
    /// Per slot, what a walk filters on; the state is the order's (see [`OrderMut`]).
    meta: Vec<SlotMeta>,
    links: Vec<Link>,
    /// Free slot indices; popped from the end.
    free: Vec<u32>,
    head: u32,
    tail: u32,
    by_id: FixedMap<OrderId, u32>,
    by_cl: ClMap,
    cl_history: Ring<ClKey>,
    exec_seen: FixedMap<ExecKey, ()>,
    exec_history: Ring<ExecKey>,
}

impl OrderTable {
    /// A table for `orders_max` orders, histories as large as the table.
    pub fn with_capacity(orders_max: usize) -> Self {
        Self::new(OrderTableConfig::with_orders_max(orders_max))
    }

    /// A table sized by `config`. The only place the table allocates.
    pub fn new(config: OrderTableConfig) -> Self {
        // Slot indices are u32 with u32::MAX reserved as the list's end marker.
        assert!(config.orders_max < NIL as usize, "orders_max must fit a u32 slot index");
        let n = config.orders_max;
        let mut free = Vec::with_capacity(n);
        // Reversed so slot 0 is used first: placement is then easy to follow in a debugger.
        free.extend((0..n as u32).rev());
        let fill_key = ClKey { session: SessionId(0), cl_ord_id: ClOrdId::from_u64(0) };
        OrderTable {
            config,
            slots: vec![Order::BLANK; n],
            meta: vec![SlotMeta::EMPTY; n],
            links: vec![Link { prev: NIL, next: NIL }; n],
            free,
            head: NIL,
            tail: NIL,
            by_id: FixedMap::with_capacity(n),
            // Each order holds at most two ids (current, and a pending replace's).
            by_cl: FixedMap::with_capacity(2 * n + config.cl_ord_id_history),
            cl_history: Ring::new(config.cl_ord_id_history, fill_key),
            exec_seen: FixedMap::with_capacity(config.exec_id_history),
            exec_history: Ring::new(
                config.exec_id_history,
                ExecKey { venue: VenueId(0), exec_id: 0 },
            ),
        }
    }

    /// The sizes the table was built with.
    pub const fn config(&self) -> &OrderTableConfig {
        &self.config
    }

    /// Most orders the table can hold.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Orders in the table.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no order is in the table.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Refuses with `DUPLICATE_CL_ORD_ID` if `cl_ord_id` is in use by `session` or was
    /// retired recently (see the module docs).
    pub fn check_cl_ord_id(
        &self,
        session: SessionId,
        cl_ord_id: ClOrdId,
    ) -> Result<(), RejectInfo> {
        self.cl_ord_id_free(session, cl_ord_id).map(|_| ())
    }

    /// As [`OrderTable::check_cl_ord_id`]; a free id's tag is the one to enter it with
    /// ([`OrderTable::enter_tagged`]), so the id is hashed once for both. Always inlined:
    /// the core calls it at one place, once per new order.
    #[inline(always)]
    pub(crate) fn cl_ord_id_free(
        &self,
        session: SessionId,
        cl_ord_id: ClOrdId,
    ) -> Result<Tag, RejectInfo> {
        let key = ClKey { session, cl_ord_id };
        let tag = ClMap::tag_of(&key);
        if self.by_cl.contains_tagged(&key, tag) {
            Err(RejectInfo::bare(RejectCode::DuplicateClOrdId))
        } else {
            Ok(tag)
        }
    }

    /// Adds a new order. Refuses a duplicate client order id, a full table
    /// (`ORDER_CAPACITY`), and an id already in the table (`ILLEGAL_TRANSITION` with the
    /// existing order's state and the Submit/Hold event: a core bug, never a panic).
    pub fn insert(&mut self, order: Order) -> Result<OrderMut<'_>, RejectInfo> {
        let t = order.terms();
        let tag = cl_tag(t);
        let key = ClKey { session: t.session, cl_ord_id: t.cl_ord_id };
        self.insert_with(order.id(), key, tag, t.is_held_type(), |slot| *slot = order)
    }

    /// As [`OrderTable::insert`] for the order `Order::new(terms, now)`, built in its
    /// slot (an order is a few hundred bytes: the core's hot path does not copy it).
    #[inline]
    pub fn enter(
        &mut self,
        terms: OrderTerms,
        now: TimestampNs,
    ) -> Result<OrderMut<'_>, RejectInfo> {
        let tag = cl_tag(&terms);
        self.enter_tagged(tag, terms, now)
    }

    /// As [`OrderTable::enter`], with the tag [`OrderTable::cl_ord_id_free`] answered for
    /// the terms' session and client order id (the core's hot path: the id is hashed once).
    /// A tag of other terms is a core bug (caught by debug builds). Always inlined: the
    /// core calls it at one place, once per new order, and the terms it builds are then
    /// written straight into the slot.
    #[inline(always)]
    pub(crate) fn enter_tagged(
        &mut self,
        cl_tag: Tag,
        terms: OrderTerms,
        now: TimestampNs,
    ) -> Result<OrderMut<'_>, RejectInfo> {
        let key = ClKey { session: terms.session, cl_ord_id: terms.cl_ord_id };
        let held = terms.is_held_type();
        self.insert_with(terms.id, key, cl_tag, held, |slot| slot.reset_new(terms, now))
    }

    /// Adds the order `init` writes into a free slot, under `id` and `key` (the order's
    /// own, `cl_tag` the key's tag; `held` tells a held type, for the reject of an id in
    /// use).
    #[inline(always)]
    fn insert_with(
        &mut self,
        id: OrderId,
        key: ClKey,
        cl_tag: Tag,
        held: bool,
        init: impl FnOnce(&mut Order),
    ) -> Result<OrderMut<'_>, RejectInfo> {
        // Taken at once, given back on a refusal (the push cannot allocate: the list had
        // room for it a moment ago).
        let Some(slot) = self.free.pop() else {
            return Err(self.full(id, &key, cl_tag, held));
        };
        // One probe per index: each insert also finds an existing key.
        match self.by_id.insert_new(id, slot) {
            Ok(inserted) => debug_assert!(inserted, "index maps are sized for a full table"),
            Err(existing) => {
                self.free.push(slot);
                return Err(self.illegal(existing, held));
            }
        }
        match self.by_cl.insert_new_tagged(&key, cl_tag, ClEntry::Live(slot)) {
            Ok(inserted) => debug_assert!(inserted, "index maps are sized for a full table"),
            Err(_) => {
                self.by_id.remove(&id);
                self.free.push(slot);
                return Err(RejectInfo::bare(RejectCode::DuplicateClOrdId));
            }
        }
        self.link_sorted(slot, id);
        let order = &mut self.slots[slot as usize];
        init(order);
        debug_assert!(order.id() == id && cl_tag == self::cl_tag(order.terms()));
        let meta = &mut self.meta[slot as usize];
        *meta = SlotMeta::of(order);
        Ok(OrderMut { order, state: &mut meta.state })
    }

    /// The reject of an insert into a full table: what [`Self::insert_with`] would have
    /// refused first had there been room, else `ORDER_CAPACITY`.
    #[cold]
    #[inline(never)]
    fn full(&self, id: OrderId, key: &ClKey, cl_tag: Tag, held: bool) -> RejectInfo {
        if let Some(existing) = self.by_id.get(&id) {
            return self.illegal(existing, held);
        }
        if self.by_cl.contains_tagged(key, cl_tag) {
            return RejectInfo::bare(RejectCode::DuplicateClOrdId);
        }
        RejectInfo::new(RejectCode::OrderCapacity, self.len() as i64, self.capacity() as i64)
    }

    /// `ILLEGAL_TRANSITION` (the state of the order in `existing`, Submit/Hold) for an
    /// order with these terms whose id is in the table already: a core bug, never a panic.
    #[cold]
    fn illegal(&self, existing: u32, held: bool) -> RejectInfo {
        let state = self.slot(existing).state();
        let event = if held { OrderEvent::Hold } else { OrderEvent::Submit };
        IllegalTransition { state, event }.reject()
    }

    /// Threads `slot` into the id-ordered list: O(1) when ids arrive in order. Always
    /// inlined: every insert calls it once, and the walk is out of line.
    #[inline(always)]
    fn link_sorted(&mut self, slot: u32, id: OrderId) {
        let tail = self.tail;
        // The core's case: the newest id goes last, inlined into every insert.
        if tail == NIL || self.slot(tail).id() < id {
            self.links[slot as usize] = Link { prev: tail, next: NIL };
            if tail == NIL {
                self.head = slot;
            } else {
                self.links[tail as usize].next = slot;
            }
            self.tail = slot;
            return;
        }
        self.link_before_tail(slot, id);
    }

    /// [`Self::link_sorted`] for an id older than the tail's (a snapshot restored out of
    /// order): walks back from the tail to its place.
    #[cold]
    #[inline(never)]
    fn link_before_tail(&mut self, slot: u32, id: OrderId) {
        let mut after = self.tail;
        // Bounded by the number of live orders.
        while after != NIL && self.slot(after).id() > id {
            after = self.links[after as usize].prev;
        }
        let next = if after == NIL { self.head } else { self.links[after as usize].next };
        self.links[slot as usize] = Link { prev: after, next };
        if after == NIL {
            self.head = slot;
        } else {
            self.links[after as usize].next = slot;
        }
        if next == NIL {
            self.tail = slot;
        } else {
            self.links[next as usize].prev = slot;
        }
    }

    fn unlink(&mut self, slot: u32) {
        let Link { prev, next } = self.links[slot as usize];
        if prev == NIL {
            self.head = next;
        } else {
            self.links[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.links[next as usize].prev = prev;
        }
        self.links[slot as usize] = Link { prev: NIL, next: NIL };
    }

    #[inline]
    fn slot(&self, slot: u32) -> &Order {
        debug_assert!(self.meta[slot as usize].live, "indexed slot holds an order");
        &self.slots[slot as usize]
    }

    /// The order in `slot`, to change: see [`OrderMut`].
    #[inline]
    fn slot_mut(&mut self, slot: u32) -> OrderMut<'_> {
        let meta = &mut self.meta[slot as usize];
        debug_assert!(meta.live, "indexed slot holds an order");
        OrderMut { order: &mut self.slots[slot as usize], state: &mut meta.state }
    }

    /// The order with this id.
    #[inline]
    pub fn get(&self, id: OrderId) -> Option<&Order> {
        self.by_id.get(&id).map(|s| self.slot(s))
    }

    /// The order with this id, to apply venue reports and requests. Replaces go through
    /// [`OrderTable::request_replace`] so the client order id index stays in step.
    #[inline]
    pub fn get_mut(&mut self, id: OrderId) -> Option<OrderMut<'_>> {
        let slot = self.by_id.get(&id)?;
        Some(self.slot_mut(slot))
    }

    /// The order a client's cancel or replace names: by its current client order id (or
    /// the id of its pending replace).
    #[inline]
    pub fn find_by_cl_ord_id(&self, session: SessionId, cl_ord_id: ClOrdId) -> Option<&Order> {
        match self.by_cl.get(&ClKey { session, cl_ord_id })? {
            ClEntry::Live(slot) => Some(self.slot(slot)),
            ClEntry::Recent => None,
        }
    }

    /// Applies a venue fill: refuses a repeated `(venue, exec_id)`
    /// (`VENUE_DUPLICATE_FILL`), an unknown order or one on another venue
    /// (`VENUE_UNKNOWN_ORDER`), then as [`Order::apply_fill`]. The exec id is remembered
    /// only when the fill is applied.
    pub fn apply_fill(
        &mut self,
        fill: &VenueFill,
        now: TimestampNs,
    ) -> Result<FillOutcome, RejectInfo> {
        let key = ExecKey { venue: fill.venue, exec_id: fill.exec_id };
        if self.exec_seen.contains(&key) {
            // The exec id's bits, as the reject's number.
            return Err(RejectInfo::new(RejectCode::VenueDuplicateFill, fill.exec_id as i64, 0));
        }
        let unknown = RejectInfo::new(RejectCode::VenueUnknownOrder, fill.order_id.0 as i64, 0);
        let slot = self.by_id.get(&fill.order_id).ok_or(unknown)?;
        let mut order = self.slot_mut(slot);
        if order.terms().venue != fill.venue {
            return Err(unknown);
        }
        let outcome = order.apply_fill(fill.qty, fill.price, now)?;
        drop(order);
        self.remember_exec(key);
        Ok(outcome)
    }

    fn remember_exec(&mut self, key: ExecKey) {
        if self.exec_history.capacity() == 0 {
            return;
        }
        if let Some(old) = self.exec_history.push(key) {
            self.exec_seen.remove(&old);
        }
        let inserted = self.exec_seen.insert(key, ());
        debug_assert!(inserted, "exec map is sized for its ring");
    }

    /// Keel accepts a client's replace for order `id`. Refuses a duplicate new client
    /// order id, and everything [`Order::check_replace`] refuses. A held order takes the
    /// new terms at once; otherwise it is PendingReplace and both ids address it.
    pub fn request_replace(
        &mut self,
        id: OrderId,
        req: &ReplaceOrder,
        now: TimestampNs,
    ) -> Result<ReplaceOutcome, RejectInfo> {
        self.request_replace_mut(id, req, now).map(|(outcome, _)| outcome)
    }

    /// [`Self::request_replace`], handing back the order as it now stands: the core reads
    /// (or re-values) it next, and it is at hand, where a second lookup by id would cost
    /// a hash probe.
    #[inline]
    pub fn request_replace_mut(
        &mut self,
        id: OrderId,
        req: &ReplaceOrder,
        now: TimestampNs,
    ) -> Result<(ReplaceOutcome, OrderMut<'_>), RejectInfo> {
        let slot = self.by_id.get(&id).ok_or(RejectInfo::bare(RejectCode::UnknownOrder))?;
        let session = self.slot(slot).terms().session;
        // The new id is hashed once, for the check and the insert.
        let tag = self.cl_ord_id_free(session, req.cl_ord_id)?;
        let outcome = self.slot_mut(slot).request_replace(req, now)?;
        let new_key = ClKey { session, cl_ord_id: req.cl_ord_id };
        let inserted = self.by_cl.insert_new_tagged(&new_key, tag, ClEntry::Live(slot));
        debug_assert_eq!(inserted, Ok(true), "a free id; the map is sized for two per order");
        if let ReplaceOutcome::Applied { old_cl_ord_id } = outcome {
            self.retire_cl(ClKey { session, cl_ord_id: old_cl_ord_id });
        }
        Ok((outcome, self.slot_mut(slot)))
    }

    /// The venue applied a replace; the old client order id is retired.
    pub fn apply_replace_ack(
        &mut self,
        ack: &VenueReplaceAck,
        now: TimestampNs,
    ) -> Result<&Order, RejectInfo> {
        let unknown = RejectInfo::new(RejectCode::VenueUnknownOrder, ack.order_id.0 as i64, 0);
        let slot = self.by_id.get(&ack.order_id).ok_or(unknown)?;
        let mut order = self.slot_mut(slot);
        let session = order.terms().session;
        let old = order.apply_replace_ack(ack.price, ack.qty, now)?;
        drop(order);
        self.retire_cl(ClKey { session, cl_ord_id: old });
        Ok(self.slot(slot))
    }

    /// The venue refused a replace; the refused client order id is retired.
    pub fn apply_replace_reject(
        &mut self,
        id: OrderId,
        now: TimestampNs,
    ) -> Result<&Order, RejectInfo> {
        let unknown = RejectInfo::new(RejectCode::VenueUnknownOrder, id.0 as i64, 0);
        let slot = self.by_id.get(&id).ok_or(unknown)?;
        let mut order = self.slot_mut(slot);
        let session = order.terms().session;
        let refused = order.apply_replace_reject(now)?;
        drop(order);
        self.retire_cl(ClKey { session, cl_ord_id: refused });
        Ok(self.slot(slot))
    }

    /// Moves a client order id from live to the bounded history.
    fn retire_cl(&mut self, key: ClKey) {
        if self.cl_history.capacity() == 0 {
            self.by_cl.remove(&key);
            return;
        }
        if let Some(old) = self.cl_history.push(key) {
            debug_assert_eq!(self.by_cl.get(&old), Some(ClEntry::Recent));
            self.by_cl.remove(&old);
        }
        let updated = self.by_cl.insert(key, ClEntry::Recent);
        debug_assert!(updated);
    }

    /// Removes a finished order (after its final report), retiring its client order ids.
    /// Returns `None`, changing nothing, if the order is unknown or still working.
    pub fn remove(&mut self, id: OrderId) -> Option<Order> {
        let slot = self.by_id.get(&id)?;
        if self.slot(slot).is_working() {
            return None;
        }
        self.remove_slot(slot)
    }

    fn remove_slot(&mut self, slot: u32) -> Option<Order> {
        let meta = self.meta.get_mut(slot as usize).filter(|m| m.live)?;
        meta.live = false;
        let order = self.slots[slot as usize];
        let session = order.terms().session;
        self.by_id.remove(&order.id());
        self.unlink(slot);
        self.retire_cl(ClKey { session, cl_ord_id: order.terms().cl_ord_id });
        if let Some(p) = order.pending_replace() {
            self.retire_cl(ClKey { session, cl_ord_id: p.cl_ord_id });
        }
        self.free.push(slot);
        Some(order)
    }

    /// Working orders in scope, in `OrderId` order. Allocation-free.
    pub fn iter_working(&self, filter: OrderFilter) -> impl Iterator<Item = &Order> + '_ {
        let mut cursor = self.head;
        std::iter::from_fn(move || {
            while cursor != NIL {
                let slot = cursor as usize;
                cursor = self.links[slot].next;
                let m = &self.meta[slot];
                if !m.state.is_terminal() && filter.matches_meta(m) {
                    return Some(self.slot(slot as u32));
                }
            }
            None
        })
    }

    /// Calls `f` on each working order in scope, in `OrderId` order (mass cancel, kill
    /// switch). An order `f` leaves terminal (a held order cancelled at once) is removed
    /// after `f` returns, as [`OrderTable::remove`] would: `f` must have emitted its final
    /// report. Returns how many orders `f` was called on. Allocation-free.
    pub fn for_each_working_mut(&mut self, filter: OrderFilter, f: impl FnMut(&mut Order)) -> u32 {
        self.for_each_working_mut_in(filter, |_| true, f)
    }

    /// As [`OrderTable::for_each_working_mut`], only for orders whose state `wants`: the
    /// others are passed over without reading them (a kill switch skips the orders whose
    /// cancel is out already).
    pub fn for_each_working_mut_in(
        &mut self,
        filter: OrderFilter,
        wants: impl Fn(OrderState) -> bool,
        mut f: impl FnMut(&mut Order),
    ) -> u32 {
        let mut visited = 0;
        let mut cursor = self.head;
        while cursor != NIL {
            let slot = cursor;
            // Read the successor first: `slot` may be removed below.
            cursor = self.links[slot as usize].next;
            let m = &self.meta[slot as usize];
            if m.state.is_terminal() || !wants(m.state) || !filter.matches_meta(m) {
                continue;
            }
            let mut order = self.slot_mut(slot);
            let id = order.id();
            f(&mut order);
            debug_assert_eq!(order.id(), id, "callback must not change the id");
            let working = order.is_working();
            drop(order);
            visited += 1;
            if !working {
                self.remove_slot(slot);
            }
        }
        visited
    }

    /// Feeds the table's full logical state in canonical order: orders by `OrderId`
    /// (every field little-endian, [`Order::digest_into`]), then the client order id
    /// history and the execution id history, oldest first. Slot placement and bucket
    /// layout are not fed, so equal logical content gives equal bytes.
    pub fn digest_into(&self, h: &mut impl FnMut(&[u8])) {
        h(b"keel.orders.v1");
        h(&(self.len() as u64).to_le_bytes());
        let mut cursor = self.head;
        while cursor != NIL {
            self.slot(cursor).digest_into(h);
            cursor = self.links[cursor as usize].next;
        }
        h(&(self.cl_history.len() as u64).to_le_bytes());
        for key in self.cl_history.iter() {
            h(&key.session.0.to_le_bytes());
            digest_cl_ord_id(&key.cl_ord_id, h);
        }
        h(&(self.exec_history.len() as u64).to_le_bytes());
        for key in self.exec_history.iter() {
            h(&key.venue.0.to_le_bytes());
            h(&key.exec_id.to_le_bytes());
        }
    }

    /// Checks that the indices agree with the slab and every order is consistent; O(n),
    /// for tests and debug tooling. Returns what is wrong.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let mut live = 0usize;
        let mut cl_keys = 0usize;
        for (i, order) in self.slots.iter().enumerate() {
            if !self.meta[i].live {
                continue;
            }
            live += 1;
            if !order.is_consistent() {
                return Err("order invariant broken");
            }
            if self.meta[i] != SlotMeta::of(order) {
                return Err("slot summary disagrees with its order");
            }
            if self.by_id.get(&order.id()) != Some(i as u32) {
                return Err("id index disagrees with slab");
            }
            let session = order.terms().session;
            let key = ClKey { session, cl_ord_id: order.terms().cl_ord_id };
            if self.by_cl.get(&key) != Some(ClEntry::Live(i as u32)) {
                return Err("client id index disagrees with slab");
            }
            cl_keys += 1;
            if let Some(p) = order.pending_replace() {
                let key = ClKey { session, cl_ord_id: p.cl_ord_id };
                if self.by_cl.get(&key) != Some(ClEntry::Live(i as u32)) {
                    return Err("pending replace id not indexed");
                }
                cl_keys += 1;
            }
        }
        if live != self.len() || live + self.free.len() != self.capacity() {
            return Err("slab, id index and free list disagree on counts");
        }
        let mut live_entries = 0usize;
        let mut recent_entries = 0usize;
        self.by_cl.for_each(|_, v| match v {
            ClEntry::Live(_) => live_entries += 1,
            ClEntry::Recent => recent_entries += 1,
        });
        if live_entries != cl_keys || recent_entries != self.cl_history.len() {
            return Err("client id index has stray entries");
        }
        if self.exec_seen.len() != self.exec_history.len() {
            return Err("exec id set and ring disagree");
        }
        let (mut count, mut cursor, mut last) = (0usize, self.head, None);
        while cursor != NIL {
            let id = self.slot(cursor).id();
            if last.is_some_and(|l| l >= id) {
                return Err("order list not sorted by id");
            }
            last = Some(id);
            count += 1;
            cursor = self.links[cursor as usize].next;
        }
        if count != live {
            return Err("order list does not hold every order");
        }
        Ok(())
    }
}
