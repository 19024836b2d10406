//! Administration over a local control socket: `<journal dir>/admin.sock`, a Unix socket
//! with mode 0600 (only the user running Keel may connect).
//!
//! Protocol: one request line of text, one reply line of JSON, then the server closes.
//!
//! | request | what |
//! |---|---|
//! | `status` | counters from the published metrics (no command) |
//! | `kill firm` / `kill account:N` / `kill session:N` | engage a kill switch |
//! | `resume firm` / `resume account:N` / `resume session:N` | release it |
//! | `limits get` | the limits as last published by the core |
//! | `limits set SCOPE KIND VALUE` | change a risk limit (`VALUE` may be `none`) |
//! | `state active\|reducing\|halted firm\|account:N` | change a trading state |
//!
//! Every action is a command on the admin session, entering the same ring as everything
//! else: journaled, applied in sequence, answered with the core's `AdminAck` (and its
//! reject code, if refused), which is the reply.

use keel_engine::pipeline::{Delivery, Gateway, GatewayIo, Pacer, PipelineMetrics, Routes};
use keel_engine::schema::{
    CommandBody, KillSwitch, KillSwitchAction, LimitKind, LimitScope, OutputBody, RejectCode,
    Scope, SetLimit, SetTradingState, TradingState,
};
use keel_engine::{AccountId, InstrumentId, SessionId};
use keel_journal::Durability;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The socket's file name inside the journal directory.
pub const SOCKET_NAME: &str = "admin.sock";

/// Limit kinds by their command-line names.
pub const LIMIT_KINDS: [(&str, LimitKind); 15] = [
    ("max_order_qty", LimitKind::MaxOrderQty),
    ("max_order_notional", LimitKind::MaxOrderNotional),
    ("price_collar_bps", LimitKind::PriceCollarBps),
    ("max_position_long", LimitKind::MaxPositionLong),
    ("max_position_short", LimitKind::MaxPositionShort),
    ("max_gross_exposure", LimitKind::MaxGrossExposure),
    ("max_credit", LimitKind::MaxCredit),
    ("max_open_orders", LimitKind::MaxOpenOrders),
    ("new_orders_per_sec", LimitKind::NewOrdersPerSec),
    ("amends_per_sec", LimitKind::AmendsPerSec),
    ("cancels_per_sec", LimitKind::CancelsPerSec),
    ("daily_loss", LimitKind::DailyLoss),
    ("max_drawdown", LimitKind::MaxDrawdown),
    ("duplicate_window_ms", LimitKind::DuplicateWindowMs),
    ("restricted", LimitKind::Restricted),
];

fn kind_name(kind: LimitKind) -> &'static str {
    LIMIT_KINDS.iter().find(|(_, k)| *k == kind).map_or("?", |(n, _)| n)
}

fn parse_num<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("{what}: {s:?} is not a number"))
}

/// `firm`, `account:N` or `session:N`.
pub fn parse_scope(s: &str) -> Result<Scope, String> {
    match s.split_once(':') {
        None if s == "firm" => Ok(Scope::Firm),
        Some(("account", n)) => Ok(Scope::Account(AccountId(parse_num("account", n)?))),
        Some(("session", n)) => Ok(Scope::Session(SessionId(parse_num("session", n)?))),
        _ => Err(format!("scope {s:?}: expected firm, account:N or session:N")),
    }
}

/// `firm`, `account:N`, `account:N:instrument:M` or `session:N`.
pub fn parse_limit_scope(s: &str) -> Result<LimitScope, String> {
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        ["firm"] => Ok(LimitScope::Firm),
        ["account", a] => Ok(LimitScope::Account(AccountId(parse_num("account", a)?))),
        ["account", a, "instrument", i] => Ok(LimitScope::AccountInstrument(
            AccountId(parse_num("account", a)?),
            InstrumentId(parse_num("instrument", i)?),
        )),
        ["session", n] => Ok(LimitScope::Session(SessionId(parse_num("session", n)?))),
        _ => Err(format!(
            "limit scope {s:?}: expected firm, account:N, account:N:instrument:M or session:N"
        )),
    }
}

fn scope_text(s: LimitScope) -> String {
    match s {
        LimitScope::Firm => "firm".into(),
        LimitScope::Account(a) => format!("account:{a}"),
        LimitScope::AccountInstrument(a, i) => format!("account:{a}:instrument:{i}"),
        LimitScope::Session(n) => format!("session:{n}"),
    }
}

