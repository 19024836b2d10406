//! Snapshot of [`Markets`]: every configured (instrument, venue) market in configuration
//! order, with its book, last trade, trading status and rebuilding flag.

use super::{LastTrade, MarketBook, Markets};
use crate::snapshot_codec::{CodecError, Reader, Writer};
use crate::{Price, Qty, TimestampNs};

const L2: u8 = 0;
const L3: u8 = 1;

impl Markets {
    /// Appends every market to `w`.
    pub(crate) fn snapshot_write(&self, w: &mut Writer) {
        w.len_u32(self.markets.len());
        for m in &self.markets {
            w.option(m.as_ref(), |w, m| {
                match &m.book {
                    MarketBook::L2(b) => {
                        w.u8(L2);
                        b.snapshot_write(w);
                    }
                    MarketBook::L3(b) => {
                        w.u8(L3);
                        b.snapshot_write(w);
                    }
                }
                w.option(m.last_trade, |w, t| {
                    w.i64(t.price.ticks());
                    w.i64(t.qty.lots());
                    w.u64(t.exchange_ts.0);
                });
                w.u8(m.status as u8);
                w.bool(m.rebuilding);
            });
        }
    }

    /// Restores the markets written by [`Markets::snapshot_write`] into markets built from
    /// the same configuration.
    pub(crate) fn snapshot_read(&mut self, r: &mut Reader<'_>) -> Result<(), CodecError> {
        self.invalidate_all();
        r.exact_count(self.markets.len(), "markets")?;
        for (slot, market) in self.markets.iter_mut().enumerate() {
            let at = r.offset();
            let present = r.bool()?;
            let Some(m) = market.as_mut() else {
                if present {
                    return Err(Reader::out_of_range_at(
                        at,
                        format!("market slot {slot} is not configured"),
                    ));
                }
                continue;
            };
            if !present {
                return Err(Reader::out_of_range_at(at, format!("market slot {slot} missing")));
            }
            let at = r.offset();
            match (r.u8()?, &mut m.book) {
                (L2, MarketBook::L2(b)) => b.snapshot_read(r)?,
                (L3, MarketBook::L3(b)) => b.snapshot_read(r)?,
                (kind, _) => {
                    return Err(Reader::invalid_at(
                        at,
                        format!("book kind {kind} differs from the venue's configured feed"),
                    ));
                }
            }
            m.last_trade = r.option(|r| {
                Ok(LastTrade {
                    price: Price(r.i64()?),
                    qty: Qty(r.i64()?),
                    exchange_ts: TimestampNs(r.u64()?),
                })
            })?;
            m.status = r.market_status()?;
            m.rebuilding = r.bool()?;
        }
        Ok(())
    }
}
