//! The acceptor: [`BinaryGateway`] listens on TCP, runs every connection's session and
//! turns valid order entry into commands; it turns the core's outputs for its sessions
//! into sequenced reports, and the market-data tap into book updates.
//!
//! # Sessions
//! - A connection must send `Logon` within `logon_timeout`. The credentials go to the
//!   [`AuthWorker`]; on success the gateway publishes `SessionLogon` (kind binary client,
//!   the client's account and cancel-on-disconnect), answers `LogonAck` and one
//!   `InstrumentInfo` per instrument, then replays the retained reports after the client's
//!   `last_server_seq` and continues live. One connection per session at a time.
//! - When the connection ends (logout, error, timeout, protocol violation, server stop),
//!   the gateway publishes `SessionLogout` (graceful only for a client logout); the core
//!   applies cancel-on-disconnect and keeps the per-session throttles. At start the gateway
//!   publishes a `SessionLogout` for each of its sessions: no binary client is connected to
//!   a freshly started server, whatever the recovered state says.
//! - Order-entry messages carry the client sequence: the next expected one is kept per
//!   session across reconnects (not across server restarts: it starts at 1 again, and
//!   `LogonAck.next_client_seq` always says which one is expected).
//!
//! # Nothing malformed reaches the core
//! Every frame is length-checked from its first 4 bytes and fully validated before
//! anything is published. An unknown type, a bad length or version, an invalid field or
//! a sequence gap closes the session with a `Logout` giving the reason (and a detail).
//!
//! # Back-pressure
//! A command is published with `try_publish`; when the inbound ring is full the frame
//! stays in the read buffer (and the socket's data in the kernel) until a later `poll`.
//! Logons and logouts that could not be published wait in a queue that is published
//! first, before any connection's input is read again, so the order of a session's
//! commands is kept.

use super::auth::{AuthWorker, Authenticator, Grant};
use super::codec::{ClientMsg, Direction, ServerMsg, decode_client, frame_len};
use super::conn::{Conn, ReadOutcome};
use super::ledger::{Ledgers, order_status, position_report};
use super::market::{MarketView, Subscription, Touched};
use super::msg::market_data::{Subscribe, SubscribeAck, SubscribeStatus};
use super::msg::orders::MassCancelScope;
use super::msg::queries::{ListEnd, ListKind, OrderStatus, PositionReport};
use super::msg::session::{CURRENCY_LEN, SYMBOL_LEN};
use super::msg::session::{Heartbeat, InstrumentInfo, Logon, LogonAck, Logout, LogoutReason};
use super::wire::{Body, DEPTH_LEVELS, Text};
use keel_engine::book::BookCapacity;
use keel_engine::core::FeedKind;
use keel_engine::pipeline::{Delivery, Gateway, GatewayIo, Pacer, PublishError, Routes, Trigger};
use keel_engine::schema::{
    self, CancelOrder, Command, CommandBody, NewOrder, ReplaceOrder, Route, SessionKind,
    SessionLogon, SessionLogout,
};
use keel_engine::{Instrument, SessionId, TimestampNs, VenueId};
use std::collections::{BTreeMap, VecDeque};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the gateway listens and what it serves.
#[derive(Clone, Debug)]
pub struct BinaryConfig {
    /// Name for logs, metrics and the thread.
    pub name: String,
    /// Address to listen on (port 0 picks a free one: see [`BinaryGateway::local_addr`]).
    pub listen: SocketAddr,
    /// Heartbeat interval unless the client asks for another, ms.
    pub heartbeat_ms: u32,
    /// Time a new connection has to log on, ms.
    pub logon_timeout_ms: u32,
    /// Open connections at most (logged on or not).
    pub max_connections: usize,
    /// Bytes of encoded frames a connection may have waiting to be sent.
    pub send_buffer_bytes: usize,
    /// Books one connection may subscribe to.
    pub max_subscriptions: usize,
    /// Reports retained per session for replay.
    pub retain: usize,
    /// Every binary client's session (the outputs this gateway receives).
    pub sessions: Vec<SessionId>,
    /// The instruments (sent to clients after logon; the books of the market-data view).
    pub instruments: Vec<Instrument>,
    /// The venues and their feed kinds.
    pub venues: Vec<(VenueId, FeedKind)>,
    /// Capacity of each book of the market-data view.
    pub book: BookCapacity,
}

/// Heartbeat intervals a client may ask for, ms.
pub const HEARTBEAT_MS_RANGE: std::ops::RangeInclusive<u32> = 100..=60_000;

/// A peer silent for this many heartbeat intervals is disconnected.
pub const HEARTBEAT_TIMEOUT_FACTOR: u32 = 3;

