//! Prometheus metrics over HTTP on a non-hot thread: a tiny responder over
//! `std::net::TcpListener` (no async runtime). It reads only the atomics the core thread
//! publishes ([`PipelineMetrics`]) and the journal's durable sequence, never core state.

use keel_engine::core::COMMAND_KIND_NAMES;
use keel_engine::pipeline::PipelineMetrics;
use keel_engine::pipeline::metrics::{LATENCY_BUCKETS, bucket_upper_ns};
use keel_engine::schema::RejectCode;
use keel_journal::Durability;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Binds `addr` and serves `/metrics` until `stop` is set.
pub fn spawn(
    addr: &str,
    metrics: Arc<PipelineMetrics>,
    durable: Arc<OnceLock<Durability>>,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, String> {
    let listener =
        TcpListener::bind(addr).map_err(|e| format!("metrics.listen {addr}: cannot bind: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| format!("metrics listener: {e}"))?;
    tracing::info!(addr = %listener.local_addr().map_or(addr.to_string(), |a| a.to_string()), "metrics on http://{addr}/metrics");
    std::thread::Builder::new()
        .name("keel-metrics".into())
        .spawn(move || {
            while !stop.load(Ordering::Acquire) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = respond(stream, &metrics, durable.get());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        })
        .map_err(|e| format!("cannot spawn the metrics thread: {e}"))
}

fn respond(
    mut stream: TcpStream,
    m: &PipelineMetrics,
    durable: Option<&Durability>,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 2048];
    let n = stream.read(&mut buf)?;
    let request = String::from_utf8_lossy(&buf[..n]);
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = if path == "/metrics" || path == "/" {
        ("200 OK", render(m, durable))
    } else {
        ("404 Not Found", "not found; try /metrics\n".to_string())
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The Prometheus text exposition of the metrics.
pub fn render(m: &PipelineMetrics, durable: Option<&Durability>) -> String {
    let mut s = String::with_capacity(8192);
    let r = Ordering::Relaxed;
    let _ = writeln!(s, "# HELP keel_commands_total Commands applied by the core, by kind.");
    let _ = writeln!(s, "# TYPE keel_commands_total counter");
    for (name, v) in COMMAND_KIND_NAMES.iter().zip(m.commands_by_kind.iter()) {
        let _ = writeln!(s, "keel_commands_total{{kind=\"{name}\"}} {}", v.load(r));
    }
    let _ = writeln!(s, "# HELP keel_rejects_total Rejects by stable code.");
    let _ = writeln!(s, "# TYPE keel_rejects_total counter");
    for (code, v) in RejectCode::ALL.iter().zip(m.rejects_by_code.iter()) {
        let _ = writeln!(s, "keel_rejects_total{{code=\"{code}\"}} {}", v.load(r));
    }
    let counters = [
        ("keel_fills_total", "Fills applied.", m.fills.load(r)),
        ("keel_outputs_total", "Outputs emitted by the core.", m.outputs.load(r)),
        ("keel_anomalies_total", "Venue reports refused as anomalies.", m.anomalies.load(r)),
        (
            "keel_outbound_full_waits_total",
            "Outputs that waited for room in an outbound ring.",
            m.outbound_full_waits.load(r),
        ),
    ];
    for (name, help, v) in counters {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
    }
    let gauges = [
        (
            "keel_journal_last_seq",
            "Sequence of the last journal record written.",
            m.journal_last_seq.load(r) as i64,
        ),
        (
            "keel_journal_durable_seq",
            "Last journal sequence known to survive a power loss.",
            durable.map_or(0, |d| d.durable_seq()) as i64,
        ),
        (
            "keel_inbound_ring_occupancy",
            "Commands waiting in the inbound ring.",
            m.inbound_occupancy() as i64,
        ),
        ("keel_inbound_ring_capacity", "Slots in the inbound ring.", m.inbound_capacity as i64),
        (
            "keel_realized_pnl_e8",
            "Firm realized P&L, 1e-8 of the reporting currency.",
            m.realized_pnl_e8.load(r),
        ),
        (
            "keel_unrealized_pnl_e8",
            "Firm unrealized P&L at the marks, 1e-8.",
            m.unrealized_pnl_e8.load(r),
        ),
    ];
    for (name, help, v) in gauges {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    }
    let _ = writeln!(
        s,
        "# HELP keel_outbound_ring_occupancy Outputs waiting in a gateway's outbound ring."
    );
    let _ = writeln!(s, "# TYPE keel_outbound_ring_occupancy gauge");
    for (name, len, cap) in m.outbound_occupancy() {
        let _ = writeln!(
            s,
            "keel_outbound_ring_occupancy{{gateway=\"{name}\",capacity=\"{cap}\"}} {len}"
        );
    }
    let h = &m.tick_to_trade;
    let _ = writeln!(
        s,
        "# HELP keel_tick_to_trade_seconds Market data ingress to venue order on the outbound ring."
    );
    let _ = writeln!(s, "# TYPE keel_tick_to_trade_seconds histogram");
    let buckets = h.buckets();
    let mut cumulative = 0u64;
    for (i, n) in buckets.iter().enumerate() {
        cumulative += n;
        // Report at each power of two (every 4th log-linear bucket).
        if i % 4 == 3 || i + 1 == LATENCY_BUCKETS {
            let le = bucket_upper_ns(i) as f64 / 1e9;
            let _ = writeln!(s, "keel_tick_to_trade_seconds_bucket{{le=\"{le:e}\"}} {cumulative}");
        }
    }
    let _ = writeln!(s, "keel_tick_to_trade_seconds_bucket{{le=\"+Inf\"}} {cumulative}");
    let _ = writeln!(s, "keel_tick_to_trade_seconds_sum {}", h.sum_ns() as f64 / 1e9);
    let _ = writeln!(s, "keel_tick_to_trade_seconds_count {}", h.count());
    s
}
