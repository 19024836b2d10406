//! `keel bench core|journal|pipeline|wire`: latency and throughput from the command line,
//! every figure beside a floor measured in the same run (design §8).
//!
//! - [`core_mode`]: `Core::apply` on one thread, per command; floor: the clock pair.
//! - [`journal_mode`]: journal append latency and throughput, verify throughput; floor:
//!   a bare copy of the same bytes into a mapped, pre-faulted page.
//! - [`pipeline_mode`]: tick-to-trade through the threaded pipeline with the market maker;
//!   floor: the same two rings and threads with no work ([`pipeline_floor`]).
//! - [`wire`]: order-to-ack round trips over TCP to a `keel serve`; floor: a bare TCP echo.
//!
//! Shared: [`load`] (clock, open-loop schedule, synchronous loop), [`histogram`]
//! (coordinated-omission correction), [`report`] (table, JSON, `.hgrm`), [`plot`] (SVG),
//! [`system`] (machine, governor, isolation; read only).

pub mod core_mode;
pub mod histogram;
pub mod journal_mode;
pub mod load;
pub mod pipeline_floor;
pub mod pipeline_mode;
pub mod plot;
pub mod report;
pub mod system;
pub mod wire;

use keel_engine::pipeline::{Placement, WAIT_NAMES, WaitStrategy};
use report::{Report, Settings};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `keel bench`.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCmd {
    /// Core::apply alone on one thread: a stated command mix, per-command latency and
    /// throughput, against the cost of the measurement itself.
    Core {
        #[command(flatten)]
        common: Common,
    },
    /// Journal appends (latency, throughput) and verification throughput, against a bare
    /// copy of the same bytes into a mapped, pre-faulted page.
    Journal {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        args: journal_mode::JournalArgs,
    },
    /// Tick-to-trade through the in-process pipeline (market data in through a gateway
    /// thread, the market maker, the order out), against a bare round trip over two rings.
    Pipeline {
        #[command(flatten)]
        common: Common,
    },
    /// Order-to-ack round trips over TCP (binary or FIX) to a running `keel serve`, against
    /// a bare TCP echo on loopback measured in the same run.
    Wire {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        args: wire::WireArgs,
    },
}

/// Options every mode takes.
#[derive(Clone, Debug, clap::Args)]
pub struct Common {
    /// Operations per second, open loop (latency counts from each operation's intended
    /// send time). 0 = unthrottled (core and journal only; corrected with clone_correct).
    /// Default: core and journal 0, pipeline 10000, wire 10000.
    #[arg(long)]
    pub rate: Option<u64>,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Unmeasured seconds first.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// pipeline and wire: alternate floor and subject this many times (each round gets
    /// 1/N of the warm-up and of the duration) so both see the same machine conditions.
    #[arg(long, default_value_t = 5)]
    pub rounds: u32,
    /// Pin the mode's busy threads to CPUs (only CPUs this process may use, never two
    /// threads on one).
    #[arg(long)]
    pub pin: bool,
    /// CPUs to pin to, in the mode's thread order (e.g. `2,3`); default: the first allowed.
    #[arg(long, value_delimiter = ',')]
    pub cpus: Vec<usize>,
    /// How idle loops wait: busy-spin, spin-yield, park or block.
    #[arg(long, default_value = "block")]
    pub wait: String,
    /// pipeline and wire: how the core thread waits (and, in the pipeline's floor, the
    /// thread that stands for it), when it should differ from --wait. busy-spin wants a
    /// CPU nothing else runs on.
    #[arg(long)]
    pub core_wait: Option<String>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write the corrected latency distribution (HdrHistogram percentile text, µs) to
    /// FILE; the other measurements go beside it as `<stem>.<name>.<ext>`.
    #[arg(long, value_name = "FILE")]
    pub hgrm: Option<PathBuf>,
    /// Write a latency-by-percentile chart (SVG) to FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Write the report as a Markdown section to FILE (what `scripts/bench` puts in
    /// docs/benchmarks.md).
    #[arg(long, value_name = "FILE.md")]
    pub markdown: Option<PathBuf>,
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A bad option.
    #[error("{0}")]
    Arg(String),
    /// Setting up what is measured failed.
    #[error("{0}")]
    Setup(String),
    /// An I/O error, with what was being done.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

impl BenchError {
    /// An I/O error while doing `what`.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
        let what = what.into();
        move |source| BenchError::Io { what, source }
    }
}

