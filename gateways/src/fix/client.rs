//! A small blocking FIX 4.4 client for tests, examples and `keel bench`: connect and log
//! on, send orders, poll execution reports, log out.
//!
//! It is the session layer in the initiator role over a blocking `std` socket with an
//! in-memory store, so every message it sends and receives goes through the same checks
//! as Keel's own sessions. It is not meant for production trading (no reconnection, no
//! persistence).
//!
//! ```no_run
//! use keel_gateways::fix::client::{ClientConfig, FixClient, NewOrder};
//! use std::time::Duration;
//!
//! let config = ClientConfig::new("demo-fix", "KEEL", "demo");
//! let mut client = FixClient::connect("127.0.0.1:9878".parse().unwrap(), config).unwrap();
//! client.send_new_order(&NewOrder::limit("A1", "BTC-USD", b'1', "0.010", "50000.00")).unwrap();
//! let report = client.next_app(Duration::from_secs(5)).unwrap().expect("an execution report");
//! assert_eq!(report.msg_type(), "8");
//! client.logout(Duration::from_secs(5)).unwrap();
//! ```

use super::encode::Body;
use super::inbound::{InBuffer, Next};
use super::message::{Decoder, Message};
use super::session::{Credentials, EndReason, Received, Role, Session, SessionConfig};
use super::store::MemoryStore;
use super::tags::{msg_type as mt, tag};
use super::time::Precision;
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How the client logs on.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// SenderCompID (also the Username).
    pub sender_comp_id: String,
    /// TargetCompID (Keel's CompID).
    pub target_comp_id: String,
    /// Password (554).
    pub password: String,
    /// HeartBtInt, seconds.
    pub heartbeat_s: u32,
    /// Send ResetSeqNumFlag=Y (start both numbers at 1).
    pub reset_on_logon: bool,
    /// How long to wait for the connection and the Logon answer.
    pub logon_timeout: Duration,
}

impl ClientConfig {
    /// A client that logs on as `user` to `target` with `password`, HeartBtInt 30 s, and
    /// resets the numbers (its store is in memory).
    pub fn new(user: &str, target: &str, password: &str) -> ClientConfig {
        ClientConfig {
            sender_comp_id: user.to_string(),
            target_comp_id: target.to_string(),
            password: password.to_string(),
            heartbeat_s: 30,
            reset_on_logon: true,
            logon_timeout: Duration::from_secs(10),
        }
    }
}

/// Why the client failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A socket error.
    #[error("FIX client I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The session ended.
    #[error("FIX session ended: {0}")]
    Ended(EndReason),
    /// No answer in time.
    #[error("FIX client timed out waiting for {0}")]
    Timeout(&'static str),
    /// Non-blocking mode: the peer has not read what was sent, and more than
    /// [`MAX_UNSENT_BYTES`] wait to be written.
    #[error("FIX peer is not reading: {0} bytes unsent (at most {MAX_UNSENT_BYTES} are kept)")]
    Backlog(usize),
}

/// Bytes a non-blocking client keeps for a peer that is not reading before `send_*` and
/// `poll` fail with [`ClientError::Backlog`] (so memory stays bounded).
pub const MAX_UNSENT_BYTES: usize = 4 << 20;

/// An application message received, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedMessage {
    fields: Vec<(u32, String)>,
}

impl OwnedMessage {
    fn of(msg: &Message<'_>) -> OwnedMessage {
        OwnedMessage {
            fields: msg
                .fields()
                .map(|f| (f.tag, String::from_utf8_lossy(f.value).into_owned()))
                .collect(),
        }
    }

    /// The first value of `tag`.
    pub fn get(&self, tag: u32) -> Option<&str> {
        self.fields.iter().find(|(t, _)| *t == tag).map(|(_, v)| v.as_str())
    }

    /// MsgType (35).
    pub fn msg_type(&self) -> &str {
        self.get(tag::MSG_TYPE).unwrap_or("")
    }

