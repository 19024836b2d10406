//! Fuzz-style tests: arbitrary and mutated byte streams thrown at the framer, the decoder,
//! the specs and the session layer. Properties: no panic; no hang (every step consumes
//! input, checked by bounding the number of steps); bounded memory (the receive buffer
//! never exceeds twice the largest frame); everything Keel writes back is itself a valid
//! message; and the session only ever accepts, rejects or disconnects — once
//! disconnected it takes nothing more.

#[path = "support/fix_script.rs"]
mod script;

use keel_engine::{AccountId, Instrument, InstrumentId, VenueId};
use keel_gateways::fix::acceptor::Dictionary;
use keel_gateways::fix::acceptor::order_entry::{Sender, decide};
use keel_gateways::fix::frame::{Scan, scan};
use keel_gateways::fix::inbound::{InBuffer, Next};
use keel_gateways::fix::message::Decoder;
use keel_gateways::fix::session::{Received, SessionState};
use keel_gateways::fix::spec::{GroupSpec, MessageSpec, validate};
use keel_gateways::fix::store::MessageStore;
use keel_gateways::fix::{time, value};
use proptest::prelude::*;
use rust_decimal::Decimal;
use script::*;
use std::str::FromStr;

const MAX_FRAME: usize = 4096;

thread_local! {
    static DICT: Dictionary = {
        let btc = Instrument::builder(InstrumentId(0), "BTC-USD")
            .tick_size(Decimal::from_str("0.01").unwrap())
            .lot_size(Decimal::from_str("0.001").unwrap())
            .build()
            .unwrap();
        Dictionary::new(vec![btc], vec![(VenueId(1), "SIM".into())])
    };
}

/// Feeds `bytes` in chunks of the given sizes; returns the events. Checks the invariants
/// after every step.
fn drive(h: &mut Harness, bytes: &[u8], chunks: &[usize]) -> Vec<Received> {
    let mut events = Vec::new();
    let mut rest = bytes;
    let mut chunk_i = 0;
    let mut steps = 0usize;
    let mut disconnected = false;
    while !rest.is_empty() {
        let want = chunks.get(chunk_i % chunks.len().max(1)).copied().unwrap_or(64).max(1);
        chunk_i += 1;
        let n = h.inbuf.push(&rest[..want.min(rest.len())]);
        rest = &rest[n..];
        assert!(h.inbuf.pending() <= 2 * MAX_FRAME, "the receive buffer is bounded");
        loop {
            steps += 1;
            assert!(steps <= 4 * bytes.len() + 16, "no progress: the reader would hang");
            let Some(next) = h.inbuf.next_frame() else { break };
            match next {
                Next::Garbled { bytes, .. } => assert!(bytes >= 1),
                Next::Frame(f) => {
                    assert!(f.len() <= MAX_FRAME);
                    let Ok(m) = h.decoder.decode(f) else { continue };
                    let before = h.session.store().next_target_seq();
                    let r = h.session.on_message(h.now, &m);
                    let after = h.session.store().next_target_seq();
                    if disconnected {
                        assert_eq!(r, Received::Handled, "a disconnected session takes nothing");
                        assert_eq!(before, after);
                    }
                    if r == Received::App {
                        assert_eq!(
                            after,
                            before + 1,
                            "an accepted message takes exactly one number"
                        );
                        assert_eq!(m.problem(), None);
                        // The order-entry mapping decides something for anything.
                        DICT.with(|d| decide(&m, d, Sender { account: AccountId(0) }));
                    }
                    if matches!(r, Received::Disconnect(_)) {
                        disconnected = true;
                        assert_eq!(h.session.state(), SessionState::Disconnected);
                    }
                    events.push(r);
                }
            }
        }
        if n == 0 && h.inbuf.pending() >= 2 * MAX_FRAME {
            panic!("a full buffer that frames nothing would stall the reader");
        }
        // Everything Keel writes is a valid message (parse_all asserts it).
        let _ = h.sent();
        if !disconnected {
            h.now += 10_000_000;
            if h.session.on_timer(h.now).is_some() {
                disconnected = true;
            }
        }
    }
    events
}

fn logged_on_harness() -> Harness {
    let mut h = Harness::acceptor();
    h.inbuf = InBuffer::new(MAX_FRAME);
    h.logon();
    h
}

