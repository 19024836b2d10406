//! A small client of the binary protocol, for tests, `keel client` and `keel bench`.
//!
//! [`BinaryClient::connect`] opens the TCP connection, logs on and reads the instrument
//! list (blocking, bounded by the configured timeout). From then on the socket is
//! non-blocking: [`BinaryClient::poll`] returns the next message if one is whole in the
//! buffer or on the socket, and never waits; [`BinaryClient::recv`] waits up to a timeout
//! (spinning briefly, then yielding, then sleeping 50 µs between polls). Both send
//! heartbeats when due.
//!
//! The client checks both server streams for gaps (reports: the session's server sequence;
//! market data: the connection's sequence) and fails with [`ClientError::Gap`] rather than
//! hand over a message after a hole. It assigns client sequence numbers itself, starting
//! from the `next_client_seq` of the logon answer.
//!
//! For latency measurement, each order-entry message's send time is kept by its client
//! order id until the first report naming that id arrives, and handed back with it in
//! [`Received::sent_at`].
//!
//! ```no_run
//! use keel_gateways::binary::client::{BinaryClient, ClientConfig};
//! use keel_gateways::binary::ServerMsg;
//! # fn order() -> keel_gateways::binary::msg::orders::NewOrder { unimplemented!() }
//! let mut c = BinaryClient::connect(&ClientConfig::new("127.0.0.1:9879".parse().unwrap(), "demo-bin", "demo"))?;
//! c.send(order().into())?;
//! while let Some(m) = c.recv(std::time::Duration::from_secs(5))? {
//!     if let ServerMsg::OrderAck(ack) = m.msg {
//!         println!("ack {} after {:?}", ack.order_id, m.received_at - m.sent_at.unwrap());
//!         break;
//!     }
//! }
//! # Ok::<(), keel_gateways::binary::client::ClientError>(())
//! ```

use super::codec::{
    ClientMsg, DecodeError, Direction, ServerMsg, Stream, decode_server, frame_len,
};
use super::msg::session::{
    Heartbeat, InstrumentInfo, Logon, LogonAck, Logout, LogoutReason, PASSWORD_LEN, USERNAME_LEN,
};
use super::wire::{MAX_FRAME_LEN, Secret, Text};
use keel_engine::ClOrdId;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// `last_server_seq` meaning "replay nothing: start with live messages".
pub const NO_REPLAY: u64 = u64::MAX;

/// How to connect.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Server address.
    pub addr: SocketAddr,
    /// Username.
    pub username: String,
    /// Password.
    pub password: Vec<u8>,
    /// Heartbeat interval to ask for, ms (0: the server's).
    pub heartbeat_ms: u32,
    /// Last server sequence already processed (replay starts after it), or [`NO_REPLAY`].
    pub last_server_seq: u64,
    /// Bound on connecting, logging on, and on a blocked send.
    pub timeout: Duration,
}

