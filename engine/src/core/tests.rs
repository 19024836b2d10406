//! Scenario tests of the core: each order flow end to end, each race, each admin action.
//! The shared fixture lives in `testkit` so integration tests and benches build the same
//! core.

use super::testkit::*;
use super::*;
use crate::schema::*;
use crate::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};

fn exec(o: &OutputBody) -> &ExecReport {
    match o {
        OutputBody::ExecReport(r) => r,
        other => panic!("expected an execution report, got {other:?}"),
    }
}

fn reject_of(outs: &[OutputBody]) -> RejectInfo {
    outs.iter()
        .find_map(|o| match o {
            OutputBody::ExecReport(r) => r.reject,
            OutputBody::CancelReject(r) => Some(r.reject),
            OutputBody::AdminAck(a) => a.reject,
            OutputBody::Anomaly(a) => Some(a.reject),
            OutputBody::MassCancelReport(m) => m.reject,
            _ => None,
        })
        .unwrap_or_else(|| panic!("no reject in {outs:?}"))
}

#[test]
fn limit_order_lifecycle_ack_partial_and_full_fill() {
    let mut h = Harness::with_market();
    let outs = h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 101, 10)));
    assert!(matches!(
        outs[0],
        OutputBody::VenueNewOrder(VenueNewOrder {
            order_id: OrderId(1),
            venue: ALT,
            qty: Qty(10),
            price: Price(101),
            ..
        })
    ));
    assert_eq!(exec(&outs[1]).ord_status, OrdStatus::PendingNew);

    let outs = h.send(VENUE, ack(1, 900));
    assert_eq!(
        (exec(&outs[0]).exec_type, exec(&outs[0]).ord_status),
        (ExecType::New, OrdStatus::New)
    );

    let outs = h.send(VENUE, fill(1, 1, 101, 4));
    let r = exec(&outs[0]);
    assert_eq!((r.exec_type, r.ord_status), (ExecType::Trade, OrdStatus::PartiallyFilled));
    assert_eq!(
        (r.last_qty, r.cum_qty, r.leaves_qty, r.cum_notional),
        (Qty(4), Qty(4), Qty(6), 404)
    );

    let outs = h.send(VENUE, fill(1, 2, 100, 6));
    let r = exec(&outs[0]);
    assert_eq!(
        (r.ord_status, r.cum_qty, r.leaves_qty, r.cum_notional),
        (OrdStatus::Filled, Qty(10), Qty(0), 1004)
    );
    assert!(h.core.orders().is_empty(), "a filled order leaves the table");
    let pos = h.core.positions().position(ACCOUNT, BTC).unwrap();
    assert_eq!(pos.net_qty(), Qty(10));
    assert_eq!(h.core.counters().fills, 2);
}

#[test]
fn cancel_reject_restores_the_prior_state_then_cancel_succeeds() {
    let mut h = Harness::with_market();
    h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 101, 10)));
    h.send(VENUE, ack(1, 900));
    let outs = h.send(CLIENT, cancel("C1", "A1"));
    assert!(matches!(
        outs[0],
        OutputBody::VenueCancel(VenueCancel { order_id: OrderId(1), venue_order_id: 900, .. })
    ));
    assert_eq!(exec(&outs[1]).ord_status, OrdStatus::PendingCancel);
    assert_eq!(exec(&outs[1]).cl_ord_id, cl("C1"));

    let outs = h.send(
        VENUE,
        CommandBody::VenueCancelReject(VenueCancelReject {
            venue: ALT,
            order_id: OrderId(1),
            response_to: CancelRejectTo::Cancel,
            reason: 1,
            venue_ts: TimestampNs(0),
        }),
    );
    let OutputBody::CancelReject(cr) = outs[0] else { panic!("{outs:?}") };
    assert_eq!((cr.ord_status, cr.reject.code), (OrdStatus::New, RejectCode::VenueCancelRejected));

    // A fill after the cancel request is still applied.
    h.send(CLIENT, cancel("C2", "A1"));
    let outs = h.send(VENUE, fill(1, 7, 101, 3));
    assert_eq!(exec(&outs[0]).ord_status, OrdStatus::PendingCancel);
    let outs = h.send(VENUE, cancel_ack(1, false));
    let r = exec(&outs[0]);
    assert_eq!((r.ord_status, r.cum_qty, r.leaves_qty), (OrdStatus::Canceled, Qty(3), Qty(0)));
    assert!(h.core.orders().is_empty());
    assert_eq!(h.core.risk().cell_exposure(ACCOUNT, BTC).unwrap().open_lots(Side::Buy), 0);
}

