//! `keel audit verify|orders|positions|risk|book <dir>`: audit a journal with the schema
//! and the core (replay crate).
//!
//! Replaying needs the `CoreConfig` the journal was written with. Until `keel serve` has a
//! configuration file (then `--config` and its default), the test fixture
//! `keel_engine::core::testkit::config_with_market_maker()` is used.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use keel_engine::core::{COMMAND_KIND_NAMES, CoreConfig};
use keel_replay::format::Point;
use keel_replay::query::orders::OrderFilter;
use keel_replay::query::{Format, render};
use keel_replay::recover::OUTPUT_KIND_NAMES;

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Verify checksums, sequence continuity, the seal chain, and that every recorded
    /// output is what the core derives. Exits 0 only when everything holds; otherwise 1,
    /// printing the first problem's sequence.
    Verify {
        dir: PathBuf,
        /// Mismatches to print (all are counted).
        #[arg(long, default_value_t = 10)]
        max_mismatches: usize,
    },
    /// Each order's lifecycle: every input and output about it, with sequence and time.
    Orders {
        dir: PathBuf,
        #[arg(long)]
        order_id: Option<u64>,
        #[arg(long)]
        cl_ord_id: Option<String>,
        #[arg(long)]
        account: Option<u32>,
        /// Symbol (e.g. BTC-USD) or number.
        #[arg(long)]
        instrument: Option<String>,
        /// Venue name or number.
        #[arg(long)]
        venue: Option<String>,
        #[arg(long)]
        session: Option<u32>,
        /// Only events at or after: a UTC time (2026-01-02T00:00:00.123456789Z) or seq:N.
        #[arg(long)]
        from: Option<Point>,
        /// Only events at or before: a UTC time or seq:N.
        #[arg(long)]
        to: Option<Point>,
        /// The order's final status (new, partially_filled, filled, canceled, rejected,
        /// expired, pending_new, pending_cancel, pending_replace).
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        out: OutFormat,
    },
    /// Positions and P&L per account and instrument, and firm totals, at a point.
    Positions {
        dir: PathBuf,
        /// A UTC time, seq:N or end.
        #[arg(long, default_value = "end")]
        at: Point,
        #[command(flatten)]
        out: OutFormat,
    },
    /// Every reject (code, numbers, order, session, time) and every admin action with its
    /// answer.
    Risk {
        dir: PathBuf,
        #[arg(long)]
        from: Option<Point>,
        #[arg(long)]
        to: Option<Point>,
        #[command(flatten)]
        out: OutFormat,
    },
    /// The market book as Keel saw it at a point.
    Book {
        dir: PathBuf,
        /// Symbol or number.
        #[arg(long)]
        instrument: String,
        /// Venue name or number (default: every venue listing the instrument).
        #[arg(long)]
        venue: Option<String>,
        /// A UTC time, seq:N or end.
        #[arg(long, default_value = "end")]
        at: Point,
        /// Levels per side.
        #[arg(long, default_value_t = 10)]
        depth: usize,
        /// Order by order (L3 venues).
        #[arg(long)]
        l3: bool,
        #[command(flatten)]
        out: OutFormat,
    },
}

/// Output format flags.
#[derive(Debug, Args)]
pub struct OutFormat {
    /// JSON lines.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV with a header row.
    #[arg(long)]
    csv: bool,
}

impl OutFormat {
    fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else if self.csv {
            Format::Csv
        } else {
            Format::Table
        }
    }
}

fn config() -> CoreConfig {
    // The lead replaces this with `keel serve`'s configuration (and a --config flag).
    keel_engine::core::testkit::config_with_market_maker()
}

type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;

