//! Scripted FIX session scenarios, in the spirit of the FIX session-level test cases.
//!
//! Each test drives a [`Session`] with bytes written by a scripted counterparty and with
//! virtual time (no sockets, no sleeps), and checks what Keel writes back.

#[path = "support/fix_script.rs"]
mod script;

use keel_gateways::fix::session::{EndReason, Received, Role, SessionState};
use keel_gateways::fix::store::{JournalStore, MessageStore, StoreConfig};
use script::*;

#[test]
fn valid_logon_is_answered_with_the_heartbeat_interval() {
    let mut h = Harness::acceptor();
    assert_eq!(h.feed(&h.peer.logon(1, 30)), [Received::LogonRequest]);
    assert_eq!(h.session.state(), SessionState::LogonPending);
    h.session.accept_logon(h.now).unwrap();
    let out = h.sent();
    assert_eq!(out.len(), 1);
    let a = &out[0];
    assert_eq!(a.msg_type(), "A");
    assert_eq!(a.get(34), Some("1"));
    assert_eq!(a.get(49), Some("KEEL"));
    assert_eq!(a.get(56), Some("CLIENT"));
    assert_eq!(a.get(108), Some("30"));
    assert_eq!(a.get(98), Some("0"));
    assert_eq!(h.session.state(), SessionState::Active);
    assert_eq!(h.session.store().next_target_seq(), 2);
    assert_eq!(h.session.store().next_sender_seq(), 2);
}

#[test]
fn bad_password_is_refused_with_a_logout_and_no_inbound_number_is_used() {
    let mut h = Harness::acceptor();
    assert_eq!(h.feed(&h.peer.logon(1, 30)), [Received::LogonRequest]);
    // The owner checked the credentials and refuses.
    let reason = h.session.refuse_logon(h.now, "bad credentials");
    assert_eq!(reason, EndReason::LogonRefused("bad credentials".into()));
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].msg_type(), "5");
    assert_eq!(out[0].get(58), Some("bad credentials"));
    assert_eq!(h.session.state(), SessionState::Disconnected);
    assert_eq!(h.session.store().next_target_seq(), 1, "the refused Logon is not counted");
}

#[test]
fn logon_with_a_heartbeat_outside_the_bounds_or_encryption_is_refused() {
    for (logon, why) in [
        (Peer::client().logon(1, 0), "HeartBtInt 0"),
        (Peer::client().logon(1, 100_000), "HeartBtInt 100000"),
        (Peer::client().msg("A", 1, &[(98, "1"), (108, "30")]), "EncryptMethod"),
        (Peer::client().msg("A", 1, &[(108, "30")]), "Required tag missing (tag 98)"),
    ] {
        let mut h = Harness::acceptor();
        match h.feed(&logon).as_slice() {
            [Received::Disconnect(EndReason::LogonRefused(text))] => {
                assert!(text.contains(why), "{text} lacks {why}")
            }
            other => panic!("{why}: {other:?}"),
        }
        let out = h.sent();
        assert_eq!(out[0].msg_type(), "5");
        assert!(out[0].get(58).unwrap().contains(why));
    }
}

#[test]
fn first_message_not_a_logon_disconnects_without_an_answer() {
    let mut h = Harness::acceptor();
    let r = h.feed(&h.peer.msg("D", 1, &[(11, "A1")]));
    assert_eq!(r, [Received::Disconnect(EndReason::FirstMessageNotLogon("D".into()))]);
    assert!(h.sent().is_empty());
    assert_eq!(h.session.store().next_target_seq(), 1);
}

