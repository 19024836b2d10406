//! Behaviour of the reference strategies with hand-built contexts.

use keel_engine::schema::{Liquidity, OrderFlags};
use keel_engine::strategy::{
    InstrumentView, Intent, Intents, MarketMaker, MarketMakerParams, MarketView, OrderUpdate,
    OrderUpdateKind, OwnFill, Strategy, StrategyContext, Taker, TakerParams,
};
use keel_engine::{
    AccountId, ClOrdId, InstrumentId, OrdType, Price, Qty, Side, TimeInForce, TimestampNs,
};

const INST: InstrumentId = InstrumentId(1);

fn view(bid: (i64, i64), ask: (i64, i64), position: i64) -> [InstrumentView; 1] {
    [InstrumentView {
        instrument: INST,
        market: MarketView::two_sided(bid, ask),
        position: Qty(position),
    }]
}

fn ctx(now: u64, views: &[InstrumentView]) -> StrategyContext<'_> {
    StrategyContext { now: TimestampNs(now), account: AccountId(0), views }
}

fn mm(skew: i64, max_pos: i64, threshold: i64) -> MarketMaker {
    MarketMaker::new(MarketMakerParams {
        instrument: INST,
        half_spread_ticks: 2,
        size_lots: 3,
        skew_ticks_per_lot: skew,
        max_skew_ticks: 5,
        max_position_lots: max_pos,
        requote_threshold_ticks: threshold,
    })
}

/// The (side, price, qty) of every new order in `out`, checking they are post-only GTC limits.
fn news(out: &Intents) -> Vec<(Side, i64, i64)> {
    out.as_slice()
        .iter()
        .filter_map(|i| match *i {
            Intent::New { side, price, qty, ord_type, tif, flags, instrument, .. } => {
                assert_eq!((ord_type, tif, instrument), (OrdType::Limit, TimeInForce::Gtc, INST));
                assert!(flags.contains(OrderFlags::POST_ONLY));
                Some((side, price.ticks(), qty.lots()))
            }
            _ => None,
        })
        .collect()
}

fn update(
    kind: OrderUpdateKind,
    id: ClOrdId,
    orig: Option<ClOrdId>,
    side: Side,
    price: i64,
) -> OrderUpdate {
    OrderUpdate {
        kind,
        cl_ord_id: id,
        orig_cl_ord_id: orig,
        instrument: INST,
        side,
        price: Price(price),
        leaves_qty: Qty(3),
    }
}

/// Quotes from flat on a wide book and acks both; returns the strategy and its quote ids.
fn quoted(skew: i64, threshold: i64) -> (MarketMaker, ClOrdId, ClOrdId) {
    let mut s = mm(skew, 10, threshold);
    let mut out = Intents::with_capacity(8);
    let v = view((90, 5), (110, 5), 0);
    s.on_book(&ctx(1, &v), INST, &mut out);
    let (bid, ask) = (s.working(Side::Buy).unwrap(), s.working(Side::Sell).unwrap());
    out.clear();
    s.on_order_update(
        &ctx(2, &v),
        &update(OrderUpdateKind::Acked, bid.0, None, Side::Buy, bid.1.ticks()),
        &mut out,
    );
    s.on_order_update(
        &ctx(2, &v),
        &update(OrderUpdateKind::Acked, ask.0, None, Side::Sell, ask.1.ticks()),
        &mut out,
    );
    assert!(out.is_empty(), "acks alone must not requote: {:?}", out.as_slice());
    (s, bid.0, ask.0)
}

#[test]
fn market_maker_quotes_symmetric_around_microprice_when_flat() {
    let mut s = mm(1, 10, 1);
    let mut out = Intents::with_capacity(8);
    // Equal sizes: microprice = mid = 100.
    s.on_book(&ctx(1, &view((90, 5), (110, 5), 0)), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Buy, 98, 3), (Side::Sell, 102, 3)]);

    // Heavy bid: microprice 100 + 20 × 3/4 = 105.
    let mut s = mm(1, 10, 1);
    out.clear();
    s.on_book(&ctx(1, &view((90, 3), (110, 1), 0)), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Buy, 103, 3), (Side::Sell, 107, 3)]);

    // Fractional microprice 90 + 20/3 = 96.67: rounded outward, keeping the half spread.
    let mut s = mm(1, 10, 1);
    out.clear();
    s.on_book(&ctx(1, &view((90, 1), (110, 2), 0)), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Buy, 94, 3), (Side::Sell, 99, 3)]);
}

#[test]
fn market_maker_skews_down_when_long_and_up_when_short() {
    let mut out = Intents::with_capacity(8);
    let mut long = mm(1, 10, 1);
    long.on_book(&ctx(1, &view((90, 5), (110, 5), 2)), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Buy, 96, 3), (Side::Sell, 100, 3)]);

    out.clear();
    let mut short = mm(1, 10, 1);
    short.on_book(&ctx(1, &view((90, 5), (110, 5), -3)), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Buy, 101, 3), (Side::Sell, 105, 3)]);

    // Skew is clamped at max_skew_ticks (5).
    out.clear();
    let mut very_long = mm(1, 100, 1);
    very_long.on_book(&ctx(1, &view((90, 5), (110, 5), 50)), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Buy, 93, 3), (Side::Sell, 97, 3)]);
}

