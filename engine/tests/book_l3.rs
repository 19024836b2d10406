//! Unit tests of the L3 matching book: one per order type and per edge case.

use keel_engine::book::{
    BookCapacity, BookError, BookEvent, CancelReason, Executed, Fill, L3Book, LevelView, NewOrder,
};
use keel_engine::{OrdType, OrderId, Price, Qty, Side, TimeInForce};

const CAP: BookCapacity = BookCapacity { orders: 64, levels_per_side: 8 };

fn book() -> L3Book {
    L3Book::new(CAP)
}

fn lim(id: u64, side: Side, px: i64, qty: i64) -> NewOrder {
    NewOrder::limit(OrderId(id), side, Price(px), Qty(qty))
}

/// Submits and returns the events, asserting the book is valid afterwards.
fn submit(b: &mut L3Book, o: NewOrder) -> (Result<Executed, BookError>, Vec<BookEvent>) {
    let mut ev = Vec::new();
    let r = b.submit(&o, &mut ev);
    b.validate().unwrap();
    (r, ev)
}

fn queue(b: &L3Book, side: Side, px: i64) -> Vec<(u64, i64)> {
    b.orders_at(side, Price(px)).map(|o| (o.id.0, o.visible.0)).collect()
}

fn fills(ev: &[BookEvent]) -> Vec<(u64, i64, i64)> {
    ev.iter()
        .filter_map(|e| match e {
            BookEvent::Fill(f) => Some((f.maker.0, f.price.0, f.qty.0)),
            _ => None,
        })
        .collect()
}

fn asks_ladder(b: &mut L3Book) {
    // asks: 101 x (1:5, 2:5), 102 x (3:10), 103 x (4:10)
    for o in [
        lim(1, Side::Sell, 101, 5),
        lim(2, Side::Sell, 101, 5),
        lim(3, Side::Sell, 102, 10),
        lim(4, Side::Sell, 103, 10),
    ] {
        submit(b, o).0.unwrap();
    }
}

#[test]
fn limit_rests_then_crossing_limit_sweeps_at_maker_prices_and_rests_remainder() {
    let mut b = book();
    asks_ladder(&mut b);
    let (r, ev) = submit(&mut b, lim(10, Side::Buy, 102, 25));
    assert_eq!(r, Ok(Executed { filled: Qty(20), rested: Qty(5), cancelled: Qty(0) }));
    assert_eq!(fills(&ev), [(1, 101, 5), (2, 101, 5), (3, 102, 10)]);
    assert_eq!(
        ev[0],
        BookEvent::Fill(Fill {
            maker: OrderId(1),
            taker: OrderId(10),
            taker_side: Side::Buy,
            price: Price(101),
            qty: Qty(5),
            maker_leaves: Qty(0),
            taker_leaves: Qty(20),
        })
    );
    assert_eq!(
        ev.last(),
        Some(&BookEvent::Rested {
            id: OrderId(10),
            side: Side::Buy,
            price: Price(102),
            leaves: Qty(5),
            visible: Qty(5)
        })
    );
    assert_eq!(b.best_bid(), Some((Price(102), Qty(5))));
    assert_eq!(b.best_ask(), Some((Price(103), Qty(10))));
}

#[test]
fn partial_fill_of_maker_keeps_its_priority() {
    let mut b = book();
    asks_ladder(&mut b);
    let (r, _) = submit(&mut b, lim(10, Side::Buy, 101, 3));
    assert_eq!(r.unwrap().filled, Qty(3));
    assert_eq!(queue(&b, Side::Sell, 101), [(1, 2), (2, 5)]);
    assert_eq!(b.order(OrderId(1)).unwrap().filled, Qty(3));
}

#[test]
fn market_order_sweeps_and_cancels_remainder() {
    let mut b = book();
    asks_ladder(&mut b);
    let (r, ev) = submit(&mut b, NewOrder::market(OrderId(10), Side::Buy, Qty(40)));
    assert_eq!(r, Ok(Executed { filled: Qty(30), rested: Qty(0), cancelled: Qty(10) }));
    assert_eq!(fills(&ev).len(), 4);
    assert!(matches!(
        ev.last(),
        Some(BookEvent::Cancelled { leaves: Qty(10), reason: CancelReason::Unfilled, .. })
    ));
    assert!(b.is_empty());
    assert_eq!(b.level_count(Side::Sell), 0);
}