#[test]
fn replace_goes_pending_then_takes_the_new_terms() {
    let mut h = Harness::with_market();
    h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 101, 10)));
    h.send(VENUE, ack(1, 900));
    let outs = h.send(CLIENT, replace("A2", "A1", 100, 20));
    assert!(matches!(
        outs[0],
        OutputBody::VenueReplace(VenueReplace { price: Price(100), qty: Qty(20), .. })
    ));
    assert_eq!(exec(&outs[1]).exec_type, ExecType::PendingReplace);
    let outs = h.send(
        VENUE,
        CommandBody::VenueReplaceAck(VenueReplaceAck {
            venue: ALT,
            order_id: OrderId(1),
            price: Price(100),
            qty: Qty(20),
            venue_ts: TimestampNs(0),
        }),
    );
    let r = exec(&outs[0]);
    assert_eq!(
        (r.exec_type, r.cl_ord_id, r.orig_cl_ord_id),
        (ExecType::Replaced, cl("A2"), Some(cl("A1")))
    );
    assert_eq!((r.price, r.qty, r.ord_status), (Price(100), Qty(20), OrdStatus::New));
    assert_eq!(h.core.risk().cell_exposure(ACCOUNT, BTC).unwrap().open_lots(Side::Buy), 20);
    // The order now answers to its new id only.
    assert_eq!(reject_of(&h.send(CLIENT, cancel("C1", "A1"))).code, RejectCode::UnknownOrder);
    assert!(matches!(h.send(CLIENT, cancel("C2", "A2"))[0], OutputBody::VenueCancel(_)));
}

#[test]
fn risk_reject_carries_its_code_and_numbers() {
    let mut h = Harness::with_market();
    let ack = h.send(
        ADMIN,
        CommandBody::SetLimit(SetLimit {
            scope: LimitScope::Account(ACCOUNT),
            kind: LimitKind::MaxOrderQty,
            value: 5,
        }),
    );
    assert!(matches!(ack[0], OutputBody::AdminAck(AdminAck { reject: None, .. })));
    let outs = h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 101, 10)));
    assert_eq!(outs.len(), 1, "a rejected order sends nothing to a venue");
    assert_eq!(reject_of(&outs), RejectInfo::new(RejectCode::QtyExceedsMax, 10, 5));
    assert_eq!(reject_of(&outs).to_string(), "QTY_EXCEEDS_MAX: qty=10, max=5");
    assert_eq!(h.core.counters().rejects_by_code[RejectCode::QtyExceedsMax as usize], 1);
}

#[test]
fn order_entry_validation_rejects_with_codes() {
    let mut h = Harness::with_market();
    // Not logged on.
    let outs = h.send(SessionId(9), CommandBody::NewOrder(limit("A1", Side::Buy, 101, 1)));
    assert_eq!(reject_of(&outs).code, RejectCode::UnknownAccount);
    // Unknown instrument.
    let o = NewOrder { instrument: InstrumentId(7), ..limit("A2", Side::Buy, 101, 1) };
    assert_eq!(
        reject_of(&h.send(CLIENT, CommandBody::NewOrder(o))),
        RejectInfo::new(RejectCode::UnknownInstrument, 7, 0)
    );
    // Venue that does not list the instrument.
    let o =
        NewOrder { instrument: ETH, route: Route::Venue(ALT), ..limit("A3", Side::Buy, 101, 1) };
    assert_eq!(reject_of(&h.send(CLIENT, CommandBody::NewOrder(o))).code, RejectCode::UnknownVenue);
    // Post-only IOC is contradictory.
    let o = NewOrder {
        flags: OrderFlags::POST_ONLY,
        tif: TimeInForce::Ioc,
        ..limit("A4", Side::Buy, 101, 1)
    };
    assert_eq!(
        reject_of(&h.send(CLIENT, CommandBody::NewOrder(o))).code,
        RejectCode::UnsupportedOrder
    );
    // Display larger than the order.
    let o = NewOrder { display_qty: Qty(5), ..limit("A5", Side::Buy, 101, 1) };
    assert_eq!(
        reject_of(&h.send(CLIENT, CommandBody::NewOrder(o))),
        RejectInfo::new(RejectCode::DisplayQtyInvalid, 5, 1)
    );
    // GTD already expired.
    let o = NewOrder {
        tif: TimeInForce::Gtd,
        expire_at: TimestampNs(1),
        ..limit("A6", Side::Buy, 101, 1)
    };
    assert_eq!(
        reject_of(&h.send(CLIENT, CommandBody::NewOrder(o))).code,
        RejectCode::ExpiryInvalid
    );
    // Duplicate client order id.
    h.send(CLIENT, CommandBody::NewOrder(limit("D1", Side::Buy, 101, 1)));
    let outs = h.send(CLIENT, CommandBody::NewOrder(limit("D1", Side::Buy, 101, 1)));
    assert_eq!(reject_of(&outs).code, RejectCode::DuplicateClOrdId);
    // Another session cannot trade for the account.
    let o = NewOrder { account: AccountId(1), ..limit("A7", Side::Buy, 101, 1) };
    assert_eq!(
        reject_of(&h.send(CLIENT, CommandBody::NewOrder(o))).code,
        RejectCode::UnknownAccount
    );
}

