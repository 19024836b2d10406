//! The simulated venue on small hand-built scenarios with known answers: each queue model,
//! marketable orders walking the recorded book, consuming liquidity, rejects, replaces.

use keel_engine::book::BookCapacity;
use keel_engine::core::FeedKind;
use keel_engine::schema::{
    CommandBody, Liquidity, OrderFlags, OutputBody, VenueCancel, VenueNewOrder, VenueReplace,
};
use keel_engine::{
    InstrumentId, OrdType, OrderId, Price, Qty, Side, TimeInForce, TimestampNs, VenueId,
};
use keel_replay::backtest::fees::FeeSchedule;
use keel_replay::backtest::venue::{SimVenue, VenueSettings, reason};
use keel_replay::backtest::{MdEvent, MdKind, QueueModel};

const I: InstrumentId = InstrumentId(0);
const KEEL: OrderId = OrderId(1);

fn venue(feed: FeedKind, queue: QueueModel, consume: bool, seed: u64) -> SimVenue {
    SimVenue::new(
        VenueSettings {
            venue: VenueId(1),
            feed,
            book: BookCapacity { orders: 1024, levels_per_side: 64 },
            queue,
            consume_liquidity: consume,
            seed,
            fees: FeeSchedule::zero(1),
        },
        1,
    )
}

fn md(kind: MdKind, side: Option<Side>, price: i64, qty: i64, id: u64) -> MdEvent {
    let mut e = MdEvent::new(kind, I);
    e.side = side;
    e.price = Price(price);
    e.qty = Qty(qty);
    e.order_id = id;
    e
}

fn l2(side: Side, price: i64, qty: i64) -> MdEvent {
    md(MdKind::L2, Some(side), price, qty, 0)
}
fn trade(aggressor: Side, price: i64, qty: i64) -> MdEvent {
    md(MdKind::Trade, Some(aggressor), price, qty, 0)
}
fn add(id: u64, side: Side, price: i64, qty: i64) -> MdEvent {
    md(MdKind::Add, Some(side), price, qty, id)
}
fn execute(id: u64, price: i64, qty: i64) -> MdEvent {
    md(MdKind::Execute, None, price, qty, id)
}
fn delete(id: u64) -> MdEvent {
    md(MdKind::Delete, None, 0, 0, id)
}

fn order(
    id: OrderId,
    side: Side,
    ord_type: OrdType,
    tif: TimeInForce,
    price: i64,
    qty: i64,
    post_only: bool,
) -> OutputBody {
    OutputBody::VenueNewOrder(VenueNewOrder {
        venue: VenueId(1),
        order_id: id,
        instrument: I,
        side,
        ord_type,
        tif,
        flags: if post_only { OrderFlags::POST_ONLY } else { OrderFlags::NONE },
        price: Price(price),
        qty: Qty(qty),
        display_qty: Qty(0),
        expire_at: TimestampNs(0),
    })
}

fn bid(price: i64, qty: i64) -> OutputBody {
    order(KEEL, Side::Buy, OrdType::Limit, TimeInForce::Gtc, price, qty, true)
}

/// Feeds `events`, returning Keel's fills as (qty, price, liquidity).
fn feed(v: &mut SimVenue, events: &[MdEvent]) -> Vec<(i64, i64, Liquidity)> {
    let mut out = Vec::new();
    for e in events {
        v.on_market_data(e, TimestampNs(1), &mut out);
    }
    fills(&out)
}

fn fills(out: &[CommandBody]) -> Vec<(i64, i64, Liquidity)> {
    out.iter()
        .filter_map(|c| match c {
            CommandBody::VenueFill(f) => Some((f.qty.0, f.price.0, f.liquidity)),
            _ => None,
        })
        .collect()
}

fn request(v: &mut SimVenue, req: OutputBody) -> Vec<CommandBody> {
    let mut out = Vec::new();
    v.on_request(&req, TimestampNs(1), &mut out);
    out
}

