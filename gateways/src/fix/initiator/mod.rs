//! The FIX initiator towards a venue: a pipeline [`Gateway`] that connects to the venue's
//! FIX acceptor, logs on, subscribes to market data, sends the core's orders, cancels and
//! replaces, and turns the venue's execution reports and market data into commands.
//!
//! # Life of the link
//! ```text
//!  Down ──(backoff elapsed)──► Connecting ──► LoggingOn ──(Logon answered)──► Reconciling
//!   ▲                                                                            │
//!   └──────────── connection lost, logon refused, heartbeat timeout ◄── Trading ◄─┘
//! ```
//! - **Down.** Nothing is connected. A `VenueStatus(Halted)` was published for the venue,
//!   so the core refuses new orders for it (`INSTRUMENT_NOT_TRADABLE`) instead of sending
//!   them; an order output that still reaches the gateway is answered at once with a
//!   `VenueReject` (or a cancel/replace with a `VenueCancelReject`) of reason
//!   [`reason::NOT_CONNECTED`]. The books of the subscribed instruments are emptied (an
//!   empty snapshot), so no strategy acts on stale prices.
//! - **Connecting / LoggingOn.** A non-blocking connect, then the session layer's Logon
//!   (credentials, HeartBtInt; ResetSeqNumFlag only if configured: sequence numbers and
//!   sent messages persist across restarts in the session's [`JournalStore`]). A refused
//!   connect or logon waits per [`Backoff`] (doubling from `reconnect_min` to
//!   `reconnect_max`) and tries again, for ever, logging each failure.
//! - **Reconciling.** Logged on. The session layer recovers any gap (ResendRequest,
//!   resends, gap fills) and the market-data subscription (V) is sent; then every order
//!   Keel has working at the venue is asked about with an OrderStatusRequest (H), and the
//!   answers become venue reports ([`reconcile`]). Orders, cancels and replaces from the
//!   core wait in a bounded queue meanwhile (beyond `queue_max` they are rejected with
//!   [`reason::QUEUE_FULL`]). Once every order is answered (or `reconcile_timeout` has
//!   passed: the unanswered keep Keel's view, logged as an error) the queue is sent and
//!   `VenueStatus(Open)` published.
//! - **Trading.** Outputs become D/F/G ([`requests`]), reports become commands
//!   ([`reports`], [`market_data`]).
//!
//! # Identifiers
//! ClOrdID is Keel's order id (and `id-k` for the k-th cancel or replace); the venue's
//! OrderID and ExecID become numbers ([`ids`]). [`orders::OrderTracker`] keeps what
//! cancels, replaces and reconciliation need, bounded by the core's order capacity.
//!
//! # Threading and back-pressure
//! Everything runs on the gateway thread with a non-blocking std socket ([`conn`]).
//! [`Gateway::on_output`] never blocks: it encodes, stores (the session's store) and
//! tries a non-blocking write; what the socket does not take waits in the session's
//! buffer for [`Gateway::poll`]. Commands are published from `poll` with `try_publish`;
//! while more than [`READY_SOFT_MAX`] wait for the ring, the socket is not read, so TCP
//! pushes back on the venue. At stop the session logs out (bounded by the logout
//! timeout); reports still unpublished when the stop deadline passes are logged as an
//! error with their number (the next start's reconciliation recovers their effect).
//!
//! # Reason codes
//! Venue rejects carry the venue's FIX OrdRejReason / CxlRejReason. Rejects the
//! initiator makes up itself use codes from 90 001 up ([`reason`]).

pub mod backoff;
pub mod conn;
pub mod dialect;
pub mod ids;
pub mod market_data;
pub mod orders;
pub mod reconcile;
pub mod reports;
pub mod requests;
pub mod symbols;

pub use backoff::Backoff;
pub use orders::{OrderTracker, WorkingOrder};
pub use symbols::Symbols;

use crate::fix::encode::Body;
use crate::fix::inbound::{InBuffer, Next};
use crate::fix::message::{Decoder, Message};
use crate::fix::session::{EndReason, Received, Session, SessionConfig, SessionState};
use crate::fix::spec::{MessageSpec, validate};
use crate::fix::store::{JournalStore, MessageStore, StoreConfig, StoreError};
use crate::fix::tags::{msg_type as mt, tag};
use conn::{ConnectPoll, Connecting, ReadOutcome};
use keel_engine::pipeline::{Delivery, Gateway, GatewayIo, PublishError, Routes};
use keel_engine::schema::{
    CancelRejectTo, CommandBody, MarketStatus, OutputBody, SessionKind, SessionLogon, SnapshotMark,
    SnapshotPhase, VenueCancelReject, VenueReject, VenueStatus,
};
use keel_engine::{
    AccountId, Instrument, OrderId, Price, Qty, SessionId, Side, TimestampNs, VenueId,
};
use orders::{Pending, Tracked};
use std::collections::{BTreeSet, VecDeque};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tracing::{error, info, warn};

/// Reason codes of rejects the initiator makes up (venue rejects carry the venue's own).
pub mod reason {
    /// The venue is not connected (or the session not logged on).
    pub const NOT_CONNECTED: u32 = 90_001;
    /// Reconciliation found that a request never took effect at the venue.
    pub const REQUEST_LOST: u32 = 90_002;
    /// The initiator's order table is full.
    pub const TRACKER_FULL: u32 = 90_003;
    /// The queue of requests waiting for reconciliation to finish is full.
    pub const QUEUE_FULL: u32 = 90_004;
    /// The instrument is not one the initiator was configured with.
    pub const UNKNOWN_INSTRUMENT: u32 = 90_005;
    /// The venue refused the message at the session or business level (Reject 35=3 or
    /// BusinessMessageReject 35=j).
    pub const MESSAGE_REJECTED: u32 = 90_006;
    /// The session's message store failed: nothing can be sent.
    pub const STORE_FAILED: u32 = 90_007;
}

