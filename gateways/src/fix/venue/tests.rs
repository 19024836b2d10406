//! The simulated venue's acceptor seen by a plain FIX client (the test client): logon
//! checks, order entry answers and refusals, status and mass status, market data.

use super::*;
use crate::fix::client::{ClientConfig, ClientError, FixClient, NewOrder, OwnedMessage};
use std::sync::Mutex;

const WAIT: Duration = Duration::from_secs(20);

struct Running {
    addr: SocketAddr,
    /// Holding its lock stops the venue: it neither reads nor writes meanwhile.
    server: Arc<Mutex<VenueServer>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start() -> Running {
    let inst = Instrument::builder(keel_engine::InstrumentId(0), "BTC-USD")
        .tick_size("0.01".parse().unwrap())
        .lot_size("0.001".parse().unwrap())
        .build()
        .unwrap();
    let config = VenueServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        venue: VenueId(1),
        comp_id: "SIM".into(),
        client_comp_id: "KEEL".into(),
        credentials: Some(Credentials { username: "KEEL".into(), password: "pw".into() }),
        heartbeat_s_min: 1,
        heartbeat_s_max: 60,
        instruments: vec![(inst, Price(5_000_000))],
        book: BookCapacity { orders: 512, levels_per_side: 128 },
        flow: FlowConfig {
            seed: 3,
            add_weight: 1,
            cancel_weight: 1,
            market_weight: 0,
            walk_pct: 0,
            depth_ticks: 5,
            max_qty_lots: 3,
            resting_max: 20,
        },
        events_per_sec: 0,
        exec_id_base: 0,
        precision: Precision::Millis,
        max_frame: 64 * 1024,
        send_buffer_max: 1 << 20,
        finished_orders_max: 16,
        store_dir: None,
    };
    let server = Arc::new(Mutex::new(VenueServer::bind(config).unwrap()));
    let addr = server.lock().unwrap().local_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = Arc::clone(&stop);
        let server = Arc::clone(&server);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Acquire) {
                if server.lock().unwrap().poll(utc_now_ns()) == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        })
    };
    Running { addr, server, stop, thread: Some(thread) }
}

fn next(c: &mut FixClient, msg_type: &str) -> OwnedMessage {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = c.next_app(left).unwrap().unwrap_or_else(|| panic!("no {msg_type} in time"));
        if m.msg_type() == msg_type {
            return m;
        }
    }
}

#[test]
fn a_non_blocking_client_keeps_a_bounded_backlog_for_a_peer_that_stops_reading() {
    let v = start();
    let mut c = FixClient::connect(v.addr, ClientConfig::new("KEEL", "SIM", "pw")).unwrap();
    c.set_nonblocking(true).unwrap();
    let stalled = v.server.lock().unwrap();
    let order = NewOrder::limit("1", "BTC-USD", b'1', "0.010", "49000.00");
    // Socket buffers and the client's own bound fill with a few hundred thousand orders at
    // most; a client that kept everything would go on past this bound.
    let mut refused = None;
    for _ in 0..1_000_000 {
        if let Err(e) = c.send_new_order(&order) {
            refused = Some(e);
            break;
        }
    }
    drop(stalled);
    match refused {
        Some(ClientError::Backlog(unsent)) => {
            assert!(unsent > crate::fix::client::MAX_UNSENT_BYTES, "{unsent}");
            assert!(unsent < crate::fix::client::MAX_UNSENT_BYTES + 4096, "{unsent}");
        }
        other => panic!("expected a Backlog error, got {other:?}"),
    }
}

#[test]
fn a_bad_password_is_refused() {
    let v = start();
    assert!(FixClient::connect(v.addr, ClientConfig::new("KEEL", "SIM", "nope")).is_err());
    assert!(FixClient::connect(v.addr, ClientConfig::new("OTHER", "SIM", "pw")).is_err());
}

