//! Shared helpers for the FIX tests against `keel serve` (included with `#[path]`).
#![allow(dead_code)]

#[path = "serve_support.rs"]
mod serve;

pub use serve::*;

use keel_gateways::fix::client::{FixClient, NewOrder, OwnedMessage};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The serve tests' configuration, made deterministic for client orders: no strategies
/// (the firm's own quotes would turn a marketable client order into a refused
/// self-trade) and no synthetic marketable flow (it would sweep a thin book and fill an
/// order meant to rest far from the market). The venue's resting flow still gives a
/// marketable client order something to fill against.
pub fn fix_config(root: &Path) -> PathBuf {
    let cfg = write_config(root);
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("[venue]\n"), "{text}");
    let text = text.replace("[venue]\n", "[venue]\nmarket_weight = 0\n");
    std::fs::write(&cfg, format!("strategy = []\n{text}")).unwrap();
    cfg
}

/// The FIX acceptor's address, from `keel serve`'s log of run `run` (tests bind port 0).
pub fn fix_addr(root: &Path, run: &str) -> SocketAddr {
    let log = root.join(format!("{run}.err"));
    let mut found = None;
    wait_until("the FIX acceptor to bind", Duration::from_secs(60), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        found = text.lines().find(|l| l.contains("FIX acceptor bound")).and_then(|l| {
            let at = l.find("listen=")? + "listen=".len();
            l[at..].split_whitespace().next()?.trim_matches('"').parse().ok()
        });
        found.is_some()
    });
    found.unwrap()
}

/// How long a test waits for one report.
pub const REPORT_WAIT: Duration = Duration::from_secs(30);

/// The next ExecutionReport about `cl_ord_id`; every application message received on the
/// way is kept in `seen`. Panics after [`REPORT_WAIT`] with what was seen and `keel audit
/// orders` of the session's journal at `journal`, to tell a lost report from a late one.
pub fn next_report(
    c: &mut FixClient,
    cl_ord_id: &str,
    seen: &mut Vec<OwnedMessage>,
    journal: &Path,
) -> OwnedMessage {
    let deadline = Instant::now() + REPORT_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = c.next_app(left).unwrap().unwrap_or_else(|| {
            let out = Command::new(KEEL)
                .args(["audit", "orders"])
                .arg(journal)
                .args(["--session", "32"])
                .output()
                .unwrap();
            panic!(
                "no report for {cl_ord_id}; seen {seen:?}\naudit:\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        seen.push(m.clone());
        if m.msg_type() == "8" && m.get(11) == Some(cl_ord_id) {
            return m;
        }
    }
}

/// The next ExecutionReport about `cl` with ExecType (150) `exec_type`.
pub fn wait_exec(
    c: &mut FixClient,
    cl: &str,
    exec_type: &str,
    seen: &mut Vec<OwnedMessage>,
    journal: &Path,
) -> OwnedMessage {
    loop {
        let m = next_report(c, cl, seen, journal);
        if m.get(150) == Some(exec_type) {
            return m;
        }
    }
}

/// `keel audit orders --json`'s name for a FIX ExecType (150).
pub fn snake_exec(c: &str) -> &'static str {
    match c {
        "A" => "pending_new",
        "0" => "new",
        "F" => "trade",
        "6" => "pending_cancel",
        "4" => "canceled",
        "E" => "pending_replace",
        "5" => "replaced",
        "8" => "rejected",
        "C" => "expired",
        other => panic!("unexpected ExecType {other}"),
    }
}

/// `keel audit orders --json`'s name for a FIX OrdStatus (39).
pub fn snake_status(c: &str) -> &'static str {
    match c {
        "A" => "pending_new",
        "0" => "new",
        "1" => "partially_filled",
        "2" => "filled",
        "6" => "pending_cancel",
        "4" => "canceled",
        "E" => "pending_replace",
        "8" => "rejected",
        "C" => "expired",
        other => panic!("unexpected OrdStatus {other}"),
    }
}

/// The standard client script, client order ids `{p}1`..`{p}4`: rest a BTC-USD buy far
/// below the market (mids around 50000), amend it, cancel it, then take liquidity with an
/// IOC buy well through the offer. Checks each answer; returns every application message
/// received and the fills of the IOC order.
pub fn rest_amend_cancel_take(
    c: &mut FixClient,
    p: &str,
    journal: &Path,
) -> (Vec<OwnedMessage>, Vec<OwnedMessage>) {
    let id = |n: u8| format!("{p}{n}");
    let mut seen = Vec::new();
    c.send_new_order(&NewOrder::limit(&id(1), "BTC-USD", b'1', "0.002", "45000.00")).unwrap();
    let ack = wait_exec(c, &id(1), "0", &mut seen, journal);
    assert_eq!((ack.get(39), ack.get(151)), (Some("0"), Some("0.002")));
    c.send_replace(&id(2), &id(1), "BTC-USD", b'1', "0.004", "45100.50").unwrap();
    let replaced = wait_exec(c, &id(2), "5", &mut seen, journal);
    assert_eq!(
        (replaced.get(41), replaced.get(38), replaced.get(44)),
        (Some(id(1).as_str()), Some("0.004"), Some("45100.50"))
    );
    c.send_cancel(&id(3), &id(2), "BTC-USD", b'1').unwrap();
    let canceled = wait_exec(c, &id(3), "4", &mut seen, journal);
    assert_eq!(
        (canceled.get(39), canceled.get(41), canceled.get(151)),
        (Some("4"), Some(id(2).as_str()), Some("0.000"))
    );
    c.send_new_order(&NewOrder {
        tif: Some(b'3'),
        ..NewOrder::limit(&id(4), "BTC-USD", b'1', "0.003", "55000.00")
    })
    .unwrap();
    let mut fills = Vec::new();
    loop {
        let r = next_report(c, &id(4), &mut seen, journal);
        match r.get(150).unwrap() {
            "F" => {
                let done = r.get(39) == Some("2");
                fills.push(r);
                if done {
                    break;
                }
            }
            "4" => break,
            _ => {}
        }
    }
    (seen, fills)
}

/// `keel audit orders --json` of session 32 tells the client's story report for report:
/// each ExecutionReport in `seen` is in the audit under its ExecID (the journal sequence)
/// with the same exec type, status, quantities and fill (and `account`, when given), and
/// every report the audit lists reached the client.
pub fn assert_audit_agrees(
    cfg: &Path,
    journal: &Path,
    seen: &[OwnedMessage],
    account: Option<u64>,
) {
    let out = Command::new(KEEL)
        .args(["audit", "--config"])
        .arg(cfg)
        .args(["orders"])
        .arg(journal)
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
        if let Some(account) = account {
            assert_eq!(a["account"], account, "{ctx}");
        }
    }
    let received: Vec<u64> = reports.iter().map(|r| r.get(17).unwrap().parse().unwrap()).collect();
    for seq in by_seq.keys() {
        assert!(received.contains(seq), "audit report {seq} never reached the client");
    }
}