/// Commands waiting for the ring above which the socket is not read.
pub const READY_SOFT_MAX: usize = 8192;
/// Frames handled per poll before giving the ring a turn.
const FRAMES_PER_POLL: usize = 256;
/// Sent application messages remembered to attribute session-level Rejects.
const SENT_LOG_MAX: usize = 65_536;

/// The recovered core's working orders at this venue, handed over by `keel serve`'s
/// start-up (filled on the core thread before the gateways start).
pub type RecoveredOrders = Arc<OnceLock<Vec<WorkingOrder>>>;

/// Everything the initiator needs.
#[derive(Clone, Debug)]
pub struct InitiatorConfig {
    /// Gateway name (logs, thread name).
    pub name: String,
    /// The venue's id in Keel's configuration.
    pub venue: VenueId,
    /// The core session the venue's reports and market data arrive on.
    pub session: SessionId,
    /// The venue's FIX acceptor.
    pub connect: SocketAddr,
    /// The FIX session (role initiator; CompIDs, credentials, heartbeat, timeouts).
    pub session_config: SessionConfig,
    /// Directory of the session's message store.
    pub store_dir: PathBuf,
    /// The store's journal settings.
    pub store: StoreConfig,
    /// The instruments traded at the venue (Symbol, ticks and lots).
    pub instruments: Vec<Instrument>,
    /// Send a MarketDataRequest for every instrument after each logon.
    pub subscribe: bool,
    /// First reconnect delay.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// A connect not done by then fails.
    pub connect_timeout: Duration,
    /// Longest wait for the answers to the status requests after a logon.
    pub reconcile_timeout: Duration,
    /// Most working orders tracked (the core's order capacity).
    pub orders_max: usize,
    /// Most requests waiting for reconciliation to finish.
    pub queue_max: usize,
    /// Largest FIX message accepted, bytes.
    pub max_frame: usize,
    /// The recovered core's working orders, to reconcile on the first logon.
    pub recovered: RecoveredOrders,
}

/// Where the link is (see the module docs), for status and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum LinkPhase {
    /// Not connected; waiting to retry.
    Down = 0,
    /// A connect is in progress.
    Connecting = 1,
    /// Connected, Logon sent.
    LoggingOn = 2,
    /// Logged on, reconciling working orders.
    Reconciling = 3,
    /// Trading.
    Trading = 4,
    /// Stopped.
    Stopped = 5,
}

impl LinkPhase {
    fn from_u8(v: u8) -> LinkPhase {
        match v {
            1 => LinkPhase::Connecting,
            2 => LinkPhase::LoggingOn,
            3 => LinkPhase::Reconciling,
            4 => LinkPhase::Trading,
            5 => LinkPhase::Stopped,
            _ => LinkPhase::Down,
        }
    }
}

/// The link's state and counters, readable from any thread.
#[derive(Debug, Default)]
pub struct LinkStatus {
    phase: AtomicU8,
    /// Sessions that reached trading.
    pub logons: AtomicU64,
    /// Connections lost or refused.
    pub disconnects: AtomicU64,
    /// Status answers applied by reconciliation.
    pub reconciled: AtomicU64,
    /// Commands published to the core.
    pub published: AtomicU64,
    /// Inbound messages refused (with a Reject or logged).
    pub refused: AtomicU64,
}

impl LinkStatus {
    /// The current phase.
    pub fn phase(&self) -> LinkPhase {
        LinkPhase::from_u8(self.phase.load(Ordering::Acquire))
    }
}

enum Phase {
    Down { retry_at_ns: u64 },
    Connecting { attempt: Connecting, since_ns: u64 },
    LoggingOn,
    Reconciling { deadline_ns: u64, outstanding: BTreeSet<OrderId> },
    Trading,
    Stopped,
}

impl Phase {
    fn link(&self) -> LinkPhase {
        match self {
            Phase::Down { .. } => LinkPhase::Down,
            Phase::Connecting { .. } => LinkPhase::Connecting,
            Phase::LoggingOn => LinkPhase::LoggingOn,
            Phase::Reconciling { .. } => LinkPhase::Reconciling,
            Phase::Trading => LinkPhase::Trading,
            Phase::Stopped => LinkPhase::Stopped,
        }
    }
}

/// What a sent application message was, to attribute a Reject of it.
#[derive(Clone, Copy, Debug)]
enum SentKind {
    New,
    Cancel,
    Replace,
    Status,
    Subscribe,
}

/// Why the initiator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum InitiatorError {
    /// The message store could not be opened.
    #[error("venue session store: {0}")]
    Store(#[from] StoreError),
    /// The configuration does not describe an initiator.
    #[error("venue session: {0}")]
    Config(String),
}

