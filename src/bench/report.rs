//! The report of one `keel bench` run: what was measured, on what machine, with what
//! settings; each measurement's throughput and corrected / uncorrected percentiles; the
//! ratio of each subject to its floor measured in the same run; targets met or not.
//!
//! Rendered as a table for people ([`Report::table`]), JSON for machines (the serde form
//! of [`Report`]), and, per measurement, the standard HdrHistogram percentile
//! distribution text ([`write_hgrm`]).
//!
//! Invariants the tests check: percentiles are ordered (p50 ≤ p90 ≤ … ≤ max); a
//! measurement's corrected count is its recorded operations plus the samples the
//! correction added; every ratio names a subject and a floor present in the report.

use super::histogram::{Percentiles, QUANTILES, Recorder};
use super::system::Machine;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A whole run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// `core`, `journal`, `pipeline` or `wire`.
    pub mode: String,
    /// The command line that produced it.
    pub command: String,
    /// One sentence: what was measured.
    pub what: String,
    /// Mode-specific facts worth stating (the command mix, the journal directory, ...).
    pub notes: Vec<String>,
    /// The settings in force.
    pub settings: Settings,
    /// The machine.
    pub machine: Machine,
    /// Set-up problems (cores, governor, isolation).
    pub warnings: Vec<String>,
    /// Subjects and floors.
    pub measurements: Vec<Measurement>,
    /// Each subject against its floor.
    pub ratios: Vec<Ratio>,
    /// Targets stated by the project, as ratios.
    pub targets: Vec<Target>,
    /// Bulk throughput figures (no per-operation latency), e.g. journal verification.
    pub throughputs: Vec<Throughput>,
}

/// A bulk throughput figure.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Throughput {
    /// Short id.
    pub name: String,
    /// Subject or floor.
    pub role: Role,
    /// What was done.
    pub what: String,
    /// Items (records) processed.
    pub items: u64,
    /// Bytes processed.
    pub bytes: u64,
    /// Wall time, s.
    pub elapsed_s: f64,
    /// Items per second.
    pub items_per_s: f64,
    /// Bytes per second.
    pub bytes_per_s: f64,
    /// The floor this is compared with, if any.
    pub floor: Option<String>,
    /// Time ratio to the floor: floor bytes/s ÷ these bytes/s (1.0 = as fast as the floor).
    pub ratio_to_floor: Option<f64>,
}

impl Throughput {
    /// A figure from a count, a byte count and a wall time.
    pub fn new(
        name: &str,
        role: Role,
        what: &str,
        items: u64,
        bytes: u64,
        elapsed_ns: u64,
    ) -> Self {
        let s = elapsed_ns.max(1) as f64 / 1e9;
        Throughput {
            name: name.into(),
            role,
            what: what.into(),
            items,
            bytes,
            elapsed_s: s,
            items_per_s: items as f64 / s,
            bytes_per_s: bytes as f64 / s,
            floor: None,
            ratio_to_floor: None,
        }
    }

    /// Compares with `floor` (by bytes per second).
    pub fn against(mut self, floor: &Throughput) -> Self {
        self.floor = Some(floor.name.clone());
        self.ratio_to_floor = Some(floor.bytes_per_s / self.bytes_per_s.max(1e-9));
        self
    }
}

/// The settings of a run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Operations per second; 0 = unthrottled.
    pub rate_per_s: u64,
    /// Measured time, s.
    pub duration_s: f64,
    /// Unmeasured time first, s.
    pub warmup_s: f64,
    /// Wait strategy of idle loops.
    pub wait: String,
    /// The core thread's, when it differs from `wait`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_wait: Option<String>,
    /// Pinning requested.
    pub pin: bool,
    /// The CPU each pinned thread got (thread name → cpu).
    pub pinned: BTreeMap<String, usize>,
}

/// Whether a measurement is what is benchmarked or the bare floor it is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// What is benchmarked.
    Subject,
    /// The bare floor measured in the same run.
    Floor,
}

