//! The simulated venue's exchange logic, without threads or clocks: an [`L3Book`] per
//! instrument (price-time matching), a seeded synthetic order flow, and the translation
//! of book events into the commands a real venue's feed and order-entry session would
//! send Keel. Time comes in as an argument; randomness from its own seeded generator, so
//! the same seed and the same inputs give the same flow.

use keel_engine::book::{BookCapacity, BookError, BookEvent, CancelReason, L3Book, NewOrder};
use keel_engine::schema::{
    CancelRejectTo, CommandBody, L3Add, L3Delete, L3Execute, L3Modify, Liquidity, MarketTrade,
    OrderFlags, OutputBody, SnapshotMark, SnapshotPhase, VenueAck, VenueCancelAck,
    VenueCancelReject, VenueFill, VenueReject, VenueReplaceAck,
};
use keel_engine::{InstrumentId, OrderId, Price, Qty, Side, TimeInForce, TimestampNs};
use keel_engine::{VenueId, schema::VenueNewOrder};

/// Synthetic (non-Keel) orders get ids from here up, so they never collide with Keel's.
pub const SYNTHETIC_ID_BASE: u64 = 1 << 48;

/// Reason codes the simulated venue puts in rejects.
pub mod reason {
    /// The instrument is not traded here.
    pub const UNKNOWN_INSTRUMENT: u32 = 1;
    /// The order id is not resting (cancel/replace of a filled or unknown order).
    pub const UNKNOWN_ORDER: u32 = 2;
    /// A post-only order would have traded.
    pub const POST_ONLY_WOULD_CROSS: u32 = 3;
    /// A fill-or-kill order could not be filled.
    pub const FOK_UNFILLABLE: u32 = 4;
    /// The book is full.
    pub const CAPACITY: u32 = 5;
    /// Any other invalid order.
    pub const INVALID: u32 = 99;
}

/// One instrument of the simulated venue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimInstrument {
    /// Keel's instrument id.
    pub id: InstrumentId,
    /// Starting mid price, ticks.
    pub mid: Price,
}

/// The synthetic order flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// Seed of the venue's generator.
    pub seed: u64,
    /// Relative weight of passive limit adds.
    pub add_weight: u32,
    /// Relative weight of cancels of resting synthetic orders.
    pub cancel_weight: u32,
    /// Relative weight of marketable (market) orders.
    pub market_weight: u32,
    /// Chance, in percent per event, that the mid moves one tick (random walk).
    pub walk_pct: u32,
    /// Adds are placed 1..=`depth_ticks` ticks from the mid.
    pub depth_ticks: i64,
    /// Order sizes are 1..=`max_qty_lots` lots.
    pub max_qty_lots: i64,
    /// Resting orders per book above which adds turn into cancels.
    pub resting_max: usize,
}

/// SplitMix64: small, seeded, well mixed.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

struct Market {
    id: InstrumentId,
    book: L3Book,
    mid: i64,
    synthetic: Vec<OrderId>,
}

/// The venue: books, flow and id counters.
pub struct SimVenue {
    venue: VenueId,
    flow: FlowConfig,
    markets: Vec<Market>,
    rng: Rng,
    next_synthetic: u64,
    next_exec_id: u64,
    events: Vec<BookEvent>,
}

fn side_of(rng: &mut Rng) -> Side {
    if rng.below(2) == 0 { Side::Buy } else { Side::Sell }
}

impl SimVenue {
    /// A venue trading `instruments`, each book sized `book`. `exec_id_base` offsets the
    /// execution ids (so a restarted venue never repeats an id Keel has seen).
    pub fn new(
        venue: VenueId,
        instruments: &[SimInstrument],
        book: BookCapacity,
        flow: FlowConfig,
        exec_id_base: u64,
    ) -> SimVenue {
        SimVenue {
            venue,
            rng: Rng(flow.seed),
            flow,
            markets: instruments
                .iter()
                .map(|i| Market {
                    id: i.id,
                    book: L3Book::new(book),
                    mid: i.mid.0,
                    synthetic: Vec::with_capacity(book.orders as usize),
                })
                .collect(),
            next_synthetic: SYNTHETIC_ID_BASE,
            next_exec_id: exec_id_base,
            events: Vec::with_capacity(1024),
        }
    }

    /// The venue's id.
    pub fn venue(&self) -> VenueId {
        self.venue
    }

    /// Current mid of each instrument, ticks.
    pub fn mids(&self) -> Vec<(InstrumentId, i64)> {
        self.markets.iter().map(|m| (m.id, m.mid)).collect()
    }

