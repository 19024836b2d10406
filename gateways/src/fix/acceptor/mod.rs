//! The FIX acceptor for client order entry: a pipeline [`Gateway`] that listens on a TCP
//! port (loopback by default), runs one [`Session`] per configured FIX client and turns
//! their orders into commands and the core's answers into messages.
//!
//! # Sessions and clients
//! Every `[[client]]` entry with `protocol = "fix"` is one session: its SenderCompID is
//! its username, its TargetCompID Keel's CompID, and it owns a fixed core session id, an
//! account and a message store (`<store dir>/FIX.4.4-<Keel>-<client>/`, a small journal)
//! that keeps its sequence numbers and sent messages across reconnects and restarts.
//! A connection is bound to a session by its first message, which must be a Logon:
//! - unknown SenderCompID, or the session already connected elsewhere: a Logout (numbered
//!   1, outside any session's numbering, so an unauthenticated peer cannot move a
//!   session's numbers) and the connection closes;
//! - Username (553) must equal the SenderCompID and Password (554) must verify against
//!   the salted hash ([`ClientDirectory::authenticate`]); otherwise the Logon is refused
//!   with the Text "bad credentials" (the precise reason goes to Keel's log, never the
//!   password). Argon2 verification runs on the gateway thread (tens of ms).
//!
//! On logon the core gets a `SessionLogon` (kind FixClient, the account, the client's
//! cancel-on-disconnect), and when the connection ends a `SessionLogout` (graceful after
//! a Logout exchange): the core cancels the session's working orders if so configured.
//!
//! # Threading and back-pressure
//! Everything runs on the gateway's thread with non-blocking std sockets polled from
//! [`Gateway::poll`]: no async runtime. Commands go out with `try_publish`; when the
//! inbound ring is full they wait in a bounded queue and the gateway stops reading its
//! sockets until the queue drains (TCP then pushes back on the clients). Outputs are
//! encoded and stored in [`Gateway::on_output`] and written first thing in the next
//! [`Gateway::poll`], which the pipeline runs as soon as the outputs waiting on the ring
//! are delivered: one write per connection per batch, not one per report. Nothing blocks:
//! a socket that does not take the bytes keeps them in the session's bounded output
//! buffer; a client that lets it grow past `send_buffer_max_bytes` is disconnected. The
//! listener is asked for new connections once a millisecond, not on every poll.

pub mod decimals;
mod dictionary;
pub mod order_entry;
pub mod reports;

pub use dictionary::Dictionary;

use crate::auth::{ClientDirectory, ClientEntry, Protocol};
use crate::fix::encode::{Body, Header, write_message};
use crate::fix::inbound::{InBuffer, Next};
use crate::fix::message::Decoder;
use crate::fix::session::{EndReason, Received, Role, Session, SessionConfig};
use crate::fix::store::{JournalStore, StoreConfig, StoreError};
use crate::fix::tags::{msg_type as mt, tag};
use crate::fix::time::Precision;
use keel_engine::pipeline::{Delivery, Gateway, GatewayIo, Pacer, PublishError, Routes, Trigger};
use keel_engine::schema::{CommandBody, OutputBody, SessionKind, SessionLogon, SessionLogout};
use keel_engine::{ClOrdId, SessionId};
use order_entry::{Decision, Sender, decide};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::Duration;
use tracing::{error, info, warn};

