//! The market as Keel sees it: one book per instrument per venue, built from venue market
//! data, with the last trade and the trading status beside it.
//!
//! Contract:
//! - A venue's feed is either L2 (level updates) or L3 (order by order), fixed by
//!   configuration; a command of the other kind for that venue is refused
//!   ([`MarketError::WrongFeed`]) and leaves the book untouched.
//! - Between a snapshot's `Begin` and `End` the book is being rebuilt: it is updated but
//!   reported as not ready, so strategies never act on half a book.
//! - Reference price for an instrument (risk collars, marking): the consolidated mid (best
//!   bid across venues, best ask across venues) when both sides exist and do not cross,
//!   else the last trade on any venue (the most recent by exchange time, ties to the lower
//!   venue id), else none.
//! - Best-price routing picks the venue with the best opposite price (lowest ask for a buy,
//!   highest bid for a sell); ties go to the lower venue id, so routing is deterministic.

use std::cell::Cell;

use crate::book::{BookCapacity, BookError, Imbalance, L2Book, L3Book, LevelView, Microprice};
use crate::schema::{L2Update, L3Add, L3Delete, L3Execute, L3Modify, MarketStatus, MarketTrade};
use crate::{InstrumentId, OrderId, Price, Qty, Side, TimestampNs, VenueId};

mod snapshot;

/// Which kind of feed a venue publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedKind {
    /// Aggregated price levels.
    L2,
    /// Order by order.
    L3,
}

/// Why a market-data command was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MarketError {
    /// The (instrument, venue) pair is not configured.
    #[error("no book for instrument {instrument} on venue {venue}")]
    UnknownBook {
        /// Instrument named.
        instrument: InstrumentId,
        /// Venue named.
        venue: VenueId,
    },
    /// An L2 command for an L3 venue or the reverse.
    #[error("venue {venue} publishes {expected:?} market data")]
    WrongFeed {
        /// Venue named.
        venue: VenueId,
        /// What it publishes.
        expected: FeedKind,
    },
    /// The book refused the update (capacity, unknown order id, bad quantity).
    #[error("book update refused: {0}")]
    Book(#[from] BookError),
}

/// A best price and the visible quantity there.
pub type Top = (Price, Qty);

/// A book of either kind.
pub enum MarketBook {
    /// From level updates.
    L2(L2Book),
    /// From order-by-order updates.
    L3(L3Book),
}

impl MarketBook {
    /// Best bid and best ask (price, visible quantity): one dispatch for both sides.
    /// Always inlined: a strategy host reads it on most of its calls.
    #[inline(always)]
    pub fn top(&self) -> (Option<Top>, Option<Top>) {
        match self {
            MarketBook::L2(b) => (b.best(Side::Buy), b.best(Side::Sell)),
            MarketBook::L3(b) => (b.best(Side::Buy), b.best(Side::Sell)),
        }
    }

    /// Best price and visible quantity on a side.
    pub fn best(&self, side: Side) -> Option<(Price, Qty)> {
        match self {
            MarketBook::L2(b) => b.best(side),
            MarketBook::L3(b) => b.best(side),
        }
    }

    /// Up to `out.len()` levels from the best outward; returns how many were written.
    pub fn depth(&self, side: Side, out: &mut [LevelView]) -> usize {
        match self {
            MarketBook::L2(b) => b.depth(side, out),
            MarketBook::L3(b) => b.depth(side, out),
        }
    }

    /// Imbalance over the top `levels` levels.
    pub fn imbalance(&self, levels: usize) -> Imbalance {
        match self {
            MarketBook::L2(b) => b.imbalance(levels),
            MarketBook::L3(b) => b.imbalance(levels),
        }
    }

    /// Size-weighted mid of the top of book.
    pub fn microprice(&self) -> Option<Microprice> {
        match self {
            MarketBook::L2(b) => b.microprice(),
            MarketBook::L3(b) => b.microprice(),
        }
    }

    fn clear(&mut self) {
        match self {
            MarketBook::L2(b) => b.clear(),
            MarketBook::L3(b) => b.clear(),
        }
    }