#[test]
fn fifo_a_bid_with_100_ahead_fills_only_after_100_have_traded() {
    let mut v = venue(FeedKind::L3, QueueModel::Fifo, true, 1);
    feed(
        &mut v,
        &[add(10, Side::Buy, 100, 60), add(11, Side::Buy, 100, 40), add(20, Side::Sell, 101, 50)],
    );
    let out = request(&mut v, bid(100, 10));
    assert!(matches!(out.as_slice(), [CommandBody::VenueAck(_)]), "{out:?}");
    assert_eq!(v.queue_of(KEEL), Some((100, 10)));
    // An order joins behind Keel's.
    assert!(feed(&mut v, &[add(12, Side::Buy, 100, 30)]).is_empty());
    assert_eq!(v.queue_of(KEEL), Some((100, 10)));
    // 60, then 39 of the 100 ahead trade: nothing for Keel.
    assert!(feed(&mut v, &[execute(10, 100, 60), execute(11, 100, 39)]).is_empty());
    assert_eq!(v.queue_of(KEEL), Some((1, 10)));
    // The 100th lot ahead trades: still nothing.
    assert!(feed(&mut v, &[execute(11, 100, 1)]).is_empty());
    assert_eq!(v.queue_of(KEEL), Some((0, 10)));
    // The next execution at the level (recorded against the order behind) is Keel's.
    assert_eq!(feed(&mut v, &[execute(12, 100, 4)]), vec![(4, 100, Liquidity::Maker)]);
    assert_eq!(v.queue_of(KEEL), Some((0, 6)));
    assert_eq!(feed(&mut v, &[execute(12, 100, 26)]), vec![(6, 100, Liquidity::Maker)]);
    assert_eq!(v.queue_of(KEEL), None, "filled: no longer resting");
}

#[test]
fn fifo_deletes_ahead_advance_the_queue_and_deletes_behind_do_not() {
    let mut v = venue(FeedKind::L3, QueueModel::Fifo, true, 1);
    feed(&mut v, &[add(10, Side::Buy, 100, 60), add(11, Side::Buy, 100, 40)]);
    request(&mut v, bid(100, 10));
    feed(&mut v, &[add(12, Side::Buy, 100, 30), delete(12), delete(10)]);
    assert_eq!(v.queue_of(KEEL), Some((40, 10)));
    // A trade through Keel's price (a bid below it executes) fills it whatever is ahead.
    feed(&mut v, &[add(13, Side::Buy, 99, 50)]);
    assert_eq!(feed(&mut v, &[execute(13, 99, 7)]), vec![(7, 100, Liquidity::Maker)]);
}

#[test]
fn conservative_fills_only_when_the_price_trades_through() {
    let mut v = venue(FeedKind::L2, QueueModel::Conservative, true, 1);
    feed(&mut v, &[l2(Side::Buy, 100, 100), l2(Side::Sell, 101, 100)]);
    request(&mut v, bid(100, 10));
    // Prints at Keel's price, however large, do not fill it.
    assert!(
        feed(&mut v, &[trade(Side::Sell, 100, 500), l2(Side::Buy, 100, 0), l2(Side::Buy, 100, 20)])
            .is_empty()
    );
    // A print through it does, up to the print's quantity, then up to the leaves.
    assert_eq!(feed(&mut v, &[trade(Side::Sell, 99, 3)]), vec![(3, 100, Liquidity::Maker)]);
    assert_eq!(feed(&mut v, &[trade(Side::Sell, 98, 20)]), vec![(7, 100, Liquidity::Maker)]);
    // A buyer's print never fills a bid.
    let mut v = venue(FeedKind::L2, QueueModel::Conservative, true, 1);
    feed(&mut v, &[l2(Side::Buy, 100, 100), l2(Side::Sell, 101, 100)]);
    request(&mut v, bid(100, 10));
    assert!(feed(&mut v, &[trade(Side::Buy, 99, 3)]).is_empty());
}

#[test]
fn probabilistic_prints_consume_the_queue_ahead_first() {
    let mut v = venue(FeedKind::L2, QueueModel::Probabilistic { power: 2 }, true, 1);
    feed(&mut v, &[l2(Side::Buy, 100, 100), l2(Side::Sell, 101, 100)]);
    request(&mut v, bid(100, 10));
    assert_eq!(v.queue_of(KEEL), Some((100, 10)));
    // 60 trade, and the level update that shows them gone is not a cancel.
    assert!(feed(&mut v, &[trade(Side::Sell, 100, 60), l2(Side::Buy, 100, 40)]).is_empty());
    assert_eq!(v.queue_of(KEEL), Some((40, 10)));
    // 10 cancel with nobody behind Keel's order: they were ahead.
    feed(&mut v, &[l2(Side::Buy, 100, 30)]);
    assert_eq!(v.queue_of(KEEL), Some((30, 10)));
    // 20 join behind.
    feed(&mut v, &[l2(Side::Buy, 100, 50)]);
    assert_eq!(v.queue_of(KEEL), Some((30, 10)));
    // A print of 35: 30 ahead, then 5 for Keel.
    assert_eq!(feed(&mut v, &[trade(Side::Sell, 100, 35)]), vec![(5, 100, Liquidity::Maker)]);
    assert_eq!(v.queue_of(KEEL), Some((0, 5)));
}

