//! `keel bench wire --protocol binary|fix|echo [--target ADDR]`: order-to-ack round trips
//! over TCP, open loop at a fixed rate, beside a bare TCP echo on loopback measured in the
//! same run.
//!
//! - [`WireProtocol`] / [`WireClient`]: what a protocol adapter provides (connect and log
//!   on; send one order with an id; report which ids were acknowledged). [`binary`] is the
//!   native binary protocol's, [`fix`] FIX 4.4's; [`protocol`] picks one by name.
//! - [`load`]: the open-loop client loop (one thread: sends what is due, reads acks).
//! - [`echo`]: the floor: an echo server thread on loopback and the echo client, frames of
//!   the same size as the protocol's orders.
//! - [`server`]: `keel serve`'s machinery started in this process on a temporary journal
//!   when `--target` is absent.
//!
//! `--protocol echo` measures the load generator against an echo server (the one at
//! `--target`, or a second in-process one): a self-check whose ratio should be about 1.

pub mod binary;
pub mod echo;
pub mod fix;
pub mod load;
pub mod server;

use super::load::{Schedule, TscClock};
use super::report::{Measurement, Report, Role};
use super::{BenchError, Common};
use crate::config::Resolved;
use keel_engine::pipeline::placement;
use load::{WireRun, run_open_loop};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// Default orders per second.
pub const DEFAULT_RATE: u64 = 10_000;
/// How long to wait for the last acks after the last send.
const DRAIN: Duration = Duration::from_secs(2);
/// Most operations one run may schedule (the per-order send times are kept in memory).
const MAX_OPS: u64 = 50_000_000;

/// Options of `keel bench wire`.
#[derive(Clone, Debug, clap::Args)]
pub struct WireArgs {
    /// binary, fix, or echo (the load generator against a TCP echo server: a self-check).
    #[arg(long)]
    pub protocol: String,
    /// host:port of a running `keel serve` (or, for echo, of an echo server). Without it a
    /// server is started in this process on loopback with a temporary journal.
    #[arg(long)]
    pub target: Option<String>,
    /// Bytes per echo frame in the floor (default: the protocol's order size).
    #[arg(long)]
    pub message_bytes: Option<usize>,
    /// Configuration of the server started in this process (default: the embedded one,
    /// with its simulated venue's flow and market makers). Its journal directory, metrics
    /// listener and wait strategy are the bench's; its listeners take free ports.
    #[arg(long, conflicts_with = "target")]
    pub config: Option<std::path::PathBuf>,
}

/// Why a wire client failed.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A socket call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The peer closed the connection.
    #[error("the peer closed the connection")]
    Closed,
    /// The peer said something the client does not accept.
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl WireError {
    /// An I/O error while doing `what`.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> WireError {
        let what = what.into();
        move |source| WireError::Io { what, source }
    }
}

impl From<WireError> for BenchError {
    fn from(e: WireError) -> BenchError {
        BenchError::Setup(format!("wire: {e}"))
    }
}

/// One logged-on client connection. Never blocks for long: the load generator's loop
/// calls it from one thread, between sends that are due.
pub trait WireClient {
    /// Sends order `id` now (ids are 0, 1, 2, ... in send order). Bytes the socket does
    /// not take at once are kept and written by later calls.
    fn send_order(&mut self, id: u64) -> Result<(), WireError>;

    /// Writes pending bytes and reads what has arrived, without blocking; calls `acked`
    /// once per order acknowledged. Returns how much it did (0 when idle).
    fn poll(&mut self, acked: &mut dyn FnMut(u64)) -> Result<usize, WireError>;

    /// The socket acks arrive on, for a loop that blocks until it is readable
    /// (`--wait block`); `None` makes such a loop sleep to the next due time instead.
    fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        None
    }

    /// Orders (warm-up included) whose acknowledgement was a refusal (the server's reject
    /// is its answer, and counts as the ack; this says how many took that shorter path).
    fn rejected(&self) -> u64 {
        0
    }
}

