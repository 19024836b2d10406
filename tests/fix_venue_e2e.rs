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
use keel_gateways::fix::client::{ClientConfig, FixClient};
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
    let (seen, fills) = rest_amend_cancel_take(&mut c, "V", &data);
    assert!(!fills.is_empty(), "the venue filled the marketable order over FIX");
    for r in &fills {
        let px: f64 = r.get(31).unwrap().parse().unwrap();
        assert!((49_000.0..=55_000.0).contains(&px), "filled near the mid: {px}");
    }
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
    assert_audit_agrees(&cfg, &data, &seen, None);
}
