//! One order: its terms and its dynamic state.
//!
//! Every mutator checks before it changes anything: on `Err` the order is exactly as it
//! was. Invariants, asserted in debug builds after every change:
//! - `0 <= filled <= qty`, and `filled == qty` exactly when the state is Filled;
//! - the state is New or Held only while nothing has filled (PendingNew likewise);
//! - replace terms are recorded only in PendingReplace, or in a terminal state reached
//!   from it (so the table can retire the replace's client order id on removal);
//! - `cum_notional` is the exact sum of `price × qty` over the applied fills, and it fits
//!   an `i64` (the execution report's field): a fill that would take it past is refused
//!   (`VENUE_NOTIONAL_OVERFLOW`), so every report carries the exact value;
//! - a client's cancel request id is recorded only in PendingCancel, or in a terminal state
//!   reached from it (the final `Canceled` report answers that request).
//!
//! Methods that change an order's client order id (replace) are `pub(super)`: they are
//! reached through [`crate::orders::OrderTable`], which keeps its index in step.

use super::state::{IllegalTransition, OrderEvent, OrderState, Status, transition};
use crate::schema::{NewOrder, OrdStatus, OrderFlags, RejectCode, RejectInfo, ReplaceOrder};
use crate::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};

mod snapshot;

/// What the client asked for. Only a replace changes price, stop price, quantity, display
/// quantity and client order id; side, instrument and type never change (the schema's
/// [`ReplaceOrder`] cannot even express such a change).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderTerms {
    /// Keel's id, assigned by the core.
    pub id: OrderId,
    /// The session that entered the order; client order ids are unique per session.
    pub session: SessionId,
    /// The account it trades for.
    pub account: AccountId,
    /// What is traded.
    pub instrument: InstrumentId,
    /// Where it goes (best-price routing is resolved before the order is created).
    pub venue: VenueId,
    /// Buy or sell.
    pub side: Side,
    /// Order type.
    pub ord_type: OrdType,
    /// Time in force.
    pub tif: TimeInForce,
    /// Post-only, reduce-only.
    pub flags: OrderFlags,
    /// Limit price.
    pub price: Price,
    /// Trigger price (stops).
    pub stop_price: Price,
    /// Trailing distance in ticks (trailing stops).
    pub trail_ticks: i64,
    /// Total order quantity, including what has filled.
    pub qty: Qty,
    /// Displayed quantity; zero shows all.
    pub display_qty: Qty,
    /// GTD expiry; zero otherwise.
    pub expire_at: TimestampNs,
    /// The client's current id for the order.
    pub cl_ord_id: ClOrdId,
}

impl OrderTerms {
    /// The terms of a client's new order, once the core has assigned an id and a venue.
    pub fn from_new(id: OrderId, session: SessionId, venue: VenueId, new: &NewOrder) -> Self {
        OrderTerms {
            id,
            session,
            account: new.account,
            instrument: new.instrument,
            venue,
            side: new.side,
            ord_type: new.ord_type,
            tif: new.tif,
            flags: new.flags,
            price: new.price,
            stop_price: new.stop_price,
            trail_ticks: new.trail_ticks,
            qty: new.qty,
            display_qty: new.display_qty,
            expire_at: new.expire_at,
            cl_ord_id: new.cl_ord_id,
        }
    }

    /// True for types the core holds until triggered (stop, stop-limit, trailing stop).
    #[inline]
    pub const fn is_held_type(&self) -> bool {
        matches!(self.ord_type, OrdType::Stop | OrdType::StopLimit | OrdType::TrailingStop)
    }
}

/// A replace sent to the venue and not yet answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingReplace {
    /// The client's id for the order after the replace.
    pub cl_ord_id: ClOrdId,
    /// Requested price.
    pub price: Price,
    /// Requested total quantity.
    pub qty: Qty,
    /// Requested display quantity.
    pub display_qty: Qty,
}

/// The result of an applied fill, for the execution report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillOutcome {
    /// Quantity of this fill.
    pub last_qty: Qty,
    /// Price of this fill.
    pub last_px: Price,
    /// Filled so far, this fill included.
    pub cum_qty: Qty,
    /// Still to fill.
    pub leaves_qty: Qty,
    /// The order's state after the fill.
    pub state: OrderState,
}