/// One measured thing.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Measurement {
    /// Short id, e.g. `tick_to_trade`, `floor_two_rings`.
    pub name: String,
    /// Subject or floor.
    pub role: Role,
    /// What one operation is.
    pub what: String,
    /// Operations measured (after warm-up).
    pub operations: u64,
    /// Wall time of the measured part, s.
    pub elapsed_s: f64,
    /// Operations per second of wall time.
    pub throughput_per_s: f64,
    /// How coordinated omission was corrected.
    pub correction: String,
    /// Corrected latency (the figure to read).
    pub latency: Percentiles,
    /// Service time: from the actual send or start.
    pub uncorrected: Percentiles,
    /// Samples added by closed-loop correction (0 for open loop).
    pub co_added_samples: u64,
    /// Samples clamped to one hour.
    pub clamped: u64,
    /// Mode-specific counts (ticks sent, orders received, unanswered, ...).
    pub counts: BTreeMap<String, u64>,
    /// The corrected histogram (for `.hgrm` and the chart; not in JSON).
    #[serde(skip)]
    pub histogram: Option<Histogram<u64>>,
}

impl Measurement {
    /// A measurement from a recorder.
    pub fn from_recorder(
        name: &str,
        role: Role,
        what: impl Into<String>,
        rec: &Recorder,
        operations: u64,
        elapsed_ns: u64,
    ) -> Measurement {
        let correction = match rec.closed_loop_interval_ns() {
            Some(i) => format!(
                "closed loop: service times corrected with clone_correct at the mean interval ({i} ns)"
            ),
            None => "open loop: latency counted from each operation's intended send time".into(),
        };
        Measurement {
            name: name.into(),
            role,
            what: what.into(),
            operations,
            elapsed_s: elapsed_ns as f64 / 1e9,
            throughput_per_s: operations as f64 * 1e9 / elapsed_ns.max(1) as f64,
            correction,
            latency: Percentiles::of(rec.corrected()),
            uncorrected: Percentiles::of(rec.uncorrected()),
            co_added_samples: rec.added_samples(),
            clamped: rec.clamped(),
            counts: BTreeMap::new(),
            histogram: Some(rec.corrected().clone()),
        }
    }

    /// Adds a named count.
    pub fn count(mut self, name: &str, n: u64) -> Measurement {
        self.counts.insert(name.into(), n);
        self
    }
}

/// A subject against its floor, as cost ratios (how many times the floor's cost; 1.0 =
/// as fast as the floor): latency subject ÷ floor per percentile, and time per operation
/// (floor ops/s ÷ subject ops/s).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Ratio {
    /// Subject measurement name.
    pub subject: String,
    /// Floor measurement name.
    pub floor: String,
    /// Corrected latency ratios: p50, p90, p99, p99.9, p99.99, max.
    pub latency: RatioSet,
    /// Service-time ratios.
    pub uncorrected: RatioSet,
    /// Wall time per operation, subject ÷ floor (= floor ops/s ÷ subject ops/s).
    pub time_per_op: f64,
}

/// Ratios per percentile.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RatioSet {
    /// p50.
    pub p50: f64,
    /// p90.
    pub p90: f64,
    /// p99.
    pub p99: f64,
    /// p99.9.
    pub p99_9: f64,
    /// p99.99.
    pub p99_99: f64,
    /// max.
    pub max: f64,
}

impl RatioSet {
    fn of(s: &Percentiles, f: &Percentiles) -> RatioSet {
        let r = |a: u64, b: u64| a as f64 / b.max(1) as f64;
        RatioSet {
            p50: r(s.p50_ns, f.p50_ns),
            p90: r(s.p90_ns, f.p90_ns),
            p99: r(s.p99_ns, f.p99_ns),
            p99_9: r(s.p99_9_ns, f.p99_9_ns),
            p99_99: r(s.p99_99_ns, f.p99_99_ns),
            max: r(s.max_ns, f.max_ns),
        }
    }

    fn values(&self) -> [f64; 6] {
        [self.p50, self.p90, self.p99, self.p99_9, self.p99_99, self.max]
    }
}

/// A target stated as a ratio.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Target {
    /// What, in words.
    pub what: String,
    /// The measured ratio.
    pub ratio: f64,
    /// The limit.
    pub limit: f64,
    /// `ratio <= limit`.
    pub met: bool,
}

