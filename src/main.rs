//! `keel`: the command line. Argument parsing and wiring only; one module per subcommand.

mod admin_cmd;
mod audit_cmd;
mod backtest_cmd;
mod bench;
mod client_cmd;
mod config;
mod journal_cmd;
mod metrics_http;
mod serve_cmd;
mod venue_cmd;
mod venue_config;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keel: a low-latency, event-sourced trading execution engine.
#[derive(Debug, Parser)]
#[command(name = "keel", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run Keel: the pipeline, the in-process simulated venue and the configured
    /// strategies, journaling every command; recovers from an existing journal first.
    Serve(serve_cmd::ServeArgs),
    /// Run the simulated venue as its own process behind a FIX 4.4 acceptor, for
    /// `keel serve` with `[venue] transport = "fix"`.
    Venue(venue_cmd::VenueArgs),
    /// Talk to a running `keel serve` over its admin socket.
    Admin(admin_cmd::AdminArgs),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Inspect, verify or dump a journal directory.
    #[command(subcommand)]
    Journal(journal_cmd::JournalCmd),
    /// Audit a journal: verify outputs by replay, order lifecycles, positions, risk, books.
    Audit(audit_cmd::AuditArgs),
    /// Place, amend and cancel orders, list orders and positions, watch the book: a
    /// terminal on a running `keel serve`, over the native binary protocol.
    Client(client_cmd::ClientArgs),
    /// Measure latency and throughput (core, journal, pipeline, wire), each beside a floor
    /// measured in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Backtest a strategy on recorded market data (CSV or journal) against a simulated
    /// venue with latency and queue models; `synth` writes synthetic data, `convert` turns
    /// CSV into a journal.
    Backtest(backtest_cmd::BacktestArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Print the embedded default configuration, every key commented.
    Default,
    /// Check a configuration file; prints the first problem, naming its key.
    Check { file: std::path::PathBuf },
    /// Read a password from the first line of standard input and print its salted
    /// Argon2id hash, for a `[[client]]` entry's `password_hash`.
    HashPassword,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => serve_cmd::run(args),
        Command::Venue(args) => venue_cmd::run(args),
        Command::Admin(args) => admin_cmd::run(args),
        Command::Config(ConfigCmd::Default) => {
            print!("{}", config::DEFAULT_TOML);
            ExitCode::SUCCESS
        }
        Command::Config(ConfigCmd::Check { file }) => {
            match config::Config::load(Some(&file)).and_then(|c| c.resolve()) {
                Ok(_) => {
                    println!("{}: ok", file.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("keel config: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Config(ConfigCmd::HashPassword) => hash_password(),
        Command::Journal(cmd) => journal_cmd::run(cmd),
        Command::Audit(cmd) => audit_cmd::run(cmd),
        Command::Client(args) => client_cmd::run(args),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Backtest(args) => backtest_cmd::run_cmd(args),
    }
}

/// `keel config hash-password`: the password comes from stdin, never from the command line
/// (where other users could read it in the process list).
fn hash_password() -> ExitCode {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprintln!("password (input is shown; pipe it in to avoid that):");
    }
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("keel config hash-password: cannot read standard input: {e}");
        return ExitCode::FAILURE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("keel config hash-password: the password is empty");
        return ExitCode::FAILURE;
    }
    println!("{}", keel_gateways::auth::PasswordHash::create(password).as_str());
    ExitCode::SUCCESS
}
