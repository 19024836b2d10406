//! The binary protocol's codec: every message round-trips (encode, decode, equal), every
//! message's bytes equal the layout documented in `docs/binary-protocol.md` (golden bytes
//! written field by field at the documented offsets, independently of the codec), the
//! documentation's tables equal the declared layouts, and the decoder survives arbitrary
//! bytes (no panic, no hang, always an error or "wait for more").

#[path = "binary_support/samples.rs"]
mod samples;

use keel_gateways::binary::msg::session::LogoutReason;
use keel_gateways::binary::wire::{HEADER_LEN, Secret, Text};
use keel_gateways::binary::{
    ClientMsg, DecodeError, Direction, MsgType, ServerMsg, decode_client, decode_server, frame_len,
};
use proptest::prelude::*;
use samples::*;

#[test]
fn every_message_round_trips() {
    let mut seen = std::collections::HashSet::new();
    for (i, m) in client_samples().into_iter().enumerate() {
        let mut buf = [0u8; 512];
        let n = m.encode(1000 + i as u64, &mut buf);
        assert_eq!(n, m.msg_type().frame_len());
        assert_eq!(frame_len(&buf[..n], Direction::Inbound), Ok(Some(n)));
        assert_eq!(frame_len(&buf[..n - 1], Direction::Inbound), Ok(None));
        let (h, back) = decode_client(&buf[..n]).unwrap();
        assert_eq!(back, m);
        assert_eq!(
            (h.seq, h.len as usize, h.msg_type, h.version),
            (1000 + i as u64, n, m.msg_type() as u8, 1)
        );
        seen.insert(m.msg_type());
    }
    for (i, m) in server_samples().into_iter().enumerate() {
        let mut buf = [0u8; 512];
        let n = m.encode(7 + i as u64, &mut buf);
        assert_eq!(n, m.msg_type().frame_len());
        assert_eq!(frame_len(&buf[..n], Direction::Outbound), Ok(Some(n)));
        let (h, back) = decode_server(&buf[..n]).unwrap();
        assert_eq!(back, m);
        assert_eq!(h.seq, 7 + i as u64);
        seen.insert(m.msg_type());
    }
    for t in MsgType::ALL {
        assert!(seen.contains(t), "{} has no round-trip sample", t.name());
    }
}

#[test]
fn each_side_refuses_the_other_sides_messages() {
    let mut buf = [0u8; 512];
    let n = ServerMsg::from(depth()).encode(1, &mut buf);
    assert_eq!(frame_len(&buf[..n], Direction::Inbound), Err(DecodeError::UnknownType(0x4a)));
    let n = ClientMsg::from(new_order()).encode(1, &mut buf);
    assert_eq!(frame_len(&buf[..n], Direction::Outbound), Err(DecodeError::UnknownType(0x10)));
}

#[test]
fn bad_length_version_and_fields_are_named() {
    let mut buf = [0u8; 512];
    let n = ClientMsg::from(new_order()).encode(1, &mut buf);
    // Length: refused from the first four bytes, before the body arrives.
    let mut b = buf;
    b[0] = 111;
    assert_eq!(
        frame_len(&b[..4], Direction::Inbound),
        Err(DecodeError::BadLength { msg_type: 0x10, len: 111, expected: 112 })
    );
    let mut b = buf;
    b[3] = 2;
    assert_eq!(frame_len(&b[..4], Direction::Inbound), Err(DecodeError::BadVersion(2)));
    // Side at offset 54 out of range.
    let mut b = buf;
    b[54] = 9;
    let e = decode_client(&b[..n]).unwrap_err();
    assert!(
        matches!(e, DecodeError::Field { msg_type: 0x10, field } if field.offset == 54),
        "{e:?}"
    );
    assert_eq!(e.logout(), (LogoutReason::FieldOutOfRange, 0x10 << 32 | 54));
    // Unknown flag bit at 57, non-zero pad at 58, reserved header bytes.
    for (at, v) in [(57, 0x80), (58, 1), (5, 1)] {
        let mut b = buf;
        b[at] = v;
        assert!(decode_client(&b[..n]).is_err(), "byte {at} = {v} must be refused");
    }
    // A client order id with a byte after its NUL terminator, or a control byte.
    let mut b = buf;
    b[16 + 10] = b'x';
    assert!(decode_client(&b[..n]).is_err());
    let mut b = buf;
    b[16] = 0x07;
    assert!(decode_client(&b[..n]).is_err());
}

