//! The simulated venue's orders as its FIX clients see them: the venue's OrderID (37), the
//! ClOrdIDs (11) each order has had, and the figures an ExecutionReport carries.
//!
//! The matching engine knows orders by a numeric id the venue assigns (from 1 up, below
//! the synthetic flow's ids); the client knows them by its ClOrdIDs. Every ClOrdID an
//! order has had maps to it, so a cancel naming an older one (OrigClOrdID) or a status
//! request naming any of them finds it. Finished orders are kept for status requests
//! until `finished_max` newer ones have finished (bounded memory).

use keel_engine::{ClOrdId, OrdType, OrderId, Price, Qty, Side, TimeInForce};
use std::collections::{HashMap, VecDeque};

/// One client order at the venue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueOrder {
    /// The venue's id (OrderID 37, and the matching engine's id).
    pub id: OrderId,
    /// The ClOrdID in force.
    pub cl_ord_id: ClOrdId,
    /// Every ClOrdID the order has had, the first first.
    pub cl_ord_ids: Vec<ClOrdId>,
    /// Index of its instrument in the venue's list.
    pub instrument: usize,
    /// Side.
    pub side: Side,
    /// Market or limit.
    pub ord_type: OrdType,
    /// Time in force.
    pub tif: TimeInForce,
    /// Price in force.
    pub price: Price,
    /// Total quantity in force.
    pub qty: Qty,
    /// Filled so far.
    pub cum_qty: Qty,
    /// Sum of price × quantity, ticks·lots.
    pub cum_notional: i128,
    /// OrdStatus (39).
    pub status: u8,
}

impl VenueOrder {
    /// Quantity still working (zero once finished).
    pub fn leaves(&self) -> Qty {
        if super::super::initiator::dialect::ord_status::is_terminal(self.status) {
            Qty::ZERO
        } else {
            Qty((self.qty.0 - self.cum_qty.0).max(0))
        }
    }
}

/// The venue's client orders.
#[derive(Debug)]
pub struct VenueOrders {
    orders: HashMap<OrderId, VenueOrder>,
    by_cl: HashMap<ClOrdId, OrderId>,
    finished: VecDeque<OrderId>,
    finished_max: usize,
    next_id: u64,
}

impl VenueOrders {
    /// An empty registry keeping up to `finished_max` finished orders.
    pub fn new(finished_max: usize) -> VenueOrders {
        VenueOrders {
            orders: HashMap::new(),
            by_cl: HashMap::new(),
            finished: VecDeque::new(),
            finished_max: finished_max.max(1),
            next_id: 1,
        }
    }

    /// The next venue order id (ids are never reused).
    pub fn allocate(&mut self) -> OrderId {
        let id = OrderId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Registers a new order under its first ClOrdID.
    pub fn insert(&mut self, order: VenueOrder) {
        self.by_cl.insert(order.cl_ord_id, order.id);
        self.orders.insert(order.id, order);
    }

    /// The order a ClOrdID names.
    pub fn by_cl_ord_id(&self, cl: &ClOrdId) -> Option<OrderId> {
        self.by_cl.get(cl).copied()
    }

    /// True when a ClOrdID has been used.
    pub fn cl_ord_id_used(&self, cl: &ClOrdId) -> bool {
        self.by_cl.contains_key(cl)
    }

    /// An order by venue id.
    pub fn get(&self, id: OrderId) -> Option<&VenueOrder> {
        self.orders.get(&id)
    }

    /// An order by venue id, mutably.
    pub fn get_mut(&mut self, id: OrderId) -> Option<&mut VenueOrder> {
        self.orders.get_mut(&id)
    }

    /// A new ClOrdID is in force (an applied cancel or replace).
    pub fn rename(&mut self, id: OrderId, cl: ClOrdId) {
        if let Some(o) = self.orders.get_mut(&id) {
            o.cl_ord_id = cl;
            o.cl_ord_ids.push(cl);
            self.by_cl.insert(cl, id);
        }
    }

    /// The order finished: kept for status requests until enough newer ones finish.
    pub fn finished(&mut self, id: OrderId) {
        self.finished.push_back(id);
        while self.finished.len() > self.finished_max {
            let Some(old) = self.finished.pop_front() else { break };
            if let Some(o) = self.orders.remove(&old) {
                for cl in &o.cl_ord_ids {
                    self.by_cl.remove(cl);
                }
            }
        }
    }

    /// Working orders, in venue id order.
    pub fn working(&self) -> Vec<&VenueOrder> {
        let mut v: Vec<&VenueOrder> = self
            .orders
            .values()
            .filter(|o| !super::super::initiator::dialect::ord_status::is_terminal(o.status))
            .collect();
        v.sort_by_key(|o| o.id);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: OrderId, cl: &str) -> VenueOrder {
        let cl: ClOrdId = cl.parse().unwrap();
        VenueOrder {
            id,
            cl_ord_id: cl,
            cl_ord_ids: vec![cl],
            instrument: 0,
            side: Side::Buy,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Gtc,
            price: Price(1),
            qty: Qty(2),
            cum_qty: Qty::ZERO,
            cum_notional: 0,
            status: b'0',
        }
    }

    #[test]
    fn every_cl_ord_id_finds_the_order_until_it_is_evicted() {
        let mut r = VenueOrders::new(1);
        let a = r.allocate();
        let b = r.allocate();
        r.insert(order(a, "A"));
        r.insert(order(b, "B"));
        r.rename(a, "A-1".parse().unwrap());
        assert_eq!(r.by_cl_ord_id(&"A".parse().unwrap()), Some(a));
        assert_eq!(r.by_cl_ord_id(&"A-1".parse().unwrap()), Some(a));
        assert_eq!(r.working().len(), 2);
        r.get_mut(a).unwrap().status = b'4';
        r.finished(a);
        assert_eq!(r.working().len(), 1);
        assert!(r.get(a).is_some());
        r.get_mut(b).unwrap().status = b'2';
        r.finished(b);
        // Only one finished order is kept: the older is gone with its ids.
        assert!(r.get(a).is_none());
        assert!(!r.cl_ord_id_used(&"A-1".parse().unwrap()));
        assert!(r.get(b).is_some());
    }
}
