//! Property test: random command streams against a simple reference book
//! (`BTreeMap<price, VecDeque<order>>` per side). After every step the two books agree on
//! results, events, levels and queues; the book validates (never crossed, level sums);
//! and quantity is conserved: entered = resting + filled + cancelled.

use keel_engine::book::{
    BookCapacity, BookError, BookEvent, CancelReason, Executed, Fill, L3Book, NewOrder,
};
use keel_engine::{OrdType, OrderId, Price, Qty, Side, TimeInForce};
use proptest::prelude::*;
use std::collections::{BTreeMap, VecDeque};

const CAP: BookCapacity = BookCapacity { orders: 24, levels_per_side: 5 };
const SHOW_ALL: i64 = i64::MAX;

/// Levels best first: (price, queue of (id, visible, hidden, filled)).
type Levels = Vec<(i64, Vec<(u64, i64, i64, i64)>)>;

#[derive(Clone, Copy, Debug)]
struct RO {
    id: u64,
    visible: i64,
    hidden: i64,
    display: i64,
    filled: i64,
    post_only: bool,
}

/// The reference: obviously-correct and slow.
#[derive(Default)]
struct RefBook {
    bids: BTreeMap<i64, VecDeque<RO>>,
    asks: BTreeMap<i64, VecDeque<RO>>,
    loc: BTreeMap<u64, (Side, i64)>,
}

fn crosses(taker: Side, limit: i64, level: i64) -> bool {
    match taker {
        Side::Buy => level <= limit,
        Side::Sell => level >= limit,
    }
}

