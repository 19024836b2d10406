//! The order state machine and table: one test per venue race, and a property test that
//! drives random event streams against an independently written reference model.

use keel_engine::orders::{
    Order, OrderEvent, OrderFilter, OrderState, OrderTable, OrderTableConfig, OrderTerms,
    ReplaceOutcome,
};
use keel_engine::schema::{
    Liquidity, NewOrder, OrderFlags, RejectCode, RejectInfo, ReplaceOrder, Route, VenueFill,
    VenueReplaceAck,
};
use keel_engine::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};
use proptest::prelude::*;

const VENUE: VenueId = VenueId(3);
const SESSION: SessionId = SessionId(7);
const T: TimestampNs = TimestampNs(1);

fn cl(n: u64) -> ClOrdId {
    ClOrdId::from_u64(n)
}

fn new_order(cl_ord_id: ClOrdId, qty: i64, ord_type: OrdType) -> NewOrder {
    NewOrder {
        cl_ord_id,
        account: AccountId(1),
        instrument: InstrumentId(2),
        route: Route::Venue(VENUE),
        side: Side::Sell,
        ord_type,
        tif: TimeInForce::Gtc,
        flags: OrderFlags::NONE,
        price: Price(100),
        stop_price: Price(95),
        trail_ticks: 0,
        qty: Qty(qty),
        display_qty: Qty(0),
        expire_at: TimestampNs(0),
    }
}

fn order(id: u64, cl_n: u64, qty: i64) -> Order {
    let terms = OrderTerms::from_new(
        OrderId(id),
        SESSION,
        VENUE,
        &new_order(cl(cl_n), qty, OrdType::Limit),
    );
    Order::new(terms, T)
}

fn fill(id: u64, exec_id: u64, qty: i64) -> VenueFill {
    VenueFill {
        venue: VENUE,
        order_id: OrderId(id),
        exec_id,
        price: Price(100),
        qty: Qty(qty),
        fee: 0,
        liquidity: Liquidity::Maker,
        venue_ts: T,
    }
}

fn replace(new_cl: u64, orig_cl: u64, qty: i64) -> ReplaceOrder {
    ReplaceOrder {
        cl_ord_id: cl(new_cl),
        orig_cl_ord_id: cl(orig_cl),
        account: AccountId(1),
        price: Price(101),
        stop_price: Price(0),
        qty: Qty(qty),
        display_qty: Qty(0),
    }
}

fn acked(qty: i64) -> OrderTable {
    let mut t = OrderTable::with_capacity(4);
    t.insert(order(1, 1, qty)).unwrap();
    t.get_mut(OrderId(1)).unwrap().apply_venue_ack(77, T).unwrap();
    t
}

#[test]
fn fill_after_cancel_request_keeps_pending_cancel_then_fills() {
    let mut t = acked(10);
    t.get_mut(OrderId(1)).unwrap().request_cancel(T).unwrap();
    let out = t.apply_fill(&fill(1, 1, 4), T).unwrap();
    assert_eq!((out.state, out.leaves_qty), (OrderState::PendingCancel, Qty(6)));
    let out = t.apply_fill(&fill(1, 2, 6), T).unwrap();
    assert_eq!((out.state, out.leaves_qty), (OrderState::Filled, Qty(0)));
    // The cancel ack for the already filled order is refused, the order stays Filled.
    let err = t.get_mut(OrderId(1)).unwrap().apply_cancel_ack(false, T).unwrap_err();
    assert_eq!(err.code, RejectCode::IllegalTransition);
    assert_eq!(t.get(OrderId(1)).unwrap().state(), OrderState::Filled);
}

#[test]
fn cancel_reject_restores_new() {
    let mut t = acked(10);
    let mut o = t.get_mut(OrderId(1)).unwrap();
    o.request_cancel(T).unwrap();
    assert_eq!(o.apply_cancel_reject(T).unwrap(), OrderState::New);
}

#[test]
fn cancel_reject_restores_partially_filled() {
    let mut t = acked(10);
    t.apply_fill(&fill(1, 1, 3), T).unwrap();
    t.get_mut(OrderId(1)).unwrap().request_cancel(T).unwrap();
    assert_eq!(
        t.get_mut(OrderId(1)).unwrap().apply_cancel_reject(T),
        Ok(OrderState::PartiallyFilled)
    );
    // A fill while pending moves the restore point from New to PartiallyFilled.
    let mut t = acked(10);
    t.get_mut(OrderId(1)).unwrap().request_cancel(T).unwrap();
    t.apply_fill(&fill(1, 1, 3), T).unwrap();
    assert_eq!(
        t.get_mut(OrderId(1)).unwrap().apply_cancel_reject(T),
        Ok(OrderState::PartiallyFilled)
    );
}

