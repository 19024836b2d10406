//! Interoperation with a standard FIX engine: QuickFIX (the `quickfix-py` package, with
//! its FIX 4.4 data dictionary validating every message Keel sends) logs on to
//! `keel serve` as a client, trades, and logs out cleanly.
//!
//! The Python environment is created by `scripts/quickfix-env` (called here, and by
//! `scripts/test`); when it cannot be created (no python3, PyPI unreachable) this test
//! fails with the reason. It never skips.

#[path = "fix_support.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The QuickFIX venv, created if needed.
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

#[test]
fn quickfix_logs_on_trades_and_logs_out_with_dictionary_validation() {
    let venv = quickfix_venv();
    let dictionary = venv.join("share/quickfix/FIX44.xml");
    assert!(dictionary.exists(), "{} is missing", dictionary.display());

    let root = tempfile::tempdir().unwrap();
    let cfg = fix_config(root.path());
    let mut keel = spawn_serve(root.path(), &cfg, "keel", &["--duration", "240"]);
    let addr = fix_addr(root.path(), "keel");

    let qf = root.path().join("quickfix");
    std::fs::create_dir_all(&qf).unwrap();
    let settings = qf.join("client.cfg");
    std::fs::write(
        &settings,
        format!(
            "[DEFAULT]\n\
             ConnectionType=initiator\n\
             ReconnectInterval=5\n\
             FileStorePath={store}\n\
             FileLogPath={log}\n\
             StartTime=00:00:00\n\
             EndTime=00:00:00\n\
             UseDataDictionary=Y\n\
             DataDictionary={dict}\n\
             ValidateUserDefinedFields=Y\n\
             ValidateFieldsOutOfOrder=Y\n\
             ValidateFieldsHaveValues=Y\n\
             ResetOnLogon=Y\n\
             HeartBtInt=30\n\
             LogoutTimeout=10\n\
             SocketConnectHost={host}\n\
             SocketConnectPort={port}\n\
             \n\
             [SESSION]\n\
             BeginString=FIX.4.4\n\
             SenderCompID=demo-fix\n\
             TargetCompID=KEEL\n",
            store = qf.join("store").display(),
            log = qf.join("log").display(),
            dict = dictionary.display(),
            host = addr.ip(),
            port = addr.port(),
        ),
    )
    .unwrap();

    let mut client = Command::new(venv.join("bin/python"))
        .arg(repo().join("scripts/quickfix_client.py"))
        .arg(&settings)
        .args(["demo-fix", "demo"])
        .stdout(std::fs::File::create(qf.join("client.out")).unwrap())
        .stderr(std::fs::File::create(qf.join("client.err")).unwrap())
        .spawn()
        .expect("the QuickFIX client starts");
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(s) = client.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = client.kill();
            break client.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    // QuickFIX names its log files after the session (FIX.4.4-demo-fix-KEEL.event.current.log).
    let log_file = |kind: &str| -> String {
        std::fs::read_dir(qf.join("log"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("FIX.4.4-") && name.contains(kind)
            })
            .map(|e| read(e.path()))
            .collect()
    };
    let events = log_file(".event.");
    let report = format!(
        "client stdout:\n{}\nclient stderr:\n{}\nQuickFIX events:\n{events}\nQuickFIX messages:\n{}",
        read(qf.join("client.out")),
        read(qf.join("client.err")),
        log_file(".messages.").replace('\x01', "|"),
    );
    let keel_status = interrupt_and_wait(&mut keel);
    assert!(status.success(), "the QuickFIX client failed\n{report}");
    assert!(events.contains("Received logout response"), "no clean logout\n{report}");
    assert!(!events.contains("Message rejected"), "QuickFIX rejected a message\n{report}");
    assert!(keel_status.success());
    let keel_log = read(root.path().join("keel.err"));
    assert!(
        keel_log.contains("FIX client logged on") && keel_log.contains("logged out"),
        "{keel_log}"
    );
}
