//! The FIX hot path does not allocate in steady state: framing, decoding, the session's
//! checks, the order-entry mapping of a NewOrderSingle, and encoding, storing (in the
//! journal store) and writing an ExecutionReport.

#[path = "../../engine/tests/support/counting_alloc.rs"]
mod counting_alloc;

use keel_engine::schema::{CommandBody, ExecReport, ExecType, OrdStatus};
use keel_engine::{
    AccountId, ClOrdId, Instrument, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side,
    VenueId,
};
use keel_gateways::fix::acceptor::order_entry::{Decision, Sender, decide};
use keel_gateways::fix::acceptor::{Dictionary, reports};
use keel_gateways::fix::encode::Body;
use keel_gateways::fix::frame::checksum;
use keel_gateways::fix::inbound::{InBuffer, Next};
use keel_gateways::fix::message::Decoder;
use keel_gateways::fix::session::{Received, Role, Session, SessionConfig};
use keel_gateways::fix::store::{JournalStore, StoreConfig};
use keel_gateways::fix::time::{Precision, write_timestamp};
use rust_decimal::Decimal;
use std::str::FromStr;

const T0_NS: u64 = 1_704_153_600_000_000_000;

fn frame_of(body: &str) -> Vec<u8> {
    let head = format!("8=FIX.4.4\x019={}\x01", body.len());
    let mut m = (head + body).into_bytes();
    let sum = checksum(&m);
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

fn ts(ns: u64) -> String {
    let mut v = Vec::new();
    write_timestamp(&mut v, ns, Precision::Millis);
    String::from_utf8(v).unwrap()
}

#[test]
fn decode_check_map_encode_store_do_not_allocate() {
    let dir = tempfile::tempdir().unwrap();
    let store = JournalStore::open(
        dir.path(),
        &StoreConfig { segment_size: 8 << 20, ..StoreConfig::default() },
    )
    .unwrap();
    let mut session = Session::new(SessionConfig::new(Role::Acceptor, "KEEL", "CLIENT"), store);
    session.on_connect(T0_NS).unwrap();
    let btc = Instrument::builder(InstrumentId(0), "BTC-USD")
        .tick_size(Decimal::from_str("0.01").unwrap())
        .lot_size(Decimal::from_str("0.001").unwrap())
        .build()
        .unwrap();
    let dict = Dictionary::new(vec![btc.clone()], vec![(VenueId(1), "SIM".into())]);
    let mut inbuf = InBuffer::new(8192);
    let mut decoder = Decoder::default();
    let mut body = Body::with_capacity(1024);

    let stamp = ts(T0_NS);
    let logon = frame_of(&format!(
        "35=A\x0149=CLIENT\x0156=KEEL\x0134=1\x0152={stamp}\x0198=0\x01108=30\x01"
    ));
    inbuf.push(&logon);
    let Some(Next::Frame(f)) = inbuf.next_frame() else { panic!() };
    assert_eq!(session.on_message(T0_NS, &decoder.decode(f).unwrap()), Received::LogonRequest);
    session.accept_logon(T0_NS).unwrap();
    let n = session.outbound().len();
    session.consume_outbound(n);

    const N: u64 = 2_000;
    let orders: Vec<Vec<u8>> = (2..N + 2)
        .map(|seq| {
            frame_of(&format!(
                "35=D\x0149=CLIENT\x0156=KEEL\x0134={seq}\x0152={stamp}\x0111=ORD{seq}\x0121=1\x0155=BTC-USD\x0154=1\x0160={stamp}\x0138=0.005\x0140=2\x0144=27123.45\x0159=1\x01"
            ))
        })
        .collect();
    let mut report = ExecReport {
        session: SessionId(8),
        account: AccountId(0),
        order_id: OrderId(1),
        cl_ord_id: ClOrdId::from_u64(1),
        orig_cl_ord_id: None,
        instrument: InstrumentId(0),
        side: Side::Buy,
        ord_type: OrdType::Limit,
        exec_type: ExecType::Trade,
        ord_status: OrdStatus::PartiallyFilled,
        price: Price(2_712_345),
        qty: Qty(5),
        last_px: Price(2_712_344),
        last_qty: Qty(2),
        leaves_qty: Qty(3),
        cum_qty: Qty(2),
        cum_notional: 2 * 2_712_344,
        reject: None,
    };

    let mut published = 0u64;
    let mut run =
        |i: usize, inbuf: &mut InBuffer, session: &mut Session<JournalStore>, body: &mut Body| {
            let now = T0_NS + i as u64 * 1_000;
            inbuf.push(&orders[i]);
            while let Some(Next::Frame(f)) = inbuf.next_frame() {
                let msg = decoder.decode(f).unwrap();
                assert_eq!(session.on_message(now, &msg), Received::App);
                match decide(&msg, &dict, Sender { account: AccountId(0) }) {
                    Decision::Publish(CommandBody::NewOrder(o)) => {
                        published += 1;
                        report.cl_ord_id = o.cl_ord_id;
                    }
                    other => panic!("{other:?}"),
                }
            }
            reports::execution_report(
                body,
                &report,
                1_000 + i as u64,
                now,
                Some(&btc),
                Precision::Millis,
            );
            session.send_app(now, b"8", body.as_bytes()).unwrap();
            let n = session.outbound().len();
            session.consume_outbound(n);
        };
    for i in 0..200 {
        run(i, &mut inbuf, &mut session, &mut body);
    }
    counting_alloc::watch(true);
    let before = counting_alloc::allocations();
    for i in 200..N as usize {
        run(i, &mut inbuf, &mut session, &mut body);
    }
    let allocated = counting_alloc::allocations() - before;
    counting_alloc::watch(false);
    assert_eq!(published, N);
    assert_eq!(allocated, 0, "the FIX hot path allocated {allocated} times");
}
