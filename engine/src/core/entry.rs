//! Client order entry: new orders, cancels, replaces and mass cancels, from client
//! sessions and strategies alike.
//!
//! A new order passes, in order: session (logged on, trading for the named account),
//! instrument, order shape (type / time in force / flags / display / expiry), duplicate
//! client order id, routing, pre-trade risk (see `docs/risk.md`), self-trade prevention,
//! and the order table's capacity. The first failure is the reject, with its code and
//! numbers; nothing is half-applied.

use super::report::{LastFill, exec_report, new_order_reject};
use super::{Emitter, OutputSink, State, stops};
use crate::orders::{Order, OrderFilter, OrderTerms, ReplaceOutcome};
use crate::risk::{NewOrderRisk, OpenOrder, OwnResting, ReplaceRisk, RiskContext, StpAction};
use crate::schema::{
    CancelOrder, CancelReject, CancelRejectTo, ExecType, MarketStatus, MassCancel,
    MassCancelReport, NewOrder, OrdStatus, OrderFlags, OutputBody, RejectCode, RejectInfo,
    ReplaceOrder, Route, VenueCancel, VenueNewOrder, VenueReplace,
};
use crate::{OrdType, OrderId, Price, SessionId, Side, TimeInForce, VenueId};

const KNOWN_FLAGS: u8 = OrderFlags::POST_ONLY.0 | OrderFlags::REDUCE_ONLY.0;

impl State {
    pub(super) fn new_order<S: OutputSink>(
        &mut self,
        session: SessionId,
        o: &NewOrder,
        out: &mut Emitter<'_, S>,
    ) {
        match self.enter_order(session, o, out) {
            Ok(()) => {}
            Err(reject) => {
                out.emit(OutputBody::ExecReport(new_order_reject(session, o, reject)));
            }
        }
    }

    fn enter_order<S: OutputSink>(
        &mut self,
        session: SessionId,
        o: &NewOrder,
        out: &mut Emitter<'_, S>,
    ) -> Result<(), RejectInfo> {
        self.check_session(session, o.account)?;
        if o.instrument.index() >= self.instruments.len() {
            return Err(RejectInfo::new(RejectCode::UnknownInstrument, o.instrument.0 as i64, 0));
        }
        self.check_shape(o)?;
        let cl_tag = self.orders.cl_ord_id_free(session, o.cl_ord_id)?;
        let (venue, tradable) = self.route(o)?;
        let reference = self.markets.reference_price(o.instrument);
        let ctx = RiskContext {
            reference,
            tradable,
            opposite_own_best: self.own_best(o.instrument, o.side.opposite()),
        };
        let mut terms_risk = NewOrderRisk::from_command(o);
        // A trailing stop entered without a trigger starts from the market.
        let mut stop_price = o.stop_price;
        if o.ord_type == OrdType::TrailingStop && stop_price.0 == 0 {
            let Some(reference) = reference else {
                return Err(RejectInfo::bare(RejectCode::NoReferencePrice));
            };
            stop_price = stops::initial_trail(o.side, reference, o.trail_ticks);
            terms_risk.stop_price = stop_price;
        }
        // `check_shape` above is the shape check `check_shaped_new` relies on.
        let accepted = self.risk.check_shaped_new(self.now, session, &terms_risk, &ctx)?;
        let id = OrderId(self.next_order_id);
        let mut terms = OrderTerms::from_new(id, session, venue, o);
        terms.stop_price = stop_price;
        match accepted.stp {
            StpAction::None => {}
            StpAction::CancelResting(_) => {
                self.cancel_crossing_own(o.instrument, o.side, o.ord_type, o.price, out)
            }
            StpAction::CancelAggressing(_) => {
                // Accepted, then cancelled at once: it never reaches the venue.
                let order = Order::new(terms, self.now);
                let resting = ctx.opposite_own_best.map_or(0, |r| r.price.0);
                let reject = RejectInfo::new(RejectCode::SelfTrade, resting, o.price.0);
                let mut report = exec_report(
                    &order,
                    ExecType::Canceled,
                    o.cl_ord_id,
                    None,
                    LastFill::default(),
                    Some(reject),
                );
                report.ord_status = OrdStatus::Canceled;
                report.leaves_qty = crate::Qty::ZERO;
                self.next_order_id += 1;
                out.emit(OutputBody::ExecReport(report));
                return Ok(());
            }
        }
        let mut order = self.orders.enter_tagged(cl_tag, terms, self.now)?;
        order.set_risk_price(accepted.risk_price);
        self.next_order_id += 1;
        // The outputs are built from the command: nothing has happened to the order yet
        // (debug builds check them against the ones built from the table's order).
        let held = order.terms().is_held_type();
        let fresh = |exec_type| {
            exec_report(&order, exec_type, o.cl_ord_id, None, LastFill::default(), None)
        };
        if held {
            let report = entered_report(session, id, o, ExecType::New, OrdStatus::New);
            debug_assert_eq!(report, fresh(ExecType::New));
            out.emit(OutputBody::ExecReport(report));
        } else {
            let venue_order = entered_venue_order(id, venue, o);
            debug_assert_eq!(venue_order, venue_new_order(&order));
            out.emit(OutputBody::VenueNewOrder(venue_order));
            let report =
                entered_report(session, id, o, ExecType::PendingNew, OrdStatus::PendingNew);
            debug_assert_eq!(report, fresh(ExecType::PendingNew));
            out.emit(OutputBody::ExecReport(report));
        }
        drop(order);
        if held {
            self.held.push(id);
        }
        // The order as `open_order` counts it: its whole quantity works.
        let open = OpenOrder {
            account: o.account,
            instrument: o.instrument,
            side: o.side,
            risk_price: accepted.risk_price,
            leaves: o.qty,
        };
        self.risk.on_new_order_open(&open, accepted.order_value_units);
        if o.ord_type == OrdType::Limit {
            self.own.add(o.instrument, o.side, accepted.risk_price, o.qty.0);
        }
        Ok(())
    }