#[test]
fn venue_reports_that_contradict_keel_are_anomalies() {
    let mut h = Harness::with_market();
    let outs = h.send(VENUE, fill(99, 1, 101, 1));
    assert_eq!(reject_of(&outs), RejectInfo::new(RejectCode::VenueUnknownOrder, 99, 0));
    h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 101, 10)));
    h.send(VENUE, ack(1, 900));
    h.send(VENUE, fill(1, 5, 101, 4));
    assert_eq!(reject_of(&h.send(VENUE, fill(1, 5, 101, 4))).code, RejectCode::VenueDuplicateFill);
    assert_eq!(
        reject_of(&h.send(VENUE, fill(1, 6, 101, 7))),
        RejectInfo::new(RejectCode::VenueOverfill, 11, 10)
    );
    // A report from the wrong venue names an order Keel does not have there.
    let mut wrong = fill(1, 8, 101, 1);
    if let CommandBody::VenueFill(f) = &mut wrong {
        f.venue = SIM;
    }
    assert_eq!(reject_of(&h.send(VENUE, wrong)).code, RejectCode::VenueUnknownOrder);
    assert_eq!(h.core.orders().get(OrderId(1)).unwrap().filled(), Qty(4));
    assert_eq!(h.core.counters().anomalies, 4);
}

#[test]
fn stop_order_is_held_until_a_trade_reaches_it() {
    let mut h = Harness::with_market();
    let o = NewOrder {
        ord_type: OrdType::Stop,
        stop_price: Price(105),
        price: Price(0),
        ..limit("S1", Side::Buy, 0, 2)
    };
    let outs = h.send(CLIENT, CommandBody::NewOrder(o));
    assert_eq!(outs.len(), 1, "held: nothing goes to the venue: {outs:?}");
    assert_eq!(
        (exec(&outs[0]).exec_type, exec(&outs[0]).ord_status),
        (ExecType::New, OrdStatus::New)
    );
    assert!(h.send(VENUE, trade(104)).is_empty());
    let outs = h.send(VENUE, trade(105));
    assert!(matches!(
        outs[0],
        OutputBody::VenueNewOrder(VenueNewOrder { ord_type: OrdType::Market, qty: Qty(2), .. })
    ));
    assert_eq!(exec(&outs[1]).exec_type, ExecType::Triggered);
    assert_eq!(exec(&outs[1]).ord_status, OrdStatus::PendingNew);
}

#[test]
fn trailing_stop_follows_the_market_and_triggers_on_the_way_back() {
    let mut h = Harness::with_market(); // mid 101
    let o = NewOrder {
        ord_type: OrdType::TrailingStop,
        trail_ticks: 5,
        price: Price(0),
        ..limit("T1", Side::Sell, 0, 1)
    };
    h.send(CLIENT, CommandBody::NewOrder(o));
    assert_eq!(h.core.orders().get(OrderId(1)).unwrap().terms().stop_price, Price(96));
    assert!(h.send(VENUE, trade(110)).is_empty());
    assert_eq!(h.core.orders().get(OrderId(1)).unwrap().terms().stop_price, Price(105));
    assert!(h.send(VENUE, trade(106)).is_empty());
    let outs = h.send(VENUE, trade(105));
    assert!(
        matches!(outs[0], OutputBody::VenueNewOrder(VenueNewOrder { side: Side::Sell, .. })),
        "{outs:?}"
    );
}

#[test]
fn held_gtd_order_expires_on_the_timer() {
    let mut h = Harness::with_market();
    let expire_at = TimestampNs(h.ts + 1_000);
    let o = NewOrder {
        ord_type: OrdType::Stop,
        stop_price: Price(200),
        tif: TimeInForce::Gtd,
        expire_at,
        ..limit("G1", Side::Buy, 0, 1)
    };
    h.send(CLIENT, CommandBody::NewOrder(o));
    h.ts += 2_000;
    let outs = h.send(TIMER, CommandBody::Timer(Timer {}));
    assert_eq!(exec(&outs[0]).exec_type, ExecType::Expired);
    assert!(h.core.orders().is_empty());
}

#[test]
fn kill_switch_cancels_working_orders_and_blocks_new_ones() {
    let mut h = Harness::with_market();
    h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 100, 1)));
    h.send(CLIENT, CommandBody::NewOrder(limit("A2", Side::Sell, 103, 1)));
    let outs = h.send(
        ADMIN,
        CommandBody::KillSwitch(KillSwitch {
            scope: Scope::Account(ACCOUNT),
            action: KillSwitchAction::Engage,
        }),
    );
    let cancels = outs.iter().filter(|o| matches!(o, OutputBody::VenueCancel(_))).count();
    assert_eq!(cancels, 2);
    assert!(matches!(
        outs.last().unwrap(),
        OutputBody::AdminAck(AdminAck { affected: 2, reject: None, .. })
    ));
    assert_eq!(
        reject_of(&h.send(CLIENT, CommandBody::NewOrder(limit("A3", Side::Buy, 100, 1)))).code,
        RejectCode::KillSwitch
    );
    h.send(
        ADMIN,
        CommandBody::KillSwitch(KillSwitch {
            scope: Scope::Account(ACCOUNT),
            action: KillSwitchAction::Release,
        }),
    );
    assert!(matches!(
        h.send(CLIENT, CommandBody::NewOrder(limit("A4", Side::Buy, 100, 1)))[0],
        OutputBody::VenueNewOrder(_)
    ));
}

