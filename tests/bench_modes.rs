//! `keel bench`, end to end through the built binary: every mode runs briefly (tiny
//! durations, the park wait strategy, so it passes on a busy 2-core machine) and produces a
//! well-formed report: the JSON parses, percentiles are ordered, counts are consistent,
//! ratios name measurements of the report, and the `.hgrm` and SVG files are written.
//! Nothing here asserts a timing.

use serde_json::Value;
use std::path::Path;
use std::process::Command as Process;

fn keel(args: &[&str]) -> std::process::Output {
    Process::new(env!("CARGO_BIN_EXE_keel")).args(args).output().expect("keel runs")
}

/// Runs `keel bench <mode> ...` with tiny durations and every output; returns the report.
fn bench(mode: &[&str], extra: &[&str], dir: &Path) -> Value {
    let hgrm = dir.join("lat.hgrm");
    let svg = dir.join("lat.svg");
    let mut args: Vec<&str> = vec!["bench"];
    args.extend_from_slice(mode);
    let (h, s) = (hgrm.to_str().unwrap().to_string(), svg.to_str().unwrap().to_string());
    args.extend_from_slice(&["--duration", "0.3", "--warmup", "0.1", "--wait", "block", "--json"]);
    args.extend_from_slice(&["--hgrm", &h, "--plot", &s]);
    args.extend_from_slice(extra);
    let out = keel(&args);
    assert!(out.status.success(), "keel {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("the report is JSON");
    check_report(&report);
    check_hgrm(&hgrm, &report);
    let svg_text = std::fs::read_to_string(&svg).expect("the chart is written");
    assert!(svg_text.starts_with("<svg") && svg_text.contains("polyline"), "{svg_text:.200}");
    report
}

fn u(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn count(m: &Value, key: &str) -> u64 {
    u(&m["counts"], key)
}

fn measurement<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no measurement {name}"))
}

/// Structure every report shares.
fn check_report(r: &Value) {
    let ms = r["measurements"].as_array().expect("measurements");
    assert!(ms.iter().any(|m| m["role"] == "subject") && ms.iter().any(|m| m["role"] == "floor"));
    for m in ms {
        for key in ["latency", "uncorrected"] {
            let p = &m[key];
            let v: Vec<u64> = ["p50_ns", "p90_ns", "p99_ns", "p99_9_ns", "p99_99_ns", "max_ns"]
                .iter()
                .map(|k| u(p, k))
                .collect();
            assert!(v.windows(2).all(|w| w[0] <= w[1]), "{} {key} not ordered: {v:?}", m["name"]);
            assert!(u(p, "count") > 0, "{} recorded nothing", m["name"]);
        }
        // Corrected = every recorded operation plus what closed-loop correction added.
        assert_eq!(u(&m["latency"], "count"), u(m, "operations") + u(m, "co_added_samples"));
        assert_eq!(u(&m["uncorrected"], "count"), u(m, "operations"));
        assert!(m["throughput_per_s"].as_f64().unwrap() > 0.0);
    }
    let names: Vec<&str> = ms.iter().map(|m| m["name"].as_str().unwrap()).collect();
    let ratios = r["ratios"].as_array().expect("ratios");
    assert!(!ratios.is_empty());
    for ratio in ratios {
        assert!(names.contains(&ratio["subject"].as_str().unwrap()));
        assert!(names.contains(&ratio["floor"].as_str().unwrap()));
        assert!(ratio["latency"]["p50"].as_f64().unwrap() > 0.0);
    }
    assert!(r["machine"]["cpus_allowed"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(r["warnings"].is_array());
}

/// The first subject's `.hgrm` is the standard percentile text with its total count.
fn check_hgrm(path: &Path, r: &Value) {
    let text = std::fs::read_to_string(path).expect("the .hgrm is written");
    assert!(text.lines().next().unwrap().contains("Percentile"), "{text:.200}");
    let first = &r["measurements"][0];
    let total = u(&first["latency"], "count");
    assert!(text.contains(&format!("Total count    = {total:>12}]")), "{text}");
    let name = first["name"].as_str().unwrap();
    assert!(name.len() > 1);
    for m in r["measurements"].as_array().unwrap().iter().skip(1) {
        let other = path.with_file_name(format!("lat.{}.hgrm", m["name"].as_str().unwrap()));
        assert!(other.exists(), "{} missing", other.display());
    }
}

/// The two p50 targets (corrected and service time), each met exactly when its ratio is
/// within `limit`.
fn check_targets(r: &Value, limit: f64) {
    let targets = r["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2, "corrected and service-time targets");
    for t in targets {
        assert_eq!(t["limit"].as_f64().unwrap(), limit);
        assert_eq!(t["met"].as_bool().unwrap(), t["ratio"].as_f64().unwrap() <= limit);
    }
}

#[test]
fn core_mode_report_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let r = bench(&["core"], &[], dir.path());
    assert_eq!(r["mode"], "core");
    let m = measurement(&r, "core_apply");
    assert_eq!(count(m, "rejects_total"), 0);
    assert_eq!(count(m, "anomalies_total"), 0);
    assert_eq!(
        count(m, "commands_applied_total"),
        u(m, "operations") + count(m, "warmup_commands")
    );
    assert!(
        r["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("mix: "))
    );

    // The same at a fixed rate: open loop, nothing added by correction.
    let r = bench(&["core"], &["--rate", "20000"], dir.path());
    let m = measurement(&r, "core_apply");
    assert_eq!(u(m, "co_added_samples"), 0);
    assert_eq!(r["settings"]["rate_per_s"], 20000);
}

#[test]
fn journal_mode_report_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let r = bench(&["journal"], &["--segment-mb", "4", "--max-mb", "32"], dir.path());
    let m = measurement(&r, "journal_append");
    let records = count(m, "records_total");
    assert_eq!(
        records,
        u(m, "operations") + count(m, "warmup_records") + count(m, "batched_records")
    );
    // 8 MiB for the batched run (a quarter of the cap) in whole batches of 64 frames.
    let batch_bytes = 64 * count(m, "frame_bytes");
    assert_eq!(count(m, "batched_records"), (8 << 20) / batch_bytes * 64);
    assert!(
        count(m, "batched_p50_ps") > 0 && count(m, "batched_p50_ps") <= count(m, "batched_p90_ps")
    );
    let target = &r["targets"].as_array().unwrap()[0];
    assert!(target["what"].as_str().unwrap().starts_with("append median of a "));
    let t = r["throughputs"].as_array().unwrap();
    let read = t.iter().find(|t| t["name"] == "verify_read").unwrap();
    assert_eq!(u(read, "items"), records);
    let inspect = t.iter().find(|t| t["name"] == "verify_inspect").unwrap();
    assert_eq!(u(inspect, "items"), records);
    assert!(t.iter().any(|t| t["role"] == "floor"));
}

#[test]
fn journal_mode_stops_at_the_size_cap() {
    let dir = tempfile::tempdir().unwrap();
    let r = bench(
        &["journal"],
        &["--segment-mb", "1", "--max-mb", "1", "--record-bytes", "1000"],
        dir.path(),
    );
    let m = measurement(&r, "journal_append");
    assert_eq!(count(m, "stopped_at_size_cap"), 1);
    // 1 MiB of 1 032-byte frames: a quarter set aside for 3 batches of 64 (one untimed),
    // the per-operation run stops at the rest.
    assert_eq!(count(m, "batched_records"), 3 * 64);
    let per_op = ((1 << 20) - 3 * 64 * 1032) / 1032;
    assert_eq!(count(m, "records_total"), per_op + 3 * 64);
    assert!(count(m, "records_total") <= (1 << 20) / 1032);
}

#[test]
fn pipeline_mode_report_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let r = bench(&["pipeline"], &["--rate", "2000", "--rounds", "2"], dir.path());
    for name in ["tick_to_trade", "floor_two_rings"] {
        let m = measurement(&r, name);
        assert_eq!(count(m, "rounds"), 2);
        assert_eq!(u(m, "operations"), count(m, "ticks_answered"));
        assert_eq!(
            count(m, "ticks_measured"),
            count(m, "ticks_answered") + count(m, "ticks_unanswered"),
            "{name}"
        );
        assert_eq!(
            count(m, "ticks_answered"),
            count(m, "ticks_direct") + count(m, "ticks_later"),
            "{name}"
        );
        assert!(count(m, "ticks_published") >= count(m, "ticks_measured"));
        assert_eq!(count(m, "stamp_collisions"), 0);
    }
    let t2t = measurement(&r, "tick_to_trade");
    assert_eq!(count(t2t, "core_rejects_total"), 0);
    assert!(count(t2t, "orders_received") >= count(t2t, "ticks_direct"));
    assert!(count(t2t, "answers_published") > 0, "the venue answered nothing");
    check_targets(&r, 3.0);
}

#[test]
fn wire_mode_echo_report_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let r =
        bench(&["wire", "--protocol", "echo"], &["--rate", "2000", "--rounds", "3"], dir.path());
    for name in ["order_to_ack", "floor_tcp_echo"] {
        let m = measurement(&r, name);
        assert_eq!(count(m, "rounds"), 3);
        assert_eq!(count(m, "unanswered"), 0, "{name}: TCP on loopback lost nothing");
        assert_eq!(count(m, "acked_measured"), count(m, "measured"));
        assert_eq!(u(m, "operations"), count(m, "measured"));
        assert!(count(m, "sent") > count(m, "measured"), "warm-up orders were sent too");
        assert_eq!(count(m, "unknown_acks") + count(m, "duplicate_acks"), 0);
    }
}

#[test]
fn wire_mode_binary_report_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    // The in-process server's core yields rather than blocks (`--core-wait`).
    let r = bench(
        &["wire", "--protocol", "binary"],
        &["--rate", "1000", "--rounds", "2", "--core-wait", "spin-yield"],
        dir.path(),
    );
    assert_eq!(r["settings"]["core_wait"], "spin-yield");
    for name in ["order_to_ack", "floor_tcp_echo"] {
        let m = measurement(&r, name);
        assert_eq!(count(m, "rounds"), 2);
        assert_eq!(count(m, "unanswered"), 0, "{name}: every order was acknowledged");
        assert_eq!(count(m, "acked_measured"), count(m, "measured"));
        assert!(count(m, "measured") > 0, "{name}");
        assert_eq!(count(m, "unknown_acks") + count(m, "duplicate_acks"), 0, "{name}");
    }
    assert_eq!(count(measurement(&r, "order_to_ack"), "rejected"), 0, "Keel accepted every order");
    check_targets(&r, 1.5);
    // The floor's frames are a binary NewOrder's size.
    let notes = r["notes"].to_string();
    assert!(notes.contains("112-byte frames"), "{notes}");
}

