//! Order-book micro-benchmarks, steady state: the book is pre-populated to a realistic
//! depth (50 levels a side, 20 orders a level) and every measured operation is paired with
//! an untimed inverse so depth stays constant. Timed operations run in batches of
//! `BATCH` with `iter_custom`, so the timer is read once per batch, not per operation.
//!
//! Run: `cargo bench -p keel-benches --bench book`

use criterion::{Criterion, criterion_group, criterion_main};
use keel_engine::book::{BookCapacity, L2Book, L3Book, LevelView, NewOrder, NullSink};
use keel_engine::{OrderId, Price, Qty, Side, TimeInForce};
use std::hint::black_box;
use std::time::{Duration, Instant};

const LEVELS: i64 = 50;
const PER_LEVEL: i64 = 20;
const LOT: i64 = 10;
const BATCH: usize = 256;
const MID: i64 = 10_000;

/// Deterministic pseudo-random numbers.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Order capacity of the benchmarked books: sized for a busy instrument, so the id index
/// (2 MiB) and the node slab (4 MiB) do not fit in L2 — as in production.
const ORDERS_CAP: u32 = 1 << 16;

/// Bids MID-1 down to MID-50, asks MID+1 up to MID+50; ids 1.. in time order.
fn populated() -> (L3Book, u64) {
    populated_cap(ORDERS_CAP)
}

fn populated_cap(orders: u32) -> (L3Book, u64) {
    let mut b = L3Book::new(BookCapacity { orders, levels_per_side: 4096 });
    let mut id = 0;
    for k in 0..PER_LEVEL {
        for lvl in 1..=LEVELS {
            for (side, px) in [(Side::Buy, MID - lvl), (Side::Sell, MID + lvl)] {
                id += 1;
                let qty = Qty(LOT + (k + lvl) % 3);
                b.submit(&NewOrder::limit(OrderId(id), side, Price(px), qty), &mut NullSink)
                    .unwrap();
            }
        }
    }
    (b, id)
}

/// Passive near-top (side, price) pairs: within the best 10 levels.
fn passive_prices(rng: &mut Lcg) -> Vec<(Side, Price)> {
    (0..BATCH)
        .map(|_| {
            let lvl = 1 + rng.next(10) as i64;
            if rng.next(2) == 0 {
                (Side::Buy, Price(MID - lvl))
            } else {
                (Side::Sell, Price(MID + lvl))
            }
        })
        .collect()
}

/// Runs `iters` timed operations in batches: `setup` (untimed), `timed`, `teardown`
/// (untimed), each over one batch.
fn batched<T>(
    iters: u64,
    state: &mut T,
    mut setup: impl FnMut(&mut T),
    mut timed: impl FnMut(&mut T, usize),
    mut teardown: impl FnMut(&mut T),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let n = left.min(BATCH);
        setup(state);
        let t = Instant::now();
        for i in 0..n {
            timed(state, i);
        }
        total += t.elapsed();
        teardown(state);
        left -= n;
    }
    total
}

