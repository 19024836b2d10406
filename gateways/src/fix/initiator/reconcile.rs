//! Reconciliation: after every logon, before any new order flows, the initiator asks the
//! venue for the status of every order Keel has working there (OrderStatusRequest, H)
//! and turns the differences between each answer (ExecutionReport, ExecType I) and Keel's
//! view into the venue reports the core would have received, so the core's state
//! matches the venue's.
//!
//! Resent messages come first: the session layer asks for (and the venue resends) what
//! Keel missed before the status answers, which the venue sends after, so fills resent
//! with PossDupFlag are already counted when an answer is compared. What remains is what
//! was truly lost (a venue that reset its sequence numbers, a store lost with a disk).
//!
//! For one order, in this order:
//! 1. OrdStatus Rejected (the venue does not know the order): `VenueReject` if the venue
//!    never acknowledged it (it never arrived), else an unsolicited `VenueCancelAck` (the
//!    venue dropped it). Nothing else follows.
//! 2. Not acknowledged yet, and the venue has it: `VenueAck` with its OrderID.
//! 3. CumQty above Keel's: one `VenueFill` for the difference. Its price makes Keel's
//!    cumulative notional equal AvgPx × CumQty (rounded to the nearest tick; the order's
//!    limit price when AvgPx is absent), its ExecID is a hash of the order and the new
//!    CumQty (top bit set), so the same answer applied twice is refused by the core as a
//!    duplicate fill. CumQty below Keel's cannot be undone and is logged as an error.
//! 4. An outstanding replace: `VenueReplaceAck` when the venue's Price and OrderQty are
//!    the requested ones, else `VenueCancelReject` (reason
//!    [`REQUEST_LOST`](super::reason::REQUEST_LOST)): the request never took effect.
//!    An outstanding cancel on an order still working: `VenueCancelReject` likewise.
//! 5. OrdStatus Canceled or Expired: `VenueCancelAck` (solicited when Keel's cancel was
//!    outstanding). Filled needs nothing more once step 3 brought CumQty level.

use super::dialect::ord_status as os;
use super::ids::fnv1a;
use super::orders::{OrderTracker, Pending, Tracked};
use super::reason;
use super::reports::{ExecReportView, ReportError, note_venue_order_id, price, qty};
use keel_engine::schema::{
    CancelRejectTo, CommandBody, Liquidity, VenueAck, VenueCancelAck, VenueCancelReject, VenueFill,
    VenueReject, VenueReplaceAck,
};
use keel_engine::{Instrument, Price, Qty, TimestampNs, VenueId};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// The ExecID of a fill made up by reconciliation (see the module docs).
pub fn reconciled_exec_id(order: keel_engine::OrderId, cum_qty: Qty) -> u64 {
    let mut key = [0u8; 25];
    key[..9].copy_from_slice(b"reconcile");
    key[9..17].copy_from_slice(&order.0.to_le_bytes());
    key[17..].copy_from_slice(&cum_qty.0.to_le_bytes());
    fnv1a(&key) | 1 << 63
}

/// The price of the missing fills: what makes the cumulative notional AvgPx × CumQty.
fn missing_fill_price(
    inst: &Instrument,
    t: &Tracked,
    avg_px: Option<Decimal>,
    venue_cum: Qty,
    missing: Qty,
) -> Price {
    let Some(avg) = avg_px else { return t.price };
    let Some(avg_ticks) = avg.checked_div(inst.tick_size) else { return t.price };
    let total = avg_ticks.checked_mul(Decimal::from(venue_cum.0));
    let known = Decimal::try_from_i128_with_scale(t.cum_notional, 0).ok();
    match (total, known) {
        (Some(total), Some(known)) => (total - known)
            .checked_div(Decimal::from(missing.0))
            .map(|p| p.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven))
            .and_then(|p| p.to_i64())
            .map_or(t.price, Price),
        _ => t.price,
    }
}

