//! The binary gateway in a real pipeline (core, journal, simulated venue, timer), driven
//! over loopback TCP by the client library: order entry and its answers, rejects with
//! their codes, cancel-on-disconnect, replay after a reconnect, the order list and
//! positions, market data, and every way a session is closed with a reason.

use keel_engine::book::BookCapacity;
use keel_engine::core::Core;
use keel_engine::core::testkit::{self, BTC, SIM, TIMER, VENUE};
use keel_engine::pipeline::{
    CoreStart, Gateway, Pipeline, PipelineConfig, TimerGateway, WaitStrategy,
};
use keel_engine::schema::{ExecType, OrdStatus, OrderFlags, RejectCode};
use keel_engine::{
    AccountId, ClOrdId, InstrumentId, OrdType, Price, Qty, SessionId, Side, TimeInForce, VenueId,
};
use keel_gateways::binary::client::{BinaryClient, ClientConfig, ClientError, NO_REPLAY, Received};
use keel_gateways::binary::msg::market_data::{Subscribe, SubscribeStatus};
use keel_gateways::binary::msg::orders::{CancelOrder, NewOrder, ReplaceOrder};
use keel_gateways::binary::msg::queries::{OrderListRequest, PositionRequest};
use keel_gateways::binary::msg::session::LogoutReason;
use keel_gateways::binary::{
    Authenticator, BinaryConfig, BinaryGateway, BinaryStats, ClientMsg, Grant, ServerMsg,
};
use keel_gateways::sim::{FlowConfig, SimConfig, SimGateway, SimInstrument};
use keel_journal::{Config, Journal};
use keel_replay::log::{JournalRecorder, journal_config};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ALICE: SessionId = SessionId(10);
const BOB: SessionId = SessionId(11);
const WAIT: Duration = Duration::from_secs(30);

struct Users;

impl Authenticator for Users {
    fn authenticate(&self, username: &str, password: &[u8]) -> Option<Grant> {
        let (session, cod) = match (username, password) {
            ("alice", b"a-pass") => (ALICE, true),
            ("bob", b"b-pass") => (BOB, false),
            _ => return None,
        };
        Some(Grant { session, account: AccountId(0), cancel_on_disconnect: cod })
    }
}

struct Server {
    pipeline: Option<Pipeline<JournalRecorder>>,
    addr: SocketAddr,
    stats: Arc<std::sync::Mutex<BinaryStats>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(p) = self.pipeline.take() {
            let exit = p.join().expect("clean stop");
            assert!(exit.journal_error.is_none());
        }
    }
}

fn start(events_per_sec: u32) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let core_config = testkit::config();
    let binary = BinaryGateway::bind(
        BinaryConfig {
            name: "binary".into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            heartbeat_ms: 1000,
            logon_timeout_ms: 2000,
            max_connections: 8,
            send_buffer_bytes: 1 << 20,
            max_subscriptions: 4,
            retain: 10_000,
            sessions: vec![ALICE, BOB],
            instruments: core_config.instruments.clone(),
            venues: core_config.venues.iter().map(|v| (v.id, v.feed)).collect(),
            book: core_config.book,
        },
        Arc::new(Users),
    )
    .unwrap();
    let addr = binary.local_addr();
    let stats = binary.stats_handle();
    let sim = SimGateway::new(SimConfig {
        name: "sim".into(),
        venue: SIM,
        session: VENUE,
        instruments: vec![SimInstrument { id: BTC, mid: Price(10_000) }],
        book: BookCapacity { orders: 1024, levels_per_side: 256 },
        flow: FlowConfig {
            seed: 11,
            add_weight: 60,
            cancel_weight: 30,
            market_weight: 10,
            walk_pct: 10,
            depth_ticks: 6,
            max_qty_lots: 5,
            resting_max: 80,
        },
        events_per_sec,
        latency_us: 20,
        exec_id_base: 0,
        cancel_on_connect: Vec::new(),
    });
    let gateways: Vec<Box<dyn Gateway>> =
        vec![Box::new(sim), Box::new(binary), Box::new(TimerGateway::new(TIMER, 10_000_000))];
    let pipeline = Pipeline::start(
        PipelineConfig {
            inbound_ring: 1024,
            outbound_ring: 256,
            // The default: sockets watched, threads woken by their doorbells.
            wait: WaitStrategy::BLOCK,
            ..PipelineConfig::default()
        },
        gateways,
        move |_| {
            let config = journal_config(Config { segment_size: 4 << 20, ..Config::default() });
            let journal = Journal::open(&path, config).map_err(|e| e.to_string())?;
            let core = Core::new(&core_config).map_err(|e| e.to_string())?;
            Ok(CoreStart::fresh(core, JournalRecorder::new(journal)))
        },
    )
    .expect("pipeline starts");
    Server { pipeline: Some(pipeline), addr, stats, _dir: dir }
}