#[test]
fn market_order_into_empty_book_is_cancelled_whole() {
    let mut b = book();
    let (r, ev) = submit(&mut b, NewOrder::market(OrderId(1), Side::Sell, Qty(7)));
    assert_eq!(r, Ok(Executed { filled: Qty(0), rested: Qty(0), cancelled: Qty(7) }));
    assert_eq!(ev.len(), 1);
    assert!(b.is_empty());
    // Even with a GTC time in force, a market order never rests.
    let (r, _) =
        submit(&mut b, NewOrder::market(OrderId(2), Side::Buy, Qty(1)).tif(TimeInForce::Gtc));
    assert_eq!(r.unwrap().cancelled, Qty(1));
    assert!(b.is_empty());
}

#[test]
fn ioc_remainder_is_cancelled() {
    let mut b = book();
    asks_ladder(&mut b);
    let (r, ev) = submit(&mut b, lim(10, Side::Buy, 101, 12).tif(TimeInForce::Ioc));
    assert_eq!(r, Ok(Executed { filled: Qty(10), rested: Qty(0), cancelled: Qty(2) }));
    assert!(matches!(ev.last(), Some(BookEvent::Cancelled { reason: CancelReason::Unfilled, .. })));
    assert_eq!(b.best_bid(), None);
    assert_eq!(b.best_ask(), Some((Price(102), Qty(10))));
}

#[test]
fn fok_that_cannot_fill_completely_rejects_with_no_fills() {
    let mut b = book();
    asks_ladder(&mut b);
    let (r, ev) = submit(&mut b, lim(10, Side::Buy, 102, 21).tif(TimeInForce::Fok));
    assert_eq!(r, Err(BookError::FokUnfillable { qty: Qty(21), available: Qty(20) }));
    assert!(ev.is_empty());
    assert_eq!(b.len(), 4);
    assert_eq!(queue(&b, Side::Sell, 101), [(1, 5), (2, 5)]);
    // Exactly enough fills completely.
    let (r, _) = submit(&mut b, lim(11, Side::Buy, 102, 20).tif(TimeInForce::Fok));
    assert_eq!(r.unwrap().filled, Qty(20));
    // Market FOK into an empty side.
    let mut e = book();
    let (r, ev) =
        submit(&mut e, NewOrder::market(OrderId(1), Side::Buy, Qty(1)).tif(TimeInForce::Fok));
    assert_eq!(r, Err(BookError::FokUnfillable { qty: Qty(1), available: Qty(0) }));
    assert!(ev.is_empty());
}

#[test]
fn fok_counts_iceberg_reserve() {
    let mut b = book();
    submit(&mut b, lim(1, Side::Sell, 101, 10).iceberg(Qty(2))).0.unwrap();
    assert_eq!(b.best_ask(), Some((Price(101), Qty(2))));
    let (r, ev) = submit(&mut b, lim(2, Side::Buy, 101, 10).tif(TimeInForce::Fok));
    assert_eq!(r.unwrap().filled, Qty(10));
    assert_eq!(fills(&ev).len(), 5);
    assert!(b.is_empty());
}

#[test]
fn post_only_that_would_cross_is_rejected_and_one_that_does_not_rests() {
    let mut b = book();
    asks_ladder(&mut b);
    let (r, ev) = submit(&mut b, lim(10, Side::Buy, 101, 1).post_only());
    assert_eq!(
        r,
        Err(BookError::PostOnlyWouldCross { price: Price(101), opposite_best: Price(101) })
    );
    assert!(ev.is_empty());
    let (r, _) = submit(&mut b, lim(11, Side::Buy, 100, 1).post_only());
    assert_eq!(r.unwrap().rested, Qty(1));
    // Post-only cannot be combined with a market order or IOC/FOK.
    let (r, _) = submit(&mut b, lim(12, Side::Buy, 90, 1).post_only().tif(TimeInForce::Ioc));
    assert_eq!(r, Err(BookError::PostOnlyNotResting));
}

