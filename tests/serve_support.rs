//! Shared helpers for the `keel serve` process tests (included with `#[path]`).
#![allow(dead_code)]

use keel_engine::schema::SCHEMA_HASH;
use keel_journal::Reader;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const KEEL: &str = env!("CARGO_BIN_EXE_keel");

/// A configuration for tests: journal under `root/data`, no metrics port, listeners on
/// free ports (`binary_listen=` in the log names the binary one), a busy venue, the
/// parking wait strategy (2-core machines).
pub fn write_config(root: &Path) -> PathBuf {
    let data = root.join("data");
    let text = format!(
        r#"
[journal]
dir = "{}"
segment_mb = 4

[pipeline]
inbound_ring = 1024
outbound_ring = 512
wait = "park"
timer_interval_ms = 20

[venue]
events_per_sec = 5000

[binary]
listen = "127.0.0.1:0"

[metrics]
listen = ""
status_interval_s = 0

[fix]
# Any free port: tests run side by side (the bound address is logged).
listen = "127.0.0.1:0"

[log]
level = "info"
"#,
        data.display()
    );
    let path = root.join("keel.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts `keel serve --config cfg` with its output in files under `root`.
pub fn spawn_serve(root: &Path, cfg: &Path, run: &str, extra: &[&str]) -> Child {
    let out = std::fs::File::create(root.join(format!("{run}.out"))).unwrap();
    let err = std::fs::File::create(root.join(format!("{run}.err"))).unwrap();
    Command::new(KEEL)
        .arg("serve")
        .arg("--config")
        .arg(cfg)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("keel starts")
}

/// Every record's sequence in the journal at `dir` (empty if there is none yet).
pub fn journal_seqs(dir: &Path) -> Vec<u64> {
    let Ok(mut reader) = Reader::open_with_schema(dir, SCHEMA_HASH) else { return Vec::new() };
    let mut seqs = Vec::new();
    while let Ok(Some(rec)) = reader.next() {
        seqs.push(rec.seq);
    }
    seqs
}

/// Polls `check` every 20 ms until it holds, failing after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGINT and waits (bounded) for a clean exit.
pub fn interrupt_and_wait(child: &mut Child) -> std::process::ExitStatus {
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "keel did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn contiguous_from_one(seqs: &[u64]) -> bool {
    seqs.iter().enumerate().all(|(i, s)| *s == i as u64 + 1)
}

/// Starts `keel serve` as run `run`, waits until it has journaled `more` records beyond
/// what `data` holds now, stops it with SIGINT and returns its exit status, stdout and
/// stderr.
pub fn serve_until_more(
    root: &Path,
    cfg: &Path,
    data: &Path,
    run: &str,
    more: usize,
) -> (std::process::ExitStatus, String, String) {
    let mut child = spawn_serve(root, cfg, run, &[]);
    let target = journal_seqs(data).len() + more;
    wait_until(&format!("{run} to journal {more} more records"), Duration::from_secs(90), || {
        journal_seqs(data).len() >= target
    });
    let status = interrupt_and_wait(&mut child);
    let out = std::fs::read_to_string(root.join(format!("{run}.out"))).unwrap();
    let err = std::fs::read_to_string(root.join(format!("{run}.err"))).unwrap();
    (status, out, err)
}