#[test]
fn late_ack_while_pending_cancel() {
    let mut t = OrderTable::with_capacity(4);
    t.insert(order(1, 1, 10)).unwrap();
    let mut o = t.get_mut(OrderId(1)).unwrap();
    o.request_cancel(T).unwrap();
    assert_eq!(o.apply_venue_ack(77, T), Ok(OrderState::PendingCancel));
    assert_eq!((o.prior(), o.venue_order_id()), (OrderState::New, 77));
    // The refusal now restores New (acked), not PendingNew.
    assert_eq!(o.apply_cancel_reject(T), Ok(OrderState::New));
}

#[test]
fn fill_before_ack_implies_ack_and_late_ack_is_tolerated() {
    let mut t = OrderTable::with_capacity(4);
    t.insert(order(1, 1, 10)).unwrap();
    assert_eq!(t.apply_fill(&fill(1, 1, 4), T).unwrap().state, OrderState::PartiallyFilled);
    let mut o = t.get_mut(OrderId(1)).unwrap();
    assert_eq!(o.apply_venue_ack(77, T), Ok(OrderState::PartiallyFilled));
    let mut t = OrderTable::with_capacity(4);
    t.insert(order(1, 1, 10)).unwrap();
    assert_eq!(t.apply_fill(&fill(1, 1, 10), T).unwrap().state, OrderState::Filled);
    assert_eq!(t.get_mut(OrderId(1)).unwrap().apply_venue_ack(77, T), Ok(OrderState::Filled));
}

#[test]
fn overfill_refused_with_numbers() {
    let mut t = acked(10);
    t.apply_fill(&fill(1, 1, 6), T).unwrap();
    let err = t.apply_fill(&fill(1, 2, 5), T).unwrap_err();
    assert_eq!(err, RejectInfo::new(RejectCode::VenueOverfill, 11, 10));
    assert_eq!(err.to_string(), "VENUE_OVERFILL: filled=11, qty=10");
    let o = t.get(OrderId(1)).unwrap();
    assert_eq!((o.filled(), o.state()), (Qty(6), OrderState::PartiallyFilled));
}

#[test]
fn duplicate_exec_id_refused_even_after_removal() {
    let mut t = acked(10);
    t.apply_fill(&fill(1, 42, 4), T).unwrap();
    let err = t.apply_fill(&fill(1, 42, 4), T).unwrap_err();
    assert_eq!(err, RejectInfo::new(RejectCode::VenueDuplicateFill, 42, 0));
    t.apply_fill(&fill(1, 43, 6), T).unwrap();
    assert!(t.remove(OrderId(1)).is_some());
    assert_eq!(t.apply_fill(&fill(1, 43, 6), T).unwrap_err().code, RejectCode::VenueDuplicateFill);
    // The same exec id from another venue is a different execution.
    assert_eq!(
        t.apply_fill(&VenueFill { venue: VenueId(9), ..fill(1, 42, 1) }, T).unwrap_err().code,
        RejectCode::VenueUnknownOrder
    );
}

#[test]
fn duplicate_cl_ord_id_refused_live_and_recently_finished() {
    let config = OrderTableConfig { orders_max: 4, cl_ord_id_history: 2, exec_id_history: 4 };
    let mut t = OrderTable::new(config);
    t.insert(order(1, 100, 10)).unwrap();
    let dup = RejectInfo::bare(RejectCode::DuplicateClOrdId);
    assert_eq!(t.insert(order(2, 100, 10)).unwrap_err(), dup);
    // Another session may use the same id.
    let other = OrderTerms::from_new(
        OrderId(2),
        SessionId(8),
        VENUE,
        &new_order(cl(100), 5, OrdType::Limit),
    );
    t.insert(Order::new(other, T)).unwrap();
    // Finished and removed: still a duplicate while in the bounded history.
    t.get_mut(OrderId(1)).unwrap().request_cancel(T).unwrap();
    t.get_mut(OrderId(1)).unwrap().apply_cancel_ack(false, T).unwrap();
    t.remove(OrderId(1)).unwrap();
    assert_eq!(t.insert(order(3, 100, 10)).unwrap_err(), dup);
    // Two more retirements push it out of the history of 2.
    for (id, n) in [(3, 101), (4, 102)] {
        t.insert(order(id, n, 1)).unwrap();
        t.get_mut(OrderId(id)).unwrap().expire(T).unwrap();
        t.remove(OrderId(id)).unwrap();
    }
    assert_eq!(t.check_cl_ord_id(SESSION, cl(101)), Err(dup));
    t.insert(order(5, 100, 10)).unwrap();
    t.check_invariants().unwrap();
}

