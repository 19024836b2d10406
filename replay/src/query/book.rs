//! `keel audit book`: the market book as Keel saw it at a point, by level or (L3 venues)
//! order by order, best prices first.

use std::path::Path;

use keel_engine::Side;
use keel_engine::core::CoreConfig;
use keel_engine::core::market::MarketBook;
use serde::{Deserialize, Serialize};

use super::{Names, ScanError};
use crate::format::{Point, utc};
use crate::recover::{Progress, RecoverOptions, recover};

/// One level (or, with `--l3`, one order) of a book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookRow {
    /// Venue name.
    pub venue: String,
    /// `bid` or `ask`.
    pub side: String,
    /// Level number from the best (1 = best).
    pub level: usize,
    /// Price.
    pub price: String,
    /// Visible quantity at the level (or of the order).
    pub qty: String,
    /// Orders at the level (L3 venues; 0 on L2 venues). For an order row: its place in the
    /// queue (1 = front).
    pub orders: u32,
    /// The venue's order id (order rows only).
    pub venue_order_id: Option<u64>,
    /// Hidden (iceberg) quantity of the order (order rows only).
    pub hidden: String,
}

/// What to show.
#[derive(Clone, Debug)]
pub struct BookQuery {
    /// Instrument symbol or number.
    pub instrument: String,
    /// Venue name or number; every venue listing the instrument when `None`.
    pub venue: Option<String>,
    /// Where to stop replaying.
    pub at: Point,
    /// Levels per side.
    pub depth: usize,
    /// Order by order (L3 venues).
    pub l3: bool,
}

/// The book at a point.
#[derive(Clone, Debug)]
pub struct Book {
    /// Last journal sequence replayed.
    pub seq: u64,
    /// Core time there.
    pub time: String,
    /// Rows: per venue, bids then asks, best first.
    pub rows: Vec<BookRow>,
}

/// Replays the journal at `dir` up to `q.at` and returns the book.
pub fn book(dir: &Path, config: &CoreConfig, q: &BookQuery) -> Result<Book, ScanError> {
    let names = Names::new(config);
    let instrument = names.find_instrument(&q.instrument).map_err(ScanError::Filter)?;
    let venue =
        q.venue.as_deref().map(|v| names.find_venue(v)).transpose().map_err(ScanError::Filter)?;
    let r = recover(
        dir,
        config,
        RecoverOptions {
            verify_outputs: false,
            until: q.at.until(),
            progress: Progress::Auto,
            ..RecoverOptions::default()
        },
    )?;
    let markets = r.core.markets();
    let mut rows = Vec::new();
    for (v, m) in markets.venues_of(instrument) {
        if venue.is_some_and(|want| want != v) {
            continue;
        }
        let vname = names.venue(v);
        for side in [Side::Buy, Side::Sell] {
            let sname = if side == Side::Buy { "bid" } else { "ask" };
            let levels: Vec<_> = match &m.book {
                MarketBook::L2(b) => b.levels(side).take(q.depth).collect(),
                MarketBook::L3(b) => b.levels(side).take(q.depth).collect(),
            };
            for (i, l) in levels.iter().enumerate() {
                match (&m.book, q.l3) {
                    (MarketBook::L3(b), true) => {
                        for (k, o) in b.orders_at(side, l.price).enumerate() {
                            rows.push(BookRow {
                                venue: vname.clone(),
                                side: sname.into(),
                                level: i + 1,
                                price: names.price(instrument, o.price),
                                qty: names.qty(instrument, o.visible),
                                orders: k as u32 + 1,
                                venue_order_id: Some(o.id.0),
                                hidden: names.qty(instrument, o.hidden),
                            });
                        }
                    }
                    _ => rows.push(BookRow {
                        venue: vname.clone(),
                        side: sname.into(),
                        level: i + 1,
                        price: names.price(instrument, l.price),
                        qty: names.qty(instrument, l.qty),
                        orders: l.orders,
                        venue_order_id: None,
                        hidden: String::new(),
                    }),
                }
            }
        }
    }
    Ok(Book { seq: r.last_seq, time: utc(r.core.now().0), rows })
}