/// Frames taken from one connection per `poll` at most (fairness between connections).
const FRAMES_PER_POLL: usize = 64;

/// How long a closing connection may take to receive its `Logout`.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// Items of a list answer waiting to be sent, per connection at most (beyond: slow
/// consumer).
const LIST_QUEUE_MAX: usize = 1 << 17;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    /// The listen address could not be bound.
    #[error("binary gateway: cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// An instrument's symbol or currency does not fit the protocol's fields.
    #[error("binary gateway: instrument {symbol:?}: {problem}")]
    Instrument {
        /// The symbol.
        symbol: String,
        /// What does not fit.
        problem: String,
    },
}

/// Counters, read by tests and logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinaryStats {
    /// Connections accepted.
    pub accepted: u64,
    /// Logons accepted.
    pub logons: u64,
    /// Sessions closed, by [`LogoutReason`] value (index = reason byte).
    pub closed_by_reason: [u64; 17],
    /// Connections that ended without a reason (peer closed, socket error).
    pub dropped: u64,
    /// Commands published.
    pub published: u64,
}

enum ListItem {
    Order(OrderStatus),
    Position(PositionReport),
    End(ListEnd),
}

struct Live {
    session: SessionId,
    /// The next server sequence to send.
    next_send: u64,
    md_seq: u64,
    subs: Vec<Subscription>,
    lists: VecDeque<ListItem>,
}

enum Phase {
    AwaitingLogon,
    Authenticating(Logon),
    LoggedOn(Live),
    Closing(Instant),
}

struct Slot {
    conn: Conn,
    phase: Phase,
    token: u64,
    opened: Instant,
    last_recv: Instant,
    last_sent: Instant,
    heartbeat: Duration,
}

struct SessionState {
    grant: Option<Grant>,
    /// The connection logged on as this session (its token).
    conn: Option<u64>,
    next_client_seq: u64,
}

/// What handling one frame led to.
enum Flow {
    Continue,
    /// The inbound ring is full: keep the frame and come back later.
    Blocked,
    Close(LogoutReason, u64),
}

/// Where the history of the sessions' reports comes from (see [`BinaryGateway::history_slot`]).
pub type HistorySlot = Arc<Mutex<Option<Ledgers>>>;

/// The native binary protocol acceptor. See the module docs.
pub struct BinaryGateway {
    config: BinaryConfig,
    listener: TcpListener,
    local_addr: SocketAddr,
    auth: Arc<dyn Authenticator>,
    worker: Option<AuthWorker>,
    history: HistorySlot,
    ledgers: Ledgers,
    sessions: BTreeMap<SessionId, SessionState>,
    slots: Vec<Slot>,
    next_token: u64,
    pending: VecDeque<(SessionId, CommandBody)>,
    market: MarketView,
    infos: Vec<InstrumentInfo>,
    stats: Arc<Mutex<BinaryStats>>,
    local: BinaryStats,
    stats_at: Instant,
    /// When the listener is asked for connections (not on every poll: `pipeline::pacer`).
    accepting: Pacer,
}

