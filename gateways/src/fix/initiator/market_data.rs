//! Venue → Keel market data: aggregated price levels (L2) and trades.
//!
//! - MarketDataSnapshotFullRefresh (W), one per symbol: `Snapshot(Begin)`, one
//!   `L2Update` per price level (bids 269=0 on the buy side, offers 269=1 on the sell
//!   side; entries at the same price are summed, so a venue that lists orders one by one
//!   is aggregated), `Snapshot(End)`. Trade entries in a snapshot are ignored.
//! - MarketDataIncrementalRefresh (X): per entry, New (279=0) or Change (1) of a bid or
//!   offer → `L2Update` with MDEntrySize as the level's new total; Delete (2) →
//!   `L2Update` with quantity 0; a trade entry (269=2) → `Trade` (no aggressor: FIX 4.4
//!   market data does not carry it).
//!
//! The exchange time of every command is the message's SendingTime. Keel's books for a
//! FIX venue are therefore L2 books (the venue's `feed` is `L2` in the core's
//! configuration). An entry for a symbol Keel does not trade, or whose price or size is
//! not a number, is refused with the entry's problem and nothing of the message applies.

use super::dialect::{MD_FULL_ENTRIES, MD_INC_ENTRIES, md_action, md_entry, tag as vt};
use super::reports::ReportError;
use super::symbols::Symbols;
use crate::fix::message::{Message, Problem};
use crate::fix::tags::{SessionRejectReason as R, tag};
use keel_engine::schema::{CommandBody, L2Update, MarketTrade, SnapshotMark, SnapshotPhase};
use keel_engine::{Instrument, OrderId, Price, Qty, Side, TimestampNs, VenueId};

fn side_of_entry(t: u8) -> Option<Side> {
    match t {
        md_entry::BID => Some(Side::Buy),
        md_entry::OFFER => Some(Side::Sell),
        _ => None,
    }
}

fn instrument<'s>(symbols: &'s Symbols, symbol: &[u8]) -> Result<&'s Instrument, ReportError> {
    symbols.by_symbol(symbol).ok_or_else(|| ReportError::UnknownInstrument {
        order: OrderId(0),
        symbol: String::from_utf8_lossy(symbol).into_owned(),
    })
}

/// Applies a W (validated against [`MD_SNAPSHOT`](super::dialect::MD_SNAPSHOT)). `levels`
/// is scratch space, reused.
pub fn snapshot(
    msg: &Message<'_>,
    venue: VenueId,
    symbols: &Symbols,
    exchange_ts: TimestampNs,
    levels: &mut Vec<(Side, Price, Qty)>,
    out: &mut Vec<CommandBody>,
) -> Result<(), ReportError> {
    let inst = instrument(symbols, msg.require(tag::SYMBOL)?.value)?;
    levels.clear();
    for e in msg.group(&MD_FULL_ENTRIES) {
        let Some(side) = side_of_entry(e.require(vt::MD_ENTRY_TYPE)?.char()?) else { continue };
        let px = super::reports::price(
            inst,
            OrderId(0),
            "MDEntryPx",
            e.require(vt::MD_ENTRY_PX)?.decimal()?,
        )?;
        let q = super::reports::qty(
            inst,
            OrderId(0),
            "MDEntrySize",
            e.require(vt::MD_ENTRY_SIZE)?.decimal()?,
        )?;
        match levels.iter_mut().find(|(s, p, _)| *s == side && *p == px) {
            Some(level) => level.2 = Qty(level.2.0 + q.0),
            None => levels.push((side, px, q)),
        }
    }
    let mark = |phase| {
        CommandBody::Snapshot(SnapshotMark { instrument: inst.id, venue, phase, exchange_ts })
    };
    out.push(mark(SnapshotPhase::Begin));
    for &(side, price, qty) in levels.iter() {
        out.push(CommandBody::L2Update(L2Update {
            instrument: inst.id,
            venue,
            side,
            price,
            qty,
            exchange_ts,
        }));
    }
    out.push(mark(SnapshotPhase::End));
    Ok(())
}

