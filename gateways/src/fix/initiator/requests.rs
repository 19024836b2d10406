//! Keel → venue: the core's venue outputs as FIX message bodies.
//!
//! | output | message | fields |
//! |---|---|---|
//! | `VenueNewOrder` | D | 11 = order id, 55, 54, 60, 38, 40, 44 (limit), 59, 18=6 (post-only), 111 (display), 126 (GTD) |
//! | `VenueCancel` | F | 41 = ClOrdID in force, 11 = `id-k`, 37 (when known), 55, 54, 38, 60 |
//! | `VenueReplace` | G | 41, 11 = `id-k`, 37, 55, 54, 38, 40, 44, 111, 60 |
//! | (reconciliation) | H | 11 = ClOrdID in force, 37 (when known), 55, 54, 790 |
//! | (subscription) | V | 262, 263=1, 264=0, 265=1, 267: 0 1 2, 146: every symbol |
//!
//! Bodies are written into a reused [`Body`]; the session layer adds the header, numbers,
//! stores and sends them. TransactTime (60) is the output's core time.

use super::dialect::{self, tag as vt};
use super::ids::{CL_ORD_ID_MAX, write_cl_ord_id};
use super::orders::Tracked;
use crate::fix::encode::Body;
use crate::fix::tags::tag;
use crate::fix::time::Precision;
use keel_engine::schema::{OrderFlags, VenueNewOrder};
use keel_engine::{Instrument, OrdType, Price, Qty, TimeInForce};

fn cl(body: &mut Body, t: u32, tr_id: keel_engine::OrderId, version: u32) {
    let mut buf = [0u8; CL_ORD_ID_MAX];
    let n = write_cl_ord_id(&mut buf, tr_id, version);
    body.str(t, &buf[..n]);
}

fn venue_order_id(body: &mut Body, tr: &Tracked) {
    if let Some(text) = &tr.venue_order_text {
        body.str(tag::ORDER_ID, text.as_bytes());
    }
}

/// NewOrderSingle (D) for `o`.
pub fn new_order(
    body: &mut Body,
    o: &VenueNewOrder,
    inst: &Instrument,
    transact_ns: u64,
    precision: Precision,
) {
    body.clear();
    cl(body, tag::CL_ORD_ID, o.order_id, 0);
    body.str(tag::SYMBOL, inst.symbol.as_bytes())
        .char(tag::SIDE, dialect::side_char(o.side))
        .timestamp(tag::TRANSACT_TIME, transact_ns, precision)
        .decimal(tag::ORDER_QTY, &inst.qty_to_decimal(o.qty))
        .char(tag::ORD_TYPE, dialect::ord_type_char(o.ord_type));
    if o.ord_type == OrdType::Limit {
        body.decimal(tag::PRICE, &inst.price_to_decimal(o.price));
    }
    body.char(tag::TIME_IN_FORCE, dialect::tif_char(o.tif));
    if o.tif == TimeInForce::Gtd && o.expire_at.0 > 0 {
        body.timestamp(tag::EXPIRE_TIME, o.expire_at.0, precision);
    }
    if o.flags.contains(OrderFlags::POST_ONLY) {
        body.str(tag::EXEC_INST, dialect::EXEC_INST_POST_ONLY);
    }
    if o.display_qty.0 > 0 && o.display_qty < o.qty {
        body.decimal(tag::MAX_FLOOR, &inst.qty_to_decimal(o.display_qty));
    }
}

/// OrderCancelRequest (F) for `tr`, as ClOrdID version `version`.
pub fn cancel(
    body: &mut Body,
    tr: &Tracked,
    version: u32,
    inst: &Instrument,
    transact_ns: u64,
    precision: Precision,
) {
    body.clear();
    cl(body, tag::ORIG_CL_ORD_ID, tr.id, tr.version);
    cl(body, tag::CL_ORD_ID, tr.id, version);
    venue_order_id(body, tr);
    body.str(tag::SYMBOL, inst.symbol.as_bytes())
        .char(tag::SIDE, dialect::side_char(tr.side))
        .timestamp(tag::TRANSACT_TIME, transact_ns, precision)
        .decimal(tag::ORDER_QTY, &inst.qty_to_decimal(tr.qty));
}

/// OrderCancelReplaceRequest (G) for `tr`, to `price` and total `qty`, as ClOrdID version
/// `version`.
#[allow(clippy::too_many_arguments)]
pub fn replace(
    body: &mut Body,
    tr: &Tracked,
    version: u32,
    price: Price,
    qty: Qty,
    display_qty: Qty,
    inst: &Instrument,
    transact_ns: u64,
    precision: Precision,
) {
    body.clear();
    cl(body, tag::ORIG_CL_ORD_ID, tr.id, tr.version);
    cl(body, tag::CL_ORD_ID, tr.id, version);
    venue_order_id(body, tr);
    body.str(tag::SYMBOL, inst.symbol.as_bytes())
        .char(tag::SIDE, dialect::side_char(tr.side))
        .timestamp(tag::TRANSACT_TIME, transact_ns, precision)
        .decimal(tag::ORDER_QTY, &inst.qty_to_decimal(qty))
        .char(tag::ORD_TYPE, dialect::ord_type_char(tr.ord_type));
    if tr.ord_type == OrdType::Limit {
        body.decimal(tag::PRICE, &inst.price_to_decimal(price));
    }
    if display_qty.0 > 0 && display_qty < qty {
        body.decimal(tag::MAX_FLOOR, &inst.qty_to_decimal(display_qty));
    }
}

/// OrderStatusRequest (H) for `tr`; OrdStatusReqID (790) is `req_id`.
pub fn status(body: &mut Body, tr: &Tracked, inst: &Instrument, req_id: u64) {
    body.clear();
    cl(body, tag::CL_ORD_ID, tr.id, tr.version);
    venue_order_id(body, tr);
    body.str(tag::SYMBOL, inst.symbol.as_bytes())
        .char(tag::SIDE, dialect::side_char(tr.side))
        .u64(vt::ORD_STATUS_REQ_ID, req_id);
}

/// MarketDataRequest (V): snapshot plus incremental updates of the full depth of bids,
/// offers and trades of every instrument in `instruments`.
pub fn subscribe(body: &mut Body, req_id: &[u8], instruments: &[Instrument]) {
    body.clear();
    body.str(vt::MD_REQ_ID, req_id)
        .char(vt::SUBSCRIPTION_REQUEST_TYPE, b'1')
        .u64(vt::MARKET_DEPTH, 0)
        .u64(vt::MD_UPDATE_TYPE, 1)
        .u64(vt::NO_MD_ENTRY_TYPES, 3)
        .char(vt::MD_ENTRY_TYPE, dialect::md_entry::BID)
        .char(vt::MD_ENTRY_TYPE, dialect::md_entry::OFFER)
        .char(vt::MD_ENTRY_TYPE, dialect::md_entry::TRADE)
        .u64(vt::NO_RELATED_SYM, instruments.len() as u64);
    for i in instruments {
        body.str(tag::SYMBOL, i.symbol.as_bytes());
    }
}