    /// Every field, in order.
    pub fn fields(&self) -> &[(u32, String)] {
        &self.fields
    }
}

/// A NewOrderSingle to send.
#[derive(Clone, Copy, Debug)]
pub struct NewOrder<'a> {
    /// ClOrdID (11).
    pub cl_ord_id: &'a str,
    /// Symbol (55).
    pub symbol: &'a str,
    /// Side (54): `b'1'` buy, `b'2'` sell.
    pub side: u8,
    /// OrderQty (38), as a decimal string.
    pub qty: &'a str,
    /// OrdType (40).
    pub ord_type: u8,
    /// Price (44) for limit orders.
    pub price: Option<&'a str>,
    /// TimeInForce (59).
    pub tif: Option<u8>,
    /// ExDestination (100): the venue by name; without it Keel routes to the venue with
    /// the best price, and refuses the order (NO_ROUTE) when no venue quotes the side.
    pub ex_destination: Option<&'a str>,
}

impl<'a> NewOrder<'a> {
    /// A day limit order.
    pub fn limit(
        cl_ord_id: &'a str,
        symbol: &'a str,
        side: u8,
        qty: &'a str,
        price: &'a str,
    ) -> Self {
        NewOrder {
            cl_ord_id,
            symbol,
            side,
            qty,
            ord_type: b'2',
            price: Some(price),
            tif: None,
            ex_destination: None,
        }
    }
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// The client (see the module docs).
pub struct FixClient {
    stream: TcpStream,
    session: Session<MemoryStore>,
    inbuf: InBuffer,
    decoder: Decoder,
    body: Body,
    inbox: VecDeque<OwnedMessage>,
    ended: Option<EndReason>,
}

impl std::fmt::Debug for FixClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixClient").field("session", &self.session).finish()
    }
}

/// The socket, for a caller that blocks until it is readable (`poll`/`epoll`).
impl std::os::fd::AsRawFd for FixClient {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.stream.as_raw_fd()
    }
}

impl FixClient {
    /// Connects to `addr` and logs on; returns once the Logon is answered.
    pub fn connect(addr: SocketAddr, config: ClientConfig) -> Result<FixClient, ClientError> {
        FixClient::connect_with_store(addr, config, MemoryStore::with_limit(10_000))
    }