impl BinaryGateway {
    /// Binds the listener (non-blocking). `auth` checks credentials; the grants it gives
    /// must be for sessions in `config.sessions`.
    pub fn bind(
        config: BinaryConfig,
        auth: Arc<dyn Authenticator>,
    ) -> Result<BinaryGateway, BinaryError> {
        let bind_err = |source| BinaryError::Bind { addr: config.listen, source };
        let listener = TcpListener::bind(config.listen).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        let mut infos = Vec::with_capacity(config.instruments.len());
        for i in &config.instruments {
            infos.push(instrument_info(i)?);
        }
        let ledgers = Ledgers::new(config.sessions.iter().copied(), config.retain);
        let sessions = config
            .sessions
            .iter()
            .map(|&s| (s, SessionState { grant: None, conn: None, next_client_seq: 1 }))
            .collect();
        let market = MarketView::new(&config.instruments, &config.venues, config.book);
        let now = Instant::now();
        Ok(BinaryGateway {
            listener,
            local_addr,
            auth,
            worker: None,
            history: Arc::new(Mutex::new(None)),
            ledgers,
            sessions,
            slots: Vec::with_capacity(config.max_connections),
            next_token: 1,
            pending: VecDeque::new(),
            market,
            infos,
            stats: Arc::new(Mutex::new(BinaryStats::default())),
            local: BinaryStats::default(),
            stats_at: now,
            accepting: Pacer::accept(),
            config,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where to put the sessions' report history before the gateway starts: `keel serve`
    /// rebuilds it from the journal (after recovery, on the core thread) and puts it here;
    /// `on_start` takes it. Left empty, the ledgers start empty.
    pub fn history_slot(&self) -> HistorySlot {
        Arc::clone(&self.history)
    }

    /// The gateway's counters (copied from its thread every 100 ms and at stop).
    pub fn stats_handle(&self) -> Arc<Mutex<BinaryStats>> {
        Arc::clone(&self.stats)
    }

    fn publish_pending(&mut self, io: &mut GatewayIo) -> bool {
        while let Some(&(session, body)) = self.pending.front() {
            match io.try_publish(session, body) {
                Ok(_) => {
                    self.pending.pop_front();
                    self.local.published += 1;
                }
                Err(PublishError::Full) => return false,
                Err(PublishError::Closed) => {
                    self.pending.clear();
                    return true;
                }
            }
        }
        true
    }

    fn accept(&mut self, io: &mut GatewayIo) -> usize {
        let mut n = 0;
        // A few per round, so a connection storm does not starve the others.
        while n < 8 {
            let (stream, peer) = match self.listener.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    tracing::warn!(gateway = %self.config.name, "accept failed: {e}");
                    break;
                }
            };
            n += 1;
            self.local.accepted += 1;
            let conn = match Conn::new(stream, peer, self.config.send_buffer_bytes) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(%peer, "cannot set up the connection: {e}");
                    continue;
                }
            };
            let now = Instant::now();
            let mut slot = Slot {
                conn,
                phase: Phase::AwaitingLogon,
                token: self.next_token,
                opened: now,
                last_recv: now,
                last_sent: now,
                heartbeat: Duration::from_millis(self.config.heartbeat_ms as u64),
            };
            self.next_token += 1;
            if self.slots.len() >= self.config.max_connections {
                self.close(&mut slot, LogoutReason::TooManyConnections, self.slots.len() as u64);
                let _ = slot.conn.flush();
                continue;
            }
            tracing::debug!(%peer, "binary connection accepted");
            // A blocking runner wakes when the client writes.
            if let Err(e) = io.watch(slot.conn.stream.as_raw_fd(), Trigger::Level) {
                tracing::warn!(%peer, "connection not watched (read at the wait timeout): {e}");
            }
            self.slots.push(slot);
        }
        n
    }

    /// Starts closing a connection: the `Logout` is queued, the session (if any) is
    /// logged out in the core.
    fn close(&mut self, slot: &mut Slot, reason: LogoutReason, detail: u64) {
        if matches!(slot.phase, Phase::Closing(_)) {
            return;
        }
        self.local.closed_by_reason[reason as usize] += 1;
        let graceful = reason == LogoutReason::ClientLogout;
        match &slot.phase {
            Phase::LoggedOn(live) => {
                tracing::info!(peer = %slot.conn.peer, session = %live.session, ?reason, detail, "binary session closed");
                self.end_session(live.session, slot.token, graceful);
            }
            _ => {
                tracing::info!(peer = %slot.conn.peer, ?reason, detail, "binary connection closed")
            }
        }
        let logout = Logout { reason, pad: Default::default(), detail };
        slot.conn.out.push_last(|b| ServerMsg::from(logout).encode(0, b));
        slot.phase = Phase::Closing(Instant::now() + CLOSE_GRACE);
    }

    fn end_session(&mut self, session: SessionId, token: u64, graceful: bool) {
        if let Some(s) = self.sessions.get_mut(&session) {
            if s.conn == Some(token) {
                s.conn = None;
            }
        }
        self.pending.push_back((session, CommandBody::SessionLogout(SessionLogout { graceful })));
    }

    /// The connection is gone (peer closed, socket error): no `Logout` can be sent.
    fn drop_conn(&mut self, slot: &mut Slot, why: &str) {
        if let Phase::LoggedOn(live) = &slot.phase {
            tracing::info!(peer = %slot.conn.peer, session = %live.session, "binary session lost: {why}");
            let session = live.session;
            self.end_session(session, slot.token, false);
        } else if !matches!(slot.phase, Phase::Closing(_)) {
            tracing::debug!(peer = %slot.conn.peer, "binary connection lost: {why}");
        }
        self.local.dropped += 1;
        slot.phase = Phase::Closing(Instant::now());
    }

    /// Reads, decodes and handles what one connection sent.
    fn service_input(&mut self, slot: &mut Slot, io: &mut GatewayIo) -> usize {
        match slot.conn.read() {
            ReadOutcome::Bytes(_) => {}
            ReadOutcome::Closed => {
                self.drop_conn(slot, "peer closed the connection");
                return 1;
            }
            ReadOutcome::Failed(kind) => {
                self.drop_conn(slot, &format!("read error: {kind}"));
                return 1;
            }
        }
        let mut frames = 0;
        while frames < FRAMES_PER_POLL {
            if matches!(slot.phase, Phase::Authenticating(_) | Phase::Closing(_)) {
                break;
            }
            let n = match frame_len(slot.conn.unread(), Direction::Inbound) {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) => {
                    let (reason, detail) = e.logout();
                    tracing::warn!(peer = %slot.conn.peer, "refused frame: {e}");
                    self.close(slot, reason, detail);
                    return frames + 1;
                }
            };
            let decoded = decode_client(&slot.conn.unread()[..n]);
            let flow = match decoded {
                Ok((header, msg)) => {
                    slot.last_recv = Instant::now();
                    self.handle(slot, header.seq, msg, io)
                }
                Err(e) => {
                    tracing::warn!(peer = %slot.conn.peer, "refused frame: {e}");
                    let (reason, detail) = e.logout();
                    Flow::Close(reason, detail)
                }
            };
            match flow {
                Flow::Continue => {
                    slot.conn.consume(n);
                    frames += 1;
                }
                Flow::Blocked => break,
                Flow::Close(reason, detail) => {
                    slot.conn.consume(n);
                    self.close(slot, reason, detail);
                    return frames + 1;
                }
            }
        }
        frames
    }

    fn handle(&mut self, slot: &mut Slot, seq: u64, msg: ClientMsg, io: &mut GatewayIo) -> Flow {
        let live = match &mut slot.phase {
            Phase::AwaitingLogon => {
                return match msg {
                    ClientMsg::Logon(logon) => self.start_logon(slot, logon),
                    _ => Flow::Close(LogoutReason::NotLoggedOn, msg.msg_type() as u64),
                };
            }
            Phase::LoggedOn(live) => live,
            Phase::Authenticating(_) | Phase::Closing(_) => return Flow::Blocked,
        };
        let session = live.session;
        let Some(state) = self.sessions.get_mut(&session) else {
            return Flow::Close(LogoutReason::NotLoggedOn, 0);
        };
        let Some(grant) = state.grant else { return Flow::Close(LogoutReason::NotLoggedOn, 0) };
        let account = grant.account;
        let body = match msg {
            ClientMsg::Heartbeat(_) => return Flow::Continue,
            ClientMsg::Logout(_) => return Flow::Close(LogoutReason::ClientLogout, 0),
            ClientMsg::Logon(_) => return Flow::Close(LogoutReason::DuplicateLogon, 0),
            ClientMsg::OrderListRequest(r) => {
                let ledger = self.ledgers.get(session);
                let orders = ledger.map(|l| l.working_orders()).unwrap_or_default();
                let count = orders.len() as u32;
                for o in &orders {
                    live.lists.push_back(ListItem::Order(order_status(r.request_id, o)));
                }
                live.lists.push_back(ListItem::End(ListEnd {
                    request_id: r.request_id,
                    list: ListKind::Orders,
                    pad: Default::default(),
                    count,
                }));
                return self.check_lists(slot);
            }
            ClientMsg::PositionRequest(r) => {
                let mut count = 0;
                if let Some(ledger) = self.ledgers.get(session) {
                    for (instrument, p) in ledger.positions() {
                        live.lists.push_back(ListItem::Position(position_report(
                            r.request_id,
                            instrument,
                            p,
                        )));
                        count += 1;
                    }
                }
                live.lists.push_back(ListItem::End(ListEnd {
                    request_id: r.request_id,
                    list: ListKind::Positions,
                    pad: Default::default(),
                    count,
                }));
                return self.check_lists(slot);
            }
            ClientMsg::Subscribe(s) => return self.subscribe(slot, s, io.clock().now()),
            ClientMsg::NewOrder(o) => CommandBody::NewOrder(NewOrder {
                cl_ord_id: o.cl_ord_id,
                account,
                instrument: o.instrument,
                route: if o.venue.0 == 0 { Route::BestPrice } else { Route::Venue(o.venue) },
                side: o.side,
                ord_type: o.ord_type,
                tif: o.tif,
                flags: o.flags,
                price: o.price,
                stop_price: o.stop_price,
                trail_ticks: o.trail_ticks,
                qty: o.qty,
                display_qty: o.display_qty,
                expire_at: TimestampNs(o.expire_at),
            }),
            ClientMsg::CancelOrder(c) => CommandBody::CancelOrder(CancelOrder {
                cl_ord_id: c.cl_ord_id,
                orig_cl_ord_id: c.orig_cl_ord_id,
                account,
            }),
            ClientMsg::ReplaceOrder(r) => CommandBody::ReplaceOrder(ReplaceOrder {
                cl_ord_id: r.cl_ord_id,
                orig_cl_ord_id: r.orig_cl_ord_id,
                account,
                price: r.price,
                stop_price: r.stop_price,
                qty: r.qty,
                display_qty: r.display_qty,
            }),
            ClientMsg::MassCancel(m) => CommandBody::MassCancel(schema::MassCancel {
                cl_ord_id: m.cl_ord_id,
                account,
                scope: match m.scope {
                    MassCancelScope::Account => schema::MassCancelScope::Account,
                    MassCancelScope::Instrument => {
                        schema::MassCancelScope::Instrument(m.instrument)
                    }
                    MassCancelScope::Session => schema::MassCancelScope::Session(session),
                },
            }),
        };
        // Order entry: in client sequence, then into the ring.
        if seq != state.next_client_seq {
            return Flow::Close(LogoutReason::SequenceGap, state.next_client_seq);
        }
        match io.try_publish(session, body) {
            Ok(_) => {
                state.next_client_seq += 1;
                self.local.published += 1;
                Flow::Continue
            }
            Err(PublishError::Full) => Flow::Blocked,
            Err(PublishError::Closed) => Flow::Close(LogoutReason::ServerShutdown, 0),
        }
    }

    fn check_lists(&self, slot: &Slot) -> Flow {
        match &slot.phase {
            Phase::LoggedOn(live) if live.lists.len() > LIST_QUEUE_MAX => {
                Flow::Close(LogoutReason::SlowConsumer, live.lists.len() as u64)
            }
            _ => Flow::Continue,
        }
    }

    fn start_logon(&mut self, slot: &mut Slot, logon: Logon) -> Flow {
        let hb = logon.heartbeat_ms;
        if hb != 0 && !HEARTBEAT_MS_RANGE.contains(&hb) {
            let offset =
                Logon::LAYOUT.iter().find(|f| f.name == "heartbeat_ms").map_or(0, |f| f.offset);
            return Flow::Close(LogoutReason::FieldOutOfRange, (0x01u64 << 32) | offset as u64);
        }
        let worker = self.worker.as_ref().expect("the auth worker starts in on_start");
        if !worker.submit(slot.token, logon.username.as_str(), logon.password.as_bytes()) {
            return Flow::Close(LogoutReason::BadCredentials, 0);
        }
        slot.phase = Phase::Authenticating(logon);
        Flow::Continue
    }

    /// A credential check finished.
    fn finish_logon(&mut self, token: u64, grant: Option<Grant>, now: TimestampNs) {
        let Some(i) = self.slots.iter().position(|s| s.token == token) else { return };
        let mut slot = self.slots.swap_remove(i);
        let Phase::Authenticating(logon) = slot.phase else {
            self.slots.push(slot);
            return;
        };
        slot.phase = Phase::AwaitingLogon;
        match self.grant_logon(&mut slot, &logon, grant, now) {
            Ok(()) => {}
            Err((reason, detail)) => {
                tracing::warn!(peer = %slot.conn.peer, user = logon.username.as_str(), ?reason, "binary logon refused");
                self.close(&mut slot, reason, detail);
            }
        }
        self.slots.push(slot);
    }

    fn grant_logon(
        &mut self,
        slot: &mut Slot,
        logon: &Logon,
        grant: Option<Grant>,
        now: TimestampNs,
    ) -> Result<(), (LogoutReason, u64)> {
        let grant = grant.ok_or((LogoutReason::BadCredentials, 0))?;
        let state = self
            .sessions
            .get_mut(&grant.session)
            .ok_or((LogoutReason::BadCredentials, grant.session.0 as u64))?;
        if state.conn.is_some() {
            return Err((LogoutReason::AlreadyConnected, grant.session.0 as u64));
        }
        let ledger = self.ledgers.get(grant.session).ok_or((LogoutReason::BadCredentials, 0))?;
        let last = ledger.last_seq();
        let replay_from = match logon.last_server_seq {
            u64::MAX => last + 1,
            k if k > last => return Err((LogoutReason::ServerSeqAhead, last)),
            k => (k + 1).max(ledger.first_retained()),
        };
        state.conn = Some(slot.token);
        state.grant = Some(grant);
        let heartbeat_ms =
            if logon.heartbeat_ms == 0 { self.config.heartbeat_ms } else { logon.heartbeat_ms };
        slot.heartbeat = Duration::from_millis(heartbeat_ms as u64);
        self.pending.push_back((
            grant.session,
            CommandBody::SessionLogon(SessionLogon {
                kind: SessionKind::BinaryClient,
                account: grant.account,
                cancel_on_disconnect: grant.cancel_on_disconnect,
            }),
        ));
        let ack = LogonAck {
            session: grant.session,
            account: grant.account.0,
            heartbeat_ms,
            instruments: self.infos.len() as u32,
            next_client_seq: state.next_client_seq,
            last_server_seq: last,
            replay_from,
            server_time: now,
        };
        let out = &mut slot.conn.out;
        let mut ok = out.push(|b| ServerMsg::from(ack).encode(0, b));
        for info in &self.infos {
            ok &= out.push(|b| ServerMsg::from(*info).encode(0, b));
        }
        self.local.logons += 1;
        tracing::info!(
            peer = %slot.conn.peer,
            user = logon.username.as_str(),
            session = %grant.session,
            replay_from,
            last_server_seq = last,
            "binary session logged on"
        );
        slot.phase = Phase::LoggedOn(Live {
            session: grant.session,
            next_send: replay_from,
            md_seq: 0,
            subs: Vec::new(),
            lists: VecDeque::new(),
        });
        if !ok {
            return Err((LogoutReason::SlowConsumer, 0));
        }
        Ok(())
    }

    fn subscribe(&mut self, slot: &mut Slot, s: Subscribe, now: TimestampNs) -> Flow {
        let Phase::LoggedOn(live) = &mut slot.phase else { return Flow::Continue };
        let mut ack = SubscribeAck {
            instrument: s.instrument,
            venue: s.venue,
            depth: s.depth,
            status: SubscribeStatus::Subscribed,
        };
        let venue = self.market.resolve(s.instrument, s.venue);
        let existing = venue.ok().and_then(|v| {
            live.subs.iter().position(|x| x.instrument == s.instrument && x.venue == v)
        });
        match venue {
            Err(status) => ack.status = status,
            Ok(v) => {
                ack.venue = v;
                if s.depth == 0 {
                    if let Some(i) = existing {
                        live.subs.remove(i);
                    }
                    ack.status = SubscribeStatus::Unsubscribed;
                } else if s.depth as usize > DEPTH_LEVELS {
                    ack.status = SubscribeStatus::DepthTooLarge;
                } else if existing.is_none() && live.subs.len() >= self.config.max_subscriptions {
                    ack.status = SubscribeStatus::TooManySubscriptions;
                } else {
                    let mut sub = Subscription {
                        instrument: s.instrument,
                        venue: v,
                        depth: s.depth,
                        last_top: None,
                        last_depth: None,
                    };
                    let top = self.market.top(s.instrument, v, now, true);
                    let depth = self.market.depth(s.instrument, v, s.depth as usize, now, true);
                    live.md_seq += 1;
                    let mut ok =
                        slot.conn.out.push(|b| ServerMsg::from(ack).encode(live.md_seq, b));
                    if let Some(t) = top.and_then(|t| sub.top_changed(t)) {
                        live.md_seq += 1;
                        ok &= slot.conn.out.push(|b| ServerMsg::from(t).encode(live.md_seq, b));
                    }
                    if let Some(d) = depth.and_then(|d| sub.depth_changed(d)) {
                        live.md_seq += 1;
                        ok &= slot.conn.out.push(|b| ServerMsg::from(d).encode(live.md_seq, b));
                    }
                    match existing {
                        Some(i) => live.subs[i] = sub,
                        None => live.subs.push(sub),
                    }
                    return if ok {
                        Flow::Continue
                    } else {
                        Flow::Close(LogoutReason::SlowConsumer, 0)
                    };
                }
            }
        }
        live.md_seq += 1;
        if slot.conn.out.push(|b| ServerMsg::from(ack).encode(live.md_seq, b)) {
            Flow::Continue
        } else {
            Flow::Close(LogoutReason::SlowConsumer, 0)
        }
    }

    /// Fills a logged-on connection's send buffer: list answers first, then sequenced
    /// reports (up to half the buffer, so market data always has room), then writes.
    fn service_output(&mut self, slot: &mut Slot) -> usize {
        let mut work = 0;
        if let Phase::LoggedOn(live) = &mut slot.phase {
            while let Some(item) = live.lists.front() {
                let msg = match item {
                    ListItem::Order(m) => ServerMsg::from(*m),
                    ListItem::Position(m) => ServerMsg::from(*m),
                    ListItem::End(m) => ServerMsg::from(*m),
                };
                if !slot.conn.out.push(|b| msg.encode(0, b)) {
                    break;
                }
                live.lists.pop_front();
                work += 1;
            }
            let half = slot.conn.out.capacity() / 2;
            if let Some(ledger) = self.ledgers.get(live.session) {
                while live.next_send <= ledger.last_seq() && slot.conn.out.pending() < half {
                    let Some(report) = ledger.get(live.next_send) else {
                        // Fell out of the retained window: the client did not keep up.
                        let behind = ledger.last_seq() - live.next_send;
                        self.close(slot, LogoutReason::SlowConsumer, behind);
                        return work + 1;
                    };
                    let seq = live.next_send;
                    if !slot.conn.out.push(|b| report.encode(seq, b)) {
                        break;
                    }
                    live.next_send += 1;
                    work += 1;
                }
            }
        }
        work + self.flush(slot)
    }

    fn flush(&mut self, slot: &mut Slot) -> usize {
        if slot.conn.out.pending() == 0 {
            return 0;
        }
        match slot.conn.flush() {
            Ok(0) => 0,
            Ok(_) => {
                slot.last_sent = Instant::now();
                1
            }
            Err(kind) => {
                self.drop_conn(slot, &format!("write error: {kind}"));
                1
            }
        }
    }

    /// Heartbeats and timeouts.
    fn service_timers(&mut self, slot: &mut Slot, now: Instant) {
        match slot.phase {
            Phase::AwaitingLogon | Phase::Authenticating(_) => {
                let limit = Duration::from_millis(self.config.logon_timeout_ms as u64);
                if now.duration_since(slot.opened) > limit {
                    self.close(
                        slot,
                        LogoutReason::LogonTimeout,
                        self.config.logon_timeout_ms as u64,
                    );
                }
            }
            Phase::LoggedOn(_) => {
                if now.duration_since(slot.last_recv) > slot.heartbeat * HEARTBEAT_TIMEOUT_FACTOR {
                    let ms = now.duration_since(slot.last_recv).as_millis() as u64;
                    self.close(slot, LogoutReason::HeartbeatTimeout, ms);
                } else if now.duration_since(slot.last_sent) >= slot.heartbeat
                    && slot.conn.out.pending() == 0
                    && slot.conn.out.push(|b| ServerMsg::from(Heartbeat {}).encode(0, b))
                {
                    // Set now so that one is queued per interval.
                    slot.last_sent = now;
                }
            }
            Phase::Closing(_) => {}
        }
    }

    fn copy_stats(&mut self) {
        if let Ok(mut s) = self.stats.lock() {
            *s = self.local;
        }
    }
}