#[test]
fn admin_actions_need_an_admin_session() {
    let mut h = Harness::with_market();
    let outs = h.send(
        CLIENT,
        CommandBody::KillSwitch(KillSwitch {
            scope: Scope::Firm,
            action: KillSwitchAction::Engage,
        }),
    );
    assert_eq!(reject_of(&outs), RejectInfo::new(RejectCode::AdminInvalid, CLIENT.0 as i64, 0));
}

#[test]
fn disconnect_cancels_the_sessions_orders_when_configured() {
    let mut h = Harness::with_market();
    h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 100, 1)));
    let outs = h.send(CLIENT, CommandBody::SessionLogout(SessionLogout { graceful: false }));
    assert!(matches!(outs[0], OutputBody::VenueCancel(VenueCancel { order_id: OrderId(1), .. })));
    let outs = h.send(CLIENT, CommandBody::NewOrder(limit("A2", Side::Buy, 100, 1)));
    assert_eq!(
        reject_of(&outs).code,
        RejectCode::UnknownAccount,
        "a logged-out session cannot trade"
    );
}

#[test]
fn mass_cancel_by_instrument() {
    let mut h = Harness::with_market();
    h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 100, 1)));
    h.send(
        CLIENT,
        CommandBody::NewOrder(NewOrder {
            instrument: ETH,
            route: Route::Venue(SIM),
            ..limit("E1", Side::Buy, 100, 1)
        }),
    );
    let outs = h.send(
        CLIENT,
        CommandBody::MassCancel(MassCancel {
            cl_ord_id: cl("M1"),
            account: ACCOUNT,
            scope: MassCancelScope::Instrument(BTC),
        }),
    );
    assert_eq!(outs.iter().filter(|o| matches!(o, OutputBody::VenueCancel(_))).count(), 1);
    assert!(matches!(
        outs.last().unwrap(),
        OutputBody::MassCancelReport(MassCancelReport { affected: 1, reject: None, .. })
    ));
}

#[test]
fn best_price_routing_picks_the_best_opposite_venue() {
    let mut h = Harness::with_market(); // ALT (L2): 100 / 102
    h.send(
        VENUE,
        CommandBody::L3Add(L3Add {
            instrument: BTC,
            venue: SIM,
            venue_order_id: 1,
            side: Side::Sell,
            price: Price(101),
            qty: Qty(3),
            exchange_ts: TimestampNs(0),
        }),
    );
    let o = NewOrder { route: Route::BestPrice, ..limit("B1", Side::Buy, 101, 1) };
    assert!(matches!(
        h.send(CLIENT, CommandBody::NewOrder(o))[0],
        OutputBody::VenueNewOrder(VenueNewOrder { venue: SIM, .. })
    ));
    // Above our own bid at 101, so no self-trade; ALT has the only bid.
    let o = NewOrder { route: Route::BestPrice, ..limit("B2", Side::Sell, 103, 1) };
    let outs = h.send(CLIENT, CommandBody::NewOrder(o));
    assert!(
        matches!(outs[0], OutputBody::VenueNewOrder(VenueNewOrder { venue: ALT, .. })),
        "{outs:?}"
    );
}

#[test]
fn self_trade_against_the_firms_own_resting_order_is_rejected() {
    let mut h = Harness::with_market();
    h.send(CLIENT, CommandBody::NewOrder(limit("B1", Side::Buy, 101, 1)));
    let outs = h.send(CLIENT, CommandBody::NewOrder(limit("S1", Side::Sell, 100, 1)));
    assert_eq!(reject_of(&outs).code, RejectCode::SelfTrade);
    assert_eq!(outs.len(), 1);
}

#[test]
fn market_data_for_an_unknown_book_is_an_anomaly_not_a_panic() {
    let mut h = Harness::with_market();
    let outs = h.send(VENUE, l2(ETH, ALT, Side::Buy, 1, 1));
    assert_eq!(reject_of(&outs).code, RejectCode::UnknownInstrument);
    let outs = h.send(
        VENUE,
        CommandBody::L3Delete(L3Delete {
            instrument: BTC,
            venue: SIM,
            venue_order_id: 42,
            exchange_ts: TimestampNs(0),
        }),
    );
    assert_eq!(reject_of(&outs), RejectInfo::new(RejectCode::VenueUnknownOrder, 42, 0));
}