/// The FIX initiator gateway (see the module docs).
pub struct FixVenueGateway {
    config: InitiatorConfig,
    symbols: Symbols,
    session: Session<JournalStore>,
    stream: Option<TcpStream>,
    inbuf: InBuffer,
    frame: Vec<u8>,
    decoder: Option<Decoder>,
    body: Body,
    phase: Phase,
    backoff: Backoff,
    tracker: OrderTracker,
    queue: VecDeque<OutputBody>,
    ready: VecDeque<CommandBody>,
    scratch: Vec<CommandBody>,
    levels: Vec<(Side, Price, Qty)>,
    sent_log: VecDeque<(u64, SentKind, OrderId)>,
    md_req: u64,
    status_req: u64,
    status: Arc<LinkStatus>,
    /// Connections made so far, and the last one the runner was asked to watch (a new
    /// socket may reuse a closed one's descriptor number).
    connections: u64,
    watched: u64,
}

impl FixVenueGateway {
    /// An initiator from its configuration: opens (or recovers) the session's store.
    pub fn new(config: InitiatorConfig) -> Result<FixVenueGateway, InitiatorError> {
        if config.session_config.role != crate::fix::session::Role::Initiator {
            return Err(InitiatorError::Config("the session's role must be Initiator".into()));
        }
        let store = JournalStore::open(&config.store_dir, &config.store)?;
        let session = Session::new(config.session_config.clone(), store);
        Ok(FixVenueGateway {
            symbols: Symbols::new(config.instruments.clone()),
            session,
            stream: None,
            inbuf: InBuffer::new(config.max_frame),
            frame: Vec::with_capacity(config.max_frame.min(64 * 1024)),
            decoder: Some(Decoder::default()),
            body: Body::with_capacity(512),
            phase: Phase::Down { retry_at_ns: 0 },
            backoff: Backoff::new(config.reconnect_min, config.reconnect_max),
            tracker: OrderTracker::new(config.orders_max),
            queue: VecDeque::with_capacity(config.queue_max.min(4096)),
            ready: VecDeque::with_capacity(4096),
            scratch: Vec::with_capacity(1024),
            levels: Vec::with_capacity(256),
            sent_log: VecDeque::with_capacity(1024),
            md_req: 0,
            status_req: 0,
            status: Arc::new(LinkStatus::default()),
            connections: 0,
            watched: 0,
            config,
        })
    }

    /// The link's state and counters (shared).
    pub fn status(&self) -> Arc<LinkStatus> {
        Arc::clone(&self.status)
    }

    fn set_phase(&mut self, phase: Phase) {
        self.status.phase.store(phase.link() as u8, Ordering::Release);
        self.phase = phase;
    }

    fn push(&mut self, body: CommandBody) {
        self.ready.push_back(body);
    }

    fn venue_status(&mut self, status: MarketStatus) {
        let venue = self.config.venue;
        self.push(CommandBody::VenueStatus(VenueStatus { venue, instrument: None, status }));
    }

    // ---- sending ---------------------------------------------------------------------

    /// Sends an application message body now in `self.body`.
    fn send(&mut self, now_ns: u64, msg_type: &[u8], kind: SentKind, order: OrderId) -> bool {
        match self.session.send_app(now_ns, msg_type, self.body.as_bytes()) {
            Ok(seq) => {
                if self.sent_log.len() == SENT_LOG_MAX {
                    self.sent_log.pop_front();
                }
                self.sent_log.push_back((seq, kind, order));
                self.write_out();
                true
            }
            Err(e) => {
                error!(gateway = %self.config.name, "message store failed, disconnecting: {e}");
                self.lost(now_ns, &format!("message store: {e}"));
                false
            }
        }
    }

    fn write_out(&mut self) {
        if let Some(stream) = self.stream.as_mut() {
            if let Err(e) = conn::write_from(stream, &mut self.session) {
                warn!(gateway = %self.config.name, "venue connection write failed: {e}");
                self.stream = None; // noticed and handled by the next poll
            }
        }
    }

    fn reject_output(&mut self, body: &OutputBody, code: u32, now: TimestampNs) {
        let venue = self.config.venue;
        match body {
            OutputBody::VenueNewOrder(o) => self.push(CommandBody::VenueReject(VenueReject {
                venue,
                order_id: o.order_id,
                reason: code,
                venue_ts: now,
            })),
            OutputBody::VenueCancel(c) => {
                self.push(CommandBody::VenueCancelReject(VenueCancelReject {
                    venue,
                    order_id: c.order_id,
                    response_to: CancelRejectTo::Cancel,
                    reason: code,
                    venue_ts: now,
                }))
            }
            OutputBody::VenueReplace(r) => {
                self.push(CommandBody::VenueCancelReject(VenueCancelReject {
                    venue,
                    order_id: r.order_id,
                    response_to: CancelRejectTo::Replace,
                    reason: code,
                    venue_ts: now,
                }))
            }
            _ => {}
        }
    }