#[test]
fn market_maker_stays_post_only_on_a_tight_book() {
    let mut s = mm(0, 10, 1);
    let mut out = Intents::with_capacity(8);
    s.on_book(&ctx(1, &view((100, 5), (101, 5), 0)), INST, &mut out);
    let quotes = news(&out);
    assert!(quotes[0].1 < 101 && quotes[1].1 > 100, "{quotes:?}");
}

#[test]
fn market_maker_stops_quoting_the_increasing_side_at_max_position() {
    let mut out = Intents::with_capacity(8);
    let mut at_max = mm(0, 10, 1);
    at_max.on_book(&ctx(1, &view((90, 5), (110, 5), 10)), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Sell, 102, 3)]);

    out.clear();
    let mut short_max = mm(0, 10, 1);
    short_max.on_book(&ctx(1, &view((90, 5), (110, 5), -10)), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Buy, 98, 3)]);

    // Near the limit the increasing side shrinks to the room left.
    out.clear();
    let mut near = mm(0, 10, 1);
    near.on_book(&ctx(1, &view((90, 5), (110, 5), 9)), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Buy, 98, 1), (Side::Sell, 102, 3)]);
}

#[test]
fn market_maker_does_not_requote_below_threshold_and_replaces_when_it_moves() {
    let (mut s, bid_id, ask_id) = quoted(0, 3);
    let mut out = Intents::with_capacity(8);
    // Mid moves 100 → 102: below the 3-tick threshold, nothing.
    s.on_book(&ctx(3, &view((92, 5), (112, 5), 0)), INST, &mut out);
    assert!(out.is_empty(), "{:?}", out.as_slice());
    // Mid moves to 103: both quotes replaced, not stacked.
    s.on_book(&ctx(4, &view((93, 5), (113, 5), 0)), INST, &mut out);
    let replaced: Vec<_> = out
        .as_slice()
        .iter()
        .map(|i| match *i {
            Intent::Replace { cl_ord_id, price, qty, .. } => (cl_ord_id, price.ticks(), qty.lots()),
            other => panic!("expected only replaces, got {other:?}"),
        })
        .collect();
    assert_eq!(replaced, vec![(bid_id, 101, 3), (ask_id, 105, 3)]);
    // While the replaces are pending, further moves send nothing.
    out.clear();
    s.on_book(&ctx(5, &view((80, 5), (100, 5), 0)), INST, &mut out);
    assert!(out.is_empty());
}

#[test]
fn market_maker_tracks_replaces_fills_and_cancels() {
    let (mut s, bid_id, _ask_id) = quoted(0, 1);
    let mut out = Intents::with_capacity(8);
    let v = view((91, 5), (111, 5), 0);
    s.on_book(&ctx(3, &v), INST, &mut out);
    let Intent::Replace { new_cl_ord_id, .. } = out.as_slice()[0] else {
        panic!("{:?}", out.as_slice())
    };
    out.clear();
    s.on_order_update(
        &ctx(4, &v),
        &update(OrderUpdateKind::Replaced, new_cl_ord_id, Some(bid_id), Side::Buy, 99),
        &mut out,
    );
    assert_eq!(s.working(Side::Buy), Some((new_cl_ord_id, Price(99), Qty(3))));

    // A full fill of the bid makes the side idle; the strategy, now long, quotes a new bid.
    out.clear();
    let fill = OwnFill {
        cl_ord_id: new_cl_ord_id,
        instrument: INST,
        side: Side::Buy,
        price: Price(99),
        qty: Qty(3),
        leaves_qty: Qty(0),
        fee: 0,
        liquidity: Liquidity::Maker,
    };
    let long = view((91, 5), (111, 5), 3);
    s.on_fill(&ctx(5, &long), &fill, &mut out);
    assert_eq!(news(&out), vec![(Side::Buy, 99, 3)]);

    // A one-sided book cancels the working bid; the ask still has its replace pending, so
    // it is left alone until that is answered.
    let mut one_sided = view((91, 5), (111, 5), 3);
    one_sided[0].market.best_ask = None;
    let (bid_id, bid_px, _) = s.working(Side::Buy).unwrap();
    let acked = update(OrderUpdateKind::Acked, bid_id, None, Side::Buy, bid_px.ticks());
    s.on_order_update(&ctx(6, &long), &acked, &mut out);
    out.clear();
    s.on_book(&ctx(7, &one_sided), INST, &mut out);
    assert!(
        matches!(out.as_slice(), [Intent::Cancel { cl_ord_id, .. }] if *cl_ord_id == bid_id),
        "{:?}",
        out.as_slice()
    );
}