#[test]
fn capacity_exhausted_is_a_clean_error_and_slots_are_reused() {
    let mut t = OrderTable::with_capacity(2);
    t.insert(order(1, 1, 1)).unwrap();
    t.insert(order(2, 2, 1)).unwrap();
    let err = t.insert(order(3, 3, 1)).unwrap_err();
    assert_eq!(err, RejectInfo::new(RejectCode::OrderCapacity, 2, 2));
    assert_eq!(t.len(), 2);
    assert!(t.remove(OrderId(1)).is_none(), "working orders are not removed");
    t.apply_fill(&fill(1, 1, 1), T).unwrap();
    t.remove(OrderId(1)).unwrap();
    t.insert(order(3, 3, 1)).unwrap();
    t.check_invariants().unwrap();
}

#[test]
fn replace_below_filled_refused_and_replace_flow() {
    let mut t = acked(10);
    t.apply_fill(&fill(1, 1, 4), T).unwrap();
    let err = t.request_replace(OrderId(1), &replace(2, 1, 4), T).unwrap_err();
    assert_eq!(err, RejectInfo::new(RejectCode::ReplaceBelowFilled, 4, 4));
    assert_eq!(t.request_replace(OrderId(1), &replace(2, 1, 8), T), Ok(ReplaceOutcome::Pending));
    // Both ids address the order while the replace is pending; a second request waits.
    assert_eq!(t.find_by_cl_ord_id(SESSION, cl(2)).unwrap().id(), OrderId(1));
    let err = t.get_mut(OrderId(1)).unwrap().request_cancel(T).unwrap_err();
    assert_eq!(err.code, RejectCode::RequestPending);
    // A fill while PendingReplace, then the ack: back to PartiallyFilled with new terms.
    assert_eq!(t.apply_fill(&fill(1, 2, 1), T).unwrap().state, OrderState::PendingReplace);
    let ack = VenueReplaceAck {
        venue: VENUE,
        order_id: OrderId(1),
        price: Price(101),
        qty: Qty(8),
        venue_ts: T,
    };
    let o = t.apply_replace_ack(&ack, T).unwrap();
    assert_eq!(
        (o.state(), o.terms().qty, o.leaves()),
        (OrderState::PartiallyFilled, Qty(8), Qty(3))
    );
    assert!(t.find_by_cl_ord_id(SESSION, cl(1)).is_none());
    assert_eq!(t.check_cl_ord_id(SESSION, cl(1)).unwrap_err().code, RejectCode::DuplicateClOrdId);
    // Refused replace: prior state and terms kept, refused id retired.
    t.request_replace(OrderId(1), &replace(3, 2, 9), T).unwrap();
    let o = t.apply_replace_reject(OrderId(1), T).unwrap();
    assert_eq!(
        (o.state(), o.terms().qty, o.terms().cl_ord_id),
        (OrderState::PartiallyFilled, Qty(8), cl(2))
    );
    assert!(t.find_by_cl_ord_id(SESSION, cl(3)).is_none());
    t.check_invariants().unwrap();
}

#[test]
fn unsolicited_cancel_while_pending_replace() {
    let mut t = acked(10);
    t.request_replace(OrderId(1), &replace(2, 1, 8), T).unwrap();
    let mut o = t.get_mut(OrderId(1)).unwrap();
    assert!(o.apply_cancel_ack(false, T).is_err(), "solicited ack needs a cancel request");
    assert_eq!(o.apply_cancel_ack(true, T), Ok(OrderState::Cancelled));
    drop(o);
    t.remove(OrderId(1)).unwrap();
    assert_eq!(t.check_cl_ord_id(SESSION, cl(2)).unwrap_err().code, RejectCode::DuplicateClOrdId);
    t.check_invariants().unwrap();
}