    /// Feeds the book's levels (both sides, best first) to a digest.
    fn digest_into(&self, sink: &mut dyn FnMut(&[u8])) {
        for side in [Side::Buy, Side::Sell] {
            let levels: &mut dyn Iterator<Item = LevelView> = match self {
                MarketBook::L2(b) => &mut b.levels(side),
                MarketBook::L3(b) => &mut b.levels(side),
            };
            for level in levels {
                sink(&level.price.0.to_le_bytes());
                sink(&level.qty.0.to_le_bytes());
                sink(&level.orders.to_le_bytes());
            }
            sink(b"|");
        }
    }
}

/// A trade print remembered for reference prices and stop triggers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastTrade {
    /// Trade price.
    pub price: Price,
    /// Trade quantity.
    pub qty: Qty,
    /// Exchange time.
    pub exchange_ts: TimestampNs,
}

/// One instrument on one venue.
pub struct VenueMarket {
    /// The venue's book for the instrument.
    pub book: MarketBook,
    /// The last trade printed there.
    pub last_trade: Option<LastTrade>,
    /// Trading status.
    pub status: MarketStatus,
    /// True between a snapshot's `Begin` and `End`.
    pub rebuilding: bool,
}

/// Every configured (instrument, venue) market, in dense tables indexed by configuration
/// position (instrument index × venue count + venue index).
pub struct Markets {
    venues: Vec<VenueId>,
    /// Instrument id → row, `u32::MAX` where the id is not configured.
    instrument_row: Vec<u32>,
    /// Venue id → column, `u32::MAX` where the id is not configured.
    venue_col: Vec<u32>,
    markets: Vec<Option<VenueMarket>>,
    /// Per instrument row, the reference price as last computed, until a change to one of
    /// its markets invalidates it (derived state: recomputed on demand, never digested or
    /// snapshotted). Market data is most of the traffic and orders need the reference:
    /// invalidating costs a store, recomputing only happens when an order asks.
    reference: Vec<Cell<CachedReference>>,
    /// Counts changes that may have moved what a strategy's view shows of some market (top
    /// of book, last trade): every change through [`Self::get_mut`] or
    /// [`Self::invalidate_all`], except L2 updates behind the best level. Derived and
    /// in-process only (never digested or snapshotted): a strategy host compares it with
    /// the value at its last refresh to know that nothing it shows has moved.
    top_epoch: u64,
}

/// A cached reference price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CachedReference {
    Stale,
    Fresh(Option<Price>),
}

/// A dense id → position table: ids are small numbers from configuration, so a direct
/// index beats any hash on the hot path.
fn dense_index(ids: impl Iterator<Item = usize> + Clone) -> Vec<u32> {
    let len = ids.clone().max().map_or(0, |m| m + 1);
    let mut table = vec![u32::MAX; len];
    for (pos, id) in ids.enumerate() {
        table[id] = pos as u32;
    }
    table
}

fn lookup(table: &[u32], id: usize) -> Option<usize> {
    table.get(id).copied().filter(|&p| p != u32::MAX).map(|p| p as usize)
}

impl Markets {
    /// Builds the books for every (instrument, venue) pair that `listed` allows, with the
    /// venue's feed kind. All memory is reserved here.
    pub fn new(
        instruments: &[InstrumentId],
        venues: &[(VenueId, FeedKind)],
        listed: impl Fn(InstrumentId, VenueId) -> bool,
        capacity: BookCapacity,
    ) -> Markets {
        let mut markets = Vec::with_capacity(instruments.len() * venues.len());
        for &instrument in instruments {
            for &(venue, feed) in venues {
                markets.push(listed(instrument, venue).then(|| VenueMarket {
                    book: match feed {
                        FeedKind::L2 => MarketBook::L2(L2Book::new(capacity)),
                        FeedKind::L3 => MarketBook::L3(L3Book::new(capacity)),
                    },
                    last_trade: None,
                    status: MarketStatus::Open,
                    rebuilding: false,
                }));
            }
        }
        Markets {
            venues: venues.iter().map(|v| v.0).collect(),
            instrument_row: dense_index(instruments.iter().map(|i| i.index())),
            venue_col: dense_index(venues.iter().map(|v| v.0.index())),
            markets,
            reference: vec![Cell::new(CachedReference::Stale); instruments.len()],
            top_epoch: 0,
        }
    }