#[test]
fn market_maker_recovers_from_a_rejected_quote() {
    let mut s = mm(0, 10, 1);
    let mut out = Intents::with_capacity(8);
    let v = view((90, 5), (110, 5), 0);
    s.on_book(&ctx(1, &v), INST, &mut out);
    let (bid_id, _, _) = s.working(Side::Buy).unwrap();
    out.clear();
    s.on_order_update(
        &ctx(2, &v),
        &update(OrderUpdateKind::Rejected, bid_id, None, Side::Buy, 98),
        &mut out,
    );
    // The side is idle again, but a reject is not answered in the same instant (what
    // refused it still holds): nothing is sent until the next market event.
    assert!(s.working(Side::Buy).is_none());
    assert!(out.is_empty(), "{:?}", out.as_slice());
    s.on_book(&ctx(3, &v), INST, &mut out);
    let (new_bid, _, _) = s.working(Side::Buy).unwrap();
    assert_ne!(new_bid, bid_id);
    assert_eq!(news(&out), vec![(Side::Buy, 98, 3)]);
}

#[test]
fn market_maker_full_intents_buffer_sends_nothing_it_records() {
    let mut s = mm(0, 10, 1);
    let mut out = Intents::with_capacity(1);
    let v = view((90, 5), (110, 5), 0);
    s.on_book(&ctx(1, &v), INST, &mut out);
    assert_eq!((out.len(), out.dropped_total()), (1, 1));
    assert!(s.working(Side::Buy).is_some() && s.working(Side::Sell).is_none());
    out.clear();
    s.on_book(&ctx(2, &v), INST, &mut out);
    assert_eq!(news(&out), vec![(Side::Sell, 102, 3)]);
}

fn taker(cooldown_ns: u64, max_pos: i64) -> Taker {
    Taker::new(TakerParams {
        instrument: INST,
        imbalance_threshold_ppm: 500_000,
        size_lots: 4,
        max_position_lots: max_pos,
        cooldown_ns,
        slippage_ticks: 1,
    })
}

fn iocs(out: &Intents) -> Vec<(Side, i64, i64)> {
    out.as_slice()
        .iter()
        .map(|i| match *i {
            Intent::New {
                side,
                price,
                qty,
                tif: TimeInForce::Ioc,
                ord_type: OrdType::Limit,
                ..
            } => (side, price.ticks(), qty.lots()),
            other => panic!("expected IOC limits, got {other:?}"),
        })
        .collect()
}

fn finish(t: &mut Taker, now: u64, v: &[InstrumentView]) {
    let id = t.in_flight().unwrap();
    let mut out = Intents::with_capacity(4);
    let u = OrderUpdate {
        kind: OrderUpdateKind::Canceled,
        cl_ord_id: id,
        orig_cl_ord_id: None,
        instrument: INST,
        side: Side::Buy,
        price: Price(0),
        leaves_qty: Qty(0),
    };
    t.on_order_update(&ctx(now, v), &u, &mut out);
    assert!(t.in_flight().is_none());
}

#[test]
fn taker_fires_on_imbalance_only() {
    let mut t = taker(0, 100);
    let mut out = Intents::with_capacity(4);
    // Imbalance (4-2)/6 = 333_333 ppm: below threshold.
    t.on_book(&ctx(1, &view((100, 4), (101, 2), 0)), INST, &mut out);
    assert!(out.is_empty());
    // (3-1)/4 = 500_000 ppm: buys at the ask plus slippage.
    let v = view((100, 3), (101, 1), 0);
    t.on_book(&ctx(2, &v), INST, &mut out);
    assert_eq!(iocs(&out), vec![(Side::Buy, 102, 4)]);
    finish(&mut t, 3, &v);
    out.clear();
    t.on_book(&ctx(4, &view((100, 1), (101, 9), 0)), INST, &mut out);
    assert_eq!(iocs(&out), vec![(Side::Sell, 99, 4)]);
}

#[test]
fn taker_respects_cooldown_and_in_flight_order() {
    let mut t = taker(1_000, 100);
    let mut out = Intents::with_capacity(4);
    let v = view((100, 9), (101, 1), 0);
    t.on_book(&ctx(10, &v), INST, &mut out);
    assert_eq!(out.len(), 1);
    // In flight: nothing more, even after the cooldown.
    t.on_book(&ctx(5_000, &v), INST, &mut out);
    assert_eq!(out.len(), 1);
    // Done at t=20, but the cooldown runs until 1_010.
    finish(&mut t, 20, &v);
    out.clear();
    t.on_book(&ctx(1_009, &v), INST, &mut out);
    assert!(out.is_empty());
    t.on_timer(&ctx(1_010, &v), TimestampNs(1_010), &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn taker_respects_max_position() {
    let mut out = Intents::with_capacity(4);
    let mut t = taker(0, 10);
    t.on_book(&ctx(1, &view((100, 9), (101, 1), 8)), INST, &mut out);
    assert_eq!(iocs(&out), vec![(Side::Buy, 102, 2)]);
    out.clear();
    let mut t = taker(0, 10);
    t.on_book(&ctx(1, &view((100, 9), (101, 1), 10)), INST, &mut out);
    assert!(out.is_empty());
    // At the long limit it may still sell.
    t.on_book(&ctx(2, &view((100, 1), (101, 9), 10)), INST, &mut out);
    assert_eq!(iocs(&out), vec![(Side::Sell, 99, 4)]);
}