/// A parsed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Counters.
    Status,
    /// Published limits.
    LimitsGet,
    /// An admin command for the core.
    Command(CommandBody),
}

/// Parses one request line.
pub fn parse_request(line: &str) -> Result<Request, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let cmd = |b| Ok(Request::Command(b));
    match words.as_slice() {
        ["status"] => Ok(Request::Status),
        ["limits", "get"] => Ok(Request::LimitsGet),
        ["kill", scope] | ["resume", scope] => {
            let action = if words[0] == "kill" {
                KillSwitchAction::Engage
            } else {
                KillSwitchAction::Release
            };
            cmd(CommandBody::KillSwitch(KillSwitch { scope: parse_scope(scope)?, action }))
        }
        ["limits", "set", scope, kind, value] => {
            let kind =
                LIMIT_KINDS.iter().find(|(n, _)| n == kind).map(|(_, k)| *k).ok_or_else(|| {
                    let names: Vec<&str> = LIMIT_KINDS.iter().map(|(n, _)| *n).collect();
                    format!("limit kind {kind:?}: expected one of {}", names.join(", "))
                })?;
            let value = if *value == "none" { i64::MAX } else { parse_num("value", value)? };
            cmd(CommandBody::SetLimit(SetLimit { scope: parse_limit_scope(scope)?, kind, value }))
        }
        ["state", state, scope] => {
            let state = match *state {
                "active" => TradingState::Active,
                "reducing" => TradingState::ReducingOnly,
                "halted" => TradingState::Halted,
                other => {
                    return Err(format!("state {other:?}: expected active, reducing or halted"));
                }
            };
            cmd(CommandBody::SetTradingState(SetTradingState { scope: parse_scope(scope)?, state }))
        }
        _ => Err(format!("unknown request {line:?}")),
    }
}

/// How long the server waits for the core's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The server side: a gateway owning the admin session.
pub struct AdminGateway {
    listener: UnixListener,
    path: PathBuf,
    session: SessionId,
    pending: Option<(UnixStream, Instant)>,
    /// When the socket is asked for a connection (not on every poll: `pipeline::pacer`).
    accepting: Pacer,
    metrics: Arc<OnceLock<Arc<PipelineMetrics>>>,
    durable: Arc<OnceLock<Durability>>,
}

impl AdminGateway {
    /// Binds `<dir>/admin.sock` with mode 0600. A socket left by a killed process is
    /// replaced; one that answers belongs to a running Keel and is an error.
    pub fn bind(dir: &Path, session: SessionId) -> Result<AdminGateway, String> {
        let path = dir.join(SOCKET_NAME);
        if path.exists() {
            if UnixStream::connect(&path).is_ok() {
                return Err(format!(
                    "{} answers: another keel is serving this directory",
                    path.display()
                ));
            }
            std::fs::remove_file(&path)
                .map_err(|e| format!("cannot remove stale {}: {e}", path.display()))?;
        }
        // SAFETY: umask only sets the process's file-creation mask; called before any
        // other thread of ours exists, and restored right after, so the socket is never
        // accessible to others, not even between bind and chmod.
        let old = unsafe { libc::umask(0o177) };
        let bound = UnixListener::bind(&path);
        // SAFETY: as above.
        unsafe { libc::umask(old) };
        let listener = bound.map_err(|e| format!("cannot bind {}: {e}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot chmod {}: {e}", path.display()))?;
        listener.set_nonblocking(true).map_err(|e| format!("admin socket: {e}"))?;
        Ok(AdminGateway {
            listener,
            path,
            session,
            pending: None,
            accepting: Pacer::accept(),
            metrics: Arc::new(OnceLock::new()),
            durable: Arc::new(OnceLock::new()),
        })
    }