impl Report {
    /// Adds the ratio of `subject` to `floor` (both must be measurements of this report).
    pub fn add_ratio(&mut self, subject: &str, floor: &str) {
        let find = |n: &str| self.measurements.iter().find(|m| m.name == n);
        let (Some(s), Some(f)) = (find(subject), find(floor)) else {
            debug_assert!(false, "ratio of unknown measurements {subject} / {floor}");
            return;
        };
        let ratio = Ratio {
            subject: subject.into(),
            floor: floor.into(),
            latency: RatioSet::of(&s.latency, &f.latency),
            uncorrected: RatioSet::of(&s.uncorrected, &f.uncorrected),
            time_per_op: f.throughput_per_s / s.throughput_per_s.max(1e-9),
        };
        self.ratios.push(ratio);
    }

    /// Adds a target on the corrected p50 ratio of `subject` to `floor`.
    /// Adds two targets on the p50 ratio of `subject` to `floor`: on the corrected
    /// latency (from the intended send time) and on the service time (from the actual send
    /// or ingress stamp).
    pub fn add_p50_target(&mut self, subject: &str, floor: &str, limit: f64, what: &str) {
        if let Some(r) = self.ratios.iter().find(|r| r.subject == subject && r.floor == floor) {
            let (corrected, service) = (r.latency.p50, r.uncorrected.p50);
            self.targets.push(Target {
                what: format!("{what} (corrected, from the intended send time)"),
                ratio: corrected,
                limit,
                met: corrected <= limit,
            });
            self.targets.push(Target {
                what: format!("{what} (service time, from the actual send / ingress stamp)"),
                ratio: service,
                limit,
                met: service <= limit,
            });
        }
    }