    /// The session must be logged on and trade for `account`.
    pub(super) fn check_session(
        &self,
        session: SessionId,
        account: crate::AccountId,
    ) -> Result<(), RejectInfo> {
        match self.sessions.active(session) {
            Some(s) if s.account == account => Ok(()),
            _ => Err(RejectInfo::new(RejectCode::UnknownAccount, account.0 as i64, 0)),
        }
    }

    /// Combinations the engine supports, checked before anything is looked up.
    fn check_shape(&self, o: &NewOrder) -> Result<(), RejectInfo> {
        let unsupported =
            || RejectInfo::new(RejectCode::UnsupportedOrder, o.ord_type as i64, o.tif as i64);
        if o.flags.0 & !KNOWN_FLAGS != 0 {
            return Err(unsupported());
        }
        let post_only = o.flags.contains(OrderFlags::POST_ONLY);
        match o.ord_type {
            // A market order never rests: only immediate time in force makes sense, and
            // post-only contradicts it.
            OrdType::Market if post_only || !o.tif.is_immediate() && o.tif != TimeInForce::Day => {
                return Err(unsupported());
            }
            OrdType::Limit | OrdType::StopLimit if o.price.0 <= 0 => {
                return Err(RejectInfo::new(RejectCode::PriceInvalid, o.price.0, 0));
            }
            OrdType::Stop | OrdType::StopLimit if o.stop_price.0 <= 0 => {
                return Err(RejectInfo::new(RejectCode::PriceInvalid, o.stop_price.0, 0));
            }
            OrdType::TrailingStop if o.trail_ticks <= 0 => {
                return Err(RejectInfo::new(RejectCode::PriceInvalid, o.trail_ticks, 0));
            }
            _ => {}
        }
        if post_only && (o.tif.is_immediate() || o.ord_type != OrdType::Limit) {
            return Err(unsupported());
        }
        if o.display_qty.0 < 0 || o.display_qty.0 > o.qty.0 {
            return Err(RejectInfo::new(RejectCode::DisplayQtyInvalid, o.display_qty.0, o.qty.0));
        }
        match o.tif {
            TimeInForce::Gtd if o.expire_at <= self.now => Err(RejectInfo::new(
                RejectCode::ExpiryInvalid,
                o.expire_at.0 as i64,
                self.now.0 as i64,
            )),
            TimeInForce::Gtd => Ok(()),
            _ if o.expire_at.0 != 0 => {
                Err(RejectInfo::new(RejectCode::ExpiryInvalid, o.expire_at.0 as i64, 0))
            }
            _ => Ok(()),
        }
    }