    /// Sends one order-entry output (the session is trading).
    fn send_output(&mut self, body: &OutputBody, now_ns: u64) {
        let now = TimestampNs(now_ns);
        let precision = self.config.session_config.precision;
        match body {
            OutputBody::VenueNewOrder(o) => {
                let Some(inst) = self.symbols.get(o.instrument) else {
                    error!(order = %o.order_id, instrument = %o.instrument,
                        "order for an instrument the venue link does not know: rejected");
                    return self.reject_output(body, reason::UNKNOWN_INSTRUMENT, now);
                };
                requests::new_order(&mut self.body, o, inst, now_ns, precision);
                if let Err(e) = self.tracker.sent(o) {
                    error!(order = %o.order_id, "{e}: rejected");
                    return self.reject_output(body, reason::TRACKER_FULL, now);
                }
                self.send(now_ns, mt::NEW_ORDER_SINGLE, SentKind::New, o.order_id);
            }
            OutputBody::VenueCancel(c) => {
                let Some(inst) = self.symbols.get(c.instrument) else {
                    return self.reject_output(body, reason::UNKNOWN_INSTRUMENT, now);
                };
                let inst = inst.clone();
                let mut tr =
                    self.tracked_or_transient(c.order_id, c.instrument, c.side, c.venue_order_id);
                let version = tr.next_version();
                requests::cancel(&mut self.body, &tr, version, &inst, now_ns, precision);
                tr.pending = Pending::Cancel { version };
                self.store_tracked(tr);
                self.send(now_ns, mt::ORDER_CANCEL_REQUEST, SentKind::Cancel, c.order_id);
            }
            OutputBody::VenueReplace(r) => {
                let Some(inst) = self.symbols.get(r.instrument) else {
                    return self.reject_output(body, reason::UNKNOWN_INSTRUMENT, now);
                };
                let inst = inst.clone();
                let mut tr =
                    self.tracked_or_transient(r.order_id, r.instrument, r.side, r.venue_order_id);
                let version = tr.next_version();
                requests::replace(
                    &mut self.body,
                    &tr,
                    version,
                    r.price,
                    r.qty,
                    r.display_qty,
                    &inst,
                    now_ns,
                    precision,
                );
                tr.pending = Pending::Replace { version, price: r.price, qty: r.qty };
                self.store_tracked(tr);
                self.send(now_ns, mt::ORDER_CANCEL_REPLACE_REQUEST, SentKind::Replace, r.order_id);
            }
            _ => {}
        }
    }

    /// The tracked order, or (when the tracker lost it) one made from the request, so the
    /// venue still gets the request and decides.
    fn tracked_or_transient(
        &self,
        id: OrderId,
        instrument: keel_engine::InstrumentId,
        side: Side,
        venue_order_id: u64,
    ) -> Tracked {
        match self.tracker.get(id) {
            Some(t) => *t,
            None => {
                tracing::debug!(order = %id, "cancel/replace of an order the venue link no longer tracks (a fill or cancel crossed it); sent as is");
                Tracked {
                    id,
                    instrument,
                    side,
                    ord_type: keel_engine::OrdType::Limit,
                    price: Price(0),
                    qty: Qty::ZERO,
                    cum_qty: Qty::ZERO,
                    cum_notional: 0,
                    acked: venue_order_id != 0,
                    venue_order_id,
                    venue_order_text: None,
                    version: 0,
                    last_version: orders::SEEDED_VERSION_BASE,
                    pending: Pending::None,
                }
            }
        }
    }

    fn store_tracked(&mut self, tr: Tracked) {
        if let Some(t) = self.tracker.get_mut(tr.id) {
            *t = tr;
        }
    }

    // ---- connection ------------------------------------------------------------------

    fn drive_connection(&mut self, now_ns: u64) -> usize {
        match &self.phase {
            Phase::Down { retry_at_ns } if now_ns >= *retry_at_ns => {
                match Connecting::start(self.config.connect) {
                    Ok(attempt) => {
                        self.set_phase(Phase::Connecting { attempt, since_ns: now_ns });
                    }
                    Err(e) => {
                        self.failed(now_ns, &format!("connect to {}: {e}", self.config.connect))
                    }
                }
                1
            }
            Phase::Connecting { .. } => {
                let Phase::Connecting { attempt, since_ns } =
                    std::mem::replace(&mut self.phase, Phase::Stopped)
                else {
                    unreachable!()
                };
                let addr = attempt.addr();
                match attempt.poll() {
                    (_, ConnectPoll::Connected(stream)) => {
                        self.connected(stream, now_ns);
                    }
                    (Some(attempt), ConnectPoll::Pending) => {
                        if now_ns.saturating_sub(since_ns)
                            >= self.config.connect_timeout.as_nanos() as u64
                        {
                            self.failed(now_ns, &format!("connect to {addr}: timed out"));
                        } else {
                            self.phase = Phase::Connecting { attempt, since_ns };
                        }
                    }
                    (_, ConnectPoll::Failed(e)) => {
                        self.failed(now_ns, &format!("connect to {addr}: {e}"))
                    }
                    (None, ConnectPoll::Pending) => self.failed(now_ns, "connect lost"),
                }
                1
            }
            _ => 0,
        }
    }

    fn connected(&mut self, stream: TcpStream, now_ns: u64) {
        info!(gateway = %self.config.name, venue = %self.config.connect, "connected to the venue; logging on");
        self.inbuf.clear();
        self.stream = Some(stream);
        self.connections += 1;
        self.set_phase(Phase::LoggingOn);
        if let Err(e) = self.session.on_connect(now_ns) {
            return self.lost(now_ns, &e.to_string());
        }
        self.write_out();
    }

    /// A connect or logon failed: back off.
    fn failed(&mut self, now_ns: u64, why: &str) {
        let delay = self.backoff.failed();
        self.status.disconnects.fetch_add(1, Ordering::Relaxed);
        warn!(gateway = %self.config.name, failures = self.backoff.failures(),
            retry_in_ms = delay.as_millis() as u64, "venue link down: {why}");
        self.set_phase(Phase::Down { retry_at_ns: now_ns + delay.as_nanos() as u64 });
    }