/// What a replace did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplaceOutcome {
    /// A held order: the new terms are in force now (report `Replaced`).
    Applied {
        /// The client order id before the replace.
        old_cl_ord_id: ClOrdId,
    },
    /// Sent to the venue: PendingReplace until it answers.
    Pending,
}

/// An order: terms plus dynamic state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    terms: OrderTerms,
    status: Status,
    filled: Qty,
    cum_notional_ticks_lots: i128,
    venue_order_id: u64,
    pending_replace: Option<PendingReplace>,
    /// The client order id of the client's cancel request being worked (FIX tag 11 of the
    /// final `Canceled` report, with the order's id as tag 41); `None` when the core
    /// cancels on its own account (kill switch, mass cancel, self-trade prevention).
    cancel_request: Option<ClOrdId>,
    updated_at: TimestampNs,
    /// The price pre-trade risk valued the order at (see `crate::risk::Accepted`); kept
    /// so exposure is released at exactly the value it was counted at.
    risk_price: Price,
}

impl Order {
    /// A new order: Held for stop types, PendingNew otherwise. The caller has validated
    /// the terms (positive quantity, display ≤ quantity).
    pub fn new(terms: OrderTerms, now: TimestampNs) -> Order {
        let mut order = Order::BLANK;
        order.reset_new(terms, now);
        order
    }

    /// A placeholder for the order table's free slots: never read as an order.
    pub(super) const BLANK: Order = Order {
        terms: OrderTerms {
            id: OrderId(0),
            session: SessionId(0),
            account: AccountId(0),
            instrument: InstrumentId(0),
            venue: VenueId(0),
            side: Side::Buy,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Day,
            flags: OrderFlags(0),
            price: Price(0),
            stop_price: Price(0),
            trail_ticks: 0,
            qty: Qty::ZERO,
            display_qty: Qty::ZERO,
            expire_at: TimestampNs(0),
            cl_ord_id: ClOrdId::EMPTY,
        },
        status: Status::settled(OrderState::Cancelled),
        filled: Qty::ZERO,
        cum_notional_ticks_lots: 0,
        venue_order_id: 0,
        pending_replace: None,
        cancel_request: None,
        updated_at: TimestampNs(0),
        risk_price: Price(0),
    };

    /// Becomes `Order::new(terms, now)` where it is, field by field: the order table
    /// writes a new order straight into its slot this way (an order is a few hundred
    /// bytes; building one beside the slot and moving it in costs a copy of all of it).
    #[inline(always)]
    pub(super) fn reset_new(&mut self, terms: OrderTerms, now: TimestampNs) {
        let event = if terms.is_held_type() { OrderEvent::Hold } else { OrderEvent::Submit };
        self.terms = terms;
        self.status = Status::initial(event).expect("Submit and Hold create orders");
        self.filled = Qty::ZERO;
        self.cum_notional_ticks_lots = 0;
        self.venue_order_id = 0;
        self.pending_replace = None;
        self.cancel_request = None;
        self.updated_at = now;
        self.risk_price = Price(0);
        self.debug_check();
    }

    /// The terms in force.
    #[inline]
    pub const fn terms(&self) -> &OrderTerms {
        &self.terms
    }

    /// Keel's id.
    #[inline]
    pub const fn id(&self) -> OrderId {
        self.terms.id
    }

    /// The current state.
    #[inline]
    pub const fn state(&self) -> OrderState {
        self.status.state()
    }

    /// The state a refused cancel or replace restores (equals `state()` when none is
    /// pending).
    #[inline]
    pub const fn prior(&self) -> OrderState {
        self.status.prior()
    }

    /// The FIX status for execution reports (Held reports as New).
    #[inline]
    pub const fn ord_status(&self) -> OrdStatus {
        self.status.state().ord_status()
    }

    /// Quantity filled so far.
    #[inline]
    pub const fn filled(&self) -> Qty {
        self.filled
    }

