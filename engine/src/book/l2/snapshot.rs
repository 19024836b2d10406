//! Snapshot of an [`L2Book`]: each side's levels, best first, as `(price, qty)`.
//!
//! Restoring sets the levels back one by one into an empty book; a level count above the
//! configured room, a non-positive quantity or levels out of order are refused.

use super::L2Book;
use crate::snapshot_codec::{CodecError, Reader, Writer};
use crate::{Price, Qty, Side};

impl L2Book {
    /// Appends the book's levels to `w`.
    pub(crate) fn snapshot_write(&self, w: &mut Writer) {
        for side in [Side::Buy, Side::Sell] {
            w.len_u32(self.level_count(side));
            for level in self.levels(side) {
                w.i64(level.price.ticks());
                w.i64(level.qty.lots());
            }
        }
    }

    /// Restores the levels written by [`L2Book::snapshot_write`] into this (empty) book.
    pub(crate) fn snapshot_read(&mut self, r: &mut Reader<'_>) -> Result<(), CodecError> {
        self.clear();
        let mut counts = [0usize; 2];
        for (k, side) in [Side::Buy, Side::Sell].into_iter().enumerate() {
            let n = r.count(self.ladder(side).capacity() as usize, "price levels")?;
            counts[k] = n;
            let mut prev: Option<Price> = None;
            for _ in 0..n {
                let at = r.offset();
                let price = Price(r.i64()?);
                let qty = Qty(r.i64()?);
                let ordered = prev.is_none_or(|p| match side {
                    Side::Buy => price < p,
                    Side::Sell => price > p,
                });
                if qty.lots() <= 0 || !ordered {
                    return Err(Reader::invalid_at(
                        at,
                        format!("level {price:?} x {qty:?} out of order or empty"),
                    ));
                }
                prev = Some(price);
                self.set(side, price, qty)
                    .map_err(|e| Reader::invalid_at(at, format!("level refused: {e}")))?;
            }
        }
        if counts != [self.level_count(Side::Buy), self.level_count(Side::Sell)] {
            return Err(Reader::invalid_at(r.offset(), "restored book is crossed"));
        }
        Ok(())
    }
}