#[test]
fn probabilistic_cancels_are_drawn_from_the_seed() {
    // 100 ahead, 100 behind, power 2: a cancel of 50 comes from ahead half the time.
    let outcome = |seed: u64| {
        let mut v = venue(FeedKind::L2, QueueModel::Probabilistic { power: 2 }, true, seed);
        feed(&mut v, &[l2(Side::Buy, 100, 100), l2(Side::Sell, 101, 100)]);
        request(&mut v, bid(100, 10));
        feed(&mut v, &[l2(Side::Buy, 100, 200), l2(Side::Buy, 100, 150)]);
        v.queue_of(KEEL).unwrap().0
    };
    let draws: Vec<i64> = (0..400).map(outcome).collect();
    assert_eq!(draws, (0..400).map(outcome).collect::<Vec<_>>(), "the same seeds draw the same");
    assert!(draws.iter().all(|&a| a == 50 || a == 100), "{draws:?}");
    let from_ahead = draws.iter().filter(|&&a| a == 50).count();
    assert!((140..=260).contains(&from_ahead), "{from_ahead} of 400 from ahead");
    // With a queue behind a hundred times larger, power 2 makes a cancel from ahead a
    // 1-in-10 000 draw: 200 single-lot cancels leave the 10 ahead (almost surely) whole.
    let mut v = venue(FeedKind::L2, QueueModel::Probabilistic { power: 2 }, true, 3);
    feed(&mut v, &[l2(Side::Buy, 100, 10), l2(Side::Sell, 101, 100)]);
    request(&mut v, bid(100, 10));
    for _ in 0..200 {
        feed(&mut v, &[l2(Side::Buy, 100, 1010), l2(Side::Buy, 100, 1009)]);
    }
    assert!(v.queue_of(KEEL).unwrap().0 >= 9, "{:?}", v.queue_of(KEEL));
    // With nobody behind, every cancel is from ahead.
    let mut v = venue(FeedKind::L2, QueueModel::Probabilistic { power: 2 }, true, 3);
    feed(&mut v, &[l2(Side::Buy, 100, 10), l2(Side::Sell, 101, 100)]);
    request(&mut v, bid(100, 10));
    feed(&mut v, &[l2(Side::Buy, 100, 7)]);
    assert_eq!(v.queue_of(KEEL), Some((7, 10)));
}

#[test]
fn marketable_orders_walk_the_book_and_consume_liquidity() {
    for consume in [true, false] {
        let mut v = venue(FeedKind::L2, QueueModel::default(), consume, 1);
        feed(
            &mut v,
            &[
                l2(Side::Buy, 99, 50),
                l2(Side::Sell, 101, 5),
                l2(Side::Sell, 102, 5),
                l2(Side::Sell, 103, 5),
            ],
        );
        let out = request(
            &mut v,
            order(KEEL, Side::Buy, OrdType::Limit, TimeInForce::Gtc, 102, 12, false),
        );
        assert!(matches!(out[0], CommandBody::VenueAck(_)));
        assert_eq!(fills(&out), vec![(5, 101, Liquidity::Taker), (5, 102, Liquidity::Taker)]);
        assert_eq!(v.queue_of(KEEL), Some((0, 2)), "the rest rests at 102");
        // A second buyer at 102.
        let out = request(
            &mut v,
            order(OrderId(2), Side::Buy, OrdType::Limit, TimeInForce::Ioc, 102, 5, false),
        );
        if consume {
            assert!(fills(&out).is_empty(), "the recorded 101 and 102 were taken: {out:?}");
            assert!(matches!(out.last(), Some(CommandBody::VenueCancelAck(c)) if c.unsolicited));
            // Until the venue publishes the level again.
            feed(&mut v, &[l2(Side::Sell, 102, 5)]);
            let out = request(
                &mut v,
                order(OrderId(3), Side::Buy, OrdType::Market, TimeInForce::Ioc, 0, 7, false),
            );
            assert_eq!(fills(&out), vec![(5, 102, Liquidity::Taker), (2, 103, Liquidity::Taker)]);
        } else {
            assert_eq!(fills(&out), vec![(5, 101, Liquidity::Taker)]);
        }
    }
}