    /// The connection is gone (or must go): clean up, tell the core, back off.
    fn lost(&mut self, now_ns: u64, why: &str) {
        let was = self.phase.link();
        if let Some(mut stream) = self.stream.take() {
            let deadline = std::time::Instant::now() + Duration::from_millis(100);
            conn::flush_before_close(&mut stream, &mut self.session, deadline);
        }
        self.session.on_disconnect();
        self.inbuf.clear();
        let now = TimestampNs(now_ns);
        while let Some(body) = self.queue.pop_front() {
            self.reject_output(&body, reason::NOT_CONNECTED, now);
        }
        if matches!(was, LinkPhase::Reconciling | LinkPhase::Trading) {
            self.halt(now);
        }
        if matches!(was, LinkPhase::Stopped) {
            return;
        }
        self.failed(now_ns, why);
    }

    /// The venue is unreachable: the core stops routing to it and forgets its books.
    fn halt(&mut self, now: TimestampNs) {
        self.venue_status(MarketStatus::Halted);
        if self.config.subscribe {
            let venue = self.config.venue;
            for i in 0..self.symbols.all().len() {
                let instrument = self.symbols.all()[i].id;
                for phase in [SnapshotPhase::Begin, SnapshotPhase::End] {
                    self.push(CommandBody::Snapshot(SnapshotMark {
                        instrument,
                        venue,
                        phase,
                        exchange_ts: now,
                    }));
                }
            }
        }
    }

    fn read_socket(&mut self, now_ns: u64) -> usize {
        let mut work = 0;
        let mut frames = 0;
        while frames < FRAMES_PER_POLL && self.ready.len() < READY_SOFT_MAX {
            // Frame what is buffered first.
            let framed = match self.inbuf.next_frame() {
                Some(Next::Frame(f)) => {
                    self.frame.clear();
                    self.frame.extend_from_slice(f);
                    true
                }
                Some(Next::Garbled { bytes, why }) => {
                    warn!(gateway = %self.config.name, bytes, "garbled bytes from the venue dropped: {why}");
                    continue;
                }
                None => false,
            };
            match framed {
                true => {
                    frames += 1;
                    work += 1;
                    let frame = std::mem::take(&mut self.frame);
                    self.on_frame(&frame, now_ns);
                    self.frame = frame;
                    if self.stream.is_none() {
                        return work;
                    }
                }
                false => {
                    let Some(stream) = self.stream.as_mut() else { return work };
                    match conn::read_into(stream, &mut self.inbuf) {
                        Ok(ReadOutcome::Data(_)) => work += 1,
                        Ok(ReadOutcome::Idle) => break,
                        Ok(ReadOutcome::Closed) => {
                            self.lost(now_ns, "the venue closed the connection");
                            return work + 1;
                        }
                        Err(e) => {
                            self.lost(now_ns, &format!("read: {e}"));
                            return work + 1;
                        }
                    }
                }
            }
        }
        work
    }

    fn on_frame(&mut self, frame: &[u8], now_ns: u64) {
        let Some(mut decoder) = self.decoder.take() else { return };
        self.on_decoded(&mut decoder, frame, now_ns);
        self.decoder = Some(decoder);
        self.write_out();
    }

    fn on_decoded(&mut self, decoder: &mut Decoder, frame: &[u8], now_ns: u64) {
        let msg = match decoder.decode(frame) {
            Ok(m) => m,
            Err(e) => {
                warn!(gateway = %self.config.name, "undecodable message from the venue dropped: {e}");
                return;
            }
        };
        let seq_before = self.session.store().next_target_seq();
        match self.session.on_message(now_ns, &msg) {
            Received::LoggedOn => self.logged_on(now_ns),
            Received::App => self.on_app(&msg, now_ns),
            Received::Handled => {
                // A session-level Reject of one of Keel's messages, processed in sequence.
                let accepted = self.session.store().next_target_seq() > seq_before;
                if accepted && msg.msg_type() == mt::REJECT {
                    self.on_session_reject(&msg, now_ns);
                }
            }
            Received::LogonRequest => {}
            Received::Disconnect(reason) => {
                self.write_out();
                self.ended(now_ns, reason);
            }
        }
    }

    fn ended(&mut self, now_ns: u64, reason: EndReason) {
        if matches!(self.phase, Phase::Stopped) {
            info!(gateway = %self.config.name, "venue session ended: {reason}");
            if let Some(mut stream) = self.stream.take() {
                let deadline = std::time::Instant::now() + Duration::from_millis(100);
                conn::flush_before_close(&mut stream, &mut self.session, deadline);
            }
            return;
        }
        self.lost(now_ns, &format!("venue session ended: {reason}"));
    }

    fn logged_on(&mut self, now_ns: u64) {
        info!(gateway = %self.config.name, next_out = self.session.store().next_sender_seq(),
            next_in = self.session.store().next_target_seq(), "logged on to the venue");
        if self.config.subscribe && !self.symbols.all().is_empty() {
            self.md_req += 1;
            let mut id = Vec::with_capacity(24);
            id.extend_from_slice(b"MD-");
            crate::fix::value::write_u64(&mut id, now_ns);
            id.push(b'-');
            crate::fix::value::write_u64(&mut id, self.md_req);
            requests::subscribe(&mut self.body, &id, self.symbols.all());
            self.send(now_ns, mt::MARKET_DATA_REQUEST, SentKind::Subscribe, OrderId(0));
        }
        // Status of every working order, in id order.
        let ids = self.tracker.ids();
        let mut outstanding = BTreeSet::new();
        for id in ids {
            let Some(&tr) = self.tracker.get(id) else { continue };
            let Some(inst) = self.symbols.get(tr.instrument) else { continue };
            self.status_req += 1;
            requests::status(&mut self.body, &tr, inst, self.status_req);
            if !self.send(now_ns, dialect::msg_type::ORDER_STATUS_REQUEST, SentKind::Status, id) {
                return;
            }
            outstanding.insert(id);
        }
        if !outstanding.is_empty() {
            info!(gateway = %self.config.name, orders = outstanding.len(),
                "reconciling working orders with the venue before trading");
        }
        let deadline_ns = now_ns + self.config.reconcile_timeout.as_nanos() as u64;
        self.set_phase(Phase::Reconciling { deadline_ns, outstanding });
        self.check_reconciled(now_ns);
    }