    /// Where `status` reads its numbers.
    pub fn with_status(
        mut self,
        metrics: Arc<OnceLock<Arc<PipelineMetrics>>>,
        durable: Arc<OnceLock<Durability>>,
    ) -> AdminGateway {
        self.metrics = metrics;
        self.durable = durable;
        self
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn status(&self) -> serde_json::Value {
        let Some(m) = self.metrics.get() else { return json!({"ok": false, "error": "starting"}) };
        let r = Ordering::Relaxed;
        let rejects: serde_json::Map<String, serde_json::Value> = RejectCode::ALL
            .iter()
            .zip(m.rejects_by_code.iter())
            .filter(|(_, n)| n.load(r) > 0)
            .map(|(c, n)| (c.to_string(), json!(n.load(r))))
            .collect();
        json!({
            "ok": true,
            "commands": m.commands.load(r),
            "journal_last_seq": m.journal_last_seq.load(r),
            "journal_durable_seq": self.durable.get().map_or(0, |d| d.durable_seq()),
            "fills": m.fills.load(r),
            "outputs": m.outputs.load(r),
            "inbound_ring_occupancy": m.inbound_occupancy(),
            "realized_pnl_e8": m.realized_pnl_e8.load(r),
            "unrealized_pnl_e8": m.unrealized_pnl_e8.load(r),
            "tick_to_trade_p50_ns": m.tick_to_trade.quantile_ns(0.5),
            "tick_to_trade_p99_ns": m.tick_to_trade.quantile_ns(0.99),
            "rejects": rejects,
        })
    }

    fn limits(&self) -> serde_json::Value {
        let Some(m) = self.metrics.get() else { return json!({"ok": false, "error": "starting"}) };
        let limits: Vec<serde_json::Value> = m
            .limits()
            .iter()
            .filter(|l| l.value.is_some())
            .map(|l| json!({"scope": scope_text(l.scope), "kind": kind_name(l.kind), "value": l.value}))
            .collect();
        json!({"ok": true, "limits": limits, "note": "limits not listed are unlimited"})
    }
}

fn reply(mut stream: UnixStream, value: &serde_json::Value) {
    let _ = writeln!(stream, "{value}");
}

impl Gateway for AdminGateway {
    fn name(&self) -> &str {
        "admin"
    }

    fn routes(&self) -> Routes {
        Routes { sessions: vec![self.session], venues: Vec::new() }
    }

    fn on_output(&mut self, d: &Delivery, _io: &mut GatewayIo) {
        let OutputBody::AdminAck(ack) = d.output.body else { return };
        if let Some((stream, _)) = self.pending.take() {
            let reject = ack.reject.map(|r| r.to_string());
            reply(
                stream,
                &json!({"ok": reject.is_none(), "seq": d.seq, "affected": ack.affected, "reject": reject}),
            );
        }
    }

    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        if let Some((_, since)) = &self.pending {
            if since.elapsed() > ANSWER_TIMEOUT {
                let (stream, _) = self.pending.take().expect("pending");
                reply(stream, &json!({"ok": false, "error": "no answer from the core in time"}));
                return 1;
            }
            return 0;
        }
        if !self.accepting.due(io.clock().now().0) {
            return 0;
        }
        let Ok((stream, _)) = self.listener.accept() else { return 0 };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut line = String::new();
        let read = stream.try_clone().map(|s| BufReader::new(s).read_line(&mut line));
        if !matches!(read, Ok(Ok(_))) {
            return 1;
        }
        match parse_request(line.trim()) {
            Ok(Request::Status) => reply(stream, &self.status()),
            Ok(Request::LimitsGet) => reply(stream, &self.limits()),
            Ok(Request::Command(body)) => {
                // The admin gateway's outbound ring only carries answers to its own
                // single pending request, so waiting for room here cannot deadlock.
                match io.publish(self.session, body) {
                    Ok(_) => self.pending = Some((stream, Instant::now())),
                    Err(e) => reply(stream, &json!({"ok": false, "error": e.to_string()})),
                }
            }
            Err(e) => reply(stream, &json!({"ok": false, "error": e})),
        }
        1
    }

    fn on_stop(&mut self, _io: &mut GatewayIo) {
        if let Some((stream, _)) = self.pending.take() {
            reply(stream, &json!({"ok": false, "error": "keel is stopping"}));
        }
    }
}

/// `keel admin ...`: the client.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// The journal directory of the running keel (where admin.sock is).
    #[arg(long, default_value = "./keel-data")]
    pub dir: PathBuf,
    #[command(subcommand)]
    pub action: AdminAction,
}