impl RefBook {
    fn map(&mut self, s: Side) -> &mut BTreeMap<i64, VecDeque<RO>> {
        match s {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }
    fn map_ref(&self, s: Side) -> &BTreeMap<i64, VecDeque<RO>> {
        match s {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }
    /// Levels best first.
    fn levels(&self, s: Side) -> Levels {
        let lv = |(p, q): (&i64, &VecDeque<RO>)| {
            (*p, q.iter().map(|o| (o.id, o.visible, o.hidden, o.filled)).collect())
        };
        match s {
            Side::Buy => self.bids.iter().rev().map(lv).collect(),
            Side::Sell => self.asks.iter().map(lv).collect(),
        }
    }
    fn best(&self, s: Side) -> Option<i64> {
        match s {
            Side::Buy => self.bids.keys().next_back().copied(),
            Side::Sell => self.asks.keys().next().copied(),
        }
    }
    fn get(&self, id: u64) -> Option<RO> {
        let (s, p) = *self.loc.get(&id)?;
        self.map_ref(s)[&p].iter().find(|o| o.id == id).copied()
    }
    fn remove(&mut self, id: u64) -> (Side, i64, RO) {
        let (s, p) = self.loc.remove(&id).unwrap();
        let m = self.map(s);
        let q = m.get_mut(&p).unwrap();
        let pos = q.iter().position(|o| o.id == id).unwrap();
        let o = q.remove(pos).unwrap();
        if q.is_empty() {
            m.remove(&p);
        }
        (s, p, o)
    }
    fn room_level(&self, s: Side, p: i64, freed: bool) -> Result<(), BookError> {
        let m = self.map_ref(s);
        if m.len() >= CAP.levels_per_side as usize && !freed && !m.contains_key(&p) {
            return Err(BookError::LevelsFull { side: s, capacity: CAP.levels_per_side });
        }
        Ok(())
    }
    fn post_only(&self, s: Side, p: i64) -> Result<(), BookError> {
        match self.best(s.opposite()) {
            Some(b) if crosses(s, p, b) => {
                Err(BookError::PostOnlyWouldCross { price: Price(p), opposite_best: Price(b) })
            }
            _ => Ok(()),
        }
    }

    fn match_in(
        &mut self,
        taker: u64,
        side: Side,
        limit: Option<i64>,
        mut qty: i64,
        ev: &mut Vec<BookEvent>,
    ) -> i64 {
        while qty > 0 {
            let Some(p) = self.best(side.opposite()) else { break };
            if limit.is_some_and(|l| !crosses(side, l, p)) {
                break;
            }
            let mut q = self.map(side.opposite()).remove(&p).unwrap();
            while qty > 0 {
                let Some(mut o) = q.pop_front() else { break };
                let t = qty.min(o.visible);
                o.visible -= t;
                o.filled += t;
                qty -= t;
                ev.push(BookEvent::Fill(Fill {
                    maker: OrderId(o.id),
                    taker: OrderId(taker),
                    taker_side: side,
                    price: Price(p),
                    qty: Qty(t),
                    maker_leaves: Qty(o.visible + o.hidden),
                    taker_leaves: Qty(qty),
                }));
                if o.visible == 0 {
                    if o.hidden > 0 {
                        let r = o.display.min(o.hidden);
                        o.visible = r;
                        o.hidden -= r;
                        ev.push(BookEvent::Replenished {
                            id: OrderId(o.id),
                            side: side.opposite(),
                            price: Price(p),
                            visible: Qty(r),
                            hidden: Qty(o.hidden),
                        });
                        q.push_back(o);
                    } else {
                        self.loc.remove(&o.id);
                    }
                } else {
                    q.push_front(o);
                }
            }
            if !q.is_empty() {
                self.map(side.opposite()).insert(p, q);
            }
        }
        qty
    }

    #[allow(clippy::too_many_arguments)]
    fn rest(
        &mut self,
        id: u64,
        s: Side,
        p: i64,
        leaves: i64,
        filled: i64,
        display: i64,
        post_only: bool,
        ev: &mut Vec<BookEvent>,
    ) {
        let visible = display.min(leaves);
        let o = RO { id, visible, hidden: leaves - visible, display, filled, post_only };
        self.map(s).entry(p).or_default().push_back(o);
        self.loc.insert(id, (s, p));
        ev.push(BookEvent::Rested {
            id: OrderId(id),
            side: s,
            price: Price(p),
            leaves: Qty(leaves),
            visible: Qty(visible),
        });
    }

    fn submit(&mut self, o: &NewOrder, ev: &mut Vec<BookEvent>) -> Result<Executed, BookError> {
        if o.qty.0 <= 0 {
            return Err(BookError::InvalidQty { qty: o.qty });
        }
        if let Some(d) = o.display {
            if d.0 <= 0 || d > o.qty {
                return Err(BookError::InvalidDisplay { display: d, qty: o.qty });
            }
        }
        let limit = match o.ord_type {
            OrdType::Market => None,
            OrdType::Limit => Some(o.price.0),
            t => return Err(BookError::UnsupportedOrdType { ord_type: t }),
        };
        let may_rest = limit.is_some() && !o.tif.is_immediate();
        if o.post_only && !may_rest {
            return Err(BookError::PostOnlyNotResting);
        }
        if self.loc.contains_key(&o.id.0) {
            return Err(BookError::DuplicateOrderId { id: o.id });
        }
        if may_rest {
            if self.loc.len() >= CAP.orders as usize {
                return Err(BookError::OrdersFull { capacity: CAP.orders });
            }
            self.room_level(o.side, o.price.0, false)?;
        }
        if o.post_only {
            self.post_only(o.side, o.price.0)?;
        }
        if o.tif == TimeInForce::Fok {
            let avail: i64 = self
                .levels(o.side.opposite())
                .iter()
                .take_while(|(p, _)| limit.is_none_or(|l| crosses(o.side, l, *p)))
                .flat_map(|(_, q)| q.iter().map(|x| x.1 + x.2))
                .sum();
            if avail < o.qty.0 {
                return Err(BookError::FokUnfillable { qty: o.qty, available: Qty(avail) });
            }
        }
        let leaves = self.match_in(o.id.0, o.side, limit, o.qty.0, ev);
        let mut done = Executed { filled: Qty(o.qty.0 - leaves), ..Default::default() };
        if leaves > 0 {
            if may_rest {
                let d = o.display.map_or(SHOW_ALL, |d| d.0);
                self.rest(o.id.0, o.side, o.price.0, leaves, done.filled.0, d, o.post_only, ev);
                done.rested = Qty(leaves);
            } else {
                ev.push(BookEvent::Cancelled {
                    id: o.id,
                    side: o.side,
                    price: o.price,
                    leaves: Qty(leaves),
                    reason: CancelReason::Unfilled,
                });
                done.cancelled = Qty(leaves);
            }
        }
        Ok(done)
    }

    fn cancel(&mut self, id: u64, ev: &mut Vec<BookEvent>) -> Result<Qty, BookError> {
        if !self.loc.contains_key(&id) {
            return Err(BookError::UnknownOrderId { id: OrderId(id) });
        }
        let (s, p, o) = self.remove(id);
        let leaves = Qty(o.visible + o.hidden);
        ev.push(BookEvent::Cancelled {
            id: OrderId(id),
            side: s,
            price: Price(p),
            leaves,
            reason: CancelReason::Requested,
        });
        Ok(leaves)
    }

    fn amend(
        &mut self,
        id: u64,
        price: i64,
        qty: i64,
        ev: &mut Vec<BookEvent>,
    ) -> Result<Executed, BookError> {
        let Some(o) = self.get(id) else {
            return Err(BookError::UnknownOrderId { id: OrderId(id) });
        };
        if qty <= 0 {
            return Err(BookError::InvalidQty { qty: Qty(qty) });
        }
        let (s, p) = self.loc[&id];
        let old_leaves = o.visible + o.hidden;
        if qty <= o.filled {
            self.remove(id);
            ev.push(BookEvent::Cancelled {
                id: OrderId(id),
                side: s,
                price: Price(p),
                leaves: Qty(old_leaves),
                reason: CancelReason::AmendedBelowFilled,
            });
            return Ok(Executed { cancelled: Qty(old_leaves), ..Default::default() });
        }
        let leaves = qty - o.filled;
        if price == p && leaves <= old_leaves {
            let q = self.map(s).get_mut(&p).unwrap();
            let x = q.iter_mut().find(|x| x.id == id).unwrap();
            x.visible = x.visible.min(leaves);
            x.hidden = leaves - x.visible;
            ev.push(BookEvent::Amended {
                id: OrderId(id),
                side: s,
                price: Price(price),
                leaves: Qty(leaves),
                priority_kept: true,
            });
            return Ok(Executed { rested: Qty(leaves), ..Default::default() });
        }
        if o.post_only {
            self.post_only(s, price)?;
        }
        let freed = self.map_ref(s)[&p].len() == 1;
        self.room_level(s, price, freed)?;
        self.remove(id);
        ev.push(BookEvent::Amended {
            id: OrderId(id),
            side: s,
            price: Price(price),
            leaves: Qty(leaves),
            priority_kept: false,
        });
        let rest = self.match_in(id, s, Some(price), leaves, ev);
        if rest > 0 {
            self.rest(id, s, price, rest, o.filled + leaves - rest, o.display, o.post_only, ev);
        }
        Ok(Executed { filled: Qty(leaves - rest), rested: Qty(rest), cancelled: Qty(0) })
    }

    fn execute(&mut self, id: u64, qty: i64) -> Result<Qty, BookError> {
        let Some(o) = self.get(id) else {
            return Err(BookError::UnknownOrderId { id: OrderId(id) });
        };
        if qty <= 0 || qty > o.visible + o.hidden {
            return Err(BookError::InvalidQty { qty: Qty(qty) });
        }
        let (s, p) = self.loc[&id];
        let q = self.map(s).get_mut(&p).unwrap();
        let pos = q.iter().position(|x| x.id == id).unwrap();
        let x = &mut q[pos];
        let fv = qty.min(x.visible);
        x.visible -= fv;
        x.hidden -= qty - fv;
        x.filled += qty;
        let leaves = x.visible + x.hidden;
        if x.visible == 0 {
            if x.hidden > 0 {
                let mut x = q.remove(pos).unwrap();
                let r = x.display.min(x.hidden);
                x.visible = r;
                x.hidden -= r;
                q.push_back(x);
            } else {
                self.remove(id);
            }
        }
        Ok(Qty(leaves))
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// kind: 0..=2 GTC limit, 3 IOC, 4 FOK, 5 post-only, 6 market, 7 market FOK, 8 iceberg,
    /// 9 duplicate id of a live order.
    Submit {
        kind: u8,
        buy: bool,
        px: i64,
        qty: i64,
        display: i64,
    },
    Cancel {
        pick: usize,
    },
    Amend {
        pick: usize,
        px: i64,
        qty: i64,
    },
    Execute {
        pick: usize,
        qty: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..10, any::<bool>(), 0i64..10, 0i64..25, 1i64..8)
            .prop_map(|(kind, buy, px, qty, display)| Op::Submit { kind, buy, px, qty, display }),
        2 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        2 => (any::<usize>(), 0i64..10, 0i64..30).prop_map(|(pick, px, qty)| Op::Amend { pick, px, qty }),
        1 => (any::<usize>(), 0i64..8).prop_map(|(pick, qty)| Op::Execute { pick, qty }),
    ]
}

/// A live id chosen by `pick`, or an unknown one now and then.
fn pick_id(r: &RefBook, pick: usize) -> u64 {
    if r.loc.is_empty() || pick % 13 == 0 {
        return 1_000_000 + pick as u64 % 7;
    }
    *r.loc.keys().nth(pick % r.loc.len()).unwrap()
}

fn real_levels(b: &L3Book, s: Side) -> Levels {
    b.levels(s)
        .map(|l| {
            let q: Vec<_> = b
                .orders_at(s, l.price)
                .map(|o| (o.id.0, o.visible.0, o.hidden.0, o.filled.0))
                .collect();
            assert_eq!(l.qty.0, q.iter().map(|x| x.1).sum::<i64>());
            assert_eq!(l.orders as usize, q.len());
            (l.price.0, q)
        })
        .collect()
}

fn resting(b: &L3Book) -> i64 {
    [Side::Buy, Side::Sell]
        .iter()
        .flat_map(|&s| real_levels(b, s))
        .flat_map(|(_, q)| q.into_iter().map(|x| x.1 + x.2))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn book_matches_reference(ops in prop::collection::vec(op(), 1..250)) {
        let mut book = L3Book::new(CAP);
        let mut reference = RefBook::default();
        let (mut ev, mut ev_ref) = (Vec::new(), Vec::new());
        let mut next_id = 1u64;
        // Conservation ledger.
        let (mut entered, mut filled, mut cancelled) = (0i64, 0i64, 0i64);

        for op in ops {
            ev.clear();
            ev_ref.clear();
            match op {
                Op::Submit { kind, buy, px, qty, display } => {
                    let side = if buy { Side::Buy } else { Side::Sell };
                    // Bids around 95..104, asks 96..105: plenty of crossing.
                    let price = Price(if buy { 95 + px } else { 96 + px });
                    let mut id = next_id;
                    next_id += 1;
                    let base = NewOrder::limit(OrderId(id), side, price, Qty(qty));
                    let o = match kind {
                        3 => base.tif(TimeInForce::Ioc),
                        4 => base.tif(TimeInForce::Fok),
                        5 => base.post_only(),
                        6 => NewOrder::market(OrderId(id), side, Qty(qty)),
                        7 => NewOrder::market(OrderId(id), side, Qty(qty)).tif(TimeInForce::Fok),
                        8 => base.iceberg(Qty(display)),
                        9 => {
                            id = pick_id(&reference, qty as usize + 1);
                            NewOrder { id: OrderId(id), ..base }
                        }
                        _ => base,
                    };
                    let r = book.submit(&o, &mut ev);
                    prop_assert_eq!(r, reference.submit(&o, &mut ev_ref));
                    if r.is_ok() {
                        entered += o.qty.0;
                    }
                }
                Op::Cancel { pick } => {
                    let id = OrderId(pick_id(&reference, pick));
                    let r = book.cancel(id, &mut ev);
                    prop_assert_eq!(r, reference.cancel(id.0, &mut ev_ref));
                }
                Op::Amend { pick, px, qty } => {
                    let id = pick_id(&reference, pick);
                    let before = reference.get(id);
                    // Stay on the order's side of the range so some amends cross, some not.
                    let price = match before.map(|_| reference.loc[&id].0) {
                        Some(Side::Sell) => 96 + px,
                        _ => 95 + px,
                    };
                    let r = book.amend(OrderId(id), Price(price), Qty(qty), &mut ev);
                    prop_assert_eq!(r, reference.amend(id, price, qty, &mut ev_ref));
                    if let (Ok(_), Some(o)) = (r, before) {
                        if qty > o.filled {
                            entered += (qty - o.filled) - (o.visible + o.hidden);
                        }
                    }
                }
                Op::Execute { pick, qty } => {
                    let id = pick_id(&reference, pick);
                    let r = book.execute(OrderId(id), Qty(qty));
                    prop_assert_eq!(r, reference.execute(id, qty));
                    if r.is_ok() {
                        filled += qty;
                    }
                }
            }
            prop_assert_eq!(&ev, &ev_ref);
            for e in &ev {
                match e {
                    BookEvent::Fill(f) => filled += 2 * f.qty.0, // the maker's and the taker's
                    BookEvent::Cancelled { leaves, .. } => cancelled += leaves.0,
                    _ => {}
                }
            }
            prop_assert_eq!(real_levels(&book, Side::Buy), reference.levels(Side::Buy));
            prop_assert_eq!(real_levels(&book, Side::Sell), reference.levels(Side::Sell));
            prop_assert_eq!(book.len(), reference.loc.len());
            prop_assert_eq!(book.validate(), Ok(()));
            prop_assert!(!book.is_crossed());
            prop_assert_eq!(entered, resting(&book) + filled + cancelled);
        }
    }
}