    fn market_index(&self, id: InstrumentId) -> Option<usize> {
        self.markets.iter().position(|m| m.id == id)
    }

    /// A full snapshot of every book (Begin, one L3Add per resting order, End), seeding
    /// each book first with `resting_max / 2` synthetic orders around the mid.
    pub fn snapshot(&mut self, ts: TimestampNs, out: &mut Vec<CommandBody>) {
        for m in 0..self.markets.len() {
            let target = self.flow.resting_max / 2;
            let mut tries = 0;
            while self.markets[m].book.len() < target && tries < 4 * target {
                tries += 1;
                let mut scratch = Vec::new();
                self.add_passive(m, ts, &mut scratch);
            }
            let mk = &self.markets[m];
            let (instrument, venue) = (mk.id, self.venue);
            out.push(CommandBody::Snapshot(SnapshotMark {
                instrument,
                venue,
                phase: SnapshotPhase::Begin,
                exchange_ts: ts,
            }));
            for side in [Side::Buy, Side::Sell] {
                for level in mk.book.levels(side) {
                    for o in mk.book.orders_at(side, level.price) {
                        out.push(CommandBody::L3Add(L3Add {
                            instrument,
                            venue,
                            venue_order_id: o.id.0,
                            side,
                            price: o.price,
                            qty: o.visible,
                            exchange_ts: ts,
                        }));
                    }
                }
            }
            out.push(CommandBody::Snapshot(SnapshotMark {
                instrument,
                venue,
                phase: SnapshotPhase::End,
                exchange_ts: ts,
            }));
        }
    }

    /// One synthetic event: an add, a cancel or a marketable order, on a random
    /// instrument; the mid may move a tick first.
    pub fn flow_event(&mut self, ts: TimestampNs, out: &mut Vec<CommandBody>) {
        if self.markets.is_empty() {
            return;
        }
        let m = self.rng.below(self.markets.len() as u64) as usize;
        if self.rng.below(100) < self.flow.walk_pct as u64 {
            let step = if self.rng.below(2) == 0 { -1 } else { 1 };
            let floor = self.flow.depth_ticks + 1;
            self.markets[m].mid = (self.markets[m].mid + step).max(floor);
        }
        let f = &self.flow;
        let total = (f.add_weight + f.cancel_weight + f.market_weight).max(1) as u64;
        let roll = self.rng.below(total);
        let full = self.markets[m].book.len() >= self.flow.resting_max;
        if roll < f.add_weight as u64 && !full {
            self.add_passive(m, ts, out);
        } else if roll < (f.add_weight + f.cancel_weight) as u64 || full {
            if !self.cancel_random(m, ts, out) {
                self.add_passive(m, ts, out);
            }
        } else {
            self.market_order(m, ts, out);
        }
    }

    fn add_passive(&mut self, m: usize, ts: TimestampNs, out: &mut Vec<CommandBody>) {
        let side = side_of(&mut self.rng);
        let offset = 1 + self.rng.below(self.flow.depth_ticks.max(1) as u64) as i64;
        let mid = self.markets[m].mid;
        let price = Price(if side == Side::Buy { mid - offset } else { mid + offset });
        let qty = Qty(1 + self.rng.below(self.flow.max_qty_lots.max(1) as u64) as i64);
        let id = OrderId(self.next_synthetic);
        self.next_synthetic += 1;
        self.events.clear();
        let mut events = std::mem::take(&mut self.events);
        if self.markets[m].book.submit(&NewOrder::limit(id, side, price, qty), &mut events).is_ok()
        {
            self.markets[m].synthetic.push(id);
            self.translate(m, None, &events, ts, out);
        }
        self.events = events;
    }

    fn cancel_random(&mut self, m: usize, ts: TimestampNs, out: &mut Vec<CommandBody>) -> bool {
        while !self.markets[m].synthetic.is_empty() {
            let n = self.markets[m].synthetic.len();
            let i = self.rng.below(n as u64) as usize;
            let id = self.markets[m].synthetic.swap_remove(i);
            self.events.clear();
            let mut events = std::mem::take(&mut self.events);
            let done = self.markets[m].book.cancel(id, &mut events).is_ok();
            if done {
                self.translate(m, None, &events, ts, out);
            }
            self.events = events;
            if done {
                return true;
            }
            // Already filled away: forget it and try another.
        }
        false
    }