    /// The venue the order goes to, and whether its market there is open (risk refuses
    /// the order when not).
    #[inline(always)]
    fn route(&self, o: &NewOrder) -> Result<(VenueId, bool), RejectInfo> {
        match o.route {
            Route::Venue(v) => match self.markets.get(o.instrument, v) {
                Some(m) => Ok((v, m.status == MarketStatus::Open)),
                None => Err(RejectInfo::new(RejectCode::UnknownVenue, v.0 as i64, 0)),
            },
            // Best price routes only to open markets.
            Route::BestPrice => match self.markets.best_venue(o.instrument, o.side) {
                Some(v) => Ok((v, true)),
                None => Err(RejectInfo::new(RejectCode::NoRoute, o.instrument.0 as i64, 0)),
            },
        }
    }

    /// The firm's best-priced working limit order on `side` of the instrument, from the
    /// own-resting aggregate (the id is left zero: see `OwnResting::order_id`); rebuilds
    /// the aggregate's side from the orders when it does not know (see `resting`).
    #[inline]
    pub(super) fn own_best(
        &mut self,
        instrument: crate::InstrumentId,
        side: Side,
    ) -> Option<OwnResting> {
        let best = match self.own.best(instrument, side) {
            Ok(best) => best,
            Err(super::resting::Unknown) => self.rebuild_own_side(instrument, side),
        };
        best.map(|price| OwnResting { order_id: OrderId(0), price })
    }

    /// Rebuilds one side of the own-resting aggregate from the orders and answers its
    /// best. Rare (only after more price levels than the aggregate holds), so kept out of
    /// line of every new order's path.
    #[cold]
    #[inline(never)]
    fn rebuild_own_side(&mut self, instrument: crate::InstrumentId, side: Side) -> Option<Price> {
        self.own.clear_side(instrument, side);
        let filter = OrderFilter { instrument: Some(instrument), ..OrderFilter::ALL };
        for order in self.orders.iter_working(filter) {
            let t = order.terms();
            if t.side == side && t.ord_type == OrdType::Limit {
                let o = open_order(order);
                self.own.change(&o, o.leaves.0);
            }
        }
        self.own.best(instrument, side).unwrap_or(None)
    }

    /// The best by a walk of the orders (for the consistency check).
    fn own_best_by_scan(&self, instrument: crate::InstrumentId, side: Side) -> Option<Price> {
        let filter = OrderFilter { instrument: Some(instrument), ..OrderFilter::ALL };
        let prices = self
            .orders
            .iter_working(filter)
            .map(|o| o.terms())
            .filter(|t| t.side == side && t.ord_type == OrdType::Limit)
            .map(|t| t.price);
        match side {
            Side::Buy => prices.max(),
            Side::Sell => prices.min(),
        }
    }

    /// Rebuilds the own-resting aggregate from the order table (after a snapshot restore).
    pub(super) fn rebuild_own_resting(&mut self) {
        self.own.clear();
        for order in self.orders.iter_working(OrderFilter::ALL) {
            if order.terms().ord_type == OrdType::Limit {
                let o = open_order(order);
                self.own.change(&o, o.leaves.0);
            }
        }
    }