    /// The report as a Markdown section (for `docs/benchmarks.md`): the command, a table
    /// of corrected percentiles with the ratio rows, service times, notes, warnings,
    /// targets. The machine is described by the caller once for a set of reports.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "### `{}`: {}\n", self.mode, self.what);
        let _ = writeln!(s, "```sh\n{}\n```\n", self.command);
        let _ = writeln!(
            s,
            "| measurement | ops | ops/s | p50 | p90 | p99 | p99.9 | p99.99 | max |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for m in &self.measurements {
            let tag = if m.role == Role::Floor { " (floor)" } else { "" };
            let v: Vec<String> = m.latency.values().iter().map(|v| ns_text(*v)).collect();
            let _ = writeln!(
                s,
                "| `{}`{tag} | {} | {} | {} |",
                m.name,
                m.operations,
                si(m.throughput_per_s),
                v.join(" | ")
            );
        }
        for r in &self.ratios {
            let v: Vec<String> =
                r.latency.values().iter().map(|v| format!("**{v:.2}x**")).collect();
            let _ = writeln!(
                s,
                "| ratio `{}` / `{}` | | {:.2}x | {} |",
                r.subject,
                r.floor,
                r.time_per_op,
                v.join(" | ")
            );
        }
        let _ = writeln!(
            s,
            "\nLatency corrected for coordinated omission; ratios are the subject's cost in multiples of the floor's (ops/s column: time per operation). Service time, from the actual send:\n"
        );
        for m in &self.measurements {
            let v: Vec<String> = QUANTILES
                .iter()
                .map(|(l, _)| *l)
                .chain(std::iter::once("max"))
                .zip(m.uncorrected.values())
                .map(|(l, v)| format!("{l} {}", ns_text(v)))
                .collect();
            let _ = writeln!(s, "- `{}`: {}", m.name, v.join(", "));
        }
        for r in &self.ratios {
            let _ = writeln!(
                s,
                "- service-time ratio `{}` / `{}`: p50 {:.2}x, p99 {:.2}x, p99.9 {:.2}x",
                r.subject, r.floor, r.uncorrected.p50, r.uncorrected.p99, r.uncorrected.p99_9
            );
        }
        if !self.throughputs.is_empty() {
            let _ = writeln!(
                s,
                "\n| throughput | records | MiB | s | records/s | GiB/s | vs floor |\n|---|---:|---:|---:|---:|---:|---:|"
            );
            for t in &self.throughputs {
                let tag = if t.role == Role::Floor { " (floor)" } else { "" };
                let _ = writeln!(
                    s,
                    "| `{}`{tag} | {} | {:.1} | {:.3} | {} | {:.2} | {} |",
                    t.name,
                    t.items,
                    t.bytes as f64 / (1u64 << 20) as f64,
                    t.elapsed_s,
                    si(t.items_per_s),
                    t.bytes_per_s / (1u64 << 30) as f64,
                    t.ratio_to_floor.map_or(String::new(), |r| format!("{r:.2}x"))
                );
            }
        }
        let _ = writeln!(s);
        for m in &self.measurements {
            let _ = writeln!(s, "- `{}`: {}. {}.", m.name, m.what, m.correction);
            let mut extra: Vec<String> = m.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if m.co_added_samples > 0 {
                extra.push(format!("co_added_samples={}", m.co_added_samples));
            }
            if !extra.is_empty() {
                let _ = writeln!(s, "  Counts: {}.", extra.join(", "));
            }
        }
        for t in &self.throughputs {
            let _ = writeln!(s, "- `{}`: {}.", t.name, t.what);
        }
        for n in &self.notes {
            let _ = writeln!(s, "- {n}");
        }
        for w in &self.warnings {
            let _ = writeln!(s, "- Warning: {w}");
        }
        for t in &self.targets {
            let _ = writeln!(
                s,
                "- **Target: {}: ratio {:.2}x, limit {:.1}x — {}.**",
                t.what,
                t.ratio,
                t.limit,
                if t.met { "met" } else { "not met" }
            );
        }
        s
    }

    /// The human table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "keel bench {}: {}", self.mode, self.what);
        for n in &self.notes {
            let _ = writeln!(s, "  {n}");
        }
        let st = &self.settings;
        let rate = if st.rate_per_s == 0 {
            "unthrottled".to_string()
        } else {
            format!("{}/s open loop", st.rate_per_s)
        };
        let pinned = if st.pinned.is_empty() {
            "not pinned".to_string()
        } else {
            st.pinned.iter().map(|(t, c)| format!("{t}→cpu{c}")).collect::<Vec<_>>().join(" ")
        };
        let core_wait = st.core_wait.as_ref().map_or(String::new(), |w| format!(" (core {w})"));
        let _ = writeln!(
            s,
            "  rate {rate}, warm-up {} s, duration {} s, wait {}{core_wait}, {pinned}",
            st.warmup_s, st.duration_s, st.wait
        );
        let m = &self.machine;
        let _ = writeln!(
            s,
            "  machine: {} × {} allowed ({} online), kernel {}, load {:.2} → {:.2}, {} build, {}",
            m.cpu_model,
            m.cpus_allowed.len(),
            m.cpus_online,
            m.kernel,
            m.load_avg_1m_start,
            m.load_avg_1m_end,
            m.build,
            m.date_utc
        );
        for w in &self.warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
        let _ = writeln!(s);
        let head = ["measurement", "ops", "ops/s", "p50", "p90", "p99", "p99.9", "p99.99", "max"];
        let mut rows: Vec<Vec<String>> = vec![head.iter().map(|h| h.to_string()).collect()];
        for me in &self.measurements {
            let tag = if me.role == Role::Floor { " (floor)" } else { "" };
            let mut row = vec![
                format!("{}{tag}", me.name),
                me.operations.to_string(),
                si(me.throughput_per_s),
            ];
            row.extend(me.latency.values().iter().map(|v| ns_text(*v)));
            rows.push(row);
        }
        for r in &self.ratios {
            let mut row = vec![
                format!("ratio {} / {}", r.subject, r.floor),
                String::new(),
                format!("{:.2}x", r.time_per_op),
            ];
            row.extend(r.latency.values().iter().map(|v| format!("{v:.2}x")));
            rows.push(row);
        }
        s.push_str(&render_rows(&rows));
        if !self.ratios.is_empty() {
            let _ = writeln!(
                s,
                "  ratios: the subject's cost in multiples of the floor's (per percentile; in the ops/s column, time per operation)"
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  latency: corrected for coordinated omission; service time (from the actual send):"
        );
        for me in &self.measurements {
            let v: Vec<String> = QUANTILES
                .iter()
                .map(|(l, _)| *l)
                .chain(std::iter::once("max"))
                .zip(me.uncorrected.values())
                .map(|(l, v)| format!("{l} {}", ns_text(v)))
                .collect();
            let _ = writeln!(s, "    {:<22} {}", me.name, v.join("  "));
        }
        for me in &self.measurements {
            let mut extra: Vec<String> =
                me.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if me.co_added_samples > 0 {
                extra.push(format!("co_added_samples={}", me.co_added_samples));
            }
            if me.clamped > 0 {
                extra.push(format!("clamped={}", me.clamped));
            }
            let _ = writeln!(s, "  {}: {}", me.name, me.what);
            let _ = writeln!(s, "    {}", me.correction);
            if !extra.is_empty() {
                let _ = writeln!(s, "    {}", extra.join(" "));
            }
        }
        if !self.throughputs.is_empty() {
            let _ = writeln!(s);
            let mut rows: Vec<Vec<String>> = vec![
                ["throughput", "records", "MiB", "s", "records/s", "GiB/s", "vs floor"]
                    .iter()
                    .map(|h| h.to_string())
                    .collect(),
            ];
            for t in &self.throughputs {
                let tag = if t.role == Role::Floor { " (floor)" } else { "" };
                rows.push(vec![
                    format!("{}{tag}", t.name),
                    t.items.to_string(),
                    format!("{:.1}", t.bytes as f64 / (1u64 << 20) as f64),
                    format!("{:.3}", t.elapsed_s),
                    si(t.items_per_s),
                    format!("{:.2}", t.bytes_per_s / (1u64 << 30) as f64),
                    t.ratio_to_floor.map_or(String::new(), |r| format!("{r:.2}x")),
                ]);
            }
            s.push_str(&render_rows(&rows));
            for t in &self.throughputs {
                let _ = writeln!(s, "  {}: {}", t.name, t.what);
            }
        }
        for t in &self.targets {
            let _ = writeln!(
                s,
                "  target: {} — ratio {:.2}x, limit {:.1}x: {}",
                t.what,
                t.ratio,
                t.limit,
                if t.met { "met" } else { "NOT met" }
            );
        }
        s
    }
}

