//! The steady state allocates nothing: after start-up and a warm-up, a long stream of
//! adds, cancels, amends, marketable orders, feed operations, L2 updates and queries makes
//! zero heap allocations on this thread. Allocations are counted per thread (a
//! thread-local), so other test threads cannot interfere.

use keel_engine::book::{BookCapacity, BookEvent, L2Book, L3Book, LevelView, NewOrder};
use keel_engine::{OrderId, Price, Qty, Side, TimeInForce};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

/// Deterministic pseudo-random numbers (the core never reads a random source).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// One step of a mixed stream; returns a checksum so nothing is optimised away.
fn step(
    rng: &mut Lcg,
    book: &mut L3Book,
    l2: &mut L2Book,
    events: &mut Vec<BookEvent>,
    live: &mut [u64; 512],
    next_id: &mut u64,
    depth: &mut [LevelView; 10],
) -> i64 {
    events.clear();
    let slot = rng.next(live.len() as u64) as usize;
    let side = if rng.next(2) == 0 { Side::Buy } else { Side::Sell };
    let off = rng.next(20) as i64;
    let price = Price(match side {
        Side::Buy => 980 + off,
        Side::Sell => 1001 + off,
    });
    let qty = Qty(1 + rng.next(20) as i64);
    match rng.next(10) {
        0..=3 => {
            // Add, replacing whatever sat in this slot.
            if live[slot] != 0 {
                let _ = book.cancel(OrderId(live[slot]), events);
            }
            *next_id += 1;
            let mut o = NewOrder::limit(OrderId(*next_id), side, price, qty);
            if rng.next(5) == 0 {
                o = o.iceberg(Qty(1 + rng.next(qty.0 as u64) as i64));
            }
            if book.submit(&o, events).is_ok() {
                live[slot] = *next_id;
            }
        }
        4 | 5 => {
            if live[slot] != 0 {
                let _ = book.amend(OrderId(live[slot]), price, qty, events);
            }
        }
        6 => {
            // Marketable: a sweep that may cross several levels.
            *next_id += 1;
            let limit = Price(match side {
                Side::Buy => 1005,
                Side::Sell => 995,
            });
            let tif = [TimeInForce::Ioc, TimeInForce::Fok, TimeInForce::Gtc][rng.next(3) as usize];
            let o = NewOrder::limit(OrderId(*next_id), side, limit, Qty(qty.0 * 3)).tif(tif);
            let _ = book.submit(&o, events);
            if tif == TimeInForce::Gtc && book.order(OrderId(*next_id)).is_some() {
                let _ = book.cancel(OrderId(*next_id), events);
            }
        }
        7 => {
            *next_id += 1;
            let _ = book.submit(&NewOrder::market(OrderId(*next_id), side, qty), events);
        }
        8 => {
            let _ = book.cancel(OrderId(live[slot]), events); // may be unknown: a typed error
            live[slot] = 0;
        }
        _ => {
            let _ = book.execute(OrderId(live[slot]), Qty(1));
        }
    }
    // L2 updates: set, modify, delete.
    let l2q = if rng.next(4) == 0 { Qty(0) } else { qty };
    let _ = l2.set(side, price, l2q);
    let n = book.depth(Side::Buy, depth) + l2.depth(Side::Sell, depth);
    let imb = book.imbalance(5).ppm().unwrap_or(0) + l2.imbalance(5).ppm().unwrap_or(0);
    let mp = book.microprice().map_or(0, |m| m.subticks(100) as i64);
    n as i64 + imb + mp + events.len() as i64
}

#[test]
fn steady_state_makes_zero_allocations() {
    // Start-up: everything is reserved here.
    let cap = BookCapacity { orders: 4096, levels_per_side: 256 };
    let mut book = L3Book::new(cap);
    let mut l2 = L2Book::new(cap);
    let mut events: Vec<BookEvent> = Vec::with_capacity(8192);
    let mut live = [0u64; 512];
    let mut depth = [LevelView::default(); 10];
    let mut rng = Lcg(42);
    let mut next_id = 0u64;
    let mut sum = 0i64;

    for _ in 0..20_000 {
        sum = sum.wrapping_add(step(
            &mut rng,
            &mut book,
            &mut l2,
            &mut events,
            &mut live,
            &mut next_id,
            &mut depth,
        ));
    }

    let before = allocations();
    let (mut fills, mut refills, mut rested) = (0u64, 0u64, 0u64);
    for _ in 0..300_000 {
        sum = sum.wrapping_add(step(
            &mut rng,
            &mut book,
            &mut l2,
            &mut events,
            &mut live,
            &mut next_id,
            &mut depth,
        ));
        for e in &events {
            match e {
                BookEvent::Fill(_) => fills += 1,
                BookEvent::Replenished { .. } => refills += 1,
                BookEvent::Rested { .. } => rested += 1,
                _ => {}
            }
        }
    }
    let after = allocations();
    // Ensure the stream did real work.
    assert!(book.len() > 50, "book drained: {}", book.len());
    assert!(events.capacity() == 8192);
    assert!(fills > 10_000 && refills > 100 && rested > 10_000, "{fills} {refills} {rested}");
    book.validate().unwrap();
    std::hint::black_box(sum);
    assert_eq!(after - before, 0, "steady state allocated {} times", after - before);
}

#[test]
fn counter_sees_allocations() {
    let before = allocations();
    let v: Vec<u8> = Vec::with_capacity(std::hint::black_box(16));
    std::hint::black_box(&v);
    assert!(allocations() > before);
}