    fn check_reconciled(&mut self, now_ns: u64) {
        let Phase::Reconciling { deadline_ns, outstanding } = &self.phase else { return };
        if !outstanding.is_empty() && now_ns < *deadline_ns {
            return;
        }
        if !outstanding.is_empty() {
            error!(gateway = %self.config.name, unanswered = ?outstanding,
                "reconciliation timed out: these orders keep Keel's view of their state");
        }
        self.backoff.reset();
        self.status.logons.fetch_add(1, Ordering::Relaxed);
        self.set_phase(Phase::Trading);
        self.venue_status(MarketStatus::Open);
        info!(gateway = %self.config.name, queued = self.queue.len(), "venue link trading");
        while let Some(body) = self.queue.pop_front() {
            self.send_output(&body, now_ns);
            if !matches!(self.phase, Phase::Trading) {
                break;
            }
        }
    }

    // ---- application messages --------------------------------------------------------

    fn refuse(
        &mut self,
        now_ns: u64,
        msg: &Message<'_>,
        spec_problem: crate::fix::message::Problem,
    ) {
        self.status.refused.fetch_add(1, Ordering::Relaxed);
        let seq = msg.field(tag::MSG_SEQ_NUM).and_then(|f| f.u64().ok()).unwrap_or(0);
        warn!(gateway = %self.config.name, msg_type = %String::from_utf8_lossy(msg.msg_type()),
            seq, "venue message refused: {spec_problem}");
        let text = spec_problem.to_string();
        if let Err(e) = self.session.send_reject(now_ns, seq, msg.msg_type(), spec_problem, &text) {
            self.lost(now_ns, &e.to_string());
        }
    }

    fn checked(&mut self, now_ns: u64, msg: &Message<'_>, spec: &MessageSpec) -> bool {
        match validate(msg, spec) {
            Ok(()) => true,
            Err(p) => {
                self.refuse(now_ns, msg, p);
                false
            }
        }
    }