#[test]
fn sequence_too_high_sends_a_resend_request_and_the_resend_is_processed() {
    let mut h = Harness::logged_on();
    // Expected 2; 5 arrives.
    assert_eq!(h.feed(&h.peer.msg("D", 5, &[(11, "X5")])), [Received::Handled]);
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].msg_type(), "2");
    assert_eq!((out[0].get(7), out[0].get(16)), (Some("2"), Some("0")));
    assert_eq!(h.session.store().next_target_seq(), 2, "the too-high message is not taken");
    // Another too-high message while the request is outstanding: no second request.
    assert_eq!(h.feed(&h.peer.msg("D", 6, &[(11, "X6")])), [Received::Handled]);
    assert!(h.sent().is_empty());
    // The counterparty resends 2..=6: an admin gap 2..3 filled, then 4, 5, 6.
    let fill = h.peer.resend_of("4", 2, &[(123, "Y"), (36, "4")]);
    assert_eq!(h.feed(&fill), [Received::Handled]);
    assert_eq!(h.session.store().next_target_seq(), 4);
    for seq in 4..=6 {
        let m = h.peer.resend_of("D", seq, &[(11, &format!("X{seq}"))]);
        assert_eq!(h.feed(&m), [Received::App], "seq {seq}");
    }
    assert_eq!(h.session.store().next_target_seq(), 7);
    // The gap is closed: a new gap asks again.
    assert_eq!(h.feed(&h.peer.msg("0", 9, &[])), [Received::Handled]);
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].msg_type(), out[0].get(7)), ("2", Some("7")));
}

#[test]
fn logon_numbered_too_high_is_accepted_then_followed_by_a_resend_request() {
    let mut h = Harness::acceptor();
    assert_eq!(h.feed(&h.peer.logon(4, 30)), [Received::LogonRequest]);
    h.session.accept_logon(h.now).unwrap();
    let out = h.sent();
    let types: Vec<&str> = out.iter().map(|m| m.msg_type()).collect();
    assert_eq!(types, ["A", "2"]);
    assert_eq!((out[1].get(7), out[1].get(16)), (Some("1"), Some("0")));
    assert_eq!(h.session.state(), SessionState::Active);
}

#[test]
fn sequence_too_low_without_possdup_logs_out() {
    let mut h = Harness::logged_on();
    for seq in 2..=4 {
        assert_eq!(h.feed(&h.peer.msg("0", seq, &[])), [Received::Handled]);
    }
    let r = h.feed(&h.peer.msg("0", 3, &[]));
    let want = "MsgSeqNum too low, expecting 5 but received 3";
    assert_eq!(r, [Received::Disconnect(EndReason::Protocol(want.into()))]);
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].msg_type(), out[0].get(58)), ("5", Some(want)));
}

#[test]
fn possdup_duplicates_are_ignored_and_bad_orig_sending_times_rejected() {
    let mut h = Harness::logged_on();
    assert_eq!(h.feed(&h.peer.msg("D", 2, &[(11, "A")])), [Received::App]);
    // Already processed: a PossDup copy is ignored.
    assert_eq!(h.feed(&h.peer.resend_of("D", 2, &[(11, "A")])), [Received::Handled]);
    assert!(h.sent().is_empty());
    assert_eq!(h.session.stats().duplicates_ignored, 1);
    // In sequence, PossDup without OrigSendingTime: Reject reason 1, and the number moves.
    let no_orig = h.peer.with_header(&[(43, "Y")]).msg("D", 3, &[(11, "B")]);
    assert_eq!(h.feed(&no_orig), [Received::Handled]);
    let out = h.sent();
    assert_eq!(out[0].msg_type(), "3");
    assert_eq!(
        (out[0].get(45), out[0].get(371), out[0].get(373)),
        (Some("3"), Some("122"), Some("1"))
    );
    assert_eq!(h.session.store().next_target_seq(), 4);
    // OrigSendingTime after SendingTime: Reject reason 10.
    let later = h.peer.ts(h.now + 1_000_000_000);
    let bad = h.peer.with_header(&[(43, "Y"), (122, &later)]).msg("D", 4, &[(11, "C")]);
    assert_eq!(h.feed(&bad), [Received::Handled]);
    let out = h.sent();
    assert_eq!((out[0].msg_type(), out[0].get(373)), ("3", Some("10")));
    assert_eq!(h.session.store().next_target_seq(), 5);
}

