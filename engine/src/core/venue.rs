//! Venue reports (acks, rejects, fills, cancel and replace answers) and market data.
//!
//! A venue report moves one order through its state machine and, for fills, positions and
//! risk exposure. A report that contradicts Keel's view (unknown order, an order on another
//! venue, an illegal transition, an over-fill, a repeated execution id) changes nothing and
//! is journaled as an [`Anomaly`] with its code and numbers.

use super::entry::{open_order, venue_new_order};
use super::market::MarketError;
use super::report::{LastFill, exec_report};
use super::{Emitter, OutputSink, State, stops};
use crate::book::BookError;
use crate::orders::{OrderFilter, OrderMut};
use crate::risk::{OpenOrder, ReleaseRisk, RiskContext, StpAction};
use crate::schema::{
    Anomaly, CancelReject, CancelRejectTo, CommandBody, ExecType, L2Update, MarketStatus,
    OutputBody, RejectCode, RejectInfo, SnapshotPhase, VenueAck, VenueCancelAck, VenueCancelReject,
    VenueFill, VenueReject, VenueReplaceAck,
};
use crate::strategy::OwnFill;
use crate::{InstrumentId, OrdType, OrderId, OrderState, Price, Qty, VenueId};

/// What a market-data command changed, for the strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MarketChange {
    /// Nothing a strategy should see (a refused update, or a book mid-snapshot).
    None,
    /// The book of this instrument changed.
    Book(InstrumentId),
    /// A trade printed.
    Trade(InstrumentId),
}