#[test]
fn market_maker_quotes_on_a_book_update_and_requotes_after_a_fill() {
    let mut h = Harness::new(&config_with_market_maker());
    h.logon_all();
    let outs = h.send(VENUE, l2(BTC, ALT, Side::Buy, 100, 10));
    assert!(
        outs.iter().all(|o| !matches!(o, OutputBody::VenueNewOrder(_))),
        "one-sided book: no quotes"
    );
    let outs = h.send(VENUE, l2(BTC, ALT, Side::Sell, 110, 10));
    let quotes: Vec<_> = outs
        .iter()
        .filter_map(|o| match o {
            OutputBody::VenueNewOrder(n) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(quotes.len(), 2, "{outs:?}");
    assert!(quotes.iter().all(|q| q.flags.contains(OrderFlags::POST_ONLY) && q.venue == ALT));
    let bid = quotes.iter().find(|q| q.side == Side::Buy).unwrap();
    let ask = quotes.iter().find(|q| q.side == Side::Sell).unwrap();
    assert!(bid.price < ask.price);
    // The venue acks and fills the bid; the strategy is long and requotes.
    h.send(VENUE, ack(bid.order_id.0, 1));
    h.send(VENUE, ack(ask.order_id.0, 2));
    let outs = h.send(VENUE, fill(bid.order_id.0, 1, bid.price.0, bid.qty.0));
    assert_eq!(h.core.positions().position(STRATEGY_ACCOUNT, BTC).unwrap().net_qty(), bid.qty);
    assert!(
        outs.iter()
            .any(|o| matches!(o, OutputBody::VenueNewOrder(_) | OutputBody::VenueReplace(_))),
        "requote after the fill: {outs:?}"
    );
}

#[test]
fn same_commands_give_same_outputs_and_digest() {
    let commands = random_commands(7, 5_000);
    let (out_a, digest_a) = run_all(&commands);
    let (out_b, digest_b) = run_all(&commands);
    assert_eq!(out_a, out_b);
    assert_eq!(digest_a, digest_b);
    let other = random_commands(8, 5_000);
    assert_ne!(run_all(&other).1, digest_a, "a different stream gives a different state");
}

#[test]
fn digest_changes_when_any_part_of_the_state_changes() {
    let mut h = Harness::with_market();
    let mut seen = vec![h.core.digest()];
    let mut step = |h: &mut Harness, session, body| {
        h.send(session, body);
        let d = h.core.digest();
        assert!(!seen.contains(&d), "state changed but the digest did not");
        seen.push(d);
    };
    step(&mut h, VENUE, l2(BTC, ALT, Side::Buy, 99, 3)); // a book
    step(&mut h, CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 100, 1))); // orders, risk
    step(&mut h, VENUE, ack(1, 5)); // an order's state
    step(&mut h, VENUE, fill(1, 1, 100, 1)); // positions
    step(
        &mut h,
        ADMIN,
        CommandBody::SetLimit(SetLimit {
            scope: LimitScope::Account(ACCOUNT),
            kind: LimitKind::MaxOpenOrders,
            value: 9,
        }),
    );
    step(
        &mut h,
        SessionId(6),
        CommandBody::SessionLogon(SessionLogon {
            kind: SessionKind::BinaryClient,
            account: AccountId(1),
            cancel_on_disconnect: false,
        }),
    ); // sessions
    h.ts += 1;
    step(&mut h, TIMER, CommandBody::Timer(Timer {})); // time
}

#[test]
fn time_is_made_monotonic() {
    let mut h = Harness::with_market();
    let before = h.core.now();
    h.ts = 5;
    h.send(TIMER, CommandBody::Timer(Timer {}));
    assert_eq!(h.core.now(), before, "an earlier timestamp does not move time back");
}

#[test]
fn config_errors_name_the_problem() {
    let mut c = config();
    c.instruments[1].id = InstrumentId(5);
    let err = Core::new(&c).err().unwrap();
    assert_eq!(
        err.to_string(),
        "instrument ETH-USD at index 1 has id 5; ids must be 0..n in order"
    );
    let mut c = config_with_market_maker();
    c.strategies[0].name = "nope".into();
    assert!(Core::new(&c).err().unwrap().to_string().starts_with("strategy nope:"));
    let mut c = config();
    c.instruments[0].venues.push(VenueId(42));
    assert!(Core::new(&c).err().unwrap().to_string().contains("venue 42, which is not configured"));
}

fn cl(s: &str) -> ClOrdId {
    s.parse().unwrap()
}

