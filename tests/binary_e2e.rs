//! `keel serve` end to end over the native binary protocol: the configured demo client
//! (`demo-bin`, password `demo`, cancel-on-disconnect) places, amends and cancels orders
//! against the simulated venue and gets the right acks and fills; a disconnect cancels
//! its working orders; a reconnect with a gap replays exactly the missed reports; and
//! the server sequence and the retained reports survive a restart of the server.

#[path = "serve_support.rs"]
mod support;

use keel_engine::schema::{ExecType, OrdStatus, OrderFlags};
use keel_engine::{ClOrdId, InstrumentId, OrdType, Price, Qty, Side, TimeInForce, VenueId};
use keel_gateways::binary::client::{BinaryClient, ClientConfig, NO_REPLAY, Received};
use keel_gateways::binary::msg::market_data::Subscribe;
use keel_gateways::binary::msg::orders::{CancelOrder, NewOrder, ReplaceOrder};
use keel_gateways::binary::{ClientMsg, ServerMsg, Stream};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(60);
/// SOL-USD: the default configuration runs no market maker on it, so a marketable order
/// meets the venue's synthetic flow, not the firm's own quotes (self-trade prevention).
const SOL: InstrumentId = InstrumentId(2);

/// The binary listener's address, from the `binary_listen=` field of the run's log.
fn binary_addr(root: &Path, run: &str) -> SocketAddr {
    let mut addr = None;
    wait_until("the binary listener", WAIT, || {
        let log = std::fs::read_to_string(root.join(format!("{run}.err"))).unwrap_or_default();
        addr = log.split("binary_listen=").nth(1).and_then(|rest| {
            rest.split_whitespace().next().and_then(|a| a.trim_matches('"').parse().ok())
        });
        addr.is_some()
    });
    addr.unwrap()
}

fn connect(addr: SocketAddr, last: u64) -> BinaryClient {
    let mut c = ClientConfig::new(addr, "demo-bin", "demo");
    c.last_server_seq = last;
    c.timeout = WAIT;
    BinaryClient::connect(&c).expect("demo-bin logs on")
}

fn cl(s: &str) -> ClOrdId {
    s.parse().unwrap()
}

fn limit(id: &str, side: Side, price: i64, qty: i64, tif: TimeInForce) -> ClientMsg {
    NewOrder {
        cl_ord_id: cl(id),
        instrument: SOL,
        venue: VenueId(1),
        side,
        ord_type: OrdType::Limit,
        tif,
        flags: OrderFlags::NONE,
        pad: Default::default(),
        price: Price(price),
        stop_price: Price(0),
        trail_ticks: 0,
        qty: Qty(qty),
        display_qty: Qty(0),
        expire_at: 0,
    }
    .into()
}

fn is_exec(m: &ServerMsg, id: &str, exec: ExecType) -> bool {
    m.order_state().is_some_and(|o| o.cl_ord_id == cl(id) && o.exec_type == exec)
}

/// Every report (server sequence) received, in order.
struct Seen(Vec<Received>);

impl Seen {
    fn wait(
        &mut self,
        c: &mut BinaryClient,
        what: &str,
        want: impl Fn(&ServerMsg) -> bool,
    ) -> Received {
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let m =
                c.recv(left).unwrap().unwrap_or_else(|| panic!("{what}: timed out after {got:#?}"));
            // Reports only: market data still in flight after `top` unsubscribed has
            // sequence numbers of its own stream.
            if m.msg.msg_type().stream() == Stream::Server {
                self.0.push(m);
            }
            if want(&m.msg) {
                return m;
            }
            got.push(m.msg);
        }
    }
}

/// Best bid and ask once the book has both.
fn top(c: &mut BinaryClient) -> (i64, i64) {
    c.send(
        Subscribe { instrument: SOL, venue: VenueId(0), depth: 1, pad: Default::default() }.into(),
    )
    .unwrap();
    let (m, _) = c
        .recv_until(
            WAIT,
            |m| matches!(m, ServerMsg::TopOfBook(t) if t.bid_qty.0 > 0 && t.ask_qty.0 > 0),
        )
        .unwrap();
    c.send(
        Subscribe { instrument: SOL, venue: VenueId(0), depth: 0, pad: Default::default() }.into(),
    )
    .unwrap();
    let ServerMsg::TopOfBook(t) = m.msg else { unreachable!() };
    (t.bid_px.0, t.ask_px.0)
}