    /// Connects with the numbers and sent messages of an earlier connection (see
    /// [`FixClient::into_store`]): with `reset_on_logon` off, the session continues.
    pub fn connect_with_store(
        addr: SocketAddr,
        config: ClientConfig,
        store: MemoryStore,
    ) -> Result<FixClient, ClientError> {
        let stream = TcpStream::connect_timeout(&addr, config.logon_timeout)?;
        stream.set_nodelay(true)?;
        let mut sc =
            SessionConfig::new(Role::Initiator, &config.sender_comp_id, &config.target_comp_id);
        sc.heartbeat_s = config.heartbeat_s;
        sc.reset_on_logon = config.reset_on_logon;
        sc.logon_timeout_ns = config.logon_timeout.as_nanos() as u64;
        sc.precision = Precision::Millis;
        sc.credentials = Some(Credentials {
            username: config.sender_comp_id.clone(),
            password: config.password.clone(),
        });
        let mut client = FixClient {
            stream,
            session: Session::new(sc, store),
            inbuf: InBuffer::new(64 * 1024),
            decoder: Decoder::default(),
            body: Body::with_capacity(512),
            inbox: VecDeque::new(),
            ended: None,
        };
        client.session.on_connect(now_ns()).map_err(ClientError::Ended)?;
        client.flush()?;
        let deadline = Instant::now() + config.logon_timeout;
        while !client.session.is_logged_on() {
            if let Some(e) = &client.ended {
                return Err(ClientError::Ended(e.clone()));
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout("the Logon answer"));
            }
            client.pump(deadline)?;
        }
        Ok(client)
    }

    /// Drops the connection without a Logout (as a crash would) and returns the store,
    /// for [`FixClient::connect_with_store`].
    pub fn into_store(self) -> MemoryStore {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        self.session.into_store()
    }

    /// The session (sequence numbers, state).
    pub fn session(&self) -> &Session<MemoryStore> {
        &self.session
    }

    /// Writes the session's pending output. On a blocking socket this writes it all; on a
    /// non-blocking one (see [`FixClient::set_nonblocking`]) what the socket does not take
    /// now stays in the session's buffer for the next call, up to [`MAX_UNSENT_BYTES`].
    /// Returns the bytes written.
    fn flush(&mut self) -> Result<usize, ClientError> {
        let mut written = 0;
        loop {
            let out = self.session.outbound();
            if out.is_empty() {
                return Ok(written);
            }
            match self.stream.write(out) {
                Ok(0) => return Err(std::io::Error::from(ErrorKind::WriteZero).into()),
                Ok(n) => {
                    self.session.consume_outbound(n);
                    written += n;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let unsent = self.session.outbound().len();
                    if unsent > MAX_UNSENT_BYTES {
                        return Err(ClientError::Backlog(unsent));
                    }
                    return Ok(written);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Switches the socket between blocking (the default: [`FixClient::next_app`],
    /// [`FixClient::wait_for`] and [`FixClient::logout`] wait on it) and non-blocking (for
    /// [`FixClient::poll`], driven from the caller's own loop). In non-blocking mode the
    /// `send_*` calls never wait: bytes the socket does not take at once are kept and
    /// written by the next `send_*` or `poll`.
    pub fn set_nonblocking(&mut self, nonblocking: bool) -> Result<(), ClientError> {
        self.stream.set_read_timeout(None)?;
        self.stream.set_nonblocking(nonblocking)?;
        Ok(())
    }

    /// Non-blocking mode: writes pending output, reads what has arrived, runs the session
    /// (heartbeats, test requests, resends) and hands every application message to `f`
    /// without copying it. Returns how much happened (bytes moved plus messages handled;
    /// 0 when idle). Use [`FixClient::set_nonblocking`] first: on a blocking socket the
    /// read waits.
    pub fn poll(&mut self, f: &mut dyn FnMut(&Message<'_>)) -> Result<usize, ClientError> {
        if let Some(e) = &self.ended {
            return Err(ClientError::Ended(e.clone()));
        }
        let mut work = self.flush()?;
        work += self.read_once()?;
        if self.inbuf.pending() > 0 {
            work += self.handle_each(f);
        }
        // The session's clock: heartbeats and timeouts (cheap when nothing is due).
        if let Some(r) = self.session.on_timer(now_ns()) {
            self.ended.get_or_insert(r);
        }
        work += self.flush()?;
        match &self.ended {
            Some(e) => Err(ClientError::Ended(e.clone())),
            None => Ok(work),
        }
    }

    /// Handles buffered frames, every application message to `f`. Returns the frames.
    fn handle_each(&mut self, f: &mut dyn FnMut(&Message<'_>)) -> usize {
        let mut n = 0;
        while let Some(next) = self.inbuf.next_frame() {
            n += 1;
            let Next::Frame(frame) = next else { continue };
            let Ok(msg) = self.decoder.decode(frame) else { continue };
            match self.session.on_message(now_ns(), &msg) {
                Received::App => f(&msg),
                Received::Disconnect(r) => {
                    self.ended.get_or_insert(r);
                }
                _ => {}
            }
        }
        n
    }

    /// One read into the input buffer; returns the bytes read. End of stream ends the
    /// session (disconnected); nothing to read yet (non-blocking, or a read timeout) is 0.
    fn read_once(&mut self) -> Result<usize, ClientError> {
        match self.stream.read(self.inbuf.spare()) {
            Ok(0) => {
                self.ended.get_or_insert(EndReason::Disconnected);
                self.session.on_disconnect();
                Ok(0)
            }
            Ok(n) => {
                self.inbuf.filled(n);
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Blocking mode: one read that waits at most until `deadline` (and at most 1 s, so the
    /// session's timers keep running).
    fn read_until(&mut self, deadline: Instant) -> Result<usize, ClientError> {
        let wait = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        self.stream.set_read_timeout(Some(wait.min(Duration::from_secs(1))))?;
        self.read_once()
    }

    /// Reads once (waiting at most until `deadline`) and handles what arrived.
    fn pump(&mut self, deadline: Instant) -> Result<(), ClientError> {
        self.read_until(deadline)?;
        self.handle(&mut |_| false);
        if let Some(r) = self.session.on_timer(now_ns()) {
            self.ended.get_or_insert(r);
        }
        self.flush().map(|_| ())
    }

    /// Handles buffered frames; application messages go to `f` (true: consumed) and
    /// otherwise to the inbox.
    fn handle(&mut self, f: &mut dyn FnMut(&Message<'_>) -> bool) -> bool {
        let mut taken = false;
        while let Some(next) = self.inbuf.next_frame() {
            let Next::Frame(frame) = next else { continue };
            let Ok(msg) = self.decoder.decode(frame) else { continue };
            match self.session.on_message(now_ns(), &msg) {
                Received::App => {
                    if !taken && f(&msg) {
                        taken = true;
                    } else {
                        self.inbox.push_back(OwnedMessage::of(&msg));
                    }
                }
                Received::Disconnect(r) => {
                    self.ended.get_or_insert(r);
                }
                _ => {}
            }
        }
        taken
    }

    /// The next application message, waiting at most `timeout`; `None` on timeout.
    pub fn next_app(&mut self, timeout: Duration) -> Result<Option<OwnedMessage>, ClientError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = self.inbox.pop_front() {
                return Ok(Some(m));
            }
            if let Some(e) = &self.ended {
                return Err(ClientError::Ended(e.clone()));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            self.pump(deadline)?;
        }
    }

    /// Waits (at most `timeout`) for an application message that `f` accepts, looking at
    /// each without copying it; the others are kept for [`FixClient::next_app`]. Returns
    /// whether one was accepted.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        mut f: impl FnMut(&Message<'_>) -> bool,
    ) -> Result<bool, ClientError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.handle(&mut f) {
                self.flush()?;
                return Ok(true);
            }
            if let Some(e) = &self.ended {
                return Err(ClientError::Ended(e.clone()));
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            self.read_until(deadline)?;
            if let Some(r) = self.session.on_timer(now_ns()) {
                self.ended.get_or_insert(r);
            }
            self.flush()?;
        }
    }

    /// Sends an application message whose body fields are `body` (`tag=value␁...`).
    pub fn send_raw(&mut self, msg_type: &[u8], body: &[u8]) -> Result<u64, ClientError> {
        if let Some(e) = &self.ended {
            return Err(ClientError::Ended(e.clone()));
        }
        let seq = self
            .session
            .send_app(now_ns(), msg_type, body)
            .map_err(|e| ClientError::Ended(e.into()))?;
        self.flush()?;
        Ok(seq)
    }

    /// Sends a NewOrderSingle (TransactTime now).
    pub fn send_new_order(&mut self, o: &NewOrder<'_>) -> Result<u64, ClientError> {
        let now = now_ns();
        let b = &mut self.body;
        b.clear()
            .str(tag::CL_ORD_ID, o.cl_ord_id.as_bytes())
            .char(tag::HANDL_INST, b'1')
            .str(tag::SYMBOL, o.symbol.as_bytes())
            .char(tag::SIDE, o.side)
            .timestamp(tag::TRANSACT_TIME, now, Precision::Millis)
            .str(tag::ORDER_QTY, o.qty.as_bytes())
            .char(tag::ORD_TYPE, o.ord_type);
        if let Some(p) = o.price {
            b.str(tag::PRICE, p.as_bytes());
        }
        if let Some(t) = o.tif {
            b.char(tag::TIME_IN_FORCE, t);
        }
        if let Some(v) = o.ex_destination {
            b.str(tag::EX_DESTINATION, v.as_bytes());
        }
        let body = std::mem::take(&mut self.body);
        let r = self.send_raw(mt::NEW_ORDER_SINGLE, body.as_bytes());
        self.body = body;
        r
    }

    /// Sends an OrderCancelRequest for `orig` (Symbol and Side restated).
    pub fn send_cancel(
        &mut self,
        cl_ord_id: &str,
        orig: &str,
        symbol: &str,
        side: u8,
    ) -> Result<u64, ClientError> {
        let b = &mut self.body;
        b.clear()
            .str(tag::ORIG_CL_ORD_ID, orig.as_bytes())
            .str(tag::CL_ORD_ID, cl_ord_id.as_bytes())
            .str(tag::SYMBOL, symbol.as_bytes())
            .char(tag::SIDE, side)
            .timestamp(tag::TRANSACT_TIME, now_ns(), Precision::Millis);
        let body = std::mem::take(&mut self.body);
        let r = self.send_raw(mt::ORDER_CANCEL_REQUEST, body.as_bytes());
        self.body = body;
        r
    }

    /// Sends an OrderCancelReplaceRequest of a limit order to a new price and quantity.
    pub fn send_replace(
        &mut self,
        cl_ord_id: &str,
        orig: &str,
        symbol: &str,
        side: u8,
        qty: &str,
        price: &str,
    ) -> Result<u64, ClientError> {
        let b = &mut self.body;
        b.clear()
            .str(tag::ORIG_CL_ORD_ID, orig.as_bytes())
            .str(tag::CL_ORD_ID, cl_ord_id.as_bytes())
            .str(tag::SYMBOL, symbol.as_bytes())
            .char(tag::SIDE, side)
            .timestamp(tag::TRANSACT_TIME, now_ns(), Precision::Millis)
            .str(tag::ORDER_QTY, qty.as_bytes())
            .char(tag::ORD_TYPE, b'2')
            .str(tag::PRICE, price.as_bytes());
        let body = std::mem::take(&mut self.body);
        let r = self.send_raw(mt::ORDER_CANCEL_REPLACE_REQUEST, body.as_bytes());
        self.body = body;
        r
    }

    /// Sends an OrderMassCancelRequest: every order (`symbol` None) or one instrument's.
    pub fn send_mass_cancel(
        &mut self,
        cl_ord_id: &str,
        symbol: Option<&str>,
    ) -> Result<u64, ClientError> {
        let b = &mut self.body;
        b.clear().str(tag::CL_ORD_ID, cl_ord_id.as_bytes());
        match symbol {
            Some(s) => b.char(tag::MASS_CANCEL_REQUEST_TYPE, b'1').str(tag::SYMBOL, s.as_bytes()),
            None => b.char(tag::MASS_CANCEL_REQUEST_TYPE, b'7'),
        };
        b.timestamp(tag::TRANSACT_TIME, now_ns(), Precision::Millis);
        let body = std::mem::take(&mut self.body);
        let r = self.send_raw(mt::ORDER_MASS_CANCEL_REQUEST, body.as_bytes());
        self.body = body;
        r
    }

    /// Logs out and waits (at most `timeout`) for the answer.
    pub fn logout(mut self, timeout: Duration) -> Result<(), ClientError> {
        self.session.logout(now_ns(), None).map_err(ClientError::Ended)?;
        self.flush()?;
        let deadline = Instant::now() + timeout;
        loop {
            match &self.ended {
                Some(EndReason::LoggedOut) => return Ok(()),
                Some(e) => return Err(ClientError::Ended(e.clone())),
                None => {}
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout("the Logout answer"));
            }
            self.pump(deadline)?;
        }
    }
}