fn connect(
    addr: SocketAddr,
    user: &str,
    pass: &str,
    last: u64,
) -> Result<BinaryClient, ClientError> {
    let mut c = ClientConfig::new(addr, user, pass);
    c.last_server_seq = last;
    c.timeout = WAIT;
    BinaryClient::connect(&c)
}

fn cl(s: &str) -> ClOrdId {
    s.parse().unwrap()
}

fn limit(id: &str, side: Side, price: i64, qty: i64) -> ClientMsg {
    NewOrder {
        cl_ord_id: cl(id),
        instrument: BTC,
        venue: SIM,
        side,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Gtc,
        flags: OrderFlags::NONE,
        pad: Default::default(),
        price: Price(price),
        stop_price: Price(0),
        trail_ticks: 0,
        qty: Qty(qty),
        display_qty: Qty(0),
        expire_at: 0,
    }
    .into()
}

/// Waits for a report about `id` with this exec type, returning it and what came before.
fn wait_exec(c: &mut BinaryClient, id: &str, exec: ExecType) -> (Received, Vec<Received>) {
    let id = cl(id);
    c.recv_until(WAIT, |m| exec_of(m).is_some_and(|(cl, e)| cl == id && e == exec))
        .unwrap_or_else(|e| panic!("waiting for {exec:?} of {id:?}: {e}"))
}

fn exec_of(m: &ServerMsg) -> Option<(ClOrdId, ExecType)> {
    m.order_state().map(|o| (o.cl_ord_id, o.exec_type))
}

/// Waits until the client sees a top of book with both sides; returns (bid, ask).
fn top(c: &mut BinaryClient) -> (i64, i64) {
    c.send(
        Subscribe { instrument: BTC, venue: VenueId(0), depth: 5, pad: Default::default() }.into(),
    )
    .unwrap();
    let (_, _) = c
        .recv_until(
            WAIT,
            |m| matches!(m, ServerMsg::SubscribeAck(a) if a.status == SubscribeStatus::Subscribed),
        )
        .unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "no two-sided book");
        if let Some(Received { msg: ServerMsg::TopOfBook(t), .. }) = c.recv(WAIT).unwrap() {
            if t.bid_qty.0 > 0 && t.ask_qty.0 > 0 {
                // Done with market data for this helper.
                c.send(
                    Subscribe {
                        instrument: BTC,
                        venue: VenueId(0),
                        depth: 0,
                        pad: Default::default(),
                    }
                    .into(),
                )
                .unwrap();
                return (t.bid_px.0, t.ask_px.0);
            }
        }
    }
}

