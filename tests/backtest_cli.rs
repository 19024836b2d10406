//! End to end: `keel backtest synth | convert | <run>` through the built binary.

use std::path::Path;
use std::process::{Command, Output};

fn keel(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keel")).args(args).current_dir(dir).output().expect("run keel")
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn synth_run_twice_convert_and_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(keel(&["backtest", "synth", "--out", "syn.csv", "--events", "30000", "--seed", "3"], d));
    let run = |tag: &str, data: &str| {
        let (html, js) = (format!("{tag}.html"), format!("{tag}.json"));
        let args = [
            "backtest",
            "--data",
            data,
            "--latency",
            "constant:100us,200us",
            "--fee",
            "0,2",
            "--param",
            "half_spread_ticks=1",
            "--param",
            "size_lots=10",
            "--report",
            &html,
            "--json",
            &js,
            "--no-progress",
        ];
        ok(keel(&args, d))
    };
    let out = run("a", "syn.csv");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("net P&L (USD)") && text.contains("state digest"), "{text}");
    run("b", "syn.csv");
    assert_eq!(std::fs::read(d.join("a.html")).unwrap(), std::fs::read(d.join("b.html")).unwrap());
    assert_eq!(std::fs::read(d.join("a.json")).unwrap(), std::fs::read(d.join("b.json")).unwrap());
    let html = std::fs::read_to_string(d.join("a.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4, "equity, position and two latency charts");
    // Self-contained: nothing to fetch, nothing to run.
    for outside in ["<script", "src=", "href", "<link", "url(", "@import"] {
        assert!(!html.contains(outside), "the page contains {outside}");
    }
    let a = json(&d.join("a.json"));
    assert_eq!(a["data"]["events"], 30000);
    assert_eq!(a["settings"]["fees"][0]["taker_bps"], "2");
    assert!(a["orders"]["sent"].as_u64().unwrap() > 0);

    ok(keel(&["backtest", "convert", "--from", "syn.csv", "--out", "journal"], d));
    run("c", "journal");
    let c = json(&d.join("c.json"));
    assert_eq!(c["data"]["format"], "journal");
    for section in ["pnl", "orders", "position", "performance", "latency", "engine"] {
        assert_eq!(a[section], c[section], "{section} differs between CSV and journal");
    }
    // The JSON summary on standard output.
    let out = ok(keel(&["backtest", "--data", "journal", "--json", "-", "--no-progress"], d));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["data"]["feed"], "l2");
}

#[test]
fn bad_input_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = "#keel-md 1\n#feed l2\n#instrument X tick_size=0.5 lot_size=1\n\
               exchange_ts,local_ts,instrument,kind,side,price,qty,order_id\n\
               1,2,X,l2,buy,10.5,3,\n\
               2,3,X,l2,sell,11.25,3,\n";
    std::fs::write(d.join("bad.csv"), csv).unwrap();
    let out = keel(&["backtest", "--data", "bad.csv"], d);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv:6: price: 11.25 is not a multiple of the increment 0.5"),
        "{err}"
    );
    let out = keel(&["backtest", "--data", "bad.csv", "--queue", "fifo"], d);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fifo queue model needs order-by-order (L3) data"), "{err}");
    let out = keel(&["backtest", "--data", "bad.csv", "--latency", "constant:1x,2us"], d);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("latency \"constant:1x,2us\""), "{err}");
}

/// The documented run on real data (docs/backtest.md): needs python3, pip and the network,
/// so it is ignored by default. `cargo test -p keel --test backtest_cli -- --ignored`.
#[test]
#[ignore = "downloads ob-analytics from PyPI"]
fn real_bitstamp_capture_replays_without_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fetch-ob-analytics");
    let out = Command::new(script).args(["--out", "ob.csv"]).current_dir(d).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let args = [
        "backtest",
        "--data",
        "ob.csv",
        "--queue",
        "fifo",
        "--latency",
        "recorded",
        "--param",
        "half_spread_ticks=1",
        "--param",
        "size_lots=1000000",
        "--param",
        "max_position_lots=10000000",
        "--fee",
        "0,3",
        "--json",
        "ob.json",
        "--no-progress",
    ];
    ok(keel(&args, d));
    let r = json(&d.join("ob.json"));
    assert_eq!(r["data"]["events"], 112_904);
    assert_eq!(r["data"]["refused_by_venue"], 0);
    assert_eq!(r["data"]["refused_by_core"], serde_json::json!({}));
    assert_eq!(
        r["engine"]["state_digest"],
        "e8ef33eeb27a5d2bd0e94fec9893635077f8659be23386dce0874759d75e784c"
    );
}
