//! The initiator's view of Keel's orders at the venue: what it needs to address them in
//! cancels, replaces and status requests, and to reconcile after a reconnect.
//!
//! An order enters when the core sends it ([`OrderTracker::sent`]) or, after a restart,
//! when serve hands over the recovered core's working orders ([`OrderTracker::seed`]),
//! and leaves when a report the gateway publishes ends it (fill to zero, cancel, reject,
//! expiry). Its cumulative quantity and notional move with the fills the gateway
//! publishes, in the order it publishes them, so it equals the core's (which applies the
//! same commands in the same order) except where the core refused a report as an anomaly.
//!
//! Bounded: at most `capacity` orders (the core's own order-table size); a new order
//! beyond is refused by the caller. Deterministic: a `BTreeMap` by order id, so every
//! walk (reconciliation) goes in id order.

use keel_engine::schema::VenueNewOrder;
use keel_engine::{ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, Side};
use std::collections::BTreeMap;

/// A cancel or replace Keel sent and the venue has not answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Nothing outstanding.
    None,
    /// A cancel, sent as ClOrdID version `version`.
    Cancel {
        /// Version of the cancel's ClOrdID.
        version: u32,
    },
    /// A replace to `price` and `qty`, sent as ClOrdID version `version`.
    Replace {
        /// Version of the replace's ClOrdID.
        version: u32,
        /// Requested price.
        price: Price,
        /// Requested total quantity.
        qty: Qty,
    },
}

/// One of Keel's orders at the venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracked {
    /// Keel's id.
    pub id: OrderId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Market or limit.
    pub ord_type: OrdType,
    /// Price in force at the venue.
    pub price: Price,
    /// Total quantity in force at the venue.
    pub qty: Qty,
    /// Filled so far, as published to the core.
    pub cum_qty: Qty,
    /// Sum of price × quantity of those fills, ticks·lots.
    pub cum_notional: i128,
    /// True once the venue acknowledged it.
    pub acked: bool,
    /// The venue's OrderID (37) as a number (see [`super::ids`]); zero before the ack.
    pub venue_order_id: u64,
    /// The venue's OrderID text, to send back in tag 37 (absent when it was longer than
    /// a [`ClOrdId`] holds, or not yet known).
    pub venue_order_text: Option<ClOrdId>,
    /// Version of the ClOrdID in force at the venue.
    pub version: u32,
    /// Last version handed out (cancel and replace requests take the next one).
    pub last_version: u32,
    /// Outstanding request.
    pub pending: Pending,
}

impl Tracked {
    /// Quantity still working, as far as Keel knows.
    pub fn leaves(&self) -> Qty {
        Qty((self.qty.0 - self.cum_qty.0).max(0))
    }

    /// The next ClOrdID version for a cancel or replace.
    pub fn next_version(&mut self) -> u32 {
        self.last_version += 1;
        self.last_version
    }
}

/// A working order as the recovered core knows it (handed over by `keel serve` after a
/// restart, so the gateway can reconcile it before trading).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkingOrder {
    /// Keel's id.
    pub id: OrderId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Market or limit.
    pub ord_type: OrdType,
    /// Price in force.
    pub price: Price,
    /// Total quantity in force.
    pub qty: Qty,
    /// Filled so far.
    pub filled: Qty,
    /// Sum of price × quantity of the fills, ticks·lots.
    pub cum_notional: i128,
    /// The venue's id (zero before the ack).
    pub venue_order_id: u64,
    /// True once the venue acknowledged it (the core's state is past PendingNew).
    pub acked: bool,
    /// A cancel the core sent and the venue has not answered.
    pub cancel_pending: bool,
    /// A replace (price, total quantity) the core sent and the venue has not answered.
    pub replace_pending: Option<(Price, Qty)>,
}

/// Why an order cannot be tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrackError {
    /// The table is full.
    #[error("the initiator's order table is full ({capacity} working orders)")]
    Full {
        /// Its capacity.
        capacity: usize,
    },
    /// The id is already tracked (the core never reuses ids: a bug upstream).
    #[error("order {0} is already working at the venue")]
    Duplicate(OrderId),
}

/// Keel's working orders at one venue.
#[derive(Debug)]
pub struct OrderTracker {
    orders: BTreeMap<OrderId, Tracked>,
    capacity: usize,
}

impl OrderTracker {
    /// An empty tracker for at most `capacity` orders.
    pub fn new(capacity: usize) -> OrderTracker {
        OrderTracker { orders: BTreeMap::new(), capacity: capacity.max(1) }
    }

    /// Working orders tracked.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// True when none is tracked.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// An order, by id.
    pub fn get(&self, id: OrderId) -> Option<&Tracked> {
        self.orders.get(&id)
    }

    /// An order, by id, mutably.
    pub fn get_mut(&mut self, id: OrderId) -> Option<&mut Tracked> {
        self.orders.get_mut(&id)
    }