#[test]
fn iceberg_shows_display_trades_display_per_pass_and_refills_at_back() {
    let mut b = book();
    submit(&mut b, lim(1, Side::Sell, 101, 10).iceberg(Qty(3))).0.unwrap();
    submit(&mut b, lim(2, Side::Sell, 101, 4)).0.unwrap();
    assert_eq!(b.best_ask(), Some((Price(101), Qty(7))));
    assert_eq!(queue(&b, Side::Sell, 101), [(1, 3), (2, 4)]);
    let o = b.order(OrderId(1)).unwrap();
    assert_eq!((o.visible, o.hidden), (Qty(3), Qty(7)));

    // 5 lots: the iceberg trades only its 3 displayed, refills and goes behind order 2,
    // which then trades 2.
    let (r, ev) = submit(&mut b, lim(10, Side::Buy, 101, 5));
    assert_eq!(r.unwrap().filled, Qty(5));
    assert_eq!(fills(&ev), [(1, 101, 3), (2, 101, 2)]);
    assert_eq!(
        ev[1],
        BookEvent::Replenished {
            id: OrderId(1),
            side: Side::Sell,
            price: Price(101),
            visible: Qty(3),
            hidden: Qty(4)
        }
    );
    assert_eq!(queue(&b, Side::Sell, 101), [(2, 2), (1, 3)]);
    assert_eq!(b.best_ask(), Some((Price(101), Qty(5))));

    // Drain all: last refill shows only what's left of the reserve (1).
    let (r, _) = submit(&mut b, lim(11, Side::Buy, 101, 8));
    assert_eq!(r.unwrap().filled, Qty(8));
    assert_eq!(queue(&b, Side::Sell, 101), [(1, 1)]);
    let o = b.order(OrderId(1)).unwrap();
    assert_eq!((o.visible, o.hidden, o.filled), (Qty(1), Qty(0), Qty(9)));
}

#[test]
fn incoming_iceberg_trades_full_size_then_rests_display() {
    let mut b = book();
    asks_ladder(&mut b);
    let (r, ev) = submit(&mut b, lim(10, Side::Buy, 101, 14).iceberg(Qty(2)));
    assert_eq!(r.unwrap(), Executed { filled: Qty(10), rested: Qty(4), cancelled: Qty(0) });
    assert!(matches!(ev.last(), Some(BookEvent::Rested { leaves: Qty(4), visible: Qty(2), .. })));
    assert_eq!(b.best_bid(), Some((Price(101), Qty(2))));
}

#[test]
fn iceberg_display_must_be_within_qty() {
    let mut b = book();
    for d in [0, -1, 11] {
        let (r, _) = submit(&mut b, lim(1, Side::Sell, 101, 10).iceberg(Qty(d)));
        assert_eq!(r, Err(BookError::InvalidDisplay { display: Qty(d), qty: Qty(10) }));
    }
}

#[test]
fn amend_qty_down_keeps_priority() {
    let mut b = book();
    asks_ladder(&mut b);
    let mut ev = Vec::new();
    let r = b.amend(OrderId(1), Price(101), Qty(2), &mut ev).unwrap();
    assert_eq!(r.rested, Qty(2));
    assert_eq!(
        ev,
        [BookEvent::Amended {
            id: OrderId(1),
            side: Side::Sell,
            price: Price(101),
            leaves: Qty(2),
            priority_kept: true
        }]
    );
    assert_eq!(queue(&b, Side::Sell, 101), [(1, 2), (2, 5)]);
    assert_eq!(b.best_ask(), Some((Price(101), Qty(7))));
    b.validate().unwrap();
}