/// Everything the acceptor needs.
#[derive(Clone, Debug)]
pub struct AcceptorConfig {
    /// Gateway name (logs, thread name).
    pub name: String,
    /// Listen address.
    pub listen: SocketAddr,
    /// Keel's CompID.
    pub comp_id: String,
    /// The configured clients (those with protocol FIX are served here).
    pub clients: ClientDirectory,
    /// Smallest HeartBtInt accepted, seconds.
    pub heartbeat_s_min: u32,
    /// Largest HeartBtInt accepted, seconds.
    pub heartbeat_s_max: u32,
    /// Largest SendingTime difference accepted.
    pub sending_time_tolerance: Duration,
    /// Time a connection has to log on.
    pub logon_timeout: Duration,
    /// Time the client has to answer Keel's Logout.
    pub logout_timeout: Duration,
    /// Precision of the timestamps Keel writes.
    pub precision: Precision,
    /// Directory of the sessions' message stores.
    pub store_dir: PathBuf,
    /// How the stores' journals are written.
    pub store: StoreConfig,
    /// Instruments and venues by their FIX names.
    pub dictionary: Dictionary,
    /// Most simultaneous connections (logged on or not).
    pub max_connections: usize,
    /// Largest message accepted, bytes.
    pub max_message_bytes: usize,
    /// Largest backlog of unwritten output per connection before it is dropped.
    pub send_buffer_max_bytes: usize,
}

/// The acceptor could not start.
#[derive(Debug, thiserror::Error)]
pub enum AcceptorError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A session's message store could not be opened.
    #[error("FIX session {user}: {source}")]
    Store {
        /// The client.
        user: String,
        /// Why.
        source: StoreError,
    },
}

/// Commands accepted from sessions and not yet published, beyond which the sockets are
/// not read.
const PENDING_HIGH: usize = 256;
/// Mass cancels awaiting their report.
const MASS_PENDING_MAX: usize = 64;
/// Bytes read per connection per poll (the receive buffer's free space, at most).
const READS_PER_POLL: usize = 1;

struct Client {
    entry: ClientEntry,
    session: Session<JournalStore>,
    /// The connection bound to this session.
    conn: Option<u64>,
    /// A SessionLogon was published and no SessionLogout yet.
    logged_on_core: bool,
}

struct Conn {
    stream: TcpStream,
    inbuf: InBuffer,
    st: ConnState,
}

/// A connection's state apart from its socket and input buffer (so that a frame borrowed
/// from the buffer can be handled while the state changes).
struct ConnState {
    id: u64,
    peer: SocketAddr,
    client: Option<usize>,
    accepted_ns: u64,
    /// Bytes to write before any session is bound (a stateless Logout).
    unbound_out: Vec<u8>,
    /// Close once the output is flushed: why.
    closing: Option<EndReason>,
}

/// The client order-entry acceptor (see the module docs).
pub struct FixAcceptor {
    name: String,
    comp_id: String,
    directory: ClientDirectory,
    dictionary: Dictionary,
    precision: Precision,
    logon_timeout_ns: u64,
    max_connections: usize,
    max_message_bytes: usize,
    send_buffer_max_bytes: usize,
    listener: TcpListener,
    local_addr: SocketAddr,
    clients: Vec<Client>,
    conns: Vec<Conn>,
    next_conn_id: u64,
    /// When the listener is asked for connections (not on every poll: `pipeline::pacer`).
    accepting: Pacer,
    /// `deliver` queued output since the last poll.
    delivered: bool,
    decoder: Decoder,
    body: Body,
    pending: VecDeque<(SessionId, CommandBody)>,
    mass_pending: Vec<(SessionId, ClOrdId, u8)>,
    last_refusal_id: u64,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for FixAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixAcceptor")
            .field("name", &self.name)
            .field("listen", &self.local_addr)
            .field("clients", &self.clients.len())
            .field("connections", &self.conns.len())
            .finish()
    }
}

/// A store directory name from CompIDs: letters, digits, `.`, `_` and `-` kept.
fn store_name(ours: &str, theirs: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(
                |c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' },
            )
            .collect()
    };
    format!("FIX.4.4-{}-{}", clean(ours), clean(theirs))
}

