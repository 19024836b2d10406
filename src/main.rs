//! `keel`: the command line. Argument parsing and wiring only; one module per subcommand.

mod audit_cmd;
mod journal_cmd;

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
    /// Inspect, verify or dump a journal directory.
    #[command(subcommand)]
    Journal(journal_cmd::JournalCmd),
    /// Audit a journal: verify outputs by replay, order lifecycles, positions, risk, books.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCmd),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Journal(cmd) => journal_cmd::run(cmd),
        Command::Audit(cmd) => audit_cmd::run(cmd),
    }
}