    fn market_order(&mut self, m: usize, ts: TimestampNs, out: &mut Vec<CommandBody>) {
        let side = side_of(&mut self.rng);
        let qty = Qty(1 + self.rng.below(self.flow.max_qty_lots.max(1) as u64) as i64);
        let id = OrderId(self.next_synthetic);
        self.next_synthetic += 1;
        self.events.clear();
        let mut events = std::mem::take(&mut self.events);
        if self.markets[m].book.submit(&NewOrder::market(id, side, qty), &mut events).is_ok() {
            self.translate(m, None, &events, ts, out);
        }
        self.events = events;
    }

    /// Keel's order-entry output, arriving at the venue: matched at once; the answers
    /// (ack or reject, fills, cancel acks) and the feed's events go to `out`. Outputs that
    /// are not for a venue are ignored.
    pub fn on_keel(&mut self, body: &OutputBody, ts: TimestampNs, out: &mut Vec<CommandBody>) {
        match body {
            OutputBody::VenueNewOrder(o) => self.new_order(o, ts, out),
            OutputBody::VenueCancel(c) => {
                let reject = |reason| {
                    CommandBody::VenueCancelReject(VenueCancelReject {
                        venue: self.venue,
                        order_id: c.order_id,
                        response_to: CancelRejectTo::Cancel,
                        reason,
                        venue_ts: ts,
                    })
                };
                let Some(m) = self.market_index(c.instrument) else {
                    out.push(reject(reason::UNKNOWN_INSTRUMENT));
                    return;
                };
                self.events.clear();
                let mut events = std::mem::take(&mut self.events);
                match self.markets[m].book.cancel(c.order_id, &mut events) {
                    Ok(_) => {
                        out.push(CommandBody::VenueCancelAck(VenueCancelAck {
                            venue: self.venue,
                            order_id: c.order_id,
                            unsolicited: false,
                            venue_ts: ts,
                        }));
                        self.translate(m, None, &events, ts, out);
                    }
                    Err(e) => out.push(reject(reason_of(&e))),
                }
                self.events = events;
            }
            OutputBody::VenueReplace(r) => {
                let reject = |reason| {
                    CommandBody::VenueCancelReject(VenueCancelReject {
                        venue: self.venue,
                        order_id: r.order_id,
                        response_to: CancelRejectTo::Replace,
                        reason,
                        venue_ts: ts,
                    })
                };
                let Some(m) = self.market_index(r.instrument) else {
                    out.push(reject(reason::UNKNOWN_INSTRUMENT));
                    return;
                };
                self.events.clear();
                let mut events = std::mem::take(&mut self.events);
                match self.markets[m].book.amend(r.order_id, r.price, r.qty, &mut events) {
                    Ok(_) => {
                        out.push(CommandBody::VenueReplaceAck(VenueReplaceAck {
                            venue: self.venue,
                            order_id: r.order_id,
                            price: r.price,
                            qty: r.qty,
                            venue_ts: ts,
                        }));
                        self.translate(m, Some(r.order_id), &events, ts, out);
                    }
                    Err(e) => out.push(reject(reason_of(&e))),
                }
                self.events = events;
            }
            _ => {}
        }
    }

    fn new_order(&mut self, o: &VenueNewOrder, ts: TimestampNs, out: &mut Vec<CommandBody>) {
        let reject = |reason| {
            CommandBody::VenueReject(VenueReject {
                venue: self.venue,
                order_id: o.order_id,
                reason,
                venue_ts: ts,
            })
        };
        let Some(m) = self.market_index(o.instrument) else {
            out.push(reject(reason::UNKNOWN_INSTRUMENT));
            return;
        };
        let order = NewOrder {
            id: o.order_id,
            side: o.side,
            ord_type: o.ord_type,
            price: o.price,
            qty: o.qty,
            tif: if o.tif == TimeInForce::Gtd { TimeInForce::Gtc } else { o.tif },
            post_only: o.flags.contains(OrderFlags::POST_ONLY),
            display: (o.display_qty.0 > 0 && o.display_qty < o.qty).then_some(o.display_qty),
        };
        self.events.clear();
        let mut events = std::mem::take(&mut self.events);
        match self.markets[m].book.submit(&order, &mut events) {
            Ok(_) => {
                out.push(CommandBody::VenueAck(VenueAck {
                    venue: self.venue,
                    order_id: o.order_id,
                    venue_order_id: o.order_id.0,
                    venue_ts: ts,
                }));
                self.translate(m, Some(o.order_id), &events, ts, out);
            }
            Err(e) => out.push(reject(reason_of(&e))),
        }
        self.events = events;
    }