    /// Quantity still to fill: zero once the order is terminal.
    #[inline]
    pub fn leaves(&self) -> Qty {
        if self.state().is_terminal() { Qty::ZERO } else { self.terms.qty - self.filled }
    }

    /// True until the order is terminal. Held orders are working (a kill switch or mass
    /// cancel must cancel them too).
    #[inline]
    pub const fn is_working(&self) -> bool {
        !self.state().is_terminal()
    }

    /// Exact sum of `price × qty` over the fills, ticks·lots.
    #[inline]
    pub const fn cum_notional_ticks_lots(&self) -> i128 {
        self.cum_notional_ticks_lots
    }

    /// The cumulative notional as the `i64` of an execution report; `None` if it does not
    /// fit (the report cannot carry it exactly).
    #[inline]
    pub fn cum_notional_i64(&self) -> Option<i64> {
        i64::try_from(self.cum_notional_ticks_lots).ok()
    }

    /// The venue's id for the order (zero before the ack).
    #[inline]
    pub const fn venue_order_id(&self) -> u64 {
        self.venue_order_id
    }

    /// The replace awaiting the venue's answer (see the module docs for when it is kept).
    #[inline]
    pub const fn pending_replace(&self) -> Option<&PendingReplace> {
        self.pending_replace.as_ref()
    }

    /// The client's cancel request being worked, if the cancel came from the client (see
    /// the module docs).
    #[inline]
    pub const fn cancel_request(&self) -> Option<ClOrdId> {
        self.cancel_request
    }

    /// The price risk valued the order at.
    #[inline]
    pub const fn risk_price(&self) -> Price {
        self.risk_price
    }

    /// Records the price risk valued the order at (on entry and when a replace takes
    /// effect).
    #[inline]
    pub fn set_risk_price(&mut self, price: Price) {
        self.risk_price = price;
    }

    /// Moves a held trailing stop's trigger. Only a held order's trigger can move: once
    /// released, the venue has the order.
    pub fn trail_stop_to(&mut self, stop_price: Price) {
        debug_assert_eq!(self.state(), OrderState::Held);
        if self.state() == OrderState::Held {
            self.terms.stop_price = stop_price;
        }
    }

    /// Time of the last change.
    #[inline]
    pub const fn updated_at(&self) -> TimestampNs {
        self.updated_at
    }

    fn step(&mut self, event: OrderEvent, now: TimestampNs) -> Result<OrderState, RejectInfo> {
        self.status = transition(self.status, event)?;
        self.updated_at = self.updated_at.max(now);
        Ok(self.status.state())
    }

    /// A held order triggered: it goes to the venue (PendingNew).
    pub fn trigger(&mut self, now: TimestampNs) -> Result<OrderState, RejectInfo> {
        let state = self.step(OrderEvent::Trigger, now)?;
        self.debug_check();
        Ok(state)
    }

    /// The venue accepted the order. Late and repeated acks are tolerated (see
    /// [`super::state`]); the first non-zero venue order id is kept.
    pub fn apply_venue_ack(
        &mut self,
        venue_order_id: u64,
        now: TimestampNs,
    ) -> Result<OrderState, RejectInfo> {
        let state = self.step(OrderEvent::VenueAck, now)?;
        if self.venue_order_id == 0 {
            self.venue_order_id = venue_order_id;
        }
        self.debug_check();
        Ok(state)
    }

    /// The venue rejected the order.
    pub fn apply_venue_reject(&mut self, now: TimestampNs) -> Result<OrderState, RejectInfo> {
        let state = self.step(OrderEvent::VenueReject, now)?;
        self.debug_check();
        Ok(state)
    }