    /// True when the aggregate's best on every side, where it knows it, is the best of a
    /// walk of the orders.
    pub(super) fn own_resting_consistent(&self) -> bool {
        self.instruments.iter().all(|i| {
            [Side::Buy, Side::Sell].iter().all(|&side| match self.own.best(i.id, side) {
                Ok(best) => best == self.own_best_by_scan(i.id, side),
                Err(super::resting::Unknown) => true,
            })
        })
    }

    /// An order counted as `before` filled `qty`.
    pub(super) fn exposure_fill(&mut self, ord_type: OrdType, before: &OpenOrder, qty: crate::Qty) {
        self.risk.on_fill(before.account, before.instrument, before.side, before.risk_price, qty);
        if ord_type == OrdType::Limit {
            self.own.change(before, -qty.0);
        }
    }

    /// An order counted as `before` stopped working with `before.leaves` unfilled.
    pub(super) fn exposure_close(&mut self, ord_type: OrdType, before: &OpenOrder) {
        self.risk.on_order_closed(before);
        if ord_type == OrdType::Limit {
            self.own.change(before, -before.leaves.0);
        }
    }

    /// A replace took effect: the order counted as `before` now works `leaves` at
    /// `risk_price`.
    pub(super) fn exposure_amend(
        &mut self,
        ord_type: OrdType,
        before: &OpenOrder,
        risk_price: Price,
        leaves: crate::Qty,
    ) {
        self.risk.on_order_amended(before, risk_price, leaves);
        if ord_type == OrdType::Limit {
            self.own.change(before, -before.leaves.0);
            self.own.change(&OpenOrder { risk_price, leaves, ..*before }, leaves.0);
        }
    }

    /// Self-trade prevention, cancel-resting mode: cancel every own working limit order on
    /// the other side that an order of `ord_type` (`Market` or `Limit`) at `price` would
    /// cross.
    pub(super) fn cancel_crossing_own<S: OutputSink>(
        &mut self,
        instrument: crate::InstrumentId,
        side: Side,
        ord_type: OrdType,
        price: Price,
        out: &mut Emitter<'_, S>,
    ) {
        let crosses = |p: Price| match side {
            Side::Buy => ord_type == OrdType::Market || p <= price,
            Side::Sell => ord_type == OrdType::Market || p >= price,
        };
        let filter = OrderFilter { instrument: Some(instrument), ..OrderFilter::ALL };
        let opposite = side.opposite();
        let State { orders, risk, held, now, .. } = self;
        orders.for_each_working_mut(filter, |order| {
            let t = *order.terms();
            if t.side == opposite && t.ord_type == OrdType::Limit && crosses(t.price) {
                // An order already being cancelled or replaced is left to that request.
                let _ = request_cancel(order, *now, risk, held, None, out);
            }
        });
    }

    pub(super) fn cancel_order<S: OutputSink>(
        &mut self,
        session: SessionId,
        c: &CancelOrder,
        out: &mut Emitter<'_, S>,
    ) {
        let reject = |reject: RejectInfo, order_id: OrderId, ord_status: OrdStatus| {
            OutputBody::CancelReject(CancelReject {
                session,
                account: c.account,
                order_id,
                cl_ord_id: c.cl_ord_id,
                orig_cl_ord_id: c.orig_cl_ord_id,
                response_to: CancelRejectTo::Cancel,
                ord_status,
                reject,
            })
        };
        if let Err(r) = self.check_session(session, c.account) {
            return out.emit(reject(r, OrderId(0), OrdStatus::Rejected));
        }
        let Some(order) = self.orders.find_by_cl_ord_id(session, c.orig_cl_ord_id) else {
            return out.emit(reject(
                RejectInfo::bare(RejectCode::UnknownOrder),
                OrderId(0),
                OrdStatus::Rejected,
            ));
        };
        let (id, status) = (order.id(), order.ord_status());
        if let Err(r) = self.risk.check_cancel(self.now, session) {
            return out.emit(reject(r, id, status));
        }
        let State { orders, risk, held, now, .. } = self;
        let mut order = orders.get_mut(id).expect("found by client order id above");
        if let Err(r) = request_cancel(&mut order, *now, risk, held, Some(c.cl_ord_id), out) {
            drop(order);
            return out.emit(reject(r, id, status));
        }
        let terminal = order.state().is_terminal();
        drop(order);
        if terminal {
            orders.remove(id);
        }
    }