    /// Every tracked order, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Tracked> + '_ {
        self.orders.values()
    }

    /// Ids of every tracked order, in id order.
    pub fn ids(&self) -> Vec<OrderId> {
        self.orders.keys().copied().collect()
    }

    fn insert(&mut self, t: Tracked) -> Result<&mut Tracked, TrackError> {
        if self.orders.contains_key(&t.id) {
            return Err(TrackError::Duplicate(t.id));
        }
        if self.orders.len() >= self.capacity {
            return Err(TrackError::Full { capacity: self.capacity });
        }
        Ok(self.orders.entry(t.id).or_insert(t))
    }

    /// The core sent a new order.
    pub fn sent(&mut self, o: &VenueNewOrder) -> Result<&mut Tracked, TrackError> {
        self.insert(Tracked {
            id: o.order_id,
            instrument: o.instrument,
            side: o.side,
            ord_type: o.ord_type,
            price: o.price,
            qty: o.qty,
            cum_qty: Qty::ZERO,
            cum_notional: 0,
            acked: false,
            venue_order_id: 0,
            venue_order_text: None,
            version: 0,
            last_version: 0,
            pending: Pending::None,
        })
    }

    /// A working order of the recovered core. Its ClOrdID version is unknown (the venue's
    /// status answer tells it); requests made before that use version 0 as the original
    /// and numbers from 1 000 000 up, so they never repeat a ClOrdID of the earlier run.
    pub fn seed(&mut self, w: &WorkingOrder) -> Result<&mut Tracked, TrackError> {
        let pending = match (w.cancel_pending, w.replace_pending) {
            (true, _) => Pending::Cancel { version: 0 },
            (false, Some((price, qty))) => Pending::Replace { version: 0, price, qty },
            _ => Pending::None,
        };
        self.insert(Tracked {
            id: w.id,
            instrument: w.instrument,
            side: w.side,
            ord_type: w.ord_type,
            price: w.price,
            qty: w.qty,
            cum_qty: w.filled,
            cum_notional: w.cum_notional,
            acked: w.acked,
            venue_order_id: w.venue_order_id,
            venue_order_text: None,
            version: 0,
            last_version: SEEDED_VERSION_BASE,
            pending,
        })
    }

    /// A fill was published: cumulative quantity and notional move; the order leaves
    /// when nothing remains.
    pub fn filled(&mut self, id: OrderId, price: Price, qty: Qty) {
        if let Some(t) = self.orders.get_mut(&id) {
            t.cum_qty = Qty(t.cum_qty.0 + qty.0);
            t.cum_notional += price.0 as i128 * qty.0 as i128;
            t.acked = true;
            if t.cum_qty >= t.qty {
                self.orders.remove(&id);
            }
        }
    }

    /// The order ended (cancelled, rejected, expired).
    pub fn ended(&mut self, id: OrderId) {
        self.orders.remove(&id);
    }
}

/// First ClOrdID version used for requests on an order recovered from a previous run.
pub const SEEDED_VERSION_BASE: u32 = 1_000_000;

/// The orders `core` has working at `venue` (held stops excluded: they are Keel's, not
/// the venue's), for [`RecoveredOrders`](super::RecoveredOrders) after a recovery.
pub fn working_orders_of(
    core: &keel_engine::core::Core,
    venue: keel_engine::VenueId,
) -> Vec<WorkingOrder> {
    use keel_engine::OrderState;
    core.orders()
        .iter_working(keel_engine::orders::OrderFilter::ALL)
        .filter(|o| o.terms().venue == venue && o.state() != OrderState::Held)
        .map(|o| {
            let state = o.state();
            let base = if state.is_pending_request() { o.prior() } else { state };
            let t = o.terms();
            WorkingOrder {
                id: t.id,
                instrument: t.instrument,
                side: t.side,
                ord_type: t.ord_type,
                price: t.price,
                qty: t.qty,
                filled: o.filled(),
                cum_notional: o.cum_notional_ticks_lots(),
                venue_order_id: o.venue_order_id(),
                acked: base != OrderState::PendingNew,
                cancel_pending: state == OrderState::PendingCancel,
                replace_pending: match (state, o.pending_replace()) {
                    (OrderState::PendingReplace, Some(p)) => Some((p.price, p.qty)),
                    _ => None,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_engine::schema::OrderFlags;
    use keel_engine::{TimeInForce, TimestampNs, VenueId};

    fn new(id: u64, qty: i64) -> VenueNewOrder {
        VenueNewOrder {
            venue: VenueId(1),
            order_id: OrderId(id),
            instrument: InstrumentId(0),
            side: Side::Buy,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Gtc,
            flags: OrderFlags::NONE,
            price: Price(100),
            qty: Qty(qty),
            display_qty: Qty::ZERO,
            expire_at: TimestampNs(0),
        }
    }

    #[test]
    fn orders_enter_fill_and_leave() {
        let mut t = OrderTracker::new(2);
        t.sent(&new(1, 10)).unwrap();
        t.sent(&new(2, 5)).unwrap();
        assert_eq!(t.sent(&new(3, 5)).unwrap_err(), TrackError::Full { capacity: 2 });
        assert_eq!(t.sent(&new(1, 5)).unwrap_err(), TrackError::Duplicate(OrderId(1)));
        t.filled(OrderId(1), Price(100), Qty(4));
        let o = t.get(OrderId(1)).unwrap();
        assert_eq!((o.cum_qty, o.cum_notional, o.leaves()), (Qty(4), 400, Qty(6)));
        t.filled(OrderId(1), Price(101), Qty(6));
        assert!(t.get(OrderId(1)).is_none());
        t.ended(OrderId(2));
        assert!(t.is_empty());
    }

    #[test]
    fn versions_count_up_and_seeded_orders_start_high() {
        let mut t = OrderTracker::new(4);
        let o = t.sent(&new(1, 10)).unwrap();
        assert_eq!((o.next_version(), o.next_version()), (1, 2));
        let w = WorkingOrder {
            id: OrderId(9),
            instrument: InstrumentId(0),
            side: Side::Sell,
            ord_type: OrdType::Limit,
            price: Price(5),
            qty: Qty(3),
            filled: Qty(1),
            cum_notional: 5,
            venue_order_id: 77,
            acked: true,
            cancel_pending: true,
            replace_pending: None,
        };
        let s = t.seed(&w).unwrap();
        assert_eq!(s.pending, Pending::Cancel { version: 0 });
        assert_eq!(s.next_version(), SEEDED_VERSION_BASE + 1);
        assert_eq!(t.ids(), [OrderId(1), OrderId(9)]);
    }
}
