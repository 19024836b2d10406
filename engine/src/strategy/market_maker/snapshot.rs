//! Snapshot of a [`MarketMaker`]'s own state: the client order ids issued so far and, per
//! side, the quote it believes working and any request awaiting the venue's answer.
//!
//! Layout (little-endian): format `u8` (1), ids issued `u64`, then bid and ask quotes:
//! id (option of client order id), price `i64`, total `i64`, filled `i64`, pending tag
//! `u8` (0 none, 1 new, 2 replace + new id, price, total, 3 cancel).

use super::{MarketMaker, Pending, Quote};
use crate::snapshot_codec::{CodecError, Reader, Writer};
use crate::strategy::ClOrdIdSeq;
use crate::{Price, Qty};

const FORMAT: u8 = 1;

impl MarketMaker {
    pub(super) fn snapshot_state(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new();
        w.u8(FORMAT);
        w.u64(self.ids.issued());
        for q in &self.quotes {
            w.option(q.id, |w, id| w.cl_ord_id(&id));
            w.i64(q.price.ticks());
            w.i64(q.total_qty.lots());
            w.i64(q.filled_qty.lots());
            match q.pending {
                Pending::None => w.u8(0),
                Pending::New => w.u8(1),
                Pending::Replace { new_id, price, total_qty } => {
                    w.u8(2);
                    w.cl_ord_id(&new_id);
                    w.i64(price.ticks());
                    w.i64(total_qty.lots());
                }
                Pending::Cancel => w.u8(3),
            }
        }
        out.extend_from_slice(w.as_slice());
    }

    pub(super) fn restore_state(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.read_state(bytes).map_err(|e| format!("market_maker state: {e}"))
    }

    fn read_state(&mut self, bytes: &[u8]) -> Result<(), CodecError> {
        let mut r = Reader::new(bytes);
        r.tag("market_maker format", |b| (b == FORMAT).then_some(()))?;
        let at = r.offset();
        let issued = r.u64()?;
        let ids = ClOrdIdSeq::resume_at(issued)
            .ok_or_else(|| Reader::out_of_range_at(at, format!("{issued} ids issued")))?;
        let mut quotes = [Quote::IDLE; 2];
        for q in quotes.iter_mut() {
            let at = r.offset();
            *q = Quote {
                id: r.option(|r| r.cl_ord_id())?,
                price: Price(r.i64()?),
                total_qty: Qty(r.i64()?),
                filled_qty: Qty(r.i64()?),
                pending: match r.u8()? {
                    0 => Pending::None,
                    1 => Pending::New,
                    2 => Pending::Replace {
                        new_id: r.cl_ord_id()?,
                        price: Price(r.i64()?),
                        total_qty: Qty(r.i64()?),
                    },
                    3 => Pending::Cancel,
                    b => return Err(Reader::invalid_at(at, format!("pending tag {b}"))),
                },
            };
            if q.filled_qty.lots() < 0 || q.filled_qty > q.total_qty {
                return Err(Reader::invalid_at(at, format!("quote filled beyond ordered: {q:?}")));
            }
        }
        r.finish()?;
        self.ids = ids;
        self.quotes = quotes;
        Ok(())
    }
}