#[test]
fn kill_switch_cancels_an_order_with_a_replace_outstanding() {
    let mut h = Harness::with_market();
    h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 100, 5)));
    h.send(VENUE, ack(1, 900));
    h.send(CLIENT, replace("A2", "A1", 99, 5));
    let kill = KillSwitch { scope: Scope::Firm, action: KillSwitchAction::Engage };
    let outs = h.send(ADMIN, CommandBody::KillSwitch(kill));
    assert!(
        matches!(outs[0], OutputBody::VenueCancel(VenueCancel { order_id: OrderId(1), .. })),
        "{outs:?}"
    );
    assert!(matches!(outs.last().unwrap(), OutputBody::AdminAck(AdminAck { affected: 1, .. })));
    let outs = h.send(VENUE, cancel_ack(1, false));
    assert_eq!(exec(&outs[0]).ord_status, OrdStatus::Canceled);
    assert!(h.core.orders().is_empty());
    assert_eq!(h.core.risk().cell_exposure(ACCOUNT, BTC).unwrap().open_lots(Side::Buy), 0);
}

#[test]
fn a_strategy_does_not_storm_on_rejects() {
    let mut h = Harness::new(&config_with_market_maker());
    h.logon_all();
    let kill =
        KillSwitch { scope: Scope::Account(STRATEGY_ACCOUNT), action: KillSwitchAction::Engage };
    h.send(ADMIN, CommandBody::KillSwitch(kill));
    h.send(VENUE, l2(BTC, ALT, Side::Buy, 100, 10));
    let outs = h.send(VENUE, l2(BTC, ALT, Side::Sell, 110, 10));
    let rejects = outs.iter().filter(|o| matches!(o, OutputBody::ExecReport(r) if r.reject.is_some_and(|r| r.code == RejectCode::KillSwitch))).count();
    assert_eq!(rejects, 2, "one attempt per side, not a retry per reject: {outs:?}");
    assert_eq!(h.core.strategy_events_deferred(), 0);
}

#[test]
fn own_resting_aggregate_never_drifts() {
    // Also with room for only a few own price levels, so prices spill outside the levels
    // and sides get rebuilt: the outputs must not depend on the room.
    let commands = random_commands(1, 3_000);
    let mut core = Core::new(&config_with_market_maker()).unwrap();
    let mut tight = Core::new(&config_with_market_maker()).unwrap();
    let capacity = crate::book::BookCapacity { orders: 0, levels_per_side: 2 };
    tight.state.own = super::resting::OwnResting::new(2, capacity);
    let (mut out, mut tight_out) = (Vec::new(), Vec::new());
    for (k, c) in commands.iter().enumerate() {
        out.clear();
        tight_out.clear();
        core.apply(c, &mut out);
        tight.apply(c, &mut tight_out);
        assert!(core.own_resting_consistent(), "drift after command {k}: {c:?}\n{out:?}");
        assert!(tight.own_resting_consistent(), "drift after command {k}: {c:?}");
        assert_eq!(out, tight_out, "command {k}: {c:?}");
    }
    assert_eq!(core.digest(), tight.digest());
}

fn kill(action: KillSwitchAction) -> CommandBody {
    CommandBody::KillSwitch(KillSwitch { scope: Scope::Account(ACCOUNT), action })
}

fn ids(r: &ExecReport) -> (ExecType, ClOrdId, Option<ClOrdId>) {
    (r.exec_type, r.cl_ord_id, r.orig_cl_ord_id)
}

#[test]
fn a_client_cancel_is_reported_under_the_request_id_until_it_is_done() {
    let mut h = Harness::with_market();
    h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 101, 10)));
    h.send(VENUE, ack(1, 900));
    let outs = h.send(CLIENT, cancel("C1", "A1"));
    assert_eq!(ids(exec(&outs[1])), (ExecType::PendingCancel, cl("C1"), Some(cl("A1"))));
    let outs = h.send(VENUE, cancel_ack(1, false));
    assert_eq!(ids(exec(&outs[0])), (ExecType::Canceled, cl("C1"), Some(cl("A1"))));
    assert_eq!(exec(&outs[0]).ord_status, OrdStatus::Canceled);

    // A held order is cancelled at once, answering the request just the same.
    let stop = NewOrder {
        ord_type: OrdType::Stop,
        stop_price: Price(200),
        price: Price(0),
        ..limit("S1", Side::Buy, 0, 1)
    };
    h.send(CLIENT, CommandBody::NewOrder(stop));
    let outs = h.send(CLIENT, cancel("C2", "S1"));
    assert_eq!(ids(exec(&outs[0])), (ExecType::Canceled, cl("C2"), Some(cl("S1"))));
}