#[test]
fn mass_cancel_in_id_order_cancels_held_at_once() {
    let mut t = OrderTable::with_capacity(8);
    // Inserted out of id order: iteration is still by id.
    for (id, ord_type) in [(3, OrdType::Limit), (1, OrdType::Stop), (2, OrdType::Limit)] {
        let terms =
            OrderTerms::from_new(OrderId(id), SESSION, VENUE, &new_order(cl(id), 5, ord_type));
        t.insert(Order::new(terms, T)).unwrap();
    }
    let ids: Vec<u64> = t.iter_working(OrderFilter::ALL).map(|o| o.id().0).collect();
    assert_eq!(ids, [1, 2, 3]);
    let mut seen = Vec::new();
    let n = t.for_each_working_mut(OrderFilter::ALL, |o| {
        seen.push((o.id().0, o.request_cancel(T).unwrap()));
    });
    assert_eq!(n, 3);
    assert_eq!(
        seen,
        [
            (1, OrderState::Cancelled),
            (2, OrderState::PendingCancel),
            (3, OrderState::PendingCancel)
        ]
    );
    assert!(t.get(OrderId(1)).is_none(), "cancelled held order removed");
    let filter = OrderFilter { instrument: Some(InstrumentId(99)), ..OrderFilter::ALL };
    assert_eq!(t.iter_working(filter).count(), 0);
    t.check_invariants().unwrap();
}

#[test]
fn digest_ignores_slot_placement() {
    let digest = |t: &OrderTable| {
        let mut bytes = Vec::new();
        t.digest_into(&mut |b: &[u8]| bytes.extend_from_slice(b));
        bytes
    };
    let mut a = OrderTable::with_capacity(4);
    let mut b = OrderTable::with_capacity(4);
    a.insert(order(1, 1, 5)).unwrap();
    a.insert(order(2, 2, 5)).unwrap();
    // b gets a placeholder order first, so orders land in different slots.
    b.insert(order(9, 9, 5)).unwrap();
    b.insert(order(2, 2, 5)).unwrap();
    b.insert(order(1, 1, 5)).unwrap();
    assert_ne!(digest(&a), digest(&b));
    b.get_mut(OrderId(9)).unwrap().expire(T).unwrap();
    b.remove(OrderId(9)).unwrap();
    a.insert(order(9, 9, 5)).unwrap();
    a.get_mut(OrderId(9)).unwrap().expire(T).unwrap();
    a.remove(OrderId(9)).unwrap();
    assert_eq!(digest(&a), digest(&b));
}

// ---- Property test -------------------------------------------------------------------

/// The reference model: written as a list of allowed moves, independently of the
/// engine's `match`. Returns (state, prior) after the event, or None when illegal.
fn reference(
    state: OrderState,
    prior: OrderState,
    ev: OrderEvent,
) -> Option<(OrderState, OrderState)> {
    use OrderEvent as E;
    use OrderState as S;
    let working_at_venue =
        [S::PendingNew, S::New, S::PartiallyFilled, S::PendingCancel, S::PendingReplace];
    let settled = |s| Some((s, s));
    if state.is_terminal() {
        let tolerated = matches!(
            (state, ev),
            (S::Filled, E::VenueAck)
                | (S::Cancelled, E::CancelAck { .. })
                | (S::Rejected, E::VenueReject)
                | (S::Expired, E::Expire)
        );
        return tolerated.then_some((state, prior));
    }
    match ev {
        E::Submit | E::Hold => None,
        E::Expire => settled(S::Expired),
        E::Trigger => (state == S::Held).then_some((S::PendingNew, S::PendingNew)),
        E::VenueAck => match state {
            S::Held => None,
            S::PendingNew => settled(S::New),
            S::PendingCancel if prior == S::PendingNew => Some((state, S::New)),
            _ => Some((state, prior)),
        },
        E::VenueReject => {
            let before_ack =
                state == S::PendingNew || (state == S::PendingCancel && prior == S::PendingNew);
            before_ack.then_some((S::Rejected, S::Rejected))
        }
        E::Fill { full } => {
            if !working_at_venue.contains(&state) {
                None
            } else if full {
                settled(S::Filled)
            } else if state.is_pending_request() {
                Some((state, S::PartiallyFilled))
            } else {
                settled(S::PartiallyFilled)
            }
        }
        E::CancelRequest => match state {
            S::Held => settled(S::Cancelled),
            S::PendingNew | S::New | S::PartiallyFilled => Some((S::PendingCancel, state)),
            _ => None,
        },
        E::CancelAck { unsolicited } => {
            let ok =
                state == S::PendingCancel || (unsolicited && working_at_venue.contains(&state));
            ok.then_some((S::Cancelled, S::Cancelled))
        }
        E::CancelReject => (state == S::PendingCancel).then_some((prior, prior)),
        E::ReplaceRequest => match state {
            S::Held => Some((S::Held, S::Held)),
            S::New | S::PartiallyFilled => Some((S::PendingReplace, state)),
            _ => None,
        },
        E::ReplaceAck { done } => (state == S::PendingReplace).then_some(if done {
            (S::Filled, S::Filled)
        } else {
            (prior, prior)
        }),
        E::ReplaceReject => (state == S::PendingReplace).then_some((prior, prior)),
    }
}