    fn slot(&self, instrument: InstrumentId, venue: VenueId) -> Option<usize> {
        let row = lookup(&self.instrument_row, instrument.index())?;
        let col = lookup(&self.venue_col, venue.index())?;
        Some(row * self.venues.len() + col)
    }

    /// Where the market of `instrument` on `venue` is kept, for [`Self::at`]: `None` when
    /// the pair is not configured. Markets are fixed at start-up, so a slot stays valid.
    pub(crate) fn slot_of(&self, instrument: InstrumentId, venue: VenueId) -> Option<usize> {
        self.slot(instrument, venue).filter(|&s| self.markets[s].is_some())
    }

    /// The market in a slot from [`Self::slot_of`].
    #[inline]
    pub(crate) fn at(&self, slot: usize) -> Option<&VenueMarket> {
        self.markets.get(slot).and_then(Option::as_ref)
    }

    /// The market for an instrument on a venue.
    pub fn get(&self, instrument: InstrumentId, venue: VenueId) -> Option<&VenueMarket> {
        self.slot(instrument, venue).and_then(|s| self.markets[s].as_ref())
    }

    /// Every change to a market goes through here (or [`Self::invalidate_all`]): it
    /// invalidates the instrument's cached reference.
    fn get_mut(
        &mut self,
        instrument: InstrumentId,
        venue: VenueId,
    ) -> Result<&mut VenueMarket, MarketError> {
        self.top_epoch = self.top_epoch.wrapping_add(1);
        self.get_mut_behind_top(instrument, venue)
    }

    /// [`Self::get_mut`] for a change the caller reports to [`Self::top_epoch`] itself
    /// (it knows whether the top moved).
    #[inline]
    fn get_mut_behind_top(
        &mut self,
        instrument: InstrumentId,
        venue: VenueId,
    ) -> Result<&mut VenueMarket, MarketError> {
        let unknown = MarketError::UnknownBook { instrument, venue };
        let row = lookup(&self.instrument_row, instrument.index()).ok_or(unknown)?;
        let col = lookup(&self.venue_col, venue.index()).ok_or(unknown)?;
        self.reference[row].set(CachedReference::Stale);
        self.markets[row * self.venues.len() + col].as_mut().ok_or(unknown)
    }

    /// See the field's docs: equal values mean no market's top of book or last trade has
    /// changed in between.
    #[inline]
    pub(crate) fn top_epoch(&self) -> u64 {
        self.top_epoch
    }

