//! A core + FIX initiator pipeline against the simulated venue's FIX acceptor, with a
//! scripted client gateway (included with `#[path]` by the initiator tests).
#![allow(dead_code)]

use keel_engine::book::BookCapacity;
use keel_engine::core::{Core, CoreConfig, FeedKind, RiskSettings, VenueConfig};
use keel_engine::orders::OrderTableConfig;
use keel_engine::pipeline::{
    CoreExit, CoreStart, Delivery, Gateway, GatewayIo, Pipeline, PipelineConfig, PublishError,
    Routes, WaitStrategy,
};
use keel_engine::schema::{
    CancelOrder, CommandBody, ExecReport, NewOrder, OrderFlags, OutputBody, ReplaceOrder, Route,
    SCHEMA_HASH, SessionKind, SessionLogon,
};
use keel_engine::{
    AccountId, Instrument, InstrumentId, OrdType, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};
use keel_gateways::fix::initiator::{
    FixVenueGateway, InitiatorConfig, LinkPhase, LinkStatus, RecoveredOrders,
    orders::working_orders_of,
};
use keel_gateways::fix::session::{Credentials, Role, SessionConfig};
use keel_gateways::fix::store::StoreConfig;
use keel_gateways::fix::time::Precision;
use keel_gateways::fix::venue::{VenueServer, VenueServerConfig};
use keel_gateways::sim::FlowConfig;
use keel_journal::{Config, Journal, Reader};
use keel_replay::log::{Entry, JournalRecorder, decode, journal_config};
use rust_decimal::Decimal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const V: VenueId = VenueId(1);
pub const BTC: InstrumentId = InstrumentId(0);
pub const CLIENT: SessionId = SessionId(2);
pub const VENUE_SESSION: SessionId = SessionId(3);

pub fn btc() -> Instrument {
    Instrument::builder(BTC, "BTC-USD")
        .tick_size("0.01".parse::<Decimal>().unwrap())
        .lot_size("0.001".parse::<Decimal>().unwrap())
        .currency("USD")
        .venues(&[V])
        .build()
        .unwrap()
}

pub fn core_config() -> CoreConfig {
    CoreConfig {
        instruments: vec![btc()],
        venues: vec![VenueConfig { id: V, name: "SIM".into(), feed: FeedKind::L2 }],
        account_count: 1,
        session_capacity: 8,
        orders: OrderTableConfig::with_orders_max(1024),
        book: BookCapacity { orders: 1024, levels_per_side: 256 },
        risk: RiskSettings::default(),
        strategies: Vec::new(),
        strategy_events_per_command: keel_engine::core::DEFAULT_STRATEGY_EVENTS_PER_COMMAND,
    }
}

/// Mid 50 000.00; resting synthetic orders within 10 ticks of it.
pub fn venue_config(listen: SocketAddr, events_per_sec: u32) -> VenueServerConfig {
    VenueServerConfig {
        listen,
        venue: V,
        comp_id: "SIM".into(),
        client_comp_id: "KEEL".into(),
        credentials: Some(Credentials { username: "keel".into(), password: "secret".into() }),
        heartbeat_s_min: 1,
        heartbeat_s_max: 60,
        instruments: vec![(btc(), Price(5_000_000))],
        book: BookCapacity { orders: 1024, levels_per_side: 256 },
        flow: FlowConfig {
            seed: 11,
            add_weight: 60,
            cancel_weight: 30,
            market_weight: 10,
            walk_pct: 0,
            depth_ticks: 10,
            max_qty_lots: 5,
            resting_max: 40,
        },
        events_per_sec,
        exec_id_base: 1_000_000,
        precision: Precision::Millis,
        max_frame: 64 * 1024,
        send_buffer_max: 16 << 20,
        finished_orders_max: 1024,
        store_dir: None,
    }
}