    fn on_app(&mut self, msg: &Message<'_>, now_ns: u64) {
        let now = TimestampNs(now_ns);
        let venue = self.config.venue;
        let poss_dup = msg.get(tag::POSS_DUP_FLAG) == Some(b"Y");
        let sending_ts =
            msg.field(tag::SENDING_TIME).and_then(|f| f.timestamp().ok()).unwrap_or(now_ns);
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        let result = match msg.msg_type() {
            b"8" => {
                if !self.checked(now_ns, msg, &dialect::EXECUTION_REPORT) {
                    self.scratch = out;
                    return;
                }
                match reports::parse_execution_report(msg) {
                    Ok(r) if r.exec_type == dialect::exec_type::ORDER_STATUS => {
                        self.on_status(&r, now, &mut out)
                    }
                    Ok(r) => reports::apply_execution_report(
                        &r,
                        venue,
                        &self.symbols,
                        &mut self.tracker,
                        now,
                        &mut out,
                    ),
                    Err(e) => Err(e),
                }
            }
            b"9" => {
                if !self.checked(now_ns, msg, &dialect::ORDER_CANCEL_REJECT) {
                    self.scratch = out;
                    return;
                }
                reports::apply_cancel_reject(msg, venue, &mut self.tracker, now, &mut out)
            }
            b"W" | b"X" if poss_dup => {
                // Resent market data is stale: the fresh subscription's snapshot follows.
                Ok(())
            }
            b"W" => {
                if !self.checked(now_ns, msg, &dialect::MD_SNAPSHOT) {
                    self.scratch = out;
                    return;
                }
                market_data::snapshot(
                    msg,
                    venue,
                    &self.symbols,
                    TimestampNs(sending_ts),
                    &mut self.levels,
                    &mut out,
                )
            }
            b"X" => {
                if !self.checked(now_ns, msg, &dialect::MD_INCREMENTAL) {
                    self.scratch = out;
                    return;
                }
                market_data::incremental(
                    msg,
                    venue,
                    &self.symbols,
                    TimestampNs(sending_ts),
                    &mut out,
                )
            }
            b"Y" => {
                if self.checked(now_ns, msg, &dialect::MD_REQUEST_REJECT) {
                    error!(gateway = %self.config.name,
                        reason = %String::from_utf8_lossy(msg.get(dialect::tag::MD_REQ_REJ_REASON).unwrap_or_default()),
                        text = %String::from_utf8_lossy(msg.get(tag::TEXT).unwrap_or_default()),
                        "the venue refused the market-data subscription");
                }
                Ok(())
            }
            b"j" => {
                if self.checked(now_ns, msg, &dialect::BUSINESS_MESSAGE_REJECT) {
                    self.on_business_reject(msg, now, &mut out);
                }
                Ok(())
            }
            other => {
                // A message type of FIX 4.4 this dialect does not take.
                warn!(gateway = %self.config.name, msg_type = %String::from_utf8_lossy(other),
                    "venue message of a type Keel does not take: ignored");
                self.status.refused.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        };
        match result {
            Ok(()) => {
                self.status.published.fetch_add(out.len() as u64, Ordering::Relaxed);
                self.ready.extend(out.drain(..));
            }
            Err(reports::ReportError::Field(p)) => {
                out.clear();
                self.refuse(now_ns, msg, p);
            }
            Err(e) => {
                out.clear();
                self.status.refused.fetch_add(1, Ordering::Relaxed);
                error!(gateway = %self.config.name, msg_type = %String::from_utf8_lossy(msg.msg_type()),
                    "venue report not applied: {e}");
            }
        }
        self.scratch = out;
    }

    fn on_status(
        &mut self,
        r: &reports::ExecReportView<'_>,
        now: TimestampNs,
        out: &mut Vec<CommandBody>,
    ) -> Result<(), reports::ReportError> {
        let Phase::Reconciling { outstanding, .. } = &mut self.phase else {
            // An unsolicited status report (or a late answer): nothing changes hands.
            return Ok(());
        };
        if !outstanding.remove(&r.order) {
            return Ok(());
        }
        let Some(inst) = self.tracker.get(r.order).and_then(|t| self.symbols.get(t.instrument))
        else {
            return Ok(());
        };
        let inst = inst.clone();
        self.status.reconciled.fetch_add(1, Ordering::Relaxed);
        reconcile::reconcile(r, self.config.venue, &inst, &mut self.tracker, now, out)
    }

    /// A BusinessMessageReject of one of Keel's messages: BusinessRejectRefID (379) names
    /// the ClOrdID (or RefSeqNum the message).
    fn on_business_reject(
        &mut self,
        msg: &Message<'_>,
        now: TimestampNs,
        out: &mut Vec<CommandBody>,
    ) {
        let ref_seq = msg.field(tag::REF_SEQ_NUM).and_then(|f| f.u64().ok());
        let by_cl =
            msg.get(tag::BUSINESS_REJECT_REF_ID).and_then(ids::parse_cl_ord_id).map(|(id, _)| id);
        let ref_type = msg.get(tag::REF_MSG_TYPE).unwrap_or_default();
        let text = String::from_utf8_lossy(msg.get(tag::TEXT).unwrap_or_default()).into_owned();
        let logged =
            ref_seq.and_then(|s| self.sent_log.iter().find(|e| e.0 == s).map(|e| (e.1, e.2)));
        let kind = match ref_type {
            b"D" => Some(SentKind::New),
            b"F" => Some(SentKind::Cancel),
            b"G" => Some(SentKind::Replace),
            b"H" => Some(SentKind::Status),
            b"V" => Some(SentKind::Subscribe),
            _ => logged.map(|l| l.0),
        };
        let order = by_cl.or(logged.map(|l| l.1));
        warn!(gateway = %self.config.name, ref_msg_type = %String::from_utf8_lossy(ref_type), ?order,
            "the venue rejected a message (BusinessMessageReject): {text}");
        if let (Some(kind), Some(order)) = (kind, order) {
            self.rejected(kind, order, now, out);
        }
    }

    /// A session-level Reject (35=3) of one of Keel's messages, found by RefSeqNum.
    fn on_session_reject(&mut self, msg: &Message<'_>, now_ns: u64) {
        let Some(ref_seq) = msg.field(tag::REF_SEQ_NUM).and_then(|f| f.u64().ok()) else { return };
        let text = String::from_utf8_lossy(msg.get(tag::TEXT).unwrap_or_default()).into_owned();
        let Some(&(_, kind, order)) = self.sent_log.iter().find(|e| e.0 == ref_seq) else {
            warn!(gateway = %self.config.name, ref_seq, "the venue rejected an administrative message: {text}");
            return;
        };
        warn!(gateway = %self.config.name, ref_seq, %order, ?kind,
            "the venue rejected a message at the session level: {text}");
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        self.rejected(kind, order, TimestampNs(now_ns), &mut out);
        self.ready.extend(out.drain(..));
        self.scratch = out;
    }

    fn rejected(
        &mut self,
        kind: SentKind,
        order: OrderId,
        now: TimestampNs,
        out: &mut Vec<CommandBody>,
    ) {
        let venue = self.config.venue;
        let code = reason::MESSAGE_REJECTED;
        match kind {
            SentKind::New => {
                self.tracker.ended(order);
                out.push(CommandBody::VenueReject(VenueReject {
                    venue,
                    order_id: order,
                    reason: code,
                    venue_ts: now,
                }));
            }
            SentKind::Cancel | SentKind::Replace => {
                if let Some(t) = self.tracker.get_mut(order) {
                    t.pending = Pending::None;
                }
                let response_to = if matches!(kind, SentKind::Cancel) {
                    CancelRejectTo::Cancel
                } else {
                    CancelRejectTo::Replace
                };
                out.push(CommandBody::VenueCancelReject(VenueCancelReject {
                    venue,
                    order_id: order,
                    response_to,
                    reason: code,
                    venue_ts: now,
                }));
            }
            SentKind::Status => {
                // The venue does not answer status requests: the order keeps Keel's view.
                if let Phase::Reconciling { outstanding, .. } = &mut self.phase {
                    outstanding.remove(&order);
                }
            }
            SentKind::Subscribe => {
                error!(gateway = %self.config.name, "the venue refused the market-data subscription");
            }
        }
    }

    fn publish_ready(&mut self, io: &mut GatewayIo) -> usize {
        let mut n = 0;
        while let Some(&body) = self.ready.front() {
            match io.try_publish(self.config.session, body) {
                Ok(_) => {
                    self.ready.pop_front();
                    n += 1;
                }
                Err(PublishError::Full | PublishError::Closed) => break,
            }
        }
        n
    }
}

impl Gateway for FixVenueGateway {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn routes(&self) -> Routes {
        Routes { sessions: vec![self.config.session], venues: vec![self.config.venue] }
    }

