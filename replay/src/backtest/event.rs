//! The one in-memory form of a recorded market-data event, shared by every source (CSV,
//! journal, synthetic) and by both sides of the simulation (the venue, which sees it at
//! exchange time, and the core, which sees it when it arrives).
//!
//! [`MdEvent`] is 48 bytes and `Copy`, so a pre-decoded data set of ten million events
//! fits in half a gigabyte and the hot loop moves no heap data. It converts exactly to the
//! [`CommandBody`] the core takes ([`MdEvent::to_body`]) and back
//! ([`MdEvent::from_command`]), so a journal written by `keel serve` or by
//! `keel backtest convert` replays the same events a CSV file describes.

use keel_engine::schema::{
    Command, CommandBody, L2Update, L3Add, L3Delete, L3Execute, L3Modify, MarketStatus,
    MarketTrade, SnapshotMark, SnapshotPhase, VenueStatus,
};
use keel_engine::{InstrumentId, Price, Qty, Side, TimestampNs, VenueId};

/// What a market-data event says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MdKind {
    /// L2: the total quantity at (`side`, `price`) is now `qty` (zero removes the level).
    L2 = 0,
    /// L3: order `order_id` rests at (`side`, `price`) with `qty`.
    Add = 1,
    /// L3: order `order_id` now has `qty` at `price` (a price change or a quantity
    /// increase loses priority).
    Modify = 2,
    /// L3: order `order_id` left the book (cancelled or expired).
    Delete = 3,
    /// L3: resting order `order_id` traded `qty` at `price`.
    Execute = 4,
    /// A trade printed: `qty` at `price`; `side` is the aggressor's, when known.
    Trade = 5,
    /// The book of `instrument` is cleared; the events up to `SnapshotEnd` rebuild it.
    SnapshotBegin = 6,
    /// The snapshot is complete.
    SnapshotEnd = 7,
    /// Trading status changed (journal sources only): `qty` holds the [`MarketStatus`]
    /// code, `instrument` is [`ALL_INSTRUMENTS`] for the whole venue.
    Status = 8,
}

/// Number of kinds.
pub const MD_KINDS: usize = 9;

/// Every kind, by discriminant.
pub const MD_KIND_ALL: [MdKind; MD_KINDS] = [
    MdKind::L2,
    MdKind::Add,
    MdKind::Modify,
    MdKind::Delete,
    MdKind::Execute,
    MdKind::Trade,
    MdKind::SnapshotBegin,
    MdKind::SnapshotEnd,
    MdKind::Status,
];

/// The CSV names of the kinds, by discriminant.
pub const KIND_NAMES: [&str; MD_KINDS] = [
    "l2",
    "add",
    "modify",
    "delete",
    "execute",
    "trade",
    "snapshot_begin",
    "snapshot_end",
    "status",
];

impl MdKind {
    /// The CSV name.
    pub fn name(self) -> &'static str {
        KIND_NAMES[self as usize]
    }

    /// True for the order-by-order kinds.
    pub fn is_l3(self) -> bool {
        matches!(self, MdKind::Add | MdKind::Modify | MdKind::Delete | MdKind::Execute)
    }
}

/// `instrument` of a [`MdKind::Status`] event that applies to every instrument.
pub const ALL_INSTRUMENTS: InstrumentId = InstrumentId(u32::MAX);

/// One recorded market-data event. Fields a kind does not use are zero (`side` `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MdEvent {
    /// When the venue published it (UTC ns).
    pub exchange_ts: TimestampNs,
    /// When the recording machine received it (UTC ns).
    pub local_ts: TimestampNs,
    /// Price, ticks.
    pub price: Price,
    /// Quantity, lots.
    pub qty: Qty,
    /// The venue's order id (L3 kinds).
    pub order_id: u64,
    /// Instrument (dense id of the data set).
    pub instrument: InstrumentId,
    /// What happened.
    pub kind: MdKind,
    /// Book side (L2, add), or the aggressor (trade) when known.
    pub side: Option<Side>,
}

const _: () = assert!(std::mem::size_of::<MdEvent>() == 48);

impl MdEvent {
    /// An event of `kind` with every other field zero.
    pub const fn new(kind: MdKind, instrument: InstrumentId) -> MdEvent {
        MdEvent {
            exchange_ts: TimestampNs(0),
            local_ts: TimestampNs(0),
            price: Price(0),
            qty: Qty(0),
            order_id: 0,
            instrument,
            kind,
            side: None,
        }
    }