    /// The venues that list an instrument, in configuration order.
    pub fn venues_of(
        &self,
        instrument: InstrumentId,
    ) -> impl Iterator<Item = (VenueId, &VenueMarket)> + '_ {
        let row = lookup(&self.instrument_row, instrument.index());
        self.venues.iter().enumerate().filter_map(move |(v, &venue)| {
            let row = row?;
            self.markets[row * self.venues.len() + v].as_ref().map(|m| (venue, m))
        })
    }

    /// Applies an L2 level update.
    pub fn apply_l2(&mut self, u: &L2Update) -> Result<(), MarketError> {
        self.apply_l2_rebuilding(u).map(|_| ())
    }

    /// [`Self::apply_l2`], answering whether the book is being rebuilt (between a
    /// snapshot's `Begin` and `End`): the core needs to know, and the market is at hand.
    /// Always inlined into the core's L2 path (most of the traffic): the call and the
    /// result passed through memory cost ~25 instructions.
    #[inline(always)]
    pub(crate) fn apply_l2_rebuilding(&mut self, u: &L2Update) -> Result<bool, MarketError> {
        let m = self.get_mut_behind_top(u.instrument, u.venue)?;
        match &mut m.book {
            MarketBook::L2(b) => {
                // A refused update changes nothing; one behind the best level leaves the
                // top as it was.
                let moved = b.set_top(u.side, u.price, u.qty)?;
                let rebuilding = m.rebuilding;
                if moved {
                    self.top_epoch = self.top_epoch.wrapping_add(1);
                }
                Ok(rebuilding)
            }
            MarketBook::L3(_) => {
                Err(MarketError::WrongFeed { venue: u.venue, expected: FeedKind::L3 })
            }
        }
    }

    fn l3(&mut self, instrument: InstrumentId, venue: VenueId) -> Result<&mut L3Book, MarketError> {
        match &mut self.get_mut(instrument, venue)?.book {
            MarketBook::L3(b) => Ok(b),
            MarketBook::L2(_) => Err(MarketError::WrongFeed { venue, expected: FeedKind::L2 }),
        }
    }

    /// Applies an L3 add.
    pub fn apply_l3_add(&mut self, u: &L3Add) -> Result<(), MarketError> {
        let book = self.l3(u.instrument, u.venue)?;
        Ok(book.add(OrderId(u.venue_order_id), u.side, u.price, u.qty)?)
    }

    /// Applies an L3 modify.
    pub fn apply_l3_modify(&mut self, u: &L3Modify) -> Result<(), MarketError> {
        let book = self.l3(u.instrument, u.venue)?;
        Ok(book.modify(OrderId(u.venue_order_id), u.price, u.qty)?)
    }

    /// Applies an L3 delete.
    pub fn apply_l3_delete(&mut self, u: &L3Delete) -> Result<(), MarketError> {
        let book = self.l3(u.instrument, u.venue)?;
        Ok(book.delete(OrderId(u.venue_order_id))?)
    }

    /// Applies an L3 execution; also remembered as the last trade.
    pub fn apply_l3_execute(&mut self, u: &L3Execute) -> Result<(), MarketError> {
        let book = self.l3(u.instrument, u.venue)?;
        book.execute(OrderId(u.venue_order_id), u.qty)?;
        let m = self.get_mut(u.instrument, u.venue)?;
        m.last_trade = Some(LastTrade { price: u.price, qty: u.qty, exchange_ts: u.exchange_ts });
        Ok(())
    }

    /// Records a trade print.
    pub fn apply_trade(&mut self, t: &MarketTrade) -> Result<(), MarketError> {
        self.apply_trade_rebuilding(t).map(|_| ())
    }

    /// [`Self::apply_trade`], answering whether the book is being rebuilt (between a
    /// snapshot's `Begin` and `End`): the core needs to know, and the market is at hand.
    #[inline]
    pub(crate) fn apply_trade_rebuilding(&mut self, t: &MarketTrade) -> Result<bool, MarketError> {
        let m = self.get_mut(t.instrument, t.venue)?;
        m.last_trade = Some(LastTrade { price: t.price, qty: t.qty, exchange_ts: t.exchange_ts });
        Ok(m.rebuilding)
    }

    /// A snapshot begins (clears the book) or ends.
    pub fn snapshot(
        &mut self,
        instrument: InstrumentId,
        venue: VenueId,
        begin: bool,
    ) -> Result<(), MarketError> {
        let m = self.get_mut(instrument, venue)?;
        if begin {
            m.book.clear();
        }
        m.rebuilding = begin;
        Ok(())
    }

    /// Sets the trading status of one instrument on a venue, or of all of them.
    pub fn set_status(
        &mut self,
        venue: VenueId,
        instrument: Option<InstrumentId>,
        status: MarketStatus,
    ) -> Result<(), MarketError> {
        match instrument {
            Some(instrument) => self.get_mut(instrument, venue)?.status = status,
            None => {
                let v = lookup(&self.venue_col, venue.index())
                    .ok_or(MarketError::UnknownBook { instrument: InstrumentId(0), venue })?;
                let n = self.venues.len();
                self.invalidate_all();
                for m in self.markets.iter_mut().skip(v).step_by(n).flatten() {
                    m.status = status;
                }
            }
        }
        Ok(())
    }

    /// Consolidated best bid and best ask across the venues that list the instrument
    /// and are open.
    pub fn consolidated_top(&self, instrument: InstrumentId) -> (Option<Top>, Option<Top>) {
        let mut bid: Option<Top> = None;
        let mut ask: Option<Top> = None;
        for (_, m) in self.venues_of(instrument).filter(|(_, m)| m.status == MarketStatus::Open) {
            if let Some(b) = m.book.best(Side::Buy) {
                bid = Some(bid.map_or(b, |x| if b.0 > x.0 { b } else { x }));
            }
            if let Some(a) = m.book.best(Side::Sell) {
                ask = Some(ask.map_or(a, |x| if a.0 < x.0 { a } else { x }));
            }
        }
        (bid, ask)
    }

    /// Forgets every cached reference (after a change to many markets at once).
    pub(crate) fn invalidate_all(&mut self) {
        self.top_epoch = self.top_epoch.wrapping_add(1);
        self.reference.iter().for_each(|r| r.set(CachedReference::Stale));
    }

    /// The reference price: consolidated mid (rounded toward the bid), else the latest
    /// trade, else `None`. Cached until one of the instrument's markets changes.
    #[inline]
    pub fn reference_price(&self, instrument: InstrumentId) -> Option<Price> {
        let row = lookup(&self.instrument_row, instrument.index())?;
        match self.reference[row].get() {
            CachedReference::Fresh(price) => price,
            CachedReference::Stale => {
                let price = self.compute_reference(instrument);
                self.reference[row].set(CachedReference::Fresh(price));
                price
            }
        }
    }

    fn compute_reference(&self, instrument: InstrumentId) -> Option<Price> {
        if let (Some((bid, _)), Some((ask, _))) = self.consolidated_top(instrument)
            && bid < ask
        {
            return Some(Price(bid.0 + (ask.0 - bid.0) / 2));
        }
        self.last_trade(instrument).map(|t| t.price)
    }

    /// The most recent trade on any venue (by exchange time; ties to the lower venue).
    pub fn last_trade(&self, instrument: InstrumentId) -> Option<LastTrade> {
        let mut best: Option<LastTrade> = None;
        for (_, m) in self.venues_of(instrument) {
            if let Some(t) = m.last_trade
                && best.is_none_or(|b| t.exchange_ts > b.exchange_ts)
            {
                best = Some(t);
            }
        }
        best
    }

    /// The venue with the best opposite price for an order on `side`.
    pub fn best_venue(&self, instrument: InstrumentId, side: Side) -> Option<VenueId> {
        let mut best: Option<(VenueId, Price)> = None;
        for (venue, m) in self.venues_of(instrument).filter(|(_, m)| m.status == MarketStatus::Open)
        {
            let Some((price, _)) = m.book.best(side.opposite()) else { continue };
            let better = match (best, side) {
                (None, _) => true,
                (Some((_, p)), Side::Buy) => price < p,
                (Some((_, p)), Side::Sell) => price > p,
            };
            if better {
                best = Some((venue, price));
            }
        }
        best.map(|b| b.0)
    }

    /// Feeds every book, last trade and status to a digest, in configuration order.
    pub fn digest_into(&self, sink: &mut dyn FnMut(&[u8])) {
        for m in &self.markets {
            let Some(m) = m else {
                sink(b"-");
                continue;
            };
            m.book.digest_into(sink);
            match m.last_trade {
                Some(t) => {
                    sink(&t.price.0.to_le_bytes());
                    sink(&t.qty.0.to_le_bytes());
                    sink(&t.exchange_ts.0.to_le_bytes());
                }
                None => sink(b"n"),
            }
            sink(&[m.status as u8, m.rebuilding as u8]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: InstrumentId = InstrumentId(1);
    const V1: VenueId = VenueId(1);
    const V2: VenueId = VenueId(2);

    fn markets() -> Markets {
        Markets::new(
            &[I],
            &[(V1, FeedKind::L2), (V2, FeedKind::L3)],
            |_, _| true,
            BookCapacity { orders: 64, levels_per_side: 16 },
        )
    }

    fn l2(side: Side, price: i64, qty: i64) -> L2Update {
        L2Update {
            instrument: I,
            venue: V1,
            side,
            price: Price(price),
            qty: Qty(qty),
            exchange_ts: TimestampNs(1),
        }
    }

    #[test]
    fn the_top_epoch_moves_with_every_change_but_levels_behind_the_best() {
        let mut m = markets();
        let mut epoch = m.top_epoch();
        let mut step = |m: &mut Markets, u: L2Update, moves: bool| {
            m.apply_l2(&u).unwrap();
            assert_eq!(m.top_epoch() != epoch, moves, "{u:?}");
            epoch = m.top_epoch();
        };
        step(&mut m, l2(Side::Buy, 99, 5), true);
        step(&mut m, l2(Side::Buy, 98, 5), false);
        step(&mut m, l2(Side::Buy, 98, 0), false);
        step(&mut m, l2(Side::Buy, 99, 7), true);
        let before = m.top_epoch();
        m.apply_trade(&MarketTrade {
            instrument: I,
            venue: V1,
            price: Price(99),
            qty: Qty(1),
            aggressor: None,
            exchange_ts: TimestampNs(2),
        })
        .unwrap();
        assert_ne!(m.top_epoch(), before, "a trade changes the last trade a view shows");
        let before = m.top_epoch();
        m.apply_l3_add(&l3(1, Side::Sell, 101, 1)).unwrap();
        assert_ne!(m.top_epoch(), before, "L3 changes always count");
    }

    fn l3(id: u64, side: Side, price: i64, qty: i64) -> L3Add {
        L3Add {
            instrument: I,
            venue: V2,
            venue_order_id: id,
            side,
            price: Price(price),
            qty: Qty(qty),
            exchange_ts: TimestampNs(1),
        }
    }

    #[test]
    fn consolidates_across_l2_and_l3_venues() {
        let mut m = markets();
        m.apply_l2(&l2(Side::Buy, 99, 5)).unwrap();
        m.apply_l2(&l2(Side::Sell, 103, 5)).unwrap();
        m.apply_l3_add(&l3(1, Side::Buy, 100, 2)).unwrap();
        m.apply_l3_add(&l3(2, Side::Sell, 104, 2)).unwrap();
        let (bid, ask) = m.consolidated_top(I);
        assert_eq!(bid, Some((Price(100), Qty(2))));
        assert_eq!(ask, Some((Price(103), Qty(5))));
        assert_eq!(m.reference_price(I), Some(Price(101)));
        assert_eq!(m.best_venue(I, Side::Buy), Some(V1));
        assert_eq!(m.best_venue(I, Side::Sell), Some(V2));
    }

    #[test]
    fn wrong_feed_kind_is_refused() {
        let mut m = markets();
        let mut u = l2(Side::Buy, 99, 5);
        u.venue = V2;
        assert_eq!(
            m.apply_l2(&u),
            Err(MarketError::WrongFeed { venue: V2, expected: FeedKind::L3 })
        );
        let mut a = l3(1, Side::Buy, 1, 1);
        a.venue = V1;
        assert_eq!(
            m.apply_l3_add(&a),
            Err(MarketError::WrongFeed { venue: V1, expected: FeedKind::L2 })
        );
        assert!(matches!(
            m.apply_l2(&L2Update { instrument: InstrumentId(9), ..l2(Side::Buy, 1, 1) }),
            Err(MarketError::UnknownBook { .. })
        ));
    }

    #[test]
    fn reference_falls_back_to_last_trade_then_none() {
        let mut m = markets();
        assert_eq!(m.reference_price(I), None);
        m.apply_trade(&MarketTrade {
            instrument: I,
            venue: V1,
            price: Price(250),
            qty: Qty(1),
            aggressor: None,
            exchange_ts: TimestampNs(5),
        })
        .unwrap();
        m.apply_l2(&l2(Side::Buy, 99, 5)).unwrap();
        assert_eq!(m.reference_price(I), Some(Price(250)));
    }

    #[test]
    fn snapshot_clears_and_halted_venues_do_not_route() {
        let mut m = markets();
        m.apply_l2(&l2(Side::Sell, 103, 5)).unwrap();
        m.snapshot(I, V1, true).unwrap();
        assert!(m.get(I, V1).unwrap().rebuilding);
        assert_eq!(m.consolidated_top(I).1, None);
        m.apply_l2(&l2(Side::Sell, 105, 1)).unwrap();
        m.snapshot(I, V1, false).unwrap();
        assert_eq!(m.best_venue(I, Side::Buy), Some(V1));
        m.set_status(V1, None, MarketStatus::Halted).unwrap();
        assert_eq!(m.best_venue(I, Side::Buy), None);
    }
}