fn render_rows(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|v| v.chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in rows {
        s.push_str("  ");
        for (c, v) in r.iter().enumerate() {
            let pad = width[c] - v.chars().count();
            if c == 0 {
                s.push_str(v);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(v);
            }
        }
        s.push('\n');
    }
    s
}

/// Nanoseconds as text with a fitting unit.
pub fn ns_text(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.2} µs", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.2} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}

fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// Writes `h` in HdrHistogram's percentile-distribution text format (as printed by
/// `outputPercentileDistribution` with 5 ticks per half distance), values in
/// microseconds (value unit scaling ratio 1000 from nanoseconds).
pub fn write_hgrm(h: &Histogram<u64>, out: &mut impl std::io::Write) -> std::io::Result<()> {
    const SCALE: f64 = 1_000.0;
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total = 0u64;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let value = v.value_iterated_to() as f64 / SCALE;
        if q < 1.0 {
            writeln!(out, "{value:12.3} {q:2.12} {total:10} {:14.2}", 1.0 / (1.0 - q))?;
        } else {
            writeln!(out, "{value:12.3} {q:2.12} {total:10}")?;
        }
    }
    let (mean, stdev) = if h.is_empty() { (0.0, 0.0) } else { (h.mean(), h.stdev()) };
    writeln!(out, "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]", mean / SCALE, stdev / SCALE)?;
    writeln!(out, "#[Max     = {:12.3}, Total count    = {:12}]", h.max() as f64 / SCALE, h.len())?;
    writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        // What `sub_bucket_count` is for these significant digits (not public).
        (2 * 10u64.pow(u32::from(super::histogram::SIGFIG))).next_power_of_two()
    )?;
    out.flush()
}