/// A plausible stream: heartbeats, orders, test requests, resend requests, a logout.
fn valid_stream(peer: &Peer, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let seq = 2 + i as u64;
        let id = format!("O{i}");
        let m = match i % 5 {
            0 => peer.msg("0", seq, &[]),
            1 => peer.msg(
                "D",
                seq,
                &[
                    (11, &id),
                    (21, "1"),
                    (55, "BTC-USD"),
                    (54, "1"),
                    (60, "20240102-00:00:00.000"),
                    (38, "1.500"),
                    (40, "2"),
                    (44, "27123.45"),
                    (59, "6"),
                    (126, "20240103-00:00:00"),
                ],
            ),
            2 => peer.msg("1", seq, &[(112, &id)]),
            3 => peer.msg("2", seq, &[(7, "1"), (16, "0")]),
            _ => peer.msg(
                "G",
                seq,
                &[
                    (41, "O1"),
                    (11, &id),
                    (55, "BTC-USD"),
                    (54, "2"),
                    (60, "20240102-00:00:00.000"),
                    (38, "2"),
                    (40, "4"),
                    (44, "1.01"),
                    (99, "1.02"),
                    (453, "1"),
                    (448, "X"),
                    (452, "3"),
                ],
            ),
        };
        out.extend_from_slice(&m);
    }
    out
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Soh(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..12))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        any::<usize>().prop_map(Mutation::Soh),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    match m {
        Mutation::Flip(i, b) => bytes[i % len] ^= b | 1,
        Mutation::Insert(i, v) => {
            let at = i % len;
            bytes.splice(at..at, v.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let at = i % len;
            bytes.drain(at..(at + n).min(len));
        }
        Mutation::Duplicate(i, n) => {
            let at = i % len;
            let seg: Vec<u8> = bytes[at..(at + n).min(len)].to_vec();
            bytes.splice(at..at, seg);
        }
        Mutation::Soh(i) => bytes[i % len] = 0x01,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_hang_or_grow(
        bytes in proptest::collection::vec(any::<u8>(), 0..6000),
        chunks in proptest::collection::vec(1usize..700, 1..8),
    ) {
        let mut h = logged_on_harness();
        drive(&mut h, &bytes, &chunks);
    }

    #[test]
    fn fix_shaped_noise_never_panics(
        fields in proptest::collection::vec(
            (prop_oneof![Just(8u32), Just(9), Just(10), Just(34), Just(35), Just(43), Just(49),
                         Just(52), Just(56), Just(95), Just(96), Just(122), Just(268), Just(269),
                         Just(0), 1u32..2000],
             proptest::collection::vec(prop_oneof![Just(b'1'), Just(b'A'), Just(b'='), Just(0x01u8),
                                                   Just(b'.'), Just(b'-'), any::<u8>()], 0..12)),
            0..40),
        chunks in proptest::collection::vec(1usize..300, 1..4),
    ) {
        let mut body = Vec::new();
        for (tag, v) in &fields {
            body.extend_from_slice(format!("{tag}=").as_bytes());
            body.extend_from_slice(v);
            body.push(1);
        }
        // Framed correctly, so the decoder and the session see it.
        let mut framed = format!("8=FIX.4.4\x019={}\x01", body.len()).into_bytes();
        framed.extend_from_slice(&body);
        let sum = keel_gateways::fix::frame::checksum(&framed);
        framed.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        let mut h = logged_on_harness();
        drive(&mut h, &framed, &chunks);
        // Specs and value parsers on the same bytes.
        let mut d = Decoder::default();
        if let Ok(m) = d.decode(&framed) {
            const G: GroupSpec = GroupSpec { count_tag: 268, delimiter: 269, members: &[269, 270], required: false };
            const SPEC: MessageSpec = MessageSpec { msg_type: b"W", required: &[55], optional: &[1, 11], groups: &[G] };
            let _ = validate(&m, &SPEC);
            for f in m.fields() {
                let _ = (f.u64(), f.i64(), f.decimal(), f.timestamp(), f.char(), f.bool(), f.text());
            }
            let _ = m.group(&G).count();
        }
    }

    #[test]
    fn mutated_sessions_reject_or_disconnect_never_panic(
        n in 1usize..25,
        mutations in proptest::collection::vec(mutation(), 0..12),
        chunks in proptest::collection::vec(1usize..400, 1..6),
    ) {
        let mut h = logged_on_harness();
        let mut bytes = valid_stream(&h.peer, n);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        drive(&mut h, &bytes, &chunks);
    }

    #[test]
    fn scan_and_parsers_are_total(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        match scan(&bytes, 256) {
            Scan::Frame(n) => prop_assert!(n <= bytes.len() && n <= 256),
            Scan::Garbled { skip, .. } => prop_assert!(skip >= 1 && skip <= bytes.len().max(1)),
            Scan::Incomplete => prop_assert!(bytes.len() < 256 + 32),
        }
        let _ = value::parse_decimal(&bytes);
        let _ = value::parse_i64(&bytes);
        let _ = time::parse_timestamp(&bytes);
    }
}

#[test]
fn an_unmutated_stream_is_accepted_whole() {
    // The generator itself is sound: without mutations every message is taken.
    let mut h = logged_on_harness();
    let bytes = valid_stream(&h.peer, 20);
    let events = drive(&mut h, &bytes, &[97]);
    assert_eq!(events.len(), 20);
    assert!(events.iter().all(|e| matches!(e, Received::App | Received::Handled)), "{events:?}");
    assert_eq!(h.session.store().next_target_seq(), 22);
}
