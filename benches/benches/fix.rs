//! FIX codec benchmarks: decode and encode of a NewOrderSingle and an ExecutionReport,
//! against floors measured in the same run on the same bytes (a bare copy of the message
//! and a bare `memchr` scan finding its SOH bytes); and, before criterion runs, the FIX
//! order-to-ack round trip over loopback through a live pipeline (acceptor, core,
//! simulated venue) against a bare TCP echo of a same-size message, whose server polls
//! with the pipeline's wait strategy.
//!
//! `cargo bench -p keel-benches --bench fix`
//! (`KEEL_BENCH_FIX_ROUND_TRIPS=0` skips the round trip; default 2000).

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::str::FromStr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use keel_engine::schema::{ExecReport, ExecType, OrdStatus};
use keel_engine::{
    AccountId, ClOrdId, Instrument, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side,
    VenueId,
};
use keel_gateways::fix::acceptor::order_entry::{Decision, Sender, decide};
use keel_gateways::fix::acceptor::{Dictionary, reports};
use keel_gateways::fix::encode::{Body, Header, write_message};
use keel_gateways::fix::frame::{Scan, scan};
use keel_gateways::fix::message::Decoder;
use keel_gateways::fix::tags::tag;
use keel_gateways::fix::time::Precision;
use rust_decimal::Decimal;

const NOW_NS: u64 = 1_767_312_000_123_000_000;

fn btc() -> Instrument {
    Instrument::builder(InstrumentId(0), "BTC-USD")
        .tick_size(Decimal::from_str("0.01").unwrap())
        .lot_size(Decimal::from_str("0.001").unwrap())
        .build()
        .unwrap()
}

fn header<'a>(msg_type: &'a [u8], sender: &'a [u8], target: &'a [u8]) -> Header<'a> {
    Header {
        msg_type,
        sender,
        target,
        seq: 123_456,
        sending_time_ns: NOW_NS,
        orig_sending_time_ns: None,
        precision: Precision::Millis,
    }
}

/// The body of a typical NewOrderSingle.
fn nos_body(body: &mut Body) {
    body.clear()
        .str(tag::CL_ORD_ID, b"ORD-000123456")
        .char(tag::HANDL_INST, b'1')
        .str(tag::SYMBOL, b"BTC-USD")
        .char(tag::SIDE, b'1')
        .timestamp(tag::TRANSACT_TIME, NOW_NS, Precision::Millis)
        .decimal(tag::ORDER_QTY, &Decimal::new(5, 3))
        .char(tag::ORD_TYPE, b'2')
        .decimal(tag::PRICE, &Decimal::new(2_712_345, 2))
        .char(tag::TIME_IN_FORCE, b'1');
}

fn exec_report() -> ExecReport {
    ExecReport {
        session: SessionId(32),
        account: AccountId(0),
        order_id: OrderId(987_654),
        cl_ord_id: ClOrdId::from_bytes(b"ORD-000123456").unwrap(),
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
    }
}

fn frames() -> (Vec<u8>, Vec<u8>) {
    let mut body = Body::default();
    nos_body(&mut body);
    let mut nos = Vec::new();
    write_message(&mut nos, &header(b"D", b"CLIENT1", b"KEEL"), body.as_bytes());
    reports::execution_report(
        &mut body,
        &exec_report(),
        424_242,
        NOW_NS,
        Some(&btc()),
        Precision::Millis,
    );
    let mut er = Vec::new();
    write_message(&mut er, &header(b"8", b"KEEL", b"CLIENT1"), body.as_bytes());
    (nos, er)
}

/// The floor for decoding: find every SOH of the message (memchr, vectorized).
fn soh_count(bytes: &[u8]) -> usize {
    memchr::memchr_iter(0x01, bytes).count()
}

/// Frames and decodes; returns the field count (so nothing is optimized away).
fn decode(decoder: &mut Decoder, frame: &[u8]) -> usize {
    let Scan::Frame(n) = scan(frame, 8192) else { panic!("not a frame") };
    decoder.decode(&frame[..n]).unwrap().len()
}

