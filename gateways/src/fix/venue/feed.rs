//! The simulated venue's market-data feed as FIX sees it: the matching engine publishes
//! order-by-order (L3) events; FIX subscribers get aggregated price levels.
//!
//! [`L2Feed`] keeps every resting order's level and each level's total, applies the
//! venue's L3 commands, and collects, per batch (one synthetic event or one of Keel's
//! requests), the levels that changed with their FIX action (New when the level appeared,
//! Delete when it emptied, Change otherwise) and the trades that printed.

use super::super::initiator::dialect::md_action;
use keel_engine::schema::CommandBody;
use keel_engine::{InstrumentId, Price, Qty, Side};
use std::collections::{BTreeMap, HashMap};

/// One level change or trade of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedEvent {
    /// A level's total changed.
    Level {
        /// Index of the instrument in the feed.
        instrument: usize,
        /// Bid or offer.
        side: Side,
        /// Level price.
        price: Price,
        /// New total (zero for a Delete).
        qty: Qty,
        /// MDUpdateAction.
        action: u8,
    },
    /// A trade printed.
    Trade {
        /// Index of the instrument in the feed.
        instrument: usize,
        /// Price.
        price: Price,
        /// Quantity.
        qty: Qty,
    },
}

type Levels = BTreeMap<Price, Qty>;

/// See the module docs.
#[derive(Debug)]
pub struct L2Feed {
    ids: Vec<InstrumentId>,
    orders: HashMap<u64, (usize, Side, Price, Qty)>,
    books: Vec<[Levels; 2]>,
    /// `(instrument, side, price)` touched this batch, and whether the level existed
    /// before it.
    touched: Vec<(usize, Side, Price, bool)>,
    trades: Vec<(usize, Price, Qty)>,
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

impl L2Feed {
    /// A feed for `instruments` (their order is the feed's instrument index).
    pub fn new(instruments: &[InstrumentId]) -> L2Feed {
        L2Feed {
            ids: instruments.to_vec(),
            orders: HashMap::new(),
            books: instruments.iter().map(|_| [Levels::new(), Levels::new()]).collect(),
            touched: Vec::with_capacity(64),
            trades: Vec::with_capacity(16),
        }
    }

    /// The feed's index of `id`.
    pub fn index_of(&self, id: InstrumentId) -> Option<usize> {
        self.ids.iter().position(|i| *i == id)
    }

    /// The levels of one side, best first.
    pub fn levels(&self, instrument: usize, side: Side) -> Vec<(Price, Qty)> {
        let book = &self.books[instrument][side_index(side)];
        match side {
            Side::Buy => book.iter().rev().map(|(p, q)| (*p, *q)).collect(),
            Side::Sell => book.iter().map(|(p, q)| (*p, *q)).collect(),
        }
    }

    fn touch(&mut self, m: usize, side: Side, price: Price) {
        if self.touched.iter().any(|t| t.0 == m && t.1 == side && t.2 == price) {
            return;
        }
        let existed = self.books[m][side_index(side)].contains_key(&price);
        self.touched.push((m, side, price, existed));
    }

    fn add_to_level(&mut self, m: usize, side: Side, price: Price, delta: i64) {
        self.touch(m, side, price);
        let book = &mut self.books[m][side_index(side)];
        let q = book.entry(price).or_insert(Qty::ZERO);
        q.0 += delta;
        if q.0 <= 0 {
            book.remove(&price);
        }
    }

    fn remove_order(&mut self, id: u64) -> Option<(usize, Side, Price, Qty)> {
        let o = self.orders.remove(&id)?;
        self.add_to_level(o.0, o.1, o.2, -o.3.0);
        Some(o)
    }

    /// Applies one of the venue's commands (non-feed commands are ignored).
    pub fn apply(&mut self, cmd: &CommandBody) {
        match cmd {
            CommandBody::L3Add(a) => {
                let Some(m) = self.index_of(a.instrument) else { return };
                // A replenished iceberg is re-added under its id: replace it.
                self.remove_order(a.venue_order_id);
                self.orders.insert(a.venue_order_id, (m, a.side, a.price, a.qty));
                self.add_to_level(m, a.side, a.price, a.qty.0);
            }
            CommandBody::L3Modify(u) => {
                if let Some((m, side, _, _)) = self.remove_order(u.venue_order_id) {
                    self.orders.insert(u.venue_order_id, (m, side, u.price, u.qty));
                    self.add_to_level(m, side, u.price, u.qty.0);
                }
            }
            CommandBody::L3Delete(d) => {
                self.remove_order(d.venue_order_id);
            }
            CommandBody::L3Execute(e) => {
                if let Some((m, side, price, qty)) = self.remove_order(e.venue_order_id) {
                    let left = qty.0 - e.qty.0;
                    if left > 0 {
                        self.orders.insert(e.venue_order_id, (m, side, price, Qty(left)));
                        self.add_to_level(m, side, price, left);
                    }
                }
            }
            CommandBody::Trade(t) => {
                if let Some(m) = self.index_of(t.instrument) {
                    self.trades.push((m, t.price, t.qty));
                }
            }
            _ => {}
        }
    }