#[test]
fn cancels_nobody_asked_for_keep_the_orders_id() {
    let mut h = Harness::with_market();
    // The venue cancels on its own (an IOC remainder, a venue-side cancel).
    h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 101, 10)));
    h.send(VENUE, ack(1, 900));
    let outs = h.send(VENUE, cancel_ack(1, true));
    assert_eq!(ids(exec(&outs[0])), (ExecType::Canceled, cl("A1"), None));

    // The client asked, but the venue's cancel says it was its own doing.
    h.send(CLIENT, CommandBody::NewOrder(limit("A2", Side::Buy, 101, 10)));
    h.send(VENUE, ack(2, 901));
    h.send(CLIENT, cancel("C2", "A2"));
    let outs = h.send(VENUE, cancel_ack(2, true));
    assert_eq!(ids(exec(&outs[0])), (ExecType::Canceled, cl("A2"), None));

    // A refused client cancel is forgotten: the kill switch's cancel is the core's own.
    h.send(CLIENT, CommandBody::NewOrder(limit("A3", Side::Buy, 101, 10)));
    h.send(VENUE, ack(3, 902));
    h.send(CLIENT, cancel("C3", "A3"));
    h.send(
        VENUE,
        CommandBody::VenueCancelReject(VenueCancelReject {
            venue: ALT,
            order_id: OrderId(3),
            response_to: CancelRejectTo::Cancel,
            reason: 1,
            venue_ts: TimestampNs(0),
        }),
    );
    let outs = h.send(ADMIN, kill(KillSwitchAction::Engage));
    let pending = outs.iter().find_map(|o| match o {
        OutputBody::ExecReport(r) if r.exec_type == ExecType::PendingCancel => Some(ids(r)),
        _ => None,
    });
    assert_eq!(pending, Some((ExecType::PendingCancel, cl("A3"), None)));
    let outs = h.send(VENUE, cancel_ack(3, false));
    assert_eq!(ids(exec(&outs[0])), (ExecType::Canceled, cl("A3"), None));
    assert!(h.core.orders().is_empty());
}

#[test]
fn an_order_whose_full_notional_cannot_be_reported_is_refused() {
    let mut h = Harness::with_market();
    let price = 1_000_000_000_000i64;
    let outs = h.send(CLIENT, CommandBody::NewOrder(limit("B1", Side::Buy, price, 10_000_000_000)));
    assert_eq!(outs.len(), 1, "{outs:?}");
    assert_eq!(
        reject_of(&outs),
        RejectInfo::new(RejectCode::QtyExceedsMax, 10_000_000_000, i64::MAX / price)
    );
    // The largest quantity that fits is accepted.
    let outs =
        h.send(CLIENT, CommandBody::NewOrder(limit("B2", Side::Buy, price, i64::MAX / price)));
    assert!(matches!(outs[0], OutputBody::VenueNewOrder(_)), "{outs:?}");
}

#[test]
fn a_fill_that_would_overflow_the_reported_notional_is_an_anomaly() {
    let mut h = Harness::with_market();
    h.send(CLIENT, CommandBody::NewOrder(limit("S1", Side::Sell, 101, 10)));
    h.send(VENUE, ack(1, 900));
    // A sell fills at its limit or better, so risk could not bound this price.
    let outs = h.send(VENUE, fill(1, 1, i64::MAX / 5, 10));
    assert_eq!(outs.len(), 1, "{outs:?}");
    assert!(matches!(outs[0], OutputBody::Anomaly(_)));
    assert_eq!(
        reject_of(&outs),
        RejectInfo::new(RejectCode::VenueNotionalOverflow, i64::MAX, i64::MAX)
    );
    let order = h.core.orders().get(OrderId(1)).unwrap();
    assert_eq!((order.filled(), order.cum_notional_ticks_lots()), (Qty(0), 0));
    assert!(h.core.positions().position(ACCOUNT, BTC).is_none_or(|p| p.net_qty() == Qty(0)));
    // A sane fill of the same order goes in, and its report is exact.
    let outs = h.send(VENUE, fill(1, 2, 102, 10));
    assert_eq!((exec(&outs[0]).cum_qty, exec(&outs[0]).cum_notional), (Qty(10), 1020));
}

fn buy_stop(cl_ord_id: &str, stop: i64, qty: i64) -> CommandBody {
    CommandBody::NewOrder(NewOrder {
        ord_type: OrdType::Stop,
        stop_price: Price(stop),
        price: Price(0),
        ..limit(cl_ord_id, Side::Buy, 0, qty)
    })
}

fn set_limit(scope: LimitScope, kind: LimitKind, value: i64) -> CommandBody {
    CommandBody::SetLimit(SetLimit { scope, kind, value })
}