/// Threads of a mode and the CPU each is pinned to.
#[derive(Clone, Debug, Default)]
pub struct Pinning {
    /// Thread names, in the mode's order.
    pub names: Vec<String>,
    /// The CPU of each (None: not pinned).
    pub cpus: Vec<Option<usize>>,
    /// Threads the configuration asked to pin.
    pub requested: usize,
}

impl Pinning {
    /// The CPU of thread `i`.
    pub fn cpu(&self, i: usize) -> Option<usize> {
        self.cpus.get(i).copied().flatten()
    }
}

impl Common {
    /// Measured time.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.0))
    }

    /// Warm-up time.
    pub fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup.max(0.0))
    }

    /// The wait strategy named by `--wait` (checked by [`Common::check`]).
    pub fn wait_strategy(&self) -> WaitStrategy {
        named_wait(&self.wait).unwrap_or(WaitStrategy::BLOCK)
    }

    /// The core thread's strategy when `--core-wait` names one (checked by
    /// [`Common::check`]).
    pub fn core_wait_strategy(&self) -> Option<WaitStrategy> {
        self.core_wait.as_deref().and_then(named_wait)
    }

    /// The options of one of `rounds` rounds: 1/N of the warm-up and of the duration.
    pub fn round(&self) -> Common {
        let n = f64::from(self.rounds.max(1));
        Common { duration: self.duration / n, warmup: self.warmup / n, ..self.clone() }
    }

    /// Rejects bad options with a message naming them.
    pub fn check(&self) -> Result<(), BenchError> {
        for (option, name) in
            [("--wait", Some(&self.wait)), ("--core-wait", self.core_wait.as_ref())]
        {
            if let Some(name) = name.filter(|n| named_wait(n).is_none()) {
                return Err(BenchError::Arg(format!(
                    "{option} {name}: expected one of {}",
                    WAIT_NAMES.join(", ")
                )));
            }
        }
        if !(self.duration.is_finite() && self.duration > 0.0) {
            return Err(BenchError::Arg(format!("--duration {}: must be > 0 s", self.duration)));
        }
        if !(self.warmup.is_finite() && self.warmup >= 0.0) {
            return Err(BenchError::Arg(format!("--warmup {}: must be >= 0 s", self.warmup)));
        }
        if self.rounds == 0 {
            return Err(BenchError::Arg("--rounds 0: must be at least 1".into()));
        }
        if !self.cpus.is_empty() && !self.pin {
            return Err(BenchError::Arg("--cpus needs --pin".into()));
        }
        Ok(())
    }

    /// Plans pinning for `threads` (in order) against the allowed CPUs.
    pub fn plan(&self, threads: &[&str]) -> Pinning {
        let placement = Placement {
            pin: self.pin,
            core_cpu: self.cpus.first().copied(),
            gateway_cpus: self.cpus.iter().skip(1).copied().collect(),
        };
        let plan = placement.plan(threads.len().saturating_sub(1), &system::allowed_cpus());
        for note in &plan.notes {
            eprintln!("keel bench: pinning: {note}");
        }
        Pinning {
            names: threads.iter().map(|s| s.to_string()).collect(),
            cpus: plan.cpus,
            requested: if self.pin { threads.len() } else { 0 },
        }
    }

    /// Plans pinning for `threads` and pins the calling thread as the first of them.
    pub fn pin_threads(&self, threads: &[&str]) -> Result<Pinning, BenchError> {
        let p = self.plan(threads);
        if let Some(cpu) = p.cpu(0) {
            if !keel_engine::pipeline::placement::pin_current(cpu) {
                return Err(BenchError::Setup(format!("cannot pin this thread to cpu {cpu}")));
            }
        }
        Ok(p)
    }
}