    /// Applies an execution. Refuses a non-positive quantity (`QTY_NOT_POSITIVE`), an
    /// over-fill (`VENUE_OVERFILL: filled=<filled + qty>, qty=<order qty>`) and a fill
    /// whose cumulative notional would not fit the report's `i64`
    /// (`VENUE_NOTIONAL_OVERFLOW: notional=<saturated>, max=i64::MAX`); on refusal nothing
    /// changes. Exec-id de-duplication is the table's job
    /// ([`super::OrderTable::apply_fill`]).
    pub fn apply_fill(
        &mut self,
        qty: Qty,
        price: Price,
        now: TimestampNs,
    ) -> Result<FillOutcome, RejectInfo> {
        if qty.lots() <= 0 {
            return Err(RejectInfo::new(RejectCode::QtyNotPositive, qty.lots(), 0));
        }
        // Checked: a hostile venue quantity must not overflow the comparison.
        let filled_after = self.filled.lots().checked_add(qty.lots()).unwrap_or(i64::MAX);
        if filled_after > self.terms.qty.lots() {
            return Err(RejectInfo::new(
                RejectCode::VenueOverfill,
                filled_after,
                self.terms.qty.lots(),
            ));
        }
        let notional_after = self.cum_notional_ticks_lots + price.notional(qty);
        if i64::try_from(notional_after).is_err() {
            let saturated = if notional_after < 0 { i64::MIN } else { i64::MAX };
            return Err(RejectInfo::new(RejectCode::VenueNotionalOverflow, saturated, i64::MAX));
        }
        let full = filled_after == self.terms.qty.lots();
        let state = self.step(OrderEvent::Fill { full }, now)?;
        self.filled = Qty(filled_after);
        self.cum_notional_ticks_lots = notional_after;
        self.debug_check();
        Ok(FillOutcome {
            last_qty: qty,
            last_px: price,
            cum_qty: self.filled,
            leaves_qty: self.leaves(),
            state,
        })
    }

    /// Keel cancels on its own account (kill switch, mass cancel, self-trade prevention,
    /// a halt): PendingCancel, or Cancelled at once for a held order. Refuses with
    /// `ORDER_NOT_WORKING` when terminal and `REQUEST_PENDING` when a cancel or replace is
    /// outstanding.
    pub fn request_cancel(&mut self, now: TimestampNs) -> Result<OrderState, RejectInfo> {
        self.request_cancel_as(None, now)
    }

    /// Keel accepts a client's cancel request `request_cl_ord_id`: as
    /// [`Order::request_cancel`], and the request's id is recorded for the final report.
    pub fn request_client_cancel(
        &mut self,
        request_cl_ord_id: ClOrdId,
        now: TimestampNs,
    ) -> Result<OrderState, RejectInfo> {
        self.request_cancel_as(Some(request_cl_ord_id), now)
    }

    fn request_cancel_as(
        &mut self,
        request: Option<ClOrdId>,
        now: TimestampNs,
    ) -> Result<OrderState, RejectInfo> {
        self.check_request()?;
        let state = self.step(OrderEvent::CancelRequest, now)?;
        self.cancel_request = request;
        self.debug_check();
        Ok(state)
    }

    /// The venue cancelled the order (on request, or unsolicited).
    pub fn apply_cancel_ack(
        &mut self,
        unsolicited: bool,
        now: TimestampNs,
    ) -> Result<OrderState, RejectInfo> {
        let state = self.step(OrderEvent::CancelAck { unsolicited }, now)?;
        self.debug_check();
        Ok(state)
    }

    /// The venue refused a cancel: the order returns exactly to its prior state.
    pub fn apply_cancel_reject(&mut self, now: TimestampNs) -> Result<OrderState, RejectInfo> {
        let state = self.step(OrderEvent::CancelReject, now)?;
        self.cancel_request = None;
        self.debug_check();
        Ok(state)
    }

    /// The order's time ran out.
    pub fn expire(&mut self, now: TimestampNs) -> Result<OrderState, RejectInfo> {
        let state = self.step(OrderEvent::Expire, now)?;
        self.debug_check();
        Ok(state)
    }

    fn check_request(&self) -> Result<(), RejectInfo> {
        let state = self.state();
        if state.is_terminal() {
            return Err(RejectInfo::bare(RejectCode::OrderNotWorking));
        }
        if state.is_pending_request() {
            return Err(RejectInfo::bare(RejectCode::RequestPending));
        }
        Ok(())
    }