pub fn run(cmd: AuditCmd) -> ExitCode {
    let config = config();
    let result = match cmd {
        AuditCmd::Verify { dir, max_mismatches } => verify(&dir, &config, max_mismatches),
        AuditCmd::Orders {
            dir,
            order_id,
            cl_ord_id,
            account,
            instrument,
            venue,
            session,
            from,
            to,
            status,
            out,
        } => {
            let filter = OrderFilter {
                order_id,
                cl_ord_id,
                account,
                instrument,
                venue,
                session,
                from,
                to,
                status,
            };
            keel_replay::query::orders::orders(&dir, &config, &filter)
                .map_err(Into::into)
                .and_then(|rows| print(&rows, out.format()))
        }
        AuditCmd::Positions { dir, at, out } => {
            keel_replay::query::positions::positions(&dir, &config, at)
                .map_err(Into::into)
                .and_then(|p| {
                    if out.format() == Format::Table {
                        println!("positions at seq {} ({})", p.seq, p.time);
                    }
                    print(&p.rows, out.format())
                })
        }
        AuditCmd::Risk { dir, from, to, out } => {
            keel_replay::query::risk::risk(&dir, &config, from, to)
                .map_err(Into::into)
                .and_then(|rows| print(&rows, out.format()))
        }
        AuditCmd::Book { dir, instrument, venue, at, depth, l3, out } => {
            let q = keel_replay::query::book::BookQuery { instrument, venue, at, depth, l3 };
            keel_replay::query::book::book(&dir, &config, &q).map_err(Into::into).and_then(|b| {
                if out.format() == Format::Table {
                    println!("book at seq {} ({})", b.seq, b.time);
                }
                print(&b.rows, out.format())
            })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keel audit: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print<T: serde::Serialize>(rows: &[T], format: Format) -> CmdResult {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let r = render(rows, format, &mut out)
        .map_err(|e| e.to_string())
        .and_then(|()| out.flush().map_err(|e| e.to_string()));
    match r {
        Err(e) if e.contains("Broken pipe") => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

fn verify(dir: &Path, config: &CoreConfig, max_mismatches: usize) -> CmdResult {
    let v = keel_replay::verify(dir, config, max_mismatches, keel_replay::Progress::Auto)?;
    let ins = &v.inspection;
    println!(
        "journal {}: {} segments, {} records, seq {}..{}",
        dir.display(),
        ins.segments.len(),
        ins.records(),
        ins.first_seq().unwrap_or(0),
        ins.last_seq().unwrap_or(0)
    );
    if ins.problems.is_empty() {
        println!("journal:  OK (checksums, sequence continuity, seal chain)");
    } else {
        println!("journal:  {} problem(s)", ins.problems.len());
        for p in &ins.problems {
            println!("  - {p}");
        }
    }
    match &v.replay {
        Err(e) => println!("replay:   FAILED: {e}"),
        Ok(r) => {
            let c = &r.counts;
            println!(
                "replay:   {} inputs, {} outputs in {:.3} s ({:.0} records/s); digest {}",
                c.inputs(),
                c.outputs(),
                r.elapsed.as_secs_f64(),
                r.events_per_sec(),
                hex(&r.core.digest().0)
            );
            println!("inputs by kind:");
            for (i, n) in c.inputs_by_kind.iter().enumerate().filter(|(_, n)| **n > 0) {
                println!("  {:<20} {n:>12}", COMMAND_KIND_NAMES[i]);
            }
            println!("outputs by kind:");
            for (i, n) in c.outputs_by_kind.iter().enumerate().filter(|(_, n)| **n > 0) {
                println!("  {:<20} {n:>12}", OUTPUT_KIND_NAMES[i]);
            }
            if r.outputs_match() {
                println!("outputs:  OK (every recorded output re-derived)");
            } else {
                println!("outputs:  {} mismatch(es)", r.mismatch_count);
                for m in &r.mismatches {
                    println!("  - {m}");
                }
            }
            if !r.unrecorded_tail.is_empty() {
                println!(
                    "tail:     {} output(s) of the last input (seq {}) are not in the journal",
                    r.unrecorded_tail.len(),
                    r.last_input_seq.unwrap_or(0)
                );
            }
        }
    }
    if v.ok() {
        println!("verify:   OK");
        Ok(ExitCode::SUCCESS)
    } else {
        match v.first_problem_seq() {
            Some(seq) => println!("verify:   FAILED; first problem at seq {seq}"),
            None => println!("verify:   FAILED"),
        }
        Ok(ExitCode::FAILURE)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().take(8).map(|x| format!("{x:02x}")).collect()
}
