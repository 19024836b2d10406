//! One valid message of every type, with distinctive values, shared by the codec tests
//! (round trip, golden bytes) and the codec benchmarks. Included with `#[path]`.
#![allow(dead_code)]

use keel_engine::schema::{
    CancelRejectTo, ExecType, MarketStatus, OrdStatus, OrderFlags, RejectCode, RejectInfo,
};
use keel_engine::{
    ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce, TimestampNs,
    VenueId,
};
use keel_gateways::binary::msg::market_data::{
    Depth, Subscribe, SubscribeAck, SubscribeStatus, TopOfBook,
};
use keel_gateways::binary::msg::orders::{
    CancelOrder, MassCancel, MassCancelScope, NewOrder, ReplaceOrder,
};
use keel_gateways::binary::msg::queries::{
    ListEnd, ListKind, OrderListRequest, OrderStatus, PositionReport, PositionRequest,
};
use keel_gateways::binary::msg::reports::{
    CancelAck, CancelReject, Fill, MassCancelAck, OrderAck, OrderReject, ReplaceAck,
    UnsolicitedCancel, UnsolicitedReason,
};
use keel_gateways::binary::msg::session::{
    Heartbeat, InstrumentInfo, Logon, LogonAck, Logout, LogoutReason,
};
use keel_gateways::binary::wire::{DEPTH_LEVELS, Level, LevelCount, Secret, Text};
use keel_gateways::binary::{ClientMsg, ServerMsg};

pub fn cl(s: &str) -> ClOrdId {
    s.parse().unwrap()
}

pub const T: TimestampNs = TimestampNs(1_767_312_000_123_456_789);

pub fn logon() -> Logon {
    Logon {
        username: Text::new("demo-bin").unwrap(),
        password: Secret::new(b"s3cret").unwrap(),
        heartbeat_ms: 1500,
        pad: Default::default(),
        last_server_seq: 42,
    }
}

pub fn new_order() -> NewOrder {
    NewOrder {
        cl_ord_id: cl("A-1"),
        instrument: InstrumentId(2),
        venue: VenueId(1),
        side: Side::Sell,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Ioc,
        flags: OrderFlags::POST_ONLY,
        pad: Default::default(),
        price: Price(5_000_012),
        stop_price: Price(-3),
        trail_ticks: 7,
        qty: Qty(25),
        display_qty: Qty(5),
        expire_at: 99,
    }
}

pub fn cancel() -> CancelOrder {
    CancelOrder { cl_ord_id: cl("C-9"), orig_cl_ord_id: cl("A-1") }
}

pub fn replace() -> ReplaceOrder {
    ReplaceOrder {
        cl_ord_id: cl("R-2"),
        orig_cl_ord_id: cl("A-1"),
        price: Price(4_999_000),
        stop_price: Price(0),
        qty: Qty(30),
        display_qty: Qty(0),
    }
}

pub fn mass_cancel() -> MassCancel {
    MassCancel {
        cl_ord_id: cl("M-1"),
        scope: MassCancelScope::Instrument,
        pad: Default::default(),
        instrument: InstrumentId(1),
    }
}

macro_rules! exec_fields {
    ($t:ident { $($extra:tt)* }) => {
        $t {
            order_id: OrderId(77),
            cl_ord_id: cl("R-2"),
            orig_cl_ord_id: Some(cl("A-1")),
            instrument: InstrumentId(2),
            side: Side::Buy,
            ord_type: OrdType::Limit,
            exec_type: ExecType::Replaced,
            ord_status: OrdStatus::PartiallyFilled,
            price: Price(123_456),
            qty: Qty(10),
            leaves_qty: Qty(6),
            cum_qty: Qty(4),
            cum_notional: 493_824,
            transact_time: T,
            $($extra)*
        }
    };
}

pub fn client_samples() -> Vec<ClientMsg> {
    vec![
        logon().into(),
        Heartbeat {}.into(),
        Logout { reason: LogoutReason::ClientLogout, pad: Default::default(), detail: 0 }.into(),
        new_order().into(),
        cancel().into(),
        replace().into(),
        mass_cancel().into(),
        OrderListRequest { request_id: 5 }.into(),
        PositionRequest { request_id: 6 }.into(),
        Subscribe {
            instrument: InstrumentId(1),
            venue: VenueId(0),
            depth: 5,
            pad: Default::default(),
        }
        .into(),
    ]
}