impl FixAcceptor {
    /// Binds the listener and opens every FIX client's message store.
    pub fn bind(config: AcceptorConfig) -> Result<FixAcceptor, AcceptorError> {
        let listener = TcpListener::bind(config.listen)
            .map_err(|source| AcceptorError::Bind { addr: config.listen, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| AcceptorError::Bind { addr: config.listen, source })?;
        let local_addr = listener.local_addr().unwrap_or(config.listen);
        let mut clients = Vec::new();
        for entry in config.clients.for_protocol(Protocol::Fix) {
            let dir = config.store_dir.join(store_name(&config.comp_id, &entry.username));
            let store = JournalStore::open(&dir, &config.store)
                .map_err(|source| AcceptorError::Store { user: entry.username.clone(), source })?;
            let mut sc = SessionConfig::new(Role::Acceptor, &config.comp_id, &entry.username);
            sc.heartbeat_s_min = config.heartbeat_s_min;
            sc.heartbeat_s_max = config.heartbeat_s_max;
            sc.sending_time_tolerance_ns = config.sending_time_tolerance.as_nanos() as u64;
            sc.logon_timeout_ns = config.logon_timeout.as_nanos() as u64;
            sc.logout_timeout_ns = config.logout_timeout.as_nanos() as u64;
            sc.precision = config.precision;
            clients.push(Client {
                entry: entry.clone(),
                session: Session::new(sc, store),
                conn: None,
                logged_on_core: false,
            });
        }
        Ok(FixAcceptor {
            name: config.name,
            comp_id: config.comp_id,
            directory: config.clients,
            dictionary: config.dictionary,
            precision: config.precision,
            logon_timeout_ns: config.logon_timeout.as_nanos() as u64,
            max_connections: config.max_connections.max(1),
            max_message_bytes: config.max_message_bytes.max(256),
            send_buffer_max_bytes: config.send_buffer_max_bytes.max(64 * 1024),
            listener,
            local_addr,
            clients,
            conns: Vec::new(),
            next_conn_id: 1,
            accepting: Pacer::accept(),
            delivered: false,
            decoder: Decoder::default(),
            body: Body::with_capacity(1024),
            pending: VecDeque::with_capacity(PENDING_HIGH + 8),
            mass_pending: Vec::with_capacity(MASS_PENDING_MAX),
            last_refusal_id: 0,
            scratch: Vec::with_capacity(512),
        })
    }

    /// The address actually bound (port 0 in the configuration picks a free one).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    fn client_of_session(&self, session: SessionId) -> Option<usize> {
        self.clients.iter().position(|c| c.entry.session == session)
    }

    // ---- connections -----------------------------------------------------------------

