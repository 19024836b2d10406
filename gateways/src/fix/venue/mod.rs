//! The simulated venue's FIX acceptor: [`SimVenue`] (price-time matching and a seeded
//! synthetic order flow) behind a FIX 4.4 order-entry and market-data session, so that
//! `keel venue` runs it as its own process and `keel serve` trades with it over a real
//! socket, through the same initiator it would use for a real venue.
//!
//! # The session
//! One counterparty (Keel's CompID), authenticated by Username (553) / Password (554)
//! when configured. The venue listens on a TCP address and polls a non-blocking socket
//! from [`VenueServer::poll`]; a second connection replaces the first (the old one is
//! closed: a half-open connection of a restarted client must not lock it out). Sequence
//! numbers and sent messages live in memory or in a store directory
//! ([`store::VenueStore`]). Execution reports produced while the client is away are
//! numbered and kept, and resent when it logs on again and asks; market data is only
//! numbered (gap-filled on a resend).
//!
//! # Order entry (dialect: [`crate::fix::initiator::dialect`])
//! - NewOrderSingle (D) → ExecutionReport New (or Rejected), then Trade reports for what
//!   matched at once; an IOC/FOK remainder is reported Canceled. A ClOrdID already used is
//!   refused (OrdRejReason 6) unless the message is a PossDup resend, which is ignored as
//!   already processed. A PossDup D, F or G sent before this venue process started is
//!   ignored (logged) as stale: the venue that received it is gone with its book, and
//!   executing an order of a previous session would surprise everyone; the client's
//!   status request finds such an order unknown.
//! - OrderCancelRequest (F) and OrderCancelReplaceRequest (G) find the order by OrderID
//!   (37) or by any ClOrdID it has had (OrigClOrdID 41) → Canceled / Replaced, or an
//!   OrderCancelReject (9) with CxlRejReason 1 (unknown order) or 0 (too late).
//! - OrderStatusRequest (H) → ExecutionReport ExecType I with the order's status, CumQty,
//!   LeavesQty, AvgPx; an unknown order gets OrdStatus 8 with OrdRejReason 5.
//! - OrderMassStatusRequest (AF; type 7 all orders, 1 one symbol) → one ExecType I report
//!   per working order with TotNumReports (911) and LastRptRequested (912) on the last;
//!   with no working order, a single report with OrderID `NONE`, OrdStatus 8,
//!   TotNumReports 0.
//! - Fills of resting orders caused by the synthetic flow are reported as they happen.
//!
//! # Market data
//! MarketDataRequest (V, SubscriptionRequestType 1: snapshot + updates, or 0: snapshot
//! only; 2 unsubscribes) → one MarketDataSnapshotFullRefresh (W) per symbol with every
//! price level, then MarketDataIncrementalRefresh (X) messages, one per batch of the
//! matching engine, with the levels that changed ([`feed`]) and the trades. An unknown
//! symbol is refused with MarketDataRequestReject (Y, reason 0).
//!
//! # Time and flow
//! The synthetic flow runs at `events_per_sec` (exponential inter-arrival times from a
//! seeded generator, at most a burst of [`FLOW_BURST_MAX`] per poll), whether or not a
//! client is connected. The venue reads the wall clock (it is outside Keel's core).

pub mod feed;
pub mod orders;
pub mod store;

#[cfg(test)]
mod tests;

use super::encode::Body;
use super::inbound::{InBuffer, Next};
use super::initiator::conn::{self, ReadOutcome};
use super::initiator::dialect::{
    self, exec_type as et, md_action, md_entry, ord_status as os, reject_reason, tag as vt,
};
use super::initiator::symbols::{Symbols, price_of, qty_of};
use super::message::{Decoder, Message, Problem};
use super::session::{Credentials, Received, Role, Session, SessionConfig};
use super::spec::{MessageSpec, validate};
use super::tags::{SessionRejectReason as R, msg_type as mt, tag};
use super::time::Precision;
use crate::sim::{FlowConfig, SimInstrument, SimVenue, reason as sim_reason};
use feed::{FeedEvent, L2Feed};
use keel_engine::book::BookCapacity;
use keel_engine::pipeline::{Idle, WaitStrategy, pacer::Pacer as AcceptPacer};
use keel_engine::schema::{
    CancelRejectTo, CommandBody, Liquidity, OrderFlags, OutputBody, VenueCancel, VenueNewOrder,
    VenueReplace,
};
use keel_engine::{
    ClOrdId, Instrument, OrdType, OrderId, Price, Qty, Side, TimeInForce, TimestampNs, VenueId,
};
use orders::{VenueOrder, VenueOrders};
use rust_decimal::Decimal;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use store::VenueStore;
use tracing::{info, warn};

/// Most synthetic events generated per poll (catch-up bound).
pub const FLOW_BURST_MAX: usize = 64;
/// Frames handled per poll.
const FRAMES_PER_POLL: usize = 256;

/// Everything the venue needs.
#[derive(Clone, Debug)]
pub struct VenueServerConfig {
    /// Listen address (port 0 picks a free one: see [`VenueServer::local_addr`]).
    pub listen: SocketAddr,
    /// The venue's id (in the reports it would send in process; informative here).
    pub venue: VenueId,
    /// The venue's CompID.
    pub comp_id: String,
    /// The one client's CompID (Keel's).
    pub client_comp_id: String,
    /// Username and password the client must log on with (`None`: not checked).
    pub credentials: Option<Credentials>,
    /// HeartBtInt bounds accepted, seconds.
    pub heartbeat_s_min: u32,
    /// See `heartbeat_s_min`.
    pub heartbeat_s_max: u32,
    /// The instruments (Symbol, ticks, lots) and their starting mids.
    pub instruments: Vec<(Instrument, Price)>,
    /// Size of each book.
    pub book: BookCapacity,
    /// The synthetic flow.
    pub flow: FlowConfig,
    /// Synthetic events per second, all instruments together (0: no flow).
    pub events_per_sec: u32,
    /// Offset of execution ids (so a restarted venue never repeats one).
    pub exec_id_base: u64,
    /// Timestamp precision written.
    pub precision: Precision,
    /// Largest message accepted, bytes.
    pub max_frame: usize,
    /// A client that lets this many bytes pile up unsent is disconnected.
    pub send_buffer_max: usize,
    /// Finished orders kept for status requests.
    pub finished_orders_max: usize,
    /// Directory of a persistent session store (`None`: in memory; see [`store`]).
    pub store_dir: Option<std::path::PathBuf>,
}

/// Counters, readable from any thread.
#[derive(Debug, Default)]
pub struct VenueStats {
    /// Logons accepted.
    pub logons: AtomicU64,
    /// Orders accepted into the book.
    pub orders: AtomicU64,
    /// Orders refused.
    pub rejects: AtomicU64,
    /// Fills reported to the client.
    pub fills: AtomicU64,
    /// Cancels applied (requested or not).
    pub cancels: AtomicU64,
    /// Replaces applied.
    pub replaces: AtomicU64,
    /// Status answers sent.
    pub status_reports: AtomicU64,
    /// Market-data messages sent.
    pub md_messages: AtomicU64,
    /// Synthetic flow events.
    pub flow_events: AtomicU64,
}