    /// Validates a replace without changing anything: the order can take a request, the
    /// new quantity is positive and above what has filled (`REPLACE_BELOW_FILLED: qty,
    /// filled`), and the display quantity fits.
    pub fn check_replace(&self, req: &ReplaceOrder) -> Result<(), RejectInfo> {
        self.check_request()?;
        if req.qty.lots() <= 0 {
            return Err(RejectInfo::new(RejectCode::QtyNotPositive, req.qty.lots(), 0));
        }
        if req.qty <= self.filled {
            return Err(RejectInfo::new(
                RejectCode::ReplaceBelowFilled,
                req.qty.lots(),
                self.filled.lots(),
            ));
        }
        if req.display_qty.lots() < 0 || req.display_qty > req.qty {
            return Err(RejectInfo::new(
                RejectCode::DisplayQtyInvalid,
                req.display_qty.lots(),
                req.qty.lots(),
            ));
        }
        // Fails only for states the checks above do not cover (PendingNew).
        transition(self.status, OrderEvent::ReplaceRequest)?;
        Ok(())
    }

    /// Keel accepts a replace: applied at once to a held order, otherwise recorded and
    /// PendingReplace. The table keeps the client order id index in step.
    pub(super) fn request_replace(
        &mut self,
        req: &ReplaceOrder,
        now: TimestampNs,
    ) -> Result<ReplaceOutcome, RejectInfo> {
        self.check_replace(req)?;
        let held = self.state() == OrderState::Held;
        self.step(OrderEvent::ReplaceRequest, now)?;
        let outcome = if held {
            let old_cl_ord_id = self.terms.cl_ord_id;
            self.terms.cl_ord_id = req.cl_ord_id;
            self.terms.price = req.price;
            self.terms.stop_price = req.stop_price;
            self.terms.qty = req.qty;
            self.terms.display_qty = req.display_qty;
            ReplaceOutcome::Applied { old_cl_ord_id }
        } else {
            self.pending_replace = Some(PendingReplace {
                cl_ord_id: req.cl_ord_id,
                price: req.price,
                qty: req.qty,
                display_qty: req.display_qty,
            });
            ReplaceOutcome::Pending
        };
        self.debug_check();
        Ok(outcome)
    }

    /// The venue applied the replace at `price` / `qty` (the venue's numbers are in
    /// force). Returns the client order id before the replace. A venue quantity below
    /// what has filled is refused (`VENUE_OVERFILL: filled, qty`); equal to it completes
    /// the order (Filled).
    pub(super) fn apply_replace_ack(
        &mut self,
        price: Price,
        qty: Qty,
        now: TimestampNs,
    ) -> Result<ClOrdId, RejectInfo> {
        let pending = match self.pending_replace {
            Some(p) if self.state() == OrderState::PendingReplace => p,
            _ => {
                let event = OrderEvent::ReplaceAck { done: false };
                return Err(IllegalTransition { state: self.state(), event }.reject());
            }
        };
        if qty < self.filled {
            return Err(RejectInfo::new(RejectCode::VenueOverfill, self.filled.lots(), qty.lots()));
        }
        self.step(OrderEvent::ReplaceAck { done: qty == self.filled }, now)?;
        let old = self.terms.cl_ord_id;
        self.terms.cl_ord_id = pending.cl_ord_id;
        self.terms.price = price;
        self.terms.qty = qty;
        self.terms.display_qty = pending.display_qty.min(qty);
        self.pending_replace = None;
        self.debug_check();
        Ok(old)
    }

    /// The venue refused the replace: the order returns to its prior state and terms.
    /// Returns the refused request's client order id (the table retires it).
    pub(super) fn apply_replace_reject(&mut self, now: TimestampNs) -> Result<ClOrdId, RejectInfo> {
        let before = self.status;
        self.step(OrderEvent::ReplaceReject, now)?;
        let Some(pending) = self.pending_replace.take() else {
            // PendingReplace always records its terms; restore and refuse if not.
            self.status = before;
            debug_assert!(false, "PendingReplace without terms");
            return Err(RejectInfo::bare(RejectCode::IllegalTransition));
        };
        self.debug_check();
        Ok(pending.cl_ord_id)
    }

