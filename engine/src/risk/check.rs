//! The ordered pre-trade checks shared by new orders, replaces and released (triggered)
//! held orders.
//!
//! The order of evaluation is part of the contract (the first failing check names the
//! reject); `docs/risk.md` lists it. The session and its throttle are checked by the
//! callers in `mod.rs` before this runs, so every message, good or bad, spends a token.
//!
//! Nothing here allocates, and nothing here changes state except, for an accepted new
//! order, the duplicate ring.

use super::RiskEngine;
use super::config::{NoReferenceRule, StpMode};
use super::duplicate::Fingerprint;
use super::exposure::order_value;
use super::limits::{LimitSet, NO_LIMIT};
use super::order::{Accepted, RiskContext, StpAction};
use crate::schema::{LimitKind, OrderFlags, RejectCode as C, RejectInfo, TradingState};
use crate::{AccountId, InstrumentId, OrdType, Price, Qty, Side, TimestampNs};

/// What is being checked: a new order, a replace, or a held order being released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A new order: nothing of it is counted yet.
    New,
    /// A replace of an order counted at (risk price, leaves): only the change in exposure
    /// is checked, and only when it increases it.
    Replace(Price, Qty),
    /// A held order released to the venue, counted at (risk price, leaves) since it was
    /// entered: checked like a new order against the limits in force now (its own
    /// exposure and working-order count are not counted twice), without a throttle token
    /// or a duplicate-order check (it is not a new message).
    Release(Price, Qty),
}

impl Entry {
    /// The exposure the order is counted at already, for a replace or a release.
    #[inline]
    fn counted(self) -> Option<(Price, Qty)> {
        match self {
            Entry::New => None,
            Entry::Replace(p, q) | Entry::Release(p, q) => Some((p, q)),
        }
    }
}

/// The terms under check, common to new orders, replaces and releases.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Terms {
    pub(crate) account: AccountId,
    pub(crate) instrument: InstrumentId,
    pub(crate) side: Side,
    pub(crate) ord_type: OrdType,
    pub(crate) flags: OrderFlags,
    pub(crate) price: Price,
    pub(crate) stop_price: Price,
    /// Whole-order quantity (per-order limits).
    pub(crate) qty: Qty,
    /// Quantity that will be working (exposure).
    pub(crate) leaves: Qty,
    pub(crate) display_qty: Qty,
    /// New order, replace or release.
    pub(crate) entry: Entry,
    /// The caller checked the shape already (a new order entered by the core, see
    /// `RiskEngine::check_shaped_new`): the display quantity and the limit and stop
    /// prices its order type needs are known valid, and not checked again.
    pub(crate) shaped: bool,
}

/// What an accepted check answers: [`Accepted`], and the order's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Checked {
    /// The price risk valued the order at ([`Accepted::risk_price`]).
    pub(crate) risk_price: Price,
    /// Self-trade prevention's decision ([`Accepted::stp`]).
    pub(crate) stp: StpAction,
    /// The order's whole quantity valued at the risk price, valuation units: a new
    /// order's opening exposure.
    pub(crate) order_value_units: i128,
}

impl Checked {
    /// What the public checks answer.
    #[inline(always)]
    pub(crate) fn accepted(self) -> Accepted {
        Accepted { risk_price: self.risk_price, stp: self.stp }
    }
}

