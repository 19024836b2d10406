//! The FIX 4.4 session layer: a pure state machine, used in both roles.
//!
//! A [`Session`] is driven by decoded messages ([`Session::on_message`]), by time
//! ([`Session::on_timer`]) and by its owner's requests (send an application message, log
//! out). It writes what it sends to an output buffer ([`Session::outbound`]) that its owner
//! copies to the socket, and answers each input with what the owner must do
//! ([`Received`]). It never reads a clock, a socket or a file itself: time is a parameter
//! (UTC nanoseconds), bytes go through the owner, persistence goes through its
//! [`MessageStore`]. So every scenario is scripted in tests with virtual time.
//!
//! # Roles
//! - **Acceptor** (clients connect to Keel): [`Session::on_connect`] waits for a Logon; a
//!   Logon that passes the session checks comes back as [`Received::LogonRequest`], and
//!   the owner authenticates it (Username 553 / Password 554) and calls
//!   [`Session::accept_logon`] or [`Session::refuse_logon`].
//! - **Initiator** (Keel connects to a venue): [`Session::on_connect`] sends the Logon
//!   (with credentials and ResetSeqNumFlag when configured); the answer comes back as
//!   [`Received::LoggedOn`]. Reconnecting is the owner's business.
//!
//! # Driving a session
//! The owner of a connection runs this loop (see [`FixClient`](super::client::FixClient)
//! for a complete initiator, and the acceptor gateway for a non-blocking one):
//! 1. on connect: [`Session::on_connect`];
//! 2. bytes read from the socket go into an [`InBuffer`](super::inbound::InBuffer); each
//!    frame it yields is decoded by a [`Decoder`](super::message::Decoder) and given to
//!    [`Session::on_message`]; garbled input is dropped there and never reaches the
//!    session;
//! 3. the answer says what to do: process an application message ([`Received::App`]),
//!    authenticate a Logon, or write what is pending and close;
//! 4. application messages go out with [`Session::send_app`] (the body is the message's
//!    fields after the standard header, encoded with [`Body`]);
//! 5. often enough (every poll, or at least every few hundred milliseconds):
//!    [`Session::on_timer`];
//! 6. [`Session::outbound`] is written to the socket and [`Session::consume_outbound`]
//!    told how much went; on close, [`Session::on_disconnect`].
//!
//! # Behaviour (FIX session-level test cases)
//! - The first message of a connection must be a Logon; anything else disconnects
//!   without an answer.
//! - BeginString other than `FIX.4.4`, a missing MsgSeqNum, a SendingTime further from
//!   now than the tolerance, or CompIDs that are not the session's: Logout with the
//!   reason and disconnect (for the last two a Reject goes first).
//! - MsgSeqNum too high: ResendRequest `expected..0` (one outstanding at a time; the
//!   too-high message is dropped and comes back in the resend). A too-high Logout is
//!   still honoured, a too-high ResendRequest still answered.
//! - MsgSeqNum too low without PossDupFlag=Y: Logout "MsgSeqNum too low, expecting X but
//!   received Y" and disconnect. With PossDupFlag=Y: ignored (already processed).
//! - PossDupFlag=Y in sequence: OrigSendingTime is required and must not be after
//!   SendingTime, else Reject (reasons 1 / 10).
//! - Structural problems found by the decoder or the admin message specs: Reject (35=3)
//!   with SessionRejectReason, RefSeqNum, RefTagID, RefMsgType and a Text; the inbound
//!   number advances past the rejected message. A MsgType that FIX 4.4 does not define:
//!   Reject reason 11.
//! - ResendRequest: application messages are resent from the store with PossDupFlag=Y and
//!   OrigSendingTime; administrative ones (and anything no longer kept) are replaced by
//!   SequenceReset-GapFill.
//! - SequenceReset-GapFill: moves the inbound number up (never down: Reject reason 5);
//!   SequenceReset-Reset: the same, regardless of its own MsgSeqNum.
//! - Heartbeats every HeartBtInt of outbound silence; after 1.2 × HeartBtInt of inbound
//!   silence a TestRequest; after 2.4 × HeartBtInt, disconnect. Any valid inbound
//!   message counts as a sign of life.
//! - Logout both ways: an initiated Logout waits `logout_timeout` for the answer; a
//!   received Logout is answered, then the connection closes.
//! - ResetSeqNumFlag=Y on Logon (MsgSeqNum must be 1): both numbers restart at 1 and the
//!   store forgets the sent messages; the Logon answer carries the flag.
//! - Garbled frames never reach the session (the owner's [`InBuffer`](super::inbound::InBuffer)
//!   drops them), so they do not advance anything.
//!
//! # Sequence numbers and the store
//! Every message is recorded in the store before its bytes are produced; the inbound
//! number is recorded after each accepted message. Application messages sent while no
//! counterparty is logged on are stored and not written: the counterparty sees a
//! too-high number on the next Logon and asks for them with a ResendRequest. A refused
//! Logon changes no inbound number (its Logout does consume an outbound one, which the
//! next Logon answer's number reveals and a resend gap-fills).

