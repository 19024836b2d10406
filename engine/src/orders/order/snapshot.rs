//! Snapshot of one [`Order`]: its terms and every dynamic field, as the digest sees them.

use super::{Order, OrderTerms, PendingReplace};
use crate::orders::state::{OrderState, Status};
use crate::schema::OrderFlags;
use crate::snapshot_codec::{Bounds, CodecError, Reader, Writer};
use crate::{AccountId, InstrumentId, OrderId, Price, Qty, SessionId, TimestampNs, VenueId};

impl Order {
    /// Appends the order to `w`.
    pub(crate) fn snapshot_write(&self, w: &mut Writer) {
        let t = &self.terms;
        w.u64(t.id.0);
        w.u32(t.session.0);
        w.u32(t.account.0);
        w.u32(t.instrument.0);
        w.u16(t.venue.0);
        w.u8(t.side as u8);
        w.u8(t.ord_type as u8);
        w.u8(t.tif as u8);
        w.u8(t.flags.0);
        w.i64(t.price.ticks());
        w.i64(t.stop_price.ticks());
        w.i64(t.trail_ticks);
        w.i64(t.qty.lots());
        w.i64(t.display_qty.lots());
        w.u64(t.expire_at.0);
        w.cl_ord_id(&t.cl_ord_id);
        w.u8(self.status.state().code());
        w.u8(self.status.prior().code());
        w.i64(self.filled.lots());
        w.i128(self.cum_notional_ticks_lots);
        w.u64(self.venue_order_id);
        w.option(self.pending_replace, |w, p| {
            w.cl_ord_id(&p.cl_ord_id);
            w.i64(p.price.ticks());
            w.i64(p.qty.lots());
            w.i64(p.display_qty.lots());
        });
        w.option(self.cancel_request, |w, id| w.cl_ord_id(&id));
        w.u64(self.updated_at.0);
        w.i64(self.risk_price.ticks());
    }

    /// Reads an order written by [`Order::snapshot_write`]. Its account, instrument and
    /// session must be inside `bounds`, and the order must satisfy its invariants.
    pub(crate) fn snapshot_read(r: &mut Reader<'_>, bounds: &Bounds) -> Result<Order, CodecError> {
        let start = r.offset();
        let id = OrderId(r.u64()?);
        let at = r.offset();
        let session = SessionId(r.u32()?);
        Bounds::check(at, "session", session.0, bounds.sessions)?;
        let at = r.offset();
        let account = AccountId(r.u32()?);
        Bounds::check(at, "account", account.0, bounds.accounts)?;
        let at = r.offset();
        let instrument = InstrumentId(r.u32()?);
        Bounds::check(at, "instrument", instrument.0, bounds.instruments)?;
        let terms = OrderTerms {
            id,
            session,
            account,
            instrument,
            venue: VenueId(r.u16()?),
            side: r.side()?,
            ord_type: r.ord_type()?,
            tif: r.tif()?,
            flags: OrderFlags(r.u8()?),
            price: Price(r.i64()?),
            stop_price: Price(r.i64()?),
            trail_ticks: r.i64()?,
            qty: Qty(r.i64()?),
            display_qty: Qty(r.i64()?),
            expire_at: TimestampNs(r.u64()?),
            cl_ord_id: r.cl_ord_id()?,
        };
        let at = r.offset();
        let state = r.tag("order state", OrderState::from_code)?;
        let prior = r.tag("order state", OrderState::from_code)?;
        let status = Status::from_parts(state, prior).ok_or_else(|| {
            Reader::invalid_at(at, format!("order {id}: status {state:?} after {prior:?}"))
        })?;
        let order = Order {
            terms,
            status,
            filled: Qty(r.i64()?),
            cum_notional_ticks_lots: r.i128()?,
            venue_order_id: r.u64()?,
            pending_replace: r.option(|r| {
                Ok(PendingReplace {
                    cl_ord_id: r.cl_ord_id()?,
                    price: Price(r.i64()?),
                    qty: Qty(r.i64()?),
                    display_qty: Qty(r.i64()?),
                })
            })?,
            cancel_request: r.option(|r| r.cl_ord_id())?,
            updated_at: TimestampNs(r.u64()?),
            risk_price: Price(r.i64()?),
        };
        if !order.is_consistent() {
            return Err(Reader::invalid_at(start, format!("order {id} breaks its invariants")));
        }
        Ok(order)
    }
}