#[test]
fn amend_qty_up_loses_priority() {
    let mut b = book();
    asks_ladder(&mut b);
    let mut ev = Vec::new();
    b.amend(OrderId(1), Price(101), Qty(6), &mut ev).unwrap();
    assert_eq!(queue(&b, Side::Sell, 101), [(2, 5), (1, 6)]);
    assert!(matches!(ev[0], BookEvent::Amended { priority_kept: false, .. }));
    b.validate().unwrap();
}

#[test]
fn amend_price_loses_priority_and_may_trade() {
    let mut b = book();
    asks_ladder(&mut b);
    submit(&mut b, lim(5, Side::Sell, 102, 1)).0.unwrap();
    let mut ev = Vec::new();
    // 1 moves from 101 to 102: behind 3 and 5.
    b.amend(OrderId(1), Price(102), Qty(5), &mut ev).unwrap();
    assert_eq!(queue(&b, Side::Sell, 102), [(3, 10), (5, 1), (1, 5)]);
    // A bid re-priced through the ask trades as a taker at the makers' prices.
    submit(&mut b, lim(20, Side::Buy, 99, 7)).0.unwrap();
    ev.clear();
    let r = b.amend(OrderId(20), Price(101), Qty(7), &mut ev).unwrap();
    assert_eq!(r, Executed { filled: Qty(5), rested: Qty(2), cancelled: Qty(0) });
    assert_eq!(fills(&ev), [(2, 101, 5)]);
    assert_eq!(b.best_bid(), Some((Price(101), Qty(2))));
    b.validate().unwrap();
}

#[test]
fn amend_is_against_total_quantity_and_at_or_below_filled_ends_the_order() {
    let mut b = book();
    submit(&mut b, lim(1, Side::Sell, 101, 10)).0.unwrap();
    submit(&mut b, lim(2, Side::Buy, 101, 4)).0.unwrap(); // fills 4 of order 1
    let mut ev = Vec::new();
    // Total 8 with 4 filled leaves 4: a reduction from 6, priority kept.
    b.amend(OrderId(1), Price(101), Qty(8), &mut ev).unwrap();
    assert_eq!(b.order(OrderId(1)).unwrap().visible, Qty(4));
    ev.clear();
    let r = b.amend(OrderId(1), Price(101), Qty(4), &mut ev).unwrap();
    assert_eq!(r, Executed { filled: Qty(0), rested: Qty(0), cancelled: Qty(4) });
    assert!(matches!(
        ev[0],
        BookEvent::Cancelled { leaves: Qty(4), reason: CancelReason::AmendedBelowFilled, .. }
    ));
    assert!(b.is_empty());
    b.validate().unwrap();
}

#[test]
fn amend_rejections_change_nothing() {
    let mut b = book();
    asks_ladder(&mut b);
    submit(&mut b, lim(10, Side::Buy, 100, 1).post_only()).0.unwrap();
    let mut ev = Vec::new();
    assert_eq!(
        b.amend(OrderId(99), Price(1), Qty(1), &mut ev),
        Err(BookError::UnknownOrderId { id: OrderId(99) })
    );
    assert_eq!(
        b.amend(OrderId(1), Price(101), Qty(0), &mut ev),
        Err(BookError::InvalidQty { qty: Qty(0) })
    );
    assert_eq!(
        b.amend(OrderId(10), Price(102), Qty(1), &mut ev),
        Err(BookError::PostOnlyWouldCross { price: Price(102), opposite_best: Price(101) })
    );
    assert!(ev.is_empty());
    assert_eq!(b.order(OrderId(10)).unwrap().price, Price(100));
}

#[test]
fn amend_iceberg_down_shrinks_reserve_first() {
    let mut b = book();
    submit(&mut b, lim(1, Side::Sell, 101, 10).iceberg(Qty(3))).0.unwrap();
    b.amend(OrderId(1), Price(101), Qty(5), &mut Vec::new()).unwrap();
    let o = b.order(OrderId(1)).unwrap();
    assert_eq!((o.visible, o.hidden), (Qty(3), Qty(2)));
    b.amend(OrderId(1), Price(101), Qty(2), &mut Vec::new()).unwrap();
    let o = b.order(OrderId(1)).unwrap();
    assert_eq!((o.visible, o.hidden), (Qty(2), Qty(0)));
    b.validate().unwrap();
}