#[test]
fn wire_mode_fix_report_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let r = bench(&["wire", "--protocol", "fix"], &["--rate", "1000", "--rounds", "2"], dir.path());
    for name in ["order_to_ack", "floor_tcp_echo"] {
        let m = measurement(&r, name);
        assert_eq!(count(m, "rounds"), 2);
        assert_eq!(count(m, "unanswered"), 0, "{name}: every order was acknowledged");
        assert_eq!(count(m, "acked_measured"), count(m, "measured"));
        assert_eq!(u(m, "operations"), count(m, "measured"));
        assert!(count(m, "measured") > 0, "{name}");
        assert!(count(m, "sent") > count(m, "measured"), "warm-up orders were sent too");
        assert_eq!(count(m, "unknown_acks") + count(m, "duplicate_acks"), 0, "{name}");
    }
    let subject = measurement(&r, "order_to_ack");
    assert_eq!(count(subject, "rejected"), 0, "Keel accepted every order (PendingNew)");
    check_targets(&r, 2.0);
    let what = subject["what"].to_string();
    assert!(what.contains("fix"), "{what}");
    // The floor's frames are a FIX NewOrderSingle's size (about 190 bytes).
    let notes = r["notes"].to_string();
    let frame: usize = notes
        .split("-byte frames")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no frame size in {notes}"));
    assert!((120..256).contains(&frame), "{notes}");
}