    fn accept(&mut self, now_ns: u64, io: &mut GatewayIo) -> usize {
        let mut n = 0;
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    n += 1;
                    if self.conns.len() >= self.max_connections {
                        warn!(gateway = %self.name, %peer, max = self.max_connections, "FIX connection refused: too many connections");
                        continue;
                    }
                    if let Err(e) = stream.set_nonblocking(true) {
                        warn!(gateway = %self.name, %peer, "FIX connection dropped: {e}");
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    let id = self.next_conn_id;
                    self.next_conn_id += 1;
                    info!(gateway = %self.name, %peer, conn = id, "FIX connection accepted");
                    // A blocking runner wakes when the client writes.
                    if let Err(e) = io.watch(stream.as_raw_fd(), Trigger::Level) {
                        warn!(gateway = %self.name, %peer, "connection not watched (read at the wait timeout): {e}");
                    }
                    self.conns.push(Conn {
                        stream,
                        inbuf: InBuffer::new(self.max_message_bytes),
                        st: ConnState {
                            id,
                            peer,
                            client: None,
                            accepted_ns: now_ns,
                            unbound_out: Vec::new(),
                            closing: None,
                        },
                    });
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return n,
                Err(e) => {
                    warn!(gateway = %self.name, "FIX accept: {e}");
                    return n;
                }
            }
        }
    }

    /// Reads and handles what one connection sent.
    fn read_conn(&mut self, ci: usize, now_ns: u64) -> usize {
        let mut work = 0;
        for _ in 0..READS_PER_POLL {
            if self.conns[ci].st.closing.is_some() || self.pending.len() >= PENDING_HIGH {
                break;
            }
            let conn = &mut self.conns[ci];
            let spare = conn.inbuf.spare();
            if spare.is_empty() {
                break;
            }
            match conn.stream.read(spare) {
                Ok(0) => {
                    conn.st.closing = Some(EndReason::Disconnected);
                    work += 1;
                    break;
                }
                Ok(n) => {
                    conn.inbuf.filled(n);
                    work += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    info!(gateway = %self.name, conn = conn.st.id, "FIX connection lost: {e}");
                    conn.st.closing = Some(EndReason::Disconnected);
                    break;
                }
            }
        }
        work + self.handle_frames(ci, now_ns)
    }

    fn handle_frames(&mut self, ci: usize, now_ns: u64) -> usize {
        let mut work = 0;
        loop {
            if self.conns[ci].st.closing.is_some() || self.pending.len() >= PENDING_HIGH {
                return work;
            }
            // Split borrows: the frame lives in the connection's buffer, the decoder and
            // the sessions are other fields.
            let FixAcceptor { conns, decoder, .. } = self;
            let conn = &mut conns[ci];
            let Some(next) = conn.inbuf.next_frame() else { return work };
            work += 1;
            let frame = match next {
                Next::Frame(f) => f,
                Next::Garbled { bytes, why } => {
                    warn!(gateway = %self.name, conn = conn.st.id, bytes, "garbled FIX input ignored: {why}");
                    continue;
                }
            };
            let msg = match decoder.decode(frame) {
                Ok(m) => m,
                Err(e) => {
                    warn!(gateway = %self.name, conn = conn.st.id, "garbled FIX message ignored: {e}");
                    continue;
                }
            };
            let client = match conn.st.client {
                Some(k) => k,
                None => match bind(&self.name, &mut self.clients, &mut conn.st, &msg, now_ns) {
                    Some(k) => k,
                    None => continue,
                },
            };
            let c = &mut self.clients[client];
            let received = c.session.on_message(now_ns, &msg);
            match received {
                Received::Handled | Received::LoggedOn => {}
                Received::Disconnect(reason) => {
                    conn.st.closing = Some(reason);
                }
                Received::LogonRequest => {
                    let user = msg.get(tag::USERNAME);
                    let password = msg.get(tag::PASSWORD);
                    let verdict = match (user, password) {
                        (Some(u), Some(p)) if u == c.entry.username.as_bytes() => self
                            .directory
                            .authenticate(Protocol::Fix, &c.entry.username, p)
                            .map_err(|e| e.to_string())
                            .and_then(|e| {
                                if e.session == c.entry.session {
                                    Ok(())
                                } else {
                                    Err("the user's session changed".into())
                                }
                            }),
                        (Some(_), Some(_)) => {
                            Err("Username (553) differs from SenderCompID (49)".into())
                        }
                        _ => Err("Username (553) and Password (554) are required".into()),
                    };
                    match verdict {
                        Ok(()) => match c.session.accept_logon(now_ns) {
                            Ok(()) => {
                                info!(gateway = %self.name, user = %c.entry.username, session = c.entry.session.0, peer = %conn.st.peer,
                                    heartbeat_s = c.session.heartbeat_s(), "FIX client logged on");
                                self.pending.push_back((
                                    c.entry.session,
                                    CommandBody::SessionLogon(SessionLogon {
                                        kind: SessionKind::FixClient,
                                        account: c.entry.account,
                                        cancel_on_disconnect: c.entry.cancel_on_disconnect,
                                    }),
                                ));
                                c.logged_on_core = true;
                            }
                            Err(reason) => conn.st.closing = Some(reason),
                        },
                        Err(why) => {
                            warn!(gateway = %self.name, user = %c.entry.username, peer = %conn.st.peer, "FIX logon refused: {why}");
                            let reason = c.session.refuse_logon(now_ns, "bad credentials");
                            conn.st.closing = Some(reason);
                        }
                    }
                }
                Received::App => {
                    let seq = msg
                        .get(tag::MSG_SEQ_NUM)
                        .and_then(|v| crate::fix::value::parse_u64(v).ok())
                        .unwrap_or(0);
                    let decision =
                        decide(&msg, &self.dictionary, Sender { account: c.entry.account });
                    let r = answer(
                        decision,
                        &msg,
                        seq,
                        now_ns,
                        c,
                        &mut self.body,
                        &mut self.pending,
                        &mut self.mass_pending,
                        &mut self.last_refusal_id,
                        &mut self.scratch,
                        self.precision,
                    );
                    if let Err(reason) = r {
                        error!(gateway = %self.name, user = %c.entry.username, "FIX session stopped: {reason}");
                        conn.st.closing = Some(reason);
                    }
                }
            }
        }
    }

    /// Writes pending output; closes connections that asked for it or fell too far
    /// behind. Returns the work done.
    fn flush_and_reap(&mut self, now_ns: u64) -> usize {
        let mut work = 0;
        let mut i = 0;
        while i < self.conns.len() {
            let conn = &mut self.conns[i];
            let session = conn.st.client.map(|k| &mut self.clients[k].session);
            let failed = match session {
                Some(s) => write_out(&mut conn.stream, s.outbound()).map(|n| {
                    s.consume_outbound(n);
                    work += (n > 0) as usize;
                    s.outbound().len()
                }),
                None => write_out(&mut conn.stream, &conn.st.unbound_out).map(|n| {
                    conn.st.unbound_out.drain(..n);
                    conn.st.unbound_out.len()
                }),
            };
            match failed {
                Ok(left) if left > self.send_buffer_max_bytes => {
                    warn!(gateway = %self.name, conn = conn.st.id, bytes = left, "FIX client is not reading: disconnecting");
                    conn.st.closing.get_or_insert(EndReason::Protocol("send buffer full".into()));
                }
                Ok(_) => {}
                Err(e) => {
                    info!(gateway = %self.name, conn = conn.st.id, "FIX connection lost: {e}");
                    conn.st.closing.get_or_insert(EndReason::Disconnected);
                }
            }
            if conn.st.client.is_none()
                && conn.st.closing.is_none()
                && now_ns.saturating_sub(conn.st.accepted_ns) >= self.logon_timeout_ns
            {
                conn.st.closing = Some(EndReason::LogonTimeout);
            }
            if conn.st.closing.is_some() {
                let conn = self.conns.swap_remove(i);
                self.close(conn);
                work += 1;
            } else {
                i += 1;
            }
        }
        work
    }

    fn close(&mut self, conn: Conn) {
        let reason = conn.st.closing.unwrap_or(EndReason::Disconnected);
        let _ = conn.stream.shutdown(std::net::Shutdown::Both);
        let Some(k) = conn.st.client else {
            info!(gateway = %self.name, conn = conn.st.id, peer = %conn.st.peer, "FIX connection closed before logon: {reason}");
            return;
        };
        let c = &mut self.clients[k];
        c.session.on_disconnect();
        c.conn = None;
        info!(gateway = %self.name, user = %c.entry.username, peer = %conn.st.peer, "FIX session ended: {reason}");
        if c.logged_on_core {
            c.logged_on_core = false;
            self.pending.push_back((
                c.entry.session,
                CommandBody::SessionLogout(SessionLogout { graceful: reason.is_graceful() }),
            ));
        }
    }

    fn timers(&mut self, now_ns: u64) {
        for conn in &mut self.conns {
            if let (Some(k), None) = (conn.st.client, &conn.st.closing) {
                if let Some(reason) = self.clients[k].session.on_timer(now_ns) {
                    conn.st.closing = Some(reason);
                }
            }
        }
    }

    fn publish_pending(&mut self, io: &mut GatewayIo) -> usize {
        let mut n = 0;
        while let Some(&(session, body)) = self.pending.front() {
            match io.try_publish(session, body) {
                Ok(_) => {
                    self.pending.pop_front();
                    n += 1;
                }
                Err(PublishError::Full) => break,
                Err(PublishError::Closed) => {
                    // Stopping: what was not published is reported, not silently lost.
                    warn!(gateway = %self.name, dropped = self.pending.len(), "FIX commands not published: the pipeline is stopping");
                    self.pending.clear();
                    break;
                }
            }
        }
        n
    }

    /// Encodes an output for its session, stores it and writes it at once if possible.
    fn deliver(&mut self, delivery: &Delivery, now_ns: u64) {
        let out = &delivery.output;
        let (session, msg_type) = match &out.body {
            OutputBody::ExecReport(r) => (r.session, mt::EXECUTION_REPORT),
            OutputBody::CancelReject(c) => (c.session, mt::ORDER_CANCEL_REJECT),
            OutputBody::MassCancelReport(m) => (m.session, mt::ORDER_MASS_CANCEL_REPORT),
            OutputBody::AdminAck(a) => {
                if let (Some(reject), Some(k)) = (a.reject, self.client_of_session(a.session)) {
                    // The core refused the session's logon (capacity): end it.
                    let c = &mut self.clients[k];
                    error!(gateway = %self.name, user = %c.entry.username, "the core refused the FIX session: {reject}");
                    let _ = c.session.logout(now_ns, Some("Keel cannot take this session now"));
                }
                return;
            }
            _ => return,
        };
        let Some(k) = self.client_of_session(session) else { return };
        let precision = self.precision;
        let body = &mut self.body;
        match &out.body {
            OutputBody::ExecReport(r) => {
                let inst = self.dictionary.instrument(r.instrument);
                reports::execution_report(body, r, delivery.seq, out.ts.0, inst, precision);
            }
            OutputBody::CancelReject(c) => {
                reports::order_cancel_reject(body, c, out.ts.0, precision)
            }
            OutputBody::MassCancelReport(m) => {
                let at = self
                    .mass_pending
                    .iter()
                    .position(|(s, id, _)| *s == session && *id == m.cl_ord_id);
                let request_type = at.map_or(b'7', |i| self.mass_pending.swap_remove(i).2);
                reports::mass_cancel_report(
                    body,
                    m,
                    request_type,
                    delivery.seq,
                    out.ts.0,
                    precision,
                );
            }
            _ => return,
        }
        let c = &mut self.clients[k];
        if let Err(e) = c.session.send_app(now_ns, msg_type, self.body.as_bytes()) {
            error!(gateway = %self.name, user = %c.entry.username, "FIX message store failed: {e}");
            if let Some(conn) = self.conns.iter_mut().find(|x| Some(x.st.id) == c.conn) {
                conn.st.closing = Some(EndReason::Store(e.to_string()));
            }
            return;
        }
        // Written by `write_delivered`, first thing in the next poll, which the pipeline
        // runs as soon as the outputs waiting on the ring are delivered: the reports of
        // one batch go out in one write (a write per report cost a syscall each, and
        // under load the gateway fell behind at 10 000 orders/s with three reports each).
        self.delivered = true;
    }

    /// Writes what `deliver` queued since the last poll (one write per connection).
    fn write_delivered(&mut self) -> usize {
        if !std::mem::take(&mut self.delivered) {
            return 0;
        }
        let mut work = 0;
        for conn in &mut self.conns {
            let Some(k) = conn.st.client else { continue };
            let s = &mut self.clients[k].session;
            if s.outbound().is_empty() {
                continue;
            }
            // An error closes the connection in `flush_and_reap`, which writes again.
            if let Ok(n) = write_out(&mut conn.stream, s.outbound()) {
                s.consume_outbound(n);
                work += 1;
            }
        }
        work
    }
}

