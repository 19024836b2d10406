//! What the machine is, and whether it is set up for latency. Read from `/proc` and
//! `/sys` only; nothing is ever changed.
//!
//! Warnings: fewer allowed cores than threads the configuration pins (or than busy
//! threads the mode runs), a CPU frequency governor other than `performance` on a core
//! used, and pinned cores that are not isolated (`isolcpus`, `/sys/devices/system/cpu/
//! isolated`). A machine without cpufreq (most VMs) gets a note, not a warning.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The machine a report was measured on.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Machine {
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// Online CPUs (`available_parallelism`).
    pub cpus_online: usize,
    /// CPUs this process may run on (`core_affinity::get_core_ids`).
    pub cpus_allowed: Vec<usize>,
    /// Kernel release.
    pub kernel: String,
    /// 1-minute load average at the start of the run.
    pub load_avg_1m_start: f64,
    /// 1-minute load average at the end of the run.
    pub load_avg_1m_end: f64,
    /// Frequency governor per allowed CPU, when exposed.
    pub governors: Vec<String>,
    /// `/sys/devices/system/cpu/isolated`, as written there ("" for none).
    pub isolated: String,
    /// When the run started, UTC (RFC 3339).
    pub date_utc: String,
    /// rustc and profile this binary was built with.
    pub build: String,
}

/// Reads the machine's description (load at start; call [`Machine::finish`] at the end).
pub fn machine() -> Machine {
    let cpus_allowed = allowed_cpus();
    let governors = cpus_allowed
        .iter()
        .filter_map(|c| {
            read_trimmed(&format!("/sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor"))
        })
        .collect();
    Machine {
        cpu_model: cpu_model(),
        cpus_online: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpus_allowed,
        kernel: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_default(),
        load_avg_1m_start: load_avg(),
        load_avg_1m_end: 0.0,
        governors,
        isolated: read_trimmed("/sys/devices/system/cpu/isolated").unwrap_or_default(),
        date_utc: keel_replay::format::utc(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
        ),
        build: if cfg!(debug_assertions) { "debug".into() } else { "release".into() },
    }
}

impl Machine {
    /// Records the end-of-run load.
    pub fn finish(&mut self) {
        self.load_avg_1m_end = load_avg();
    }
}

/// The CPUs this process may use.
pub fn allowed_cpus() -> Vec<usize> {
    keel_engine::pipeline::placement::allowed_cpus()
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(Path::new(path)).ok().map(|s| s.trim().to_string())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn load_avg() -> f64 {
    read_trimmed("/proc/loadavg")
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// Parses a kernel CPU list such as `2-3,6` into CPU numbers.
pub fn parse_cpu_list(s: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(c) = part.parse() {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Warnings about the set-up of a run that pins `pinned` CPUs and keeps `busy_threads`
/// threads busy.
pub fn warnings(
    m: &Machine,
    pinned: &[usize],
    pin_requested: usize,
    busy_threads: usize,
) -> Vec<String> {
    let mut w = Vec::new();
    let allowed = m.cpus_allowed.len();
    if pin_requested > allowed {
        w.push(format!(
            "the configuration pins {pin_requested} threads but this process may use only {allowed} cores: {} stay unpinned",
            pin_requested - allowed
        ));
    }
    if busy_threads > allowed {
        w.push(format!(
            "{busy_threads} busy threads share {allowed} cores: figures include scheduling delays"
        ));
    }
    if m.governors.is_empty() {
        w.push("no CPU frequency governor is exposed in /sys (typical of a VM): frequency scaling unknown".into());
    } else if let Some(g) = m.governors.iter().find(|g| g.as_str() != "performance") {
        w.push(format!(
            "CPU frequency governor is '{g}', not 'performance' (cpufreq/scaling_governor); not changed"
        ));
    }
    let isolated = parse_cpu_list(&m.isolated);
    if pinned.is_empty() {
        w.push("threads are not pinned (--pin): the scheduler may move them".into());
    } else {
        let not: Vec<String> =
            pinned.iter().filter(|c| !isolated.contains(c)).map(|c| c.to_string()).collect();
        if !not.is_empty() {
            w.push(format!(
                "pinned cpus {} are not isolated (/sys/devices/system/cpu/isolated = '{}'): other tasks may run there",
                not.join(","),
                m.isolated
            ));
        }
    }
    if m.build == "debug" {
        w.push("debug build: figures are not representative (build with --release)".into());
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_cpu_list("2-3,6"), vec![2, 3, 6]);
        assert_eq!(parse_cpu_list(""), Vec::<usize>::new());
        assert_eq!(parse_cpu_list("0"), vec![0]);
    }

    #[test]
    fn warns_about_pinning_more_than_allowed_and_powersave() {
        let m = Machine {
            cpus_allowed: vec![0, 1],
            governors: vec!["powersave".into()],
            isolated: "1".into(),
            build: "release".into(),
            ..Machine::default()
        };
        let w = warnings(&m, &[0, 1], 3, 3);
        assert!(w.iter().any(|s| s.contains("pins 3 threads")), "{w:?}");
        assert!(w.iter().any(|s| s.contains("3 busy threads")), "{w:?}");
        assert!(w.iter().any(|s| s.contains("powersave")), "{w:?}");
        assert!(w.iter().any(|s| s.contains("pinned cpus 0 are not isolated")), "{w:?}");
        let ok = Machine {
            cpus_allowed: vec![0, 1, 2],
            governors: vec!["performance".into()],
            isolated: "0-2".into(),
            build: "release".into(),
            ..Machine::default()
        };
        assert!(warnings(&ok, &[1, 2], 2, 2).is_empty());
    }
}