    /// Turns book events into feed events and, for Keel's orders, execution reports.
    /// `keel_taker` is Keel's incoming (or amended) order, if any.
    fn translate(
        &mut self,
        m: usize,
        keel_taker: Option<OrderId>,
        events: &[BookEvent],
        ts: TimestampNs,
        out: &mut Vec<CommandBody>,
    ) {
        let instrument = self.markets[m].id;
        let venue = self.venue;
        let is_keel = |id: OrderId| id.0 < SYNTHETIC_ID_BASE;
        for ev in events {
            match *ev {
                BookEvent::Fill(f) => {
                    out.push(CommandBody::L3Execute(L3Execute {
                        instrument,
                        venue,
                        venue_order_id: f.maker.0,
                        qty: f.qty,
                        price: f.price,
                        exchange_ts: ts,
                    }));
                    out.push(CommandBody::Trade(MarketTrade {
                        instrument,
                        venue,
                        price: f.price,
                        qty: f.qty,
                        aggressor: Some(f.taker_side),
                        exchange_ts: ts,
                    }));
                    for (id, liquidity) in
                        [(f.maker, Liquidity::Maker), (f.taker, Liquidity::Taker)]
                    {
                        if is_keel(id) {
                            self.next_exec_id += 1;
                            out.push(CommandBody::VenueFill(VenueFill {
                                venue,
                                order_id: id,
                                exec_id: self.next_exec_id,
                                price: f.price,
                                qty: f.qty,
                                fee: 0,
                                liquidity,
                                venue_ts: ts,
                            }));
                        }
                    }
                }
                BookEvent::Rested { id, side, price, visible, .. }
                | BookEvent::Replenished { id, side, price, visible, .. } => {
                    out.push(CommandBody::L3Add(L3Add {
                        instrument,
                        venue,
                        venue_order_id: id.0,
                        side,
                        price,
                        qty: visible,
                        exchange_ts: ts,
                    }));
                }
                BookEvent::Amended { id, price, priority_kept, .. } => {
                    let visible = self.markets[m].book.order(id).map(|o| o.visible);
                    match (priority_kept, visible) {
                        (true, Some(qty)) => out.push(CommandBody::L3Modify(L3Modify {
                            instrument,
                            venue,
                            venue_order_id: id.0,
                            price,
                            qty,
                            exchange_ts: ts,
                        })),
                        // Lost priority: it leaves the feed's book; a `Rested` re-adds it.
                        _ => out.push(CommandBody::L3Delete(L3Delete {
                            instrument,
                            venue,
                            venue_order_id: id.0,
                            exchange_ts: ts,
                        })),
                    }
                }
                BookEvent::Cancelled { id, reason, .. } => {
                    let was_resting = reason != CancelReason::Unfilled;
                    let amended_away = reason == CancelReason::AmendedBelowFilled;
                    if was_resting && !amended_away {
                        out.push(CommandBody::L3Delete(L3Delete {
                            instrument,
                            venue,
                            venue_order_id: id.0,
                            exchange_ts: ts,
                        }));
                    }
                    // Keel learns of cancels it did not ask for (IOC remainders, amends
                    // below filled); a requested cancel was acknowledged by the caller.
                    let unsolicited = reason != CancelReason::Requested;
                    if is_keel(id) && unsolicited && (keel_taker == Some(id) || amended_away) {
                        out.push(CommandBody::VenueCancelAck(VenueCancelAck {
                            venue,
                            order_id: id,
                            unsolicited: true,
                            venue_ts: ts,
                        }));
                    }
                }
            }
        }
    }
}

fn reason_of(e: &BookError) -> u32 {
    match e {
        BookError::UnknownOrderId { .. } => reason::UNKNOWN_ORDER,
        BookError::PostOnlyWouldCross { .. } => reason::POST_ONLY_WOULD_CROSS,
        BookError::FokUnfillable { .. } => reason::FOK_UNFILLABLE,
        BookError::OrdersFull { .. } | BookError::LevelsFull { .. } => reason::CAPACITY,
        _ => reason::INVALID,
    }
}

/// Exponential inter-arrival time for `rate_per_sec` events per second, ns.
pub(crate) fn next_arrival_ns(venue: &mut SimVenue, rate_per_sec: u32) -> u64 {
    let u = venue.rng.unit();
    ((-u.ln()) * 1e9 / rate_per_sec.max(1) as f64) as u64
}