#[test]
fn orders_statuses_and_market_data_are_answered() {
    let v = start();
    let mut c = FixClient::connect(v.addr, ClientConfig::new("KEEL", "SIM", "pw")).unwrap();

    // A resting order: New, with the venue's numeric OrderID.
    c.send_new_order(&NewOrder::limit("1", "BTC-USD", b'1', "0.010", "49000.00")).unwrap();
    let new = next(&mut c, "8");
    assert_eq!((new.get(150), new.get(39), new.get(11)), (Some("0"), Some("0"), Some("1")));
    let order_id = new.get(37).unwrap().to_string();
    assert!(order_id.parse::<u64>().is_ok());
    assert_eq!((new.get(151), new.get(14)), (Some("0.010"), Some("0.000")));

    // Refusals: a ClOrdID used twice, an unknown symbol, a price off the tick grid.
    c.send_new_order(&NewOrder::limit("1", "BTC-USD", b'1', "0.010", "49000.00")).unwrap();
    let dup = next(&mut c, "8");
    assert_eq!((dup.get(150), dup.get(103)), (Some("8"), Some("6")));
    c.send_new_order(&NewOrder::limit("2", "DOGE", b'1', "1", "1")).unwrap();
    assert_eq!(next(&mut c, "8").get(103), Some("1"));
    c.send_new_order(&NewOrder::limit("3", "BTC-USD", b'1', "0.010", "49000.001")).unwrap();
    let off = next(&mut c, "8");
    assert_eq!(
        (off.get(103), off.get(58)),
        (Some("99"), Some("price is not a whole number of ticks"))
    );

    // Status of a known and an unknown order.
    c.send_raw(b"H", b"11=1\x0155=BTC-USD\x0154=1\x01790=S1\x01").unwrap();
    let st = next(&mut c, "8");
    assert_eq!((st.get(150), st.get(39), st.get(790)), (Some("I"), Some("0"), Some("S1")));
    assert_eq!(st.get(37), Some(order_id.as_str()));
    c.send_raw(b"H", b"11=404\x0155=BTC-USD\x0154=1\x01").unwrap();
    let unknown = next(&mut c, "8");
    assert_eq!(
        (unknown.get(150), unknown.get(39), unknown.get(103)),
        (Some("I"), Some("8"), Some("5"))
    );

    // Mass status: the one working order, flagged last.
    c.send_raw(b"AF", b"584=M1\x01585=7\x01").unwrap();
    let mass = next(&mut c, "8");
    assert_eq!((mass.get(584), mass.get(911), mass.get(912)), (Some("M1"), Some("1"), Some("Y")));
    assert_eq!(mass.get(11), Some("1"));

    // Cancel of an unknown order; then the real one, named by OrigClOrdID.
    c.send_cancel("C0", "nope", "BTC-USD", b'1').unwrap();
    let rej = next(&mut c, "9");
    assert_eq!((rej.get(434), rej.get(102)), (Some("1"), Some("1")));
    c.send_cancel("C1", "1", "BTC-USD", b'1').unwrap();
    let canceled = next(&mut c, "8");
    assert_eq!(
        (canceled.get(150), canceled.get(11), canceled.get(41)),
        (Some("4"), Some("C1"), Some("1"))
    );
    c.send_raw(b"AF", b"584=M2\x01585=7\x01").unwrap();
    let none = next(&mut c, "8");
    assert_eq!((none.get(37), none.get(911)), (Some("NONE"), Some("0")));

    // Market data: an unknown symbol is refused, a known one gets its book.
    c.send_raw(b"V", b"262=R1\x01263=1\x01264=0\x01267=1\x01269=0\x01146=1\x0155=DOGE\x01")
        .unwrap();
    assert_eq!(next(&mut c, "Y").get(262), Some("R1"));
    c.send_raw(
        b"V",
        b"262=R2\x01263=1\x01264=0\x01267=2\x01269=0\x01269=1\x01146=1\x0155=BTC-USD\x01",
    )
    .unwrap();
    let w = next(&mut c, "W");
    assert_eq!((w.get(262), w.get(55)), (Some("R2"), Some("BTC-USD")));
    let levels: usize = w.get(268).unwrap().parse().unwrap();
    assert!(levels >= 2, "the seeded book has levels on both sides: {w:?}");
    c.logout(WAIT).unwrap();
}