    pub(super) fn replace_order<S: OutputSink>(
        &mut self,
        session: SessionId,
        r: &ReplaceOrder,
        out: &mut Emitter<'_, S>,
    ) {
        let reject = |reject: RejectInfo, order_id: OrderId, ord_status: OrdStatus| {
            OutputBody::CancelReject(CancelReject {
                session,
                account: r.account,
                order_id,
                cl_ord_id: r.cl_ord_id,
                orig_cl_ord_id: r.orig_cl_ord_id,
                response_to: CancelRejectTo::Replace,
                ord_status,
                reject,
            })
        };
        if let Err(e) = self.check_session(session, r.account) {
            return out.emit(reject(e, OrderId(0), OrdStatus::Rejected));
        }
        let Some(order) = self.orders.find_by_cl_ord_id(session, r.orig_cl_ord_id) else {
            return out.emit(reject(
                RejectInfo::bare(RejectCode::UnknownOrder),
                OrderId(0),
                OrdStatus::Rejected,
            ));
        };
        // Read where it is (an order is a few hundred bytes: not copied).
        let (id, status) = (order.id(), order.ord_status());
        if let Err(e) = order.check_replace(r) {
            return out.emit(reject(e, id, status));
        }
        let t = order.terms();
        let (instrument, venue) = (t.instrument, t.venue);
        let replace = ReplaceRisk {
            current: open_order(order),
            ord_type: t.ord_type,
            flags: t.flags,
            price: r.price,
            stop_price: r.stop_price,
            qty: r.qty,
            leaves: crate::Qty(r.qty.0 - order.filled().0),
            display_qty: r.display_qty,
        };
        let ctx = RiskContext {
            reference: self.markets.reference_price(instrument),
            tradable: self
                .markets
                .get(instrument, venue)
                .is_some_and(|m| m.status == MarketStatus::Open),
            opposite_own_best: None,
        };
        let accepted = match self.risk.check_replace(self.now, session, &replace, &ctx) {
            Ok(a) => a,
            Err(e) => return out.emit(reject(e, id, status)),
        };
        let applied = match self.orders.request_replace_mut(id, r, self.now) {
            Err(e) => return out.emit(reject(e, id, status)),
            Ok((ReplaceOutcome::Applied { old_cl_ord_id }, mut order)) => {
                order.set_risk_price(accepted.risk_price);
                (*order, old_cl_ord_id)
            }
            Ok((ReplaceOutcome::Pending, order)) => {
                // Risk counts the new terms when the venue confirms them (see
                // `venue_replace_ack`); until then the order is valued as it stands.
                let t = order.terms();
                out.emit(OutputBody::VenueReplace(VenueReplace {
                    venue: t.venue,
                    order_id: t.id,
                    instrument: t.instrument,
                    side: t.side,
                    venue_order_id: order.venue_order_id(),
                    price: r.price,
                    qty: r.qty,
                    display_qty: r.display_qty,
                }));
                let report = exec_report(
                    &order,
                    ExecType::PendingReplace,
                    r.cl_ord_id,
                    Some(r.orig_cl_ord_id),
                    LastFill::default(),
                    None,
                );
                return out.emit(OutputBody::ExecReport(report));
            }
        };
        // Applied at once (a held order): re-valued now.
        let (order, old_cl_ord_id) = applied;
        let (ord_type, leaves) = (order.terms().ord_type, order.leaves());
        self.exposure_amend(ord_type, &replace.current, accepted.risk_price, leaves);
        let report = exec_report(
            &order,
            ExecType::Replaced,
            r.cl_ord_id,
            Some(old_cl_ord_id),
            LastFill::default(),
            None,
        );
        out.emit(OutputBody::ExecReport(report));
    }

