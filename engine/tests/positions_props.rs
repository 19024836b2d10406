//! Property tests for positions: random fill streams against a FIFO lot-by-lot reference
//! and plain recomputation.
//!
//! Average-cost and FIFO accounting realize P&L at different times, but both must agree on
//! the net quantity, on the total P&L marked at any price (`cash flow + net × mark`), and
//! on realized P&L whenever the position is flat. On top, average cost must conserve value
//! exactly (`realized == cash_flow + open_cost`) and keep the average entry price within
//! the range of fill prices.

use keel_engine::positions::{Position, PositionBook};
use keel_engine::{AccountId, InstrumentId, Price, Qty, Side};
use proptest::prelude::*;
use std::collections::VecDeque;

/// FIFO reference: open lots as (price, signed qty), oldest first.
#[derive(Default)]
struct Fifo {
    lots: VecDeque<(i64, i64)>,
    realized: i128,
}

impl Fifo {
    fn apply(&mut self, side: Side, price: i64, qty: i64) {
        let mut rest = side.sign() * qty;
        while rest != 0 {
            match self.lots.front_mut() {
                Some((lot_px, lot_qty)) if lot_qty.signum() != rest.signum() => {
                    let take = lot_qty.abs().min(rest.abs());
                    let lot_sign = lot_qty.signum();
                    // Closing `take` lots bought (sold) at lot_px by selling (buying) at price.
                    self.realized += (price - *lot_px) as i128 * (take * lot_sign) as i128;
                    *lot_qty -= take * lot_sign;
                    rest += take * lot_sign;
                    if *lot_qty == 0 {
                        self.lots.pop_front();
                    }
                }
                _ => {
                    self.lots.push_back((price, rest));
                    rest = 0;
                }
            }
        }
    }

    fn net(&self) -> i64 {
        self.lots.iter().map(|l| l.1).sum()
    }

    fn unrealized(&self, mark: i64) -> i128 {
        self.lots.iter().map(|&(p, q)| (mark - p) as i128 * q as i128).sum()
    }
}

fn fill_strategy() -> impl Strategy<Value = (Side, i64, i64)> {
    (prop_oneof![Just(Side::Buy), Just(Side::Sell)], -50i64..10_000, 1i64..500)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn average_cost_matches_fifo_and_conserves(
        fills in prop::collection::vec(fill_strategy(), 1..200),
        mark in -50i64..10_000,
    ) {
        let mut pos = Position::default();
        let mut fifo = Fifo::default();
        let (mut net, mut cash) = (0i64, 0i128);
        let (mut min_px, mut max_px) = (i64::MAX, i64::MIN);
        for &(side, price, qty) in &fills {
            pos.apply_fill(side, Price(price), Qty(qty), 0).unwrap();
            fifo.apply(side, price, qty);
            net += side.sign() * qty;
            cash -= side.sign() as i128 * price as i128 * qty as i128;
            min_px = min_px.min(price);
            max_px = max_px.max(price);

            prop_assert_eq!(pos.net_qty_lots(), net);
            prop_assert_eq!(fifo.net(), net);
            // Conservation: rounding never creates or loses value.
            prop_assert_eq!(pos.realized_pnl(), cash + pos.open_cost());
            // Total P&L at any mark is model-independent.
            prop_assert_eq!(
                pos.realized_pnl() + pos.unrealized(Price(mark)),
                fifo.realized + fifo.unrealized(mark)
            );
            if net == 0 {
                prop_assert_eq!(pos.open_cost(), 0);
                prop_assert_eq!(pos.realized_pnl(), fifo.realized);
                prop_assert_eq!(pos.avg_price(), None);
            } else {
                // The average entry price stays within the prices seen.
                let avg = pos.avg_price().unwrap();
                let lots = avg.denominator as i128;
                prop_assert!(avg.numerator >= min_px as i128 * lots);
                prop_assert!(avg.numerator <= max_px as i128 * lots);
            }
        }
    }

    #[test]
    fn round_trip_realizes_exact_price_difference(
        side in prop_oneof![Just(Side::Buy), Just(Side::Sell)],
        entry in prop::collection::vec((1i64..100_000, 1i64..1_000), 1..20),
        exit_px in 1i64..100_000,
        exit_cuts in prop::collection::vec(1i64..1_000, 0..20),
    ) {
        let mut pos = Position::default();
        let mut entry_notional = 0i128;
        let mut total = 0i64;
        for &(px, qty) in &entry {
            pos.apply_fill(side, Price(px), Qty(qty), 0).unwrap();
            entry_notional += px as i128 * qty as i128;
            total += qty;
        }
        // Close in arbitrary pieces at one price.
        let mut left = total;
        for cut in exit_cuts {
            let q = cut.min(left);
            if q == 0 { break; }
            pos.apply_fill(side.opposite(), Price(exit_px), Qty(q), 0).unwrap();
            left -= q;
        }
        if left > 0 {
            pos.apply_fill(side.opposite(), Price(exit_px), Qty(left), 0).unwrap();
        }
        let exit_notional = exit_px as i128 * total as i128;
        let expected = (exit_notional - entry_notional) * side.sign() as i128;
        prop_assert_eq!(pos.net_qty_lots(), 0);
        prop_assert_eq!(pos.realized_pnl(), expected);
    }

    #[test]
    fn book_totals_are_sums_of_positions(
        fills in prop::collection::vec((0u32..3, 0u32..2, fill_strategy(), -5i64..5), 1..150),
    ) {
        let multipliers = [100i64, 7];
        let mut book = PositionBook::new(3, &multipliers).unwrap();
        let mut alone = [[Position::default(); 2]; 3];
        for &(a, i, (side, px, qty), fee) in &fills {
            book.apply_fill(AccountId(a), InstrumentId(i), side, Price(px), Qty(qty), fee).unwrap();
            alone[a as usize][i as usize].apply_fill(side, Price(px), Qty(qty), fee).unwrap();
        }
        for i in 0..2u32 {
            let firm = book.firm(InstrumentId(i)).unwrap();
            let col = alone.iter().map(|row| row[i as usize]);
            prop_assert_eq!(firm.net_qty_lots, col.clone().map(|p| p.net_qty_lots()).sum::<i64>());
            prop_assert_eq!(firm.open_cost, col.clone().map(|p| p.open_cost()).sum::<i128>());
            prop_assert_eq!(firm.realized_pnl, col.clone().map(|p| p.realized_pnl()).sum::<i128>());
            prop_assert_eq!(firm.fees, col.map(|p| p.fees()).sum::<i128>());
        }
        for a in 0..3u32 {
            let row = &alone[a as usize];
            prop_assert_eq!(book.position(AccountId(a), InstrumentId(0)).unwrap(), &row[0]);
            let t = book.account_totals(AccountId(a)).unwrap();
            let realized: i128 =
                row.iter().zip(multipliers).map(|(p, m)| p.realized_pnl() * m as i128).sum();
            let fees: i128 = row.iter().zip(multipliers).map(|(p, m)| p.fees() * m as i128).sum();
            prop_assert_eq!(t.realized_pnl_e8, realized);
            prop_assert_eq!(t.fees_e8, fees);
            let unrealized: i128 =
                row.iter().zip(multipliers).map(|(p, m)| p.unrealized(Price(50)) * m as i128).sum();
            prop_assert_eq!(book.account_unrealized_e8(AccountId(a), |_| Some(Price(50))), Some(unrealized));
        }
    }
}