#[test]
fn cancel_removes_and_unknown_id_is_a_typed_error() {
    let mut b = book();
    asks_ladder(&mut b);
    let mut ev = Vec::new();
    assert_eq!(b.cancel(OrderId(1), &mut ev), Ok(Qty(5)));
    assert_eq!(queue(&b, Side::Sell, 101), [(2, 5)]);
    assert_eq!(b.cancel(OrderId(1), &mut ev), Err(BookError::UnknownOrderId { id: OrderId(1) }));
    assert_eq!(
        b.cancel(OrderId(777), &mut ev),
        Err(BookError::UnknownOrderId { id: OrderId(777) })
    );
    assert_eq!(ev.len(), 1);
    b.cancel(OrderId(2), &mut ev).unwrap();
    assert_eq!(b.level_count(Side::Sell), 2);
    b.validate().unwrap();
}

#[test]
fn duplicate_order_id_is_rejected() {
    let mut b = book();
    submit(&mut b, lim(1, Side::Sell, 101, 5)).0.unwrap();
    let (r, ev) = submit(&mut b, lim(1, Side::Buy, 90, 5));
    assert_eq!(r, Err(BookError::DuplicateOrderId { id: OrderId(1) }));
    assert!(ev.is_empty());
    assert_eq!(b.len(), 1);
}

#[test]
fn invalid_orders_are_rejected() {
    let mut b = book();
    assert_eq!(
        submit(&mut b, lim(1, Side::Buy, 1, 0)).0,
        Err(BookError::InvalidQty { qty: Qty(0) })
    );
    let mut stop = lim(1, Side::Buy, 1, 1);
    stop.ord_type = OrdType::Stop;
    assert_eq!(
        submit(&mut b, stop).0,
        Err(BookError::UnsupportedOrdType { ord_type: OrdType::Stop })
    );
    assert_eq!(BookError::PostOnlyNotResting.code(), "POST_ONLY_NOT_RESTING");
    assert_eq!(
        BookError::FokUnfillable { qty: Qty(3), available: Qty(1) }.to_string(),
        "FOK_UNFILLABLE: qty=3, available=1"
    );
}

#[test]
fn capacity_exhausted_is_a_clean_error_without_realloc() {
    let mut b = L3Book::new(BookCapacity { orders: 4, levels_per_side: 2 });
    submit(&mut b, lim(1, Side::Buy, 10, 1)).0.unwrap();
    submit(&mut b, lim(2, Side::Buy, 11, 1)).0.unwrap();
    // Third bid level.
    let (r, ev) = submit(&mut b, lim(3, Side::Buy, 9, 1));
    assert_eq!(r, Err(BookError::LevelsFull { side: Side::Buy, capacity: 2 }));
    assert!(ev.is_empty());
    // Existing level still accepts.
    submit(&mut b, lim(3, Side::Buy, 10, 1)).0.unwrap();
    submit(&mut b, lim(4, Side::Sell, 20, 1)).0.unwrap();
    let (r, _) = submit(&mut b, lim(5, Side::Sell, 20, 1));
    assert_eq!(r, Err(BookError::OrdersFull { capacity: 4 }));
    // Orders that cannot rest do not need room.
    let (r, _) = submit(&mut b, lim(5, Side::Sell, 11, 1).tif(TimeInForce::Ioc));
    assert_eq!(r.unwrap().filled, Qty(1));
    // Freed room is reusable.
    submit(&mut b, lim(6, Side::Sell, 21, 1)).0.unwrap();
    assert_eq!(
        submit(&mut b, lim(7, Side::Buy, 1, 1)).0,
        Err(BookError::OrdersFull { capacity: 4 })
    );
    // Amend to a new price when the side is full, from a shared level: refused.
    b.cancel(OrderId(6), &mut Vec::new()).unwrap();
    submit(&mut b, lim(7, Side::Buy, 12, 1)).0.unwrap();
    assert_eq!(
        b.amend(OrderId(1), Price(5), Qty(1), &mut Vec::new()),
        Err(BookError::LevelsFull { side: Side::Buy, capacity: 2 })
    );
    assert_eq!(b.capacity(), BookCapacity { orders: 4, levels_per_side: 2 });
    b.validate().unwrap();
}

