//! `keel backtest`: replay market data through the core and a strategy against a
//! simulated venue (replay crate, `keel_replay::backtest`); `keel backtest synth` writes
//! synthetic data; `keel backtest convert` turns a CSV file into a journal.
//! `docs/backtest.md` is the guide.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{ArgAction, Args, Subcommand};
use keel_engine::book::BookCapacity;
use keel_engine::core::FeedKind;
use keel_replay::backtest::config::BacktestConfig;
use keel_replay::backtest::convert::to_journal;
use keel_replay::backtest::csv::{CsvSource, CsvWriter};
use keel_replay::backtest::latency::{LatencyModel, parse_duration};
use keel_replay::backtest::spec::{DataSpec, InstrumentSpec};
use keel_replay::backtest::synth::{Synth, SynthConfig, synth_spec};
use keel_replay::backtest::{Progress, QueueModel, html, open_data, run};

type CmdResult = Result<(), Box<dyn std::error::Error>>;

/// `keel backtest [run options] | synth | convert`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BacktestArgs {
    #[command(subcommand)]
    cmd: Option<BacktestCmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum BacktestCmd {
    /// Write seeded synthetic L2 market data: a CSV file, or a journal with --journal.
    Synth {
        /// Output file (CSV) or directory (journal).
        #[arg(long)]
        out: PathBuf,
        /// Number of events (rows).
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Seed: the same seed writes the same data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Write a journal directory (ready for fast repeated runs) instead of CSV.
        #[arg(long)]
        journal: bool,
    },
    /// Convert a backtest CSV file into a journal directory for fast repeated runs.
    Convert {
        /// The CSV file.
        #[arg(long = "from")]
        from: PathBuf,
        /// The journal directory to create (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Market data: a backtest CSV file (see docs/backtest.md) or a journal directory.
    #[arg(long, required = true)]
    data: Option<PathBuf>,
    /// Strategy to run (market_maker, taker).
    #[arg(long, default_value = "market_maker")]
    strategy: String,
    /// A strategy parameter (repeatable); `instrument` may be a symbol of the data.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Latency model: constant:FEED,ORDER | per-op:feed=..,new=..,amend=..,cancel=..[,response=..]
    /// | recorded[:scale=X] | recorded:new=..,amend=..,cancel=..
    #[arg(long, default_value = "recorded")]
    latency: String,
    /// Queue-position model: conservative | probabilistic[:power=N] | fifo (L3 data).
    #[arg(long, default_value = "probabilistic:power=2")]
    queue: String,
    /// Whether Keel's taker fills remove the liquidity they take from the recorded book.
    #[arg(long, default_value_t = true, action = ArgAction::Set, value_name = "BOOL")]
    consume_liquidity: bool,
    /// Fees in bps: MAKER,TAKER for all instruments or SYMBOL=MAKER,TAKER (repeatable).
    #[arg(long = "fee", value_name = "[SYMBOL=]MAKER,TAKER")]
    fees: Vec<String>,
    /// A risk limit on the strategy's account, set before the first event (repeatable):
    /// KIND=VALUE with the kinds of `keel admin limits` (e.g. max_position_long=50).
    #[arg(long = "limit", value_name = "KIND=VALUE")]
    limits: Vec<String>,
    /// Seed of the probabilistic queue model.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Interval at which equity and position are sampled (report charts, drawdown, Sharpe).
    #[arg(long, default_value = "1s")]
    interval: String,
    /// Interval of the Timer command (strategy timers, expiries), or `off`.
    #[arg(long, default_value = "100ms")]
    timer: String,
    /// Write the HTML report (self-contained, with charts) here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write the JSON summary here (`-`: standard output, instead of the text summary).
    #[arg(long)]
    json: Option<PathBuf>,
    /// For a journal written by `keel serve`: the configuration it ran with (default: the
    /// embedded default), which describes its instruments and venue.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Resting orders each recorded book holds.
    #[arg(long, default_value_t = 1 << 18)]
    book_orders: u32,
    /// Price levels per side of each recorded book.
    #[arg(long, default_value_t = 1 << 14)]
    book_levels: u32,
    /// No progress bar (it is shown only when stderr is a terminal anyway).
    #[arg(long)]
    no_progress: bool,
}

pub fn run_cmd(args: BacktestArgs) -> ExitCode {
    let result = match args.cmd {
        Some(BacktestCmd::Synth { out, events, seed, journal }) => {
            synth(&out, events, seed, journal)
        }
        Some(BacktestCmd::Convert { from, out }) => convert(&from, &out),
        None => backtest(&args.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keel backtest: {e}");
            ExitCode::FAILURE
        }
    }
}

fn key_value(text: &str, what: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("{what} {text:?} is not KEY=VALUE"))
}

