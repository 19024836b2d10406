//! `keel serve` end to end from the outside: configuration errors name the key, the admin
//! socket answers every action with the core's result, SIGINT drains and seals.

#[path = "serve_support.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;
use support::*;

fn admin(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(KEEL).arg("admin").arg("--dir").arg(dir).args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn config_default_is_printed_and_errors_name_the_key() {
    let out = Command::new(KEEL).args(["config", "default"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[pipeline]") && text.contains("market_maker"));

    let root = tempfile::tempdir().unwrap();
    let bad = root.path().join("bad.toml");
    std::fs::write(&bad, "[venue]\nevents_per_second = 10\n").unwrap();
    let out = Command::new(KEEL).arg("serve").arg("--config").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("events_per_second"), "{err}");

    std::fs::write(&bad, "[pipeline]\nwait = \"nap\"\n").unwrap();
    let out = Command::new(KEEL).arg("serve").arg("--config").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pipeline.wait"));
}

#[test]
fn admin_actions_are_journaled_commands_answered_by_the_core() {
    let root = tempfile::tempdir().unwrap();
    let cfg = write_config(root.path());
    let data = root.path().join("data");
    let mut child = spawn_serve(root.path(), &cfg, "admin", &["--duration", "120"]);

    wait_until("the admin socket", Duration::from_secs(60), || admin(&data, &["status"]).0);
    let mode = std::fs::metadata(data.join("admin.sock")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let (ok, reply) = admin(&data, &["kill", "--all"]);
    assert!(ok && reply.contains("\"seq\""), "{reply}");
    let (ok, reply) = admin(&data, &["resume"]);
    assert!(ok, "{reply}");
    let (ok, reply) = admin(&data, &["limits", "set", "account:1", "max_order_qty", "7"]);
    assert!(ok, "{reply}");
    wait_until("the new limit to be published", Duration::from_secs(30), || {
        let (_, reply) = admin(&data, &["limits", "get"]);
        reply.contains("\"scope\":\"account:1\"") && reply.contains("\"value\":7")
    });
    let (ok, reply) = admin(&data, &["state", "reducing", "--account", "1"]);
    assert!(ok, "{reply}");
    let (ok, reply) = admin(&data, &["limits", "set", "firm", "nope", "1"]);
    assert!(!ok && reply.contains("nope"), "{reply}");
    let (ok, _) = admin(&data, &["kill"]);
    assert!(!ok, "kill needs a scope");

    let status = interrupt_and_wait(&mut child);
    assert!(status.success());
    let out = std::fs::read_to_string(root.path().join("admin.out")).unwrap();
    assert!(out.contains("kill_switch=2") && out.contains("set_limit=1"), "{out}");
    assert!(out.contains("state digest"), "{out}");
    assert!(contiguous_from_one(&journal_seqs(&data)));
    assert!(!data.join("admin.sock").exists(), "the socket is removed at stop");
}