/// A wire protocol the load generator can speak.
pub trait WireProtocol {
    /// Its `--protocol` name.
    fn name(&self) -> &'static str;

    /// Bytes one order takes on the wire (the floor's echo frames are this size).
    fn order_bytes(&self) -> usize;

    /// Where this protocol listens in a `keel serve` configuration (used when the server is
    /// started in-process).
    fn listen_addr(&self, config: &Resolved) -> Result<SocketAddr, String>;

    /// Connects to `addr` and logs on.
    fn connect(
        &self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<Box<dyn WireClient>, WireError>;

    /// The p50 ratio to the TCP echo floor this protocol is expected to stay within.
    fn target_p50_ratio(&self) -> Option<f64>;
}

/// The adapter for `--protocol name`.
pub fn protocol(
    name: &str,
    message_bytes: Option<usize>,
) -> Result<Box<dyn WireProtocol>, BenchError> {
    match name {
        "echo" => Ok(Box::new(echo::EchoProtocol::new(
            message_bytes.unwrap_or(echo::DEFAULT_FRAME_BYTES),
        )?)),
        "binary" => Ok(Box::new(binary::BinaryProtocol)),
        "fix" => Ok(Box::new(fix::FixProtocol::new()?)),
        other => Err(BenchError::Arg(format!("--protocol {other}: expected binary, fix or echo"))),
    }
}

fn resolve(target: &str) -> Result<SocketAddr, BenchError> {
    target
        .to_socket_addrs()
        .map_err(|e| BenchError::Arg(format!("--target {target}: {e}")))?
        .next()
        .ok_or_else(|| BenchError::Arg(format!("--target {target}: no address")))
}

fn schedule(common: &Common, rate: u64, clock: &TscClock) -> Result<Schedule, BenchError> {
    use super::load::Clock;
    let s = Schedule::new(clock.now_ns() + 1_000_000, rate, common.warmup(), common.duration());
    if s.total_ops() > MAX_OPS {
        return Err(BenchError::Arg(format!(
            "--rate {rate} for {} s: {} orders is more than {MAX_OPS} in one run",
            common.warmup + common.duration,
            s.total_ops()
        )));
    }
    Ok(s)
}

/// One open-loop run against `addr`.
fn measure(
    common: &Common,
    rate: u64,
    proto: &dyn WireProtocol,
    addr: SocketAddr,
) -> Result<WireRun, BenchError> {
    let clock = TscClock::new();
    let mut client = proto.connect(addr, Duration::from_secs(10))?;
    let s = schedule(common, rate, &clock)?;
    Ok(run_open_loop(&clock, client.as_mut(), s, common.wait_strategy(), DRAIN)?)
}

fn measurement(name: &str, role: Role, what: &str, run: &WireRun, rounds: u64) -> Measurement {
    Measurement::from_recorder(name, role, what, &run.recorder, run.acked_measured, run.elapsed_ns)
        .count("rounds", rounds)
        .count("sent", run.sent)
        .count("measured", run.measured)
        .count("acked_measured", run.acked_measured)
        .count("unanswered", run.unanswered)
        .count("unknown_acks", run.unknown_acks)
        .count("rejected", run.rejected)
        .count("duplicate_acks", run.duplicate_acks)
}

/// Runs the mode.
pub fn run(common: &Common, args: &WireArgs) -> Result<Report, BenchError> {
    let proto = protocol(&args.protocol, args.message_bytes)?;
    let rate = common.rate.unwrap_or(DEFAULT_RATE);
    if rate == 0 {
        return Err(BenchError::Arg("--rate 0: the wire mode needs an order rate > 0".into()));
    }
    let frame = args.message_bytes.unwrap_or(proto.order_bytes());
    let pinning = common.pin_threads(&["client", "server"])?;
    let floor_proto = echo::EchoProtocol::new(frame)?;
    // Subject: the target, or a server started here (first, so that a CPU it reserves for
    // its core is known before this process starts anything else).
    enum Server {
        External,
        Echo(echo::EchoServer),
        Keel(Box<server::InProcessServer>),
    }
    let (server, addr, where_text) = match (&args.target, proto.name()) {
        (Some(t), _) => {
            let addr = resolve(t)?;
            (Server::External, addr, format!("target {addr}"))
        }
        (None, "echo") => {
            let s = echo::EchoServer::start(common.wait_strategy(), pinning.cpu(1))?;
            let addr = s.addr();
            (Server::Echo(s), addr, "a second in-process echo server on loopback".to_string())
        }
        (None, _) => {
            let s = server::InProcessServer::start(common, args.config.as_deref(), proto.name())?;
            let addr = proto.listen_addr(s.resolved()).map_err(BenchError::Setup)?;
            let config = args
                .config
                .as_ref()
                .map_or("the embedded default".into(), |p| format!("{}", p.display()));
            let core = match (&common.core_wait, s.reserved_cpu()) {
                (Some(w), Some(cpu)) => format!(", the core {w} on cpu {cpu}, kept for it alone"),
                (Some(w), None) => format!(", the core {w}"),
                (None, _) => String::new(),
            };
            let text = format!(
                "keel serve started in this process on {addr} (configuration: {config}; temporary journal; threads: {}; wait {}{core})",
                s.threads(),
                common.wait
            );
            (Server::Keel(Box::new(s)), addr, text)
        }
    };
    // A core CPU the server keeps for itself is kept free of the bench's threads too: the
    // client (this thread) and the floor's echo server started below.
    if let Server::Keel(s) = &server {
        if let Some(cpu) = s.reserved_cpu() {
            if pinning.cpus.contains(&Some(cpu)) {
                return Err(BenchError::Arg(format!(
                    "--pin/--cpus: cpu {cpu} is the in-process core's (it never sleeps); pin the bench's threads elsewhere with --cpus"
                )));
            }
            placement::keep_current_off(cpu, &placement::allowed_cpus());
        }
    }
    // Floor: a bare TCP echo on loopback, same client loop, same frame size.
    let floor_server = echo::EchoServer::start(common.wait_strategy(), pinning.cpu(1))?;
    // Floor and subject alternate, so both see the same machine conditions.
    let round = common.round();
    let (mut floor, mut subject) = (WireRun::empty(), WireRun::empty());
    let mut result = Ok(());
    for _ in 0..common.rounds {
        match measure(&round, rate, &floor_proto, floor_server.addr())
            .and_then(|f| measure(&round, rate, proto.as_ref(), addr).map(|s| (f, s)))
        {
            Ok((f, s)) => {
                floor.add(&f);
                subject.add(&s);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    floor_server.stop();
    match server {
        Server::External => {}
        Server::Echo(s) => s.stop(),
        Server::Keel(s) => {
            s.stop()?;
        }
    }
    result?;

    let mut report = Report::new(
        "wire",
        &format!(
            "{} order-to-ack round trips over TCP against a bare TCP echo on loopback",
            proto.name()
        ),
        common,
        &pinning,
        2,
    );
    report.settings.rate_per_s = rate;
    report.notes.push(format!("subject: {where_text}; one connection, open loop at {rate}/s"));
    report.notes.push(format!(
        "floor: a TCP echo server thread on 127.0.0.1 and the same client loop, {frame}-byte frames, TCP_NODELAY"
    ));
    report.notes.push(format!(
        "{} rounds, floor then subject in each (a new connection each), {:.2} s warm-up and {:.2} s measured per round",
        common.rounds, round.warmup, round.duration
    ));
    report.measurements = vec![
        measurement(
            "order_to_ack",
            Role::Subject,
            &format!("{}: an order written to the socket → its acknowledgement read", proto.name()),
            &subject,
            u64::from(common.rounds),
        ),
        measurement(
            "floor_tcp_echo",
            Role::Floor,
            &format!(
                "a {frame}-byte frame written → the same frame read back from the echo server"
            ),
            &floor,
            u64::from(common.rounds),
        ),
    ];
    report.add_ratio("order_to_ack", "floor_tcp_echo");
    if let Some(limit) = proto.target_p50_ratio() {
        report.add_p50_target(
            "order_to_ack",
            "floor_tcp_echo",
            limit,
            &format!("{} order-to-ack p50 within {limit}x the bare TCP echo", proto.name()),
        );
    }
    Ok(report)
}

/// The client order ids of one load-generator connection: `<tag><nonce>-<id>`, the nonce
/// the connection's start in µs, so a rerun against the same server never repeats an id
/// (a duplicate would be refused by risk), and an answer's id maps back to the order.
#[derive(Clone, Copy, Debug)]
pub struct OrderIds {
    prefix: [u8; 24],
    prefix_len: usize,
}

/// Longest client order id the adapters make, bytes (both protocols allow 31).
pub const ORDER_ID_MAX: usize = 31;

impl OrderIds {
    /// Ids for a new connection, prefixed with `tag`.
    pub fn new(tag: char) -> OrderIds {
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        OrderIds::with_prefix(&format!("{tag}{nonce}-"))
    }

    fn with_prefix(p: &str) -> OrderIds {
        let mut prefix = [0u8; 24];
        prefix[..p.len()].copy_from_slice(p.as_bytes());
        OrderIds { prefix, prefix_len: p.len() }
    }

    /// Writes the id of order `id` into `buf` without allocating; returns its length. With
    /// the 18-byte prefix (`tag`, 16 nonce digits, `-`) any `id` below 10^13 fits: a run
    /// would need ten million orders a second for 11 days to reach it.
    pub fn write(&self, id: u64, buf: &mut [u8; ORDER_ID_MAX]) -> usize {
        use std::io::Write;
        buf[..self.prefix_len].copy_from_slice(&self.prefix[..self.prefix_len]);
        let mut rest = &mut buf[self.prefix_len..];
        let room = rest.len();
        write!(rest, "{id}").expect("a nonce and a u64 fit 31 bytes");
        self.prefix_len + room - rest.len()
    }

    /// The order an id of this connection names (`None` for anyone else's id).
    pub fn id_of(&self, cl_ord_id: &[u8]) -> Option<u64> {
        let digits = cl_ord_id.strip_prefix(&self.prefix[..self.prefix_len])?;
        std::str::from_utf8(digits).ok()?.parse().ok()
    }
}

/// The load generator's credentials: `KEEL_BENCH_USER` (else `default_user`) and
/// `KEEL_PASSWORD` (else the demo password).
pub fn credentials(default_user: &str) -> (String, String) {
    let user = std::env::var("KEEL_BENCH_USER").unwrap_or_else(|_| default_user.into());
    let password = std::env::var("KEEL_PASSWORD").unwrap_or_else(|_| "demo".into());
    (user, password)
}

#[cfg(test)]
mod order_id_tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_foreign_ids_are_not_ours() {
        let ids = OrderIds::with_prefix("f1763800000000000-");
        let mut buf = [0u8; ORDER_ID_MAX];
        let n = ids.write(42, &mut buf);
        assert_eq!(&buf[..n], b"f1763800000000000-42");
        assert_eq!(ids.id_of(&buf[..n]), Some(42));
        let n = ids.write(9_999_999_999_999, &mut buf);
        assert_eq!((n, ids.id_of(&buf[..n])), (ORDER_ID_MAX, Some(9_999_999_999_999)));
        assert_eq!(ids.id_of(b"f1763800000000001-42"), None);
        assert_eq!(ids.id_of(b"f1763800000000000-"), None);
        assert_eq!(ids.id_of(b"f1763800000000000-4x"), None);
        assert!(OrderIds::new('b').id_of(b"b1-1").is_none());
    }
}