/// Why the venue could not start.
#[derive(Debug, thiserror::Error)]
pub enum VenueError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The session store could not be opened.
    #[error("venue session store: {0}")]
    Store(#[from] crate::fix::store::StoreError),
}

/// The request a batch of the matching engine answers.
#[derive(Clone, Copy, Debug)]
enum Request {
    None,
    New,
    Cancel { id: OrderId, cl: ClOrdId, orig: ClOrdId },
    Replace { id: OrderId, cl: ClOrdId, orig: ClOrdId },
}

/// What an ExecutionReport says beyond the order itself.
#[derive(Clone, Copy, Debug)]
struct Report<'a> {
    exec_type: u8,
    cl: ClOrdId,
    orig: Option<ClOrdId>,
    last: Option<(Price, Qty, Liquidity)>,
    exec_id: Option<u64>,
    rej: Option<(u32, &'a str)>,
    status_req_id: Option<&'a [u8]>,
    mass: Option<(&'a [u8], u64, bool)>,
}

impl<'a> Report<'a> {
    fn of(exec_type: u8, cl: ClOrdId) -> Report<'a> {
        Report {
            exec_type,
            cl,
            orig: None,
            last: None,
            exec_id: None,
            rej: None,
            status_req_id: None,
            mass: None,
        }
    }
}

struct Client {
    stream: TcpStream,
    peer: SocketAddr,
}

/// SplitMix64 for the flow's arrival times (its own seed: the matching engine's
/// generator decides what the events are).
#[derive(Clone, Debug)]
struct Pacer(u64);

impl Pacer {
    fn next_gap_ns(&mut self, rate_per_sec: u32) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let u = ((z >> 11) + 1) as f64 / (1u64 << 53) as f64;
        ((-u.ln()) * 1e9 / rate_per_sec.max(1) as f64) as u64
    }
}

/// Wall-clock UTC nanoseconds.
pub fn utc_now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// The simulated venue behind its FIX acceptor (see the module docs).
pub struct VenueServer {
    config: VenueServerConfig,
    listener: TcpListener,
    /// When the listener is asked for a connection (not on every poll: `pipeline::pacer`).
    accepting: AcceptPacer,
    local: SocketAddr,
    client: Option<Client>,
    session: Session<VenueStore>,
    sim: SimVenue,
    feed: L2Feed,
    orders: VenueOrders,
    symbols: Symbols,
    subscribed: Vec<bool>,
    md_req_id: Vec<u8>,
    inbuf: InBuffer,
    frame: Vec<u8>,
    decoder: Option<Decoder>,
    body: Body,
    scratch: Vec<CommandBody>,
    events: Vec<FeedEvent>,
    next_flow_ns: u64,
    pacer: Pacer,
    started_ns: u64,
    next_status_exec: u64,
    stats: Arc<VenueStats>,
}

