//! The gateway's copy of the core's books, built from the market-data tap with the core's
//! own [`Markets`] (so it applies every feed command exactly as the core does), and the
//! per-subscription state that decides what to send.
//!
//! Updates are sent when what a subscriber sees changes: `TopOfBook` when the best
//! prices, their quantities, the status or the last trade change; `Depth` when the top
//! `depth` levels change. Nothing is sent while a book is being rebuilt by a venue
//! snapshot (between its begin and end marks): the end sends the new picture.

use super::msg::market_data::{Depth, SubscribeStatus, TopOfBook};
use super::wire::{DEPTH_LEVELS, Level, LevelCount};
use keel_engine::book::{BookCapacity, LevelView};
use keel_engine::core::{FeedKind, Markets};
use keel_engine::schema::{Command, CommandBody};
use keel_engine::{Instrument, InstrumentId, Price, Qty, Side, TimestampNs, VenueId};

/// Which books a market-data command touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touched {
    /// Nothing (an error, or a command that changes no book).
    Nothing,
    /// One book.
    Book(InstrumentId, VenueId),
    /// Every book of a venue (a venue-wide status change).
    Venue(VenueId),
}

/// The books.
pub struct MarketView {
    markets: Markets,
    /// Each instrument's venues, by instrument index.
    venues_of: Vec<Vec<VenueId>>,
    /// Feed commands the view refused (as the core does: an anomaly of the feed).
    pub refused: u64,
}

impl MarketView {
    /// Books for every (instrument, venue) listed, with each venue's feed kind.
    pub fn new(
        instruments: &[Instrument],
        venues: &[(VenueId, FeedKind)],
        capacity: BookCapacity,
    ) -> MarketView {
        let ids: Vec<InstrumentId> = instruments.iter().map(|i| i.id).collect();
        let mut venues_of = vec![Vec::new(); ids.iter().map(|i| i.index() + 1).max().unwrap_or(0)];
        for i in instruments {
            venues_of[i.id.index()] = i.venues.clone();
        }
        let listed = |i: InstrumentId, v: VenueId| {
            instruments.iter().any(|x| x.id == i && x.venues.contains(&v))
        };
        MarketView { markets: Markets::new(&ids, venues, listed, capacity), venues_of, refused: 0 }
    }

    /// Resolves a subscription's venue (0: the instrument's first).
    pub fn resolve(
        &self,
        instrument: InstrumentId,
        venue: VenueId,
    ) -> Result<VenueId, SubscribeStatus> {
        let venues = self
            .venues_of
            .get(instrument.index())
            .filter(|v| !v.is_empty())
            .ok_or(SubscribeStatus::UnknownInstrument)?;
        if venue.0 == 0 {
            return Ok(venues[0]);
        }
        if venues.contains(&venue) { Ok(venue) } else { Err(SubscribeStatus::UnknownVenue) }
    }

    /// Applies one tapped command.
    pub fn apply(&mut self, cmd: &Command) -> Touched {
        let m = &mut self.markets;
        let (result, touched) = match &cmd.body {
            CommandBody::L2Update(u) => (m.apply_l2(u), Touched::Book(u.instrument, u.venue)),
            CommandBody::L3Add(u) => (m.apply_l3_add(u), Touched::Book(u.instrument, u.venue)),
            CommandBody::L3Modify(u) => {
                (m.apply_l3_modify(u), Touched::Book(u.instrument, u.venue))
            }
            CommandBody::L3Delete(u) => {
                (m.apply_l3_delete(u), Touched::Book(u.instrument, u.venue))
            }
            CommandBody::L3Execute(u) => {
                (m.apply_l3_execute(u), Touched::Book(u.instrument, u.venue))
            }
            CommandBody::Trade(t) => (m.apply_trade(t), Touched::Book(t.instrument, t.venue)),
            CommandBody::Snapshot(s) => (
                m.snapshot(
                    s.instrument,
                    s.venue,
                    s.phase == keel_engine::schema::SnapshotPhase::Begin,
                ),
                Touched::Book(s.instrument, s.venue),
            ),
            CommandBody::VenueStatus(s) => (
                m.set_status(s.venue, s.instrument, s.status),
                match s.instrument {
                    Some(i) => Touched::Book(i, s.venue),
                    None => Touched::Venue(s.venue),
                },
            ),
            _ => return Touched::Nothing,
        };
        match result {
            Ok(()) => touched,
            Err(_) => {
                self.refused += 1;
                Touched::Nothing
            }
        }
    }