    /// Feeds the order's full logical state, every field little-endian, in declaration
    /// order.
    pub fn digest_into(&self, h: &mut impl FnMut(&[u8])) {
        let t = &self.terms;
        h(&t.id.0.to_le_bytes());
        h(&t.session.0.to_le_bytes());
        h(&t.account.0.to_le_bytes());
        h(&t.instrument.0.to_le_bytes());
        h(&t.venue.0.to_le_bytes());
        h(&[t.side as u8, t.ord_type as u8, t.tif as u8, t.flags.0]);
        h(&t.price.0.to_le_bytes());
        h(&t.stop_price.0.to_le_bytes());
        h(&t.trail_ticks.to_le_bytes());
        h(&t.qty.0.to_le_bytes());
        h(&t.display_qty.0.to_le_bytes());
        h(&t.expire_at.0.to_le_bytes());
        digest_cl_ord_id(&t.cl_ord_id, h);
        h(&[self.status.state().code(), self.status.prior().code()]);
        h(&self.filled.0.to_le_bytes());
        h(&self.cum_notional_ticks_lots.to_le_bytes());
        h(&self.venue_order_id.to_le_bytes());
        match &self.pending_replace {
            None => h(&[0]),
            Some(p) => {
                h(&[1]);
                digest_cl_ord_id(&p.cl_ord_id, h);
                h(&p.price.0.to_le_bytes());
                h(&p.qty.0.to_le_bytes());
                h(&p.display_qty.0.to_le_bytes());
            }
        }
        match &self.cancel_request {
            None => h(&[0]),
            Some(id) => {
                h(&[1]);
                digest_cl_ord_id(id, h);
            }
        }
        h(&self.updated_at.0.to_le_bytes());
        h(&self.risk_price.0.to_le_bytes());
    }

    /// True when the invariants in the module docs hold.
    pub fn is_consistent(&self) -> bool {
        use OrderState as S;
        let (filled, qty) = (self.filled.lots(), self.terms.qty.lots());
        let state = self.state();
        self.status.is_consistent()
            && 0 <= filled
            && filled <= qty
            && ((state == S::Filled) == (filled == qty))
            && (!matches!(state, S::Held | S::PendingNew | S::New) || filled == 0)
            && (state != S::PartiallyFilled || filled > 0)
            && (self.pending_replace.is_none() || state == S::PendingReplace || state.is_terminal())
            && (state != S::PendingReplace || self.pending_replace.is_some())
            && (self.cancel_request.is_none() || state == S::PendingCancel || state.is_terminal())
            && i64::try_from(self.cum_notional_ticks_lots).is_ok()
    }

    #[inline]
    fn debug_check(&self) {
        debug_assert!(self.is_consistent(), "order invariant broken: {self:?}");
    }
}