/// Expected bytes, written at the documented offsets.
struct Golden(Vec<u8>);

impl Golden {
    fn header(len: usize, msg_type: u8, seq: u64) -> Golden {
        let mut g = Golden(vec![0; len]);
        g.u16(0, len as u16).u8(2, msg_type).u8(3, 1).u64(8, seq);
        g
    }
    fn u8(&mut self, at: usize, v: u8) -> &mut Self {
        self.0[at] = v;
        self
    }
    fn u16(&mut self, at: usize, v: u16) -> &mut Self {
        self.0[at..at + 2].copy_from_slice(&v.to_le_bytes());
        self
    }
    fn u32(&mut self, at: usize, v: u32) -> &mut Self {
        self.0[at..at + 4].copy_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, at: usize, v: u64) -> &mut Self {
        self.0[at..at + 8].copy_from_slice(&v.to_le_bytes());
        self
    }
    fn i64(&mut self, at: usize, v: i64) -> &mut Self {
        self.0[at..at + 8].copy_from_slice(&v.to_le_bytes());
        self
    }
    fn text(&mut self, at: usize, s: &str) -> &mut Self {
        self.0[at..at + s.len()].copy_from_slice(s.as_bytes());
        self
    }
    /// The 128-byte execution block at 16..144 of the sample `exec_fields!`.
    fn exec_block(&mut self, exec_type: u8) -> &mut Self {
        self.u64(16, 77)
            .text(24, "R-2")
            .text(56, "A-1")
            .u32(88, 2)
            .u8(92, 1)
            .u8(93, 2)
            .u8(94, exec_type)
            .u8(95, 3)
            .i64(96, 123_456)
            .i64(104, 10)
            .i64(112, 6)
            .i64(120, 4)
            .i64(128, 493_824)
            .u64(136, T.0)
    }
}

fn encoded_client(m: ClientMsg, seq: u64) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let n = m.encode(seq, &mut buf);
    buf[..n].to_vec()
}

fn encoded_server(m: ServerMsg, seq: u64) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let n = m.encode(seq, &mut buf);
    buf[..n].to_vec()
}

