//! End to end over two real sockets and three processes: `keel venue` (the simulated
//! venue behind its FIX acceptor), `keel serve` configured with `[venue] transport =
//! "fix"` (its FIX initiator logs on to the venue, subscribes to market data, reconciles,
//! then trades), and a FIX client logged on to `keel serve`. The client places, amends
//! and cancels an order and takes liquidity; the venue acks and fills over FIX; the
//! client gets the right ExecutionReports; `keel audit orders` on the journal tells the
//! same story, report for report; the journal shows the venue's side (acks, fills,
//! replace and cancel answers, L2 market data) arriving as commands.

#[path = "fix_support.rs"]
mod support;

use keel_engine::schema::{CommandBody, MarketStatus, SCHEMA_HASH};
use keel_gateways::fix::client::{ClientConfig, FixClient, NewOrder, OwnedMessage};
use keel_replay::log::{Entry, decode};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::*;

/// `keel venue --config cfg --listen 127.0.0.1:0`, output under `root`; returns the child
/// and the address it printed.
fn spawn_venue(root: &Path, cfg: &Path) -> (Child, SocketAddr) {
    let out_path = root.join("venue.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let err = std::fs::File::create(root.join("venue.err")).unwrap();
    let child = Command::new(KEEL)
        .args(["venue", "--config"])
        .arg(cfg)
        .args(["--listen", "127.0.0.1:0", "--duration", "240"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("keel venue starts");
    let mut addr = None;
    wait_until("keel venue to print its address", Duration::from_secs(60), || {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        addr = text
            .lines()
            .find_map(|l| l.strip_prefix("keel venue: listening on "))
            .and_then(|a| a.trim().parse().ok());
        addr.is_some()
    });
    (child, addr.unwrap())
}

/// The serve tests' configuration with the venue over FIX at `venue` (a slower flow: the
/// FIX feed is one message per matching-engine event).
fn venue_fix_config(root: &Path) -> PathBuf {
    let cfg = fix_config(root);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text
        .replace("[venue]\n", "[venue]\ntransport = \"fix\"\n")
        .replace("events_per_sec = 5000", "events_per_sec = 500");
    std::fs::write(&cfg, text).unwrap();
    cfg
}

fn point_at(cfg: &Path, venue: SocketAddr) {
    let text = std::fs::read_to_string(cfg).unwrap();
    std::fs::write(cfg, format!("{text}\n[venue.fix]\nconnect = \"{venue}\"\n")).unwrap();
}

#[test]
fn a_client_trades_through_keel_serve_with_keel_venue_over_fix_and_the_audit_agrees() {
    let root = tempfile::tempdir().unwrap();
    let cfg = venue_fix_config(root.path());
    let data = root.path().join("data");
    let (mut venue, venue_addr) = spawn_venue(root.path(), &cfg);
    point_at(&cfg, venue_addr);
    let mut serve = spawn_serve(root.path(), &cfg, "serve", &["--duration", "180"]);
    let addr = fix_addr(root.path(), "serve");
    let serve_log = root.path().join("serve.err");
    wait_until("keel serve's venue link to trade", Duration::from_secs(60), || {
        std::fs::read_to_string(&serve_log).unwrap_or_default().contains("venue link trading")
    });

    let mut c =
        FixClient::connect(addr, ClientConfig::new("demo-fix", "KEEL", "demo")).expect("logon");
    let mut seen = Vec::new();
    // Rest far below the market (BTC-USD mid 50000), amend, cancel.
    c.send_new_order(&NewOrder::limit("V1", "BTC-USD", b'1', "0.002", "45000.00")).unwrap();
    let ack = wait_exec(&mut c, "V1", "0", &mut seen, &data);
    assert_eq!((ack.get(39), ack.get(151)), (Some("0"), Some("0.002")));
    c.send_replace("V2", "V1", "BTC-USD", b'1', "0.004", "45100.50").unwrap();
    let replaced = wait_exec(&mut c, "V2", "5", &mut seen, &data);
    assert_eq!(
        (replaced.get(41), replaced.get(38), replaced.get(44)),
        (Some("V1"), Some("0.004"), Some("45100.50"))
    );
    c.send_cancel("V3", "V2", "BTC-USD", b'1').unwrap();
    let canceled = wait_exec(&mut c, "V3", "4", &mut seen, &data);
    assert_eq!(
        (canceled.get(39), canceled.get(41), canceled.get(151)),
        (Some("4"), Some("V2"), Some("0.000"))
    );
    // Take liquidity: an IOC buy through the offer fills at the venue.
    c.send_new_order(&NewOrder {
        tif: Some(b'3'),
        ..NewOrder::limit("V4", "BTC-USD", b'1', "0.003", "55000.00")
    })
    .unwrap();
    let mut filled_lots = 0.0;
    loop {
        let r = next_report(&mut c, "V4", &mut seen, &data);
        match r.get(150).unwrap() {
            "F" => {
                let px: f64 = r.get(31).unwrap().parse().unwrap();
                assert!((49_000.0..=55_000.0).contains(&px), "filled near the mid: {px}");
                filled_lots += r.get(32).unwrap().parse::<f64>().unwrap();
                if r.get(39) == Some("2") {
                    break;
                }
            }
            "4" => break,
            _ => {}
        }
    }
    assert!(filled_lots > 0.0, "the venue filled the marketable order over FIX");
    c.logout(REPORT_WAIT).expect("logout");
    assert!(interrupt_and_wait(&mut serve).success());
    assert!(interrupt_and_wait(&mut venue).success());
    let venue_out = std::fs::read_to_string(root.path().join("venue.out")).unwrap();
    assert!(venue_out.contains("keel venue: stopped"), "{venue_out}");
    let serve_log = std::fs::read_to_string(&serve_log).unwrap();
    assert!(serve_log.contains("logged on to the venue"), "{serve_log}");

    // The journal: the venue's answers and market data came in as commands.
    let mut reader = keel_journal::Reader::open_with_schema(&data, SCHEMA_HASH).unwrap();
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    while let Some(rec) = reader.next().unwrap() {
        if let Entry::Input { cmd, .. } = decode(&rec).unwrap() {
            let k = match cmd.body {
                CommandBody::VenueAck(_) => "ack",
                CommandBody::VenueFill(_) => "fill",
                CommandBody::VenueReplaceAck(_) => "replace_ack",
                CommandBody::VenueCancelAck(_) => "cancel_ack",
                CommandBody::L2Update(_) => "l2",
                CommandBody::Snapshot(_) => "snapshot",
                CommandBody::VenueStatus(s) if s.status == MarketStatus::Open => "open",
                CommandBody::L3Add(_) => "l3",
                _ => continue,
            };
            *kinds.entry(k).or_default() += 1;
        }
    }
    for k in ["ack", "fill", "replace_ack", "cancel_ack", "l2", "snapshot", "open"] {
        assert!(kinds.get(k).copied().unwrap_or(0) >= 1, "no {k} in the journal: {kinds:?}");
    }
    assert_eq!(kinds.get("l3"), None, "market data over FIX is L2");

    // `keel audit orders` tells the client's story, report for report.
    let out = Command::new(KEEL)
        .args(["audit", "--config"])
        .arg(&cfg)
        .args(["orders"])
        .arg(&data)
        .args(["--session", "32", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut by_seq: BTreeMap<u64, serde_json::Value> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["event"] == "exec_report" {
            by_seq.insert(v["seq"].as_u64().unwrap(), v);
        }
    }
    let reports: Vec<&OwnedMessage> = seen.iter().filter(|m| m.msg_type() == "8").collect();
    assert!(reports.len() >= 9, "{reports:?}");
    for r in &reports {
        let seq: u64 = r.get(17).unwrap().parse().expect("ExecID is a journal sequence");
        let a =
            by_seq.get(&seq).unwrap_or_else(|| panic!("ExecID {seq} is not in the audit: {r:?}"));
        let ctx = format!("report {r:?}\naudit {a}");
        assert_eq!(a["exec_type"], snake_exec(r.get(150).unwrap()), "{ctx}");
        assert_eq!(a["status"], snake_status(r.get(39).unwrap()), "{ctx}");
        assert_eq!(a["cum_qty"], r.get(14).unwrap(), "{ctx}");
        assert_eq!(a["leaves_qty"], r.get(151).unwrap(), "{ctx}");
        assert_eq!(a["qty"], r.get(38).unwrap(), "{ctx}");
        if let Some(px) = r.get(31) {
            assert_eq!(a["last_px"], px, "{ctx}");
            assert_eq!(a["last_qty"], r.get(32).unwrap(), "{ctx}");
        }
    }
    let received: Vec<u64> = reports.iter().map(|r| r.get(17).unwrap().parse().unwrap()).collect();
    for seq in by_seq.keys() {
        assert!(received.contains(seq), "audit report {seq} never reached the client");
    }
}
