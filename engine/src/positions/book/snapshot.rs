//! Snapshot of the [`PositionBook`]: its shape, every (account, instrument) cell, the firm
//! totals per instrument and the account totals. Valuations come from the configuration.

use super::{AccountTotals, InstrumentTotals, PositionBook};
use crate::positions::Position;
use crate::snapshot_codec::{CodecError, Reader, Writer};

impl PositionBook {
    /// Appends the book to `w`.
    pub(crate) fn snapshot_write(&self, w: &mut Writer) {
        w.len_u32(self.accounts);
        w.len_u32(self.instruments);
        for pos in self.cells.iter() {
            pos.snapshot_write(w);
        }
        for t in self.firm.iter() {
            w.i64(t.net_qty_lots);
            w.i128(t.open_cost);
            w.i128(t.realized_pnl);
            w.i128(t.fees);
            w.i64(t.bought_lots);
            w.i64(t.sold_lots);
        }
        for t in self.account_totals.iter() {
            w.i128(t.realized_pnl_e8);
            w.i128(t.fees_e8);
        }
    }

    /// Restores a book written by [`PositionBook::snapshot_write`] into a book of the same
    /// shape.
    pub(crate) fn snapshot_read(&mut self, r: &mut Reader<'_>) -> Result<(), CodecError> {
        r.exact_count(self.accounts, "position accounts")?;
        r.exact_count(self.instruments, "position instruments")?;
        for cell in self.cells.iter_mut() {
            *cell = Position::snapshot_read(r)?;
        }
        for t in self.firm.iter_mut() {
            *t = InstrumentTotals {
                net_qty_lots: r.i64()?,
                open_cost: r.i128()?,
                realized_pnl: r.i128()?,
                fees: r.i128()?,
                bought_lots: r.i64()?,
                sold_lots: r.i64()?,
            };
        }
        for t in self.account_totals.iter_mut() {
            *t = AccountTotals { realized_pnl_e8: r.i128()?, fees_e8: r.i128()? };
        }
        Ok(())
    }
}
