//! End to end: `keel audit` on a journal built here, through the built binary.

use std::path::Path;
use std::process::Command as Process;

use keel_engine::core::testkit::{
    ADMIN, ALT, BTC, CLIENT, ETH, SIM, T0_NS, VENUE, ack, cancel, config_with_market_maker, fill,
    l2, limit, logons,
};
use keel_engine::core::{Core, apply_journaled};
use keel_engine::schema::{
    Command, CommandBody, L3Add, LimitKind, LimitScope, OutputBody, SetLimit,
};
use keel_engine::{AccountId, Price, Qty, Side, TimestampNs};
use keel_journal::{Config, Journal};
use keel_replay::log::{JournalRecorder, journal_config};

/// Writes a small journal: a book, an order acked and filled in two parts, a second order
/// cancelled, a limit change and an order refused by it. Returns the first order's id.
fn build(dir: &Path) -> u64 {
    let config = config_with_market_maker();
    let mut core = Core::new(&config).unwrap();
    let jc = journal_config(Config { segment_size: 1 << 20, ..Config::default() });
    let mut j = JournalRecorder::new(Journal::open(dir, jc).unwrap());
    let mut out = Vec::new();
    let mut ts = T0_NS;
    let mut send = |session, body, out: &mut Vec<_>| {
        ts += 1_000;
        let cmd = Command { ts: TimestampNs(ts), session, body };
        apply_journaled(&mut core, &mut j, &cmd, out).unwrap();
    };
    for c in logons() {
        send(c.session, c.body, &mut out);
    }
    send(VENUE, l2(BTC, ALT, Side::Buy, 10_000, 10), &mut out);
    send(VENUE, l2(BTC, ALT, Side::Sell, 10_010, 10), &mut out);
    for (vid, qty) in [(17, 4), (42, 2)] {
        let add = L3Add {
            instrument: ETH,
            venue: SIM,
            venue_order_id: vid,
            side: Side::Buy,
            price: Price(5_000),
            qty: Qty(qty),
            exchange_ts: TimestampNs(0),
        };
        send(VENUE, CommandBody::L3Add(add), &mut out);
    }
    send(CLIENT, CommandBody::NewOrder(limit("A1", Side::Buy, 10_005, 8)), &mut out);
    let id = out
        .iter()
        .find_map(|o| match o.body {
            OutputBody::ExecReport(r) if r.cl_ord_id.as_str() == "A1" => Some(r.order_id.0),
            _ => None,
        })
        .expect("A1 accepted");
    send(VENUE, ack(id, 777), &mut out);
    send(VENUE, fill(id, 1, 10_005, 3), &mut out);
    send(VENUE, fill(id, 2, 10_004, 5), &mut out);
    send(CLIENT, CommandBody::NewOrder(limit("A2", Side::Sell, 10_009, 2)), &mut out);
    send(CLIENT, cancel("A3", "A2"), &mut out);
    send(
        ADMIN,
        CommandBody::SetLimit(SetLimit {
            scope: LimitScope::Account(AccountId(0)),
            kind: LimitKind::MaxOrderQty,
            value: 10,
        }),
        &mut out,
    );
    send(CLIENT, CommandBody::NewOrder(limit("A4", Side::Buy, 10_001, 25)), &mut out);
    j.into_inner().close().unwrap();
    id
}

