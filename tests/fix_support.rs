//! Shared helpers for the FIX tests against `keel serve` (included with `#[path]`).
#![allow(dead_code)]

#[path = "serve_support.rs"]
mod serve;

pub use serve::*;

use keel_gateways::fix::client::{FixClient, OwnedMessage};
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