/// The venue server on its own thread; the test may lock it between polls.
pub struct VenueThread {
    pub server: Arc<Mutex<VenueServer>>,
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl VenueThread {
    pub fn start(config: VenueServerConfig) -> VenueThread {
        let server = VenueServer::bind(config).expect("venue binds");
        let addr = server.local_addr();
        let server = Arc::new(Mutex::new(server));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (server, stop) = (Arc::clone(&server), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut idle = 0u32;
                while !stop.load(Ordering::Acquire) {
                    let work = server.lock().unwrap().poll(keel_gateways::fix::venue::utc_now_ns());
                    if work == 0 {
                        idle += 1;
                        if idle > 8 {
                            std::thread::sleep(Duration::from_micros(300));
                        }
                    } else {
                        idle = 0;
                    }
                }
            })
        };
        VenueThread { server, addr, stop, thread: Some(thread) }
    }

    /// Stops the loop; `graceful` logs the client out first, else the socket just closes.
    pub fn stop(mut self, graceful: bool) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        if graceful {
            self.server.lock().unwrap().shutdown();
        }
    }
}

/// What the scripted client saw.
#[derive(Default)]
pub struct Seen {
    pub reports: Vec<ExecReport>,
    pub cancel_rejects: usize,
}

/// A client gateway: publishes what the test sends, records execution reports.
pub struct Driver {
    rx: mpsc::Receiver<CommandBody>,
    pending: Option<CommandBody>,
    seen: Arc<Mutex<Seen>>,
}

impl Gateway for Driver {
    fn name(&self) -> &str {
        "driver"
    }
    fn routes(&self) -> Routes {
        Routes { sessions: vec![CLIENT], venues: vec![] }
    }
    fn on_start(&mut self, io: &mut GatewayIo) {
        let logon = SessionLogon {
            kind: SessionKind::FixClient,
            account: AccountId(0),
            cancel_on_disconnect: false,
        };
        io.publish(CLIENT, CommandBody::SessionLogon(logon)).unwrap();
    }
    fn on_output(&mut self, d: &Delivery, _io: &mut GatewayIo) {
        let mut seen = self.seen.lock().unwrap();
        match d.output.body {
            OutputBody::ExecReport(r) => seen.reports.push(r),
            OutputBody::CancelReject(_) => seen.cancel_rejects += 1,
            _ => {}
        }
    }
    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let mut n = 0;
        loop {
            let body = match self.pending.take().or_else(|| self.rx.try_recv().ok()) {
                Some(b) => b,
                None => return n,
            };
            match io.try_publish(CLIENT, body) {
                Ok(_) => n += 1,
                Err(PublishError::Full) => {
                    self.pending = Some(body);
                    return n;
                }
                Err(PublishError::Closed) => return n,
            }
        }
    }
}

/// A running pipeline: core + initiator + driver.
pub struct Keel {
    pub pipeline: Pipeline<JournalRecorder>,
    pub tx: mpsc::Sender<CommandBody>,
    pub seen: Arc<Mutex<Seen>>,
    pub link: Arc<LinkStatus>,
}

pub fn initiator_config(
    dir: &Path,
    venue: SocketAddr,
    recovered: RecoveredOrders,
) -> InitiatorConfig {
    let mut sc = SessionConfig::new(Role::Initiator, "KEEL", "SIM");
    sc.heartbeat_s = 5;
    sc.credentials = Some(Credentials { username: "keel".into(), password: "secret".into() });
    sc.logout_timeout_ns = 2_000_000_000;
    InitiatorConfig {
        name: "venue-fix".into(),
        venue: V,
        session: VENUE_SESSION,
        connect: venue,
        session_config: sc,
        store_dir: dir.join("fix-venue-store"),
        store: StoreConfig { segment_size: 1 << 16, ..StoreConfig::default() },
        instruments: vec![btc()],
        subscribe: true,
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(200),
        connect_timeout: Duration::from_secs(2),
        reconcile_timeout: Duration::from_secs(10),
        orders_max: 1024,
        queue_max: 256,
        max_frame: 64 * 1024,
        recovered,
    }
}