fn keel(args: &[&str]) -> (i32, String, String) {
    let out = Process::new(env!("CARGO_BIN_EXE_keel")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn audit_orders_as_table_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let id = build(dir.path());
    let d = dir.path().to_str().unwrap();

    // JSON lines.
    let (code, stdout, stderr) = keel(&["audit", "orders", d, "--cl-ord-id", "A1", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(rows.iter().all(|r| r["order_id"] == id && r["cl_ord_id"] == "A1"));
    assert!(rows.iter().all(|r| r["instrument"] == "BTC-USD" && r["venue"] == "ALT"));
    let events: Vec<String> = rows
        .iter()
        .map(|r| format!("{}/{}", r["event"].as_str().unwrap(), r["exec_type"].as_str().unwrap()))
        .collect();
    for want in [
        "new_order/",
        "exec_report/pending_new",
        "venue_new_order/",
        "venue_ack/",
        "exec_report/new",
        "venue_fill/",
        "exec_report/trade",
    ] {
        assert!(events.contains(&want.to_string()), "{want} missing in {events:?}");
    }
    let accepted = rows.iter().find(|r| r["exec_type"] == "pending_new").unwrap();
    assert_eq!(accepted["decision"], "accepted");
    assert_eq!(accepted["price"], "100.05");
    assert_eq!(accepted["qty"], "0.008");
    let trades: Vec<_> = rows.iter().filter(|r| r["exec_type"] == "trade").collect();
    assert_eq!(trades.len(), 2);
    assert_eq!(
        (trades[0]["last_px"].as_str(), trades[0]["last_qty"].as_str()),
        (Some("100.05"), Some("0.003"))
    );
    assert_eq!(
        (trades[1]["last_px"].as_str(), trades[1]["status"].as_str()),
        (Some("100.04"), Some("filled"))
    );
    assert!(
        rows.iter().all(|r| r["time"].as_str().unwrap().starts_with("2026-01-02T00:00:00.0000"))
    );
    let seqs: Vec<u64> = rows.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]));

    // CSV parses back to the same rows.
    let (code, stdout, _) = keel(&["audit", "orders", d, "--cl-ord-id", "A1", "--csv"]);
    assert_eq!(code, 0);
    let mut rdr = csv::Reader::from_reader(stdout.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), rows.len());
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    for (rec, row) in recs.iter().zip(&rows) {
        assert_eq!(rec[col("seq")], row["seq"].to_string());
        assert_eq!(&rec[col("event")], row["event"].as_str().unwrap());
        assert_eq!(&rec[col("last_px")], row["last_px"].as_str().unwrap());
    }

    // Table: a header and one line per event.
    let (code, stdout, _) = keel(&["audit", "orders", d, "--cl-ord-id", "A1"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("order_id") && lines[0].contains("last_px"));
    assert_eq!(lines.len(), rows.len() + 1);
    assert!(lines.iter().any(|l| l.contains("venue_fill") && l.contains("100.04")));

    // The refused order: its risk decision with the numbers; and filters.
    let (_, stdout, _) = keel(&["audit", "orders", d, "--status", "rejected", "--json"]);
    let r: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rej = r.iter().find(|r| r["cl_ord_id"] == "A4" && r["exec_type"] == "rejected").unwrap();
    assert_eq!(rej["decision"], "QTY_EXCEEDS_MAX");
    assert_eq!(
        (rej["reject_value"].as_str(), rej["reject_limit"].as_str()),
        (Some("qty=25"), Some("max=10"))
    );
    let (_, stdout, _) =
        keel(&["audit", "orders", d, "--cl-ord-id", "A2", "--status", "filled", "--json"]);
    assert!(stdout.is_empty());
    let (_, stdout, _) = keel(&[
        "audit",
        "orders",
        d,
        "--cl-ord-id",
        "A1",
        "--from",
        &format!("seq:{}", seqs[3]),
        "--json",
    ]);
    assert_eq!(stdout.lines().count(), rows.len() - 3);
}

/// Builds the sample journal of `docs/audit.md` where `KEEL_AUDIT_SAMPLE_DIR` says.
#[test]
fn sample_journal_for_the_docs() {
    if let Ok(d) = std::env::var("KEEL_AUDIT_SAMPLE_DIR") {
        build(Path::new(&d));
    }
}

#[test]
fn audit_verify_positions_risk_and_book() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let d = dir.path().to_str().unwrap();

    let (code, stdout, stderr) = keel(&["audit", "verify", d]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("verify:   OK") && stdout.contains("new_order"), "{stdout}");

    let (code, stdout, _) = keel(&["audit", "positions", d, "--json"]);
    assert_eq!(code, 0);
    let rows: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let acct = rows.iter().find(|r| r["account"] == "0" && r["instrument"] == "BTC-USD").unwrap();
    assert_eq!(acct["net_qty"], "0.008");
    assert!(rows.iter().any(|r| r["account"] == "firm"));

    let (code, stdout, _) = keel(&["audit", "risk", d, "--json"]);
    assert_eq!(code, 0);
    let rows: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(rows.iter().any(|r| r["kind"] == "admin" && r["result"] == "ok" && r["session"] == 1));
    assert!(rows.iter().any(|r| r["kind"] == "reject" && r["result"] == "QTY_EXCEEDS_MAX"));

    let (code, stdout, _) = keel(&[
        "audit",
        "book",
        d,
        "--instrument",
        "BTC-USD",
        "--venue",
        "ALT",
        "--at",
        "2026-01-02T00:00:00.000005Z",
        "--json",
    ]);
    assert_eq!(code, 0);
    let rows: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        rows.iter().any(|r| r["side"] == "bid" && r["price"] == "100.00" && r["qty"] == "0.010"),
        "{rows:?} {:?} {:?}",
        keel(&["audit", "book", d, "--instrument", "BTC-USD"]),
        keel(&["audit", "orders", d])
    );

    let (code, stdout, _) =
        keel(&["audit", "book", d, "--instrument", "ETH-USD", "--venue", "SIM", "--l3", "--csv"]);
    assert_eq!(code, 0);
    let mut rdr = csv::Reader::from_reader(stdout.as_bytes());
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let ids: Vec<&str> = recs.iter().map(|r| &r[6]).collect();
    assert_eq!(ids, ["17", "42"], "{stdout}");
    assert_eq!((&recs[0][3], &recs[0][4], &recs[1][5]), ("50.00", "0.04", "2"));

    // Altering a byte makes verify fail.
    let seg = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".seg"))
        .unwrap();
    let mut b = std::fs::read(&seg).unwrap();
    b[200] ^= 1;
    std::fs::write(&seg, b).unwrap();
    let (code, stdout, _) = keel(&["audit", "verify", d]);
    assert_ne!(code, 0, "{stdout}");
    assert!(stdout.contains("FAILED"), "{stdout}");
}
