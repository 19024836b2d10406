//! Property test of the L2 book against a `BTreeMap` reference: random level updates
//! (sets, deletes, crossing sets) agree level for level, the book is never crossed, and a
//! full side refuses new levels without changing anything.

use keel_engine::book::{BookCapacity, BookError, L2Book};
use keel_engine::{Price, Qty, Side};
use proptest::prelude::*;
use std::collections::BTreeMap;

const LEVELS: usize = 6;

#[derive(Default)]
struct RefL2 {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
}

impl RefL2 {
    fn set(&mut self, side: Side, p: i64, q: i64) -> Result<(), BookError> {
        if q < 0 {
            return Err(BookError::InvalidQty { qty: Qty(q) });
        }
        let (own, other) = match side {
            Side::Buy => (&mut self.bids, &mut self.asks),
            Side::Sell => (&mut self.asks, &mut self.bids),
        };
        if q == 0 {
            own.remove(&p);
            return Ok(());
        }
        if !own.contains_key(&p) && own.len() >= LEVELS {
            return Err(BookError::LevelsFull { side, capacity: LEVELS as u32 });
        }
        own.insert(p, q);
        other.retain(|&op, _| match side {
            Side::Buy => op > p,
            Side::Sell => op < p,
        });
        Ok(())
    }
}

proptest! {
    #[test]
    fn l2_matches_reference(ops in prop::collection::vec((any::<bool>(), 0i64..12, -1i64..6), 1..300)) {
        let mut book = L2Book::new(BookCapacity { orders: 0, levels_per_side: LEVELS as u32 });
        let mut r = RefL2::default();
        for (buy, p, q) in ops {
            let side = if buy { Side::Buy } else { Side::Sell };
            let q = q.max(-1) * 10;
            prop_assert_eq!(book.set(side, Price(100 + p), Qty(q)), r.set(side, 100 + p, q));
            let bids: Vec<(i64, i64)> = book.levels(Side::Buy).map(|l| (l.price.0, l.qty.0)).collect();
            let asks: Vec<(i64, i64)> = book.levels(Side::Sell).map(|l| (l.price.0, l.qty.0)).collect();
            let rb: Vec<(i64, i64)> = r.bids.iter().rev().map(|(&p, &q)| (p, q)).collect();
            let ra: Vec<(i64, i64)> = r.asks.iter().map(|(&p, &q)| (p, q)).collect();
            prop_assert_eq!(bids, rb);
            prop_assert_eq!(asks, ra);
            if let (Some((b, _)), Some((a, _))) = (book.best_bid(), book.best_ask()) {
                prop_assert!(b < a);
            }
        }
    }
}