/// Applies an X (validated against [`MD_INCREMENTAL`](super::dialect::MD_INCREMENTAL)).
/// Nothing is pushed unless every entry is good.
pub fn incremental(
    msg: &Message<'_>,
    venue: VenueId,
    symbols: &Symbols,
    exchange_ts: TimestampNs,
    out: &mut Vec<CommandBody>,
) -> Result<(), ReportError> {
    let start = out.len();
    let r = (|| {
        for e in msg.group(&MD_INC_ENTRIES) {
            let action = e.require(vt::MD_UPDATE_ACTION)?.char()?;
            let entry = e.require(vt::MD_ENTRY_TYPE)?.char()?;
            let inst = instrument(symbols, e.require(tag::SYMBOL)?.value)?;
            let px = super::reports::price(
                inst,
                OrderId(0),
                "MDEntryPx",
                e.require(vt::MD_ENTRY_PX)?.decimal()?,
            )?;
            let size = match (action, e.field(vt::MD_ENTRY_SIZE)) {
                (md_action::DELETE, _) => Qty::ZERO,
                (_, Some(f)) => super::reports::qty(inst, OrderId(0), "MDEntrySize", f.decimal()?)?,
                (_, None) => {
                    return Err(Problem::new(R::RequiredTagMissing, vt::MD_ENTRY_SIZE).into());
                }
            };
            if !matches!(action, md_action::NEW | md_action::CHANGE | md_action::DELETE) {
                return Err(Problem::new(R::ValueOutOfRange, vt::MD_UPDATE_ACTION).into());
            }
            if entry == md_entry::TRADE {
                if action != md_action::DELETE {
                    out.push(CommandBody::Trade(MarketTrade {
                        instrument: inst.id,
                        venue,
                        price: px,
                        qty: size,
                        aggressor: None,
                        exchange_ts,
                    }));
                }
                continue;
            }
            let Some(side) = side_of_entry(entry) else {
                // Other entry types (indices, opening prices...) are not subscribed to.
                continue;
            };
            out.push(CommandBody::L2Update(L2Update {
                instrument: inst.id,
                venue,
                side,
                price: px,
                qty: size,
                exchange_ts,
            }));
        }
        Ok(())
    })();
    if r.is_err() {
        out.truncate(start);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::initiator::dialect::{MD_INCREMENTAL, MD_SNAPSHOT};
    use crate::fix::message::Decoder;
    use crate::fix::spec::validate;
    use keel_engine::InstrumentId;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn frame(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let head = format!("8=FIX.4.4\x019={}\x01", body.len());
        let mut m = (head + &body).into_bytes();
        let sum = crate::fix::frame::checksum(&m);
        m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        m
    }

    fn symbols() -> Symbols {
        Symbols::new(vec![
            Instrument::builder(InstrumentId(3), "ETH-USD")
                .tick_size(Decimal::from_str("0.01").unwrap())
                .lot_size(Decimal::from_str("0.1").unwrap())
                .build()
                .unwrap(),
        ])
    }

    const HDR: &str = "49=V|56=K|34=2|52=20240101-00:00:00.000|";
    const TS: TimestampNs = TimestampNs(5);

    #[test]
    fn a_snapshot_rebuilds_the_book_summing_equal_prices() {
        let m = frame(&format!(
            "35=W|{HDR}262=M1|55=ETH-USD|268=4|269=0|270=100.01|271=1.5|269=0|270=100.01|271=0.5|269=1|270=100.05|271=3|269=2|270=100.02|271=1|"
        ));
        let mut d = Decoder::default();
        let msg = d.decode(&m).unwrap();
        validate(&msg, &MD_SNAPSHOT).unwrap();
        let (mut out, mut levels) = (Vec::new(), Vec::new());
        snapshot(&msg, VenueId(1), &symbols(), TS, &mut levels, &mut out).unwrap();
        let l2: Vec<(Side, i64, i64)> = out
            .iter()
            .filter_map(|c| match c {
                CommandBody::L2Update(u) => Some((u.side, u.price.0, u.qty.0)),
                _ => None,
            })
            .collect();
        assert_eq!(l2, [(Side::Buy, 10_001, 20), (Side::Sell, 10_005, 30)]);
        assert!(matches!(
            out[0],
            CommandBody::Snapshot(SnapshotMark { phase: SnapshotPhase::Begin, .. })
        ));
        assert!(matches!(
            out[3],
            CommandBody::Snapshot(SnapshotMark { phase: SnapshotPhase::End, .. })
        ));
    }

    #[test]
    fn increments_change_levels_and_print_trades() {
        let m = frame(&format!(
            "35=X|{HDR}262=M1|268=3|279=0|269=0|55=ETH-USD|270=100|271=2|279=2|269=1|55=ETH-USD|270=101|279=0|269=2|55=ETH-USD|270=100.5|271=0.3|"
        ));
        let mut d = Decoder::default();
        let msg = d.decode(&m).unwrap();
        validate(&msg, &MD_INCREMENTAL).unwrap();
        let mut out = Vec::new();
        incremental(&msg, VenueId(1), &symbols(), TS, &mut out).unwrap();
        assert_eq!(out.len(), 3);
        assert!(matches!(
            out[0],
            CommandBody::L2Update(L2Update {
                side: Side::Buy,
                price: Price(10_000),
                qty: Qty(20),
                ..
            })
        ));
        assert!(matches!(
            out[1],
            CommandBody::L2Update(L2Update {
                side: Side::Sell,
                price: Price(10_100),
                qty: Qty(0),
                ..
            })
        ));
        assert!(matches!(
            out[2],
            CommandBody::Trade(MarketTrade { price: Price(10_050), qty: Qty(3), .. })
        ));
        // An unknown symbol refuses the whole message.
        let m = frame(&format!(
            "35=X|{HDR}268=2|279=0|269=0|55=ETH-USD|270=100|271=2|279=0|269=0|55=DOGE|270=1|271=1|"
        ));
        let msg = d.decode(&m).unwrap();
        let mut out = Vec::new();
        assert!(matches!(
            incremental(&msg, VenueId(1), &symbols(), TS, &mut out),
            Err(ReportError::UnknownInstrument { .. })
        ));
        assert!(out.is_empty());
    }
}