#[test]
fn a_binary_client_trades_through_keel_serve_and_resumes_across_reconnects_and_restarts() {
    let root = tempfile::tempdir().unwrap();
    let cfg = write_config(root.path());
    let data = root.path().join("data");
    let mut child = spawn_serve(root.path(), &cfg, "first", &["--duration", "300"]);
    let addr = binary_addr(root.path(), "first");

    let mut c = connect(addr, 0);
    assert_eq!(c.logon_ack().session.0, 33);
    assert_eq!(c.instrument("SOL-USD").map(|i| i.instrument), Some(SOL));
    let mut seen = Seen(Vec::new());
    let (bid, ask) = top(&mut c);

    // Place a passive order, amend it, cancel it.
    c.send(limit("E1", Side::Buy, bid - 100, 2, TimeInForce::Gtc)).unwrap();
    seen.wait(&mut c, "E1 pending", |m| is_exec(m, "E1", ExecType::PendingNew));
    seen.wait(&mut c, "E1 new", |m| is_exec(m, "E1", ExecType::New));
    c.send(
        ReplaceOrder {
            cl_ord_id: cl("E1b"),
            orig_cl_ord_id: cl("E1"),
            price: Price(bid - 120),
            stop_price: Price(0),
            qty: Qty(4),
            display_qty: Qty(0),
        }
        .into(),
    )
    .unwrap();
    let r = seen.wait(&mut c, "E1 replaced", |m| is_exec(m, "E1b", ExecType::Replaced));
    assert!(
        matches!(r.msg, ServerMsg::ReplaceAck(a) if a.qty == Qty(4) && a.price == Price(bid - 120))
    );
    c.send(CancelOrder { cl_ord_id: cl("E1x"), orig_cl_ord_id: cl("E1b") }.into()).unwrap();
    seen.wait(&mut c, "E1 pending cancel", |m| is_exec(m, "E1x", ExecType::PendingCancel));
    let done = seen.wait(&mut c, "E1 cancelled", |m| {
        matches!(m, ServerMsg::CancelAck(a) if a.exec_type == ExecType::Canceled && a.ord_status == OrdStatus::Canceled)
    });
    assert!(matches!(done.msg, ServerMsg::CancelAck(a) if a.leaves_qty == Qty(0)));

    // A marketable IOC: a fill at or better than its limit.
    c.send(limit("E2", Side::Buy, ask + 50, 1, TimeInForce::Ioc)).unwrap();
    let f = seen.wait(
        &mut c,
        "E2 fill",
        |m| matches!(m, ServerMsg::Fill(f) if f.cl_ord_id == cl("E2")),
    );
    let ServerMsg::Fill(f) = f.msg else { unreachable!() };
    assert!(f.last_qty.0 >= 1 && f.last_px.0 <= ask + 50, "{f:?}");

    // A resting order, then vanish: cancel-on-disconnect cancels it.
    c.send(limit("E3", Side::Sell, ask + 150, 1, TimeInForce::Gtc)).unwrap();
    seen.wait(&mut c, "E3 new", |m| is_exec(m, "E3", ExecType::New));
    let last_before_drop = c.last_server_seq();
    assert_eq!(seen.0.last().unwrap().seq, last_before_drop);
    drop(c);

    // Reconnect three reports back: exactly those three are replayed first, equal to
    // what was received, then the cancel of E3 caused by the disconnect.
    let mut c = connect(addr, last_before_drop - 3);
    assert_eq!(c.logon_ack().replay_from, last_before_drop - 2);
    assert_eq!(c.logon_ack().next_client_seq, 6, "five order-entry messages so far");
    let mut replayed = Vec::new();
    for _ in 0..3 {
        replayed.push(c.recv(WAIT).unwrap().expect("a replayed report"));
    }
    // Reports only: market data has its own per-connection numbering.
    let market_data = |m: &ServerMsg| {
        matches!(m, ServerMsg::SubscribeAck(_) | ServerMsg::TopOfBook(_) | ServerMsg::Depth(_))
    };
    let earlier: Vec<_> = seen
        .0
        .iter()
        .filter(|r| r.seq > last_before_drop - 3 && !market_data(&r.msg))
        .map(|r| (r.seq, r.msg))
        .collect();
    let again: Vec<_> = replayed.iter().map(|r| (r.seq, r.msg)).collect();
    assert_eq!(again, earlier, "the replay equals the original reports");
    seen.wait(&mut c, "E3 cancelled on disconnect", |m| {
        matches!(m, ServerMsg::CancelAck(a) if a.cl_ord_id == cl("E3") && a.exec_type == ExecType::Canceled)
    });
    let last_before_restart = c.last_server_seq();
    c.logout().unwrap();

    // Restart the server on the same journal.
    let status = interrupt_and_wait(&mut child);
    assert!(status.success(), "first run: {status}");
    let mut child = spawn_serve(root.path(), &cfg, "second", &["--duration", "300"]);
    let addr = binary_addr(root.path(), "second");
    let mut c = connect(addr, last_before_restart - 2);
    assert_eq!(
        c.logon_ack().last_server_seq,
        last_before_restart,
        "the server sequence survives the restart"
    );
    let mut replayed = Vec::new();
    for _ in 0..2 {
        replayed.push(c.recv(WAIT).unwrap().expect("a replayed report"));
    }
    let replayed: Vec<_> = replayed.iter().map(|r| (r.seq, r.msg)).collect();
    let earlier: Vec<_> =
        seen.0.iter().filter(|r| r.seq > last_before_restart - 2).map(|r| (r.seq, r.msg)).collect();
    assert_eq!(replayed, earlier, "retained reports survive the restart, byte for byte");
    // Still trading after the restart, numbered on from there.
    c.send(limit("E4", Side::Buy, bid - 200, 1, TimeInForce::Gtc)).unwrap();
    let m = seen.wait(&mut c, "E4 pending", |m| is_exec(m, "E4", ExecType::PendingNew));
    assert_eq!(m.seq, last_before_restart + 1);
    c.logout().unwrap();
    let no_replay = connect(addr, NO_REPLAY);
    assert_eq!(no_replay.logon_ack().replay_from, no_replay.logon_ack().last_server_seq + 1);
    drop(no_replay);

    let status = interrupt_and_wait(&mut child);
    assert!(status.success(), "second run: {status}");
    assert!(contiguous_from_one(&journal_seqs(&data)));
}