#[test]
fn orders_are_acked_replaced_cancelled_filled_and_rejected_with_codes() {
    let server = start(2_000);
    let mut c = connect(server.addr, "alice", "a-pass", 0).unwrap();
    assert_eq!(c.logon_ack().session, ALICE);
    assert_eq!(c.instruments().len(), 2);
    assert_eq!(c.instrument("BTC-USD").unwrap().tick_size_mantissa, 1);
    assert_eq!(c.instrument("BTC-USD").unwrap().tick_scale, 2);
    let (bid, ask) = top(&mut c);

    // A passive order: pending-new, then new from the venue.
    let sent = c.send(limit("P1", Side::Buy, bid - 50, 2)).unwrap();
    let (first, _) = wait_exec(&mut c, "P1", ExecType::PendingNew);
    assert_eq!(first.sent_at, Some(sent), "the send time comes back with the first answer");
    assert!(matches!(first.msg, ServerMsg::OrderAck(a) if a.ord_status == OrdStatus::PendingNew));
    wait_exec(&mut c, "P1", ExecType::New);

    // Amend it.
    c.send(
        ReplaceOrder {
            cl_ord_id: cl("P1b"),
            orig_cl_ord_id: cl("P1"),
            price: Price(bid - 60),
            stop_price: Price(0),
            qty: Qty(3),
            display_qty: Qty(0),
        }
        .into(),
    )
    .unwrap();
    wait_exec(&mut c, "P1b", ExecType::PendingReplace);
    let (done, _) = wait_exec(&mut c, "P1b", ExecType::Replaced);
    let ServerMsg::ReplaceAck(r) = done.msg else { panic!("{done:?}") };
    assert_eq!((r.price, r.qty, r.orig_cl_ord_id), (Price(bid - 60), Qty(3), Some(cl("P1"))));

    // Cancel it: pending-cancel, then cancelled (a cancel ack, not unsolicited).
    c.send(CancelOrder { cl_ord_id: cl("X1"), orig_cl_ord_id: cl("P1b") }.into()).unwrap();
    wait_exec(&mut c, "X1", ExecType::PendingCancel);
    let (done, _) = c
        .recv_until(
            WAIT,
            |m| matches!(m, ServerMsg::CancelAck(a) if a.exec_type == ExecType::Canceled),
        )
        .unwrap();
    let ServerMsg::CancelAck(a) = done.msg else { unreachable!() };
    assert_eq!((a.ord_status, a.leaves_qty), (OrdStatus::Canceled, Qty(0)));
    assert_eq!(
        (a.cl_ord_id, a.orig_cl_ord_id),
        (cl("X1"), Some(cl("P1b"))),
        "the request, the order"
    );

    // A marketable IOC buy: fills (and maybe an unsolicited cancel of the remainder).
    let mut ioc = limit("T1", Side::Buy, ask + 20, 1);
    if let ClientMsg::NewOrder(o) = &mut ioc {
        o.tif = TimeInForce::Ioc;
    }
    c.send(ioc).unwrap();
    let (fill, _) =
        c.recv_until(WAIT, |m| matches!(m, ServerMsg::Fill(f) if f.cl_ord_id == cl("T1"))).unwrap();
    let ServerMsg::Fill(f) = fill.msg else { unreachable!() };
    assert!(f.last_qty.0 > 0 && f.last_px.0 <= ask + 20, "{f:?}");

    // Rejects carry the stable code and numbers.
    c.send(limit("Z0", Side::Buy, bid, 0)).unwrap();
    let (rej, _) = wait_exec(&mut c, "Z0", ExecType::Rejected);
    let ServerMsg::OrderReject(r) = rej.msg else { panic!("{rej:?}") };
    assert_eq!(r.reject.code, RejectCode::QtyNotPositive);
    assert_eq!(r.reject.value, 0);
    // A cancel of an unknown order: a cancel reject with its code.
    c.send(CancelOrder { cl_ord_id: cl("X2"), orig_cl_ord_id: cl("nope") }.into()).unwrap();
    let (cr, _) = c.recv_until(WAIT, |m| matches!(m, ServerMsg::CancelReject(_))).unwrap();
    let ServerMsg::CancelReject(cr) = cr.msg else { unreachable!() };
    assert_eq!(cr.reject.code, RejectCode::UnknownOrder);

    // Positions: the IOC's fill.
    c.send(PositionRequest { request_id: 9 }.into()).unwrap();
    let (end, before) =
        c.recv_until(WAIT, |m| matches!(m, ServerMsg::ListEnd(e) if e.request_id == 9)).unwrap();
    let positions: Vec<_> = before
        .iter()
        .filter_map(|m| match m.msg {
            ServerMsg::PositionReport(p) => Some(p),
            _ => None,
        })
        .collect();
    assert!(matches!(end.msg, ServerMsg::ListEnd(e) if e.count == 1));
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].instrument, BTC);
    assert!(positions[0].net_qty > 0 && positions[0].fills > 0);
    c.logout().unwrap();
}