#[test]
fn golden_bytes_of_every_message() {
    let c = client_samples();
    let s = server_samples();
    let mut checked = std::collections::HashSet::new();
    let mut check = |t: MsgType, got: Vec<u8>, want: &Golden| {
        assert_eq!(got, want.0, "{} differs from its documented layout", t.name());
        checked.insert(t);
    };
    // Client → server.
    check(
        MsgType::Logon,
        encoded_client(c[0], 0),
        Golden::header(128, 0x01, 0)
            .text(16, "demo-bin")
            .text(48, "s3cret")
            .u32(112, 1500)
            .u64(120, 42),
    );
    check(MsgType::Heartbeat, encoded_client(c[1], 0), &Golden::header(16, 0x03, 0));
    check(MsgType::Logout, encoded_client(c[2], 0), Golden::header(32, 0x04, 0).u8(16, 1));
    check(
        MsgType::NewOrder,
        encoded_client(c[3], 9),
        Golden::header(112, 0x10, 9)
            .text(16, "A-1")
            .u32(48, 2)
            .u16(52, 1)
            .u8(54, 2)
            .u8(55, 2)
            .u8(56, 4)
            .u8(57, 1)
            .i64(64, 5_000_012)
            .i64(72, -3)
            .i64(80, 7)
            .i64(88, 25)
            .i64(96, 5)
            .u64(104, 99),
    );
    check(
        MsgType::CancelOrder,
        encoded_client(c[4], 10),
        Golden::header(80, 0x11, 10).text(16, "C-9").text(48, "A-1"),
    );
    check(
        MsgType::ReplaceOrder,
        encoded_client(c[5], 11),
        Golden::header(112, 0x12, 11)
            .text(16, "R-2")
            .text(48, "A-1")
            .i64(80, 4_999_000)
            .i64(96, 30),
    );
    check(
        MsgType::MassCancel,
        encoded_client(c[6], 12),
        Golden::header(56, 0x13, 12).text(16, "M-1").u8(48, 2).u32(52, 1),
    );
    check(
        MsgType::OrderListRequest,
        encoded_client(c[7], 0),
        Golden::header(24, 0x30, 0).u64(16, 5),
    );
    check(
        MsgType::PositionRequest,
        encoded_client(c[8], 0),
        Golden::header(24, 0x31, 0).u64(16, 6),
    );
    check(
        MsgType::Subscribe,
        encoded_client(c[9], 0),
        Golden::header(24, 0x40, 0).u32(16, 1).u16(20, 0).u8(22, 5),
    );
    // Server → client.
    check(
        MsgType::LogonAck,
        encoded_server(s[0], 0),
        Golden::header(64, 0x02, 0)
            .u32(16, 33)
            .u32(20, 0)
            .u32(24, 1000)
            .u32(28, 3)
            .u64(32, 12)
            .u64(40, 40)
            .u64(48, 38)
            .u64(56, T.0),
    );
    check(
        MsgType::Logout,
        encoded_server(s[2], 0),
        Golden::header(32, 0x04, 0).u8(16, 10).u64(24, 12),
    );
    check(
        MsgType::InstrumentInfo,
        encoded_server(s[3], 0),
        Golden::header(72, 0x05, 0)
            .u32(16, 2)
            .u16(20, 1)
            .u8(22, 3)
            .u8(23, 1)
            .text(24, "SOL-USD")
            .text(48, "USD")
            .i64(56, 1)
            .i64(64, 1),
    );
    check(MsgType::OrderAck, encoded_server(s[4], 3), Golden::header(144, 0x20, 3).exec_block(7));
    let mut g = Golden::header(168, 0x21, 4);
    g.exec_block(8).u64(16, 0).u8(95, 8);
    g.0[56..88].fill(0);
    g.u16(144, 202).i64(152, 1_500_000).i64(160, 1_000_000);
    check(MsgType::OrderReject, encoded_server(s[5], 4), &g);
    check(
        MsgType::Fill,
        encoded_server(s[6], 5),
        Golden::header(160, 0x22, 5).exec_block(7).i64(144, 123_450).i64(152, 1),
    );
    check(MsgType::CancelAck, encoded_server(s[7], 6), Golden::header(144, 0x23, 6).exec_block(7));
    check(MsgType::ReplaceAck, encoded_server(s[8], 7), Golden::header(144, 0x24, 7).exec_block(7));
    check(
        MsgType::UnsolicitedCancel,
        encoded_server(s[9], 8),
        Golden::header(176, 0x25, 8)
            .exec_block(7)
            .u8(144, 3)
            .u16(152, 216)
            .i64(160, 100)
            .i64(168, 101),
    );
    check(
        MsgType::CancelReject,
        encoded_server(s[10], 9),
        Golden::header(128, 0x26, 9)
            .u64(16, 77)
            .text(24, "C-9")
            .text(56, "A-1")
            .u8(88, 2)
            .u8(89, 2)
            .u16(96, 303)
            .u64(120, T.0),
    );
    check(
        MsgType::MassCancelAck,
        encoded_server(s[11], 10),
        Golden::header(88, 0x27, 10).text(16, "M-1").u32(48, 4).u64(80, T.0),
    );
    check(
        MsgType::OrderStatus,
        encoded_server(s[12], 0),
        Golden::header(152, 0x38, 0)
            .u64(16, 5)
            .u64(24, 77)
            .text(32, "R-2")
            .text(64, "A-1")
            .u32(96, 2)
            .u8(100, 1)
            .u8(101, 2)
            .u8(102, 7)
            .u8(103, 3)
            .i64(104, 123_456)
            .i64(112, 10)
            .i64(120, 6)
            .i64(128, 4)
            .i64(136, 493_824)
            .u64(144, T.0),
    );
    check(
        MsgType::PositionReport,
        encoded_server(s[13], 0),
        Golden::header(80, 0x39, 0)
            .u64(16, 6)
            .u32(24, 1)
            .i64(32, -3)
            .i64(40, 2)
            .i64(48, 5)
            .i64(56, 600_000)
            .i64(64, 1_500_500)
            .u64(72, 4),
    );
    check(
        MsgType::ListEnd,
        encoded_server(s[14], 0),
        Golden::header(32, 0x3a, 0).u64(16, 6).u8(24, 2).u32(28, 1),
    );
    check(
        MsgType::SubscribeAck,
        encoded_server(s[15], 1),
        Golden::header(24, 0x48, 1).u32(16, 1).u16(20, 1).u8(22, 5).u8(23, 1),
    );
    check(
        MsgType::TopOfBook,
        encoded_server(s[16], 2),
        Golden::header(80, 0x49, 2)
            .u32(16, 0)
            .u16(20, 1)
            .u8(22, 0)
            .u8(23, 2)
            .i64(24, 100)
            .i64(32, 3)
            .i64(40, 101)
            .i64(48, 2)
            .i64(56, 100)
            .i64(64, 1)
            .u64(72, T.0),
    );
    check(
        MsgType::Depth,
        encoded_server(s[17], 3),
        Golden::header(360, 0x4a, 3)
            .u32(16, 0)
            .u16(20, 1)
            .u8(22, 1)
            .u8(23, 2)
            .u8(24, 1)
            .u64(32, T.0)
            .i64(40, 100)
            .i64(48, 3)
            .i64(56, 99)
            .i64(64, 8)
            .i64(200, 101)
            .i64(208, 2),
    );
    for t in MsgType::ALL {
        assert!(checked.contains(t), "{} has no golden bytes", t.name());
    }
}