#[test]
fn a_triggered_stop_passes_pre_trade_risk_as_a_new_order() {
    let cell = LimitScope::AccountInstrument(ACCOUNT, BTC);
    let account = LimitScope::Account(ACCOUNT);
    let stop_limit = CommandBody::NewOrder(NewOrder {
        ord_type: OrdType::StopLimit,
        stop_price: Price(105),
        ..limit("S1", Side::Buy, 120, 2)
    });
    // Each case: the held order, the change made after it was accepted, and the reject its
    // release gets (reference price 101: the mid of 100 / 102).
    let cases: [(CommandBody, CommandBody, RejectInfo); 5] = [
        (
            buy_stop("S1", 105, 2),
            CommandBody::SetTradingState(SetTradingState {
                scope: Scope::Account(ACCOUNT),
                state: TradingState::ReducingOnly,
            }),
            RejectInfo::new(RejectCode::ReducingOnly, 0, 2),
        ),
        (
            buy_stop("S1", 105, 2),
            set_limit(account, LimitKind::MaxOrderQty, 1),
            RejectInfo::new(RejectCode::QtyExceedsMax, 2, 1),
        ),
        (
            buy_stop("S1", 105, 2),
            set_limit(cell, LimitKind::MaxPositionLong, 1),
            RejectInfo::new(RejectCode::PositionLongExceedsMax, 2, 1),
        ),
        (
            stop_limit,
            set_limit(cell, LimitKind::PriceCollarBps, 500),
            RejectInfo::new(RejectCode::PriceOutsideCollar, 120, 101),
        ),
        (
            buy_stop("S1", 105, 2),
            set_limit(LimitScope::Firm, LimitKind::MaxOrderNotional, 0),
            RejectInfo::new(RejectCode::NotionalExceedsMax, 2 * 101 * 1_000, 0),
        ),
    ];
    for (order, change, expected) in cases {
        let mut h = Harness::with_market();
        let outs = h.send(CLIENT, order);
        assert_eq!(exec(&outs[0]).exec_type, ExecType::New, "held: {outs:?}");
        assert!(matches!(
            h.send(ADMIN, change)[0],
            OutputBody::AdminAck(AdminAck { reject: None, .. })
        ));
        let outs = h.send(VENUE, trade(105));
        assert_eq!(outs.len(), 1, "nothing goes to the venue: {outs:?}");
        let r = exec(&outs[0]);
        assert_eq!(
            (r.exec_type, r.ord_status, r.reject),
            (ExecType::Canceled, OrdStatus::Canceled, Some(expected))
        );
        assert_eq!(h.core.counters().rejects_by_code[expected.code as usize], 1);
        assert!(h.core.orders().is_empty());
        let cell = h.core.risk().cell_exposure(ACCOUNT, BTC).unwrap();
        assert_eq!((cell.open_orders, cell.open_buy_lots, cell.open_buy_value), (0, 0, 0));
    }
}

#[test]
fn a_released_stop_is_counted_once_and_revalued_at_the_market() {
    let mut h = Harness::with_market();
    h.send(CLIENT, buy_stop("S1", 105, 2));
    let vpn = h.core.risk().instrument(BTC).unwrap().value_per_notional_unit as i128;
    let cell = h.core.risk().cell_exposure(ACCOUNT, BTC).unwrap();
    assert_eq!((cell.open_orders, cell.open_buy_value), (1, 105 * 2 * vpn));
    // The stop is one of the working orders already: a limit of one still lets it out.
    let scope = LimitScope::AccountInstrument(ACCOUNT, BTC);
    h.send(ADMIN, set_limit(scope, LimitKind::MaxOpenOrders, 1));
    let outs = h.send(VENUE, trade(105));
    assert!(
        matches!(
            outs[0],
            OutputBody::VenueNewOrder(VenueNewOrder { ord_type: OrdType::Market, .. })
        ),
        "{outs:?}"
    );
    assert_eq!(exec(&outs[1]).exec_type, ExecType::Triggered);
    let cell = h.core.risk().cell_exposure(ACCOUNT, BTC).unwrap();
    assert_eq!((cell.open_orders, cell.open_buy_lots, cell.open_buy_value), (1, 2, 101 * 2 * vpn));
    assert_eq!(h.core.orders().get(OrderId(1)).unwrap().risk_price(), Price(101));
    assert_eq!(h.core.counters().commands_by_kind[0], 1);
    // The release spent no new-order token: a throttle of one still admits a new order.
    let mut h = Harness::with_market();
    h.send(ADMIN, set_limit(LimitScope::Session(CLIENT), LimitKind::NewOrdersPerSec, 1));
    h.send(CLIENT, buy_stop("S1", 105, 2));
    h.ts += 2_000_000_000;
    h.send(VENUE, trade(105));
    let outs = h.send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 100, 1)));
    assert!(matches!(outs[0], OutputBody::VenueNewOrder(_)), "{outs:?}");
}

#[test]
fn a_triggered_stop_is_stopped_by_a_halt() {
    // (A kill switch cancels held orders when it is engaged: none is left to trigger.)
    for scope in [Scope::Firm, Scope::Account(ACCOUNT)] {
        let mut h = Harness::with_market();
        h.send(CLIENT, buy_stop("S1", 105, 2));
        let state = TradingState::Halted;
        h.send(ADMIN, CommandBody::SetTradingState(SetTradingState { scope, state }));
        let outs = h.send(VENUE, trade(105));
        assert_eq!(outs.len(), 1, "{outs:?}");
        let r = exec(&outs[0]);
        assert_eq!(
            (r.exec_type, r.reject),
            (ExecType::Canceled, Some(RejectInfo::bare(RejectCode::Halted)))
        );
        assert!(h.core.orders().is_empty());
    }
}