fn instrument_info(i: &Instrument) -> Result<InstrumentInfo, BinaryError> {
    let bad = |problem: String| BinaryError::Instrument { symbol: i.symbol.clone(), problem };
    let symbol = Text::<SYMBOL_LEN>::new(&i.symbol).ok_or_else(|| {
        bad(format!("the symbol must be at most {SYMBOL_LEN} printable ASCII bytes"))
    })?;
    let currency = Text::<CURRENCY_LEN>::new(&i.currency).ok_or_else(|| {
        bad(format!("the currency must be at most {CURRENCY_LEN} printable ASCII bytes"))
    })?;
    let dec = |what: &str, d: rust_decimal::Decimal| -> Result<(i64, u8), BinaryError> {
        let m = i64::try_from(d.mantissa())
            .map_err(|_| bad(format!("{what} {d} does not fit an i64 mantissa")))?;
        Ok((m, d.scale() as u8))
    };
    let (tick_size_mantissa, tick_scale) = dec("tick size", i.tick_size)?;
    let (lot_size_mantissa, lot_scale) = dec("lot size", i.lot_size)?;
    Ok(InstrumentInfo {
        instrument: i.id,
        venue: i.venues.first().copied().unwrap_or(VenueId(0)),
        tick_scale,
        lot_scale,
        symbol,
        currency,
        tick_size_mantissa,
        lot_size_mantissa,
    })
}