pub fn depth() -> Depth {
    let mut bids = [Level::default(); DEPTH_LEVELS];
    let mut asks = [Level::default(); DEPTH_LEVELS];
    bids[0] = Level { price: Price(100), qty: Qty(3) };
    bids[1] = Level { price: Price(99), qty: Qty(8) };
    asks[0] = Level { price: Price(101), qty: Qty(2) };
    Depth {
        instrument: InstrumentId(0),
        venue: VenueId(1),
        snapshot: true,
        bid_levels: LevelCount(2),
        ask_levels: LevelCount(1),
        pad: Default::default(),
        time: T,
        bids,
        asks,
    }
}

pub fn server_samples() -> Vec<ServerMsg> {
    let reject = RejectInfo::new(RejectCode::NotionalExceedsMax, 1_500_000, 1_000_000);
    vec![
        LogonAck {
            session: SessionId(33),
            account: 0,
            heartbeat_ms: 1000,
            instruments: 3,
            next_client_seq: 12,
            last_server_seq: 40,
            replay_from: 38,
            server_time: T,
        }
        .into(),
        Heartbeat {}.into(),
        Logout { reason: LogoutReason::SequenceGap, pad: Default::default(), detail: 12 }.into(),
        InstrumentInfo {
            instrument: InstrumentId(2),
            venue: VenueId(1),
            tick_scale: 3,
            lot_scale: 1,
            symbol: Text::new("SOL-USD").unwrap(),
            currency: Text::new("USD").unwrap(),
            tick_size_mantissa: 1,
            lot_size_mantissa: 1,
        }
        .into(),
        exec_fields!(OrderAck {}).into(),
        OrderReject {
            order_id: OrderId(0),
            orig_cl_ord_id: None,
            exec_type: ExecType::Rejected,
            ord_status: OrdStatus::Rejected,
            reject,
            ..exec_fields!(OrderReject { reject })
        }
        .into(),
        exec_fields!(Fill { last_px: Price(123_450), last_qty: Qty(1) }).into(),
        exec_fields!(CancelAck {}).into(),
        exec_fields!(ReplaceAck {}).into(),
        exec_fields!(UnsolicitedCancel {
            reason: UnsolicitedReason::Keel,
            pad: Default::default(),
            reject: Some(RejectInfo::new(RejectCode::SelfTrade, 100, 101)),
        })
        .into(),
        CancelReject {
            order_id: OrderId(77),
            cl_ord_id: cl("C-9"),
            orig_cl_ord_id: cl("A-1"),
            response_to: CancelRejectTo::Replace,
            ord_status: OrdStatus::New,
            pad: Default::default(),
            reject: RejectInfo::bare(RejectCode::RequestPending),
            transact_time: T,
        }
        .into(),
        MassCancelAck {
            cl_ord_id: cl("M-1"),
            affected: 4,
            pad: Default::default(),
            reject: None,
            transact_time: T,
        }
        .into(),
        OrderStatus {
            request_id: 5,
            order_id: OrderId(77),
            cl_ord_id: cl("R-2"),
            orig_cl_ord_id: Some(cl("A-1")),
            instrument: InstrumentId(2),
            side: Side::Buy,
            ord_type: OrdType::Limit,
            exec_type: ExecType::Replaced,
            ord_status: OrdStatus::PartiallyFilled,
            price: Price(123_456),
            qty: Qty(10),
            leaves_qty: Qty(6),
            cum_qty: Qty(4),
            cum_notional: 493_824,
            transact_time: T,
        }
        .into(),
        PositionReport {
            request_id: 6,
            instrument: InstrumentId(1),
            pad: Default::default(),
            net_qty: -3,
            bought_qty: 2,
            sold_qty: 5,
            bought_notional: 600_000,
            sold_notional: 1_500_500,
            fills: 4,
        }
        .into(),
        ListEnd { request_id: 6, list: ListKind::Positions, pad: Default::default(), count: 1 }
            .into(),
        SubscribeAck {
            instrument: InstrumentId(1),
            venue: VenueId(1),
            depth: 5,
            status: SubscribeStatus::Subscribed,
        }
        .into(),
        TopOfBook {
            instrument: InstrumentId(0),
            venue: VenueId(1),
            snapshot: false,
            status: MarketStatus::Halted,
            bid_px: Price(100),
            bid_qty: Qty(3),
            ask_px: Price(101),
            ask_qty: Qty(2),
            last_px: Price(100),
            last_qty: Qty(1),
            time: T,
        }
        .into(),
        depth().into(),
    ]
}
