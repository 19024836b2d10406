//! Periodic snapshots of the real binary: `keel serve` takes snapshots while it runs, is
//! killed with SIGKILL, restarts from the newest snapshot (replaying only the journal
//! after it), and the state it ends with equals the state `keel audit verify` derives by
//! replaying the whole journal from the start.

#[path = "serve_support.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::*;

fn snapshot_files(data: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(data.join("snapshots")) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bin"))
        .collect();
    names.sort();
    names
}

/// The value of `key=` in a tracing line of `log`.
fn logged_u64(log: &str, key: &str) -> Option<u64> {
    let at = log.find(&format!("{key}="))? + key.len() + 1;
    log[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[test]
fn snapshots_are_taken_and_a_restart_recovers_from_the_newest() {
    let root = tempfile::tempdir().unwrap();
    let cfg = write_config(root.path());
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "segment_mb = 4\n",
        "segment_mb = 4\nsnapshot_every_inputs = 400\nsnapshot_interval_s = 0\nsnapshots_kept = 2\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let data = root.path().join("data");

    let mut first = spawn_serve(root.path(), &cfg, "first", &[]);
    wait_until("three snapshots stored, older ones pruned", Duration::from_secs(120), || {
        // The third name proves the schedule keeps going; pruning keeps two.
        let names = snapshot_files(&data);
        names.len() <= 2
            && names.last().is_some_and(|n| n.as_str() > "snapshot-00000000000000001200")
    });
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    // A snapshot is pruned only after the next one is stored, so a kill between the two
    // leaves one more than the two kept.
    let kept = snapshot_files(&data);
    assert!(!kept.is_empty() && kept.len() <= 3, "pruned to 2 (+1 just stored): {kept:?}");

    let (status, out, err) = serve_until_more(root.path(), &cfg, &data, "second", 1000);
    assert!(status.success(), "clean stop: {status:?}\n{err}");
    let from = logged_u64(&err, "from_snapshot_seq")
        .unwrap_or_else(|| panic!("recovery line names its snapshot: {err}"));
    assert!(from > 0, "recovered from a snapshot, not from the start: {err}");
    assert!(!err.contains("differ from the recorded"), "replayed outputs match: {err}");
    assert!(!err.contains("snapshot skipped"), "{err}");
    assert!(out.contains("snapshots "), "{out}");

    // The live state at the end equals a full replay from the start.
    let live = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("state digest"))
        .map(|d| d.trim().to_string())
        .expect("summary has the digest");
    let audit = Command::new(KEEL)
        .args(["audit", "--config"])
        .arg(&cfg)
        .arg("verify")
        .arg(&data)
        .output()
        .unwrap();
    let audit_out = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.status.success(), "{audit_out}\n{}", String::from_utf8_lossy(&audit.stderr));
    // `audit verify` prints the digest's first 16 hex digits.
    assert!(audit_out.contains(&format!("digest {}", &live[..16])), "live {live}\n{audit_out}");
}