impl VenueServer {
    /// Binds the listen address and seeds the books.
    pub fn bind(config: VenueServerConfig) -> Result<VenueServer, VenueError> {
        let listener = TcpListener::bind(config.listen)
            .map_err(|source| VenueError::Bind { addr: config.listen, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| VenueError::Bind { addr: config.listen, source })?;
        let local = listener.local_addr().unwrap_or(config.listen);
        let sims: Vec<SimInstrument> = config
            .instruments
            .iter()
            .map(|(i, mid)| SimInstrument { id: i.id, mid: *mid })
            .collect();
        let mut sim = SimVenue::new(
            config.venue,
            &sims,
            config.book,
            config.flow.clone(),
            config.exec_id_base,
        );
        let ids: Vec<_> = sims.iter().map(|s| s.id).collect();
        let mut feed = L2Feed::new(&ids);
        let now = utc_now_ns();
        let mut seeded = Vec::new();
        sim.snapshot(TimestampNs(now), &mut seeded);
        for c in &seeded {
            feed.apply(c);
        }
        let mut events = Vec::new();
        feed.drain(&mut events);
        let mut sc = SessionConfig::new(Role::Acceptor, &config.comp_id, &config.client_comp_id);
        sc.heartbeat_s_min = config.heartbeat_s_min;
        sc.heartbeat_s_max = config.heartbeat_s_max;
        sc.precision = config.precision;
        let symbols = Symbols::new(config.instruments.iter().map(|(i, _)| i.clone()).collect());
        let store = match &config.store_dir {
            None => VenueStore::default(),
            Some(dir) => VenueStore::Journal(Box::new(crate::fix::store::JournalStore::open(
                dir,
                &crate::fix::store::StoreConfig::default(),
            )?)),
        };
        Ok(VenueServer {
            listener,
            accepting: AcceptPacer::accept(),
            local,
            client: None,
            session: Session::new(sc, store),
            sim,
            feed,
            orders: VenueOrders::new(config.finished_orders_max),
            subscribed: vec![false; config.instruments.len()],
            md_req_id: Vec::new(),
            symbols,
            inbuf: InBuffer::new(config.max_frame),
            frame: Vec::with_capacity(config.max_frame.min(64 * 1024)),
            decoder: Some(Decoder::default()),
            body: Body::with_capacity(1024),
            scratch: Vec::with_capacity(1024),
            events,
            next_flow_ns: now,
            pacer: Pacer(config.flow.seed ^ 0x5eed_f10e),
            started_ns: now,
            next_status_exec: 1,
            stats: Arc::new(VenueStats::default()),
            config,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The counters (shared).
    pub fn stats(&self) -> Arc<VenueStats> {
        Arc::clone(&self.stats)
    }

    /// True while a client is logged on.
    pub fn client_logged_on(&self) -> bool {
        self.client.is_some() && self.session.is_logged_on()
    }

    /// Runs [`VenueServer::poll`] until `stop` is set or `deadline` passes, waiting per
    /// the pipeline's laptop strategy when idle (spin, yield, then 50 µs naps); then logs
    /// the client out (bounded wait).
    pub fn run(&mut self, stop: &AtomicBool, deadline: Option<Instant>) {
        let mut idle = Idle::new(WaitStrategy::LAPTOP);
        while !stop.load(Ordering::Acquire) && deadline.is_none_or(|d| Instant::now() < d) {
            if self.poll(utc_now_ns()) > 0 {
                idle.reset();
            } else {
                idle.wait();
            }
        }
        self.shutdown();
    }

    /// Logs the client out and waits (up to the logout timeout) for the answer.
    pub fn shutdown(&mut self) {
        if self.client_logged_on() {
            let _ = self.session.logout(utc_now_ns(), Some("venue shutting down"));
            let deadline =
                Instant::now() + Duration::from_nanos(self.session.config().logout_timeout_ns);
            while self.client.is_some() && Instant::now() < deadline {
                if self.poll_client(utc_now_ns()) == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        self.close_client("venue stopped");
    }

    /// One round: accept, read and answer the client, generate flow, write. Returns how
    /// much was done (0 when idle).
    pub fn poll(&mut self, now_ns: u64) -> usize {
        let mut work = if self.accepting.due(now_ns) { self.accept(now_ns) } else { 0 };
        work += self.poll_client(now_ns);
        work += self.flow(now_ns);
        self.write_out();
        work
    }

    fn accept(&mut self, now_ns: u64) -> usize {
        match self.listener.accept() {
            Ok((stream, peer)) => {
                if self.client.is_some() {
                    self.close_client("replaced by a new connection");
                }
                let _ = stream.set_nonblocking(true);
                let _ = stream.set_nodelay(true);
                info!(%peer, "venue: connection accepted");
                self.client = Some(Client { stream, peer });
                self.inbuf.clear();
                let _ = self.session.on_connect(now_ns);
                1
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            Err(e) => {
                warn!("venue: accept failed: {e}");
                0
            }
        }
    }

    fn close_client(&mut self, why: &str) {
        if let Some(mut c) = self.client.take() {
            conn::flush_before_close(
                &mut c.stream,
                &mut self.session,
                Instant::now() + Duration::from_millis(100),
            );
            info!(peer = %c.peer, "venue: connection closed: {why}");
        }
        self.session.on_disconnect();
        self.subscribed.iter_mut().for_each(|s| *s = false);
    }

    fn write_out(&mut self) {
        let Some(c) = self.client.as_mut() else { return };
        if let Err(e) = conn::write_from(&mut c.stream, &mut self.session) {
            self.close_client(&format!("write: {e}"));
            return;
        }
        if self.session.outbound().len() > self.config.send_buffer_max {
            let n = self.session.outbound().len();
            self.close_client(&format!("slow consumer: {n} bytes unsent"));
        }
    }

    fn poll_client(&mut self, now_ns: u64) -> usize {
        if self.client.is_none() {
            return 0;
        }
        let mut work = 0;
        let mut frames = 0;
        while frames < FRAMES_PER_POLL {
            let framed = match self.inbuf.next_frame() {
                Some(Next::Frame(f)) => {
                    self.frame.clear();
                    self.frame.extend_from_slice(f);
                    true
                }
                Some(Next::Garbled { bytes, why }) => {
                    warn!(bytes, "venue: garbled bytes dropped: {why}");
                    continue;
                }
                None => false,
            };
            if framed {
                frames += 1;
                work += 1;
                let frame = std::mem::take(&mut self.frame);
                if let Some(mut decoder) = self.decoder.take() {
                    self.on_frame(&mut decoder, &frame, now_ns);
                    self.decoder = Some(decoder);
                }
                self.frame = frame;
                self.write_out();
                if self.client.is_none() {
                    return work;
                }
                continue;
            }
            let Some(c) = self.client.as_mut() else { return work };
            match conn::read_into(&mut c.stream, &mut self.inbuf) {
                Ok(ReadOutcome::Data(_)) => work += 1,
                Ok(ReadOutcome::Idle) => break,
                Ok(ReadOutcome::Closed) => {
                    self.close_client("the client closed the connection");
                    return work + 1;
                }
                Err(e) => {
                    self.close_client(&format!("read: {e}"));
                    return work + 1;
                }
            }
        }
        if self.client.is_some() {
            if let Some(reason) = self.session.on_timer(now_ns) {
                self.close_client(&reason.to_string());
                work += 1;
            }
        }
        work
    }

    fn on_frame(&mut self, decoder: &mut Decoder, frame: &[u8], now_ns: u64) {
        let msg = match decoder.decode(frame) {
            Ok(m) => m,
            Err(e) => {
                warn!("venue: undecodable message dropped: {e}");
                return;
            }
        };
        match self.session.on_message(now_ns, &msg) {
            Received::LogonRequest => self.authenticate(&msg, now_ns),
            Received::App => self.on_app(&msg, now_ns),
            Received::Disconnect(reason) => {
                self.write_out();
                self.close_client(&reason.to_string());
            }
            Received::Handled | Received::LoggedOn => {}
        }
    }

    fn authenticate(&mut self, msg: &Message<'_>, now_ns: u64) {
        let ok = match &self.config.credentials {
            None => true,
            Some(c) => {
                msg.get(tag::USERNAME) == Some(c.username.as_bytes())
                    && msg.get(tag::PASSWORD) == Some(c.password.as_bytes())
            }
        };
        if ok {
            match self.session.accept_logon(now_ns) {
                Ok(()) => {
                    self.stats.logons.fetch_add(1, Ordering::Relaxed);
                    info!(client = %self.config.client_comp_id, "venue: client logged on");
                }
                Err(e) => self.close_client(&e.to_string()),
            }
        } else {
            warn!(client = %self.config.client_comp_id, "venue: logon refused: bad credentials");
            let _ = self.session.refuse_logon(now_ns, "bad credentials");
            self.write_out();
            self.close_client("bad credentials");
        }
    }

    // ---- application messages --------------------------------------------------------

    fn checked(&mut self, msg: &Message<'_>, spec: &MessageSpec, now_ns: u64) -> bool {
        match validate(msg, spec) {
            Ok(()) => true,
            Err(p) => {
                self.session_reject(msg, p, now_ns);
                false
            }
        }
    }

    fn session_reject(&mut self, msg: &Message<'_>, p: Problem, now_ns: u64) {
        let seq = msg.field(tag::MSG_SEQ_NUM).and_then(|f| f.u64().ok()).unwrap_or(0);
        warn!(msg_type = %String::from_utf8_lossy(msg.msg_type()), seq, "venue: message refused: {p}");
        if let Err(e) = self.session.send_reject(now_ns, seq, msg.msg_type(), p, &p.to_string()) {
            self.close_client(&e.to_string());
        }
    }

    fn on_app(&mut self, msg: &Message<'_>, now_ns: u64) {
        let poss_dup = msg.get(tag::POSS_DUP_FLAG) == Some(b"Y");
        let orig_ns = msg.field(tag::ORIG_SENDING_TIME).and_then(|f| f.timestamp().ok());
        // A resend of a message sent before this venue existed: its venue is gone.
        let stale = poss_dup && orig_ns.is_some_and(|o| o < self.started_ns);
        if stale && matches!(msg.msg_type(), b"D" | b"F" | b"G") {
            warn!(msg_type = %String::from_utf8_lossy(msg.msg_type()),
                "venue: stale resend ignored (sent before this venue process started)");
            return;
        }
        match msg.msg_type() {
            b"D" => {
                if self.checked(msg, &dialect::NEW_ORDER_SINGLE, now_ns) {
                    self.on_new_order(msg, now_ns, poss_dup);
                }
            }
            b"F" => {
                if self.checked(msg, &dialect::ORDER_CANCEL_REQUEST, now_ns) {
                    self.on_cancel(msg, now_ns, poss_dup);
                }
            }
            b"G" => {
                if self.checked(msg, &dialect::ORDER_CANCEL_REPLACE_REQUEST, now_ns) {
                    self.on_replace(msg, now_ns, poss_dup);
                }
            }
            b"H" => {
                if self.checked(msg, &dialect::ORDER_STATUS_REQUEST, now_ns) {
                    self.on_status(msg, now_ns);
                }
            }
            b"AF" => {
                if self.checked(msg, &dialect::ORDER_MASS_STATUS_REQUEST, now_ns) {
                    self.on_mass_status(msg, now_ns);
                }
            }
            b"V" => {
                if self.checked(msg, &dialect::MARKET_DATA_REQUEST, now_ns) {
                    self.on_md_request(msg, now_ns);
                }
            }
            other => {
                let seq = msg.field(tag::MSG_SEQ_NUM).and_then(|f| f.u64().ok()).unwrap_or(0);
                self.body
                    .clear()
                    .u64(tag::REF_SEQ_NUM, seq)
                    .str(tag::REF_MSG_TYPE, other)
                    .u64(tag::BUSINESS_REJECT_REASON, 3)
                    .str(tag::TEXT, b"Unsupported message type");
                self.send_body(now_ns, mt::BUSINESS_MESSAGE_REJECT);
            }
        }
    }

    fn send_body(&mut self, now_ns: u64, msg_type: &[u8]) {
        if let Err(e) = self.session.send_app(now_ns, msg_type, self.body.as_bytes()) {
            self.close_client(&format!("message store: {e}"));
        }
    }

    /// An ExecutionReport refusing a NewOrderSingle that never became an order.
    fn reject_new(&mut self, msg: &Message<'_>, now_ns: u64, reason: u32, text: &str) {
        self.stats.rejects.fetch_add(1, Ordering::Relaxed);
        let exec = self.next_status_exec;
        self.next_status_exec += 1;
        let b = &mut self.body;
        b.clear()
            .str(tag::ORDER_ID, b"NONE")
            .str(tag::CL_ORD_ID, msg.get(tag::CL_ORD_ID).unwrap_or(b"NONE"));
        write_status_exec_id(b, exec);
        b.char(tag::EXEC_TYPE, et::REJECTED).char(tag::ORD_STATUS, os::REJECTED);
        if let Some(s) = msg.get(tag::SYMBOL) {
            b.str(tag::SYMBOL, s);
        }
        b.str(tag::SIDE, msg.get(tag::SIDE).unwrap_or(b"1"));
        if let Some(q) = msg.get(tag::ORDER_QTY) {
            b.str(tag::ORDER_QTY, q);
        }
        b.u64(tag::LEAVES_QTY, 0)
            .u64(tag::CUM_QTY, 0)
            .u64(tag::AVG_PX, 0)
            .u64(tag::ORD_REJ_REASON, reason as u64)
            .str(tag::TEXT, text.as_bytes())
            .timestamp(tag::TRANSACT_TIME, now_ns, self.config.precision);
        self.send_body(now_ns, mt::EXECUTION_REPORT);
    }

    fn on_new_order(&mut self, msg: &Message<'_>, now_ns: u64, poss_dup: bool) {
        let cl_raw = msg.get(tag::CL_ORD_ID).unwrap_or_default();
        let Ok(cl) = ClOrdId::from_bytes(cl_raw) else {
            return self.session_reject(
                msg,
                Problem::new(R::IncorrectDataFormat, tag::CL_ORD_ID),
                now_ns,
            );
        };
        if self.orders.cl_ord_id_used(&cl) {
            if poss_dup {
                return; // already processed
            }
            return self.reject_new(
                msg,
                now_ns,
                reject_reason::DUPLICATE_ORDER,
                "duplicate ClOrdID",
            );
        }
        let Some(m) = msg.get(tag::SYMBOL).and_then(|s| self.symbol_index(s)) else {
            return self.reject_new(msg, now_ns, reject_reason::UNKNOWN_SYMBOL, "unknown symbol");
        };
        let inst = self.symbols.all()[m].clone();
        let Some(side) =
            msg.field(tag::SIDE).and_then(|f| f.char().ok()).and_then(dialect::side_of)
        else {
            return self.session_reject(msg, Problem::new(R::ValueOutOfRange, tag::SIDE), now_ns);
        };
        let Some(ord_type) =
            msg.field(tag::ORD_TYPE).and_then(|f| f.char().ok()).and_then(dialect::ord_type_of)
        else {
            return self.reject_new(
                msg,
                now_ns,
                reject_reason::UNSUPPORTED,
                "OrdType must be 1 (market) or 2 (limit)",
            );
        };
        let tif = match msg.field(tag::TIME_IN_FORCE).map(|f| f.char()) {
            None => TimeInForce::Day,
            Some(Ok(c)) => match dialect::tif_of(c) {
                Some(t) => t,
                None => {
                    return self.reject_new(
                        msg,
                        now_ns,
                        reject_reason::UNSUPPORTED,
                        "unsupported TimeInForce",
                    );
                }
            },
            Some(Err(p)) => return self.session_reject(msg, p, now_ns),
        };
        let qty = match self.lots(&inst, msg.field(tag::ORDER_QTY).map(|f| f.decimal())) {
            Ok(Some(q)) if q.0 > 0 => q,
            Ok(_) => {
                return self.reject_new(
                    msg,
                    now_ns,
                    reject_reason::OTHER,
                    "OrderQty must be positive",
                );
            }
            Err(text) => return self.reject_new(msg, now_ns, reject_reason::OTHER, text),
        };
        let price = match (ord_type, self.ticks(&inst, msg.field(tag::PRICE).map(|f| f.decimal())))
        {
            (OrdType::Market, _) => Price(0),
            (_, Ok(Some(p))) if p.0 > 0 => p,
            (_, Ok(_)) => {
                return self.reject_new(
                    msg,
                    now_ns,
                    reject_reason::OTHER,
                    "a limit order needs a positive Price",
                );
            }
            (_, Err(text)) => return self.reject_new(msg, now_ns, reject_reason::OTHER, text),
        };
        let display = match self.lots(&inst, msg.field(tag::MAX_FLOOR).map(|f| f.decimal())) {
            Ok(d) => d.unwrap_or(Qty::ZERO),
            Err(text) => return self.reject_new(msg, now_ns, reject_reason::OTHER, text),
        };
        let post_only = msg
            .get(tag::EXEC_INST)
            .is_some_and(|v| v.split(|b| *b == b' ').any(|i| i == dialect::EXEC_INST_POST_ONLY));
        let id = self.orders.allocate();
        self.orders.insert(VenueOrder {
            id,
            cl_ord_id: cl,
            cl_ord_ids: vec![cl],
            instrument: m,
            side,
            ord_type,
            tif,
            price,
            qty,
            cum_qty: Qty::ZERO,
            cum_notional: 0,
            status: os::PENDING_NEW,
        });
        let new = VenueNewOrder {
            venue: self.config.venue,
            order_id: id,
            instrument: inst.id,
            side,
            ord_type,
            tif,
            flags: if post_only { OrderFlags::POST_ONLY } else { OrderFlags::NONE },
            price,
            qty,
            display_qty: display,
            expire_at: TimestampNs(0),
        };
        self.match_keel(&OutputBody::VenueNewOrder(new), now_ns, Request::New);
    }

    fn symbol_index(&self, symbol: &[u8]) -> Option<usize> {
        let inst = self.symbols.by_symbol(symbol)?;
        self.symbols.all().iter().position(|i| i.id == inst.id)
    }

    fn lots(
        &self,
        inst: &Instrument,
        v: Option<Result<Decimal, Problem>>,
    ) -> Result<Option<Qty>, &'static str> {
        match v {
            None => Ok(None),
            Some(Err(_)) => Err("quantity is not a number"),
            Some(Ok(d)) => match qty_of(inst, d) {
                Some(c) if !c.rounded => Ok(Some(c.value)),
                _ => Err("quantity is not a whole number of lots"),
            },
        }
    }

    fn ticks(
        &self,
        inst: &Instrument,
        v: Option<Result<Decimal, Problem>>,
    ) -> Result<Option<Price>, &'static str> {
        match v {
            None => Ok(None),
            Some(Err(_)) => Err("price is not a number"),
            Some(Ok(d)) => match price_of(inst, d) {
                Some(c) if !c.rounded => Ok(Some(c.value)),
                _ => Err("price is not a whole number of ticks"),
            },
        }
    }

    /// The order a cancel, replace or status request names: OrderID (37) first, then the
    /// given ClOrdID.
    fn find(&self, msg: &Message<'_>, cl_tag: u32) -> Option<OrderId> {
        let by_order_id = msg
            .get(tag::ORDER_ID)
            .and_then(|v| crate::fix::value::parse_u64(v).ok())
            .map(OrderId)
            .filter(|id| self.orders.get(*id).is_some());
        by_order_id.or_else(|| {
            msg.get(cl_tag)
                .and_then(|v| ClOrdId::from_bytes(v).ok())
                .and_then(|cl| self.orders.by_cl_ord_id(&cl))
        })
    }

    fn cancel_reject(
        &mut self,
        msg: &Message<'_>,
        now_ns: u64,
        response_to: CancelRejectTo,
        order: Option<OrderId>,
        reason: u32,
        text: &str,
    ) {
        let status = order.and_then(|id| self.orders.get(id)).map_or(os::REJECTED, |o| o.status);
        let b = &mut self.body;
        b.clear();
        match order {
            Some(id) => b.u64(tag::ORDER_ID, id.0),
            None => b.str(tag::ORDER_ID, b"NONE"),
        };
        b.str(tag::CL_ORD_ID, msg.get(tag::CL_ORD_ID).unwrap_or(b"NONE"))
            .str(tag::ORIG_CL_ORD_ID, msg.get(tag::ORIG_CL_ORD_ID).unwrap_or(b"NONE"))
            .char(tag::ORD_STATUS, status)
            .char(
                tag::CXL_REJ_RESPONSE_TO,
                if response_to == CancelRejectTo::Cancel { b'1' } else { b'2' },
            )
            .u64(tag::CXL_REJ_REASON, reason as u64)
            .str(tag::TEXT, text.as_bytes())
            .timestamp(tag::TRANSACT_TIME, now_ns, self.config.precision);
        self.send_body(now_ns, mt::ORDER_CANCEL_REJECT);
    }

    /// Checks the request's new ClOrdID; `Err(())` when the request must not go on
    /// (already answered, or a PossDup already processed).
    fn request_ids(
        &mut self,
        msg: &Message<'_>,
        now_ns: u64,
        poss_dup: bool,
        response_to: CancelRejectTo,
    ) -> Result<(OrderId, ClOrdId, ClOrdId), ()> {
        let Ok(cl) = ClOrdId::from_bytes(msg.get(tag::CL_ORD_ID).unwrap_or_default()) else {
            self.session_reject(msg, Problem::new(R::IncorrectDataFormat, tag::CL_ORD_ID), now_ns);
            return Err(());
        };
        if self.orders.cl_ord_id_used(&cl) {
            if !poss_dup {
                self.cancel_reject(msg, now_ns, response_to, None, 6, "duplicate ClOrdID");
            }
            return Err(());
        }
        let Some(id) = self.find(msg, tag::ORIG_CL_ORD_ID) else {
            self.cancel_reject(
                msg,
                now_ns,
                response_to,
                None,
                reject_reason::CXL_UNKNOWN_ORDER,
                "unknown order",
            );
            return Err(());
        };
        let Some(o) = self.orders.get(id) else { return Err(()) };
        if os::is_terminal(o.status) {
            self.cancel_reject(
                msg,
                now_ns,
                response_to,
                Some(id),
                0,
                "too late: the order is finished",
            );
            return Err(());
        }
        Ok((id, cl, o.cl_ord_id))
    }

    fn on_cancel(&mut self, msg: &Message<'_>, now_ns: u64, poss_dup: bool) {
        let Ok((id, cl, orig)) = self.request_ids(msg, now_ns, poss_dup, CancelRejectTo::Cancel)
        else {
            return;
        };
        let o = self.orders.get(id).expect("found above");
        let cancel = VenueCancel {
            venue: self.config.venue,
            order_id: id,
            instrument: self.symbols.all()[o.instrument].id,
            side: o.side,
            venue_order_id: id.0,
        };
        self.match_keel(&OutputBody::VenueCancel(cancel), now_ns, Request::Cancel { id, cl, orig });
    }

    fn on_replace(&mut self, msg: &Message<'_>, now_ns: u64, poss_dup: bool) {
        let Ok((id, cl, orig)) = self.request_ids(msg, now_ns, poss_dup, CancelRejectTo::Replace)
        else {
            return;
        };
        let o = self.orders.get(id).expect("found above").clone();
        let inst = self.symbols.all()[o.instrument].clone();
        let qty = match self.lots(&inst, msg.field(tag::ORDER_QTY).map(|f| f.decimal())) {
            Ok(Some(q)) if q.0 > 0 => q,
            Ok(_) => {
                return self.cancel_reject(
                    msg,
                    now_ns,
                    CancelRejectTo::Replace,
                    Some(id),
                    99,
                    "OrderQty must be positive",
                );
            }
            Err(t) => {
                return self.cancel_reject(msg, now_ns, CancelRejectTo::Replace, Some(id), 99, t);
            }
        };
        let price = match self.ticks(&inst, msg.field(tag::PRICE).map(|f| f.decimal())) {
            Ok(Some(p)) => p,
            Ok(None) => o.price,
            Err(t) => {
                return self.cancel_reject(msg, now_ns, CancelRejectTo::Replace, Some(id), 99, t);
            }
        };
        let display = match self.lots(&inst, msg.field(tag::MAX_FLOOR).map(|f| f.decimal())) {
            Ok(d) => d.unwrap_or(Qty::ZERO),
            Err(t) => {
                return self.cancel_reject(msg, now_ns, CancelRejectTo::Replace, Some(id), 99, t);
            }
        };
        let replace = VenueReplace {
            venue: self.config.venue,
            order_id: id,
            instrument: inst.id,
            side: o.side,
            venue_order_id: id.0,
            price,
            qty,
            display_qty: display,
        };
        self.match_keel(
            &OutputBody::VenueReplace(replace),
            now_ns,
            Request::Replace { id, cl, orig },
        );
    }

    fn on_status(&mut self, msg: &Message<'_>, now_ns: u64) {
        self.stats.status_reports.fetch_add(1, Ordering::Relaxed);
        let req = msg.get(vt::ORD_STATUS_REQ_ID);
        match self.find(msg, tag::CL_ORD_ID) {
            Some(id) => {
                let o = self.orders.get(id).expect("found").clone();
                let mut r = Report::of(et::ORDER_STATUS, o.cl_ord_id);
                r.status_req_id = req;
                self.exec_report(now_ns, &o, &r);
            }
            None => {
                let exec = self.next_status_exec;
                self.next_status_exec += 1;
                let b = &mut self.body;
                b.clear()
                    .str(tag::ORDER_ID, b"NONE")
                    .str(tag::CL_ORD_ID, msg.get(tag::CL_ORD_ID).unwrap_or(b"NONE"));
                write_status_exec_id(b, exec);
                b.char(tag::EXEC_TYPE, et::ORDER_STATUS)
                    .char(tag::ORD_STATUS, os::REJECTED)
                    .str(tag::SYMBOL, msg.get(tag::SYMBOL).unwrap_or_default())
                    .str(tag::SIDE, msg.get(tag::SIDE).unwrap_or(b"1"))
                    .u64(tag::LEAVES_QTY, 0)
                    .u64(tag::CUM_QTY, 0)
                    .u64(tag::AVG_PX, 0)
                    .u64(tag::ORD_REJ_REASON, reject_reason::UNKNOWN_ORDER as u64)
                    .str(tag::TEXT, b"unknown order");
                if let Some(req) = req {
                    b.str(vt::ORD_STATUS_REQ_ID, req);
                }
                b.timestamp(tag::TRANSACT_TIME, now_ns, self.config.precision);
                self.send_body(now_ns, mt::EXECUTION_REPORT);
            }
        }
    }

    fn on_mass_status(&mut self, msg: &Message<'_>, now_ns: u64) {
        let req = msg.get(vt::MASS_STATUS_REQ_ID).unwrap_or_default().to_vec();
        let kind = msg.get(vt::MASS_STATUS_REQ_TYPE).unwrap_or_default();
        let only = match kind {
            b"7" => None,
            b"1" => match msg.get(tag::SYMBOL).and_then(|s| self.symbol_index(s)) {
                Some(m) => Some(m),
                None => {
                    return self.session_reject(
                        msg,
                        Problem::new(R::RequiredTagMissing, tag::SYMBOL),
                        now_ns,
                    );
                }
            },
            _ => {
                return self.session_reject(
                    msg,
                    Problem::new(R::ValueOutOfRange, vt::MASS_STATUS_REQ_TYPE),
                    now_ns,
                );
            }
        };
        let working: Vec<VenueOrder> = self
            .orders
            .working()
            .into_iter()
            .filter(|o| only.is_none_or(|m| o.instrument == m))
            .cloned()
            .collect();
        let total = working.len() as u64;
        if working.is_empty() {
            let exec = self.next_status_exec;
            self.next_status_exec += 1;
            let b = &mut self.body;
            b.clear().str(tag::ORDER_ID, b"NONE");
            write_status_exec_id(b, exec);
            b.char(tag::EXEC_TYPE, et::ORDER_STATUS)
                .char(tag::ORD_STATUS, os::REJECTED)
                .str(tag::SIDE, b"1")
                .u64(tag::LEAVES_QTY, 0)
                .u64(tag::CUM_QTY, 0)
                .u64(tag::AVG_PX, 0)
                .str(vt::MASS_STATUS_REQ_ID, &req)
                .u64(vt::TOT_NUM_REPORTS, 0)
                .bool(vt::LAST_RPT_REQUESTED, true)
                .timestamp(tag::TRANSACT_TIME, now_ns, self.config.precision);
            return self.send_body(now_ns, mt::EXECUTION_REPORT);
        }
        for (i, o) in working.iter().enumerate() {
            self.stats.status_reports.fetch_add(1, Ordering::Relaxed);
            let mut r = Report::of(et::ORDER_STATUS, o.cl_ord_id);
            r.mass = Some((&req, total, i as u64 + 1 == total));
            self.exec_report(now_ns, o, &r);
        }
    }

    fn on_md_request(&mut self, msg: &Message<'_>, now_ns: u64) {
        let req_id = msg.get(vt::MD_REQ_ID).unwrap_or_default().to_vec();
        let kind = msg.get(vt::SUBSCRIPTION_REQUEST_TYPE).unwrap_or_default();
        let mut wanted = Vec::new();
        for e in msg.group(&dialect::MD_RELATED_SYM) {
            match e.get(tag::SYMBOL).and_then(|s| self.symbol_index(s)) {
                Some(m) => wanted.push(m),
                None => {
                    let b = &mut self.body;
                    b.clear()
                        .str(vt::MD_REQ_ID, &req_id)
                        .char(vt::MD_REQ_REJ_REASON, b'0')
                        .str(tag::TEXT, b"unknown symbol");
                    return self.send_body(now_ns, dialect::msg_type::MARKET_DATA_REQUEST_REJECT);
                }
            }
        }
        match kind {
            b"2" => {
                for m in wanted {
                    self.subscribed[m] = false;
                }
                return;
            }
            b"0" | b"1" => {}
            _ => {
                return self.session_reject(
                    msg,
                    Problem::new(R::ValueOutOfRange, vt::SUBSCRIPTION_REQUEST_TYPE),
                    now_ns,
                );
            }
        }
        for &m in &wanted {
            self.snapshot(m, &req_id, now_ns);
            if kind == b"1" {
                self.subscribed[m] = true;
            }
        }
        if kind == b"1" {
            self.md_req_id = req_id;
        }
    }

    fn snapshot(&mut self, m: usize, req_id: &[u8], now_ns: u64) {
        let inst = self.symbols.all()[m].clone();
        let bids = self.feed.levels(m, Side::Buy);
        let offers = self.feed.levels(m, Side::Sell);
        let b = &mut self.body;
        b.clear().str(vt::MD_REQ_ID, req_id).str(tag::SYMBOL, inst.symbol.as_bytes());
        b.u64(vt::NO_MD_ENTRIES, (bids.len() + offers.len()) as u64);
        for (entry, levels) in [(md_entry::BID, &bids), (md_entry::OFFER, &offers)] {
            for (p, q) in levels.iter() {
                b.char(vt::MD_ENTRY_TYPE, entry)
                    .decimal(vt::MD_ENTRY_PX, &inst.price_to_decimal(*p))
                    .decimal(vt::MD_ENTRY_SIZE, &inst.qty_to_decimal(*q));
            }
        }
        self.stats.md_messages.fetch_add(1, Ordering::Relaxed);
        self.send_body(now_ns, mt::MARKET_DATA_SNAPSHOT_FULL_REFRESH);
    }

    // ---- the matching engine -----------------------------------------------------------

    /// Another participant's market order of `qty` on `side`: it trades through the book,
    /// the client's resting orders included (tests and demos of fills that happen while
    /// the client is away). Returns false when the instrument is not traded here.
    pub fn trade_through(
        &mut self,
        instrument: keel_engine::InstrumentId,
        side: Side,
        qty: Qty,
    ) -> bool {
        if !self.symbols.all().iter().any(|i| i.id == instrument) {
            return false;
        }
        // An id from the client range that the registry never knows: its own reports are
        // dropped, the client's fills are reported.
        let house = self.orders.allocate();
        let order = VenueNewOrder {
            venue: self.config.venue,
            order_id: house,
            instrument,
            side,
            ord_type: OrdType::Market,
            tif: TimeInForce::Ioc,
            flags: OrderFlags::NONE,
            price: Price(0),
            qty,
            display_qty: Qty::ZERO,
            expire_at: TimestampNs(0),
        };
        let now = utc_now_ns();
        self.match_keel(&OutputBody::VenueNewOrder(order), now, Request::None);
        self.write_out();
        true
    }

    fn match_keel(&mut self, body: &OutputBody, now_ns: u64, request: Request) {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        self.sim.on_keel(body, TimestampNs(now_ns), &mut out);
        self.process(&out, now_ns, request);
        self.scratch = out;
    }

    fn flow(&mut self, now_ns: u64) -> usize {
        if self.config.events_per_sec == 0 {
            return 0;
        }
        let mut burst = 0;
        let mut out = std::mem::take(&mut self.scratch);
        while self.next_flow_ns <= now_ns && burst < FLOW_BURST_MAX {
            out.clear();
            self.sim.flow_event(TimestampNs(now_ns), &mut out);
            self.process(&out, now_ns, Request::None);
            self.next_flow_ns += self.pacer.next_gap_ns(self.config.events_per_sec);
            burst += 1;
        }
        self.scratch = out;
        if self.next_flow_ns + 1_000_000_000 < now_ns {
            // Far behind (a stalled machine): do not replay a second of flow at once.
            self.next_flow_ns = now_ns;
        }
        self.stats.flow_events.fetch_add(burst as u64, Ordering::Relaxed);
        burst
    }

    /// Turns one batch of the matching engine's events into reports and market data.
    fn process(&mut self, batch: &[CommandBody], now_ns: u64, request: Request) {
        for c in batch {
            match *c {
                CommandBody::VenueAck(a) => {
                    let Some(o) = self.orders.get_mut(a.order_id) else { continue };
                    if o.status == os::PENDING_NEW {
                        o.status = os::NEW;
                    }
                    let o = o.clone();
                    self.stats.orders.fetch_add(1, Ordering::Relaxed);
                    self.exec_report(now_ns, &o, &Report::of(et::NEW, o.cl_ord_id));
                }
                CommandBody::VenueReject(r) => {
                    let Some(o) = self.orders.get_mut(r.order_id) else { continue };
                    o.status = os::REJECTED;
                    let o = o.clone();
                    self.orders.finished(o.id);
                    self.stats.rejects.fetch_add(1, Ordering::Relaxed);
                    let (code, text) = sim_reject(r.reason);
                    let mut rep = Report::of(et::REJECTED, o.cl_ord_id);
                    rep.rej = Some((code, text));
                    self.exec_report(now_ns, &o, &rep);
                }
                CommandBody::VenueFill(f) => {
                    let Some(o) = self.orders.get_mut(f.order_id) else { continue };
                    o.cum_qty = Qty(o.cum_qty.0 + f.qty.0);
                    o.cum_notional += f.price.0 as i128 * f.qty.0 as i128;
                    o.status = if o.cum_qty >= o.qty { os::FILLED } else { os::PARTIALLY_FILLED };
                    let o = o.clone();
                    if o.status == os::FILLED {
                        self.orders.finished(o.id);
                    }
                    self.stats.fills.fetch_add(1, Ordering::Relaxed);
                    let mut rep = Report::of(et::TRADE, o.cl_ord_id);
                    rep.last = Some((f.price, f.qty, f.liquidity));
                    rep.exec_id = Some(f.exec_id);
                    self.exec_report(now_ns, &o, &rep);
                }
                CommandBody::VenueCancelAck(c) => {
                    let (cl, orig) = match request {
                        Request::Cancel { id, cl, orig } if id == c.order_id && !c.unsolicited => {
                            self.orders.rename(id, cl);
                            (cl, Some(orig))
                        }
                        _ => match self.orders.get(c.order_id) {
                            Some(o) => (o.cl_ord_id, None),
                            None => continue,
                        },
                    };
                    let Some(o) = self.orders.get_mut(c.order_id) else { continue };
                    o.status = os::CANCELED;
                    let o = o.clone();
                    self.orders.finished(o.id);
                    self.stats.cancels.fetch_add(1, Ordering::Relaxed);
                    let mut rep = Report::of(et::CANCELED, cl);
                    rep.orig = orig;
                    self.exec_report(now_ns, &o, &rep);
                }
                CommandBody::VenueReplaceAck(r) => {
                    let Request::Replace { id, cl, orig } = request else { continue };
                    if id != r.order_id {
                        continue;
                    }
                    self.orders.rename(id, cl);
                    let Some(o) = self.orders.get_mut(id) else { continue };
                    o.price = r.price;
                    o.qty = r.qty;
                    if !os::is_terminal(o.status) {
                        o.status = if o.cum_qty.0 > 0 { os::PARTIALLY_FILLED } else { os::NEW };
                    }
                    let o = o.clone();
                    self.stats.replaces.fetch_add(1, Ordering::Relaxed);
                    let mut rep = Report::of(et::REPLACED, cl);
                    rep.orig = Some(orig);
                    self.exec_report(now_ns, &o, &rep);
                }
                CommandBody::VenueCancelReject(r) => {
                    let (cl, orig) = match request {
                        Request::Cancel { cl, orig, .. } | Request::Replace { cl, orig, .. } => {
                            (cl, orig)
                        }
                        _ => continue,
                    };
                    let reason = if r.reason == sim_reason::UNKNOWN_ORDER { 1 } else { 0 };
                    let status = self.orders.get(r.order_id).map_or(os::REJECTED, |o| o.status);
                    let b = &mut self.body;
                    b.clear()
                        .u64(tag::ORDER_ID, r.order_id.0)
                        .str(tag::CL_ORD_ID, cl.as_bytes())
                        .str(tag::ORIG_CL_ORD_ID, orig.as_bytes())
                        .char(tag::ORD_STATUS, status)
                        .char(
                            tag::CXL_REJ_RESPONSE_TO,
                            if r.response_to == CancelRejectTo::Cancel { b'1' } else { b'2' },
                        )
                        .u64(tag::CXL_REJ_REASON, reason)
                        .str(tag::TEXT, sim_reject(r.reason).1.as_bytes())
                        .timestamp(tag::TRANSACT_TIME, now_ns, self.config.precision);
                    self.send_body(now_ns, mt::ORDER_CANCEL_REJECT);
                }
                other => self.feed.apply(&other),
            }
        }
        self.publish_feed(now_ns);
    }

    fn publish_feed(&mut self, now_ns: u64) {
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        self.feed.drain(&mut events);
        let wanted = |m: usize| self.subscribed.get(m).copied().unwrap_or(false);
        let n = events
            .iter()
            .filter(|e| match e {
                FeedEvent::Level { instrument, .. } | FeedEvent::Trade { instrument, .. } => {
                    wanted(*instrument)
                }
            })
            .count();
        if n > 0 && self.client_logged_on() {
            let b = &mut self.body;
            b.clear();
            if !self.md_req_id.is_empty() {
                b.str(vt::MD_REQ_ID, &self.md_req_id);
            }
            b.u64(vt::NO_MD_ENTRIES, n as u64);
            for e in &events {
                match *e {
                    FeedEvent::Level { instrument, side, price, qty, action }
                        if wanted(instrument) =>
                    {
                        let inst = &self.symbols.all()[instrument];
                        let entry = if side == Side::Buy { md_entry::BID } else { md_entry::OFFER };
                        b.char(vt::MD_UPDATE_ACTION, action)
                            .char(vt::MD_ENTRY_TYPE, entry)
                            .str(tag::SYMBOL, inst.symbol.as_bytes())
                            .decimal(vt::MD_ENTRY_PX, &inst.price_to_decimal(price));
                        if action != md_action::DELETE {
                            b.decimal(vt::MD_ENTRY_SIZE, &inst.qty_to_decimal(qty));
                        }
                    }
                    FeedEvent::Trade { instrument, price, qty } if wanted(instrument) => {
                        let inst = &self.symbols.all()[instrument];
                        b.char(vt::MD_UPDATE_ACTION, md_action::NEW)
                            .char(vt::MD_ENTRY_TYPE, md_entry::TRADE)
                            .str(tag::SYMBOL, inst.symbol.as_bytes())
                            .decimal(vt::MD_ENTRY_PX, &inst.price_to_decimal(price))
                            .decimal(vt::MD_ENTRY_SIZE, &inst.qty_to_decimal(qty));
                    }
                    _ => {}
                }
            }
            self.stats.md_messages.fetch_add(1, Ordering::Relaxed);
            self.send_body(now_ns, mt::MARKET_DATA_INCREMENTAL_REFRESH);
        }
        self.events = events;
    }

    fn exec_report(&mut self, now_ns: u64, o: &VenueOrder, r: &Report<'_>) {
        let inst = &self.symbols.all()[o.instrument];
        let exec = match r.exec_id {
            Some(id) => ExecId::Fill(id),
            None => {
                self.next_status_exec += 1;
                ExecId::Other(self.next_status_exec - 1)
            }
        };
        let b = &mut self.body;
        b.clear().u64(tag::ORDER_ID, o.id.0).str(tag::CL_ORD_ID, r.cl.as_bytes());
        if let Some(orig) = &r.orig {
            b.str(tag::ORIG_CL_ORD_ID, orig.as_bytes());
        }
        match exec {
            ExecId::Fill(id) => {
                b.u64(tag::EXEC_ID, id);
            }
            ExecId::Other(n) => write_status_exec_id(b, n),
        }
        b.char(tag::EXEC_TYPE, r.exec_type)
            .char(tag::ORD_STATUS, o.status)
            .str(tag::SYMBOL, inst.symbol.as_bytes())
            .char(tag::SIDE, dialect::side_char(o.side))
            .decimal(tag::ORDER_QTY, &inst.qty_to_decimal(o.qty))
            .char(tag::ORD_TYPE, dialect::ord_type_char(o.ord_type));
        if o.ord_type == OrdType::Limit {
            b.decimal(tag::PRICE, &inst.price_to_decimal(o.price));
        }
        b.char(tag::TIME_IN_FORCE, dialect::tif_char(o.tif));
        if let Some((px, q, liquidity)) = r.last {
            b.decimal(tag::LAST_PX, &inst.price_to_decimal(px))
                .decimal(tag::LAST_QTY, &inst.qty_to_decimal(q))
                .u64(vt::LAST_LIQUIDITY_IND, if liquidity == Liquidity::Maker { 1 } else { 2 });
        }
        b.decimal(tag::LEAVES_QTY, &inst.qty_to_decimal(o.leaves()))
            .decimal(tag::CUM_QTY, &inst.qty_to_decimal(o.cum_qty))
            .decimal(tag::AVG_PX, &avg_px(inst, o));
        if let Some((code, text)) = r.rej {
            b.u64(tag::ORD_REJ_REASON, code as u64).str(tag::TEXT, text.as_bytes());
        }
        if let Some(req) = r.status_req_id {
            b.str(vt::ORD_STATUS_REQ_ID, req);
        }
        if let Some((req, total, last)) = r.mass {
            b.str(vt::MASS_STATUS_REQ_ID, req)
                .u64(vt::TOT_NUM_REPORTS, total)
                .bool(vt::LAST_RPT_REQUESTED, last);
        }
        b.timestamp(tag::TRANSACT_TIME, now_ns, self.config.precision);
        self.send_body(now_ns, mt::EXECUTION_REPORT);
    }
}

enum ExecId {
    Fill(u64),
    Other(u64),
}

/// ExecID of a report that is not a fill: `S<n>` (fills carry the matching engine's
/// numeric execution id).
fn write_status_exec_id(b: &mut Body, n: u64) {
    let mut v = [0u8; 24];
    v[0] = b'S';
    let mut digits = Vec::with_capacity(20);
    crate::fix::value::write_u64(&mut digits, n);
    v[1..1 + digits.len()].copy_from_slice(&digits);
    b.str(tag::EXEC_ID, &v[..1 + digits.len()]);
}

/// AvgPx: cumulative notional over cumulative quantity, as a price (8 decimals at most).
fn avg_px(inst: &Instrument, o: &VenueOrder) -> Decimal {
    if o.cum_qty.0 == 0 {
        return Decimal::ZERO;
    }
    let notional = Decimal::try_from_i128_with_scale(o.cum_notional, 0).unwrap_or(Decimal::MAX);
    (notional * inst.tick_size / Decimal::from(o.cum_qty.0)).round_dp(8).normalize()
}

/// The FIX OrdRejReason and Text of a matching-engine reject reason.
fn sim_reject(reason: u32) -> (u32, &'static str) {
    match reason {
        sim_reason::UNKNOWN_INSTRUMENT => (reject_reason::UNKNOWN_SYMBOL, "unknown symbol"),
        sim_reason::UNKNOWN_ORDER => (reject_reason::UNKNOWN_ORDER, "unknown order"),
        sim_reason::POST_ONLY_WOULD_CROSS => (reject_reason::OTHER, "post-only order would cross"),
        sim_reason::FOK_UNFILLABLE => {
            (reject_reason::OTHER, "fill-or-kill order could not be filled")
        }
        sim_reason::CAPACITY => (reject_reason::OTHER, "book full"),
        _ => (reject_reason::OTHER, "invalid order"),
    }
}