fn bench_book(c: &mut Criterion) {
    let mut rng = Lcg(7);
    let prices = passive_prices(&mut rng);

    // add: passive limit orders (also on a 4k-order book whose index fits in cache) into existing near-top levels; cancelled untimed.
    for (name, cap) in [("book/add", ORDERS_CAP), ("book/add_cap4k", 1 << 12)] {
        let (b, id) = populated_cap(cap);
        let mut st = (b, [0u64; BATCH], id);
        c.bench_function(name, |bch| {
            bch.iter_custom(|iters| {
                batched(
                    iters,
                    &mut st,
                    |_| {},
                    |(b, ids, id), i| {
                        *id += 1;
                        ids[i] = *id;
                        let (side, px) = prices[i];
                        let o = NewOrder::limit(OrderId(*id), side, px, Qty(LOT));
                        black_box(b.submit(black_box(&o), &mut NullSink)).unwrap();
                    },
                    |(b, ids, _)| {
                        for &x in ids.iter() {
                            let _ = b.cancel(OrderId(x), &mut NullSink);
                        }
                    },
                )
            })
        });
    }

    // cancel: orders added untimed (at the back of near-top levels), cancelled in shuffled
    // order.
    {
        let (b, id) = populated();
        let mut st = (b, [0u64; BATCH], id);
        let mut order: Vec<usize> = (0..BATCH).collect();
        for i in (1..BATCH).rev() {
            order.swap(i, rng.next(i as u64 + 1) as usize);
        }
        c.bench_function("book/cancel", |bch| {
            bch.iter_custom(|iters| {
                batched(
                    iters,
                    &mut st,
                    |(b, ids, id)| {
                        for (i, &(side, px)) in prices.iter().enumerate() {
                            *id += 1;
                            ids[i] = *id;
                            let o = NewOrder::limit(OrderId(*id), side, px, Qty(LOT));
                            b.submit(&o, &mut NullSink).unwrap();
                        }
                    },
                    |(b, ids, _), i| {
                        let x = OrderId(ids[order[i]]);
                        black_box(b.cancel(black_box(x), &mut NullSink)).unwrap();
                    },
                    |(b, ids, _)| {
                        for &x in ids.iter() {
                            let _ = b.cancel(OrderId(x), &mut NullSink);
                        }
                    },
                )
            })
        });
    }

    // add + cancel of the same order, both timed (the pair a quoting strategy sends).
    {
        let (mut b, mut id) = populated();
        let mut i = 0;
        c.bench_function("book/add_cancel_pair", |bch| {
            bch.iter(|| {
                id += 1;
                i = (i + 1) % BATCH;
                let (side, px) = prices[i];
                b.submit(&NewOrder::limit(OrderId(id), side, px, Qty(LOT)), &mut NullSink).unwrap();
                black_box(b.cancel(OrderId(id), &mut NullSink)).unwrap();
            })
        });
    }

    // Distinct resting orders spread over both sides and all levels.
    let (_, last) = populated();
    let amend_ids: Vec<OrderId> = (0..BATCH as u64).map(|k| OrderId(1 + (k * 7) % last)).collect();

    // amend quantity down by one lot (keeps priority); restored untimed (which moves the
    // order to the back of its level: the book stays the same size).
    {
        let mut st = (populated().0, [(Price(0), Qty(0), Qty(0)); BATCH]);
        c.bench_function("book/amend_qty_down", |bch| {
            bch.iter_custom(|iters| {
                batched(
                    iters,
                    &mut st,
                    |(b, targets)| {
                        for (t, &x) in targets.iter_mut().zip(&amend_ids) {
                            let o = b.order(x).unwrap();
                            let total = o.filled + o.visible;
                            *t = (o.price, total - Qty(1), total);
                        }
                    },
                    |(b, targets), i| {
                        let (px, q, _) = targets[i];
                        black_box(b.amend(amend_ids[i], px, q, &mut NullSink)).unwrap();
                    },
                    |(b, targets)| {
                        for (&(px, _, q), &x) in targets.iter().zip(&amend_ids) {
                            b.amend(x, px, q, &mut NullSink).unwrap();
                        }
                    },
                )
            })
        });
    }

    // amend price one tick away from the touch (loses priority, moves level); moved back
    // untimed.
    {
        let mut st = (populated().0, [(Price(0), Price(0), Qty(0)); BATCH]);
        c.bench_function("book/amend_price", |bch| {
            bch.iter_custom(|iters| {
                batched(
                    iters,
                    &mut st,
                    |(b, targets)| {
                        for (t, &x) in targets.iter_mut().zip(&amend_ids) {
                            let o = b.order(x).unwrap();
                            let away = match o.side {
                                Side::Buy => o.price - Price(1),
                                Side::Sell => o.price + Price(1),
                            };
                            *t = (o.price, away, o.filled + o.visible);
                        }
                    },
                    |(b, targets), i| {
                        let (_, px, q) = targets[i];
                        black_box(b.amend(amend_ids[i], px, q, &mut NullSink)).unwrap();
                    },
                    |(b, targets)| {
                        for (&(px, _, q), &x) in targets.iter().zip(&amend_ids) {
                            b.amend(x, px, q, &mut NullSink).unwrap();
                        }
                    },
                )
            })
        });
    }

    // A marketable IOC sweeping 5 full ask levels (100 fills); the levels are rebuilt
    // untimed.
    {
        let (mut b, mut id) = populated();
        let sweep_qty: i64 =
            (1..=5).flat_map(|l| (0..PER_LEVEL).map(move |k| LOT + (k + l) % 3)).sum();
        c.bench_function("book/sweep_5_levels_100_fills", |bch| {
            bch.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    id += 1;
                    let o = NewOrder::limit(OrderId(id), Side::Buy, Price(MID + 5), Qty(sweep_qty))
                        .tif(TimeInForce::Ioc);
                    let t = Instant::now();
                    let r = black_box(b.submit(black_box(&o), &mut NullSink)).unwrap();
                    total += t.elapsed();
                    assert_eq!(r.filled.0, sweep_qty);
                    for k in 0..PER_LEVEL {
                        for lvl in 1..=5 {
                            id += 1;
                            let o = NewOrder::limit(
                                OrderId(id),
                                Side::Sell,
                                Price(MID + lvl),
                                Qty(LOT + (k + lvl) % 3),
                            );
                            b.submit(&o, &mut NullSink).unwrap();
                        }
                    }
                }
                total
            })
        });
    }

    // L2 updates: modify near-top levels, delete and re-create them; depth stays 50 a side.
    {
        let mut l2 = L2Book::new(BookCapacity { orders: 0, levels_per_side: 4096 });
        for lvl in 1..=LEVELS {
            l2.set(Side::Buy, Price(MID - lvl), Qty(100)).unwrap();
            l2.set(Side::Sell, Price(MID + lvl), Qty(100)).unwrap();
        }
        let mut updates = Vec::with_capacity(1024);
        for _ in 0..512 {
            let lvl = 1 + rng.next(20) as i64;
            let (side, px) =
                if rng.next(2) == 0 { (Side::Buy, MID - lvl) } else { (Side::Sell, MID + lvl) };
            if rng.next(4) == 0 {
                updates.push((side, Price(px), Qty(0)));
                updates.push((side, Price(px), Qty(50 + rng.next(100) as i64)));
            } else {
                updates.push((side, Price(px), Qty(1 + rng.next(200) as i64)));
            }
        }
        let mut i = 0;
        c.bench_function("book/l2_update", |bch| {
            bch.iter(|| {
                i = if i + 1 == updates.len() { 0 } else { i + 1 };
                let (s, p, q) = updates[i];
                black_box(l2.set(s, black_box(p), q)).unwrap();
            })
        });
    }

    // Top-of-book analytics on the L3 book: best bid/ask, depth 10, imbalance 5, microprice.
    {
        let (b, _) = populated();
        let mut out = [LevelView::default(); 10];
        c.bench_function("book/top_depth10_imbalance_microprice", |bch| {
            bch.iter(|| {
                let n = black_box(&b).depth(Side::Buy, &mut out);
                let imb = b.imbalance(5).ppm();
                let mp = b.microprice().map(|m| m.subticks(1_000_000));
                black_box((b.best_bid(), b.best_ask(), n, imb, mp))
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench_book
}
criterion_main!(benches);