impl Gateway for BinaryGateway {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn routes(&self) -> Routes {
        Routes { sessions: self.config.sessions.clone(), venues: Vec::new() }
    }

    fn wants_market_data(&self) -> bool {
        true
    }

    /// Only a subscribed client waits for market data; without one, the book view is kept
    /// current whenever the thread wakes anyway.
    fn market_data_urgent(&self) -> bool {
        self.slots
            .iter()
            .any(|s| matches!(&s.phase, Phase::LoggedOn(live) if !live.subs.is_empty()))
    }

    fn on_start(&mut self, io: &mut GatewayIo) {
        // Edge: accepting is paced (`accepting`), so a waiting connection must not wake
        // the thread again until the pacer lets it be taken.
        if let Err(e) = io.watch(self.listener.as_raw_fd(), Trigger::Edge) {
            tracing::warn!(gateway = %self.config.name, "listener not watched: {e}");
        }
        if let Some(history) = self.history.lock().ok().and_then(|mut h| h.take()) {
            self.ledgers = history;
        }
        let name = format!("keel-{}-auth", self.config.name);
        match AuthWorker::start(&name, Arc::clone(&self.auth), io.waker()) {
            Ok(w) => self.worker = Some(w),
            Err(e) => tracing::error!("binary gateway: cannot start the auth thread: {e}"),
        }
        for &session in &self.config.sessions {
            self.pending.push_back((
                session,
                CommandBody::SessionLogout(SessionLogout { graceful: false }),
            ));
        }
        tracing::info!(gateway = %self.config.name, listen = %self.local_addr, "binary gateway listening");
    }

