//! End to end over a real socket: a FIX client logs on to `keel serve` (the embedded demo
//! client `demo-fix`), places, amends and cancels orders that the in-process simulated
//! venue acknowledges and fills, and receives the ExecutionReports; then `keel audit
//! orders` on the journal tells the same story, report for report (each ExecutionReport's
//! ExecID is the journal sequence of the output it renders).

#[path = "fix_support.rs"]
mod support;

use keel_gateways::fix::client::{ClientConfig, FixClient, NewOrder, OwnedMessage};
use std::collections::BTreeMap;
use std::process::Command;
use support::*;

#[test]
fn a_fix_client_trades_through_keel_serve_and_the_audit_agrees() {
    let root = tempfile::tempdir().unwrap();
    let cfg = fix_config(root.path());
    let data = root.path().join("data");
    let mut child = spawn_serve(root.path(), &cfg, "fix", &["--duration", "180"]);
    let addr = fix_addr(root.path(), "fix");
    let mut c =
        FixClient::connect(addr, ClientConfig::new("demo-fix", "KEEL", "demo")).expect("logon");
    let mut seen = Vec::new();

    // Rest far below the market (BTC-USD mids around 50000), amend, cancel.
    c.send_new_order(&NewOrder::limit("E1", "BTC-USD", b'1', "0.002", "45000.00")).unwrap();
    let ack = wait_exec(&mut c, "E1", "0", &mut seen, &data);
    assert_eq!((ack.get(39), ack.get(151)), (Some("0"), Some("0.002")));
    c.send_replace("E2", "E1", "BTC-USD", b'1', "0.004", "45100.50").unwrap();
    let replaced = wait_exec(&mut c, "E2", "5", &mut seen, &data);
    assert_eq!(
        (replaced.get(41), replaced.get(38), replaced.get(44)),
        (Some("E1"), Some("0.004"), Some("45100.50"))
    );
    c.send_cancel("E3", "E2", "BTC-USD", b'1').unwrap();
    let canceled = wait_exec(&mut c, "E3", "4", &mut seen, &data);
    assert_eq!(
        (canceled.get(39), canceled.get(41), canceled.get(151)),
        (Some("4"), Some("E2"), Some("0.000"))
    );

    // Take liquidity: an IOC buy well through the offer fills.
    c.send_new_order(&NewOrder {
        tif: Some(b'3'),
        ..NewOrder::limit("E4", "BTC-USD", b'1', "0.003", "55000.00")
    })
    .unwrap();
    let mut fills = 0;
    loop {
        let r = next_report(&mut c, "E4", &mut seen, &data);
        match r.get(150).unwrap() {
            "F" => {
                fills += 1;
                if r.get(39) == Some("2") {
                    break;
                }
            }
            "4" => break,
            _ => {}
        }
    }
    assert!(fills > 0, "the simulated venue filled the marketable order");
    c.logout(REPORT_WAIT).expect("logout");
    let status = interrupt_and_wait(&mut child);
    assert!(status.success());

    // The journal's story, from `keel audit orders`.
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
        assert_eq!(a["account"], 0, "{ctx}");
    }
    // Every report the audit lists for the session reached the client.
    let received: Vec<u64> = reports.iter().map(|r| r.get(17).unwrap().parse().unwrap()).collect();
    for seq in by_seq.keys() {
        assert!(received.contains(seq), "audit report {seq} never reached the client");
    }
}