/// Binds an unbound connection to the session its Logon names; `None` when the
/// connection is refused (it is then closing).
fn bind(
    name: &str,
    clients: &mut [Client],
    conn: &mut ConnState,
    msg: &crate::fix::message::Message<'_>,
    now_ns: u64,
) -> Option<usize> {
    if msg.msg_type() != mt::LOGON {
        warn!(gateway = %name, conn = conn.id, peer = %conn.peer, "first FIX message is not a Logon: disconnecting");
        conn.closing = Some(EndReason::FirstMessageNotLogon(
            String::from_utf8_lossy(msg.msg_type()).into_owned(),
        ));
        return None;
    }
    let sender = msg.get(tag::SENDER_COMP_ID).unwrap_or_default();
    let target = msg.get(tag::TARGET_COMP_ID).unwrap_or_default();
    let refuse = |conn: &mut ConnState, text: &str| {
        let body = format!("58={text}\x01");
        let h = Header {
            msg_type: mt::LOGOUT,
            sender: target,
            target: sender,
            seq: 1,
            sending_time_ns: now_ns,
            orig_sending_time_ns: None,
            precision: Precision::Millis,
        };
        write_message(&mut conn.unbound_out, &h, body.as_bytes());
        conn.closing = Some(EndReason::LogonRefused(text.to_string()));
    };
    let Some(k) = clients.iter().position(|c| c.entry.username.as_bytes() == sender) else {
        warn!(gateway = %name, conn = conn.id, peer = %conn.peer, sender = %String::from_utf8_lossy(sender), "FIX logon from an unknown SenderCompID");
        refuse(conn, "bad credentials");
        return None;
    };
    if clients[k].conn.is_some() {
        warn!(gateway = %name, conn = conn.id, peer = %conn.peer, user = %clients[k].entry.username, "FIX logon for a session that is already connected");
        refuse(conn, "the session is already logged on");
        return None;
    }
    clients[k].conn = Some(conn.id);
    conn.client = Some(k);
    if let Err(reason) = clients[k].session.on_connect(conn.accepted_ns.max(now_ns)) {
        conn.closing = Some(reason);
        return None;
    }
    Some(k)
}

