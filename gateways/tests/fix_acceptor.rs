//! The FIX acceptor in a running pipeline with the in-process simulated venue: a client
//! logs on over TCP, places, amends and cancels orders, gets fills, and the rejections of
//! each layer (session, business, gateway, core risk) come back as the dialect says.

use keel_engine::book::BookCapacity;
use keel_engine::core::testkit::{self, SIM, TIMER, VENUE};
use keel_engine::core::{Core, CoreConfig};
use keel_engine::pipeline::{
    CoreStart, Gateway, Pipeline, PipelineConfig, TimerGateway, WaitStrategy,
};
use keel_engine::{AccountId, InstrumentId, Price, SessionId};
use keel_gateways::auth::{ClientDirectory, ClientEntry, PasswordHash, Protocol};
use keel_gateways::fix::acceptor::{AcceptorConfig, Dictionary, FixAcceptor};
use keel_gateways::fix::client::{ClientConfig, ClientError, FixClient, NewOrder, OwnedMessage};
use keel_gateways::fix::session::EndReason;
use keel_gateways::fix::store::StoreConfig;
use keel_gateways::fix::time::Precision;
use keel_gateways::sim::{FlowConfig, SimConfig, SimGateway, SimInstrument};
use keel_journal::{Config, Journal};
use keel_replay::log::{JournalRecorder, journal_config};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

const USER: &str = "CLIENT1";
const PASSWORD: &str = "s3cret";
const FIX_SESSION: SessionId = SessionId(8);
const WAIT: Duration = Duration::from_secs(20);

fn core_config() -> CoreConfig {
    testkit::config()
}

fn sim() -> SimGateway {
    SimGateway::new(SimConfig {
        name: "sim".into(),
        venue: SIM,
        session: VENUE,
        instruments: vec![
            SimInstrument { id: InstrumentId(0), mid: Price(10_000) },
            SimInstrument { id: InstrumentId(1), mid: Price(5_000) },
        ],
        book: BookCapacity { orders: 1024, levels_per_side: 256 },
        flow: FlowConfig {
            seed: 11,
            add_weight: 60,
            cancel_weight: 30,
            market_weight: 0,
            walk_pct: 5,
            depth_ticks: 8,
            max_qty_lots: 5,
            resting_max: 120,
        },
        events_per_sec: 2_000,
        latency_us: 20,
        exec_id_base: 0,
        cancel_on_connect: Vec::new(),
    })
}

fn acceptor(store_dir: &Path, hash: &PasswordHash) -> FixAcceptor {
    let config = core_config();
    let venues = config.venues.iter().map(|v| (v.id, v.name.clone())).collect();
    FixAcceptor::bind(AcceptorConfig {
        name: "fix".into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        comp_id: "KEEL".into(),
        clients: ClientDirectory::new(vec![ClientEntry {
            username: USER.into(),
            password_hash: hash.clone(),
            account: AccountId(0),
            session: FIX_SESSION,
            protocol: Protocol::Fix,
            cancel_on_disconnect: true,
        }]),
        heartbeat_s_min: 1,
        heartbeat_s_max: 300,
        sending_time_tolerance: Duration::from_secs(120),
        logon_timeout: Duration::from_secs(10),
        logout_timeout: Duration::from_secs(5),
        precision: Precision::Millis,
        store_dir: store_dir.to_path_buf(),
        store: StoreConfig { segment_size: 1 << 20, ..StoreConfig::default() },
        dictionary: Dictionary::new(config.instruments.clone(), venues),
        max_connections: 4,
        max_message_bytes: 8192,
        send_buffer_max_bytes: 1 << 20,
    })
    .expect("the acceptor binds")
}

struct Running {
    pipeline: Option<Pipeline<JournalRecorder>>,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(p) = self.pipeline.take() {
            let _ = p.join();
        }
    }
}

fn start(root: &Path, hash: &PasswordHash) -> Running {
    ROOT.with(|r| *r.borrow_mut() = root.to_path_buf());
    let fix = acceptor(&root.join("fix"), hash);
    let addr = fix.local_addr();
    let gateways: Vec<Box<dyn Gateway>> =
        vec![Box::new(sim()), Box::new(TimerGateway::new(TIMER, 10_000_000)), Box::new(fix)];
    let journal_dir = root.join("journal");
    let pipeline = Pipeline::start(
        PipelineConfig {
            inbound_ring: 1024,
            outbound_ring: 256,
            // The default: sockets watched, threads woken by their doorbells.
            wait: WaitStrategy::BLOCK,
            ..PipelineConfig::default()
        },
        gateways,
        move |_clock| {
            let config = journal_config(Config { segment_size: 1 << 20, ..Config::default() });
            let journal = Journal::open(&journal_dir, config).map_err(|e| e.to_string())?;
            let core = Core::new(&core_config()).map_err(|e| e.to_string())?;
            Ok(CoreStart::fresh(core, JournalRecorder::new(journal)))
        },
    )
    .expect("the pipeline starts");
    Running { pipeline: Some(pipeline), addr }
}