fn codec_benches(c: &mut Criterion) {
    let (nos, er) = frames();
    let dict = Dictionary::new(vec![btc()], vec![(VenueId(1), "SIM".into())]);
    let inst = btc();
    let report = exec_report();
    for (name, frame) in [("new_order_single", &nos), ("execution_report", &er)] {
        let mut g = c.benchmark_group(format!("fix/{name}"));
        g.throughput(Throughput::Bytes(frame.len() as u64));
        let mut copy = vec![0u8; frame.len()];
        g.bench_function("floor_memcpy", |b| {
            b.iter(|| {
                copy.copy_from_slice(black_box(frame));
                black_box(&copy);
            })
        });
        g.bench_function("floor_soh_scan", |b| b.iter(|| soh_count(black_box(frame))));
        let mut decoder = Decoder::default();
        g.bench_function("decode", |b| b.iter(|| decode(&mut decoder, black_box(frame))));
        if name == "new_order_single" {
            g.bench_function("decode_to_command", |b| {
                b.iter(|| {
                    let Scan::Frame(n) = scan(black_box(frame), 8192) else { panic!() };
                    let msg = decoder.decode(&frame[..n]).unwrap();
                    match decide(&msg, &dict, Sender { account: AccountId(0) }) {
                        Decision::Publish(cmd) => black_box(cmd),
                        other => panic!("{other:?}"),
                    };
                })
            });
        }
        let mut body = Body::with_capacity(512);
        let mut out = Vec::with_capacity(1024);
        g.bench_function("encode", |b| {
            b.iter(|| {
                if name == "new_order_single" {
                    nos_body(&mut body);
                    out.clear();
                    write_message(&mut out, &header(b"D", b"CLIENT1", b"KEEL"), body.as_bytes());
                } else {
                    reports::execution_report(
                        &mut body,
                        black_box(&report),
                        424_242,
                        NOW_NS,
                        Some(&inst),
                        Precision::Millis,
                    );
                    out.clear();
                    write_message(&mut out, &header(b"8", b"KEEL", b"CLIENT1"), body.as_bytes());
                }
                black_box(&out);
            })
        });
        g.finish();
    }
}

// ---- round trip over loopback --------------------------------------------------------

mod round_trip {
    use super::*;
    use keel_engine::book::BookCapacity;
    use keel_engine::core::{Core, CoreConfig, FeedKind, RiskSettings, VenueConfig};
    use keel_engine::orders::OrderTableConfig;
    use keel_engine::pipeline::{
        CoreStart, Gateway, Idle, Pipeline, PipelineConfig, TimerGateway, WaitStrategy,
    };
    use keel_engine::port::CommandJournal;
    use keel_gateways::auth::{ClientDirectory, ClientEntry, PasswordHash, Protocol};
    use keel_gateways::fix::acceptor::{AcceptorConfig, FixAcceptor};
    use keel_gateways::fix::client::{ClientConfig, FixClient, NewOrder};
    use keel_gateways::fix::store::StoreConfig;
    use keel_gateways::sim::{FlowConfig, SimConfig, SimGateway, SimInstrument};

    const SIM: VenueId = VenueId(1);

    /// Commands are not journaled here: the figure is the FIX path, not the disk's.
    struct NoJournal(u64);

    impl CommandJournal for NoJournal {
        type Error = std::convert::Infallible;
        fn append_input(
            &mut self,
            _cmd: &keel_engine::schema::Command,
        ) -> Result<u64, Self::Error> {
            self.0 += 1;
            Ok(self.0)
        }
        fn append_output(
            &mut self,
            _out: &keel_engine::schema::Output,
        ) -> Result<u64, Self::Error> {
            self.0 += 1;
            Ok(self.0)
        }
    }

    fn percentiles(mut v: Vec<u64>) -> (u64, u64, u64) {
        v.sort_unstable();
        let at = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
        (at(0.5), at(0.99), *v.last().unwrap())
    }

