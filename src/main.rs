//! `keel`: the command line. Argument parsing and wiring only; one module per subcommand.

mod admin_cmd;
mod audit_cmd;
mod backtest_cmd;
mod config;
mod journal_cmd;
mod metrics_http;
mod serve_cmd;

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
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => serve_cmd::run(args),
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
        Command::Journal(cmd) => journal_cmd::run(cmd),
        Command::Audit(cmd) => audit_cmd::run(cmd),
        Command::Backtest(args) => backtest_cmd::run_cmd(args),
    }
}