/// Every order-entry command and client-facing output in the engine journal (debugging
/// aid printed when a wait fails).
fn dump(root: &Path) -> String {
    use keel_engine::schema::{CommandBody as C, OutputBody as O};
    use keel_replay::log::{Entry, decode};
    let mut text = String::new();
    let Ok(mut reader) = keel_journal::Reader::open_with_schema(
        root.join("journal"),
        keel_engine::schema::SCHEMA_HASH,
    ) else {
        return text;
    };
    while let Ok(Some(rec)) = reader.next() {
        match decode(&rec) {
            Ok(Entry::Input { seq, cmd })
                if !matches!(
                    cmd.body,
                    C::L3Add(_)
                        | C::L3Delete(_)
                        | C::L3Execute(_)
                        | C::L3Modify(_)
                        | C::Trade(_)
                        | C::Timer(_)
                        | C::L2Update(_)
                ) =>
            {
                text.push_str(&format!("{seq} IN {:?} {:?}\n", cmd.session, cmd.body));
            }
            Ok(Entry::Output { seq, out }) if !matches!(out.body, O::Anomaly(_)) => {
                text.push_str(&format!("{seq} OUT {:?}\n", out.body));
            }
            _ => {}
        }
    }
    text
}

fn client_config() -> ClientConfig {
    ClientConfig::new(USER, "KEEL", PASSWORD)
}

/// The next application message, or a failure naming what was awaited.
fn next(c: &mut FixClient, what: &str) -> OwnedMessage {
    c.next_app(WAIT).unwrap().unwrap_or_else(|| panic!("timed out waiting for {what}"))
}

/// The next ExecutionReport for `cl_ord_id` (others are skipped; an OrderCancelReject
/// for it fails the test).
fn report(c: &mut FixClient, cl_ord_id: &str, what: &str) -> OwnedMessage {
    let deadline = Instant::now() + WAIT;
    let mut skipped = Vec::new();
    loop {
        let m = c.next_app(deadline.saturating_duration_since(Instant::now())).unwrap();
        let Some(m) = m else {
            let root = ROOT.with(|r| r.borrow().clone());
            panic!("timed out waiting for {what}; skipped {skipped:?}\njournal:\n{}", dump(&root));
        };
        if m.get(11) == Some(cl_ord_id) {
            assert_eq!(m.msg_type(), "8", "{what}: {m:?}");
            return m;
        }
        skipped.push(m);
    }
}

thread_local! {
    static ROOT: std::cell::RefCell<std::path::PathBuf> = std::cell::RefCell::new(std::path::PathBuf::new());
}

/// The next ExecutionReport for `cl_ord_id` with ExecType `exec_type`.
fn report_of(c: &mut FixClient, cl_ord_id: &str, exec_type: &str) -> OwnedMessage {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "timed out waiting for {cl_ord_id} 150={exec_type}");
        let m = report(c, cl_ord_id, exec_type);
        if m.get(150) == Some(exec_type) {
            return m;
        }
    }
}

