use super::*;
use crate::core::testkit::one_of_each_command;
use crate::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};
use proptest::prelude::*;
use rkyv::rancor::Error;

fn id(s: &str) -> ClOrdId {
    s.parse().unwrap()
}

/// One output of every kind, with distinct field values.
fn one_of_each_output() -> Vec<Output> {
    let (i, v, a, s) = (InstrumentId(3), VenueId(2), AccountId(7), SessionId(4));
    let reject = RejectInfo::new(RejectCode::NotionalExceedsMax, 1_500_000, 1_000_000);
    let bodies = [
        OutputBody::VenueNewOrder(VenueNewOrder {
            venue: v,
            order_id: OrderId(42),
            instrument: i,
            side: Side::Buy,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Day,
            flags: OrderFlags::POST_ONLY,
            price: Price(10_050),
            qty: Qty(300),
            display_qty: Qty(0),
            expire_at: TimestampNs(0),
        }),
        OutputBody::VenueCancel(VenueCancel {
            venue: v,
            order_id: OrderId(42),
            instrument: i,
            side: Side::Buy,
            venue_order_id: 9,
        }),
        OutputBody::VenueReplace(VenueReplace {
            venue: v,
            order_id: OrderId(42),
            instrument: i,
            side: Side::Buy,
            venue_order_id: 9,
            price: Price(10_040),
            qty: Qty(200),
            display_qty: Qty(50),
        }),
        OutputBody::ExecReport(ExecReport {
            session: s,
            account: a,
            order_id: OrderId(0),
            cl_ord_id: id("C-9"),
            orig_cl_ord_id: Some(id("C-8")),
            instrument: i,
            side: Side::Sell,
            ord_type: OrdType::Market,
            exec_type: ExecType::Rejected,
            ord_status: OrdStatus::Rejected,
            price: Price(0),
            qty: Qty(5),
            last_px: Price(0),
            last_qty: Qty(0),
            leaves_qty: Qty(0),
            cum_qty: Qty(0),
            cum_notional: 0,
            reject: Some(reject),
        }),
        OutputBody::CancelReject(CancelReject {
            session: s,
            account: a,
            order_id: OrderId(0),
            cl_ord_id: id("X-2"),
            orig_cl_ord_id: id("X-1"),
            response_to: CancelRejectTo::Cancel,
            ord_status: OrdStatus::Rejected,
            reject: RejectInfo::bare(RejectCode::UnknownOrder),
        }),
        OutputBody::MassCancelReport(MassCancelReport {
            session: s,
            cl_ord_id: id("M-1"),
            affected: 12,
            reject: None,
        }),
        OutputBody::AdminAck(AdminAck { session: SessionId(1), affected: 3, reject: None }),
        OutputBody::Anomaly(Anomaly {
            venue: v,
            order_id: OrderId(42),
            reject: RejectInfo::new(RejectCode::VenueOverfill, 310, 300),
        }),
    ];
    bodies.into_iter().map(|body| Output { ts: TimestampNs(5), body }).collect()
}

#[test]
fn every_command_round_trips_through_checked_access() {
    for cmd in one_of_each_command() {
        let bytes = rkyv::to_bytes::<Error>(&cmd).unwrap();
        assert_eq!(bytes.len(), std::mem::size_of::<rkyv::Archived<Command>>(), "{cmd:?}");
        let archived = rkyv::access::<rkyv::Archived<Command>, Error>(&bytes).unwrap();
        let back: Command = rkyv::deserialize::<Command, Error>(archived).unwrap();
        assert_eq!(back, cmd);
    }
}

#[test]
fn every_output_round_trips_through_checked_access() {
    for out in one_of_each_output() {
        let bytes = rkyv::to_bytes::<Error>(&out).unwrap();
        assert_eq!(bytes.len(), std::mem::size_of::<rkyv::Archived<Output>>(), "{out:?}");
        let archived = rkyv::access::<rkyv::Archived<Output>, Error>(&bytes).unwrap();
        let back: Output = rkyv::deserialize::<Output, Error>(archived).unwrap();
        assert_eq!(back, out);
    }
}

#[test]
fn archived_records_are_small_and_8_byte_aligned() {
    // Every command is one fixed-size record: it fits a ring slot and a journal record
    // without allocation. These bounds are deliberate; raise them only on purpose.
    let cmd = std::mem::size_of::<rkyv::Archived<Command>>();
    let out = std::mem::size_of::<rkyv::Archived<Output>>();
    assert!(cmd <= 128, "archived Command is {cmd} bytes");
    assert!(out <= 200, "archived Output is {out} bytes");
    assert!(std::mem::align_of::<rkyv::Archived<Command>>() <= 8);
    assert!(std::mem::align_of::<rkyv::Archived<Output>>() <= 8);
}

#[test]
fn a_corrupted_tag_is_refused_by_checked_access() {
    let cmd = one_of_each_command()[0];
    let mut bytes = rkyv::to_bytes::<Error>(&cmd).unwrap().to_vec();
    // Find the body's tag byte: the first byte that differs between two commands whose
    // bodies are of different kinds but whose headers are identical.
    let mut other = one_of_each_command()[2];
    other.ts = cmd.ts;
    let other = rkyv::to_bytes::<Error>(&other).unwrap();
    let tag_at = bytes.iter().zip(other.iter()).position(|(a, b)| a != b).unwrap();
    bytes[tag_at] = 0xff;
    let mut aligned = rkyv::util::AlignedVec::<16>::new();
    aligned.extend_from_slice(&bytes);
    assert!(rkyv::access::<rkyv::Archived<Command>, Error>(&aligned).is_err());
}