/// Saturates an `i128` into a `RejectInfo` number.
#[inline]
pub(crate) fn sat(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// A limit as an `i128` bound: [`NO_LIMIT`] is no bound at all, so a value wider than
/// `i64` (exposure and order value in valuation units are `i128`) is never refused by a
/// limit that is not in force.
#[inline]
fn bound(limit: i64) -> i128 {
    if limit == NO_LIMIT { i128::MAX } else { i128::from(limit) }
}

#[inline]
fn reject(code: C, value: impl Into<i128>, limit: impl Into<i128>) -> RejectInfo {
    RejectInfo::new(code, sat(value.into()), sat(limit.into()))
}

/// True when an order of `leaves` on `side`, together with `other_open` lots already
/// working on that side, can only bring `position` toward zero and never past it.
#[inline]
fn reduces(position: i64, other_open: i64, side: Side, leaves: i64) -> bool {
    let (pos, open, q) = (i128::from(position), i128::from(other_open), i128::from(leaves));
    match side {
        Side::Buy => pos < 0 && pos + open + q <= 0,
        Side::Sell => pos > 0 && pos - open - q >= 0,
    }
}

impl RiskEngine {
    /// Runs checks 3.. (see `docs/risk.md`) for a new order or a replace.
    ///
    /// Inlined into each of its three callers so that each is compiled for its own
    /// [`Entry`] kind: the branches on the kind fold away (measured: a new order's checks
    /// are the core's largest single cost).
    #[inline(always)]
    pub(crate) fn check_terms(
        &mut self,
        now: TimestampNs,
        session: usize,
        t: &Terms,
        ctx: &RiskContext,
    ) -> Result<Checked, RejectInfo> {
        // Reference data and identities.
        let i = t.instrument.index();
        let Some(inst) = self.instruments.get(i) else {
            return Err(reject(C::UnknownInstrument, t.instrument.0, 0));
        };
        if !ctx.tradable {
            return Err(reject(C::InstrumentNotTradable, t.instrument.0, 0));
        }
        let a = t.account.index();
        if a >= self.states.account_state.len() {
            return Err(reject(C::UnknownAccount, t.account.0, 0));
        }

        // Order terms.
        if t.qty.0 <= 0 {
            return Err(reject(C::QtyNotPositive, t.qty.0, 0));
        }
        debug_assert!(t.leaves.0 >= 0 && t.leaves <= t.qty, "leaves outside 0..=qty");
        let bad_display = t.display_qty.0 < 0 || t.display_qty > t.qty;
        debug_assert!(!(t.shaped && bad_display), "shape checked by the caller");
        if !t.shaped && bad_display {
            return Err(reject(C::DisplayQtyInvalid, t.display_qty.0, t.qty.0));
        }
        let needs_limit = matches!(t.ord_type, OrdType::Limit | OrdType::StopLimit);
        if !t.shaped && needs_limit && t.price.0 <= 0 {
            return Err(reject(C::PriceInvalid, t.price.0, 0));
        }
        let needs_stop = matches!(t.ord_type, OrdType::Stop | OrdType::StopLimit);
        debug_assert!(!(t.shaped && needs_limit && t.price.0 <= 0), "shape checked");
        debug_assert!(!(t.shaped && needs_stop && t.stop_price.0 <= 0), "shape checked");
        // A negative stop price on a type that needs none is not a shape rule: checked
        // here for every order.
        if (!t.shaped && needs_stop && t.stop_price.0 <= 0) || t.stop_price.0 < 0 {
            return Err(reject(C::PriceInvalid, t.stop_price.0, 0));
        }
        let risk_price = match t.ord_type {
            OrdType::Limit | OrdType::StopLimit => Some(t.price),
            OrdType::Stop => Some(t.stop_price),
            OrdType::TrailingStop if t.stop_price.0 > 0 => Some(t.stop_price),
            OrdType::TrailingStop | OrdType::Market => ctx.reference,
        };
        // Without a price the order cannot be valued, whatever the collar rule says.
        let Some(risk_price) = risk_price else {
            return Err(reject(C::NoReferencePrice, t.price.0, 0));
        };
        if t.qty < inst.min_qty {
            return Err(reject(C::QtyBelowMin, t.qty.0, inst.min_qty.0));
        }
        if t.qty > inst.max_qty {
            return Err(reject(C::QtyAboveMax, t.qty.0, inst.max_qty.0));
        }
        let notional = risk_price.notional(t.qty).abs();
        // An execution report carries the cumulative notional as an `i64`: an order that
        // could not be reported once completely filled at its risk price is refused, with
        // the largest quantity that fits.
        if notional > i128::from(i64::MAX) {
            let max_qty = i128::from(i64::MAX) / i128::from(risk_price.0).abs();
            return Err(reject(C::QtyExceedsMax, t.qty.0, max_qty));
        }
        if notional < inst.min_notional {
            return Err(reject(C::NotionalBelowMin, notional, inst.min_notional));
        }
        if notional > inst.max_notional {
            return Err(reject(C::NotionalExceedsMax, notional, inst.max_notional));
        }

        // Kill switches, trading states, restrictions.
        if self.states.killed(a, session) {
            return Err(RejectInfo::bare(C::KillSwitch));
        }
        let cell = self.exposure.cell(a, i);
        let removed_leaves = t.entry.counted().map_or(0, |(_, q)| q.0);
        let other_open = cell.open_lots(t.side) - removed_leaves;
        let reducing = reduces(cell.position_lots, other_open, t.side, t.leaves.0);
        match self.states.effective(a) {
            TradingState::Halted => return Err(RejectInfo::bare(C::Halted)),
            TradingState::ReducingOnly if !reducing => {
                return Err(reject(C::ReducingOnly, cell.position_lots, t.leaves.0));
            }
            _ => {}
        }
        // Borrowed, not copied: a limit set is 128 bytes.
        let (cell_lim, acct_lim, firm_lim) =
            (self.limits.cell(a, i), &self.limits.accounts[a], &self.limits.firm);
        let gate = self.limits.gate(a, i);
        // The checks of the cell's own limits below run only where one is set: a limit
        // not in force refuses nothing, so passing over them changes no decision.
        let cell_limited = gate.cell_limited;
        let replace = matches!(t.entry, Entry::Replace(..));
        // A replace is held to limits only where it increases the order's exposure; a new
        // or released order must fit the limits in force as a whole.
        let whole = !replace;
        if cell_limited && !replace && cell_lim.get(LimitKind::Restricted) == 1 {
            return Err(reject(C::InstrumentRestricted, t.instrument.0, 0));
        }
        if t.flags.contains(OrderFlags::REDUCE_ONLY) && !reducing {
            return Err(reject(C::ReduceOnlyWouldIncrease, cell.position_lots, t.leaves.0));
        }

        // Per-order size: against the gate first; the levels one by one only for the reject.
        let levels: [&LimitSet; 3] = [cell_lim, acct_lim, firm_lim];
        if t.qty.0 > gate.max_order_qty {
            for set in levels {
                let max = set.get(LimitKind::MaxOrderQty);
                if t.qty.0 > max {
                    return Err(reject(C::QtyExceedsMax, t.qty.0, max));
                }
            }
        }
        let max = cell_lim.get(LimitKind::MaxOrderNotional);
        if cell_limited && notional > bound(max) {
            return Err(reject(C::NotionalExceedsMax, notional, max));
        }
        let order_value_units = order_value(risk_price, t.qty, inst.value_per_notional_unit);
        if order_value_units > bound(gate.max_order_value) {
            for set in [acct_lim, firm_lim] {
                let max = set.get(LimitKind::MaxOrderNotional);
                if order_value_units > bound(max) {
                    return Err(reject(C::NotionalExceedsMax, order_value_units, max));
                }
            }
        }

        // Price collar: the tightest in force, on limit prices only.
        let collar_bps = gate.collar_bps;
        if needs_limit && collar_bps != NO_LIMIT {
            match ctx.reference {
                None if self.no_reference == NoReferenceRule::Reject => {
                    return Err(reject(C::NoReferencePrice, t.price.0, 0));
                }
                None => {}
                Some(r) => {
                    let distance = (i128::from(t.price.0) - i128::from(r.0)).abs();
                    if distance * 10_000 > i128::from(collar_bps) * i128::from(r.0).abs() {
                        return Err(reject(C::PriceOutsideCollar, t.price.0, r.0));
                    }
                }
            }
        }

        // Position, worst case: every working order on this side fills, and this one too.
        let (pos, other, leaves) =
            (i128::from(cell.position_lots), i128::from(other_open), i128::from(t.leaves.0));
        let was = i128::from(cell.open_lots(t.side));
        match t.side {
            _ if !cell_limited => {}
            Side::Buy => {
                let (before, after) = (pos + was, pos + other + leaves);
                let max = cell_lim.get(LimitKind::MaxPositionLong);
                if (whole || after > before) && after > bound(max) {
                    return Err(reject(C::PositionLongExceedsMax, after, max));
                }
            }
            Side::Sell => {
                let (before, after) = (was - pos, other + leaves - pos);
                let max = cell_lim.get(LimitKind::MaxPositionShort);
                if (whole || after > before) && after > bound(max) {
                    return Err(reject(C::PositionShortExceedsMax, after, max));
                }
            }
        }

        // Gross exposure and credit: open orders count at once; a replace counts its delta.
        let vpn = inst.value_per_notional_unit;
        let delta = match t.entry.counted() {
            // A new order's leaves are its quantity: valued above already.
            None => order_value_units,
            Some((p, q)) => order_value(risk_price, t.leaves, vpn) - order_value(p, q, vpn),
        };
        if (whole || delta > 0) && gate.exposure_limited {
            let aggregates =
                [(acct_lim, &self.exposure.accounts[a]), (firm_lim, &self.exposure.firm)];
            for (set, agg) in aggregates {
                let max = set.get(LimitKind::MaxGrossExposure);
                if agg.gross_value + delta > bound(max) {
                    return Err(reject(C::GrossExposureExceedsMax, agg.gross_value + delta, max));
                }
            }
            if t.side == Side::Buy {
                for (set, agg) in aggregates {
                    let max = set.get(LimitKind::MaxCredit);
                    if agg.credit_value + delta > bound(max) {
                        return Err(reject(C::CreditExceedsMax, agg.credit_value + delta, max));
                    }
                }
            }
        }

        if whole && gate.open_orders_limited {
            // Working-order count: a released order is one of them already.
            let this = i64::from(t.entry == Entry::New);
            let counts = [
                (cell_lim, cell.open_orders),
                (acct_lim, self.exposure.accounts[a].open_orders),
                (firm_lim, self.exposure.firm.open_orders),
            ];
            for (set, open) in counts {
                let max = set.get(LimitKind::MaxOpenOrders);
                if i64::from(open) + this > max {
                    return Err(reject(C::OpenOrdersExceedsMax, i64::from(open) + this, max));
                }
            }
        }
        if t.entry == Entry::New {
            // Duplicate order.
            let window_ms = firm_lim.get(LimitKind::DuplicateWindowMs);
            if window_ms != NO_LIMIT && window_ms > 0 {
                let window_ns = window_ms as u64 * 1_000_000;
                if let Some(age_ns) = self.duplicates.find(&self.fingerprint(t), now, window_ns) {
                    return Err(reject(C::DuplicateOrder, age_ns, window_ns));
                }
            }
        }

        // Self-trade prevention, on orders that can execute on arrival.
        let mut stp = StpAction::None;
        if let (OrdType::Limit | OrdType::Market, Some(own)) = (t.ord_type, ctx.opposite_own_best) {
            let crosses = t.ord_type == OrdType::Market
                || match t.side {
                    Side::Buy => t.price >= own.price,
                    Side::Sell => t.price <= own.price,
                };
            if crosses {
                stp = match self.stp {
                    StpMode::Reject => return Err(reject(C::SelfTrade, own.price.0, t.price.0)),
                    StpMode::CancelResting => StpAction::CancelResting(own.order_id),
                    StpMode::CancelAggressing => StpAction::CancelAggressing(own.order_id),
                };
            }
        }

        if t.entry == Entry::New {
            self.duplicates.record(self.fingerprint(t), now);
        }
        Ok(Checked { risk_price, stp, order_value_units })
    }

    fn fingerprint(&self, t: &Terms) -> Fingerprint {
        Fingerprint {
            account: t.account,
            instrument: t.instrument,
            side: t.side,
            price: t.price,
            qty: t.qty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reducing_never_crosses_zero() {
        assert!(reduces(-10, 0, Side::Buy, 10));
        assert!(!reduces(-10, 1, Side::Buy, 10));
        assert!(!reduces(0, 0, Side::Buy, 1));
        assert!(reduces(5, 2, Side::Sell, 3));
        assert!(!reduces(5, 2, Side::Sell, 4));
        assert!(!reduces(-5, 0, Side::Sell, 1));
    }
}