    pub(super) fn mass_cancel<S: OutputSink>(
        &mut self,
        session: SessionId,
        m: &MassCancel,
        out: &mut Emitter<'_, S>,
    ) {
        if let Err(r) = self.check_session(session, m.account) {
            return out.emit(OutputBody::MassCancelReport(MassCancelReport {
                session,
                cl_ord_id: m.cl_ord_id,
                affected: 0,
                reject: Some(r),
            }));
        }
        let filter = OrderFilter::from_mass_cancel(m.account, m.scope);
        let affected = self.cancel_where(filter, out);
        out.emit(OutputBody::MassCancelReport(MassCancelReport {
            session,
            cl_ord_id: m.cl_ord_id,
            affected,
            reject: None,
        }));
    }

    /// Cancels every working order in scope. Returns how many were cancelled or sent a
    /// cancel. Not throttled: the core's own cancels (mass cancel fan-out, kill switch,
    /// cancel on disconnect, loss halt) must always go out.
    ///
    /// An order with a replace outstanding cannot enter PendingCancel (one request at a
    /// time), but a kill switch must not wait for the venue: the cancel is sent at once,
    /// and the venue's cancel ack ends the order whatever request it crossed with (see
    /// `venue_cancel_ack`). An order already PendingCancel needs nothing more.
    pub(super) fn cancel_where<S: OutputSink>(
        &mut self,
        filter: OrderFilter,
        out: &mut Emitter<'_, S>,
    ) -> u32 {
        let State { orders, risk, held, now, .. } = self;
        let mut affected = 0;
        // An order whose cancel is out already needs nothing more (its request would be
        // refused): the walk passes it over without reading it.
        let wants = |state| state != crate::OrderState::PendingCancel;
        orders.for_each_working_mut_in(filter, wants, |order| {
            if order.state() == crate::OrderState::PendingReplace {
                out.emit(OutputBody::VenueCancel(venue_cancel(order)));
                affected += 1;
            } else if request_cancel(order, *now, risk, held, None, out).is_ok() {
                affected += 1;
            }
        });
        affected
    }
}

/// Accepts a cancel for `order`: a held order is cancelled at once (and its exposure
/// released); any other is PendingCancel with a cancel sent to its venue.
///
/// `client_request` is the client's cancel request id, `None` when the core cancels on its
/// own account. A client's cancel is reported under the request's id with the order's as
/// the original (FIX 11 / 41), now and when the venue confirms it; the core's own cancels
/// are reported under the order's id alone.
fn request_cancel<S: OutputSink>(
    order: &mut Order,
    now: crate::TimestampNs,
    risk: &mut crate::risk::RiskEngine,
    held: &mut Vec<OrderId>,
    client_request: Option<crate::ClOrdId>,
    out: &mut Emitter<'_, S>,
) -> Result<(), RejectInfo> {
    let was_held = order.state() == crate::OrderState::Held;
    let before = open_order(order);
    match client_request {
        Some(request) => order.request_client_cancel(request, now)?,
        None => order.request_cancel(now)?,
    };
    let (request_cl_ord_id, orig) = cancel_ids(order);
    let t = *order.terms();
    if was_held {
        held.retain(|&id| id != t.id);
        risk.on_order_closed(&before);
        out.emit(OutputBody::ExecReport(exec_report(
            order,
            ExecType::Canceled,
            request_cl_ord_id,
            orig,
            LastFill::default(),
            None,
        )));
    } else {
        out.emit(OutputBody::VenueCancel(venue_cancel(order)));
        out.emit(OutputBody::ExecReport(exec_report(
            order,
            ExecType::PendingCancel,
            request_cl_ord_id,
            orig,
            LastFill::default(),
            None,
        )));
    }
    Ok(())
}

