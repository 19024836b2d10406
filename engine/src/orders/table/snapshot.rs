//! Snapshot of the [`OrderTable`]: its sizes, every order in id order, then the retired
//! client order ids and the remembered exec ids, each oldest first.
//!
//! Restoring inserts the orders in id order (so iteration, mass cancel and the digest see
//! the same sequence) and replays both histories in FIFO order, so duplicate detection and
//! eviction continue exactly as in the original table. Slot placement may differ; nothing
//! observable depends on it.

use super::{ClEntry, NIL, OrderTable, SlotMeta};
use crate::orders::fixed_map::{ClKey, ExecKey};
use crate::orders::order::Order;
use crate::snapshot_codec::{Bounds, CodecError, Reader, Writer};
use crate::{OrderId, SessionId, VenueId};

impl OrderTable {
    /// Appends the table to `w`.
    pub(crate) fn snapshot_write(&self, w: &mut Writer) {
        w.u64(self.config.orders_max as u64);
        w.u64(self.config.cl_ord_id_history as u64);
        w.u64(self.config.exec_id_history as u64);
        w.len_u32(self.len());
        let mut cursor = self.head;
        while cursor != NIL {
            self.slot(cursor).snapshot_write(w);
            cursor = self.links[cursor as usize].next;
        }
        w.len_u32(self.cl_history.len());
        for key in self.cl_history.iter() {
            w.u32(key.session.0);
            w.cl_ord_id(&key.cl_ord_id);
        }
        w.len_u32(self.exec_history.len());
        for key in self.exec_history.iter() {
            w.u16(key.venue.0);
            w.u64(key.exec_id);
        }
    }

    /// Restores a table written by [`OrderTable::snapshot_write`] into this empty table of
    /// the same configuration.
    pub(crate) fn snapshot_read(
        &mut self,
        r: &mut Reader<'_>,
        bounds: &Bounds,
    ) -> Result<(), CodecError> {
        debug_assert!(self.is_empty(), "restore into a fresh table");
        let sizes = [
            ("orders", self.config.orders_max),
            ("client order id history", self.config.cl_ord_id_history),
            ("exec id history", self.config.exec_id_history),
        ];
        for (what, configured) in sizes {
            let at = r.offset();
            let n = r.u64()?;
            if n != configured as u64 {
                return Err(Reader::out_of_range_at(
                    at,
                    format!("{what} sized {n}, the configuration has {configured}"),
                ));
            }
        }
        let count = r.count(self.capacity(), "orders")?;
        let mut prev: Option<OrderId> = None;
        for _ in 0..count {
            let at = r.offset();
            let order = Order::snapshot_read(r, bounds)?;
            let id = order.id();
            if prev.is_some_and(|p| p >= id) {
                return Err(Reader::invalid_at(at, format!("order {id} out of id order")));
            }
            prev = Some(id);
            self.restore_order(order, at)?;
        }
        let n = r.count(self.cl_history.capacity(), "retired client order ids")?;
        for _ in 0..n {
            let at = r.offset();
            let key = ClKey { session: SessionId(r.u32()?), cl_ord_id: r.cl_ord_id()? };
            if self.by_cl.contains(&key) {
                return Err(Reader::invalid_at(
                    at,
                    format!("client order id {} twice", key.cl_ord_id),
                ));
            }
            let evicted = self.cl_history.push(key);
            let inserted = self.by_cl.insert(key, ClEntry::Recent);
            debug_assert!(evicted.is_none() && inserted, "history sized by configuration");
        }
        let n = r.count(self.exec_history.capacity(), "remembered exec ids")?;
        for _ in 0..n {
            let at = r.offset();
            let key = ExecKey { venue: VenueId(r.u16()?), exec_id: r.u64()? };
            if self.exec_seen.contains(&key) {
                return Err(Reader::invalid_at(at, format!("exec id {} twice", key.exec_id)));
            }
            let evicted = self.exec_history.push(key);
            let inserted = self.exec_seen.insert(key, ());
            debug_assert!(evicted.is_none() && inserted, "history sized by configuration");
        }
        self.check_invariants()
            .map_err(|e| Reader::invalid_at(r.offset(), format!("restored order table: {e}")))
    }

    /// Places one restored order, indexing its client order id (and a pending replace's).
    fn restore_order(&mut self, order: Order, at: usize) -> Result<(), CodecError> {
        let session = order.terms().session;
        let mut keys =
            [Some(order.terms().cl_ord_id), order.pending_replace().map(|p| p.cl_ord_id)];
        if keys[0] == keys[1] {
            keys[1] = None;
        }
        for cl_ord_id in keys.into_iter().flatten() {
            if self.by_cl.contains(&ClKey { session, cl_ord_id }) {
                return Err(Reader::invalid_at(at, format!("client order id {cl_ord_id} twice")));
            }
        }
        let Some(slot) = self.free.pop() else {
            return Err(Reader::out_of_range_at(at, "more orders than the table holds"));
        };
        let id = order.id();
        self.meta[slot as usize] = SlotMeta::of(&order);
        self.slots[slot as usize] = order;
        let mut inserted = self.by_id.insert(id, slot);
        for cl_ord_id in keys.into_iter().flatten() {
            inserted &= self.by_cl.insert(ClKey { session, cl_ord_id }, ClEntry::Live(slot));
        }
        debug_assert!(inserted, "index maps are sized for a full table");
        self.link_sorted(slot, id);
        Ok(())
    }
}
