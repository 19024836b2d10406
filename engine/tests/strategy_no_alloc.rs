//! No allocation on the steady-state path: both reference strategies over a long stream of
//! book updates, fills and order updates, plus `PositionBook::apply_fill`, counted by a
//! thread-local counting global allocator (other test threads do not disturb the count).

use keel_engine::positions::PositionBook;
use keel_engine::schema::Liquidity;
use keel_engine::strategy::{
    InstrumentView, Intent, Intents, MarketView, OrderUpdate, OrderUpdateKind, OwnFill,
    StrategyContext, build_strategy,
};
use keel_engine::{AccountId, InstrumentId, Price, Qty, Side, TimestampNs};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

const INST: InstrumentId = InstrumentId(0);

/// A tiny deterministic generator (xorshift) so the stream needs no allocation.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n) as i64
    }
}

#[test]
fn steady_state_does_not_allocate() {
    // Start-up: allocation allowed here.
    let mut strategies = [
        build_strategy("market_maker", &[("instrument", "0"), ("skew_ticks_per_lot", "1")])
            .unwrap(),
        build_strategy("taker", &[("instrument", "0"), ("cooldown_ns", "10")]).unwrap(),
    ];
    let mut out = Intents::with_capacity(16);
    let mut book = PositionBook::new(2, &[100]).unwrap();
    let mut views =
        [InstrumentView { instrument: INST, market: MarketView::default(), position: Qty(0) }];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut sent = 0u64;

    let before = allocations();
    for step in 0..20_000u64 {
        let now = TimestampNs(step * 7);
        let mid = 1_000 + rng.next(40);
        views[0].market = MarketView::two_sided(
            (mid - 1 - rng.next(3), 1 + rng.next(9)),
            (mid + 1, 1 + rng.next(9)),
        );
        for (a, s) in strategies.iter_mut().enumerate() {
            let account = AccountId(a as u32);
            views[0].position = book.position(account, INST).unwrap().net_qty();
            let ctx = StrategyContext { now, account, views: &views };
            out.clear();
            s.on_book(&ctx, INST, &mut out);
            if step % 97 == 0 {
                s.on_timer(&ctx, now, &mut out);
            }
            // Play venue: ack, fill or reject whatever was asked, immediately.
            let mut i = 0;
            while i < out.len() {
                let intent = out.as_slice()[i];
                i += 1;
                let views_now = views;
                let (kind, id, orig, side, price, qty) = match intent {
                    Intent::New { cl_ord_id, side, price, qty, .. } => {
                        if rng.next(3) == 0 {
                            let px = price;
                            let f = rng.next(qty.lots() as u64) + 1;
                            book.apply_fill(account, INST, side, px, Qty(f), 1).unwrap();
                            let mut v = views_now;
                            v[0].position = book.position(account, INST).unwrap().net_qty();
                            let ctx = StrategyContext { now, account, views: &v };
                            let fill = OwnFill {
                                cl_ord_id,
                                instrument: INST,
                                side,
                                price: px,
                                qty: Qty(f),
                                leaves_qty: qty - Qty(f),
                                fee: 1,
                                liquidity: Liquidity::Taker,
                            };
                            s.on_fill(&ctx, &fill, &mut out);
                            if fill.leaves_qty.is_zero() {
                                continue;
                            }
                        }
                        let kind = if rng.next(10) == 0 {
                            OrderUpdateKind::Rejected
                        } else {
                            OrderUpdateKind::Acked
                        };
                        (kind, cl_ord_id, None, side, price, qty)
                    }
                    Intent::Cancel { cl_ord_id, .. } => {
                        (OrderUpdateKind::Canceled, cl_ord_id, None, Side::Buy, Price(0), Qty(0))
                    }
                    Intent::Replace { cl_ord_id, new_cl_ord_id, price, qty } => (
                        OrderUpdateKind::Replaced,
                        new_cl_ord_id,
                        Some(cl_ord_id),
                        Side::Buy,
                        price,
                        qty,
                    ),
                };
                sent += 1;
                // Side of a cancel/replace is unknown here; send it for both sides — the
                // strategies ignore updates for ids they do not own.
                for side in [side, side.opposite()] {
                    let ctx = StrategyContext { now, account, views: &views };
                    let u = OrderUpdate {
                        kind,
                        cl_ord_id: id,
                        orig_cl_ord_id: orig,
                        instrument: INST,
                        side,
                        price,
                        leaves_qty: qty,
                    };
                    s.on_order_update(&ctx, &u, &mut out);
                }
                if i > 64 {
                    break; // bounded: a strategy may keep reacting, that is fine here
                }
            }
        }
    }
    let during = allocations() - before;
    assert_eq!(during, 0, "steady state allocated {during} times");
    assert!(sent > 1_000, "the stream exercised the strategies ({sent} intents)");
    let p = book.position(AccountId(0), INST).unwrap();
    assert_eq!(p.bought_lots() - p.sold_lots(), p.net_qty_lots());
}
