//! Interoperation with a standard FIX engine on the venue side: a QuickFIX acceptor (the
//! `quickfix-py` package, its FIX 4.4 data dictionary validating every message Keel
//! sends) plays a simple venue (`scripts/quickfix_venue.py`), and Keel's FIX initiator,
//! in a pipeline with the core, logs on with credentials, subscribes to market data,
//! places, amends and cancels an order, takes liquidity, restarts and reconciles a
//! working order with an OrderStatusRequest, and logs out cleanly. Both sides are
//! checked: what QuickFIX received (its event file) and what Keel made of the answers.
//!
//! The Python environment is created by `scripts/quickfix-env`; when it cannot be created
//! (no python3, PyPI unreachable) this test fails with the reason. It never skips.

#[path = "support/venue_link.rs"]
mod support;

use keel_engine::schema::{CommandBody, ExecType, OrdStatus, OutputBody};
use keel_engine::{Qty, Side, TimeInForce};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(60);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn quickfix_venv() -> PathBuf {
    let out = Command::new(repo().join("scripts/quickfix-env"))
        .stderr(Stdio::piped())
        .output()
        .expect("scripts/quickfix-env runs");
    assert!(
        out.status.success(),
        "scripts/quickfix-env failed; the QuickFIX interop test needs python3 and PyPI:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

struct QuickFix {
    child: Child,
    events: PathBuf,
    stop: PathBuf,
    out: PathBuf,
}

impl QuickFix {
    fn start(venv: &Path, dir: &Path, port: u16) -> QuickFix {
        let qf = dir.join("quickfix");
        std::fs::create_dir_all(&qf).unwrap();
        let settings = qf.join("venue.cfg");
        std::fs::write(
            &settings,
            format!(
                "[DEFAULT]\n\
                 ConnectionType=acceptor\n\
                 SocketAcceptPort={port}\n\
                 SocketAcceptHost=127.0.0.1\n\
                 FileStorePath={store}\n\
                 FileLogPath={log}\n\
                 StartTime=00:00:00\n\
                 EndTime=00:00:00\n\
                 UseDataDictionary=Y\n\
                 DataDictionary={dict}\n\
                 ValidateFieldsOutOfOrder=Y\n\
                 ValidateFieldsHaveValues=Y\n\
                 ValidateUserDefinedFields=Y\n\
                 AllowUnknownMsgFields=N\n\
                 CheckLatency=Y\n\
                 MaxLatency=120\n\
                 \n\
                 [SESSION]\n\
                 BeginString=FIX.4.4\n\
                 SenderCompID=SIM\n\
                 TargetCompID=KEEL\n",
                store = qf.join("store").display(),
                log = qf.join("log").display(),
                dict = venv.join("share/quickfix/FIX44.xml").display(),
            ),
        )
        .unwrap();
        let events = qf.join("events.jsonl");
        let stop = qf.join("stop");
        let out = qf.join("venue.out");
        let child = Command::new(venv.join("bin/python"))
            .arg(repo().join("scripts/quickfix_venue.py"))
            .arg(&settings)
            .arg(&events)
            .arg(&stop)
            .args(["keel", "secret"])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(qf.join("venue.err")).unwrap())
            .spawn()
            .expect("python starts");
        let q = QuickFix { child, events, stop, out };
        wait_until("QuickFIX to listen", WAIT, || {
            std::fs::read_to_string(&q.out).unwrap_or_default().contains("listening")
        });
        q
    }

    fn events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn received(&self, msg_type: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == "received" && e["msg_type"] == msg_type)
            .collect()
    }

    fn stop(mut self) {
        std::fs::write(&self.stop, b"stop").unwrap();
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let err = std::fs::read_to_string(self.out.with_file_name("venue.err"));
                let out = std::fs::read_to_string(&self.out);
                assert!(
                    status.success(),
                    "the QuickFIX venue failed: {status}\nstdout: {out:?}\nstderr: {err:?}"
                );
                return;
            }
            assert!(std::time::Instant::now() < deadline, "the QuickFIX venue did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn field(event: &serde_json::Value, tag: u64) -> Option<&str> {
    event["fields"].as_array()?.iter().find(|p| p[0] == tag).and_then(|p| p[1].as_str())
}

fn wait_report(keel: &Keel, cl: &str, exec_type: ExecType) {
    wait_until(&format!("{exec_type:?} for {cl}"), WAIT, || {
        keel.reports().iter().any(|r| r.cl_ord_id.as_str() == cl && r.exec_type == exec_type)
    });
}

#[test]
fn keel_trades_with_a_quickfix_acceptor_validating_fix44() {
    let venv = quickfix_venv();
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let qf = QuickFix::start(&venv, dir.path(), port);
    let venue = format!("127.0.0.1:{port}").parse().unwrap();

    let keel = start_keel(dir.path(), venue);
    keel.wait_trading();
    wait_until("QuickFIX to answer the subscription", WAIT, || !qf.received("V").is_empty());

    keel.send(limit("A", Side::Buy, 4_900_000, 10, TimeInForce::Gtc));
    wait_report(&keel, "A", ExecType::New);
    keel.send(replace("A1", "A", 4_950_000, 20));
    wait_report(&keel, "A1", ExecType::Replaced);
    keel.send(cancel("A2", "A1"));
    // A requested cancel is reported under the request's id (11 = A2, 41 = A1).
    wait_report(&keel, "A2", ExecType::Canceled);
    keel.send(limit("B", Side::Buy, 5_010_000, 1, TimeInForce::Gtc));
    wait_until("B filled", WAIT, || {
        keel.reports()
            .iter()
            .any(|r| r.cl_ord_id.as_str() == "B" && r.ord_status == OrdStatus::Filled)
    });
    // C rests over the restart below.
    keel.send(limit("C", Side::Sell, 5_100_000, 3, TimeInForce::Gtc));
    wait_report(&keel, "C", ExecType::New);
    let replaced = keel.reports().into_iter().find(|r| r.exec_type == ExecType::Replaced).unwrap();
    assert_eq!((replaced.price.0, replaced.qty), (4_950_000, Qty(20)));
    let fill = keel.reports().into_iter().find(|r| r.exec_type == ExecType::Trade).unwrap();
    assert_eq!((fill.last_px.0, fill.last_qty), (5_010_000, Qty(1)));
    assert_eq!(keel.link.refused.load(Ordering::Relaxed), 0, "Keel refused nothing QuickFIX sent");
    let _ = keel.stop();
    wait_until("QuickFIX to see the logout", WAIT, || {
        qf.events().iter().any(|e| e["event"] == "logout")
    });

    // Keel restarts: sequence numbers continue (both stores persist), and the working
    // order C is reconciled with an OrderStatusRequest before trading resumes.
    let keel = start_keel(dir.path(), venue);
    keel.wait_trading();
    assert!(keel.link.reconciled.load(Ordering::Relaxed) >= 1, "C was reconciled");
    keel.send(cancel("C1", "C"));
    wait_report(&keel, "C1", ExecType::Canceled);
    assert_eq!(keel.link.refused.load(Ordering::Relaxed), 0);
    let _ = keel.stop();
    wait_until("QuickFIX to see the second logout", WAIT, || {
        qf.events().iter().filter(|e| e["event"] == "logout").count() >= 2
    });

    // QuickFIX's side: everything passed its FIX 4.4 dictionary, nothing was rejected.
    let events = qf.events();
    let rejects: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "reject_sent" || e["event"] == "reject_received")
        .collect();
    assert!(rejects.is_empty(), "session-level rejects: {rejects:?}");
    assert_eq!(events.iter().filter(|e| e["event"] == "logon").count(), 2);
    let orders = qf.received("D");
    let fresh: Vec<_> = orders.iter().filter(|e| e["poss_dup"] == false).collect();
    assert_eq!(fresh.len(), 3, "{orders:?}");
    let a = fresh[0];
    assert_eq!(field(a, 55), Some("BTC-USD"));
    assert_eq!((field(a, 54), field(a, 40), field(a, 59)), (Some("1"), Some("2"), Some("1")));
    assert_eq!((field(a, 38), field(a, 44)), (Some("0.010"), Some("49000.00")));
    let g = &qf.received("G")[0];
    assert_eq!(
        (field(g, 41), field(g, 38), field(g, 44)),
        (field(a, 11), Some("0.020"), Some("49500.00"))
    );
    let f = qf.received("F");
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(field(&f[0], 41), field(g, 11), "the cancel names the replaced ClOrdID");
    let h = qf.received("H");
    assert!(!h.is_empty(), "an OrderStatusRequest on the second logon");
    assert_eq!(field(&h[0], 11), field(fresh[2], 11), "it asks about C");
    qf.stop();

    // Keel's journal: QuickFIX's market data and answers came in as commands.
    let inputs = journal_inputs(&journal_dir(dir.path()));
    let has = |f: &dyn Fn(&CommandBody) -> bool| inputs.iter().any(|c| f(&c.body));
    assert!(has(&|b| matches!(b, CommandBody::Snapshot(_))));
    assert!(has(
        &|b| matches!(b, CommandBody::L2Update(u) if u.price.0 == 4_999_000 && u.qty == Qty(2500))
    ));
    assert!(has(&|b| matches!(b, CommandBody::VenueReplaceAck(_))));
    assert!(has(&|b| matches!(b, CommandBody::VenueFill(_))));
    let outputs = journal_outputs(&journal_dir(dir.path()));
    let anomalies: Vec<_> =
        outputs.iter().filter(|o| matches!(o.body, OutputBody::Anomaly(_))).collect();
    assert!(anomalies.is_empty(), "{anomalies:?}");
}
