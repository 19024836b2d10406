//! `keel`: the command line. Argument parsing and wiring only; one module per subcommand.

use clap::Parser;

/// Keel: a low-latency, event-sourced trading execution engine.
#[derive(Debug, Parser)]
#[command(name = "keel", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