#[test]
fn resend_request_resends_application_messages_and_gap_fills_admin_ones() {
    let mut h = Harness::logged_on(); // Keel sent its Logon as 1
    let s1 = h.session.send_app(h.now, b"8", b"11=A\x01").unwrap(); // 2
    h.tick(31); // a Heartbeat: 3
    let s2 = h.session.send_app(h.now, b"8", b"11=B\x01").unwrap(); // 4
    h.session.send_app(h.now, b"8", b"11=C\x01").unwrap(); // 5
    assert_eq!((s1, s2), (2, 4));
    let first_sent = h.sent();
    assert_eq!(first_sent.len(), 4);
    let orig_time_of_2 = first_sent[0].get(52).unwrap().to_string();
    h.now += 1_000_000_000;
    assert_eq!(h.feed(&h.peer.msg("2", 2, &[(7, "1"), (16, "0")])), [Received::Handled]);
    let out = h.sent();
    let got: Vec<(String, String, Option<String>)> = out
        .iter()
        .map(|m| {
            (
                m.msg_type().to_string(),
                m.get(34).unwrap().to_string(),
                m.get(36).map(str::to_string),
            )
        })
        .collect();
    let want = [
        ("4", "1", Some("2")), // Logon -> gap fill to 2
        ("8", "2", None),
        ("4", "3", Some("4")), // Heartbeat -> gap fill to 4
        ("8", "4", None),
        ("8", "5", None),
    ];
    let want: Vec<(String, String, Option<String>)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.map(str::to_string)))
        .collect();
    assert_eq!(got, want);
    for m in &out {
        assert_eq!(m.get(43), Some("Y"), "every resent message is a possible duplicate");
        assert!(m.get(122).is_some());
    }
    assert_eq!(out[0].get(123), Some("Y"));
    assert_eq!(out[1].get(122), Some(orig_time_of_2.as_str()));
    assert_eq!(out[1].get(11), Some("A"));
    // Resends do not consume new numbers.
    assert_eq!(h.session.store().next_sender_seq(), 6);
    // A bounded range.
    assert_eq!(h.feed(&h.peer.msg("2", 3, &[(7, "4"), (16, "4")])), [Received::Handled]);
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].msg_type(), out[0].get(34), out[0].get(11)), ("8", Some("4"), Some("B")));
}

#[test]
fn sequence_reset_gap_fill_and_reset_move_the_expected_number_never_back() {
    let mut h = Harness::logged_on();
    assert_eq!(h.feed(&h.peer.msg("4", 2, &[(123, "Y"), (36, "10")])), [Received::Handled]);
    assert_eq!(h.session.store().next_target_seq(), 10);
    // Reset mode ignores its own number.
    assert_eq!(h.feed(&h.peer.msg("4", 3, &[(36, "20")])), [Received::Handled]);
    assert_eq!(h.session.store().next_target_seq(), 20);
    assert!(h.sent().is_empty());
    // Backwards: Reject reason 5, the number stays.
    assert_eq!(h.feed(&h.peer.msg("4", 99, &[(36, "5")])), [Received::Handled]);
    let out = h.sent();
    assert_eq!((out[0].msg_type(), out[0].get(373), out[0].get(371)), ("3", Some("5"), Some("36")));
    assert_eq!(h.session.store().next_target_seq(), 20);
    // A gap fill that does not move forward is rejected but its own number is taken.
    assert_eq!(h.feed(&h.peer.msg("4", 20, &[(123, "Y"), (36, "20")])), [Received::Handled]);
    assert_eq!(h.sent()[0].get(373), Some("5"));
    assert_eq!(h.session.store().next_target_seq(), 21);
}

#[test]
fn garbled_messages_are_ignored_without_advancing_the_sequence() {
    let mut h = Harness::logged_on();
    let good = h.peer.msg("D", 2, &[(11, "OK")]);
    // Bad checksum.
    let mut bad_sum = good.clone();
    let n = bad_sum.len();
    bad_sum[n - 2] = if bad_sum[n - 2] == b'0' { b'1' } else { b'0' };
    // Bad body length (one byte short): the trailer is not where it says.
    let text = String::from_utf8(good.clone()).unwrap();
    let len: usize = text.split('\x01').nth(1).unwrap()[2..].parse().unwrap();
    let bad_len = text.replacen(&format!("\x019={len}\x01"), &format!("\x019={}\x01", len - 1), 1);
    for garbage in [bad_sum, bad_len.into_bytes(), b"random noise\x01".to_vec()] {
        assert_eq!(h.feed(&garbage), [], "garbled input is ignored");
        assert_eq!(h.session.store().next_target_seq(), 2);
        assert!(h.sent().is_empty(), "no answer to garbled input");
    }
    assert!(h.garbled >= 3);
    // The same number, intact, is accepted.
    assert_eq!(h.feed(&good), [Received::App]);
    assert_eq!(h.session.store().next_target_seq(), 3);
}