#[test]
fn l3_consumption_takes_recorded_orders_in_queue_order() {
    let mut v = venue(FeedKind::L3, QueueModel::Fifo, true, 1);
    feed(&mut v, &[add(20, Side::Sell, 101, 4), add(21, Side::Sell, 101, 6)]);
    let out =
        request(&mut v, order(KEEL, Side::Buy, OrdType::Limit, TimeInForce::Ioc, 101, 5, false));
    assert_eq!(fills(&out), vec![(5, 101, Liquidity::Taker)]);
    assert_eq!(v.best(I, Side::Sell), Some((Price(101), Qty(5))));
    // The recorded execution of order 20 (already taken by Keel) and a modify of 21 are
    // adjusted by what Keel took, without refusals.
    let mut out = Vec::new();
    for e in [execute(20, 101, 4), md(MdKind::Modify, None, 101, 6, 21), execute(21, 101, 5)] {
        v.on_market_data(&e, TimestampNs(2), &mut out);
    }
    assert_eq!(v.stats().md_refused, 0, "{:?}", v.stats().md_refused_first);
    assert_eq!(v.best(I, Side::Sell), None);
}

#[test]
fn rejects_and_cancel_rejects_carry_the_venue_reasons() {
    let mut v = venue(FeedKind::L2, QueueModel::default(), true, 1);
    feed(&mut v, &[l2(Side::Buy, 99, 50), l2(Side::Sell, 101, 5)]);
    let reject_reason = |out: &[CommandBody]| match out {
        [CommandBody::VenueReject(r)] => r.reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(reject_reason(&request(&mut v, bid(101, 1))), reason::POST_ONLY_WOULD_CROSS);
    let fok = order(KEEL, Side::Buy, OrdType::Limit, TimeInForce::Fok, 101, 6, false);
    assert_eq!(reject_reason(&request(&mut v, fok)), reason::FOK_UNFILLABLE);
    let out = request(
        &mut v,
        OutputBody::VenueCancel(VenueCancel {
            venue: VenueId(1),
            order_id: KEEL,
            instrument: I,
            side: Side::Buy,
            venue_order_id: 0,
        }),
    );
    assert!(
        matches!(out.as_slice(), [CommandBody::VenueCancelReject(r)] if r.reason == reason::UNKNOWN_ORDER)
    );
    assert_eq!(v.stats().rejects, 2);
}

#[test]
fn a_replace_keeps_priority_only_when_it_shrinks_in_place() {
    let mut v = venue(FeedKind::L2, QueueModel::Probabilistic { power: 2 }, true, 1);
    feed(&mut v, &[l2(Side::Buy, 100, 100), l2(Side::Buy, 99, 20), l2(Side::Sell, 101, 100)]);
    request(&mut v, bid(100, 10));
    feed(&mut v, &[trade(Side::Sell, 100, 60), l2(Side::Buy, 100, 40)]);
    assert_eq!(v.queue_of(KEEL), Some((40, 10)));
    let replace = |price: i64, qty: i64| {
        OutputBody::VenueReplace(VenueReplace {
            venue: VenueId(1),
            order_id: KEEL,
            instrument: I,
            side: Side::Buy,
            venue_order_id: KEEL.0,
            price: Price(price),
            qty: Qty(qty),
            display_qty: Qty(0),
        })
    };
    let out = request(&mut v, replace(100, 8));
    assert!(matches!(out.as_slice(), [CommandBody::VenueReplaceAck(r)] if r.qty == Qty(8)));
    assert_eq!(v.queue_of(KEEL), Some((40, 8)), "a cut in place keeps the place");
    request(&mut v, replace(99, 8));
    assert_eq!(v.queue_of(KEEL), Some((20, 8)), "a new price goes to the back of its level");
    let out = request(&mut v, replace(101, 8));
    assert!(
        matches!(out.as_slice(), [CommandBody::VenueCancelReject(r)] if r.reason == reason::POST_ONLY_WOULD_CROSS)
    );
}