mod admin;
mod config;

pub use config::{Credentials, Role, SessionConfig};

use super::encode::{BEGIN_STRING, Body, Header, write_message};
use super::message::{Message, Problem};
use super::spec::{MessageSpec, validate};
use super::store::{MessageStore, StoreError};
use super::tags::{SessionRejectReason as R, msg_type as mt, tag};

/// What the owner must do after an input.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// An application message, in sequence and structurally valid at the session level:
    /// process it (the inbound number has advanced past it).
    App,
    /// Acceptor: a Logon passed the session checks. Authenticate it, then call
    /// [`Session::accept_logon`] or [`Session::refuse_logon`].
    LogonRequest,
    /// Initiator: the counterparty answered the Logon; the session is active.
    LoggedOn,
    /// Handled by the session layer (administrative message, duplicate, reject sent).
    Handled,
    /// Send what is in [`Session::outbound`], then close the connection.
    Disconnect(EndReason),
}

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndReason {
    /// Keel logged out and the counterparty answered.
    #[error("logged out")]
    LoggedOut,
    /// The counterparty logged out (Keel answered).
    #[error("the counterparty logged out: {0}")]
    LogoutReceived(String),
    /// The first message of the connection was not a Logon.
    #[error("the first message was not a Logon (MsgType {0})")]
    FirstMessageNotLogon(String),
    /// The Logon was refused.
    #[error("logon refused: {0}")]
    LogonRefused(String),
    /// No Logon (or no answer to Keel's) in time.
    #[error("no logon within the logon timeout")]
    LogonTimeout,
    /// Nothing received for 2.4 × HeartBtInt, TestRequest included.
    #[error("heartbeat timeout: nothing received for {silence_ms} ms")]
    HeartbeatTimeout {
        /// How long the line was silent.
        silence_ms: u64,
    },
    /// No answer to Keel's Logout in time.
    #[error("no answer to the Logout within the logout timeout")]
    LogoutTimeout,
    /// A session-level error that ends the session (Logout sent with this text).
    #[error("{0}")]
    Protocol(String),
    /// The message store failed: sequence numbers can no longer be kept.
    #[error("message store: {0}")]
    Store(String),
    /// The owner closed the connection (or it was lost).
    #[error("disconnected")]
    Disconnected,
}

impl EndReason {
    /// True when the session ended by a Logout exchange.
    pub fn is_graceful(&self) -> bool {
        matches!(self, EndReason::LoggedOut | EndReason::LogoutReceived(_))
    }
}

impl From<StoreError> for EndReason {
    fn from(e: StoreError) -> EndReason {
        EndReason::Store(e.to_string())
    }
}

/// Where the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// No connection.
    Disconnected,
    /// Acceptor: connected, waiting for the Logon.
    AwaitingLogon,
    /// Acceptor: a Logon waits for the owner's authentication.
    LogonPending,
    /// Initiator: Logon sent, waiting for the answer.
    LogonSent,
    /// Logged on.
    Active,
    /// Keel sent a Logout and waits for the answer.
    LogoutSent,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Disconnected,
    AwaitingLogon { since_ns: u64 },
    LogonPending { since_ns: u64, seq: u64, heartbeat_s: u32, reset: bool },
    LogonSent { since_ns: u64 },
    Active,
    LogoutSent { since_ns: u64 },
}

/// Counters, for logs and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Messages accepted in sequence.
    pub received: u64,
    /// Messages sent (resends included).
    pub sent: u64,
    /// Session-level Rejects sent.
    pub rejects_sent: u64,
    /// ResendRequests sent.
    pub resend_requests_sent: u64,
    /// Messages resent or gap-filled in answer to ResendRequests.
    pub resent: u64,
    /// PossDup messages ignored as already processed.
    pub duplicates_ignored: u64,
}

const NS_PER_S: u64 = 1_000_000_000;

/// One FIX session (see the module docs).
pub struct Session<S: MessageStore> {
    config: SessionConfig,
    store: S,
    state: State,
    out: Vec<u8>,
    out_pos: usize,
    body: Body,
    heartbeat_ns: u64,
    last_sent_ns: u64,
    last_recv_ns: u64,
    test_request_sent: bool,
    test_requests: u64,
    /// The highest number seen too high while our ResendRequest is outstanding.
    resend_until: Option<u64>,
    stats: SessionStats,
}

impl<S: MessageStore> std::fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sender", &self.config.sender_comp_id)
            .field("target", &self.config.target_comp_id)
            .field("state", &self.state)
            .field("next_sender_seq", &self.store.next_sender_seq())
            .field("next_target_seq", &self.store.next_target_seq())
            .finish()
    }
}

type Flow<T = ()> = Result<T, EndReason>;

