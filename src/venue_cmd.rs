//! `keel venue [--config FILE] [--listen ADDR] [--duration SECS] [--store DIR]`: the
//! simulated venue as its own process, behind a FIX 4.4 acceptor
//! (`keel_gateways::fix::venue`).
//!
//! It reads the same configuration as `keel serve`: the instruments, the `[venue]`
//! matching engine and synthetic flow, and `[venue.fix]` seen from the other side — it
//! listens on `connect` (or `--listen`), is `target_comp_id`, and accepts one client,
//! `sender_comp_id`, with `username`/`password`. So `keel venue --config F` and
//! `keel serve --config F` with `[venue] transport = "fix"` find each other.
//!
//! The bound address is printed on stdout (`keel venue: listening on ADDR`) and logged,
//! so a test or a script can bind port 0 and read it. Stops on Ctrl-C, SIGTERM or
//! `--duration`, logging the client out; a summary follows. The session's numbering is
//! in memory unless `--store` names a directory (see `docs/fix.md`).

use crate::config::Config;
use keel_gateways::fix::venue::VenueServer;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `keel venue`.
#[derive(Debug, clap::Args)]
pub struct VenueArgs {
    /// Configuration file (TOML); the embedded default when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Listen address (default: `[venue.fix] connect`); port 0 picks a free port.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Stop by itself after this many seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Keep the FIX session's sequence numbers and sent messages in this directory, so a
    /// restarted venue continues the session (its books still start empty).
    #[arg(long)]
    pub store: Option<PathBuf>,
}

/// Runs `keel venue`.
pub fn run(args: VenueArgs) -> ExitCode {
    let loaded = Config::load(args.config.as_deref());
    let (config, resolved) = match loaded.and_then(|c| c.resolve().map(|r| (c, r))) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("keel venue: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(&resolved);
    let server_config =
        match crate::venue_config::venue_server(&config, &resolved, args.listen, args.store) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("keel venue: {e}");
                return ExitCode::FAILURE;
            }
        };
    let comp_id = server_config.comp_id.clone();
    let mut server = match VenueServer::bind(server_config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("keel venue: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = server.local_addr();
    tracing::info!(listen = %addr, comp_id = %comp_id, instruments = resolved.core.instruments.len(),
        "keel venue listening (FIX 4.4)");
    println!("keel venue: listening on {addr}");
    let _ = std::io::stdout().flush();

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        let first = AtomicBool::new(true);
        if let Err(e) = ctrlc::set_handler(move || {
            if !first.swap(false, Ordering::SeqCst) {
                eprintln!("keel venue: second interrupt, exiting now");
                std::process::exit(130);
            }
            stop.store(true, Ordering::SeqCst);
        }) {
            eprintln!("keel venue: cannot install the signal handler: {e}");
            return ExitCode::FAILURE;
        }
    }
    let started = Instant::now();
    let deadline = args.duration.map(|s| started + Duration::from_secs_f64(s.max(0.0)));
    server.run(&stop, deadline);

    let s = server.stats();
    let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    println!("keel venue: stopped after {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "  logons {}  orders {}  rejects {}  fills {}  cancels {}  replaces {}  status reports {}",
        n(&s.logons),
        n(&s.orders),
        n(&s.rejects),
        n(&s.fills),
        n(&s.cancels),
        n(&s.replaces),
        n(&s.status_reports)
    );
    println!(
        "  market data messages {}  synthetic events {}",
        n(&s.md_messages),
        n(&s.flow_events)
    );
    ExitCode::SUCCESS
}

fn init_logging(r: &crate::config::Resolved) {
    use tracing_subscriber::filter::LevelFilter;
    let level: LevelFilter = r.log_level.parse().unwrap_or(LevelFilter::INFO);
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = if r.log_json { builder.json().try_init() } else { builder.try_init() };
}