#[test]
fn the_documented_tables_equal_the_declared_layouts() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/binary-protocol.md"))
            .expect("docs/binary-protocol.md");
    for t in MsgType::ALL {
        let heading = format!("### {} (0x{:02x}, {} bytes", t.name(), *t as u8, t.frame_len());
        let start = doc.find(&heading).unwrap_or_else(|| panic!("no section starting {heading:?}"));
        let section = &doc[start..];
        let end = [section[4..].find("\n### "), section[4..].find("\n## ")]
            .into_iter()
            .flatten()
            .min()
            .map_or(section.len(), |e| e + 4);
        let section = &section[..end];
        for f in t.layout() {
            let row = format!("| {} | {} | `{}` |", f.offset, f.size, f.name);
            assert!(section.contains(&row), "{}: no row starting {row:?}", t.name());
        }
        let rows = section
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| offset") && !l.starts_with("|---"))
            .count();
        assert_eq!(
            rows,
            t.layout().len(),
            "{}: the table has other rows than the fields",
            t.name()
        );
    }
}

/// Decodes a byte stream as the server does: frame after frame until an error (the
/// session would close with its reason) or until more bytes are needed.
fn drive(bytes: &[u8]) -> Result<usize, DecodeError> {
    let mut at = 0;
    let mut frames = 0;
    loop {
        match frame_len(&bytes[at..], Direction::Inbound)? {
            None => return Ok(frames),
            Some(n) => {
                decode_client(&bytes[at..at + n])?;
                at += n;
                frames += 1;
                assert!(
                    frames <= bytes.len() / HEADER_LEN,
                    "each frame consumes at least a header"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = drive(&bytes);
    }

    #[test]
    fn mutated_valid_frames_decode_or_are_refused_with_a_reason(
        pick in 0usize..10,
        flips in proptest::collection::vec((0usize..128, any::<u8>()), 1..6),
        cut in 0usize..128,
    ) {
        let mut bytes = encoded_client(client_samples()[pick], 1);
        bytes.extend(encoded_client(client_samples()[(pick + 1) % 10], 2));
        for (at, v) in flips {
            let i = at % bytes.len();
            bytes[i] = v;
        }
        bytes.truncate(bytes.len() - cut.min(bytes.len()));
        match drive(&bytes) {
            Ok(_) => {}
            Err(e) => {
                let (reason, _) = e.logout();
                prop_assert!(matches!(
                    reason,
                    LogoutReason::UnknownType | LogoutReason::BadLength | LogoutReason::BadVersion | LogoutReason::FieldOutOfRange
                ));
            }
        }
    }
}

#[test]
fn enum_and_text_fields_reject_zero_and_garbage() {
    // A zeroed frame of any type with enum fields is refused: no enum has value 0.
    let mut buf = [0u8; 112];
    buf[0] = 112;
    buf[2] = 0x10;
    buf[3] = 1;
    assert!(decode_client(&buf).is_err(), "an all-zero NewOrder has no valid side or cl_ord_id");
    assert!(Text::<8>::new("toolongtext").is_none());
    assert!(Text::<8>::new("tab\tx").is_none());
    assert!(Secret::<4>::new(b"a\0b").is_none());
}