/// The `.hgrm` file of measurement `i`: the first subject gets `path` itself, the others
/// `<stem>.<name>.<ext>` beside it.
pub fn hgrm_path(path: &std::path::Path, name: &str, first: bool) -> std::path::PathBuf {
    if first {
        return path.to_path_buf();
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("latency");
    let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("hgrm");
    path.with_file_name(format!("{stem}.{name}.{ext}"))
}

/// Writes one `.hgrm` file per measurement (see [`hgrm_path`]); returns the paths.
pub fn write_hgrm_files(
    report: &Report,
    path: &std::path::Path,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    for (i, m) in report.measurements.iter().enumerate() {
        let Some(h) = &m.histogram else { continue };
        let p = hgrm_path(path, &m.name, i == 0);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&p)?);
        write_hgrm(h, &mut f)?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::histogram::Recorder;

    fn report() -> Report {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        for v in 1..=1000u64 {
            a.record(0, 0, v * 10);
            b.record(0, 0, v);
        }
        Report {
            mode: "test".into(),
            command: "keel bench test".into(),
            what: "a test".into(),
            notes: vec![],
            settings: Settings::default(),
            machine: Machine::default(),
            warnings: vec![],
            measurements: vec![
                Measurement::from_recorder("subject", Role::Subject, "x", &a, 1000, 1_000_000),
                Measurement::from_recorder("floor", Role::Floor, "y", &b, 1000, 500_000),
            ],
            ratios: vec![],
            targets: vec![],
            throughputs: vec![],
        }
    }

    #[test]
    fn ratios_and_targets() {
        let mut r = report();
        r.add_ratio("subject", "floor");
        r.add_p50_target("subject", "floor", 3.0, "p50 within 3x");
        let ratio = &r.ratios[0];
        assert!((ratio.latency.p50 - 10.0).abs() < 0.05, "{ratio:?}");
        assert!((ratio.time_per_op - 2.0).abs() < 1e-9);
        assert!(!r.targets[0].met);
        let table = r.table();
        assert!(table.contains("ratio subject / floor"), "{table}");
        assert!(table.contains("NOT met"), "{table}");
        let md = r.markdown();
        assert!(md.contains("| ratio `subject` / `floor` |"), "{md}");
        assert!(md.contains("keel bench test"), "{md}");
        let json = serde_json::to_string(&r).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back.ratios.len(), 1);
        assert_eq!(
            (back.ratios[0].subject.as_str(), back.ratios[0].floor.as_str()),
            ("subject", "floor")
        );
        assert!((back.ratios[0].latency.p50 - ratio.latency.p50).abs() < 1e-9);
        assert_eq!(back.measurements[0].latency.count, 1000);
    }

    #[test]
    fn hgrm_has_the_standard_shape() {
        let r = report();
        let mut out = Vec::new();
        write_hgrm(r.measurements[0].histogram.as_ref().unwrap(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert!(lines.next().unwrap().contains("Value"));
        let rows: Vec<&str> =
            text.lines().skip(2).filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
        assert!(rows.len() > 10);
        let parse = |l: &str| -> (f64, f64, u64) {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap())
        };
        let parsed: Vec<_> = rows.iter().map(|l| parse(l)).collect();
        assert!(
            parsed.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1 && w[0].2 <= w[1].2)
        );
        assert_eq!(parsed.last().unwrap().2, 1000);
        assert!((parsed.last().unwrap().1 - 1.0).abs() < 1e-12);
        assert!(
            text.contains("#[Max     =       10.007, Total count    =         1000]"),
            "{text}"
        );
        assert!(text.contains("SubBuckets     =         2048]"), "{text}");
    }

    #[test]
    fn hgrm_paths() {
        let p = std::path::Path::new("/tmp/x/lat.hgrm");
        assert_eq!(hgrm_path(p, "a", true), p);
        assert_eq!(hgrm_path(p, "floor_x", false), std::path::Path::new("/tmp/x/lat.floor_x.hgrm"));
    }
}