/// Drains everything the server has for the client (until quiet for `quiet`).
fn drain(c: &mut BinaryClient, quiet: Duration) -> Vec<Received> {
    let mut out = Vec::new();
    while let Some(m) = c.recv(quiet).unwrap() {
        out.push(m);
    }
    out
}

#[test]
fn disconnect_cancels_working_orders_and_a_reconnect_replays_the_gap() {
    let server = start(500);
    let mut c = connect(server.addr, "alice", "a-pass", 0).unwrap();
    let (bid, ask) = top(&mut c);
    c.send(limit("W1", Side::Buy, bid - 40, 1)).unwrap();
    c.send(limit("W2", Side::Sell, ask + 40, 1)).unwrap();
    wait_exec(&mut c, "W1", ExecType::New);
    wait_exec(&mut c, "W2", ExecType::New);
    let seen = c.last_server_seq();
    assert!(seen >= 4, "two orders, two acks each: {seen}");
    // Vanish without a logout: alice has cancel-on-disconnect.
    drop(c);

    // Reconnect from two messages back: the replay starts exactly there, contiguously,
    // and carries the cancels caused by the disconnect.
    let mut c = connect(server.addr, "alice", "a-pass", seen - 2).unwrap();
    assert_eq!(c.logon_ack().replay_from, seen - 1);
    let mut got = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "the cancels were not replayed: {got:?}");
        if let Some(m) = c.recv(WAIT).unwrap() {
            got.push(m);
        }
        let cancelled = |id: &str| {
            got.iter().any(|m| {
                matches!(m.msg, ServerMsg::CancelAck(a) if a.exec_type == ExecType::Canceled && a.cl_ord_id == cl(id))
            })
        };
        if cancelled("W1") && cancelled("W2") {
            break;
        }
    }
    let seqs: Vec<u64> = got.iter().filter(|m| m.seq != 0).map(|m| m.seq).collect();
    assert_eq!(seqs[0], seen - 1);
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "contiguous: {seqs:?}");
    // Nothing is working any more.
    c.send(OrderListRequest { request_id: 1 }.into()).unwrap();
    let (end, _) = c.recv_until(WAIT, |m| matches!(m, ServerMsg::ListEnd(_))).unwrap();
    assert!(matches!(end.msg, ServerMsg::ListEnd(e) if e.count == 0), "{end:?}");

    // The client sequence went on across the reconnect.
    assert_eq!(c.logon_ack().next_client_seq, 3);
    c.logout().unwrap();

    // Bob has no cancel-on-disconnect: his order survives him.
    let mut b = connect(server.addr, "bob", "b-pass", NO_REPLAY).unwrap();
    b.send(limit("B1", Side::Buy, bid - 45, 1)).unwrap();
    wait_exec(&mut b, "B1", ExecType::New);
    drop(b);
    let mut b = connect(server.addr, "bob", "b-pass", NO_REPLAY).unwrap();
    b.send(OrderListRequest { request_id: 2 }.into()).unwrap();
    let (end, before) = b.recv_until(WAIT, |m| matches!(m, ServerMsg::ListEnd(_))).unwrap();
    assert!(matches!(end.msg, ServerMsg::ListEnd(e) if e.count == 1));
    assert!(
        before
            .iter()
            .any(|m| matches!(m.msg, ServerMsg::OrderStatus(s) if s.cl_ord_id == cl("B1")))
    );
    let rest = drain(&mut b, Duration::from_millis(50));
    assert!(rest.iter().all(|m| !matches!(m.msg, ServerMsg::CancelAck(_))));
}