    fn on_output(&mut self, delivery: &Delivery, _io: &mut GatewayIo) {
        self.ledgers.record(delivery.seq, &delivery.output);
    }

    fn on_market_data(&mut self, cmd: &Command, _io: &mut GatewayIo) {
        let touched = self.market.apply(cmd);
        if touched == Touched::Nothing {
            return;
        }
        let mut slots = std::mem::take(&mut self.slots);
        for slot in &mut slots {
            let Phase::LoggedOn(live) = &mut slot.phase else { continue };
            let mut ok = true;
            for sub in &mut live.subs {
                let hit = match touched {
                    Touched::Book(i, v) => sub.instrument == i && sub.venue == v,
                    Touched::Venue(v) => sub.venue == v,
                    Touched::Nothing => false,
                };
                if !hit || self.market.rebuilding(sub.instrument, sub.venue) {
                    continue;
                }
                if let Some(t) = self.market.top(sub.instrument, sub.venue, cmd.ts, false) {
                    if let Some(t) = sub.top_changed(t) {
                        live.md_seq += 1;
                        ok &= slot.conn.out.push(|b| ServerMsg::from(t).encode(live.md_seq, b));
                    }
                }
                let d =
                    self.market.depth(sub.instrument, sub.venue, sub.depth as usize, cmd.ts, false);
                if let Some(d) = d.and_then(|d| sub.depth_changed(d)) {
                    live.md_seq += 1;
                    ok &= slot.conn.out.push(|b| ServerMsg::from(d).encode(live.md_seq, b));
                }
            }
            if !ok {
                let pending = slot.conn.out.pending() as u64;
                self.close(slot, LogoutReason::SlowConsumer, pending);
            }
        }
        self.slots = slots;
    }

    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let mut work = 0;
        let ready = self.publish_pending(io);
        let now = Instant::now();
        let now_ts = io.clock().now();
        if self.accepting.due(now_ts.0) {
            work += self.accept(io);
        }
        if let Some(worker) = &self.worker {
            let mut results = Vec::new();
            while let Some(r) = worker.try_result() {
                results.push(r);
            }
            for (token, grant) in results {
                self.finish_logon(token, grant, now_ts);
                work += 1;
            }
        }
        let mut slots = std::mem::take(&mut self.slots);
        for slot in &mut slots {
            // While logons/logouts wait for room in the ring, no new input is read: a
            // session's commands stay in order behind its logon.
            if ready && self.pending.is_empty() && !matches!(slot.phase, Phase::Closing(_)) {
                work += self.service_input(slot, io);
            }
            self.service_timers(slot, now);
            work += self.service_output(slot);
        }
        // Closing connections go once their Logout is written (or the grace is over).
        slots.retain_mut(|slot| match slot.phase {
            Phase::Closing(deadline) => {
                let _ = slot.conn.flush();
                let done = slot.conn.out.pending() == 0 || Instant::now() >= deadline;
                if done {
                    let _ = slot.conn.stream.shutdown(std::net::Shutdown::Both);
                }
                !done
            }
            _ => true,
        });
        self.slots = slots;
        if now.duration_since(self.stats_at) >= Duration::from_millis(100) {
            self.stats_at = now;
            self.copy_stats();
        }
        work
    }

    /// Commands waiting for room in the ring are due at once: a blocking runner must not
    /// sleep on them (the core does not ring when it frees room).
    fn wake_at_ns(&self) -> Option<u64> {
        (!self.pending.is_empty()).then_some(0)
    }

    fn on_stop(&mut self, io: &mut GatewayIo) {
        let mut slots = std::mem::take(&mut self.slots);
        for slot in &mut slots {
            self.close(slot, LogoutReason::ServerShutdown, 0);
        }
        // Best effort: let the Logouts out for a moment.
        let deadline = Instant::now() + Duration::from_millis(200);
        while Instant::now() < deadline && slots.iter().any(|s| s.conn.out.pending() > 0) {
            for slot in &mut slots {
                let _ = slot.conn.flush();
            }
            std::thread::yield_now();
        }
        for slot in &slots {
            let _ = slot.conn.stream.shutdown(std::net::Shutdown::Both);
        }
        // The logouts must reach the core (cancel-on-disconnect): blocking is allowed here.
        while let Some((session, body)) = self.pending.pop_front() {
            if io.publish(session, body).is_err() {
                break;
            }
            self.local.published += 1;
        }
        self.worker = None;
        self.copy_stats();
    }
}