    /// Makes `cmd` the command the core applies for this event on `venue`, stamped `ts`
    /// (the session is left as it is). Equal to `Command { ts, session, body:
    /// self.to_body(venue) }`, but when `cmd` already holds a body of the event's kind (an
    /// L2 update or a trade: a backtest keeps one command per kind and reuses it) only
    /// its fields are written: building a fresh 128-byte body and moving it in cost ~60
    /// instructions an event.
    #[inline(always)]
    pub fn write_command(&self, ts: TimestampNs, venue: VenueId, cmd: &mut Command) {
        cmd.ts = ts;
        match (self.kind, &mut cmd.body) {
            (MdKind::L2, CommandBody::L2Update(u)) => {
                u.instrument = self.instrument;
                u.venue = venue;
                u.side = self.side.unwrap_or(Side::Buy);
                u.price = self.price;
                u.qty = self.qty;
                u.exchange_ts = self.exchange_ts;
            }
            (MdKind::Trade, CommandBody::Trade(t)) => {
                t.instrument = self.instrument;
                t.venue = venue;
                t.price = self.price;
                t.qty = self.qty;
                t.aggressor = self.side;
                t.exchange_ts = self.exchange_ts;
            }
            (_, body) => self.rebuild_body(venue, body),
        }
    }

    /// `write_command` for the kinds it does not rewrite in place, kept out of line so
    /// the in-place path stays small.
    #[inline(never)]
    fn rebuild_body(&self, venue: VenueId, body: &mut CommandBody) {
        *body = self.to_body(venue);
    }

    /// The command body the core applies for this event on `venue`. Events that need a
    /// side and have none were refused by the source that made them; `Buy` stands in.
    #[inline]
    pub fn to_body(&self, venue: VenueId) -> CommandBody {
        let instrument = self.instrument;
        let exchange_ts = self.exchange_ts;
        let side = self.side.unwrap_or(Side::Buy);
        match self.kind {
            MdKind::L2 => CommandBody::L2Update(L2Update {
                instrument,
                venue,
                side,
                price: self.price,
                qty: self.qty,
                exchange_ts,
            }),
            MdKind::Add => CommandBody::L3Add(L3Add {
                instrument,
                venue,
                venue_order_id: self.order_id,
                side,
                price: self.price,
                qty: self.qty,
                exchange_ts,
            }),
            MdKind::Modify => CommandBody::L3Modify(L3Modify {
                instrument,
                venue,
                venue_order_id: self.order_id,
                price: self.price,
                qty: self.qty,
                exchange_ts,
            }),
            MdKind::Delete => CommandBody::L3Delete(L3Delete {
                instrument,
                venue,
                venue_order_id: self.order_id,
                exchange_ts,
            }),
            MdKind::Execute => CommandBody::L3Execute(L3Execute {
                instrument,
                venue,
                venue_order_id: self.order_id,
                qty: self.qty,
                price: self.price,
                exchange_ts,
            }),
            MdKind::Trade => CommandBody::Trade(MarketTrade {
                instrument,
                venue,
                price: self.price,
                qty: self.qty,
                aggressor: self.side,
                exchange_ts,
            }),
            MdKind::SnapshotBegin | MdKind::SnapshotEnd => CommandBody::Snapshot(SnapshotMark {
                instrument,
                venue,
                phase: if self.kind == MdKind::SnapshotBegin {
                    SnapshotPhase::Begin
                } else {
                    SnapshotPhase::End
                },
                exchange_ts,
            }),
            MdKind::Status => CommandBody::VenueStatus(VenueStatus {
                venue,
                instrument: (instrument != ALL_INSTRUMENTS).then_some(instrument),
                status: status_of(self.qty.0),
            }),
        }
    }