/// Runs `keel client --addr A args...`; returns (success, stdout + stderr).
fn keel_client(addr: SocketAddr, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(KEEL)
        .arg("client")
        .arg("--addr")
        .arg(addr.to_string())
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn keel_client_places_lists_and_watches_for_a_person() {
    let root = tempfile::tempdir().unwrap();
    let cfg = write_config(root.path());
    let mut child = spawn_serve(root.path(), &cfg, "client", &["--duration", "300"]);
    let addr = binary_addr(root.path(), "client");

    let (ok, out) =
        keel_client(addr, &["top", "--instrument", "SOL-USD", "--depth", "2", "--count", "2"]);
    assert!(ok && out.contains("(snapshot)") && out.contains("level 2"), "{out}");
    // A marketable IOC buy (decimal price and quantity): traded out, then the position.
    let (ok, out) = keel_client(
        addr,
        &["place", "--instrument", "SOL-USD", "--side", "buy", "--qty", "0.5", "--type", "market"],
    );
    assert!(ok && out.contains("pending_new") && out.contains("fill"), "{out}");
    let (ok, out) = keel_client(addr, &["positions"]);
    assert!(ok && out.contains("SOL-USD") && out.contains("0.5"), "{out}");
    // Off the tick grid: refused before anything is sent, naming the increment.
    let (ok, out) = keel_client(
        addr,
        &["place", "--instrument", "SOL-USD", "--side", "buy", "--qty", "1", "--price", "1.0005"],
    );
    assert!(!ok && out.contains("price increment 0.001"), "{out}");
    // One session for several commands: place, list, amend, cancel.
    let script = "place --instrument SOL-USD --side buy --qty 1 --price 100 --id s1\norders\n\
                  amend --orig s1 --price 99.5 --id s2\ncancel --orig s2\norders\nquit\n";
    let mut shell = std::process::Command::new(KEEL)
        .args(["client", "--addr", &addr.to_string(), "shell"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    shell.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = shell.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("1 working") && text.contains("replaced") && text.contains("0 working"),
        "{text}"
    );
    assert!(text.contains("99.500"), "{text}");
    // Wrong password: a clear error and a failure status.
    let (ok, out) = keel_client(addr, &["--user", "demo-bin", "--password", "nope", "orders"]);
    assert!(!ok && out.contains("BadCredentials"), "{out}");

    let status = interrupt_and_wait(&mut child);
    assert!(status.success());
}