#[test]
fn amend_alone_in_a_full_ladder_may_move_level() {
    let mut b = L3Book::new(BookCapacity { orders: 4, levels_per_side: 2 });
    submit(&mut b, lim(1, Side::Buy, 10, 1)).0.unwrap();
    submit(&mut b, lim(2, Side::Buy, 11, 1)).0.unwrap();
    b.amend(OrderId(1), Price(9), Qty(1), &mut Vec::new()).unwrap();
    assert_eq!(b.levels(Side::Buy).map(|l| l.price.0).collect::<Vec<_>>(), [11, 9]);
}

#[test]
fn depth_imbalance_microprice() {
    let mut b = book();
    asks_ladder(&mut b);
    submit(&mut b, lim(10, Side::Buy, 99, 30)).0.unwrap();
    let mut out = [LevelView::default(); 2];
    assert_eq!(b.depth(Side::Sell, &mut out), 2);
    assert_eq!(out[0], LevelView { price: Price(101), qty: Qty(10), orders: 2 });
    assert_eq!(out[1], LevelView { price: Price(102), qty: Qty(10), orders: 1 });
    let imb = b.imbalance(2);
    assert_eq!((imb.bid, imb.ask), (Qty(30), Qty(20)));
    assert_eq!(imb.ppm(), Some(200_000));
    let m = b.microprice().unwrap();
    // (99·10 + 101·30) / 40 = 100.5
    assert_eq!(m.subticks(10), 1005);
}

#[test]
fn feed_replica_add_modify_execute_delete_and_clear() {
    let mut b = book();
    b.add(OrderId(1), Side::Buy, Price(100), Qty(5)).unwrap();
    b.add(OrderId(2), Side::Buy, Price(100), Qty(5)).unwrap();
    b.add(OrderId(3), Side::Sell, Price(101), Qty(5)).unwrap();
    assert!(matches!(
        b.add(OrderId(4), Side::Buy, Price(101), Qty(1)),
        Err(BookError::PostOnlyWouldCross { .. })
    ));
    assert_eq!(b.execute(OrderId(1), Qty(2)), Ok(Qty(3)));
    assert_eq!(b.execute(OrderId(1), Qty(4)), Err(BookError::InvalidQty { qty: Qty(4) }));
    b.modify(OrderId(1), Price(100), Qty(1)).unwrap(); // down: keeps priority
    assert_eq!(queue(&b, Side::Buy, 100), [(1, 1), (2, 5)]);
    b.modify(OrderId(1), Price(100), Qty(3)).unwrap(); // up: loses it
    assert_eq!(queue(&b, Side::Buy, 100), [(2, 5), (1, 3)]);
    assert_eq!(b.execute(OrderId(2), Qty(5)), Ok(Qty(0)));
    b.delete(OrderId(1)).unwrap();
    assert_eq!(b.best_bid(), None);
    b.validate().unwrap();
    b.clear();
    assert!(b.is_empty());
    assert_eq!(b.best_ask(), None);
    b.add(OrderId(3), Side::Sell, Price(101), Qty(5)).unwrap();
    b.validate().unwrap();
}

#[test]
fn feed_execute_on_iceberg_refills_at_back() {
    let mut b = book();
    b.submit(&lim(1, Side::Sell, 101, 6).iceberg(Qty(2)), &mut Vec::new()).unwrap();
    b.add(OrderId(2), Side::Sell, Price(101), Qty(1)).unwrap();
    assert_eq!(b.execute(OrderId(1), Qty(2)), Ok(Qty(4)));
    assert_eq!(queue(&b, Side::Sell, 101), [(2, 1), (1, 2)]);
    b.validate().unwrap();
}