#[test]
fn market_data_snapshot_then_updates_in_sequence() {
    let server = start(5_000);
    let mut c = connect(server.addr, "bob", "b-pass", NO_REPLAY).unwrap();
    c.send(
        Subscribe { instrument: BTC, venue: VenueId(0), depth: 3, pad: Default::default() }.into(),
    )
    .unwrap();
    let (ack, _) = c.recv_until(WAIT, |m| matches!(m, ServerMsg::SubscribeAck(_))).unwrap();
    assert!(matches!(ack.msg, ServerMsg::SubscribeAck(a) if a.venue == SIM && a.depth == 3));
    let mut tops = 0;
    let mut depths = 0;
    let mut snapshot_first = None;
    let deadline = Instant::now() + WAIT;
    while tops < 20 || depths < 20 {
        assert!(Instant::now() < deadline, "too few updates: {tops} tops, {depths} depths");
        let Some(m) = c.recv(WAIT).unwrap() else { continue };
        match m.msg {
            ServerMsg::TopOfBook(t) => {
                snapshot_first.get_or_insert(t.snapshot);
                tops += 1;
                if t.bid_qty.0 > 0 && t.ask_qty.0 > 0 {
                    assert!(t.bid_px < t.ask_px, "{t:?}");
                }
            }
            ServerMsg::Depth(d) => {
                depths += 1;
                assert!(d.bid_levels.0 <= 3 && d.ask_levels.0 <= 3);
                let bids = &d.bids[..d.bid_levels.0 as usize];
                assert!(bids.windows(2).all(|w| w[0].price > w[1].price), "{d:?}");
            }
            _ => {}
        }
    }
    assert_eq!(snapshot_first, Some(true), "the first top after subscribing is the snapshot");
    // Unknown instrument: refused with a status, the session goes on.
    c.send(
        Subscribe {
            instrument: InstrumentId(99),
            venue: VenueId(0),
            depth: 3,
            pad: Default::default(),
        }
        .into(),
    )
    .unwrap();
    let (ack, _) = c
        .recv_until(
            WAIT,
            |m| matches!(m, ServerMsg::SubscribeAck(a) if a.instrument == InstrumentId(99)),
        )
        .unwrap();
    assert!(
        matches!(ack.msg, ServerMsg::SubscribeAck(a) if a.status == SubscribeStatus::UnknownInstrument)
    );
}

/// Reads until the server's Logout arrives and the connection closes; returns the Logout.
fn raw_logout(s: &mut TcpStream) -> (LogoutReason, u64) {
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server neither closed nor answered: {e}"),
        }
    }
    let mut at = 0;
    while at + 4 <= all.len() {
        let n = u16::from_le_bytes([all[at], all[at + 1]]) as usize;
        let (_, msg) = keel_gateways::binary::decode_server(&all[at..at + n]).unwrap();
        if let ServerMsg::Logout(l) = msg {
            assert_eq!(at + n, all.len(), "the Logout is the last thing sent");
            return (l.reason, l.detail);
        }
        at += n;
    }
    panic!("closed without a Logout: {all:?}")
}

fn raw_logon(addr: SocketAddr, user: &str, pass: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    let logon = keel_gateways::binary::msg::session::Logon {
        username: keel_gateways::binary::wire::Text::new(user).unwrap(),
        password: keel_gateways::binary::wire::Secret::new(pass.as_bytes()).unwrap(),
        heartbeat_ms: 0,
        pad: Default::default(),
        last_server_seq: NO_REPLAY,
    };
    let mut buf = [0u8; 512];
    let n = ClientMsg::from(logon).encode(0, &mut buf);
    s.write_all(&buf[..n]).unwrap();
    s
}