impl State {
    /// The order a venue report names, if it is Keel's and on that venue.
    fn reported_order(&mut self, venue: VenueId, id: OrderId) -> Result<OrderMut<'_>, RejectInfo> {
        match self.orders.get_mut(id) {
            Some(order) if order.terms().venue == venue => Ok(order),
            _ => Err(RejectInfo::new(RejectCode::VenueUnknownOrder, id.0 as i64, 0)),
        }
    }

    pub(super) fn venue_ack<S: OutputSink>(&mut self, a: &VenueAck, out: &mut Emitter<'_, S>) {
        let now = self.now;
        let result = self.reported_order(a.venue, a.order_id).and_then(|mut order| {
            let before = order.state();
            let after = order.apply_venue_ack(a.venue_order_id, now)?;
            if before == OrderState::PendingNew && after == OrderState::New {
                let cl = order.terms().cl_ord_id;
                out.emit(OutputBody::ExecReport(exec_report(
                    &order,
                    ExecType::New,
                    cl,
                    None,
                    LastFill::default(),
                    None,
                )));
            }
            Ok(())
        });
        anomaly_on_err(result, a.venue, a.order_id, out);
    }

    pub(super) fn venue_reject<S: OutputSink>(
        &mut self,
        r: &VenueReject,
        out: &mut Emitter<'_, S>,
    ) {
        let now = self.now;
        let result = self.reported_order(r.venue, r.order_id).and_then(|mut order| {
            let before = open_order(&order);
            order.apply_venue_reject(now)?;
            let reject = RejectInfo::new(RejectCode::VenueRejected, r.reason as i64, 0);
            let cl = order.terms().cl_ord_id;
            out.emit(OutputBody::ExecReport(exec_report(
                &order,
                ExecType::Rejected,
                cl,
                None,
                LastFill::default(),
                Some(reject),
            )));
            Ok((order.terms().ord_type, before))
        });
        if let Some((ord_type, before)) = anomaly_on_err(result, r.venue, r.order_id, out) {
            self.exposure_close(ord_type, &before);
            self.orders.remove(r.order_id);
        }
    }

    pub(super) fn venue_fill<S: OutputSink>(&mut self, f: &VenueFill, out: &mut Emitter<'_, S>) {
        let before = match self.reported_order(f.venue, f.order_id) {
            Ok(order) => open_order(&order),
            Err(e) => return out.emit(anomaly(f.venue, f.order_id, e)),
        };
        let fill = match self.orders.apply_fill(f, self.now) {
            Ok(fill) => fill,
            Err(e) => return out.emit(anomaly(f.venue, f.order_id, e)),
        };
        out.count_fill();
        let order = *self.orders.get(f.order_id).expect("filled above");
        let t = *order.terms();
        if let Err(e) =
            self.positions.apply_fill(t.account, t.instrument, t.side, f.price, f.qty, f.fee)
        {
            // Only reachable through arithmetic overflow of absurd sizes; the order has
            // the fill, and the audit has the anomaly.
            debug_assert!(false, "position update refused: {e}");
            out.emit(anomaly(
                f.venue,
                f.order_id,
                RejectInfo::new(RejectCode::TableCapacity, f.qty.0, 0),
            ));
        }
        self.exposure_fill(t.ord_type, &before, f.qty);
        let report = exec_report(
            &order,
            ExecType::Trade,
            t.cl_ord_id,
            None,
            LastFill { px: f.price, qty: f.qty },
            None,
        );
        out.emit(OutputBody::ExecReport(report));
        out.own_fill(
            t.session,
            OwnFill {
                cl_ord_id: t.cl_ord_id,
                instrument: t.instrument,
                side: t.side,
                price: f.price,
                qty: f.qty,
                leaves_qty: fill.leaves_qty,
                fee: f.fee,
                liquidity: f.liquidity,
            },
        );
        if fill.state.is_terminal() {
            self.exposure_close(t.ord_type, &OpenOrder { leaves: Qty::ZERO, ..before });
            self.orders.remove(f.order_id);
        }
        self.check_loss_limits(t.account, out);
    }

    pub(super) fn venue_cancel_ack<S: OutputSink>(
        &mut self,
        c: &VenueCancelAck,
        out: &mut Emitter<'_, S>,
    ) {
        let now = self.now;
        let result = self.reported_order(c.venue, c.order_id).and_then(|mut order| {
            let before = open_order(&order);
            // The venue decides whether an order lives: a cancel ack for an order Keel
            // had not (or no longer) asked to cancel — a kill switch crossing a replace,
            // an IOC remainder — ends it just the same.
            let unsolicited = c.unsolicited || order.state() != OrderState::PendingCancel;
            order.apply_cancel_ack(unsolicited, now)?;
            // A confirmed client cancel answers the client's request (FIX 11 = the
            // request, 41 = the order); a cancel the venue or the core made on its own
            // keeps the order's id.
            let (cl, orig) = if unsolicited {
                (order.terms().cl_ord_id, None)
            } else {
                super::entry::cancel_ids(&order)
            };
            out.emit(OutputBody::ExecReport(exec_report(
                &order,
                ExecType::Canceled,
                cl,
                orig,
                LastFill::default(),
                None,
            )));
            Ok((order.terms().ord_type, before))
        });
        if let Some((ord_type, before)) = anomaly_on_err(result, c.venue, c.order_id, out) {
            self.exposure_close(ord_type, &before);
            self.orders.remove(c.order_id);
        }
    }

    pub(super) fn venue_replace_ack<S: OutputSink>(
        &mut self,
        r: &VenueReplaceAck,
        out: &mut Emitter<'_, S>,
    ) {
        let (before, old_cl) = match self.reported_order(r.venue, r.order_id) {
            Ok(order) => (open_order(&order), order.terms().cl_ord_id),
            Err(e) => return out.emit(anomaly(r.venue, r.order_id, e)),
        };
        if let Err(e) = self.orders.apply_replace_ack(r, self.now) {
            return out.emit(anomaly(r.venue, r.order_id, e));
        }
        let (order, risk_price) = {
            let mut order = self.orders.get_mut(r.order_id).expect("replaced above");
            // Risk values a limit order at its limit price; other types keep their value.
            let risk_price =
                if order.terms().ord_type == OrdType::Limit { r.price } else { before.risk_price };
            order.set_risk_price(risk_price);
            (*order, risk_price)
        };
        self.exposure_amend(order.terms().ord_type, &before, risk_price, order.leaves());
        let cl = order.terms().cl_ord_id;
        out.emit(OutputBody::ExecReport(exec_report(
            &order,
            ExecType::Replaced,
            cl,
            Some(old_cl),
            LastFill::default(),
            None,
        )));
        if order.state().is_terminal() {
            self.exposure_close(order.terms().ord_type, &open_order(&order));
            self.orders.remove(r.order_id);
        }
    }

    pub(super) fn venue_cancel_reject<S: OutputSink>(
        &mut self,
        r: &VenueCancelReject,
        out: &mut Emitter<'_, S>,
    ) {
        let (request_cl, order_cl) = match self.reported_order(r.venue, r.order_id) {
            Ok(order) => {
                let cl = order.terms().cl_ord_id;
                (order.pending_replace().map_or(cl, |p| p.cl_ord_id), cl)
            }
            Err(e) => return out.emit(anomaly(r.venue, r.order_id, e)),
        };
        let now = self.now;
        let result = match r.response_to {
            CancelRejectTo::Cancel => self
                .orders
                .get_mut(r.order_id)
                .expect("found above")
                .apply_cancel_reject(now)
                .map(|_| ()),
            CancelRejectTo::Replace => {
                self.orders.apply_replace_reject(r.order_id, now).map(|_| ())
            }
        };
        if let Err(e) = result {
            return out.emit(anomaly(r.venue, r.order_id, e));
        }
        let order = self.orders.get(r.order_id).expect("found above");
        let t = order.terms();
        out.emit(OutputBody::CancelReject(CancelReject {
            session: t.session,
            account: t.account,
            order_id: t.id,
            cl_ord_id: if r.response_to == CancelRejectTo::Replace { request_cl } else { order_cl },
            orig_cl_ord_id: order_cl,
            response_to: r.response_to,
            ord_status: order.ord_status(),
            reject: RejectInfo::new(RejectCode::VenueCancelRejected, r.reason as i64, 0),
        }));
    }

    /// Applies market data; held stops trigger on trades.
    /// An L2 update (most of the traffic): `market_data` for it, with the market looked
    /// up once. Returns the instrument whose book strategies should see changed.
    #[inline]
    pub(super) fn l2_update<S: OutputSink>(
        &mut self,
        u: &L2Update,
        out: &mut Emitter<'_, S>,
    ) -> Option<InstrumentId> {
        match self.markets.apply_l2_rebuilding(u) {
            Ok(rebuilding) => (!rebuilding).then_some(u.instrument),
            Err(e) => {
                out.emit(anomaly(u.venue, OrderId(0), market_reject(&e)));
                None
            }
        }
    }

    /// A trade print (the most common market data after L2 updates): `market_data` for
    /// it, with the market looked up once. Returns the instrument whose strategies should
    /// see the trade.
    #[inline]
    pub(super) fn trade<S: OutputSink>(
        &mut self,
        t: &crate::schema::MarketTrade,
        out: &mut Emitter<'_, S>,
    ) -> Option<InstrumentId> {
        match self.markets.apply_trade_rebuilding(t) {
            Ok(false) => {
                // The last trade is now `t`'s price. With nothing held, trailing and
                // triggering stops has nothing to look at.
                if !self.held.is_empty() {
                    self.on_trade_price(t.instrument, t.price, out);
                }
                Some(t.instrument)
            }
            Ok(true) => None,
            Err(e) => {
                out.emit(anomaly(t.venue, OrderId(0), market_reject(&e)));
                None
            }
        }
    }

    pub(super) fn market_data<S: OutputSink>(
        &mut self,
        body: &CommandBody,
        out: &mut Emitter<'_, S>,
    ) -> MarketChange {
        let m = &mut self.markets;
        let (result, venue, change) = match body {
            CommandBody::L2Update(u) => (m.apply_l2(u), u.venue, MarketChange::Book(u.instrument)),
            CommandBody::L3Add(u) => (m.apply_l3_add(u), u.venue, MarketChange::Book(u.instrument)),
            CommandBody::L3Modify(u) => {
                (m.apply_l3_modify(u), u.venue, MarketChange::Book(u.instrument))
            }
            CommandBody::L3Delete(u) => {
                (m.apply_l3_delete(u), u.venue, MarketChange::Book(u.instrument))
            }
            CommandBody::L3Execute(u) => {
                (m.apply_l3_execute(u), u.venue, MarketChange::Trade(u.instrument))
            }
            CommandBody::Trade(t) => (m.apply_trade(t), t.venue, MarketChange::Trade(t.instrument)),
            CommandBody::Snapshot(s) => {
                let begin = s.phase == SnapshotPhase::Begin;
                let change =
                    if begin { MarketChange::None } else { MarketChange::Book(s.instrument) };
                (m.snapshot(s.instrument, s.venue, begin), s.venue, change)
            }
            CommandBody::VenueStatus(s) => {
                (m.set_status(s.venue, s.instrument, s.status), s.venue, MarketChange::None)
            }
            _ => unreachable!("market_data is called for market-data commands only"),
        };
        if let Err(e) = result {
            out.emit(anomaly(venue, OrderId(0), market_reject(&e)));
            return MarketChange::None;
        }
        match change {
            MarketChange::Book(i) | MarketChange::Trade(i)
                if self.markets.get(i, venue).is_some_and(|m| m.rebuilding) =>
            {
                MarketChange::None
            }
            MarketChange::Trade(i) => {
                if let Some(last) = self.markets.get(i, venue).and_then(|m| m.last_trade) {
                    self.on_trade_price(i, last.price, out);
                }
                change
            }
            _ => change,
        }
    }

    /// Trails and triggers the held stops of `instrument` on a trade at `last`, in entry
    /// order.
    fn on_trade_price<S: OutputSink>(
        &mut self,
        instrument: InstrumentId,
        last: Price,
        out: &mut Emitter<'_, S>,
    ) {
        // Taken out (no allocation) so a release can use the whole state; releasing never
        // holds an order, so nothing is pushed meanwhile.
        let mut held = std::mem::take(&mut self.held);
        let mut kept = 0;
        for i in 0..held.len() {
            let id = held[i];
            if self.trail_or_release(id, instrument, last, out) {
                held[kept] = id;
                kept += 1;
            }
        }
        held.truncate(kept);
        debug_assert!(self.held.is_empty(), "a release held an order");
        self.held = held;
    }

    /// Trails held order `id` if it is a trailing stop in `instrument` and releases it if a
    /// trade at `last` triggers it. Returns true while the order stays held.
    fn trail_or_release<S: OutputSink>(
        &mut self,
        id: OrderId,
        instrument: InstrumentId,
        last: Price,
        out: &mut Emitter<'_, S>,
    ) -> bool {
        let Some(mut order) = self.orders.get_mut(id) else { return false };
        let t = *order.terms();
        if t.instrument != instrument {
            return true;
        }
        if t.ord_type == OrdType::TrailingStop {
            order.trail_stop_to(stops::trail(t.side, t.stop_price, t.trail_ticks, last));
        }
        if !stops::triggers(t.side, order.terms().stop_price, last) {
            return true;
        }
        let before = open_order(&order);
        drop(order);
        // A released stop is a new order at the venue: it passes pre-trade risk as one,
        // against the limits and states in force now.
        let (ord_type, price) = match t.ord_type {
            OrdType::StopLimit => (OrdType::Limit, t.price),
            _ => (OrdType::Market, Price(0)),
        };
        let release = ReleaseRisk {
            current: before,
            ord_type,
            flags: t.flags,
            price,
            qty: t.qty,
            display_qty: t.display_qty,
        };
        let ctx = RiskContext {
            reference: self.markets.reference_price(instrument),
            tradable: self
                .markets
                .get(instrument, t.venue)
                .is_some_and(|m| m.status == MarketStatus::Open),
            opposite_own_best: self.own_best(instrument, t.side.opposite()),
        };
        let accepted = match self.risk.check_release(self.now, t.session, &release, &ctx) {
            Ok(a) => a,
            Err(reject) => return self.cancel_held(id, reject, out),
        };
        match accepted.stp {
            StpAction::None => {}
            StpAction::CancelResting(_) => {
                self.cancel_crossing_own(instrument, t.side, ord_type, price, out)
            }
            StpAction::CancelAggressing(_) => {
                let resting = ctx.opposite_own_best.map_or(0, |r| r.price.0);
                let reject = RejectInfo::new(RejectCode::SelfTrade, resting, price.0);
                return self.cancel_held(id, reject, out);
            }
        }
        let now = self.now;
        let order = {
            let mut order = self.orders.get_mut(id).expect("held order found above");
            if order.trigger(now).is_err() {
                return true;
            }
            order.set_risk_price(accepted.risk_price);
            *order
        };
        self.exposure_amend(t.ord_type, &before, accepted.risk_price, order.leaves());
        out.emit(OutputBody::VenueNewOrder(venue_new_order(&order)));
        out.emit(OutputBody::ExecReport(exec_report(
            &order,
            ExecType::Triggered,
            t.cl_ord_id,
            None,
            LastFill::default(),
            None,
        )));
        false
    }

    /// Cancels held order `id` instead of releasing it, reporting why. Returns whether it
    /// stays held (only if it could not be cancelled).
    fn cancel_held<S: OutputSink>(
        &mut self,
        id: OrderId,
        reject: RejectInfo,
        out: &mut Emitter<'_, S>,
    ) -> bool {
        let now = self.now;
        let Some(mut order) = self.orders.get_mut(id) else { return false };
        let before = open_order(&order);
        if order.request_cancel(now).is_err() {
            return true;
        }
        let cl = order.terms().cl_ord_id;
        out.emit(OutputBody::ExecReport(exec_report(
            &order,
            ExecType::Canceled,
            cl,
            None,
            LastFill::default(),
            Some(reject),
        )));
        drop(order);
        self.risk.on_order_closed(&before);
        self.orders.remove(id);
        false
    }

    /// Feeds the account's equity to the loss limits; a halt cancels its working orders.
    pub(super) fn check_loss_limits<S: OutputSink>(
        &mut self,
        account: crate::AccountId,
        out: &mut Emitter<'_, S>,
    ) {
        let Some(totals) = self.positions.account_totals(account).copied() else { return };
        let markets = &self.markets;
        let unrealized = self
            .positions
            .account_unrealized_e8(account, |i| markets.reference_price(i))
            .unwrap_or(0);
        let equity = totals.realized_pnl_e8 + unrealized - totals.fees_e8;
        if let Some(breach) = self.risk.on_account_pnl(account, self.now, equity)
            && breach.state == crate::schema::TradingState::Halted
        {
            self.cancel_where(OrderFilter { account: Some(account), ..OrderFilter::ALL }, out);
        }
    }
}