    /// How every polling thread waits here: the pipeline's threads and the floor's echo
    /// server alike (a floor with a blocking server would be woken by the kernel, which
    /// costs less than a parked thread's wake-up, and would flatter the ratio's other side).
    const WAIT: WaitStrategy = WaitStrategy::Park { spins: 2000, yields: 100, park_us: 20 };

    /// Round trips of `len`-byte messages through a bare echo server on loopback: the
    /// server polls a non-blocking socket with [`WAIT`], as the acceptor does; the client
    /// is the FIX client's kind (blocking reads), with `TCP_NODELAY` on both sides.
    fn tcp_echo_floor(len: usize, n: usize) -> Vec<u64> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_nodelay(true).unwrap();
            s.set_nonblocking(true).unwrap();
            let mut idle = Idle::new(WAIT);
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match s.read(&mut buf) {
                    Ok(0) => break,
                    Ok(k) => {
                        idle.reset();
                        let mut done = 0;
                        while done < k {
                            match s.write(&buf[done..k]) {
                                Ok(w) => done += w,
                                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => idle.wait(),
                                Err(_) => return,
                            }
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => idle.wait(),
                    Err(_) => break,
                }
            }
        });
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_nodelay(true).unwrap();
        let msg = vec![b'x'; len];
        let mut back = vec![0u8; len];
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            c.write_all(&msg).unwrap();
            c.read_exact(&mut back).unwrap();
            out.push(t.elapsed().as_nanos() as u64);
        }
        drop(c);
        server.join().unwrap();
        out
    }

    pub fn run(n: usize) {
        let inst = btc();
        let core_config = CoreConfig {
            instruments: vec![Instrument { venues: vec![SIM], ..inst.clone() }],
            venues: vec![VenueConfig { id: SIM, name: "SIM".into(), feed: FeedKind::L3 }],
            account_count: 1,
            session_capacity: 64,
            orders: OrderTableConfig::with_orders_max(65_536),
            book: BookCapacity { orders: 4096, levels_per_side: 1024 },
            risk: RiskSettings::default(),
            strategies: Vec::new(),
            strategy_events_per_command: keel_engine::core::DEFAULT_STRATEGY_EVENTS_PER_COMMAND,
        };
        let dir = tempfile::tempdir().unwrap();
        let fix = FixAcceptor::bind(AcceptorConfig {
            name: "fix".into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            comp_id: "KEEL".into(),
            clients: ClientDirectory::new(vec![ClientEntry {
                username: "BENCH".into(),
                password_hash: PasswordHash::create("bench"),
                account: AccountId(0),
                session: SessionId(32),
                protocol: Protocol::Fix,
                cancel_on_disconnect: true,
            }]),
            heartbeat_s_min: 1,
            heartbeat_s_max: 300,
            sending_time_tolerance: Duration::from_secs(120),
            logon_timeout: Duration::from_secs(10),
            logout_timeout: Duration::from_secs(5),
            precision: Precision::Millis,
            store_dir: dir.path().join("fix"),
            store: StoreConfig::default(),
            dictionary: Dictionary::new(core_config.instruments.clone(), vec![(SIM, "SIM".into())]),
            max_connections: 4,
            max_message_bytes: 8192,
            send_buffer_max_bytes: 1 << 20,
        })
        .unwrap();
        let addr = fix.local_addr();
        let sim = SimGateway::new(SimConfig {
            name: "sim".into(),
            venue: SIM,
            session: SessionId(2),
            instruments: vec![SimInstrument { id: InstrumentId(0), mid: Price(5_000_000) }],
            book: BookCapacity { orders: 4096, levels_per_side: 1024 },
            flow: FlowConfig {
                seed: 1,
                add_weight: 50,
                cancel_weight: 50,
                market_weight: 0,
                walk_pct: 0,
                depth_ticks: 10,
                max_qty_lots: 5,
                resting_max: 100,
            },
            events_per_sec: 100,
            latency_us: 0,
            exec_id_base: 0,
            cancel_on_connect: Vec::new(),
        });
        let gateways: Vec<Box<dyn Gateway>> = vec![
            Box::new(sim),
            Box::new(TimerGateway::new(SessionId(3), 100_000_000)),
            Box::new(fix),
        ];
        let config = core_config.clone();
        let pipeline = Pipeline::start(
            PipelineConfig {
                inbound_ring: 4096,
                outbound_ring: 4096,
                wait: WAIT,
                ..PipelineConfig::default()
            },
            gateways,
            move |_clock| {
                let core = Core::new(&config).map_err(|e| e.to_string())?;
                Ok(CoreStart::fresh(core, NoJournal(0)))
            },
        )
        .unwrap();
        let mut client =
            FixClient::connect(addr, ClientConfig::new("BENCH", "KEEL", "bench")).unwrap();
        let mut ack_ns = Vec::with_capacity(n);
        let mut done_ns = Vec::with_capacity(n);
        let mut id = String::new();
        let mut price = String::new();
        let mut len = 0;
        for i in 0..n + 100 {
            id.clear();
            id.push_str(&format!("R{i}"));
            price.clear();
            // Far below the market, IOC: Keel accepts (PendingNew), the venue acks and
            // cancels the remainder; nothing accumulates. Prices vary: identical orders
            // would be duplicates.
            price.push_str(&format!("{}.{:02}", 40_000 + i / 100, i % 100));
            let order = NewOrder {
                tif: Some(b'3'),
                // Named, not routed by best price (which refuses when no venue quotes).
                ex_destination: Some("SIM"),
                ..NewOrder::limit(&id, "BTC-USD", b'1', "0.001", &price)
            };
            let t = Instant::now();
            client.send_new_order(&order).unwrap();
            let mut acked = None;
            let ok = client
                .wait_for(Duration::from_secs(10), |m| {
                    if m.get(tag::CL_ORD_ID) != Some(id.as_bytes()) {
                        return false;
                    }
                    len = m.as_bytes().len();
                    match m.get(tag::EXEC_TYPE) {
                        Some(b"A") => {
                            acked = Some(t.elapsed());
                            false
                        }
                        Some(b"4") | Some(b"8") => true,
                        _ => false,
                    }
                })
                .unwrap();
            assert!(ok, "order {id} was not answered");
            if i >= 100 {
                ack_ns.push(acked.expect("PendingNew before the end").as_nanos() as u64);
                done_ns.push(t.elapsed().as_nanos() as u64);
            }
        }
        client.logout(Duration::from_secs(5)).unwrap();
        drop(pipeline.join());
        let floor = tcp_echo_floor(len.max(1), n);
        let (f50, f99, fmax) = percentiles(floor);
        let (a50, a99, amax) = percentiles(ack_ns);
        let (d50, d99, dmax) = percentiles(done_ns);
        let us = |ns: u64| ns as f64 / 1e3;
        println!(
            "fix round trip over loopback, {n} orders (after 100 warm-up), wait {WAIT:?} (pipeline and echo server):"
        );
        println!(
            "  floor: bare TCP echo of {len} bytes       p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs",
            us(f50),
            us(f99),
            us(fmax)
        );
        println!(
            "  order -> PendingNew (Keel's ack)      p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs  p50 ratio {:.1}x",
            us(a50),
            us(a99),
            us(amax),
            a50 as f64 / f50.max(1) as f64
        );
        println!(
            "  order -> venue ack + IOC cancel       p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs  p50 ratio {:.1}x",
            us(d50),
            us(d99),
            us(dmax),
            d50 as f64 / f50.max(1) as f64
        );
    }
}

fn main() {
    let n: usize = std::env::var("KEEL_BENCH_FIX_ROUND_TRIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    if n > 0 {
        round_trip::run(n);
    }
    let (nos, er) = frames();
    println!(
        "message sizes: NewOrderSingle {} bytes, ExecutionReport {} bytes",
        nos.len(),
        er.len()
    );
    let mut c = Criterion::default().configure_from_args();
    codec_benches(&mut c);
    c.final_summary();
}