    fn on_start(&mut self, io: &mut GatewayIo) {
        self.push(CommandBody::SessionLogon(SessionLogon {
            kind: SessionKind::Venue,
            account: AccountId(0),
            cancel_on_disconnect: false,
        }));
        // Nothing is routed to the venue until the link trades.
        self.venue_status(MarketStatus::Halted);
        if let Some(orders) = self.config.recovered.get() {
            for w in orders.clone() {
                if let Err(e) = self.tracker.seed(&w) {
                    error!(gateway = %self.config.name, order = %w.id, "recovered order not tracked: {e}");
                }
            }
            if !orders.is_empty() {
                info!(gateway = %self.config.name, orders = orders.len(),
                    "recovered working orders will be reconciled with the venue on logon");
            }
        }
        self.set_phase(Phase::Down { retry_at_ns: 0 });
        self.publish_ready(io);
    }

    fn on_output(&mut self, delivery: &Delivery, io: &mut GatewayIo) {
        let body = delivery.output.body;
        if !matches!(
            body,
            OutputBody::VenueNewOrder(_) | OutputBody::VenueCancel(_) | OutputBody::VenueReplace(_)
        ) {
            return;
        }
        let now = io.clock().now();
        match &self.phase {
            Phase::Trading => self.send_output(&body, now.0),
            Phase::LoggingOn | Phase::Reconciling { .. } => {
                if self.queue.len() >= self.config.queue_max {
                    warn!(gateway = %self.config.name, "request queue full while reconciling: rejected");
                    self.reject_output(&body, reason::QUEUE_FULL, now);
                } else {
                    self.queue.push_back(body);
                }
            }
            Phase::Down { .. } | Phase::Connecting { .. } | Phase::Stopped => {
                self.reject_output(&body, reason::NOT_CONNECTED, now);
            }
        }
    }

    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let now_ns = io.clock().now().0;
        let mut work = self.drive_connection(now_ns);
        if self.stream.is_some() {
            work += self.read_socket(now_ns);
        } else if matches!(
            self.phase,
            Phase::LoggingOn | Phase::Reconciling { .. } | Phase::Trading
        ) {
            // A write failed since the last poll.
            self.lost(now_ns, "write to the venue failed");
            work += 1;
        }
        if self.stream.is_some() {
            if let Some(reason) = self.session.on_timer(now_ns) {
                self.write_out();
                self.ended(now_ns, reason);
                work += 1;
            } else {
                self.check_reconciled(now_ns);
                self.write_out();
            }
        }
        if self.connections != self.watched {
            self.watched = self.connections;
            if let Some(stream) = &self.stream {
                // A blocking runner wakes when the venue writes.
                use std::os::fd::AsRawFd;
                if let Err(e) = io.watch(stream.as_raw_fd(), keel_engine::pipeline::Trigger::Level)
                {
                    warn!(gateway = %self.config.name, "venue connection not watched (read at the wait timeout): {e}");
                }
            }
        }
        work + self.publish_ready(io)
    }

    /// Commands waiting for room in the ring are due at once (see `Gateway::wake_at_ns`).
    fn wake_at_ns(&self) -> Option<u64> {
        (!self.ready.is_empty()).then_some(0)
    }

    fn on_stop(&mut self, io: &mut GatewayIo) {
        let now_ns = io.clock().now().0;
        let was_logged_on = self.session.is_logged_on();
        self.set_phase(Phase::Stopped);
        if was_logged_on && self.stream.is_some() {
            let _ = self.session.logout(now_ns, None);
            self.write_out();
            // Wait (bounded) for the answer, applying what arrives before it.
            let timeout = Duration::from_nanos(self.config.session_config.logout_timeout_ns);
            let deadline = std::time::Instant::now() + timeout;
            while self.stream.is_some()
                && self.session.state() != SessionState::Disconnected
                && std::time::Instant::now() < deadline
            {
                let now_ns = io.clock().now().0;
                if self.read_socket(now_ns) == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                self.publish_ready(io);
            }
        }
        if let Some(mut stream) = self.stream.take() {
            let deadline = std::time::Instant::now() + Duration::from_millis(100);
            conn::flush_before_close(&mut stream, &mut self.session, deadline);
        }
        self.session.on_disconnect();
        let now = TimestampNs(io.clock().now().0);
        while let Some(body) = self.queue.pop_front() {
            self.reject_output(&body, reason::NOT_CONNECTED, now);
        }
        // Publish what is left, bounded: the core may itself be waiting on our ring.
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while !self.ready.is_empty() && std::time::Instant::now() < deadline {
            if self.publish_ready(io) == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        if !self.ready.is_empty() {
            error!(gateway = %self.config.name, unpublished = self.ready.len(),
                "venue reports not delivered at stop; the next start reconciles working orders with the venue");
        }
        info!(gateway = %self.config.name, "venue link stopped");
    }
}