/// Emits an anomaly for a refused venue report; passes a success through.
fn anomaly_on_err<T, S: OutputSink>(
    result: Result<T, RejectInfo>,
    venue: VenueId,
    order_id: OrderId,
    out: &mut Emitter<'_, S>,
) -> Option<T> {
    result.map_err(|e| out.emit(anomaly(venue, order_id, e))).ok()
}

fn anomaly(venue: VenueId, order_id: OrderId, reject: RejectInfo) -> OutputBody {
    OutputBody::Anomaly(Anomaly { venue, order_id, reject })
}

/// The reject code and numbers for a refused market-data command.
fn market_reject(e: &MarketError) -> RejectInfo {
    match *e {
        MarketError::UnknownBook { instrument, .. } => {
            RejectInfo::new(RejectCode::UnknownInstrument, instrument.0 as i64, 0)
        }
        MarketError::WrongFeed { venue, .. } => {
            RejectInfo::new(RejectCode::UnknownVenue, venue.0 as i64, 0)
        }
        MarketError::Book(b) => match b {
            BookError::UnknownOrderId { id } | BookError::DuplicateOrderId { id } => {
                RejectInfo::new(RejectCode::VenueUnknownOrder, id.0 as i64, 0)
            }
            BookError::OrdersFull { capacity } | BookError::LevelsFull { capacity, .. } => {
                RejectInfo::new(RejectCode::TableCapacity, 0, capacity as i64)
            }
            BookError::InvalidQty { qty } => RejectInfo::new(RejectCode::QtyNotPositive, qty.0, 0),
            _ => RejectInfo::bare(RejectCode::UnsupportedOrder),
        },
    }
}
