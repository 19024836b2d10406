//! One command of every kind, for tests that must cover the whole schema (codecs, checked
//! access, decoders), whatever a generated stream happens to produce.

use crate::schema::*;
use crate::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};

fn id(s: &str) -> ClOrdId {
    s.parse().unwrap()
}

/// One command of every kind, with distinct field values.
pub fn one_of_each_command() -> Vec<Command> {
    let (i, v, a) = (InstrumentId(3), VenueId(2), AccountId(7));
    let ts = TimestampNs(1_700_000_000_123_456_789);
    let new = NewOrder {
        cl_ord_id: id("C-1"),
        account: a,
        instrument: i,
        route: Route::Venue(v),
        side: Side::Buy,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Gtd,
        flags: OrderFlags::POST_ONLY.with(OrderFlags::REDUCE_ONLY),
        price: Price(10_050),
        stop_price: Price(0),
        trail_ticks: 0,
        qty: Qty(300),
        display_qty: Qty(100),
        expire_at: TimestampNs(1_700_000_100_000_000_000),
    };
    let bodies = [
        CommandBody::NewOrder(new),
        CommandBody::NewOrder(NewOrder {
            route: Route::BestPrice,
            ord_type: OrdType::TrailingStop,
            trail_ticks: 25,
            ..new
        }),
        CommandBody::CancelOrder(CancelOrder {
            cl_ord_id: id("C-2"),
            orig_cl_ord_id: id("C-1"),
            account: a,
        }),
        CommandBody::ReplaceOrder(ReplaceOrder {
            cl_ord_id: id("C-3"),
            orig_cl_ord_id: id("C-1"),
            account: a,
            price: Price(10_040),
            stop_price: Price(0),
            qty: Qty(200),
            display_qty: Qty(0),
        }),
        CommandBody::MassCancel(MassCancel {
            cl_ord_id: id("M-1"),
            account: a,
            scope: MassCancelScope::Instrument(i),
        }),
        CommandBody::VenueAck(VenueAck {
            venue: v,
            order_id: OrderId(42),
            venue_order_id: 9_000_001,
            venue_ts: ts,
        }),
        CommandBody::VenueReject(VenueReject {
            venue: v,
            order_id: OrderId(43),
            reason: 3,
            venue_ts: ts,
        }),
        CommandBody::VenueFill(VenueFill {
            venue: v,
            order_id: OrderId(42),
            exec_id: 77,
            price: Price(10_050),
            qty: Qty(100),
            fee: -12,
            liquidity: Liquidity::Maker,
            venue_ts: ts,
        }),
        CommandBody::VenueCancelAck(VenueCancelAck {
            venue: v,
            order_id: OrderId(42),
            unsolicited: true,
            venue_ts: ts,
        }),
        CommandBody::VenueReplaceAck(VenueReplaceAck {
            venue: v,
            order_id: OrderId(42),
            price: Price(10_040),
            qty: Qty(200),
            venue_ts: ts,
        }),
        CommandBody::VenueCancelReject(VenueCancelReject {
            venue: v,
            order_id: OrderId(42),
            response_to: CancelRejectTo::Replace,
            reason: 1,
            venue_ts: ts,
        }),
        CommandBody::L2Update(L2Update {
            instrument: i,
            venue: v,
            side: Side::Sell,
            price: Price(10_060),
            qty: Qty(0),
            exchange_ts: ts,
        }),
        CommandBody::L3Add(L3Add {
            instrument: i,
            venue: v,
            venue_order_id: 5,
            side: Side::Buy,
            price: Price(10_000),
            qty: Qty(10),
            exchange_ts: ts,
        }),
        CommandBody::L3Modify(L3Modify {
            instrument: i,
            venue: v,
            venue_order_id: 5,
            price: Price(10_001),
            qty: Qty(9),
            exchange_ts: ts,
        }),
        CommandBody::L3Delete(L3Delete {
            instrument: i,
            venue: v,
            venue_order_id: 5,
            exchange_ts: ts,
        }),
        CommandBody::L3Execute(L3Execute {
            instrument: i,
            venue: v,
            venue_order_id: 6,
            qty: Qty(4),
            price: Price(10_002),
            exchange_ts: ts,
        }),
        CommandBody::Trade(MarketTrade {
            instrument: i,
            venue: v,
            price: Price(10_002),
            qty: Qty(4),
            aggressor: Some(Side::Sell),
            exchange_ts: ts,
        }),
        CommandBody::Snapshot(SnapshotMark {
            instrument: i,
            venue: v,
            phase: SnapshotPhase::Begin,
            exchange_ts: ts,
        }),
        CommandBody::VenueStatus(VenueStatus {
            venue: v,
            instrument: None,
            status: MarketStatus::Halted,
        }),
        CommandBody::SessionLogon(SessionLogon {
            kind: SessionKind::FixClient,
            account: a,
            cancel_on_disconnect: true,
        }),
        CommandBody::SessionLogout(SessionLogout { graceful: false }),
        CommandBody::Timer(Timer {}),
        CommandBody::SetLimit(SetLimit {
            scope: LimitScope::AccountInstrument(a, i),
            kind: LimitKind::MaxOrderNotional,
            value: 1_000_000,
        }),
        CommandBody::SetTradingState(SetTradingState {
            scope: Scope::Account(a),
            state: TradingState::ReducingOnly,
        }),
        CommandBody::KillSwitch(KillSwitch {
            scope: Scope::Firm,
            action: KillSwitchAction::Engage,
        }),
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(n, body)| Command { ts: TimestampNs(ts.0 + n as u64), session: SessionId(4), body })
        .collect()
}