/// The client order ids of a cancel's reports: the client's request and the order's id,
/// or the order's id alone for a cancel the core made (see [`request_cancel`]).
pub(super) fn cancel_ids(order: &Order) -> (crate::ClOrdId, Option<crate::ClOrdId>) {
    let own = order.terms().cl_ord_id;
    match order.cancel_request() {
        Some(request) => (request, Some(own)),
        None => (own, None),
    }
}

/// The cancel request for an order at its venue.
fn venue_cancel(order: &Order) -> VenueCancel {
    let t = order.terms();
    VenueCancel {
        venue: t.venue,
        order_id: t.id,
        instrument: t.instrument,
        side: t.side,
        venue_order_id: order.venue_order_id(),
    }
}

/// The report of a new order just entered as `id` (nothing filled, nothing pending):
/// what [`exec_report`] says of it, built from the command the order was entered from.
#[inline(always)]
fn entered_report(
    session: SessionId,
    id: OrderId,
    o: &NewOrder,
    exec_type: ExecType,
    ord_status: OrdStatus,
) -> crate::schema::ExecReport {
    crate::schema::ExecReport {
        session,
        account: o.account,
        order_id: id,
        cl_ord_id: o.cl_ord_id,
        orig_cl_ord_id: None,
        instrument: o.instrument,
        side: o.side,
        ord_type: o.ord_type,
        exec_type,
        ord_status,
        price: o.price,
        qty: o.qty,
        last_px: Price(0),
        last_qty: crate::Qty::ZERO,
        leaves_qty: o.qty,
        cum_qty: crate::Qty::ZERO,
        cum_notional: 0,
        reject: None,
    }
}

/// The venue order for a new order just entered as `id` for `venue`: what
/// [`venue_new_order`] says of it, built from the command the order was entered from.
#[inline(always)]
fn entered_venue_order(id: OrderId, venue: VenueId, o: &NewOrder) -> VenueNewOrder {
    let (ord_type, flags, price) = venue_terms(o.ord_type, o.flags, o.price);
    VenueNewOrder {
        venue,
        order_id: id,
        instrument: o.instrument,
        side: o.side,
        ord_type,
        tif: o.tif,
        flags,
        price,
        // Nothing has filled: the order's leaves are its quantity.
        qty: o.qty,
        display_qty: o.display_qty,
        expire_at: o.expire_at,
    }
}

/// What a venue is sent of an order's type, flags and price: stops are held by the core
/// and go out as the limit or market order they become; only post-only is a venue flag;
/// a market order carries no price.
#[inline(always)]
fn venue_terms(ord_type: OrdType, flags: OrderFlags, price: Price) -> (OrdType, OrderFlags, Price) {
    let ord_type = match ord_type {
        OrdType::Limit | OrdType::StopLimit => OrdType::Limit,
        OrdType::Market | OrdType::Stop | OrdType::TrailingStop => OrdType::Market,
    };
    let price = if ord_type == OrdType::Limit { price } else { Price(0) };
    (ord_type, OrderFlags(flags.0 & OrderFlags::POST_ONLY.0), price)
}

/// The order as risk's exposure counts it now.
pub(super) fn open_order(order: &Order) -> OpenOrder {
    let t = order.terms();
    OpenOrder {
        account: t.account,
        instrument: t.instrument,
        side: t.side,
        risk_price: order.risk_price(),
        leaves: order.leaves(),
    }
}

/// The venue order for an order being sent (new, or a triggered stop).
#[inline(always)]
pub(super) fn venue_new_order(order: &Order) -> VenueNewOrder {
    let t = order.terms();
    let (ord_type, flags, price) = venue_terms(t.ord_type, t.flags, t.price);
    VenueNewOrder {
        venue: t.venue,
        order_id: t.id,
        instrument: t.instrument,
        side: t.side,
        ord_type,
        tif: t.tif,
        flags,
        price,
        qty: order.leaves(),
        display_qty: t.display_qty,
        expire_at: t.expire_at,
    }
}