impl Report {
    /// An empty report of `mode` with the machine, settings and set-up warnings filled in.
    pub fn new(mode: &str, what: &str, common: &Common, pinning: &Pinning, busy: usize) -> Report {
        let machine = system::machine();
        let pinned_cpus: Vec<usize> = pinning.cpus.iter().flatten().copied().collect();
        let warnings = system::warnings(&machine, &pinned_cpus, pinning.requested, busy);
        let pinned: BTreeMap<String, usize> = pinning
            .names
            .iter()
            .zip(&pinning.cpus)
            .filter_map(|(n, c)| c.map(|c| (n.clone(), c)))
            .collect();
        Report {
            mode: mode.into(),
            command: command_line(),
            what: what.into(),
            notes: Vec::new(),
            settings: Settings {
                rate_per_s: common.rate.unwrap_or(0),
                duration_s: common.duration,
                warmup_s: common.warmup,
                wait: common.wait.clone(),
                core_wait: common.core_wait.clone(),
                pin: common.pin,
                pinned,
            },
            machine,
            warnings,
            measurements: Vec::new(),
            ratios: Vec::new(),
            targets: Vec::new(),
            throughputs: Vec::new(),
        }
    }
}

/// The command line of this process, as `keel ...` (arguments with spaces quoted).
fn command_line() -> String {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| if a.contains(' ') { format!("'{a}'") } else { a })
        .collect();
    format!("keel {}", args.join(" "))
}

/// Runs `keel bench`.
pub fn run(cmd: BenchCmd) -> ExitCode {
    let common = match &cmd {
        BenchCmd::Core { common }
        | BenchCmd::Journal { common, .. }
        | BenchCmd::Pipeline { common }
        | BenchCmd::Wire { common, .. } => common.clone(),
    };
    // The load and the date before the run, not when the report is assembled.
    let before = system::machine();
    let result = common.check().and_then(|()| match &cmd {
        BenchCmd::Core { common } => core_mode::run(common),
        BenchCmd::Journal { common, args } => journal_mode::run(common, args),
        BenchCmd::Pipeline { common } => pipeline_mode::run(common),
        BenchCmd::Wire { common, args } => wire::run(common, args),
    });
    let mut report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keel bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    report.machine.load_avg_1m_start = before.load_avg_1m_start;
    report.machine.date_utc = before.date_utc;
    report.machine.finish();
    match write_outputs(&report, &common) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keel bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_outputs(report: &Report, common: &Common) -> Result<(), BenchError> {
    if let Some(path) = &common.hgrm {
        let files = report::write_hgrm_files(report, path)
            .map_err(BenchError::io(format!("writing {}", path.display())))?;
        for f in files {
            eprintln!("keel bench: wrote {}", f.display());
        }
    }
    if let Some(path) = &common.plot {
        plot::write_svg(report, path).map_err(BenchError::Setup)?;
        eprintln!("keel bench: wrote {}", path.display());
    }
    if let Some(path) = &common.markdown {
        std::fs::write(path, report.markdown())
            .map_err(BenchError::io(format!("writing {}", path.display())))?;
        eprintln!("keel bench: wrote {}", path.display());
    }
    if common.json {
        let text = serde_json::to_string_pretty(report)
            .map_err(|e| BenchError::Setup(format!("JSON: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// A scratch directory for a journal: under `/dev/shm` (tmpfs) when it exists, else the
/// system temporary directory. Returns the directory and a description of where it is.
pub fn scratch_dir(prefix: &str) -> Result<(tempfile::TempDir, String), BenchError> {
    let shm = std::path::Path::new("/dev/shm");
    let (base, what) = if shm.is_dir() {
        (shm.to_path_buf(), "tmpfs (/dev/shm)")
    } else {
        (std::env::temp_dir(), "the system temporary directory")
    };
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&base)
        .map_err(BenchError::io(format!("creating a directory in {}", base.display())))?;
    let text = format!("{} on {what}", dir.path().display());
    Ok((dir, text))
}

/// The strategy `--wait` or `--core-wait` calls `name`, with the bench's rounds and times
/// (the embedded configuration's: 100 spins, 10 yields, 50 µs naps, 1 ms block timeout).
fn named_wait(name: &str) -> Option<WaitStrategy> {
    WaitStrategy::named(name, 100, 10, 50, 1_000)
}