#[test]
fn silence_brings_a_heartbeat_then_a_test_request_then_a_disconnect() {
    let mut h = Harness::logged_on(); // HeartBtInt 30
    assert_eq!(h.tick(29), None);
    assert!(h.sent().is_empty());
    assert_eq!(h.tick(1), None); // 30 s of outbound silence: Heartbeat
    let out = h.sent();
    assert_eq!((out.len(), out[0].msg_type()), (1, "0"));
    assert_eq!(h.tick(5), None); // 35 s of inbound silence: 1.2 x 30 = 36 not reached
    assert!(h.sent().is_empty());
    assert_eq!(h.tick(1), None); // 36 s: TestRequest
    let out = h.sent();
    assert_eq!(out[0].msg_type(), "1");
    let id = out[0].get(112).unwrap().to_string();
    assert!(id.starts_with("TEST"));
    // Answering the TestRequest resets the clock.
    assert_eq!(h.feed(&h.peer.msg("0", 2, &[(112, &id)])), [Received::Handled]);
    assert_eq!(h.tick(36), None);
    assert_eq!(h.sent().iter().filter(|m| m.msg_type() == "1").count(), 1);
    // No answer this time: at 2.4 x 30 = 72 s of silence, disconnect.
    assert_eq!(h.tick(35), None);
    match h.tick(1) {
        Some(EndReason::HeartbeatTimeout { silence_ms }) => assert_eq!(silence_ms, 72_000),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.session.state(), SessionState::Disconnected);
}

#[test]
fn test_request_is_answered_with_its_id() {
    let mut h = Harness::logged_on();
    assert_eq!(h.feed(&h.peer.msg("1", 2, &[(112, "ping-7")])), [Received::Handled]);
    let out = h.sent();
    assert_eq!((out[0].msg_type(), out[0].get(112)), ("0", Some("ping-7")));
}

#[test]
fn logout_handshake_both_ways() {
    // Keel initiates; the answer ends the session gracefully.
    let mut h = Harness::logged_on();
    h.session.logout(h.now, Some("end of day")).unwrap();
    assert_eq!(h.session.state(), SessionState::LogoutSent);
    let out = h.sent();
    assert_eq!((out[0].msg_type(), out[0].get(58)), ("5", Some("end of day")));
    let r = h.feed(&h.peer.msg("5", 2, &[]));
    assert_eq!(r, [Received::Disconnect(EndReason::LoggedOut)]);
    assert!(h.sent().is_empty(), "no answer to the answer");
    assert_eq!(h.session.store().next_target_seq(), 3);

    // Keel initiates; no answer within the timeout.
    let mut h = Harness::logged_on();
    h.session.logout(h.now, None).unwrap();
    assert_eq!(h.tick(4), None);
    assert_eq!(h.tick(1), Some(EndReason::LogoutTimeout));

    // The counterparty initiates; Keel answers and closes.
    let mut h = Harness::logged_on();
    let r = h.feed(&h.peer.msg("5", 2, &[(58, "bye")]));
    assert_eq!(r, [Received::Disconnect(EndReason::LogoutReceived("bye".into()))]);
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].msg_type(), "5");
    assert!(EndReason::LogoutReceived(String::new()).is_graceful());
}

