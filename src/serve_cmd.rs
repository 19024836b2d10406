//! `keel serve [--config FILE] [--duration SECS]`: run Keel.
//!
//! Start-up: read the configuration (the embedded default without `--config`), bind the
//! admin socket, then start the pipeline. On the core thread, `init` opens the journal
//! (cutting a torn tail), recovers the core with `keel_replay::recover` (every input
//! replayed, every output re-derived and compared; mismatches are logged), and
//! journals the start-up commands: the admin session's logon, and an unsolicited cancel
//! for each order the recovered state still has working at the simulated venue (the fresh
//! venue does not know them: it "cancelled them on disconnect"). Then the gateways start:
//! the simulated venue, the timer and the admin socket. Metrics are served on their own
//! thread; a status line is logged periodically.
//!
//! Shutdown (Ctrl-C, SIGTERM or `--duration`): stop accepting, let the core drain the
//! ring, sync and seal the journal, print a summary. A second Ctrl-C exits at once; the
//! journal recovers on the next start (everything appended is in the page cache).

mod binary;

use crate::admin_cmd::AdminGateway;
use crate::config::{ADMIN_SESSION, Config, Resolved, TIMER_SESSION, VENUE_SESSION};
use crate::metrics_http;
use keel_engine::core::COMMAND_KIND_NAMES;
use keel_engine::orders::OrderFilter;
use keel_engine::pipeline::{
    AccountPnl, CoreStart, Gateway, IngressClock, Pipeline, PipelineMetrics, TimerGateway,
};
use keel_engine::port::CommandJournal;
use keel_engine::schema::{
    Command, CommandBody, RejectCode, SessionKind, SessionLogon, VenueCancelAck,
};
use keel_engine::{AccountId, OrderState};
use keel_gateways::sim::{SimConfig, SimGateway};
use keel_journal::{Durability, Journal};
use keel_replay::checkpoint::Checkpointer;
use keel_replay::log::JournalRecorder;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

/// Arguments of `keel serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); the embedded default when absent (`keel config default`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Stop by itself after this many seconds (for demos and tests).
    #[arg(long)]
    pub duration: Option<f64>,
}