impl<S: MessageStore> Session<S> {
    /// A disconnected session over `store`.
    pub fn new(config: SessionConfig, store: S) -> Session<S> {
        Session {
            config,
            store,
            state: State::Disconnected,
            out: Vec::with_capacity(16 * 1024),
            out_pos: 0,
            body: Body::with_capacity(512),
            heartbeat_ns: 0,
            last_sent_ns: 0,
            last_recv_ns: 0,
            test_request_sent: false,
            test_requests: 0,
            resend_until: None,
            stats: SessionStats::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The store (sequence numbers).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (tests; an operator's sequence reset).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the store back (the session is dropped).
    pub fn into_store(self) -> S {
        self.store
    }

    /// Counters.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// The negotiated HeartBtInt, seconds.
    pub fn heartbeat_s(&self) -> u64 {
        self.heartbeat_ns / NS_PER_S
    }

    /// Where the session is.
    pub fn state(&self) -> SessionState {
        match self.state {
            State::Disconnected => SessionState::Disconnected,
            State::AwaitingLogon { .. } => SessionState::AwaitingLogon,
            State::LogonPending { .. } => SessionState::LogonPending,
            State::LogonSent { .. } => SessionState::LogonSent,
            State::Active => SessionState::Active,
            State::LogoutSent { .. } => SessionState::LogoutSent,
        }
    }

    /// True while logged on (application messages are written, not only stored).
    pub fn is_logged_on(&self) -> bool {
        matches!(self.state, State::Active | State::LogoutSent { .. })
    }

    /// Bytes waiting to be written to the connection.
    pub fn outbound(&self) -> &[u8] {
        &self.out[self.out_pos..]
    }

    /// `n` bytes of [`Session::outbound`] were written.
    pub fn consume_outbound(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        } else if self.out_pos > 64 * 1024 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }

    /// A connection was established: an acceptor waits for the Logon, an initiator sends
    /// it.
    pub fn on_connect(&mut self, now_ns: u64) -> Flow {
        self.out.clear();
        self.out_pos = 0;
        self.last_recv_ns = now_ns;
        self.last_sent_ns = now_ns;
        self.test_request_sent = false;
        self.resend_until = None;
        match self.config.role {
            Role::Acceptor => {
                self.state = State::AwaitingLogon { since_ns: now_ns };
                Ok(())
            }
            Role::Initiator => {
                if self.config.reset_on_logon {
                    self.store.reset(now_ns)?;
                }
                self.state = State::LogonSent { since_ns: now_ns };
                self.heartbeat_ns = self.config.heartbeat_s as u64 * NS_PER_S;
                let Session { body, config, .. } = self;
                body.clear()
                    .u64(tag::ENCRYPT_METHOD, 0)
                    .u64(tag::HEART_BT_INT, config.heartbeat_s as u64);
                if config.reset_on_logon {
                    body.bool(tag::RESET_SEQ_NUM_FLAG, true);
                }
                if let Some(c) = &config.credentials {
                    body.str(tag::USERNAME, c.username.as_bytes())
                        .str(tag::PASSWORD, c.password.as_bytes());
                }
                self.send_admin_body(now_ns, mt::LOGON)
            }
        }
    }

    /// The connection is gone (closed by either side, or after [`Received::Disconnect`]).
    /// Unwritten bytes are dropped; sequence numbers stay in the store.
    pub fn on_disconnect(&mut self) {
        self.state = State::Disconnected;
        self.out.clear();
        self.out_pos = 0;
        self.test_request_sent = false;
        self.resend_until = None;
    }

    // ---- sending ---------------------------------------------------------------------

    fn write(&mut self, now_ns: u64, msg_type: &[u8], seq: u64, orig: Option<u64>, body: &[u8]) {
        let header = Header {
            msg_type,
            sender: self.config.sender_comp_id.as_bytes(),
            target: self.config.target_comp_id.as_bytes(),
            seq,
            sending_time_ns: now_ns,
            orig_sending_time_ns: orig,
            precision: self.config.precision,
        };
        write_message(&mut self.out, &header, body);
        self.last_sent_ns = now_ns;
        self.stats.sent += 1;
    }

    /// Sends the administrative message whose body is in `self.body`.
    fn send_admin_body(&mut self, now_ns: u64, msg_type: &[u8]) -> Flow {
        let seq = self.store.record_sent(now_ns, None)?;
        if !matches!(self.state, State::Disconnected) {
            let header = Header {
                msg_type,
                sender: self.config.sender_comp_id.as_bytes(),
                target: self.config.target_comp_id.as_bytes(),
                seq,
                sending_time_ns: now_ns,
                orig_sending_time_ns: None,
                precision: self.config.precision,
            };
            write_message(&mut self.out, &header, self.body.as_bytes());
            self.last_sent_ns = now_ns;
            self.stats.sent += 1;
        }
        Ok(())
    }

    /// Sends an application message: numbered, stored for resends, and written if logged
    /// on (otherwise it waits in the store for the counterparty's ResendRequest). Returns
    /// its MsgSeqNum.
    pub fn send_app(
        &mut self,
        now_ns: u64,
        msg_type: &[u8],
        body: &[u8],
    ) -> Result<u64, StoreError> {
        let seq = self.store.record_sent(now_ns, Some((msg_type, body)))?;
        if self.is_logged_on() {
            self.write(now_ns, msg_type, seq, None, body);
        }
        Ok(seq)
    }

    /// Sends a session-level Reject (35=3) about message `ref_seq` of type `ref_msg_type`.
    pub fn send_reject(
        &mut self,
        now_ns: u64,
        ref_seq: u64,
        ref_msg_type: &[u8],
        problem: Problem,
        text: &str,
    ) -> Result<(), EndReason> {
        let Session { body, .. } = self;
        body.clear().u64(tag::REF_SEQ_NUM, ref_seq);
        if problem.tag != 0 {
            body.u64(tag::REF_TAG_ID, problem.tag as u64);
        }
        if !ref_msg_type.is_empty() && !ref_msg_type.contains(&super::frame::SOH) {
            body.str(tag::REF_MSG_TYPE, ref_msg_type);
        }
        body.u64(tag::SESSION_REJECT_REASON, problem.reason.code() as u64);
        body.str(tag::TEXT, sanitize(text).as_bytes());
        self.stats.rejects_sent += 1;
        self.send_admin_body(now_ns, mt::REJECT)
    }

    /// Starts a Logout (Keel's initiative) with an optional Text.
    pub fn logout(&mut self, now_ns: u64, text: Option<&str>) -> Result<(), EndReason> {
        if !self.is_logged_on() {
            return Ok(());
        }
        self.write_logout(now_ns, text)?;
        self.state = State::LogoutSent { since_ns: now_ns };
        Ok(())
    }

    fn write_logout(&mut self, now_ns: u64, text: Option<&str>) -> Flow {
        self.body.clear();
        if let Some(t) = text {
            self.body.str(tag::TEXT, sanitize(t).as_bytes());
        }
        self.send_admin_body(now_ns, mt::LOGOUT)
    }

    /// Logout with `text` and end the session.
    fn fatal(&mut self, now_ns: u64, text: &str, reason: EndReason) -> Received {
        if let Err(e) = self.write_logout(now_ns, Some(text)) {
            self.state = State::Disconnected;
            return Received::Disconnect(e);
        }
        self.state = State::Disconnected;
        Received::Disconnect(reason)
    }

    fn protocol_error(&mut self, now_ns: u64, text: String) -> Received {
        self.fatal(now_ns, &text.clone(), EndReason::Protocol(text))
    }

    // ---- acceptor logon --------------------------------------------------------------

    /// Accepts the pending Logon: answers it and the session is active. A Logon numbered
    /// above the expected number is followed by a ResendRequest.
    pub fn accept_logon(&mut self, now_ns: u64) -> Result<(), EndReason> {
        let State::LogonPending { seq, heartbeat_s, reset, .. } = self.state else {
            return Ok(());
        };
        let r = (|| -> Flow {
            if reset {
                self.store.reset(now_ns)?;
            }
            self.heartbeat_ns = heartbeat_s as u64 * NS_PER_S;
            let Session { body, .. } = self;
            body.clear().u64(tag::ENCRYPT_METHOD, 0).u64(tag::HEART_BT_INT, heartbeat_s as u64);
            if reset {
                body.bool(tag::RESET_SEQ_NUM_FLAG, true);
            }
            self.send_admin_body(now_ns, mt::LOGON)?;
            self.state = State::Active;
            let expected = self.store.next_target_seq();
            if seq == expected {
                self.store.set_next_target_seq(seq + 1, now_ns)?;
            } else if seq > expected {
                self.request_resend(now_ns, expected, seq)?;
            }
            Ok(())
        })();
        if r.is_err() {
            self.state = State::Disconnected;
        }
        r
    }

    /// Refuses the pending Logon: Logout with `text`, then disconnect. Returns the reason
    /// to log.
    pub fn refuse_logon(&mut self, now_ns: u64, text: &str) -> EndReason {
        match self.fatal(now_ns, text, EndReason::LogonRefused(text.to_string())) {
            Received::Disconnect(r) => r,
            _ => EndReason::LogonRefused(text.to_string()),
        }
    }

    // ---- receiving -------------------------------------------------------------------

    /// One decoded inbound message (see the module docs for what is checked).
    pub fn on_message(&mut self, now_ns: u64, msg: &Message<'_>) -> Received {
        match self.receive(now_ns, msg) {
            Ok(r) => r,
            Err(reason) => {
                self.state = State::Disconnected;
                Received::Disconnect(reason)
            }
        }
    }

    fn receive(&mut self, now_ns: u64, msg: &Message<'_>) -> Flow<Received> {
        if matches!(self.state, State::Disconnected) {
            return Ok(Received::Handled);
        }
        self.last_recv_ns = now_ns;
        self.test_request_sent = false;
        let t = msg.msg_type();
        if let State::LogonPending { .. } = self.state {
            return Ok(self.protocol_error(
                now_ns,
                "A message arrived before the Logon was authenticated".into(),
            ));
        }
        if let State::AwaitingLogon { .. } = self.state {
            if t != mt::LOGON {
                self.state = State::Disconnected;
                return Ok(Received::Disconnect(EndReason::FirstMessageNotLogon(
                    String::from_utf8_lossy(t).into_owned(),
                )));
            }
        }
        if msg.begin_string() != BEGIN_STRING {
            let text = format!(
                "Incorrect BeginString {:?}, expected FIX.4.4",
                String::from_utf8_lossy(msg.begin_string())
            );
            return Ok(self.protocol_error(now_ns, text));
        }
        let seq = match msg.field(tag::MSG_SEQ_NUM).map(|f| f.u64()) {
            Some(Ok(s)) if s > 0 => s,
            _ => {
                return Ok(self.protocol_error(now_ns, "MsgSeqNum (34) missing or invalid".into()));
            }
        };
        let expected = self.store.next_target_seq();
        let in_sequence = seq == expected;

        // CompIDs: the counterparty's SenderCompID is our target and vice versa.
        let comp_problem =
            if msg.get(tag::SENDER_COMP_ID) != Some(self.config.target_comp_id.as_bytes()) {
                Some(tag::SENDER_COMP_ID)
            } else if msg.get(tag::TARGET_COMP_ID) != Some(self.config.sender_comp_id.as_bytes()) {
                Some(tag::TARGET_COMP_ID)
            } else {
                None
            };
        if let Some(bad) = comp_problem {
            if !matches!(self.state, State::AwaitingLogon { .. }) {
                self.send_reject(
                    now_ns,
                    seq,
                    t,
                    Problem::new(R::CompIdProblem, bad),
                    "CompID problem",
                )?;
                if in_sequence {
                    self.store.set_next_target_seq(seq + 1, now_ns)?;
                }
            }
            return Ok(self.protocol_error(now_ns, format!("CompID problem (tag {bad})")));
        }

        // SendingTime: present, well formed, within the tolerance.
        let sending_time = match msg.field(tag::SENDING_TIME).map(|f| f.timestamp()) {
            Some(Ok(ts)) => Ok(ts),
            Some(Err(p)) => Err(p),
            None => Err(Problem::new(R::RequiredTagMissing, tag::SENDING_TIME)),
        };
        if let Ok(ts) = sending_time {
            if ts.abs_diff(now_ns) > self.config.sending_time_tolerance_ns {
                let text = "SendingTime accuracy problem";
                if !matches!(self.state, State::AwaitingLogon { .. }) {
                    self.send_reject(
                        now_ns,
                        seq,
                        t,
                        Problem::new(R::SendingTimeAccuracy, tag::SENDING_TIME),
                        text,
                    )?;
                    if in_sequence {
                        self.store.set_next_target_seq(seq + 1, now_ns)?;
                    }
                }
                return Ok(self.protocol_error(now_ns, text.into()));
            }
        }

        if t == mt::LOGON {
            return self.on_logon(now_ns, msg, seq, expected);
        }
        if let State::LogonSent { .. } = self.state {
            if t == mt::LOGOUT {
                let text = text_of(msg);
                self.state = State::Disconnected;
                return Ok(Received::Disconnect(EndReason::LogonRefused(text)));
            }
            return Ok(self.protocol_error(
                now_ns,
                format!("Expected a Logon answer, got MsgType {}", String::from_utf8_lossy(t)),
            ));
        }
        let poss_dup = matches!(msg.get(tag::POSS_DUP_FLAG), Some(b"Y"));
        let gap_fill = matches!(msg.get(tag::GAP_FILL_FLAG), Some(b"Y"));

        // SequenceReset-Reset ignores its own number.
        if t == mt::SEQUENCE_RESET && !gap_fill {
            return self.on_sequence_reset(now_ns, msg, seq, expected, false);
        }

        if seq > expected {
            if t == mt::LOGOUT {
                return self.on_logout(now_ns, msg);
            }
            if t == mt::RESEND_REQUEST && validate(msg, &admin::RESEND_REQUEST).is_ok() {
                self.on_resend_request(now_ns, msg)?;
            }
            self.request_resend(now_ns, expected, seq)?;
            return Ok(Received::Handled);
        }
        if seq < expected {
            if poss_dup {
                self.stats.duplicates_ignored += 1;
                return Ok(Received::Handled);
            }
            let text = format!("MsgSeqNum too low, expecting {expected} but received {seq}");
            return Ok(self.protocol_error(now_ns, text));
        }

        // In sequence from here on.
        if let Some(until) = self.resend_until {
            if seq >= until {
                self.resend_until = None;
            }
        }
        if poss_dup {
            let problem =
                match (msg.field(tag::ORIG_SENDING_TIME).map(|f| f.timestamp()), sending_time) {
                    (None, _) => Some((
                        Problem::new(R::RequiredTagMissing, tag::ORIG_SENDING_TIME),
                        "OrigSendingTime (122) is required with PossDupFlag=Y",
                    )),
                    (Some(Err(p)), _) => Some((p, "OrigSendingTime (122) is not a UTC timestamp")),
                    (Some(Ok(orig)), Ok(sent)) if orig > sent => Some((
                        Problem::new(R::SendingTimeAccuracy, tag::ORIG_SENDING_TIME),
                        "OrigSendingTime is after SendingTime",
                    )),
                    _ => None,
                };
            if let Some((p, text)) = problem {
                return self.reject_and_advance(now_ns, seq, t, p, text);
            }
        }
        if let Some(p) = msg.problem() {
            return self.reject_and_advance(now_ns, seq, t, p, &p.to_string());
        }
        if let Err(p) = sending_time {
            return self.reject_and_advance(now_ns, seq, t, p, &p.to_string());
        }
        if !mt::is_fix44(t) {
            let p = Problem::new(R::InvalidMsgType, tag::MSG_TYPE);
            return self.reject_and_advance(now_ns, seq, t, p, "Invalid MsgType");
        }
        if mt::is_admin(t) {
            let spec: &MessageSpec = match t {
                b"0" => &admin::HEARTBEAT,
                b"1" => &admin::TEST_REQUEST,
                b"2" => &admin::RESEND_REQUEST,
                b"3" => &admin::REJECT,
                b"4" => &admin::SEQUENCE_RESET,
                _ => &admin::LOGOUT,
            };
            if let Err(p) = validate(msg, spec) {
                return self.reject_and_advance(now_ns, seq, t, p, &p.to_string());
            }
        }
        self.stats.received += 1;
        match t {
            mt::HEARTBEAT => {
                self.advance(now_ns, seq)?;
                Ok(Received::Handled)
            }
            mt::TEST_REQUEST => {
                self.advance(now_ns, seq)?;
                let id = msg.get(tag::TEST_REQ_ID).unwrap_or_default();
                self.body.clear().str(tag::TEST_REQ_ID, id);
                self.send_admin_body(now_ns, mt::HEARTBEAT)?;
                Ok(Received::Handled)
            }
            mt::RESEND_REQUEST => {
                self.advance(now_ns, seq)?;
                self.on_resend_request(now_ns, msg)?;
                Ok(Received::Handled)
            }
            mt::REJECT => {
                self.advance(now_ns, seq)?;
                Ok(Received::Handled)
            }
            mt::SEQUENCE_RESET => self.on_sequence_reset(now_ns, msg, seq, expected, true),
            mt::LOGOUT => {
                self.advance(now_ns, seq)?;
                self.on_logout(now_ns, msg)
            }
            _ => {
                self.advance(now_ns, seq)?;
                Ok(Received::App)
            }
        }
    }

    fn advance(&mut self, now_ns: u64, seq: u64) -> Flow {
        self.store.set_next_target_seq(seq + 1, now_ns)?;
        Ok(())
    }

    fn reject_and_advance(
        &mut self,
        now_ns: u64,
        seq: u64,
        t: &[u8],
        p: Problem,
        text: &str,
    ) -> Flow<Received> {
        self.send_reject(now_ns, seq, t, p, text)?;
        self.advance(now_ns, seq)?;
        Ok(Received::Handled)
    }

    fn on_logon(
        &mut self,
        now_ns: u64,
        msg: &Message<'_>,
        seq: u64,
        expected: u64,
    ) -> Flow<Received> {
        match self.state {
            State::AwaitingLogon { since_ns } => {
                if let Some(p) = msg.problem() {
                    return Ok(self.refuse(now_ns, format!("Invalid Logon: {p}")));
                }
                if let Err(p) = validate(msg, &admin::LOGON) {
                    return Ok(self.refuse(now_ns, format!("Invalid Logon: {p}")));
                }
                if msg.get(tag::ENCRYPT_METHOD) != Some(b"0") {
                    return Ok(self.refuse(now_ns, "EncryptMethod (98) must be 0 (none)".into()));
                }
                let hb = match msg.field(tag::HEART_BT_INT).map(|f| f.u64()) {
                    Some(Ok(h)) => h,
                    _ => return Ok(self.refuse(now_ns, "HeartBtInt (108) is not a number".into())),
                };
                let (lo, hi) =
                    (self.config.heartbeat_s_min as u64, self.config.heartbeat_s_max as u64);
                if !(lo..=hi).contains(&hb) {
                    return Ok(self.refuse(
                        now_ns,
                        format!("HeartBtInt {hb} is outside the accepted {lo}..={hi} seconds"),
                    ));
                }
                let reset = matches!(msg.get(tag::RESET_SEQ_NUM_FLAG), Some(b"Y"));
                if reset && seq != 1 {
                    return Ok(self.refuse(
                        now_ns,
                        format!("ResetSeqNumFlag=Y requires MsgSeqNum 1, got {seq}"),
                    ));
                }
                if !reset && seq < expected {
                    let text =
                        format!("MsgSeqNum too low, expecting {expected} but received {seq}");
                    return Ok(self.protocol_error(now_ns, text));
                }
                self.state = State::LogonPending { since_ns, seq, heartbeat_s: hb as u32, reset };
                Ok(Received::LogonRequest)
            }
            State::LogonSent { .. } => {
                if let Some(p) = msg.problem() {
                    return Ok(self.protocol_error(now_ns, format!("Invalid Logon answer: {p}")));
                }
                if let Err(p) = validate(msg, &admin::LOGON) {
                    return Ok(self.protocol_error(now_ns, format!("Invalid Logon answer: {p}")));
                }
                let reset = matches!(msg.get(tag::RESET_SEQ_NUM_FLAG), Some(b"Y"));
                let expected = if reset && !self.config.reset_on_logon {
                    // The acceptor reset on its own: our Logon went out under the old
                    // numbering, so only the inbound number restarts.
                    self.store.set_next_target_seq(1, now_ns)?;
                    1
                } else {
                    expected
                };
                if seq < expected {
                    let text =
                        format!("MsgSeqNum too low, expecting {expected} but received {seq}");
                    return Ok(self.protocol_error(now_ns, text));
                }
                self.state = State::Active;
                self.stats.received += 1;
                if seq == expected {
                    self.advance(now_ns, seq)?;
                } else {
                    self.request_resend(now_ns, expected, seq)?;
                }
                Ok(Received::LoggedOn)
            }
            _ => {
                if seq < expected && matches!(msg.get(tag::POSS_DUP_FLAG), Some(b"Y")) {
                    self.stats.duplicates_ignored += 1;
                    return Ok(Received::Handled);
                }
                Ok(self.protocol_error(now_ns, "Logon received while already logged on".into()))
            }
        }
    }

    fn refuse(&mut self, now_ns: u64, text: String) -> Received {
        let reason = EndReason::LogonRefused(text.clone());
        self.fatal(now_ns, &text, reason)
    }

    fn on_logout(&mut self, now_ns: u64, msg: &Message<'_>) -> Flow<Received> {
        if let State::LogoutSent { .. } = self.state {
            self.state = State::Disconnected;
            return Ok(Received::Disconnect(EndReason::LoggedOut));
        }
        let text = text_of(msg);
        self.write_logout(now_ns, None)?;
        self.state = State::Disconnected;
        Ok(Received::Disconnect(EndReason::LogoutReceived(text)))
    }

    fn on_sequence_reset(
        &mut self,
        now_ns: u64,
        msg: &Message<'_>,
        seq: u64,
        expected: u64,
        gap_fill: bool,
    ) -> Flow<Received> {
        let checked = validate(msg, &admin::SEQUENCE_RESET)
            .and_then(|()| msg.require(tag::NEW_SEQ_NO).and_then(|f| f.u64()));
        let new_seq = match checked {
            Ok(n) => n,
            Err(p) if gap_fill => {
                return self.reject_and_advance(now_ns, seq, mt::SEQUENCE_RESET, p, &p.to_string());
            }
            Err(p) => {
                // A Reset's own number is ignored: reject it without advancing.
                self.send_reject(now_ns, seq, mt::SEQUENCE_RESET, p, &p.to_string())?;
                return Ok(Received::Handled);
            }
        };
        self.stats.received += 1;
        if new_seq > expected {
            self.store.set_next_target_seq(new_seq, now_ns)?;
            if let Some(until) = self.resend_until {
                if new_seq > until {
                    self.resend_until = None;
                }
            }
        } else if new_seq < expected || gap_fill {
            let text = format!(
                "Value is incorrect (out of range) for this tag: NewSeqNo {new_seq} would not move the expected MsgSeqNum {expected} forward"
            );
            self.send_reject(
                now_ns,
                seq,
                mt::SEQUENCE_RESET,
                Problem::new(R::ValueOutOfRange, tag::NEW_SEQ_NO),
                &text,
            )?;
            if gap_fill && seq == expected {
                self.advance(now_ns, seq)?;
            }
        }
        Ok(Received::Handled)
    }

    fn on_resend_request(&mut self, now_ns: u64, msg: &Message<'_>) -> Flow {
        let begin = msg.field(tag::BEGIN_SEQ_NO).map(|f| f.u64());
        let end = msg.field(tag::END_SEQ_NO).map(|f| f.u64());
        let (Some(Ok(begin)), Some(Ok(end))) = (begin, end) else {
            return Ok(());
        };
        let last = self.store.next_sender_seq() - 1;
        let end = if end == 0 || end > last { last } else { end };
        if begin == 0 || begin > end {
            return Ok(());
        }
        let mut next = begin;
        let Session { store, out, config, stats, last_sent_ns, .. } = self;
        let write_gap = |out: &mut Vec<u8>, from: u64, to: u64| {
            let mut b = Body::with_capacity(32);
            b.bool(tag::GAP_FILL_FLAG, true).u64(tag::NEW_SEQ_NO, to);
            let h = Header {
                msg_type: mt::SEQUENCE_RESET,
                sender: config.sender_comp_id.as_bytes(),
                target: config.target_comp_id.as_bytes(),
                seq: from,
                sending_time_ns: now_ns,
                orig_sending_time_ns: Some(now_ns),
                precision: config.precision,
            };
            write_message(out, &h, b.as_bytes());
        };
        let mut count = 0u64;
        store.sent_messages(begin, end, &mut |m| {
            if m.seq > next {
                write_gap(out, next, m.seq);
                count += 1;
            }
            let h = Header {
                msg_type: m.msg_type,
                sender: config.sender_comp_id.as_bytes(),
                target: config.target_comp_id.as_bytes(),
                seq: m.seq,
                sending_time_ns: now_ns,
                orig_sending_time_ns: Some(m.sending_time_ns),
                precision: config.precision,
            };
            write_message(out, &h, m.body);
            count += 1;
            next = m.seq + 1;
        })?;
        if next <= end {
            write_gap(out, next, end + 1);
            count += 1;
        }
        stats.resent += count;
        stats.sent += count;
        *last_sent_ns = now_ns;
        Ok(())
    }

    fn request_resend(&mut self, now_ns: u64, expected: u64, seen: u64) -> Flow {
        match self.resend_until {
            Some(until) => {
                // The outstanding request (to infinity) covers it.
                self.resend_until = Some(until.max(seen));
                Ok(())
            }
            None => {
                self.resend_until = Some(seen);
                self.body.clear().u64(tag::BEGIN_SEQ_NO, expected).u64(tag::END_SEQ_NO, 0);
                self.stats.resend_requests_sent += 1;
                self.send_admin_body(now_ns, mt::RESEND_REQUEST)
            }
        }
    }

    // ---- time ------------------------------------------------------------------------

    /// Time passes: heartbeats, test requests, timeouts. Returns why the session ended,
    /// if it did (the owner then writes [`Session::outbound`] and closes).
    pub fn on_timer(&mut self, now_ns: u64) -> Option<EndReason> {
        let r = self.tick(now_ns);
        if r.is_some() {
            self.state = State::Disconnected;
        }
        r
    }

    fn tick(&mut self, now_ns: u64) -> Option<EndReason> {
        match self.state {
            State::Disconnected => None,
            State::AwaitingLogon { since_ns }
            | State::LogonPending { since_ns, .. }
            | State::LogonSent { since_ns } => (now_ns.saturating_sub(since_ns)
                >= self.config.logon_timeout_ns)
                .then_some(EndReason::LogonTimeout),
            State::Active | State::LogoutSent { .. } => {
                if let State::LogoutSent { since_ns } = self.state {
                    if now_ns.saturating_sub(since_ns) >= self.config.logout_timeout_ns {
                        return Some(EndReason::LogoutTimeout);
                    }
                }
                let hb = self.heartbeat_ns;
                if hb == 0 {
                    return None;
                }
                let silence = now_ns.saturating_sub(self.last_recv_ns);
                if silence >= hb * 24 / 10 {
                    return Some(EndReason::HeartbeatTimeout { silence_ms: silence / 1_000_000 });
                }
                if silence >= hb * 12 / 10 && !self.test_request_sent {
                    self.test_requests += 1;
                    let mut id = [0u8; 24];
                    let n = test_req_id(&mut id, self.test_requests);
                    self.body.clear().str(tag::TEST_REQ_ID, &id[..n]);
                    if let Err(e) = self.send_admin_body(now_ns, mt::TEST_REQUEST) {
                        return Some(e);
                    }
                    self.test_request_sent = true;
                }
                if now_ns.saturating_sub(self.last_sent_ns) >= hb {
                    self.body.clear();
                    if let Err(e) = self.send_admin_body(now_ns, mt::HEARTBEAT) {
                        return Some(e);
                    }
                }
                None
            }
        }
    }
}

/// `TEST<n>` into `buf`; returns its length.
fn test_req_id(buf: &mut [u8; 24], n: u64) -> usize {
    buf[..4].copy_from_slice(b"TEST");
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = digits.len() - i;
    buf[4..4 + len].copy_from_slice(&digits[i..]);
    4 + len
}

/// Text (58) of a message, or empty.
fn text_of(msg: &Message<'_>) -> String {
    msg.get(tag::TEXT).map(|t| String::from_utf8_lossy(t).into_owned()).unwrap_or_default()
}

/// Text safe for a FIX value: printable ASCII only.
fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(
            text.chars().map(|c| if (' '..='~').contains(&c) { c } else { '?' }).collect(),
        )
    }
}