/// The archived tag of a reject code is its position in this list, and the wire value is
/// the number beside it. Inserting a code anywhere but the end breaks journals already
/// written; this test makes that a deliberate act.
#[test]
fn reject_codes_are_pinned() {
    let golden: &[(&str, u16)] = &[
        ("UNKNOWN_INSTRUMENT", 101),
        ("UNKNOWN_ACCOUNT", 102),
        ("UNKNOWN_VENUE", 103),
        ("QTY_NOT_POSITIVE", 104),
        ("QTY_BELOW_MIN", 105),
        ("QTY_ABOVE_MAX", 106),
        ("PRICE_INVALID", 107),
        ("NOTIONAL_BELOW_MIN", 108),
        ("DISPLAY_QTY_INVALID", 109),
        ("UNSUPPORTED_ORDER", 110),
        ("EXPIRY_INVALID", 111),
        ("NO_ROUTE", 112),
        ("INSTRUMENT_NOT_TRADABLE", 113),
        ("QTY_EXCEEDS_MAX", 201),
        ("NOTIONAL_EXCEEDS_MAX", 202),
        ("PRICE_OUTSIDE_COLLAR", 203),
        ("NO_REFERENCE_PRICE", 204),
        ("POSITION_LONG_EXCEEDS_MAX", 205),
        ("POSITION_SHORT_EXCEEDS_MAX", 206),
        ("GROSS_EXPOSURE_EXCEEDS_MAX", 207),
        ("CREDIT_EXCEEDS_MAX", 208),
        ("OPEN_ORDERS_EXCEEDS_MAX", 209),
        ("THROTTLE_NEW", 210),
        ("THROTTLE_AMEND", 211),
        ("THROTTLE_CANCEL", 212),
        ("DUPLICATE_CL_ORD_ID", 213),
        ("DUPLICATE_ORDER", 214),
        ("INSTRUMENT_RESTRICTED", 215),
        ("SELF_TRADE", 216),
        ("REDUCING_ONLY", 217),
        ("HALTED", 218),
        ("KILL_SWITCH", 219),
        ("DAILY_LOSS_EXCEEDED", 220),
        ("DRAWDOWN_EXCEEDED", 221),
        ("REDUCE_ONLY_WOULD_INCREASE", 222),
        ("UNKNOWN_ORDER", 301),
        ("ORDER_NOT_WORKING", 302),
        ("REQUEST_PENDING", 303),
        ("REPLACE_BELOW_FILLED", 304),
        ("ILLEGAL_TRANSITION", 305),
        ("REPLACE_CHANGES_TERMS", 306),
        ("VENUE_UNKNOWN_ORDER", 401),
        ("VENUE_OVERFILL", 402),
        ("VENUE_DUPLICATE_FILL", 403),
        ("VENUE_REJECTED", 404),
        ("VENUE_CANCEL_REJECTED", 405),
        ("ORDER_CAPACITY", 501),
        ("TABLE_CAPACITY", 502),
        ("ADMIN_INVALID", 601),
        ("VENUE_NOTIONAL_OVERFLOW", 406),
    ];
    assert_eq!(RejectCode::ALL.len(), golden.len(), "a code was added: append it here too");
    for (tag, (code, (name, value))) in RejectCode::ALL.iter().zip(golden).enumerate() {
        assert_eq!((code.as_str(), code.value()), (*name, *value));
        assert_eq!(RejectCode::from_value(*value), Some(*code));
        let bytes = rkyv::to_bytes::<Error>(code).unwrap();
        assert_eq!(bytes.as_slice(), &[tag as u8], "archived tag of {name}");
    }
}

#[test]
fn reject_info_renders_code_and_numbers() {
    let r = RejectInfo::new(RejectCode::NotionalExceedsMax, 1_500_000, 1_000_000);
    assert_eq!(r.to_string(), "NOTIONAL_EXCEEDS_MAX: notional=1500000, max=1000000");
    assert_eq!(RejectInfo::bare(RejectCode::Halted).to_string(), "HALTED");
    assert_eq!(
        RejectInfo::new(RejectCode::QtyNotPositive, -5, 0).to_string(),
        "QTY_NOT_POSITIVE: qty=-5"
    );
}

#[test]
fn schema_hash_is_stable_within_a_build() {
    assert_ne!(SCHEMA_HASH, 0);
    assert_eq!(SCHEMA_VERSION, 1);
}

proptest! {
    #[test]
    fn new_orders_round_trip(
        price in any::<i64>(), qty in any::<i64>(), display in any::<i64>(), trail in any::<i64>(),
        ts in any::<u64>(), expire in any::<u64>(), flags in 0u8..4, venue in any::<u16>(),
        best in any::<bool>(), buy in any::<bool>(), cl in "[!-~]{1,31}",
    ) {
        let cmd = Command {
            ts: TimestampNs(ts),
            session: SessionId(1),
            body: CommandBody::NewOrder(NewOrder {
                cl_ord_id: cl.parse().unwrap(),
                account: AccountId(2),
                instrument: InstrumentId(3),
                route: if best { Route::BestPrice } else { Route::Venue(VenueId(venue)) },
                side: if buy { Side::Buy } else { Side::Sell },
                ord_type: OrdType::StopLimit,
                tif: TimeInForce::Ioc,
                flags: OrderFlags(flags),
                price: Price(price),
                stop_price: Price(price.wrapping_add(1)),
                trail_ticks: trail,
                qty: Qty(qty),
                display_qty: Qty(display),
                expire_at: TimestampNs(expire),
            }),
        };
        let bytes = rkyv::to_bytes::<Error>(&cmd).unwrap();
        let archived = rkyv::access::<rkyv::Archived<Command>, Error>(&bytes).unwrap();
        prop_assert_eq!(rkyv::deserialize::<Command, Error>(archived).unwrap(), cmd);
    }
}