/// A client order id as its length byte and its bytes (so concatenations are unambiguous).
pub(super) fn digest_cl_ord_id(id: &ClOrdId, h: &mut impl FnMut(&[u8])) {
    let bytes = id.as_bytes();
    h(&[bytes.len() as u8]);
    h(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Route;

    pub(crate) fn new_order(qty: i64, ord_type: OrdType) -> NewOrder {
        NewOrder {
            cl_ord_id: "C1".parse().unwrap(),
            account: AccountId(1),
            instrument: InstrumentId(2),
            route: Route::Venue(VenueId(3)),
            side: Side::Buy,
            ord_type,
            tif: TimeInForce::Gtc,
            flags: OrderFlags::NONE,
            price: Price(100),
            stop_price: Price(0),
            trail_ticks: 0,
            qty: Qty(qty),
            display_qty: Qty(0),
            expire_at: TimestampNs(0),
        }
    }

    fn order(qty: i64) -> Order {
        let terms = OrderTerms::from_new(
            OrderId(1),
            SessionId(1),
            VenueId(3),
            &new_order(qty, OrdType::Limit),
        );
        Order::new(terms, TimestampNs(1))
    }

    #[test]
    fn fills_accumulate_notional_and_refuse_overfill() {
        let mut o = order(10);
        o.apply_fill(Qty(4), Price(100), TimestampNs(2)).unwrap();
        assert_eq!(o.state(), OrderState::PartiallyFilled);
        let err = o.apply_fill(Qty(7), Price(100), TimestampNs(3)).unwrap_err();
        assert_eq!(err, RejectInfo::new(RejectCode::VenueOverfill, 11, 10));
        let out = o.apply_fill(Qty(6), Price(101), TimestampNs(3)).unwrap();
        assert_eq!((out.cum_qty, out.leaves_qty, out.state), (Qty(10), Qty(0), OrderState::Filled));
        assert_eq!(o.cum_notional_ticks_lots(), 400 + 606);
        assert_eq!(o.cum_notional_i64(), Some(1006));
    }

    #[test]
    fn a_fill_that_would_overflow_the_reported_notional_is_refused() {
        let mut o = order(10);
        let huge = Price(i64::MAX / 4);
        o.apply_fill(Qty(3), huge, TimestampNs(2)).unwrap();
        let before = o;
        // 3 × (MAX / 4) fits; one more lot at that price does not.
        let err = o.apply_fill(Qty(2), huge, TimestampNs(3)).unwrap_err();
        assert_eq!(err, RejectInfo::new(RejectCode::VenueNotionalOverflow, i64::MAX, i64::MAX));
        assert_eq!(o, before, "a refused fill changes nothing");
        // A negative running total is refused the same way, saturated to i64::MIN.
        let mut short = order(10);
        short.apply_fill(Qty(3), Price(-(i64::MAX / 4)), TimestampNs(2)).unwrap();
        let err = short.apply_fill(Qty(2), Price(-(i64::MAX / 4)), TimestampNs(3)).unwrap_err();
        assert_eq!(err, RejectInfo::new(RejectCode::VenueNotionalOverflow, i64::MIN, i64::MAX));
        // Fills at sane prices still go in, and the total is exact.
        let out = o.apply_fill(Qty(7), Price(1), TimestampNs(4)).unwrap();
        assert_eq!(out.state, OrderState::Filled);
        assert_eq!(o.cum_notional_i64(), Some(3 * (i64::MAX / 4) + 7));
        assert!(o.is_consistent());
    }

    #[test]
    fn a_client_cancel_request_is_kept_until_answered() {
        let mut o = order(10);
        o.apply_venue_ack(7, TimestampNs(2)).unwrap();
        let c2: ClOrdId = "C2".parse().unwrap();
        o.request_client_cancel(c2, TimestampNs(3)).unwrap();
        assert_eq!(o.cancel_request(), Some(c2));
        o.apply_cancel_reject(TimestampNs(4)).unwrap();
        assert_eq!(o.cancel_request(), None, "a refused cancel is forgotten");
        o.request_cancel(TimestampNs(5)).unwrap();
        assert_eq!(o.cancel_request(), None, "the core's own cancel has no request id");
        o.apply_cancel_reject(TimestampNs(6)).unwrap();
        o.request_client_cancel(c2, TimestampNs(7)).unwrap();
        o.apply_cancel_ack(false, TimestampNs(8)).unwrap();
        assert_eq!((o.state(), o.cancel_request()), (OrderState::Cancelled, Some(c2)));
        assert!(o.is_consistent());
    }

    #[test]
    fn held_replace_applies_at_once() {
        let terms = OrderTerms::from_new(
            OrderId(1),
            SessionId(1),
            VenueId(3),
            &new_order(10, OrdType::Stop),
        );
        let mut o = Order::new(terms, TimestampNs(1));
        assert_eq!(o.state(), OrderState::Held);
        assert_eq!(o.ord_status(), OrdStatus::New);
        let req = ReplaceOrder {
            cl_ord_id: "C2".parse().unwrap(),
            orig_cl_ord_id: "C1".parse().unwrap(),
            account: AccountId(1),
            price: Price(0),
            stop_price: Price(90),
            qty: Qty(5),
            display_qty: Qty(0),
        };
        let out = o.request_replace(&req, TimestampNs(2)).unwrap();
        assert_eq!(out, ReplaceOutcome::Applied { old_cl_ord_id: "C1".parse().unwrap() });
        assert_eq!((o.terms().qty, o.terms().stop_price), (Qty(5), Price(90)));
        assert_eq!(o.state(), OrderState::Held);
    }
}