    /// The batch's changes (levels first, in the order touched, then trades); clears it.
    pub fn drain(&mut self, out: &mut Vec<FeedEvent>) {
        for &(m, side, price, existed) in &self.touched {
            let now = self.books[m][side_index(side)].get(&price).copied();
            let (qty, action) = match (existed, now) {
                (false, None) => continue,
                (true, None) => (Qty::ZERO, md_action::DELETE),
                (false, Some(q)) => (q, md_action::NEW),
                (true, Some(q)) => (q, md_action::CHANGE),
            };
            out.push(FeedEvent::Level { instrument: m, side, price, qty, action });
        }
        for &(m, price, qty) in &self.trades {
            out.push(FeedEvent::Trade { instrument: m, price, qty });
        }
        self.touched.clear();
        self.trades.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_engine::schema::{L3Add, L3Delete, L3Execute, MarketTrade};
    use keel_engine::{TimestampNs, VenueId};

    const I: InstrumentId = InstrumentId(4);

    fn add(id: u64, side: Side, px: i64, q: i64) -> CommandBody {
        CommandBody::L3Add(L3Add {
            instrument: I,
            venue: VenueId(1),
            venue_order_id: id,
            side,
            price: Price(px),
            qty: Qty(q),
            exchange_ts: TimestampNs(0),
        })
    }

    #[test]
    fn orders_aggregate_into_levels_with_actions() {
        let mut f = L2Feed::new(&[I]);
        let mut ev = Vec::new();
        f.apply(&add(1, Side::Buy, 100, 2));
        f.apply(&add(2, Side::Buy, 100, 3));
        f.apply(&add(3, Side::Sell, 105, 1));
        f.drain(&mut ev);
        assert_eq!(
            ev,
            [
                FeedEvent::Level {
                    instrument: 0,
                    side: Side::Buy,
                    price: Price(100),
                    qty: Qty(5),
                    action: md_action::NEW
                },
                FeedEvent::Level {
                    instrument: 0,
                    side: Side::Sell,
                    price: Price(105),
                    qty: Qty(1),
                    action: md_action::NEW
                },
            ]
        );
        ev.clear();
        // A partial execution, a trade print, and the offer taken out entirely.
        f.apply(&CommandBody::L3Execute(L3Execute {
            instrument: I,
            venue: VenueId(1),
            venue_order_id: 1,
            qty: Qty(1),
            price: Price(100),
            exchange_ts: TimestampNs(0),
        }));
        f.apply(&CommandBody::Trade(MarketTrade {
            instrument: I,
            venue: VenueId(1),
            price: Price(100),
            qty: Qty(1),
            aggressor: None,
            exchange_ts: TimestampNs(0),
        }));
        f.apply(&CommandBody::L3Delete(L3Delete {
            instrument: I,
            venue: VenueId(1),
            venue_order_id: 3,
            exchange_ts: TimestampNs(0),
        }));
        f.drain(&mut ev);
        assert_eq!(
            ev,
            [
                FeedEvent::Level {
                    instrument: 0,
                    side: Side::Buy,
                    price: Price(100),
                    qty: Qty(4),
                    action: md_action::CHANGE
                },
                FeedEvent::Level {
                    instrument: 0,
                    side: Side::Sell,
                    price: Price(105),
                    qty: Qty::ZERO,
                    action: md_action::DELETE
                },
                FeedEvent::Trade { instrument: 0, price: Price(100), qty: Qty(1) },
            ]
        );
        assert_eq!(f.levels(0, Side::Buy), [(Price(100), Qty(4))]);
        assert!(f.levels(0, Side::Sell).is_empty());
        // Appearing and vanishing within one batch says nothing.
        ev.clear();
        f.apply(&add(9, Side::Sell, 110, 1));
        f.apply(&CommandBody::L3Delete(L3Delete {
            instrument: I,
            venue: VenueId(1),
            venue_order_id: 9,
            exchange_ts: TimestampNs(0),
        }));
        f.drain(&mut ev);
        assert!(ev.is_empty());
    }
}