/// Answers one application message per its [`Decision`].
#[allow(clippy::too_many_arguments)]
fn answer(
    decision: Decision,
    msg: &crate::fix::message::Message<'_>,
    seq: u64,
    now_ns: u64,
    c: &mut Client,
    body: &mut Body,
    pending: &mut VecDeque<(SessionId, CommandBody)>,
    mass_pending: &mut Vec<(SessionId, ClOrdId, u8)>,
    last_refusal_id: &mut u64,
    scratch: &mut Vec<u8>,
    precision: Precision,
) -> Result<(), EndReason> {
    let session = &mut c.session;
    match decision {
        Decision::Publish(cmd) => {
            if let CommandBody::MassCancel(m) = &cmd {
                let request_type = msg
                    .get(tag::MASS_CANCEL_REQUEST_TYPE)
                    .and_then(|v| v.first().copied())
                    .unwrap_or(b'7');
                if mass_pending.len() >= MASS_PENDING_MAX {
                    reports::mass_cancel_refusal(
                        body,
                        m.cl_ord_id.as_bytes(),
                        request_type,
                        order_entry::MASS_REJ_NOT_SUPPORTED,
                        "too many mass cancels in flight",
                        now_ns,
                        precision,
                    );
                    session.send_app(now_ns, mt::ORDER_MASS_CANCEL_REPORT, body.as_bytes())?;
                    return Ok(());
                }
                mass_pending.push((c.entry.session, m.cl_ord_id, request_type));
            }
            pending.push_back((c.entry.session, cmd));
        }
        Decision::Reject(problem, text) => {
            session.send_reject(now_ns, seq, msg.msg_type(), problem, &text)?;
        }
        Decision::BusinessReject { reason, ref_id, text } => {
            reports::business_reject(body, seq, msg.msg_type(), reason, &ref_id, &text);
            session.send_app(now_ns, mt::BUSINESS_MESSAGE_REJECT, body.as_bytes())?;
        }
        Decision::RejectOrder(r) => {
            *last_refusal_id = (*last_refusal_id + 1).max(now_ns);
            scratch.clear();
            scratch.push(b'G');
            crate::fix::value::write_u64(scratch, *last_refusal_id);
            reports::order_refusal(body, &r, scratch, now_ns, precision);
            session.send_app(now_ns, mt::EXECUTION_REPORT, body.as_bytes())?;
        }
        Decision::RejectCancel(r) => {
            reports::cancel_refusal(body, &r, now_ns, precision);
            session.send_app(now_ns, mt::ORDER_CANCEL_REJECT, body.as_bytes())?;
        }
        Decision::RejectMassCancel { cl_ord_id, request_type, reason, text } => {
            reports::mass_cancel_refusal(
                body,
                &cl_ord_id,
                request_type,
                reason,
                &text,
                now_ns,
                precision,
            );
            session.send_app(now_ns, mt::ORDER_MASS_CANCEL_REPORT, body.as_bytes())?;
        }
    }
    Ok(())
}

