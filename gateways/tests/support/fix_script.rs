//! A scripted FIX counterparty and a harness around one [`Session`] with virtual time
//! (included with `#[path]` by the FIX test files).
#![allow(dead_code)]

use keel_gateways::fix::frame::checksum;
use keel_gateways::fix::inbound::{InBuffer, Next};
use keel_gateways::fix::message::Decoder;
use keel_gateways::fix::session::{Credentials, EndReason, Received, Role, Session, SessionConfig};
use keel_gateways::fix::store::{MemoryStore, MessageStore};
use keel_gateways::fix::time::{Precision, write_timestamp};

/// 2024-01-02T00:00:00Z.
pub const T0_NS: u64 = 1_704_153_600_000_000_000;
pub const S: u64 = 1_000_000_000;

/// Wraps a body (fields after BodyLength) into a frame with BodyLength and CheckSum.
pub fn frame_of(body: &str) -> Vec<u8> {
    let head = format!("8=FIX.4.4\x019={}\x01", body.len());
    let mut m = (head + body).into_bytes();
    let sum = checksum(&m);
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

/// Recomputes BodyLength and CheckSum of an edited frame.
pub fn refresh_checksum(mut m: Vec<u8>) -> Vec<u8> {
    let trailer = m.len() - 7;
    m.truncate(trailer);
    let sum = checksum(&m);
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

/// The scripted counterparty: writes messages with any number, header and time.
#[derive(Clone, Debug)]
pub struct Peer {
    pub sender: String,
    pub target: String,
    pub now: u64,
    pub next: u64,
    pub extra_header: Vec<(u32, String)>,
    pub sending_time: Option<String>,
}

impl Peer {
    pub fn client() -> Peer {
        Peer {
            sender: "CLIENT".into(),
            target: "KEEL".into(),
            now: T0_NS,
            next: 1,
            extra_header: Vec::new(),
            sending_time: None,
        }
    }

    pub fn ts(&self, ns: u64) -> String {
        let mut v = Vec::new();
        write_timestamp(&mut v, ns, Precision::Millis);
        String::from_utf8(v).unwrap()
    }

    pub fn with_header(&self, fields: &[(u32, &str)]) -> Peer {
        let mut p = self.clone();
        p.extra_header = fields.iter().map(|(t, v)| (*t, v.to_string())).collect();
        p
    }

    pub fn with_sending_time(&self, ts: &str) -> Peer {
        let mut p = self.clone();
        p.sending_time = Some(ts.to_string());
        p
    }

    /// A message of type `t` numbered `seq` with body `fields`.
    pub fn msg(&self, t: &str, seq: u64, fields: &[(u32, &str)]) -> Vec<u8> {
        let mut body =
            format!("35={t}\x0149={}\x0156={}\x0134={seq}\x01", self.sender, self.target);
        for (tag, v) in &self.extra_header {
            body.push_str(&format!("{tag}={v}\x01"));
        }
        let st = self.sending_time.clone().unwrap_or_else(|| self.ts(self.now));
        body.push_str(&format!("52={st}\x01"));
        for (tag, v) in fields {
            body.push_str(&format!("{tag}={v}\x01"));
        }
        frame_of(&body)
    }

    /// A resend (PossDupFlag=Y, OrigSendingTime a second ago).
    pub fn resend_of(&self, t: &str, seq: u64, fields: &[(u32, &str)]) -> Vec<u8> {
        let orig = self.ts(self.now - S);
        self.with_header(&[(43, "Y"), (122, &orig)]).msg(t, seq, fields)
    }

    pub fn logon(&self, seq: u64, heartbeat_s: u32) -> Vec<u8> {
        let hb = heartbeat_s.to_string();
        self.msg("A", seq, &[(98, "0"), (108, &hb)])
    }
}

/// A message Keel wrote, parsed into owned fields.
#[derive(Clone, Debug)]
pub struct Sent {
    pub fields: Vec<(u32, String)>,
}

impl Sent {
    pub fn get(&self, tag: u32) -> Option<&str> {
        self.fields.iter().find(|(t, _)| *t == tag).map(|(_, v)| v.as_str())
    }
    pub fn msg_type(&self) -> &str {
        self.get(35).unwrap()
    }
}

/// Splits Keel's output into messages, checking each frames and decodes cleanly.
pub fn parse_all(bytes: &[u8]) -> Vec<Sent> {
    let mut buf = InBuffer::new(1 << 16);
    assert_eq!(buf.push(bytes), bytes.len());
    let mut dec = Decoder::default();
    let mut out = Vec::new();
    while let Some(next) = buf.next_frame() {
        let Next::Frame(f) = next else { panic!("Keel wrote a garbled message: {next:?}") };
        let m = dec.decode(f).unwrap();
        assert_eq!(m.problem(), None, "{}", String::from_utf8_lossy(f));
        out.push(Sent {
            fields: m
                .fields()
                .map(|f| (f.tag, String::from_utf8_lossy(f.value).into_owned()))
                .collect(),
        });
    }
    assert_eq!(buf.pending(), 0);
    out
}

/// One session, its input buffer and decoder, a scripted peer and a virtual clock.
pub struct Harness<S: MessageStore = MemoryStore> {
    pub session: Session<S>,
    pub peer: Peer,
    pub now: u64,
    pub inbuf: InBuffer,
    pub decoder: Decoder,
    pub garbled: u64,
}

impl Harness<MemoryStore> {
    /// An acceptor (KEEL) for CLIENT, connected, waiting for the Logon.
    pub fn acceptor() -> Harness {
        Harness::with_store(Role::Acceptor, MemoryStore::default())
    }

    /// An acceptor that accepted CLIENT's Logon (1) with HeartBtInt 30 and answered (1).
    pub fn logged_on() -> Harness {
        let mut h = Harness::acceptor();
        h.logon();
        h
    }

    /// An initiator (KEEL) towards VENUE that has sent its Logon.
    pub fn initiator() -> Harness {
        let mut config = SessionConfig::new(Role::Initiator, "KEEL", "VENUE");
        config.reset_on_logon = true;
        config.credentials = Some(Credentials { username: "keel".into(), password: "pw".into() });
        let mut h = Harness::from_config(config, MemoryStore::default());
        h.peer = Peer { sender: "VENUE".into(), ..Peer::client() };
        h
    }
}

impl<S: MessageStore> Harness<S> {
    pub fn with_store(role: Role, store: S) -> Harness<S> {
        Harness::from_config(SessionConfig::new(role, "KEEL", "CLIENT"), store)
    }

    pub fn from_config(config: SessionConfig, store: S) -> Harness<S> {
        let mut session = Session::new(config, store);
        session.on_connect(T0_NS).unwrap();
        Harness {
            session,
            peer: Peer::client(),
            now: T0_NS,
            inbuf: InBuffer::new(8192),
            decoder: Decoder::default(),
            garbled: 0,
        }
    }

    /// Logon at the peer's next number, accepted; Keel's answer is drained.
    pub fn logon(&mut self) {
        let seq = self.peer.next;
        let r = self.feed(&self.peer.logon(seq, 30));
        assert_eq!(r, [Received::LogonRequest]);
        self.session.accept_logon(self.now).unwrap();
        let out = self.sent();
        assert_eq!(out[0].msg_type(), "A");
    }

    /// Bytes from the peer: every resulting event, in order (garbled input yields none).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Received> {
        self.peer.now = self.now;
        let mut events = Vec::new();
        let mut rest = bytes;
        loop {
            let n = self.inbuf.push(rest);
            rest = &rest[n..];
            while let Some(next) = self.inbuf.next_frame() {
                match next {
                    Next::Garbled { .. } => self.garbled += 1,
                    Next::Frame(f) => match self.decoder.decode(f) {
                        Err(_) => self.garbled += 1,
                        Ok(m) => events.push(self.session.on_message(self.now, &m)),
                    },
                }
            }
            if rest.is_empty() {
                break;
            }
        }
        events
    }

    /// Everything Keel wrote since the last call.
    pub fn sent(&mut self) -> Vec<Sent> {
        let bytes = self.session.outbound().to_vec();
        self.session.consume_outbound(bytes.len());
        parse_all(&bytes)
    }

    /// Advances the virtual clock by `secs` and runs the session's timer.
    pub fn tick(&mut self, secs: u64) -> Option<EndReason> {
        self.now += secs * S;
        self.peer.now = self.now;
        self.session.on_timer(self.now)
    }
}