#[test]
fn reset_seq_num_flag_restarts_both_numbers() {
    let mut h = Harness::logged_on();
    for seq in 2..=5 {
        h.feed(&h.peer.msg("0", seq, &[]));
    }
    h.session.send_app(h.now, b"8", b"11=A\x01").unwrap();
    h.session.on_disconnect();
    h.sent();
    h.session.on_connect(h.now).unwrap();
    let logon = h.peer.msg("A", 1, &[(98, "0"), (108, "30"), (141, "Y")]);
    assert_eq!(h.feed(&logon), [Received::LogonRequest]);
    h.session.accept_logon(h.now).unwrap();
    let out = h.sent();
    assert_eq!(out.len(), 1, "no resend request: the numbers restarted");
    assert_eq!((out[0].get(34), out[0].get(141)), (Some("1"), Some("Y")));
    assert_eq!(h.session.store().next_target_seq(), 2);
    assert_eq!(h.session.store().next_sender_seq(), 2);
    // ResetSeqNumFlag with a number other than 1 is refused.
    let mut h = Harness::acceptor();
    let logon = h.peer.msg("A", 3, &[(98, "0"), (108, "30"), (141, "Y")]);
    assert!(matches!(
        h.feed(&logon).as_slice(),
        [Received::Disconnect(EndReason::LogonRefused(_))]
    ));
}

#[test]
fn header_problems_end_or_reject_as_the_standard_says() {
    // SendingTime outside the tolerance: Reject 10, then Logout.
    let mut h = Harness::logged_on();
    let stale = h.peer.ts(h.now - 600 * 1_000_000_000);
    let m = h.peer.with_sending_time(&stale).msg("D", 2, &[(11, "A")]);
    assert!(matches!(h.feed(&m).as_slice(), [Received::Disconnect(EndReason::Protocol(_))]));
    let out = h.sent();
    let types: Vec<&str> = out.iter().map(|m| m.msg_type()).collect();
    assert_eq!(types, ["3", "5"]);
    assert_eq!(out[0].get(373), Some("10"));
    assert_eq!(h.session.store().next_target_seq(), 3, "the rejected message is counted");

    // Wrong TargetCompID: Reject 9, then Logout.
    let mut h = Harness::logged_on();
    let m = Peer { target: "OTHER".into(), ..Peer::client() }.msg("D", 2, &[(11, "A")]);
    assert!(matches!(h.feed(&m).as_slice(), [Received::Disconnect(_)]));
    let out = h.sent();
    assert_eq!((out[0].msg_type(), out[0].get(373), out[0].get(371)), ("3", Some("9"), Some("56")));
    assert_eq!(out[1].msg_type(), "5");

    // Wrong BeginString: Logout.
    let mut h = Harness::logged_on();
    let m = h.peer.msg("D", 2, &[(11, "A")]);
    let m = String::from_utf8(m).unwrap().replacen("FIX.4.4", "FIX.4.2", 1);
    let m = script::refresh_checksum(m.into_bytes());
    assert!(matches!(h.feed(&m).as_slice(), [Received::Disconnect(_)]));
    assert!(h.sent()[0].get(58).unwrap().contains("BeginString"));

    // A MsgType FIX 4.4 does not define: Reject 11, the session goes on.
    let mut h = Harness::logged_on();
    assert_eq!(h.feed(&h.peer.msg("ZZ", 2, &[])), [Received::Handled]);
    let out = h.sent();
    assert_eq!(
        (out[0].msg_type(), out[0].get(373), out[0].get(372)),
        ("3", Some("11"), Some("ZZ"))
    );
    assert_eq!(h.session.store().next_target_seq(), 3);

    // A structural problem (tag without a value): Reject 4 naming the tag.
    assert_eq!(h.feed(&h.peer.msg("D", 3, &[(11, "")])), [Received::Handled]);
    let out = h.sent();
    assert_eq!(
        (out[0].get(373), out[0].get(371), out[0].get(45)),
        (Some("4"), Some("11"), Some("3"))
    );
    assert_eq!(h.session.store().next_target_seq(), 4);
    // Missing MsgSeqNum: Logout and disconnect.
    let no_seq = script::frame_of("35=0\x0149=CLIENT\x0156=KEEL\x0152=20240101-00:00:00.000\x01");
    assert!(matches!(h.feed(&no_seq).as_slice(), [Received::Disconnect(_)]));
}