/// Applies one status answer to the tracked order it names (see the module docs);
/// pushes the venue reports to `out`. `inst` is the order's instrument.
pub fn reconcile(
    r: &ExecReportView<'_>,
    venue: VenueId,
    inst: &Instrument,
    tracker: &mut OrderTracker,
    now: TimestampNs,
    out: &mut Vec<CommandBody>,
) -> Result<(), ReportError> {
    let order = r.order;
    let Some(&t) = tracker.get(order) else { return Ok(()) };
    let venue_ts = TimestampNs(r.transact_ns.unwrap_or(now.0));
    if r.ord_status == os::REJECTED {
        tracker.ended(order);
        out.push(if t.acked {
            CommandBody::VenueCancelAck(VenueCancelAck {
                venue,
                order_id: order,
                unsolicited: true,
                venue_ts,
            })
        } else {
            CommandBody::VenueReject(VenueReject {
                venue,
                order_id: order,
                reason: r.ord_rej_reason.unwrap_or(reason::REQUEST_LOST),
                venue_ts,
            })
        });
        return Ok(());
    }
    let venue_order_id = note_venue_order_id(tracker, order, r.venue_order_text);
    if let Some(tr) = tracker.get_mut(order) {
        // The answer names the ClOrdID in force (for a recovered order, possibly one of
        // the earlier run's); later requests must not repeat it.
        tr.version = r.version;
        tr.last_version = tr.last_version.max(r.version);
    }
    if !t.acked && r.ord_status != os::PENDING_NEW {
        if let Some(tr) = tracker.get_mut(order) {
            tr.acked = true;
        }
        out.push(CommandBody::VenueAck(VenueAck {
            venue,
            order_id: order,
            venue_order_id,
            venue_ts,
        }));
    }
    let venue_cum = qty(inst, order, "CumQty", r.cum_qty)?;
    if venue_cum > t.cum_qty {
        let missing = Qty(venue_cum.0 - t.cum_qty.0);
        let px = missing_fill_price(inst, &t, r.avg_px, venue_cum, missing);
        tracing::warn!(%order, keel_cum_lots = t.cum_qty.0, venue_cum_lots = venue_cum.0,
            missing_lots = missing.0, price_ticks = px.0,
            "reconciliation: the venue reports fills Keel never received; applying them");
        out.push(CommandBody::VenueFill(VenueFill {
            venue,
            order_id: order,
            exec_id: reconciled_exec_id(order, venue_cum),
            price: px,
            qty: missing,
            fee: 0,
            liquidity: Liquidity::Maker,
            venue_ts,
        }));
        tracker.filled(order, px, missing);
    } else if venue_cum < t.cum_qty {
        tracing::error!(%order, keel_cum_lots = t.cum_qty.0, venue_cum_lots = venue_cum.0,
            "reconciliation: the venue reports less filled than Keel applied; Keel's fills stand");
    }
    let working = !os::is_terminal(r.ord_status);
    match t.pending {
        Pending::Replace { price: want_px, qty: want_qty, .. } => {
            let px = r.price.map(|p| price(inst, order, "Price", p)).transpose()?;
            let q = r.order_qty.map(|q| qty(inst, order, "OrderQty", q)).transpose()?;
            if px.unwrap_or(t.price) == want_px
                && q.unwrap_or(t.qty) == want_qty
                && (px.is_some() || q.is_some())
            {
                if let Some(tr) = tracker.get_mut(order) {
                    tr.price = want_px;
                    tr.qty = want_qty;
                    tr.pending = Pending::None;
                }
                out.push(CommandBody::VenueReplaceAck(VenueReplaceAck {
                    venue,
                    order_id: order,
                    price: want_px,
                    qty: want_qty,
                    venue_ts,
                }));
                if tracker.get(order).is_some_and(|tr| tr.cum_qty >= tr.qty) {
                    tracker.ended(order);
                }
            } else if working {
                if let Some(tr) = tracker.get_mut(order) {
                    tr.pending = Pending::None;
                }
                out.push(CommandBody::VenueCancelReject(VenueCancelReject {
                    venue,
                    order_id: order,
                    response_to: CancelRejectTo::Replace,
                    reason: reason::REQUEST_LOST,
                    venue_ts,
                }));
            }
        }
        Pending::Cancel { .. } if working => {
            if let Some(tr) = tracker.get_mut(order) {
                tr.pending = Pending::None;
            }
            out.push(CommandBody::VenueCancelReject(VenueCancelReject {
                venue,
                order_id: order,
                response_to: CancelRejectTo::Cancel,
                reason: reason::REQUEST_LOST,
                venue_ts,
            }));
        }
        _ => {}
    }
    if matches!(r.ord_status, os::CANCELED | os::EXPIRED) && tracker.get(order).is_some() {
        let solicited = matches!(t.pending, Pending::Cancel { .. });
        tracker.ended(order);
        out.push(CommandBody::VenueCancelAck(VenueCancelAck {
            venue,
            order_id: order,
            unsolicited: !solicited,
            venue_ts,
        }));
    } else if r.ord_status == os::FILLED && tracker.get(order).is_some() {
        tracing::error!(%order, "reconciliation: the venue reports the order filled but its CumQty \
            does not complete it; Keel keeps it working");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::initiator::orders::WorkingOrder;
    use keel_engine::{InstrumentId, OrdType, OrderId, Side};
    use std::str::FromStr;

    const V: VenueId = VenueId(1);
    const NOW: TimestampNs = TimestampNs(1_000);

    fn inst() -> Instrument {
        Instrument::builder(InstrumentId(0), "X")
            .tick_size(Decimal::from_str("0.5").unwrap())
            .lot_size(Decimal::ONE)
            .build()
            .unwrap()
    }

    fn working(
        acked: bool,
        filled: i64,
        cancel: bool,
        replace: Option<(i64, i64)>,
    ) -> WorkingOrder {
        WorkingOrder {
            id: OrderId(7),
            instrument: InstrumentId(0),
            side: Side::Buy,
            ord_type: OrdType::Limit,
            price: Price(200),
            qty: Qty(10),
            filled: Qty(filled),
            cum_notional: 200 * filled as i128,
            venue_order_id: if acked { 70 } else { 0 },
            acked,
            cancel_pending: cancel,
            replace_pending: replace.map(|(p, q)| (Price(p), Qty(q))),
        }
    }

    fn answer(status: u8, cum: &str, avg: Option<&str>) -> ExecReportView<'static> {
        ExecReportView {
            order: OrderId(7),
            version: 0,
            exec_type: b'I',
            ord_status: status,
            venue_order_text: b"70",
            exec_id_text: b"S1",
            last_px: None,
            last_qty: None,
            price: Some(Decimal::from(100)),
            order_qty: Some(Decimal::from(10)),
            cum_qty: Decimal::from_str(cum).unwrap(),
            leaves_qty: Decimal::ZERO,
            avg_px: avg.map(|a| Decimal::from_str(a).unwrap()),
            ord_rej_reason: None,
            liquidity: None,
            symbol: Some(b"X"),
            transact_ns: None,
            status_req_id: Some(1),
        }
    }

    fn run(w: WorkingOrder, r: ExecReportView<'_>) -> (Vec<CommandBody>, OrderTracker) {
        let mut tracker = OrderTracker::new(8);
        tracker.seed(&w).unwrap();
        let mut out = Vec::new();
        reconcile(&r, V, &inst(), &mut tracker, NOW, &mut out).unwrap();
        (out, tracker)
    }

    #[test]
    fn an_order_the_venue_never_received_is_rejected() {
        let (out, t) = run(working(false, 0, false, None), answer(os::REJECTED, "0", None));
        assert!(matches!(
            out[..],
            [CommandBody::VenueReject(VenueReject { reason: reason::REQUEST_LOST, .. })]
        ));
        assert!(t.is_empty());
        let (out, _) = run(working(true, 0, false, None), answer(os::REJECTED, "0", None));
        assert!(matches!(
            out[..],
            [CommandBody::VenueCancelAck(VenueCancelAck { unsolicited: true, .. })]
        ));
    }

    #[test]
    fn a_lost_ack_and_lost_fills_are_made_up_at_the_average_price() {
        // Keel: not acked, nothing filled. Venue: 6 filled at an average of 101.5 (203 ticks).
        let (out, t) =
            run(working(false, 0, false, None), answer(os::PARTIALLY_FILLED, "6", Some("101.5")));
        match &out[..] {
            [CommandBody::VenueAck(a), CommandBody::VenueFill(f)] => {
                assert_eq!(a.venue_order_id, 70);
                assert_eq!((f.qty, f.price), (Qty(6), Price(203)));
                assert_eq!(f.exec_id, reconciled_exec_id(OrderId(7), Qty(6)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.get(OrderId(7)).unwrap().cum_qty, Qty(6));
        // Keel had 2 at 200 ticks; venue has 6 at 202 average: the 4 missing are at 203.
        let (out, _) =
            run(working(true, 2, false, None), answer(os::PARTIALLY_FILLED, "6", Some("101")));
        assert!(matches!(
            out[..],
            [CommandBody::VenueFill(VenueFill { qty: Qty(4), price: Price(203), .. })]
        ));
    }

    #[test]
    fn a_filled_order_completes_and_leaves() {
        let (out, t) = run(working(true, 4, false, None), answer(os::FILLED, "10", Some("100")));
        assert!(matches!(
            out[..],
            [CommandBody::VenueFill(VenueFill { qty: Qty(6), price: Price(200), .. })]
        ));
        assert!(t.is_empty());
    }

    #[test]
    fn outstanding_requests_are_settled() {
        // A cancel the venue applied.
        let (out, t) = run(working(true, 0, true, None), answer(os::CANCELED, "0", None));
        assert!(matches!(
            out[..],
            [CommandBody::VenueCancelAck(VenueCancelAck { unsolicited: false, .. })]
        ));
        assert!(t.is_empty());
        // A cancel the venue never saw.
        let (out, t) = run(working(true, 0, true, None), answer(os::NEW, "0", None));
        assert!(matches!(
            out[..],
            [CommandBody::VenueCancelReject(VenueCancelReject {
                response_to: CancelRejectTo::Cancel,
                ..
            })]
        ));
        assert_eq!(t.get(OrderId(7)).unwrap().pending, Pending::None);
        // A replace to 100.0 x 10 (200 ticks) that the venue applied...
        let (out, _) = run(working(true, 0, false, Some((200, 10))), answer(os::NEW, "0", None));
        assert!(matches!(
            out[..],
            [CommandBody::VenueReplaceAck(VenueReplaceAck { price: Price(200), qty: Qty(10), .. })]
        ));
        // ... and one to 90 that it did not.
        let (out, _) = run(working(true, 0, false, Some((180, 10))), answer(os::NEW, "0", None));
        assert!(matches!(
            out[..],
            [CommandBody::VenueCancelReject(VenueCancelReject {
                response_to: CancelRejectTo::Replace,
                ..
            })]
        ));
        // Unsolicited cancel at the venue.
        let (out, _) = run(working(true, 3, false, None), answer(os::CANCELED, "3", Some("100")));
        assert!(matches!(
            out[..],
            [CommandBody::VenueCancelAck(VenueCancelAck { unsolicited: true, .. })]
        ));
    }

    #[test]
    fn a_consistent_order_needs_nothing() {
        let (out, t) =
            run(working(true, 3, false, None), answer(os::PARTIALLY_FILLED, "3", Some("100")));
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(t.len(), 1);
    }
}
