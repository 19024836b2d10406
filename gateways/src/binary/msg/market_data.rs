//! Market data, from the core's own books (the market-data tap): top of book and depth
//! per instrument and venue. Server → client messages carry the connection's market-data
//! sequence (contiguous from 1 per connection, shared by every subscription; a gap means
//! a bug, and resubscribing gives a fresh snapshot). They are not replayed.
//!
//! Depth updates are whole images of the top `depth` levels, sent when they change
//! (conflated per market-data command), so a client never applies deltas to a stale book.

use crate::binary::wire::{DEPTH_LEVELS, Level, LevelCount, Pad, message, wire_enum};
use keel_engine::schema::MarketStatus;
use keel_engine::{InstrumentId, Price, Qty, TimestampNs, VenueId};

message! {
    /// Client → server: subscribe to (or, with depth 0, unsubscribe from) one book.
    Subscribe = Subscribe {
        /// Instrument.
        instrument: InstrumentId,
        /// Venue, or 0 for the instrument's first venue.
        venue: VenueId,
        /// Levels per side in depth updates, 1..=10; 0 unsubscribes.
        depth: u8,
        /// Zero.
        pad: Pad<1>,
    }
}

wire_enum! {
    /// The answer to a subscription request.
    SubscribeStatus {
        /// Subscribed: a snapshot (`TopOfBook` and `Depth` flagged snapshot) follows.
        Subscribed = 1,
        /// Unsubscribed.
        Unsubscribed = 2,
        /// No such instrument.
        UnknownInstrument = 3,
        /// The venue does not list the instrument.
        UnknownVenue = 4,
        /// Depth above 10.
        DepthTooLarge = 5,
        /// `binary.max_subscriptions` books are already subscribed on this connection.
        TooManySubscriptions = 6,
    }
}

message! {
    /// Server → client: the answer to a `Subscribe`.
    SubscribeAck = SubscribeAck {
        /// Instrument.
        instrument: InstrumentId,
        /// Venue (resolved when 0 was asked).
        venue: VenueId,
        /// Depth in force.
        depth: u8,
        /// Subscribed 1, unsubscribed 2, else why not.
        status: SubscribeStatus,
    }
}

message! {
    /// Server → client: best bid and ask (and the last trade) after a change, or as part
    /// of the snapshot after a subscription. An empty side has price and quantity 0.
    TopOfBook = TopOfBook {
        /// Instrument.
        instrument: InstrumentId,
        /// Venue.
        venue: VenueId,
        /// 1 when part of a subscription snapshot.
        snapshot: bool,
        /// Open 1, halted 2, closed 3.
        status: MarketStatus,
        /// Best bid, ticks.
        bid_px: Price,
        /// Visible quantity at the best bid, lots.
        bid_qty: Qty,
        /// Best ask, ticks.
        ask_px: Price,
        /// Visible quantity at the best ask, lots.
        ask_qty: Qty,
        /// Last trade price, ticks (0: none yet).
        last_px: Price,
        /// Last trade quantity, lots.
        last_qty: Qty,
        /// Ingress time of the market-data command that caused it (for a snapshot: when it was taken), UTC ns.
        time: TimestampNs,
    }
}

message! {
    /// Server → client: the top `depth` levels of both sides after a change in them, or
    /// as part of the snapshot after a subscription. Levels past the counts are zero.
    Depth = Depth {
        /// Instrument.
        instrument: InstrumentId,
        /// Venue.
        venue: VenueId,
        /// 1 when part of a subscription snapshot.
        snapshot: bool,
        /// Bid levels in use.
        bid_levels: LevelCount,
        /// Ask levels in use.
        ask_levels: LevelCount,
        /// Zero.
        pad: Pad<7>,
        /// Ingress time of the market-data command that caused it (for a snapshot: when it was taken), UTC ns.
        time: TimestampNs,
        /// Bids, best (highest) first.
        bids: [Level; DEPTH_LEVELS],
        /// Asks, best (lowest) first.
        asks: [Level; DEPTH_LEVELS],
    }
}
