//! Shared helpers for the FIX tests against `keel serve` (included with `#[path]`).
#![allow(dead_code)]

#[path = "serve_support.rs"]
mod serve;

pub use serve::*;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