fn fields(m: &OwnedMessage, tags: &[u32]) -> Vec<Option<String>> {
    tags.iter().map(|t| m.get(*t).map(str::to_string)).collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn orders_are_acked_amended_cancelled_and_filled_over_fix() {
    let root = tempfile::tempdir().unwrap();
    let hash = PasswordHash::create(PASSWORD);
    let running = start(root.path(), &hash);
    let mut c = FixClient::connect(running.addr, client_config()).expect("logon");

    // A resting buy far below the market: pending new, then new (the venue's ack).
    c.send_new_order(&NewOrder::limit("B1", "BTC-USD", b'1', "0.003", "90.00")).unwrap();
    let r = report(&mut c, "B1", "B1 pending new");
    assert_eq!(
        fields(&r, &[150, 39, 54, 55, 38, 44, 151, 14, 6]),
        [
            s("A"),
            s("A"),
            s("1"),
            s("BTC-USD"),
            s("0.003"),
            s("90.00"),
            s("0.003"),
            s("0.000"),
            s("0")
        ]
    );
    let order_id = r.get(37).unwrap().to_string();
    assert_ne!(order_id, "NONE");
    let r = report(&mut c, "B1", "B1 new");
    assert_eq!(fields(&r, &[150, 39, 37]), [s("0"), s("0"), Some(order_id.clone())]);

    // Amend price and quantity.
    c.send_replace("B2", "B1", "BTC-USD", b'1', "0.005", "91.50").unwrap();
    let r = report(&mut c, "B2", "B2 pending replace");
    assert_eq!(fields(&r, &[150, 39, 41]), [s("E"), s("E"), s("B1")]);
    let r = report(&mut c, "B2", "B2 replaced");
    assert_eq!(
        fields(&r, &[150, 39, 41, 38, 44, 151]),
        [s("5"), s("0"), s("B1"), s("0.005"), s("91.50"), s("0.005")]
    );

    // Cancel.
    c.send_cancel("B3", "B2", "BTC-USD", b'1').unwrap();
    let r = report(&mut c, "B3", "B3 pending cancel");
    assert_eq!(fields(&r, &[150, 39, 41]), [s("6"), s("6"), s("B2")]);
    let r = report_of(&mut c, "B3", "4");
    assert_eq!(
        fields(&r, &[150, 39, 41, 151, 14]),
        [s("4"), s("4"), s("B2"), s("0.000"), s("0.000")]
    );

    // A marketable buy: fills against the venue's resting asks.
    c.send_new_order(&NewOrder {
        tif: Some(b'3'),
        ..NewOrder::limit("T1", "BTC-USD", b'1', "0.002", "101.00")
    })
    .unwrap();
    let mut cum = 0i64;
    let mut notional = 0i64;
    let mut fills = 0;
    loop {
        let r = report(&mut c, "T1", "T1 fills");
        match r.get(150).unwrap() {
            "A" | "0" => continue,
            "F" => {
                fills += 1;
                let last_qty = lots(r.get(32).unwrap());
                let last_px = ticks(r.get(31).unwrap());
                cum += last_qty;
                notional += last_qty * last_px;
                assert_eq!(lots(r.get(14).unwrap()), cum, "CumQty sums the fills");
                assert_eq!(lots(r.get(151).unwrap()), 2 - cum, "LeavesQty is what is left");
                let avg: f64 = r.get(6).unwrap().parse().unwrap();
                let want = notional as f64 / cum as f64 / 100.0;
                assert!((avg - want).abs() < 1e-6, "AvgPx {avg} vs {want}");
                if r.get(39) == Some("2") {
                    break;
                }
                assert_eq!(r.get(39), Some("1"), "partially filled");
            }
            "4" => break, // the IOC remainder, when the book was thin
            other => panic!("unexpected ExecType {other}: {r:?}"),
        }
    }
    assert!(fills > 0, "the venue filled the marketable order");
    c.logout(WAIT).expect("clean logout");
}

fn lots(v: &str) -> i64 {
    let (i, f) = v.split_once('.').unwrap_or((v, ""));
    i.parse::<i64>().unwrap() * 1000 + format!("{f:0<3}").parse::<i64>().unwrap()
}

fn ticks(v: &str) -> i64 {
    let (i, f) = v.split_once('.').unwrap_or((v, ""));
    i.parse::<i64>().unwrap() * 100 + format!("{f:0<2}").parse::<i64>().unwrap()
}

#[test]
fn every_layer_rejects_in_its_own_way() {
    let root = tempfile::tempdir().unwrap();
    let hash = PasswordHash::create(PASSWORD);
    let running = start(root.path(), &hash);

    // Bad password: a Logout saying so, and the connection closes.
    let mut bad = client_config();
    bad.password = "wrong".into();
    match FixClient::connect(running.addr, bad) {
        Err(ClientError::Ended(EndReason::LogonRefused(text))) => {
            assert_eq!(text, "bad credentials")
        }
        other => panic!("{other:?}"),
    }

    let mut c = FixClient::connect(running.addr, client_config()).expect("logon");
    // The core's risk check: the session trades for account 0, not 1.
    let body = b"11=R1\x011=1\x0121=1\x0155=BTC-USD\x0154=1\x0160=20240101-00:00:00.000\x0138=0.001\x0140=2\x0144=90.00\x01";
    c.send_raw(b"D", body).unwrap();
    let r = report(&mut c, "R1", "a risk reject");
    assert_eq!(
        fields(&r, &[150, 39, 103, 58]),
        [s("8"), s("8"), s("15"), s("UNKNOWN_ACCOUNT: account=1")]
    );

    // Off the tick grid: refused by the gateway with the reason.
    c.send_new_order(&NewOrder::limit("R2", "BTC-USD", b'1', "0.001", "90.005")).unwrap();
    let r = report(&mut c, "R2", "an off-grid reject");
    assert_eq!(fields(&r, &[150, 39, 103, 37]), [s("8"), s("8"), s("99"), s("NONE")]);
    assert!(r.get(58).unwrap().contains("not a multiple of the price increment 0.01"), "{r:?}");

    // Unknown symbol.
    c.send_new_order(&NewOrder::limit("R3", "DOGE-USD", b'1', "1", "1")).unwrap();
    let r = report(&mut c, "R3", "an unknown-symbol reject");
    assert_eq!(fields(&r, &[150, 103]), [s("8"), s("1")]);

    // A limit order without a price: BusinessMessageReject, conditionally required.
    c.send_raw(
        b"D",
        b"11=R4\x0121=1\x0155=BTC-USD\x0154=1\x0160=20240101-00:00:00.000\x0138=0.001\x0140=2\x01",
    )
    .unwrap();
    let r = next(&mut c, "a business reject");
    assert_eq!(fields(&r, &[35, 380, 379, 372]), [s("j"), s("5"), s("R4"), s("D")]);

    // A message type the order entry does not take.
    c.send_raw(b"V", b"262=1\x01263=0\x01264=1\x01").unwrap();
    let r = next(&mut c, "an unsupported-type reject");
    assert_eq!(fields(&r, &[35, 380, 372]), [s("j"), s("3"), s("V")]);

    // A malformed value: a session-level Reject naming the tag.
    c.send_raw(b"D", b"11=R5\x0121=1\x0155=BTC-USD\x0154=9\x0160=20240101-00:00:00.000\x0138=0.001\x0140=2\x0144=1\x01")
        .unwrap();
    // Rejects are session-level: they do not reach the inbox; the session carries on.
    c.send_cancel("C1", "NOPE", "BTC-USD", b'1').unwrap();
    let r = next(&mut c, "a cancel reject");
    assert_eq!(fields(&r, &[35, 11, 41, 434, 102]), [s("9"), s("C1"), s("NOPE"), s("1"), s("1")]);
    assert!(r.get(58).unwrap().starts_with("UNKNOWN_ORDER"), "{r:?}");

    // Mass cancel of everything: a report with the number cancelled.
    c.send_new_order(&NewOrder::limit("M1", "BTC-USD", b'1', "0.001", "90.00")).unwrap();
    report_of(&mut c, "M1", "0");
    c.send_new_order(&NewOrder::limit("M2", "ETH-USD", b'2', "0.01", "99.00")).unwrap();
    report_of(&mut c, "M2", "0");
    c.send_mass_cancel("MC1", None).unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline);
        let m = next(&mut c, "the mass cancel report");
        if m.msg_type() == "r" {
            assert_eq!(fields(&m, &[11, 530, 531, 533]), [s("MC1"), s("7"), s("7"), s("2")]);
            break;
        }
    }
    c.logout(WAIT).unwrap();
}