#[test]
fn every_violation_closes_the_session_with_its_reason() {
    let server = start(200);
    let addr = server.addr;
    // Garbage before a logon: an unknown type.
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&[8, 0, 0x77, 1, 0, 0, 0, 0]).unwrap();
    assert_eq!(raw_logout(&mut s), (LogoutReason::UnknownType, 0x77));
    // A wrong length for a known type.
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&[17, 0, 0x03, 1]).unwrap();
    assert_eq!(raw_logout(&mut s), (LogoutReason::BadLength, 17));
    // An order before logging on.
    let mut s = TcpStream::connect(addr).unwrap();
    let mut buf = [0u8; 512];
    let n = limit("Q", Side::Buy, 100, 1).encode(1, &mut buf);
    s.write_all(&buf[..n]).unwrap();
    assert_eq!(raw_logout(&mut s), (LogoutReason::NotLoggedOn, 0x10));
    // Bad credentials.
    assert!(matches!(
        connect(addr, "alice", "wrong", NO_REPLAY),
        Err(ClientError::LoggedOut { reason: LogoutReason::BadCredentials, .. })
    ));
    // A second connection for a session already connected.
    let first = connect(addr, "alice", "a-pass", NO_REPLAY).unwrap();
    assert!(matches!(
        connect(addr, "alice", "a-pass", NO_REPLAY),
        Err(ClientError::LoggedOut { reason: LogoutReason::AlreadyConnected, detail: 10 })
    ));
    drop(first);
    // A sequence gap in order entry: the detail is the sequence expected.
    let mut s = raw_logon(addr, "bob", "b-pass");
    let n = limit("G", Side::Buy, 100, 1).encode(5, &mut buf);
    s.write_all(&buf[..n]).unwrap();
    assert_eq!(raw_logout(&mut s), (LogoutReason::SequenceGap, 1));
    // An invalid field after logon: side 9 at offset 54 of a NewOrder.
    let mut s = raw_logon(addr, "bob", "b-pass");
    let n = limit("F", Side::Buy, 100, 1).encode(1, &mut buf);
    buf[54] = 9;
    s.write_all(&buf[..n]).unwrap();
    assert_eq!(raw_logout(&mut s), (LogoutReason::FieldOutOfRange, 0x10 << 32 | 54));
    // No logon at all: the logon timeout (2 s here).
    let mut s = TcpStream::connect(addr).unwrap();
    assert_eq!(raw_logout(&mut s).0, LogoutReason::LogonTimeout);
    // The gateway counted each close by its reason.
    let deadline = Instant::now() + WAIT;
    loop {
        let st = *server.stats.lock().unwrap();
        let by = |r: LogoutReason| st.closed_by_reason[r as usize];
        if by(LogoutReason::LogonTimeout) == 1 {
            assert_eq!(by(LogoutReason::UnknownType), 1);
            assert_eq!(by(LogoutReason::BadLength), 1);
            assert_eq!(by(LogoutReason::NotLoggedOn), 1);
            assert_eq!(by(LogoutReason::BadCredentials), 1);
            assert_eq!(by(LogoutReason::AlreadyConnected), 1);
            assert_eq!(by(LogoutReason::SequenceGap), 1);
            assert_eq!(by(LogoutReason::FieldOutOfRange), 1);
            assert_eq!((st.accepted, st.logons), (9, 3), "{st:?}");
            break;
        }
        assert!(Instant::now() < deadline, "stats not published: {st:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn arbitrary_bytes_after_logon_close_the_session_with_a_reason() {
    let server = start(200);
    let mut rng = testkit::SplitMix64(0xb1a5);
    for round in 0..30 {
        let mut s = raw_logon(server.addr, "bob", "b-pass");
        let len = 1 + rng.below(600) as usize;
        let mut junk: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        // Half the rounds start with a plausible header so the body checks are reached.
        if round % 2 == 0 && len >= 4 {
            junk[0] = 112;
            junk[1] = 0;
            junk[2] = 0x10;
            junk[3] = 1;
        }
        s.write_all(&junk).unwrap();
        // Then bytes that no frame accepts (type 0xff; longer than the longest frame, so
        // whatever frame the junk started ends inside them), so every round ends.
        s.write_all(&[0xff; 400]).unwrap();
        let (reason, _) = raw_logout(&mut s);
        assert!(
            matches!(
                reason,
                LogoutReason::UnknownType
                    | LogoutReason::BadLength
                    | LogoutReason::BadVersion
                    | LogoutReason::FieldOutOfRange
                    | LogoutReason::SequenceGap
                    | LogoutReason::NotLoggedOn
                    | LogoutReason::DuplicateLogon
                    | LogoutReason::ClientLogout
            ),
            "round {round}: {reason:?}"
        );
    }
    // The server is still healthy and bob's session still works.
    let mut c = connect(server.addr, "bob", "b-pass", NO_REPLAY).unwrap();
    c.send(OrderListRequest { request_id: 1 }.into()).unwrap();
    c.recv_until(WAIT, |m| matches!(m, ServerMsg::ListEnd(_))).unwrap();
}