#[test]
fn application_messages_sent_while_disconnected_are_stored_and_resent_on_request() {
    let mut h = Harness::logged_on();
    h.session.on_disconnect();
    h.session.send_app(h.now, b"8", b"11=LATE\x01").unwrap(); // 2, stored only
    assert!(h.sent().is_empty());
    h.session.on_connect(h.now).unwrap();
    // The client expects 2 from us; our Logon answer will be 3.
    assert_eq!(h.feed(&h.peer.logon(2, 30)), [Received::LogonRequest]);
    h.session.accept_logon(h.now).unwrap();
    let out = h.sent();
    assert_eq!((out[0].msg_type(), out[0].get(34)), ("A", Some("3")));
    assert_eq!(h.feed(&h.peer.msg("2", 3, &[(7, "2"), (16, "0")])), [Received::Handled]);
    let out = h.sent();
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].msg_type(), out[0].get(11), out[0].get(43)), ("8", Some("LATE"), Some("Y")));
    assert_eq!((out[1].msg_type(), out[1].get(34), out[1].get(36)), ("4", Some("3"), Some("4")));
}

#[test]
fn numbers_and_resends_survive_a_restart_with_the_journal_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig { segment_size: 1 << 16, ..StoreConfig::default() };
    let now;
    {
        let store = JournalStore::open(dir.path(), &config).unwrap();
        let mut h = Harness::with_store(Role::Acceptor, store);
        h.logon();
        h.feed(&h.peer.msg("D", 2, &[(11, "A")]));
        h.session.send_app(h.now, b"8", b"11=A\x0139=0\x01").unwrap();
        now = h.now;
    }
    // A new process: the same directory.
    let store = JournalStore::open(dir.path(), &config).unwrap();
    assert_eq!((store.next_sender_seq(), store.next_target_seq()), (3, 3));
    let mut h = Harness::with_store(Role::Acceptor, store);
    h.now = now + 1_000_000_000;
    h.peer.next = 3;
    assert_eq!(h.feed(&h.peer.logon(3, 30)), [Received::LogonRequest]);
    h.session.accept_logon(h.now).unwrap();
    assert_eq!(h.sent()[0].get(34), Some("3"));
    assert_eq!(h.feed(&h.peer.msg("2", 4, &[(7, "1"), (16, "0")])), [Received::Handled]);
    let out = h.sent();
    let got: Vec<(&str, Option<&str>)> = out.iter().map(|m| (m.msg_type(), m.get(34))).collect();
    assert_eq!(got, [("4", Some("1")), ("8", Some("2")), ("4", Some("3"))]);
    assert_eq!(out[1].get(11), Some("A"));
}

#[test]
fn initiator_logs_on_with_credentials_and_handles_the_answer() {
    let mut h = Harness::initiator();
    let out = h.sent();
    assert_eq!(out.len(), 1);
    let logon = &out[0];
    assert_eq!(logon.msg_type(), "A");
    assert_eq!((logon.get(49), logon.get(56)), (Some("KEEL"), Some("VENUE")));
    assert_eq!(
        (logon.get(553), logon.get(554), logon.get(141)),
        (Some("keel"), Some("pw"), Some("Y"))
    );
    assert_eq!(h.session.state(), SessionState::LogonSent);
    // Anything but the Logon answer is a protocol error; the answer logs on.
    let answer = h.peer.msg("A", 1, &[(98, "0"), (108, "30"), (141, "Y")]);
    assert_eq!(h.feed(&answer), [Received::LoggedOn]);
    assert_eq!(h.session.state(), SessionState::Active);
    assert_eq!(h.session.store().next_target_seq(), 2);
    // A refused logon: the venue answers with a Logout.
    let mut h = Harness::initiator();
    h.sent();
    let r = h.feed(&h.peer.msg("5", 1, &[(58, "unknown user")]));
    assert_eq!(r, [Received::Disconnect(EndReason::LogonRefused("unknown user".into()))]);
    // No answer at all.
    let mut h = Harness::initiator();
    h.sent();
    assert_eq!(h.tick(10), Some(EndReason::LogonTimeout));
}