#[derive(Clone, Debug)]
enum Op {
    New { cl: u64, qty: i64, held: bool },
    Trigger(usize),
    Ack(usize),
    Reject(usize),
    Fill { target: usize, exec_id: u64, qty: i64 },
    Cancel(usize),
    CancelAck { target: usize, unsolicited: bool },
    CancelReject(usize),
    Replace { target: usize, cl: u64, qty: i64 },
    ReplaceAck { target: usize, qty: i64 },
    ReplaceReject(usize),
    Expire(usize),
    Remove(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let t = 0usize..8;
    prop_oneof![
        3 => (0u64..30, 1i64..20, any::<bool>()).prop_map(|(cl, qty, held)| Op::New { cl, qty, held }),
        1 => t.clone().prop_map(Op::Trigger),
        2 => t.clone().prop_map(Op::Ack),
        1 => t.clone().prop_map(Op::Reject),
        4 => (t.clone(), 0u64..40, 1i64..12).prop_map(|(target, exec_id, qty)| Op::Fill { target, exec_id, qty }),
        2 => t.clone().prop_map(Op::Cancel),
        1 => (t.clone(), any::<bool>()).prop_map(|(target, unsolicited)| Op::CancelAck { target, unsolicited }),
        2 => t.clone().prop_map(Op::CancelReject),
        2 => (t.clone(), 0u64..30, 1i64..25).prop_map(|(target, cl, qty)| Op::Replace { target, cl, qty }),
        1 => (t.clone(), 1i64..25).prop_map(|(target, qty)| Op::ReplaceAck { target, qty }),
        1 => t.clone().prop_map(Op::ReplaceReject),
        1 => t.clone().prop_map(Op::Expire),
        2 => t.prop_map(Op::Remove),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn random_streams_follow_the_reference_model(ops in proptest::collection::vec(op(), 1..200)) {
        let config = OrderTableConfig { orders_max: 6, cl_ord_id_history: 5, exec_id_history: 10 };
        let mut table = OrderTable::new(config);
        let mut next_id = 1u64;
        for op in ops {
            // The order an op targets: the k-th live order by id.
            let ids: Vec<OrderId> = {
                let mut v = Vec::new();
                let mut id = 1;
                while id < next_id { if table.get(OrderId(id)).is_some() { v.push(OrderId(id)); } id += 1; }
                v
            };
            let pick = |k: usize| ids.get(k % ids.len().max(1)).copied();
            let before: Option<(OrderId, OrderState, OrderState, Qty)> = match &op {
                Op::New { .. } => None,
                Op::Trigger(k) | Op::Ack(k) | Op::Reject(k) | Op::Cancel(k) | Op::CancelReject(k)
                | Op::ReplaceReject(k) | Op::Expire(k) | Op::Remove(k)
                | Op::Fill { target: k, .. } | Op::CancelAck { target: k, .. }
                | Op::Replace { target: k, .. } | Op::ReplaceAck { target: k, .. } => pick(*k)
                    .map(|id| { let o = table.get(id).unwrap(); (id, o.state(), o.prior(), o.filled()) }),
            };
            // Apply; `event` is the state-machine event the op maps to (when it reached it).
            let (event, result): (Option<OrderEvent>, Result<(), RejectInfo>) = match (op.clone(), before) {
                (Op::New { cl: c, qty, held }, _) => {
                    let ot = if held { OrdType::StopLimit } else { OrdType::Limit };
                    let terms = OrderTerms::from_new(OrderId(next_id), SESSION, VENUE, &new_order(cl(c), qty, ot));
                    let r = table.insert(Order::new(terms, T)).map(|_| ());
                    if r.is_ok() { next_id += 1; }
                    (None, r)
                }
                (_, None) => continue,
                (Op::Remove(_), Some((id, state, ..))) => {
                    let removed = table.remove(id);
                    prop_assert_eq!(removed.is_some(), state.is_terminal());
                    (None, Ok(()))
                }
                (Op::Fill { exec_id, qty, .. }, Some((id, _, _, filled))) => {
                    let o = table.get(id).unwrap();
                    let full = filled.lots() + qty == o.terms().qty.lots();
                    let over = filled.lots() + qty > o.terms().qty.lots();
                    let r = table.apply_fill(&fill(id.0, exec_id, qty), T).map(|_| ());
                    // Duplicate exec ids are checked first (see the table docs).
                    if let Err(e) = r { if e.code == RejectCode::VenueDuplicateFill { continue; } }
                    if over { prop_assert_eq!(r.map_err(|e| e.code), Err(RejectCode::VenueOverfill)); continue; }
                    (Some(OrderEvent::Fill { full }), r)
                }
                (Op::Replace { cl: c, qty, .. }, Some((id, state, _, filled))) => {
                    let r = table.request_replace(id, &replace(c, 0, qty), T).map(|_| ());
                    match r {
                        Err(e) if e.code == RejectCode::DuplicateClOrdId => continue,
                        Err(e) if qty <= filled.lots() && !state.is_terminal() && !state.is_pending_request() => {
                            prop_assert_eq!(e.code, RejectCode::ReplaceBelowFilled); continue;
                        }
                        _ => (Some(OrderEvent::ReplaceRequest), r),
                    }
                }
                (Op::ReplaceAck { qty, .. }, Some((id, state, _, filled))) => {
                    let ack = VenueReplaceAck { venue: VENUE, order_id: id, price: Price(1), qty: Qty(qty), venue_ts: T };
                    let r = table.apply_replace_ack(&ack, T).map(|_| ());
                    if state == OrderState::PendingReplace && qty < filled.lots() {
                        prop_assert_eq!(r.map_err(|e| e.code), Err(RejectCode::VenueOverfill)); continue;
                    }
                    (Some(OrderEvent::ReplaceAck { done: qty == filled.lots() }), r)
                }
                (Op::ReplaceReject(_), Some((id, ..))) => {
                    (Some(OrderEvent::ReplaceReject), table.apply_replace_reject(id, T).map(|_| ()))
                }
                (op, Some((id, ..))) => {
                    let mut o = table.get_mut(id).unwrap();
                    let (ev, r) = match op {
                        Op::Trigger(_) => (OrderEvent::Trigger, o.trigger(T)),
                        Op::Ack(_) => (OrderEvent::VenueAck, o.apply_venue_ack(5, T)),
                        Op::Reject(_) => (OrderEvent::VenueReject, o.apply_venue_reject(T)),
                        Op::Cancel(_) => (OrderEvent::CancelRequest, o.request_cancel(T)),
                        Op::CancelAck { unsolicited, .. } => (OrderEvent::CancelAck { unsolicited }, o.apply_cancel_ack(unsolicited, T)),
                        Op::CancelReject(_) => (OrderEvent::CancelReject, o.apply_cancel_reject(T)),
                        Op::Expire(_) => (OrderEvent::Expire, o.expire(T)),
                        _ => unreachable!(),
                    };
                    (Some(ev), r.map(|_| ()))
                }
            };
            if let (Some(ev), Some((id, state, prior, filled))) = (event, before) {
                let expected = reference(state, prior, ev);
                let after = table.get(id).unwrap();
                match expected {
                    Some((s, p)) => {
                        prop_assert!(result.is_ok(), "{:?} in {:?}/{:?} refused: {:?}", ev, state, prior, result);
                        prop_assert_eq!((after.state(), after.prior()), (s, p), "{:?} in {:?}/{:?}", ev, state, prior);
                    }
                    None => {
                        prop_assert!(result.is_err(), "{:?} in {:?}/{:?} accepted", ev, state, prior);
                        prop_assert_eq!((after.state(), after.prior(), after.filled()), (state, prior, filled));
                    }
                }
                if state.is_terminal() {
                    prop_assert_eq!(after.state(), state, "terminal state changed");
                }
                if ev == OrderEvent::CancelReject && result.is_ok() {
                    prop_assert_eq!(after.state(), prior, "cancel reject must restore the prior state");
                }
            }
            prop_assert_eq!(table.check_invariants(), Ok(()));
            for o in table.iter_working(OrderFilter::ALL) {
                prop_assert!(o.filled() <= o.terms().qty);
            }
        }
    }
}