impl ClientConfig {
    /// Defaults: server heartbeat, no replay, 10 s timeout.
    pub fn new(addr: SocketAddr, username: &str, password: &str) -> ClientConfig {
        ClientConfig {
            addr,
            username: username.into(),
            password: password.as_bytes().to_vec(),
            heartbeat_ms: 0,
            last_server_seq: NO_REPLAY,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A socket error.
    #[error("binary client: {0}")]
    Io(#[from] std::io::Error),
    /// Nothing came in time.
    #[error("binary client: timed out {0}")]
    Timeout(&'static str),
    /// The server sent bytes that are not a valid frame.
    #[error("binary client: bad frame from the server: {0}")]
    Decode(#[from] DecodeError),
    /// The server ended the session.
    #[error("binary client: logged out by the server: {reason:?} (detail {detail})")]
    LoggedOut {
        /// Why.
        reason: LogoutReason,
        /// The detail number.
        detail: u64,
    },
    /// The server closed the connection without a `Logout`.
    #[error("binary client: the server closed the connection")]
    Closed,
    /// A sequence gap in a server stream.
    #[error("binary client: gap in the {stream:?} stream: expected {expected}, got {got}")]
    Gap {
        /// Which stream.
        stream: Stream,
        /// The sequence expected.
        expected: u64,
        /// The one received.
        got: u64,
    },
    /// Something the protocol does not allow (e.g. no `LogonAck` first).
    #[error("binary client: {0}")]
    Protocol(String),
}

/// A message from the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The message.
    pub msg: ServerMsg,
    /// Its header sequence (0 when unsequenced).
    pub seq: u64,
    /// When this client sent the request the message is the first answer to (by client
    /// order id), if it is one.
    pub sent_at: Option<Instant>,
    /// When it was taken off the socket buffer.
    pub received_at: Instant,
}

/// A logged-on connection. See the module docs.
pub struct BinaryClient {
    stream: TcpStream,
    rbuf: Box<[u8]>,
    rpos: usize,
    rlen: usize,
    ack: LogonAck,
    instruments: Vec<InstrumentInfo>,
    next_client_seq: u64,
    last_server_seq: u64,
    md_seq: u64,
    lost: Option<(u64, u64)>,
    sent_at: HashMap<ClOrdId, Instant>,
    heartbeat: Duration,
    last_sent: Instant,
    timeout: Duration,
}

const READ_BUF: usize = 256 * 1024;

/// The socket, for a caller that blocks until it is readable (`poll`/`epoll`).
impl std::os::fd::AsRawFd for BinaryClient {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.stream.as_raw_fd()
    }
}

impl BinaryClient {
    /// Connects, logs on and reads the instrument list.
    pub fn connect(config: &ClientConfig) -> Result<BinaryClient, ClientError> {
        let username = Text::<USERNAME_LEN>::new(&config.username).ok_or_else(|| {
            ClientError::Protocol(format!(
                "username {:?} is not up to {USERNAME_LEN} printable ASCII bytes",
                config.username
            ))
        })?;
        let password = Secret::<PASSWORD_LEN>::new(&config.password).ok_or_else(|| {
            ClientError::Protocol(format!(
                "the password must be up to {PASSWORD_LEN} bytes without NUL"
            ))
        })?;
        let stream = TcpStream::connect_timeout(&config.addr, config.timeout)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        let now = Instant::now();
        let mut c = BinaryClient {
            stream,
            rbuf: vec![0; READ_BUF].into_boxed_slice(),
            rpos: 0,
            rlen: 0,
            ack: LogonAck {
                session: Default::default(),
                account: 0,
                heartbeat_ms: 0,
                instruments: 0,
                next_client_seq: 1,
                last_server_seq: 0,
                replay_from: 1,
                server_time: Default::default(),
            },
            instruments: Vec::new(),
            next_client_seq: 1,
            last_server_seq: 0,
            md_seq: 0,
            lost: None,
            sent_at: HashMap::new(),
            heartbeat: Duration::from_secs(3600),
            last_sent: now,
            timeout: config.timeout,
        };
        let logon = Logon {
            username,
            password,
            heartbeat_ms: config.heartbeat_ms,
            pad: Default::default(),
            last_server_seq: config.last_server_seq,
        };
        c.write_msg(&ClientMsg::Logon(logon), 0)?;
        let deadline = Instant::now() + config.timeout;
        let (_, first) = c.next_frame_until(deadline, "waiting for the logon answer")?;
        let ack = match first {
            ServerMsg::LogonAck(a) => a,
            ServerMsg::Logout(l) => {
                return Err(ClientError::LoggedOut { reason: l.reason, detail: l.detail });
            }
            other => {
                return Err(ClientError::Protocol(format!(
                    "expected LogonAck, got {}",
                    other.msg_type().name()
                )));
            }
        };
        while c.instruments.len() < ack.instruments as usize {
            match c.next_frame_until(deadline, "waiting for the instrument list")?.1 {
                ServerMsg::InstrumentInfo(i) => c.instruments.push(i),
                ServerMsg::Logout(l) => {
                    return Err(ClientError::LoggedOut { reason: l.reason, detail: l.detail });
                }
                other => {
                    return Err(ClientError::Protocol(format!(
                        "expected InstrumentInfo, got {}",
                        other.msg_type().name()
                    )));
                }
            }
        }
        if config.last_server_seq != NO_REPLAY && ack.replay_from > config.last_server_seq + 1 {
            c.lost = Some((config.last_server_seq + 1, ack.replay_from - 1));
        }
        c.ack = ack;
        c.next_client_seq = ack.next_client_seq;
        c.last_server_seq = ack.replay_from - 1;
        c.heartbeat = Duration::from_millis(ack.heartbeat_ms as u64);
        Ok(c)
    }

    /// The server's logon answer.
    pub fn logon_ack(&self) -> &LogonAck {
        &self.ack
    }

    /// The instruments, as the server listed them.
    pub fn instruments(&self) -> &[InstrumentInfo] {
        &self.instruments
    }

    /// The instrument with this symbol.
    pub fn instrument(&self, symbol: &str) -> Option<&InstrumentInfo> {
        self.instruments.iter().find(|i| i.symbol.as_str() == symbol)
    }

    /// The last server sequence received (the value to log on with to resume).
    pub fn last_server_seq(&self) -> u64 {
        self.last_server_seq
    }

    /// The client sequence the next order-entry message will carry.
    pub fn next_client_seq(&self) -> u64 {
        self.next_client_seq
    }

    /// Server sequences the server no longer retained at logon (first, last), if any.
    pub fn lost(&self) -> Option<(u64, u64)> {
        self.lost
    }

    /// Sends a message; order-entry messages get the next client sequence. Returns the
    /// time just before the write (kept for the first answer, see [`Received::sent_at`]).
    pub fn send(&mut self, msg: ClientMsg) -> Result<Instant, ClientError> {
        let seq = match msg.msg_type().stream() {
            Stream::Client => {
                let s = self.next_client_seq;
                self.next_client_seq += 1;
                s
            }
            _ => 0,
        };
        let at = Instant::now();
        let cl = match &msg {
            ClientMsg::NewOrder(o) => Some(o.cl_ord_id),
            ClientMsg::CancelOrder(o) => Some(o.cl_ord_id),
            ClientMsg::ReplaceOrder(o) => Some(o.cl_ord_id),
            ClientMsg::MassCancel(o) => Some(o.cl_ord_id),
            _ => None,
        };
        if let Some(cl) = cl {
            self.sent_at.insert(cl, at);
        }
        self.write_msg(&msg, seq)?;
        Ok(at)
    }

    /// Logs out: sends `Logout` and waits (bounded) for the server's.
    pub fn logout(mut self) -> Result<(), ClientError> {
        let logout =
            Logout { reason: LogoutReason::ClientLogout, pad: Default::default(), detail: 0 };
        self.write_msg(&ClientMsg::Logout(logout), 0)?;
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.next_frame_until(deadline, "waiting for the logout answer") {
                Ok((_, ServerMsg::Logout(_))) | Err(ClientError::Closed) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next message if one is here, without waiting. Heartbeats are answered and not
    /// returned; a `Logout` is [`ClientError::LoggedOut`].
    pub fn poll(&mut self) -> Result<Option<Received>, ClientError> {
        self.heartbeat_if_due()?;
        loop {
            let Some((seq, msg)) = self.try_frame()? else { return Ok(None) };
            let received_at = Instant::now();
            match msg {
                ServerMsg::Heartbeat(_) => continue,
                ServerMsg::Logout(l) => {
                    return Err(ClientError::LoggedOut { reason: l.reason, detail: l.detail });
                }
                _ => {}
            }
            match msg.msg_type().stream() {
                Stream::Server => {
                    if seq != self.last_server_seq + 1 {
                        return Err(ClientError::Gap {
                            stream: Stream::Server,
                            expected: self.last_server_seq + 1,
                            got: seq,
                        });
                    }
                    self.last_server_seq = seq;
                }
                Stream::MarketData => {
                    if seq != self.md_seq + 1 {
                        return Err(ClientError::Gap {
                            stream: Stream::MarketData,
                            expected: self.md_seq + 1,
                            got: seq,
                        });
                    }
                    self.md_seq = seq;
                }
                _ => {}
            }
            let sent_at = answered(&msg).and_then(|cl| self.sent_at.remove(&cl));
            return Ok(Some(Received { msg, seq, sent_at, received_at }));
        }
    }

    /// The next message, waiting up to `timeout`; `None` when none came.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Received>, ClientError> {
        let deadline = Instant::now() + timeout;
        let mut rounds = 0u32;
        loop {
            if let Some(m) = self.poll()? {
                return Ok(Some(m));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            backoff(&mut rounds);
        }
    }

    /// Waits up to `timeout` for a message that `want` accepts, returning it and every
    /// message received before it.
    pub fn recv_until(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&ServerMsg) -> bool,
    ) -> Result<(Received, Vec<Received>), ClientError> {
        let deadline = Instant::now() + timeout;
        let mut before = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left)? {
                Some(m) if want(&m.msg) => return Ok((m, before)),
                Some(m) => before.push(m),
                None => return Err(ClientError::Timeout("waiting for an expected message")),
            }
        }
    }

    fn heartbeat_if_due(&mut self) -> Result<(), ClientError> {
        if self.last_sent.elapsed() >= self.heartbeat {
            self.write_msg(&ClientMsg::Heartbeat(Heartbeat {}), 0)?;
        }
        Ok(())
    }

    fn write_msg(&mut self, msg: &ClientMsg, seq: u64) -> Result<(), ClientError> {
        let mut buf = [0u8; MAX_FRAME_LEN];
        let n = msg.encode(seq, &mut buf);
        let deadline = Instant::now() + self.timeout;
        let mut at = 0;
        let mut rounds = 0u32;
        while at < n {
            match self.stream.write(&buf[at..n]) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(k) => at += k,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(ClientError::Timeout("sending (the server does not read)"));
                    }
                    backoff(&mut rounds);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.last_sent = Instant::now();
        Ok(())
    }

    /// One whole frame from the buffer or the socket, if there is one.
    fn try_frame(&mut self) -> Result<Option<(u64, ServerMsg)>, ClientError> {
        loop {
            let unread = &self.rbuf[self.rpos..self.rlen];
            if let Some(n) = frame_len(unread, Direction::Outbound)? {
                let (header, msg) = decode_server(&unread[..n])?;
                self.rpos += n;
                return Ok(Some((header.seq, msg)));
            }
            if self.rpos > 0 {
                self.rbuf.copy_within(self.rpos..self.rlen, 0);
                self.rlen -= self.rpos;
                self.rpos = 0;
            }
            match self.stream.read(&mut self.rbuf[self.rlen..]) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(k) => self.rlen += k,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn next_frame_until(
        &mut self,
        deadline: Instant,
        what: &'static str,
    ) -> Result<(u64, ServerMsg), ClientError> {
        let mut rounds = 0u32;
        loop {
            if let Some(f) = self.try_frame()? {
                return Ok(f);
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout(what));
            }
            backoff(&mut rounds);
        }
    }
}

/// The client order id a report answers (the request's id), for the send-time table.
fn answered(msg: &ServerMsg) -> Option<ClOrdId> {
    match msg {
        ServerMsg::CancelReject(m) => Some(m.cl_ord_id),
        ServerMsg::MassCancelAck(m) => Some(m.cl_ord_id),
        m => m.order_state().map(|o| o.cl_ord_id),
    }
}

/// Spin, then yield, then sleep 50 µs: bounded CPU while waiting.
fn backoff(rounds: &mut u32) {
    *rounds += 1;
    if *rounds < 64 {
        std::hint::spin_loop();
    } else if *rounds < 128 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(Duration::from_micros(50));
    }
}