fn settings(a: &RunArgs) -> Result<BacktestConfig, String> {
    let params = a.params.iter().map(|p| key_value(p, "--param")).collect::<Result<Vec<_>, _>>()?;
    let mut limits = Vec::new();
    for l in &a.limits {
        let (kind, value) = key_value(l, "--limit")?;
        let Some((_, kind)) = crate::admin_cmd::LIMIT_KINDS.iter().find(|(n, _)| *n == kind) else {
            let names: Vec<&str> = crate::admin_cmd::LIMIT_KINDS.iter().map(|(n, _)| *n).collect();
            return Err(format!("--limit {l:?}: unknown kind; kinds: {}", names.join(", ")));
        };
        let value = if value == "none" {
            i64::MAX
        } else {
            value
                .parse::<i64>()
                .map_err(|_| format!("--limit {l:?}: {value:?} is not an integer or none"))?
        };
        limits.push((*kind, value));
    }
    let interval = parse_duration(&a.interval).map_err(|e| format!("--interval: {e}"))?;
    if interval == 0 {
        return Err("--interval must be positive".into());
    }
    let timer = if a.timer == "off" {
        0
    } else {
        parse_duration(&a.timer).map_err(|e| format!("--timer: {e}"))?
    };
    Ok(BacktestConfig {
        strategy: a.strategy.clone(),
        params,
        latency: LatencyModel::parse(&a.latency).map_err(|e| e.to_string())?,
        queue: QueueModel::parse(&a.queue).map_err(|e| e.to_string())?,
        consume_liquidity: a.consume_liquidity,
        fees: a.fees.clone(),
        seed: a.seed,
        sample_interval_ns: interval,
        timer_interval_ns: timer,
        limits,
        book: BookCapacity { orders: a.book_orders, levels_per_side: a.book_levels },
        ..BacktestConfig::default()
    })
}

/// The data description of a journal written by `keel serve` with this configuration.
fn serve_data(config: Option<&Path>) -> Result<DataSpec, String> {
    let c = crate::config::Config::load(config).map_err(|e| e.to_string())?;
    let resolved = c.resolve().map_err(|e| e.to_string())?;
    Ok(DataSpec {
        feed: FeedKind::L3,
        venue_id: resolved.venue_id.0,
        venue_name: c.venue.name.clone(),
        instruments: resolved
            .core
            .instruments
            .iter()
            .map(|i| InstrumentSpec {
                symbol: i.symbol.clone(),
                tick_size: i.tick_size,
                lot_size: i.lot_size,
                currency: i.currency.clone(),
            })
            .collect(),
    })
}

fn write_file(path: &Path, text: &str) -> CmdResult {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn backtest(a: &RunArgs) -> CmdResult {
    let config = settings(a)?;
    let data_path = a.data.as_deref().expect("required by clap");
    let described = if data_path.is_dir() { Some(serve_data(a.config.as_deref())?) } else { None };
    let (mut source, data, info) = open_data(data_path, described)?;
    let progress = if a.no_progress { Progress::Never } else { Progress::Auto };
    let started = Instant::now();
    let report = run(&config, &data, source.as_mut(), &info, progress)?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &a.report {
        write_file(path, &html::render(&report))?;
    }
    match a.json.as_deref() {
        Some(p) if p == Path::new("-") => print!("{}", report.to_json()),
        Some(p) => {
            write_file(p, &report.to_json())?;
            print!("{}", report.to_text());
        }
        None => print!("{}", report.to_text()),
    }
    // Wall-clock figures stay out of the report (it is deterministic); they go to stderr.
    eprintln!(
        "replayed {} events in {elapsed:.2} s ({:.2} M events/s)",
        report.data.events,
        report.data.events as f64 / elapsed.max(1e-9) / 1e6
    );
    Ok(())
}

fn synth(out: &Path, events: u64, seed: u64, journal: bool) -> CmdResult {
    let cfg = SynthConfig { events, seed, ..SynthConfig::default() };
    let mut generator = Synth::new(cfg);
    let spec = synth_spec();
    if journal {
        let n = to_journal(&mut generator, &spec, out, |_| {})?;
        eprintln!("wrote {n} synthetic events to the journal {}", out.display());
        return Ok(());
    }
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let comment = format!("synthetic L2 data: keel backtest synth --events {events} --seed {seed}");
    let mut w = CsvWriter::new(BufWriter::with_capacity(1 << 20, file), &spec, &[comment])?;
    let mut n = 0u64;
    for e in generator {
        w.write(&e)?;
        n += 1;
    }
    w.finish()?.flush()?;
    eprintln!("wrote {n} synthetic events to {}", out.display());
    Ok(())
}

fn convert(from: &Path, out: &Path) -> CmdResult {
    let mut source = CsvSource::open(from)?;
    let spec = source.spec().clone();
    let started = Instant::now();
    let n = to_journal(&mut source, &spec, out, |_| {})?;
    eprintln!(
        "converted {n} events into {} in {:.2} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