/// Writes as much of `bytes` as the socket takes now; returns how many.
fn write_out(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < bytes.len() {
        match stream.write(&bytes[done..]) {
            Ok(0) => return Err(std::io::Error::new(ErrorKind::WriteZero, "the peer closed")),
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

impl Gateway for FixAcceptor {
    fn name(&self) -> &str {
        &self.name
    }

    fn routes(&self) -> Routes {
        Routes {
            sessions: self.clients.iter().map(|c| c.entry.session).collect(),
            venues: Vec::new(),
        }
    }

    fn on_start(&mut self, io: &mut GatewayIo) {
        // Edge: accepting is paced, so a waiting connection must not wake the thread
        // again until the pacer lets it be taken.
        if let Err(e) = io.watch(self.listener.as_raw_fd(), Trigger::Edge) {
            warn!(gateway = %self.name, "FIX listener not watched: {e}");
        }
        info!(gateway = %self.name, listen = %self.local_addr, comp_id = %self.comp_id,
            clients = self.clients.len(), "FIX acceptor listening");
    }

    fn on_output(&mut self, delivery: &Delivery, io: &mut GatewayIo) {
        let now_ns = io.clock().now().0;
        self.deliver(delivery, now_ns);
    }

    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let now_ns = io.clock().now().0;
        let mut work = self.write_delivered();
        work += self.publish_pending(io);
        if self.accepting.due(now_ns) {
            work += self.accept(now_ns, io);
        }
        for ci in 0..self.conns.len() {
            work += self.read_conn(ci, now_ns);
        }
        self.timers(now_ns);
        work += self.flush_and_reap(now_ns);
        work += self.publish_pending(io);
        work
    }

    /// Commands waiting for room in the ring are due at once: a blocking runner must not
    /// sleep on them (the core does not ring when it frees room).
    fn wake_at_ns(&self) -> Option<u64> {
        (!self.pending.is_empty()).then_some(0)
    }

    fn on_stop(&mut self, io: &mut GatewayIo) {
        let now_ns = io.clock().now().0;
        for conn in &mut self.conns {
            if let Some(k) = conn.st.client {
                let _ = self.clients[k].session.logout(now_ns, Some("Keel is stopping"));
            }
            conn.st.closing.get_or_insert(EndReason::Protocol("Keel is stopping".into()));
        }
        self.flush_and_reap(now_ns);
        // Commands the sessions accepted are published, waiting if need be (the pipeline
        // allows it here), so that nothing acknowledged at the session level is lost.
        while let Some((session, body)) = self.pending.pop_front() {
            if io.publish(session, body).is_err() {
                warn!(gateway = %self.name, dropped = self.pending.len() + 1, "FIX commands not published: the pipeline stopped");
                self.pending.clear();
            }
        }
    }
}