    /// The event a market-data command stands for, with its venue; `None` for commands
    /// that are not market data. `local_ts` is the command's ingress time. A venue status
    /// has no exchange time: the ingress time stands in.
    pub fn from_command(ts: TimestampNs, body: &CommandBody) -> Option<(VenueId, MdEvent)> {
        let mut e = MdEvent::new(MdKind::L2, InstrumentId(0));
        e.local_ts = ts;
        let venue = match *body {
            CommandBody::L2Update(u) => {
                e.set(MdKind::L2, u.instrument, u.exchange_ts, Some(u.side), u.price, u.qty, 0);
                u.venue
            }
            CommandBody::L3Add(u) => {
                let id = u.venue_order_id;
                e.set(MdKind::Add, u.instrument, u.exchange_ts, Some(u.side), u.price, u.qty, id);
                u.venue
            }
            CommandBody::L3Modify(u) => {
                let id = u.venue_order_id;
                e.set(MdKind::Modify, u.instrument, u.exchange_ts, None, u.price, u.qty, id);
                u.venue
            }
            CommandBody::L3Delete(u) => {
                let id = u.venue_order_id;
                e.set(MdKind::Delete, u.instrument, u.exchange_ts, None, Price(0), Qty(0), id);
                u.venue
            }
            CommandBody::L3Execute(u) => {
                let id = u.venue_order_id;
                e.set(MdKind::Execute, u.instrument, u.exchange_ts, None, u.price, u.qty, id);
                u.venue
            }
            CommandBody::Trade(t) => {
                e.set(MdKind::Trade, t.instrument, t.exchange_ts, t.aggressor, t.price, t.qty, 0);
                t.venue
            }
            CommandBody::Snapshot(s) => {
                let kind = match s.phase {
                    SnapshotPhase::Begin => MdKind::SnapshotBegin,
                    SnapshotPhase::End => MdKind::SnapshotEnd,
                };
                e.set(kind, s.instrument, s.exchange_ts, None, Price(0), Qty(0), 0);
                s.venue
            }
            CommandBody::VenueStatus(s) => {
                let instrument = s.instrument.unwrap_or(ALL_INSTRUMENTS);
                let code = Qty(s.status as i64);
                e.set(MdKind::Status, instrument, ts, None, Price(0), code, 0);
                s.venue
            }
            _ => return None,
        };
        Some((venue, e))
    }

    #[allow(clippy::too_many_arguments)]
    fn set(
        &mut self,
        kind: MdKind,
        instrument: InstrumentId,
        exchange_ts: TimestampNs,
        side: Option<Side>,
        price: Price,
        qty: Qty,
        order_id: u64,
    ) {
        self.kind = kind;
        self.instrument = instrument;
        self.exchange_ts = exchange_ts;
        self.side = side;
        self.price = price;
        self.qty = qty;
        self.order_id = order_id;
    }
}

fn status_of(code: i64) -> MarketStatus {
    match code {
        1 => MarketStatus::Halted,
        2 => MarketStatus::Closed,
        _ => MarketStatus::Open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md_kind_all_is_by_discriminant() {
        for (k, kind) in MD_KIND_ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, k, "{kind:?}");
        }
    }

    #[test]
    fn every_kind_round_trips_through_a_command() {
        let venue = VenueId(7);
        let mut events = Vec::new();
        // Every kind with an instrument; Status (for all instruments) is added below.
        for (i, kind) in MD_KIND_ALL[..MdKind::Status as usize].iter().copied().enumerate() {
            let mut e = MdEvent::new(kind, InstrumentId(3));
            e.exchange_ts = TimestampNs(100 + i as u64);
            e.local_ts = TimestampNs(200 + i as u64);
            match kind {
                MdKind::L2 | MdKind::Add => {
                    e.side = Some(Side::Sell);
                    e.price = Price(10);
                    e.qty = Qty(4);
                }
                MdKind::Modify | MdKind::Execute => {
                    e.price = Price(11);
                    e.qty = Qty(2);
                }
                MdKind::Trade => {
                    e.side = Some(Side::Buy);
                    e.price = Price(12);
                    e.qty = Qty(1);
                }
                _ => {}
            }
            if kind.is_l3() {
                e.order_id = 99;
            }
            events.push(e);
        }
        let mut status = MdEvent::new(MdKind::Status, ALL_INSTRUMENTS);
        status.exchange_ts = TimestampNs(5);
        status.local_ts = TimestampNs(5);
        status.qty = Qty(1);
        events.push(status);
        // One command reused in turn for every event, whatever it held before.
        let mut cmd = Command {
            ts: TimestampNs(0),
            session: keel_engine::SessionId(9),
            body: MdEvent::new(MdKind::L2, InstrumentId(0)).to_body(venue),
        };
        for e in events.iter().chain(events.iter().rev()) {
            e.write_command(TimestampNs(e.local_ts.0 + 1), venue, &mut cmd);
            let want = Command {
                ts: TimestampNs(e.local_ts.0 + 1),
                session: keel_engine::SessionId(9),
                body: e.to_body(venue),
            };
            assert_eq!(cmd, want, "{e:?}");
        }
        for e in events {
            let body = e.to_body(venue);
            assert_eq!(MdEvent::from_command(e.local_ts, &body), Some((venue, e)), "{e:?}");
        }
    }
}