/// What to ask.
#[derive(Debug, clap::Subcommand)]
pub enum AdminAction {
    /// Counters, journal sequence, P&L, latency.
    Status,
    /// Engage a kill switch: block new orders and cancel working ones in scope.
    Kill {
        /// One account.
        #[arg(long, conflicts_with_all = ["session", "all"])]
        account: Option<u32>,
        /// One session.
        #[arg(long, conflicts_with_all = ["account", "all"])]
        session: Option<u32>,
        /// The whole firm.
        #[arg(long)]
        all: bool,
    },
    /// Release a kill switch (the firm's when no scope is given).
    Resume {
        /// One account.
        #[arg(long, conflicts_with = "session")]
        account: Option<u32>,
        /// One session.
        #[arg(long)]
        session: Option<u32>,
    },
    /// Read or change risk limits.
    #[command(subcommand)]
    Limits(LimitsAction),
    /// Set the trading state of the firm or an account: active, reducing or halted.
    State {
        /// active | reducing | halted
        state: String,
        /// One account (the firm when absent).
        #[arg(long)]
        account: Option<u32>,
    },
}

/// `keel admin limits ...`.
#[derive(Debug, clap::Subcommand)]
pub enum LimitsAction {
    /// The limits in force, as last published by the core.
    Get,
    /// Change one limit: SCOPE (firm, account:N, account:N:instrument:M, session:N),
    /// KIND (e.g. max_order_qty), VALUE (in the limit's unit, or `none`).
    Set { scope: String, kind: String, value: String },
}

fn scope_arg(account: Option<u32>, session: Option<u32>) -> String {
    match (account, session) {
        (Some(a), _) => format!("account:{a}"),
        (None, Some(s)) => format!("session:{s}"),
        (None, None) => "firm".into(),
    }
}

/// The request line for an action.
pub fn request_line(action: &AdminAction) -> Result<String, String> {
    Ok(match action {
        AdminAction::Status => "status".into(),
        AdminAction::Kill { account, session, all } => {
            if account.is_none() && session.is_none() && !all {
                return Err("kill needs --account A, --session S or --all".into());
            }
            format!("kill {}", scope_arg(*account, *session))
        }
        AdminAction::Resume { account, session } => {
            format!("resume {}", scope_arg(*account, *session))
        }
        AdminAction::Limits(LimitsAction::Get) => "limits get".into(),
        AdminAction::Limits(LimitsAction::Set { scope, kind, value }) => {
            format!("limits set {scope} {kind} {value}")
        }
        AdminAction::State { state, account } => {
            format!("state {state} {}", scope_arg(*account, None))
        }
    })
}

/// Sends one request and returns the reply line.
pub fn ask(dir: &Path, line: &str) -> Result<String, String> {
    let path = dir.join(SOCKET_NAME);
    let mut stream = UnixStream::connect(&path).map_err(|e| {
        format!("cannot connect to {}: {e} (is keel serve running?)", path.display())
    })?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT * 2)).map_err(|e| e.to_string())?;
    writeln!(stream, "{line}").map_err(|e| e.to_string())?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).map_err(|e| format!("no reply: {e}"))?;
    Ok(reply.trim_end().to_string())
}

/// Runs `keel admin`.
pub fn run(args: AdminArgs) -> ExitCode {
    let result = request_line(&args.action).and_then(|line| {
        parse_request(&line)?;
        ask(&args.dir, &line)
    });
    match result {
        Ok(reply) => {
            println!("{reply}");
            let ok = serde_json::from_str::<serde_json::Value>(&reply)
                .ok()
                .and_then(|v| v.get("ok").and_then(|b| b.as_bool()))
                .unwrap_or(false);
            if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("keel admin: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse() {
        assert_eq!(parse_request("status").unwrap(), Request::Status);
        assert!(matches!(
            parse_request("kill account:3").unwrap(),
            Request::Command(CommandBody::KillSwitch(KillSwitch {
                scope: Scope::Account(AccountId(3)),
                action: KillSwitchAction::Engage
            }))
        ));
        assert!(matches!(
            parse_request("limits set account:1:instrument:0 max_order_qty 10").unwrap(),
            Request::Command(CommandBody::SetLimit(SetLimit { value: 10, .. }))
        ));
        assert!(parse_request("limits set firm nope 1").unwrap_err().contains("nope"));
        assert!(parse_request("state sleepy firm").is_err());
        assert!(parse_request("kill galaxy").is_err());
    }
}