/// Runs `keel serve`.
pub fn run(args: ServeArgs) -> ExitCode {
    let resolved = match Config::load(args.config.as_deref()).and_then(|c| c.resolve()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keel serve: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(&resolved);
    match serve(resolved, args.duration) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("keel serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(r: &Resolved) {
    use tracing_subscriber::filter::LevelFilter;
    let level: LevelFilter = r.log_level.parse().unwrap_or(LevelFilter::INFO);
    // Colour only on a terminal: logs redirected to a file stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = if r.log_json { builder.json().try_init() } else { builder.try_init() };
}

/// What start-up recovery found.
#[derive(Clone, Copy, Debug, Default)]
struct Recovered {
    records: u64,
    inputs: u64,
    last_seq: u64,
    cancelled_at_venue: u64,
    mismatches: u64,
    unrecorded_tail: u64,
    snapshot_seq: u64,
}

/// A started `keel serve`: the admin socket bound, the journal recovered, the pipeline
/// and its gateways running. `keel serve` runs it until a signal; `keel bench wire` starts
/// one in-process and stops it with [`finish`].
pub struct Started {
    /// The running pipeline.
    pub pipeline: Pipeline<JournalRecorder>,
    /// The admin socket (removed by [`finish`]), when the admin gateway runs.
    pub socket_path: Option<PathBuf>,
    /// The journal's durable sequence, once the core thread opened it.
    pub durability: Arc<OnceLock<Durability>>,
    /// What start-up recovery found.
    recovered: Recovered,
    /// When the pipeline was started.
    pub started: Instant,
}

/// Binds the admin socket, recovers from the journal and starts the pipeline with every
/// configured gateway: all of `keel serve` before its run loop.
pub fn start(r: &Resolved) -> Result<Started, String> {
    start_with(r, true)
}

/// [`start`], with the admin socket only if `admin` (`keel bench wire` leaves it off: it
/// sends no admin commands, and on a small box every thread counts).
pub fn start_with(r: &Resolved, admin: bool) -> Result<Started, String> {
    let dir = r.journal_dir.clone();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let admin = if admin { Some(AdminGateway::bind(&dir, ADMIN_SESSION)?) } else { None };
    let socket_path = admin.as_ref().map(|a| a.path().to_path_buf());
    let with_admin = admin.is_some();

    let durability: Arc<OnceLock<Durability>> = Arc::new(OnceLock::new());
    let recovered: Arc<OnceLock<Recovered>> = Arc::new(OnceLock::new());
    let metrics_slot: Arc<OnceLock<Arc<PipelineMetrics>>> = Arc::new(OnceLock::new());
    let admin = admin.map(|a| a.with_status(Arc::clone(&metrics_slot), Arc::clone(&durability)));

    let exec_id_base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
        << 8;
    let sim = SimGateway::new(SimConfig {
        name: "sim".into(),
        venue: r.venue_id,
        session: VENUE_SESSION,
        instruments: r.sim_instruments.clone(),
        book: r.book,
        flow: r.flow.clone(),
        events_per_sec: r.flow_rate(),
        latency_us: r.latency_us(),
        exec_id_base,
        cancel_on_connect: Vec::new(),
    });
    // The venue: in process, or over FIX (`[venue] transport`). Over FIX the recovered
    // core's working orders go to the initiator, which reconciles them with the venue
    // before trading (see `keel_gateways::fix::initiator`).
    let venue_orders: keel_gateways::fix::initiator::RecoveredOrders = Arc::default();
    let venue_gateway: Box<dyn Gateway> =
        match crate::venue_config::initiator(r, Arc::clone(&venue_orders)) {
            Some(config) => {
                info!(connect = %config.connect, store = %config.store_dir.display(),
                    "venue over FIX: the initiator connects to the venue's acceptor");
                Box::new(
                    keel_gateways::fix::initiator::FixVenueGateway::new(config)
                        .map_err(|e| format!("FIX venue link: {e}"))?,
                )
            }
            None => Box::new(sim),
        };
    let venue_over_fix = matches!(r.venue_transport, crate::venue_config::VenueTransport::Fix(_));
    let mut gateways: Vec<Box<dyn Gateway>> = vec![
        venue_gateway,
        Box::new(TimerGateway::new(TIMER_SESSION, r.timer_interval.as_nanos() as u64)),
    ];
    if let Some(admin) = admin {
        gateways.push(Box::new(admin));
    }
    // FIX client order entry (`[fix]`): binds its port and opens each session's message
    // store now, so a busy port or a locked store stops start-up with a clear error.
    if let Some(config) = r.fix_acceptor() {
        let fix = keel_gateways::fix::acceptor::FixAcceptor::bind(config)
            .map_err(|e| format!("FIX acceptor: {e}"))?;
        info!(listen = %fix.local_addr(), "FIX acceptor bound");
        gateways.push(Box::new(fix));
    }
    // The binary protocol listener (its history is loaded in `init`, after recovery).
    let binary_history = binary::build(r)?.map(|(gateway, history)| {
        info!(binary_listen = %gateway.local_addr(), "binary protocol listening");
        gateways.push(Box::new(gateway));
        history
    });

    let init = {
        let core_config = r.core.clone();
        let journal_config = r.journal.clone();
        let dir = dir.clone();
        let durability = Arc::clone(&durability);
        let recovered = Arc::clone(&recovered);
        let venue = r.venue_id;
        let venue_orders = Arc::clone(&venue_orders);
        let snapshots = r.snapshots;
        move |clock: &IngressClock| -> Result<CoreStart<JournalRecorder>, String> {
            let journal = Journal::open(&dir, journal_config)
                .map_err(|e| format!("journal {}: {e}", dir.display()))?;
            let _ = durability.set(journal.durability());
            // Recovery: replay every input (re-deriving and checking the outputs).
            let rec = keel_replay::recover(
                &dir,
                &core_config,
                keel_replay::RecoverOptions {
                    progress: keel_replay::Progress::Auto,
                    snapshots: Some(&keel_replay::EngineCodec),
                    ..keel_replay::RecoverOptions::default()
                },
            )
            .map_err(|e| format!("recovery: {e}"))?;
            for r in &rec.snapshot_rejections {
                warn!("snapshot skipped: {r}");
            }
            if rec.last_seq != journal.last_seq() {
                return Err(format!(
                    "recovery read up to {} but the journal ends at {}",
                    rec.last_seq,
                    journal.last_seq()
                ));
            }
            let mut found = Recovered {
                records: rec.counts.records(),
                inputs: rec.counts.inputs(),
                last_seq: rec.last_seq,
                cancelled_at_venue: 0,
                mismatches: rec.mismatch_count,
                unrecorded_tail: rec.unrecorded_tail.len() as u64,
                snapshot_seq: rec.snapshot.as_ref().map_or(0, |s| s.seq),
            };
            let core = rec.core;
            let mut journal = JournalRecorder::new(journal);
            if !snapshots.is_off() {
                let checkpointer = Checkpointer::start(&dir, snapshots)
                    .map_err(|e| format!("cannot start the snapshot writer: {e}"))?;
                journal = journal.with_checkpointer(checkpointer);
            }
            // The writer stopped between an input and its outputs: record them now (the
            // venue orders among them are reconciled below, like every working order).
            for out in &rec.unrecorded_tail {
                found.last_seq =
                    journal.append_output(out).map_err(|e| format!("journal append: {e}"))?;
            }
            if let Some(history) = &binary_history {
                let reports = history.load(&dir)?;
                info!(reports, "binary sessions' reports rebuilt from the journal");
            }
            // Start-up commands: the core applies them first, journaled and delivered
            // like any other (a strategy's answer to a cancel must reach the venue).
            let now = clock.now();
            let mut startup = Vec::new();
            if with_admin {
                startup.push(Command {
                    ts: now,
                    session: ADMIN_SESSION,
                    body: CommandBody::SessionLogon(SessionLogon {
                        kind: SessionKind::Admin,
                        account: AccountId(0),
                        cancel_on_disconnect: false,
                    }),
                });
            }
            let logons = startup.len() as u64;
            if venue_over_fix {
                // The venue knows them: reconcile instead of cancelling.
                let _ = venue_orders
                    .set(keel_gateways::fix::initiator::orders::working_orders_of(&core, venue));
            }
            for order in core.orders().iter_working(OrderFilter::ALL) {
                if !venue_over_fix
                    && order.terms().venue == venue
                    && order.state() != OrderState::Held
                {
                    startup.push(Command {
                        ts: now,
                        session: VENUE_SESSION,
                        body: CommandBody::VenueCancelAck(VenueCancelAck {
                            venue,
                            order_id: order.terms().id,
                            unsolicited: true,
                            venue_ts: now,
                        }),
                    });
                }
            }
            found.cancelled_at_venue = startup.len() as u64 - logons;
            let last_seq = found.last_seq;
            let _ = recovered.set(found);
            Ok(CoreStart { core, journal, last_seq, startup })
        }
    };

    let started = Instant::now();
    let pipeline =
        Pipeline::start(r.pipeline.clone(), gateways, init).map_err(|e| e.to_string())?;
    let _ = metrics_slot.set(Arc::clone(pipeline.metrics()));
    let recovered = recovered.get().copied().unwrap_or_default();
    Ok(Started { pipeline, socket_path, durability, recovered, started })
}

/// Stops a started server: waits for every thread, removes the admin socket, syncs and
/// closes (seals) the journal. Returns the core's exit report (its journal closed) and
/// the durable sequence.
pub fn finish(
    pipeline: Pipeline<JournalRecorder>,
    socket_path: Option<&std::path::Path>,
) -> Result<Finished, String> {
    let exit = pipeline.join().map_err(|e| e.to_string())?;
    if let Some(path) = socket_path {
        let _ = std::fs::remove_file(path);
    }
    let snapshots = exit.journal.checkpoints().map(|c| {
        format!(
            "{} taken, {} stored, {} failed; longest core pause to encode {:.1} ms",
            c.taken(),
            c.stored(),
            c.failed(),
            c.encode_ns_max() as f64 / 1e6
        )
    });
    let journal = exit.journal.into_inner();
    let durable = journal.sync().map_err(|e| format!("journal sync: {e}"))?;
    journal.close().map_err(|e| format!("journal close: {e}"))?;
    let exit = keel_engine::pipeline::CoreExit {
        journal: (),
        digest: exit.digest,
        counters: exit.counters,
        commands: exit.commands,
        last_seq: exit.last_seq,
        pnl: exit.pnl,
        journal_error: exit.journal_error,
    };
    Ok(Finished { exit, durable, snapshots })
}

/// What [`finish`] leaves: the core's exit report (its journal closed), the journal's
/// durable sequence, and a line about the snapshots taken (when they are on).
pub struct Finished {
    /// The core's exit report.
    pub exit: keel_engine::pipeline::CoreExit<()>,
    /// The durable sequence after the final sync.
    pub durable: u64,
    /// The snapshot summary.
    pub snapshots: Option<String>,
}

fn serve(r: Resolved, duration: Option<f64>) -> Result<(), String> {
    let dir = r.journal_dir.clone();
    let Started { pipeline, socket_path, durability, recovered: found, started } = start(&r)?;
    if found.records > 0 {
        info!(
            records = found.records,
            inputs = found.inputs,
            last_seq = found.last_seq,
            cancelled_at_venue = found.cancelled_at_venue,
            unrecorded_tail = found.unrecorded_tail,
            from_snapshot_seq = found.snapshot_seq,
            "recovered from the journal; continuing its sequence"
        );
        if found.mismatches > 0 {
            warn!(
                mismatches = found.mismatches,
                "replayed outputs differ from the recorded ones: run `keel audit` on this journal"
            );
        }
    } else {
        info!(dir = %dir.display(), "new journal");
    }
    for note in &pipeline.placement().notes {
        warn!("placement: {note}");
    }
    info!(
        cpus = ?pipeline.placement().cpus,
        admin_socket = %socket_path.as_deref().map_or("off".into(), |p| p.display().to_string()),
        "keel serving: {} venue {} with {} instruments, {} strategies, {} clients configured",
        if matches!(r.venue_transport, crate::venue_config::VenueTransport::Fix(_)) {
            "FIX"
        } else {
            "simulated"
        },
        r.core.venues[0].name,
        r.core.instruments.len(),
        r.core.strategies.len(),
        r.clients.len()
    );

    // Signals: the first stops cleanly, the second exits at once.
    let signals = Arc::new(AtomicU32::new(0));
    {
        let signals = Arc::clone(&signals);
        let stop = pipeline.stop_flag();
        ctrlc::set_handler(move || {
            if signals.fetch_add(1, Ordering::SeqCst) >= 1 {
                eprintln!("keel serve: second interrupt, exiting now (the journal recovers)");
                std::process::exit(130);
            }
            eprintln!("keel serve: stopping (interrupt again to exit at once)");
            stop.store(true, Ordering::SeqCst);
        })
        .map_err(|e| format!("cannot install the signal handler: {e}"))?;
    }

    let metrics_stop = Arc::new(AtomicBool::new(false));
    // Metrics are an aid, not a reason to refuse to trade: a busy port is a warning.
    let metrics_thread = r.metrics_listen.as_ref().and_then(|addr| {
        metrics_http::spawn(
            addr,
            Arc::clone(pipeline.metrics()),
            Arc::clone(&durability),
            Arc::clone(&metrics_stop),
        )
        .map_err(|e| warn!("metrics off: {e}"))
        .ok()
    });

    let stop = pipeline.stop_flag();
    let deadline = duration.map(|s| started + Duration::from_secs_f64(s.max(0.0)));
    let mut next_status = r.status_interval.map(|i| Instant::now() + i);
    loop {
        if stop.load(Ordering::Acquire) || pipeline.is_finished() {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            info!("duration reached");
            break;
        }
        if let (Some(at), Some(every)) = (next_status, r.status_interval) {
            if Instant::now() >= at {
                status_line(pipeline.metrics(), durability.get());
                next_status = Some(at + every);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    info!("stopping: gateways stop accepting, the core drains the ring");
    let metrics = Arc::clone(pipeline.metrics());
    let finished = finish(pipeline, socket_path.as_deref());
    metrics_stop.store(true, Ordering::Release);
    if let Some(t) = metrics_thread {
        let _ = t.join();
    }
    let Finished { exit, durable, snapshots } = finished?;
    if let Some(e) = &exit.journal_error {
        return Err(format!("the journal failed and the core stopped: {e}"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let m = &exit.counters;
    println!("keel serve: stopped after {elapsed:.1} s");
    println!(
        "  commands        {} this run ({:.0}/s); journal ends at seq {} (durable {durable}), journal sealed",
        exit.commands,
        exit.commands as f64 / elapsed.max(1e-9),
        exit.last_seq
    );
    let kinds: Vec<String> = COMMAND_KIND_NAMES
        .iter()
        .zip(m.commands_by_kind.iter())
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k}={n}"))
        .collect();
    println!("  by kind         {}", kinds.join(" "));
    if let Some(text) = snapshots {
        println!("  snapshots       {text}");
    }
    println!("  fills           {}", m.fills);
    let rejects: Vec<String> = RejectCode::ALL
        .iter()
        .zip(m.rejects_by_code.iter())
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| format!("{c}={n}"))
        .collect();
    println!(
        "  rejects         {}",
        if rejects.is_empty() { "none".to_string() } else { rejects.join(" ") }
    );
    for p in
        exit.pnl.iter().filter(|p| p.realized_e8 != 0 || p.unrealized_e8 != 0 || p.fees_e8 != 0)
    {
        println!("  P&L account {}   {}", p.account, pnl_text(p));
    }
    println!("  tick-to-trade   {}", latency_text(&metrics));
    println!("  state digest    {}", exit.digest);
    Ok(())
}

fn latency_text(m: &PipelineMetrics) -> String {
    let h = &m.tick_to_trade;
    if h.count() == 0 {
        return "no orders caused by market data".into();
    }
    let us = |ns: u64| ns as f64 / 1_000.0;
    format!(
        "n={} p50={:.1}µs p90={:.1}µs p99={:.1}µs p99.9={:.1}µs max={:.1}µs (market data in -> venue order on the outbound ring; bucket upper edges)",
        h.count(),
        us(h.quantile_ns(0.5)),
        us(h.quantile_ns(0.9)),
        us(h.quantile_ns(0.99)),
        us(h.quantile_ns(0.999)),
        us(h.max_ns())
    )
}

fn e8(v: i128) -> Decimal {
    Decimal::try_from_i128_with_scale(v, 8).unwrap_or_default().normalize()
}

fn pnl_text(p: &AccountPnl) -> String {
    format!(
        "realized {} unrealized {} fees {}",
        e8(p.realized_e8),
        e8(p.unrealized_e8),
        e8(p.fees_e8)
    )
}

fn status_line(m: &PipelineMetrics, durable: Option<&Durability>) {
    let h = &m.tick_to_trade;
    info!(
        commands = m.commands.load(Ordering::Relaxed),
        journal_seq = m.journal_last_seq.load(Ordering::Relaxed),
        durable_seq = durable.map_or(0, |d| d.durable_seq()),
        fills = m.fills.load(Ordering::Relaxed),
        inbound = m.inbound_occupancy(),
        realized_pnl = %e8(m.realized_pnl_e8.load(Ordering::Relaxed) as i128),
        unrealized_pnl = %e8(m.unrealized_pnl_e8.load(Ordering::Relaxed) as i128),
        t2t_p50_us = h.quantile_ns(0.5) as f64 / 1e3,
        t2t_p99_us = h.quantile_ns(0.99) as f64 / 1e3,
        "status"
    );
}
