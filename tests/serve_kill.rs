//! Crash recovery of the real binary: `keel serve` is killed with SIGKILL mid-run, then
//! restarted on the same directory. It must recover and continue the journal's sequence
//! with no gap, and stop cleanly on SIGINT.

#[path = "serve_support.rs"]
mod support;

use std::time::Duration;
use support::*;

#[test]
fn sigkill_then_restart_recovers_and_continues_the_sequence() {
    let root = tempfile::tempdir().unwrap();
    let cfg = write_config(root.path());
    let data = root.path().join("data");

    let mut first = spawn_serve(root.path(), &cfg, "first", &[]);
    wait_until("2000 journal records", Duration::from_secs(90), || {
        journal_seqs(&data).len() >= 2000
    });
    first.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix.
    first.wait().unwrap();

    let before = journal_seqs(&data);
    assert!(before.len() >= 2000);
    assert!(contiguous_from_one(&before), "journal after the kill is contiguous");

    let (status, out, err) = serve_until_more(root.path(), &cfg, &data, "second", 2000);
    let target = before.len() + 2000;
    assert!(status.success(), "clean stop: {status:?}\n{err}");
    assert!(err.contains("recovered from the journal"), "{err}");
    assert!(!err.contains("differ from the recorded"), "replayed outputs match: {err}");
    assert!(out.contains("journal sealed"), "{out}");

    let after = journal_seqs(&data);
    assert!(contiguous_from_one(&after), "no gap across the crash and restart");
    assert!(after.len() >= target, "the restarted keel continued the sequence");
    // What was there before the kill is still there, unchanged in number.
    assert_eq!(&after[..before.len()], &before[..]);
}
