//! End to end over a real socket: a FIX client logs on to `keel serve` (the embedded demo
//! client `demo-fix`), places, amends and cancels orders that the in-process simulated
//! venue acknowledges and fills, and receives the ExecutionReports; then `keel audit
//! orders` on the journal tells the same story, report for report (each ExecutionReport's
//! ExecID is the journal sequence of the output it renders).

#[path = "fix_support.rs"]
mod support;

use keel_gateways::fix::client::{ClientConfig, FixClient};
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
    let (seen, fills) = rest_amend_cancel_take(&mut c, "E", &data);
    assert!(!fills.is_empty(), "the simulated venue filled the marketable order");
    c.logout(REPORT_WAIT).expect("logout");
    let status = interrupt_and_wait(&mut child);
    assert!(status.success());

    // The journal's story, from `keel audit orders`.
    assert_audit_agrees(&cfg, &data, &seen, Some(0));
}