#[test]
fn cancel_on_disconnect_and_the_reports_are_resent_on_reconnect() {
    let root = tempfile::tempdir().unwrap();
    let hash = PasswordHash::create(PASSWORD);
    let running = start(root.path(), &hash);
    let mut c = FixClient::connect(running.addr, client_config()).unwrap();
    c.send_new_order(&NewOrder::limit("K1", "BTC-USD", b'1', "0.001", "90.00")).unwrap();
    report(&mut c, "K1", "K1 pending");
    report(&mut c, "K1", "K1 new");
    // The connection drops without a Logout: the core cancels the order.
    let store = c.into_store();
    let deadline = Instant::now() + WAIT;
    while !dump(root.path()).contains("exec_type: Canceled") {
        assert!(Instant::now() < deadline, "no cancel on disconnect:\n{}", dump(root.path()));
        std::thread::sleep(Duration::from_millis(20));
    }
    // Reconnect without resetting: Keel's Logon answer is numbered past what this client
    // has seen, the client asks for the gap and gets the cancel as a possible duplicate.
    let mut again = client_config();
    again.reset_on_logon = false;
    let deadline = Instant::now() + WAIT;
    let mut c = loop {
        // The old connection may not be reaped yet: "already logged on" until it is.
        match FixClient::connect_with_store(running.addr, again.clone(), store_clone(&store)) {
            Ok(c) => break c,
            Err(e) => {
                assert!(Instant::now() < deadline, "reconnect: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    let r = report_of(&mut c, "K1", "4");
    assert_eq!(fields(&r, &[150, 39, 43]), [s("4"), s("4"), s("Y")]);
    assert!(r.get(122).is_some(), "a resend carries OrigSendingTime");
    c.logout(WAIT).unwrap();
}

/// The client's store as it was at the drop (a new connection attempt may fail and must
/// start from the same numbers each time).
fn store_clone(
    store: &keel_gateways::fix::store::MemoryStore,
) -> keel_gateways::fix::store::MemoryStore {
    store.clone()
}
