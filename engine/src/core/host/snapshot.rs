//! Snapshot of the strategy host: each hosted strategy's own state (through
//! [`Strategy::snapshot`](crate::strategy::Strategy::snapshot)), and the strategy queue's
//! undelivered events (carried over by the per-command bound) with its counter.
//!
//! The slots themselves (which strategy, session, account, venue) come from the
//! configuration; their market views are refreshed before every call, so they are not
//! state.

use super::{Strategies, StrategyEvent, StrategyQueue};
use crate::snapshot_codec::{CodecError, Reader, Writer};
use crate::strategy::{OrderUpdate, OrderUpdateKind, OwnFill};
use crate::{InstrumentId, Price, Qty};

const FILL: u8 = 0;
const UPDATE: u8 = 1;

const UPDATE_KINDS: [OrderUpdateKind; 6] = [
    OrderUpdateKind::Acked,
    OrderUpdateKind::Replaced,
    OrderUpdateKind::Canceled,
    OrderUpdateKind::Expired,
    OrderUpdateKind::Rejected,
    OrderUpdateKind::CancelRejected,
];

/// Most carried-over events a snapshot may hold (a sanity bound: the queue carries at
/// most what one command's reports produced beyond the per-command delivery bound).
const EVENTS_MAX: usize = 1 << 24;

impl StrategyQueue {
    /// Appends the undelivered events, in delivery order, and the deferral counter.
    pub(in crate::core) fn snapshot_write(&self, w: &mut Writer) {
        w.len_u32(self.events.len());
        for (slot, event) in &self.events {
            w.u16(*slot);
            match event {
                StrategyEvent::Fill(f) => {
                    w.u8(FILL);
                    w.cl_ord_id(&f.cl_ord_id);
                    w.u32(f.instrument.0);
                    w.u8(f.side as u8);
                    w.i64(f.price.ticks());
                    w.i64(f.qty.lots());
                    w.i64(f.leaves_qty.lots());
                    w.i64(f.fee);
                    w.u8(f.liquidity as u8);
                }
                StrategyEvent::Update(u) => {
                    w.u8(UPDATE);
                    let kind = UPDATE_KINDS.iter().position(|k| *k == u.kind);
                    w.u8(kind.expect("every kind is listed") as u8);
                    w.cl_ord_id(&u.cl_ord_id);
                    w.option(u.orig_cl_ord_id, |w, id| w.cl_ord_id(&id));
                    w.u32(u.instrument.0);
                    w.u8(u.side as u8);
                    w.i64(u.price.ticks());
                    w.i64(u.leaves_qty.lots());
                }
            }
        }
        w.u64(self.deferred_total);
    }

    /// Restores the events written by [`StrategyQueue::snapshot_write`]; each must name
    /// one of the `slots` hosted strategies.
    pub(in crate::core) fn snapshot_read(
        &mut self,
        r: &mut Reader<'_>,
        slots: usize,
    ) -> Result<(), CodecError> {
        self.events.clear();
        let n = r.count(EVENTS_MAX, "undelivered strategy events")?;
        for _ in 0..n {
            let at = r.offset();
            let slot = r.u16()?;
            if usize::from(slot) >= slots {
                return Err(Reader::out_of_range_at(
                    at,
                    format!("event for strategy slot {slot}, {slots} hosted"),
                ));
            }
            let at = r.offset();
            let event = match r.u8()? {
                FILL => StrategyEvent::Fill(OwnFill {
                    cl_ord_id: r.cl_ord_id()?,
                    instrument: InstrumentId(r.u32()?),
                    side: r.side()?,
                    price: Price(r.i64()?),
                    qty: Qty(r.i64()?),
                    leaves_qty: Qty(r.i64()?),
                    fee: r.i64()?,
                    liquidity: r.liquidity()?,
                }),
                UPDATE => StrategyEvent::Update(OrderUpdate {
                    kind: r.tag("order update kind", |b| UPDATE_KINDS.get(b as usize).copied())?,
                    cl_ord_id: r.cl_ord_id()?,
                    orig_cl_ord_id: r.option(|r| r.cl_ord_id())?,
                    instrument: InstrumentId(r.u32()?),
                    side: r.side()?,
                    price: Price(r.i64()?),
                    leaves_qty: Qty(r.i64()?),
                }),
                b => return Err(Reader::invalid_at(at, format!("strategy event tag {b}"))),
            };
            self.events.push((slot, event));
        }
        self.deferred_total = r.u64()?;
        Ok(())
    }
}

impl Strategies {
    /// Number of hosted strategies.
    pub(in crate::core) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Appends each hosted strategy's name and own state, in hosting order.
    pub(in crate::core) fn snapshot_write(&self, w: &mut Writer) {
        w.len_u32(self.slots.len());
        let mut state = Vec::new();
        for slot in &self.slots {
            w.bytes(slot.strategy.name().as_bytes());
            state.clear();
            slot.strategy.snapshot(&mut state);
            w.bytes(&state);
        }
    }

    /// Restores each hosted strategy's state, checking it is the strategy snapshotted.
    pub(in crate::core) fn snapshot_read(&mut self, r: &mut Reader<'_>) -> Result<(), CodecError> {
        r.exact_count(self.slots.len(), "strategies")?;
        for slot in &mut self.slots {
            let at = r.offset();
            let name = r.bytes()?;
            let expected = slot.strategy.name();
            if name != expected.as_bytes() {
                return Err(Reader::invalid_at(
                    at,
                    format!(
                        "strategy {} where {expected} is configured",
                        String::from_utf8_lossy(name)
                    ),
                ));
            }
            let at = r.offset();
            let state = r.bytes()?;
            slot.strategy
                .restore(state)
                .map_err(|e| Reader::invalid_at(at, format!("strategy {expected}: {e}")))?;
        }
        Ok(())
    }
}