/// Starts Keel on the journal in `dir` (recovering what is there), talking to `venue`.
pub fn start_keel(dir: &Path, venue: SocketAddr) -> Keel {
    let recovered: RecoveredOrders = Arc::new(std::sync::OnceLock::new());
    let initiator = FixVenueGateway::new(initiator_config(dir, venue, Arc::clone(&recovered)))
        .expect("initiator builds");
    let link = initiator.status();
    let (tx, rx) = mpsc::channel();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let driver = Driver { rx, pending: None, seen: Arc::clone(&seen) };
    let gateways: Vec<Box<dyn Gateway>> = vec![Box::new(initiator), Box::new(driver)];
    let journal_dir = dir.join("journal");
    let pipeline = Pipeline::start(
        PipelineConfig {
            inbound_ring: 1024,
            outbound_ring: 256,
            wait: WaitStrategy::Park { spins: 32, yields: 8, park_us: 100 },
            ..PipelineConfig::default()
        },
        gateways,
        move |_clock| {
            let config = journal_config(Config { segment_size: 1 << 20, ..Config::default() });
            let journal = Journal::open(&journal_dir, config).map_err(|e| e.to_string())?;
            // Recovery: replay every input into a fresh core.
            let mut core = Core::new(&core_config()).map_err(|e| e.to_string())?;
            let mut last_seq = 0;
            if let Ok(mut reader) = Reader::open_with_schema(&journal_dir, SCHEMA_HASH) {
                let mut outputs = Vec::new();
                while let Some(rec) = reader.next().map_err(|e| e.to_string())? {
                    last_seq = rec.seq;
                    if let Entry::Input { cmd, .. } = decode(&rec).map_err(|e| e.to_string())? {
                        core.apply(&cmd, &mut outputs);
                        outputs.clear();
                    }
                }
            }
            let _ = recovered.set(working_orders_of(&core, V));
            Ok(CoreStart {
                core,
                journal: JournalRecorder::new(journal),
                last_seq,
                startup: Vec::new(),
            })
        },
    )
    .expect("pipeline starts");
    Keel { pipeline, tx, seen, link }
}

impl Keel {
    pub fn send(&self, body: CommandBody) {
        self.tx.send(body).unwrap();
    }

    pub fn stop(self) -> CoreExit<JournalRecorder> {
        let exit = self.pipeline.join().expect("clean stop");
        assert!(exit.journal_error.is_none(), "{:?}", exit.journal_error);
        exit
    }

    pub fn reports(&self) -> Vec<ExecReport> {
        self.seen.lock().unwrap().reports.clone()
    }

    pub fn wait_trading(&self) {
        wait_until("the venue link trades", Duration::from_secs(30), || {
            self.link.phase() == LinkPhase::Trading
        });
    }
}

pub fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn limit(cl: &str, side: Side, price_ticks: i64, lots: i64, tif: TimeInForce) -> CommandBody {
    CommandBody::NewOrder(NewOrder {
        cl_ord_id: cl.parse().unwrap(),
        account: AccountId(0),
        instrument: BTC,
        route: Route::Venue(V),
        side,
        ord_type: OrdType::Limit,
        tif,
        flags: OrderFlags::NONE,
        price: Price(price_ticks),
        stop_price: Price(0),
        trail_ticks: 0,
        qty: Qty(lots),
        display_qty: Qty::ZERO,
        expire_at: TimestampNs(0),
    })
}

pub fn replace(cl: &str, orig: &str, price_ticks: i64, lots: i64) -> CommandBody {
    CommandBody::ReplaceOrder(ReplaceOrder {
        cl_ord_id: cl.parse().unwrap(),
        orig_cl_ord_id: orig.parse().unwrap(),
        account: AccountId(0),
        price: Price(price_ticks),
        stop_price: Price(0),
        qty: Qty(lots),
        display_qty: Qty::ZERO,
    })
}

pub fn cancel(cl: &str, orig: &str) -> CommandBody {
    CommandBody::CancelOrder(CancelOrder {
        cl_ord_id: cl.parse().unwrap(),
        orig_cl_ord_id: orig.parse().unwrap(),
        account: AccountId(0),
    })
}

/// Every input of the journal at `dir`.
pub fn journal_inputs(dir: &Path) -> Vec<keel_engine::schema::Command> {
    let mut reader = Reader::open_with_schema(dir, SCHEMA_HASH).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = reader.next().unwrap() {
        if let Entry::Input { cmd, .. } = decode(&rec).unwrap() {
            out.push(cmd);
        }
    }
    out
}

/// Every output of the journal at `dir`.
pub fn journal_outputs(dir: &Path) -> Vec<keel_engine::schema::Output> {
    let mut reader = Reader::open_with_schema(dir, SCHEMA_HASH).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = reader.next().unwrap() {
        if let Entry::Output { out: o, .. } = decode(&rec).unwrap() {
            out.push(o);
        }
    }
    out
}

pub fn journal_dir(root: &Path) -> PathBuf {
    root.join("journal")
}