#[test]
fn unknown_wire_protocol_is_named() {
    let out = keel(&["bench", "wire", "--protocol", "smoke-signals"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--protocol smoke-signals") && err.contains("expected binary, fix or echo"),
        "{err}"
    );
}

#[test]
fn the_in_process_server_runs_the_given_configuration() {
    let dir = tempfile::tempdir().unwrap();
    // A configuration with the binary listener off: the bench says so by key.
    let cfg = dir.path().join("no-binary.toml");
    std::fs::write(&cfg, "[binary]\nlisten = \"\"\n").unwrap();
    let out = keel(&["bench", "wire", "--protocol", "binary", "--config", cfg.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[binary] listen"), "{err}");
    // A file that is not there is named.
    let missing = dir.path().join("missing.toml");
    let out =
        keel(&["bench", "wire", "--protocol", "binary", "--config", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[test]
fn bad_options_are_named() {
    let out = keel(&["bench", "core", "--wait", "nap"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--wait nap"));
    let out = keel(&["bench", "pipeline", "--core-wait", "nap"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--core-wait nap"));
    let out = keel(&["bench", "core", "--duration", "0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--duration 0"));
    let out = keel(&["bench", "wire", "--protocol", "echo", "--rounds", "0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rounds 0"));
    let out = keel(&["bench", "pipeline", "--rate", "0", "--duration", "0.1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rate 0"));
}

#[test]
fn table_output_shows_ratios_and_warnings() {
    let out = keel(&["bench", "core", "--duration", "0.1", "--warmup", "0", "--wait", "park"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ratio core_apply / floor_clock_pair"), "{text}");
    assert!(text.contains("p99.99"), "{text}");
    assert!(text.contains("machine:"), "{text}");
}