    /// True while the book is being rebuilt by a snapshot (nothing is sent then).
    pub fn rebuilding(&self, instrument: InstrumentId, venue: VenueId) -> bool {
        self.markets.get(instrument, venue).is_some_and(|m| m.rebuilding)
    }

    /// The top of a book.
    pub fn top(
        &self,
        instrument: InstrumentId,
        venue: VenueId,
        time: TimestampNs,
        snapshot: bool,
    ) -> Option<TopOfBook> {
        let m = self.markets.get(instrument, venue)?;
        let (bid_px, bid_qty) = m.book.best(Side::Buy).unwrap_or((Price(0), Qty(0)));
        let (ask_px, ask_qty) = m.book.best(Side::Sell).unwrap_or((Price(0), Qty(0)));
        let (last_px, last_qty) = m.last_trade.map_or((Price(0), Qty(0)), |t| (t.price, t.qty));
        Some(TopOfBook {
            instrument,
            venue,
            snapshot,
            status: m.status,
            bid_px,
            bid_qty,
            ask_px,
            ask_qty,
            last_px,
            last_qty,
            time,
        })
    }

    /// The top `levels` levels of both sides of a book.
    pub fn depth(
        &self,
        instrument: InstrumentId,
        venue: VenueId,
        levels: usize,
        time: TimestampNs,
        snapshot: bool,
    ) -> Option<Depth> {
        let m = self.markets.get(instrument, venue)?;
        let n = levels.min(DEPTH_LEVELS);
        let mut scratch = [LevelView::default(); DEPTH_LEVELS];
        let mut side = |s: Side| {
            let k = m.book.depth(s, &mut scratch[..n]);
            let mut out = [Level::default(); DEPTH_LEVELS];
            for (o, l) in out.iter_mut().zip(&scratch[..k]) {
                *o = Level { price: l.price, qty: l.qty };
            }
            (out, LevelCount(k as u8))
        };
        let (bids, bid_levels) = side(Side::Buy);
        let (asks, ask_levels) = side(Side::Sell);
        Some(Depth {
            instrument,
            venue,
            snapshot,
            bid_levels,
            ask_levels,
            pad: Default::default(),
            time,
            bids,
            asks,
        })
    }
}

/// What one connection has subscribed to and last been sent for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Venue.
    pub venue: VenueId,
    /// Levels per side.
    pub depth: u8,
    /// The last top sent (time and snapshot flag cleared, for comparison).
    pub last_top: Option<TopOfBook>,
    /// The last depth sent (likewise).
    pub last_depth: Option<Depth>,
}

impl Subscription {
    /// Returns the top to send if it differs from the last one sent, and remembers it.
    pub fn top_changed(&mut self, mut top: TopOfBook) -> Option<TopOfBook> {
        let sent = top;
        top.time = TimestampNs(0);
        top.snapshot = false;
        if self.last_top == Some(top) {
            return None;
        }
        self.last_top = Some(top);
        Some(sent)
    }

    /// Returns the depth to send if it differs from the last one sent, and remembers it.
    pub fn depth_changed(&mut self, mut depth: Depth) -> Option<Depth> {
        let sent = depth;
        depth.time = TimestampNs(0);
        depth.snapshot = false;
        if self.last_depth == Some(depth) {
            return None;
        }
        self.last_depth = Some(depth);
        Some(sent)
    }
}
