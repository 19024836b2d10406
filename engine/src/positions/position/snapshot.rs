//! Snapshot of one [`Position`] cell.

use super::Position;
use crate::snapshot_codec::{CodecError, Reader, Writer};

impl Position {
    /// Appends the cell to `w`.
    pub(crate) fn snapshot_write(&self, w: &mut Writer) {
        w.i64(self.net_qty_lots);
        w.i128(self.open_cost);
        w.i128(self.realized_pnl);
        w.i128(self.fees);
        w.i64(self.bought_lots);
        w.i64(self.sold_lots);
    }

    /// Reads a cell written by [`Position::snapshot_write`]; its net quantity must equal
    /// its bought minus its sold lots, as every sequence of fills leaves it.
    pub(crate) fn snapshot_read(r: &mut Reader<'_>) -> Result<Position, CodecError> {
        let at = r.offset();
        let p = Position {
            net_qty_lots: r.i64()?,
            open_cost: r.i128()?,
            realized_pnl: r.i128()?,
            fees: r.i128()?,
            bought_lots: r.i64()?,
            sold_lots: r.i64()?,
        };
        if p.bought_lots.checked_sub(p.sold_lots) != Some(p.net_qty_lots) {
            return Err(Reader::invalid_at(at, "position net differs from bought minus sold"));
        }
        Ok(p)
    }
}
