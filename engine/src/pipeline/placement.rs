//! Which CPU each pipeline thread is pinned to, if any.
//!
//! `core_affinity::get_core_ids()` returns only the cores this process may run on (its
//! affinity mask), so a plan never names a core the process cannot use, and never pins
//! two threads to one core: threads beyond the cores available stay unpinned. A pinned
//! core that never sleeps (busy-spin, spin-yield) gets its CPU to itself: the pipeline
//! keeps every other thread it starts off it ([`keep_current_off`]).

use core_affinity::CoreId;

/// Where threads go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// Pin threads at all. Off by default: on a laptop or CI box, pinning busy threads to
    /// shared cores only hurts.
    pub pin: bool,
    /// The core thread's CPU; the first allowed one when `None`.
    pub core_cpu: Option<usize>,
    /// Gateway threads' CPUs in gateway order; the next free allowed ones when empty.
    pub gateway_cpus: Vec<usize>,
}

/// The CPU chosen for each thread: index 0 is the core thread, then the gateways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacementPlan {
    /// `Some(cpu)` for a pinned thread.
    pub cpus: Vec<Option<usize>>,
    /// Why some requested pinning was not done (for the log).
    pub notes: Vec<String>,
    /// The core's CPU, when the core has it to itself (set by the pipeline for a pinned
    /// core that never sleeps; the other threads it starts are kept off it).
    pub reserved: Option<usize>,
}

impl Placement {
    /// Plans `1 + gateways` threads against the cores in `allowed`.
    pub fn plan(&self, gateways: usize, allowed: &[usize]) -> PlacementPlan {
        let mut cpus = vec![None; 1 + gateways];
        let mut notes = Vec::new();
        if !self.pin {
            return PlacementPlan { cpus, notes, reserved: None };
        }
        if allowed.is_empty() {
            notes.push("pinning requested but the allowed cores are unknown".into());
            return PlacementPlan { cpus, notes, reserved: None };
        }
        let mut used: Vec<usize> = Vec::new();
        let mut take = |want: Option<usize>, what: &str, notes: &mut Vec<String>| {
            if let Some(c) = want {
                if allowed.contains(&c) && !used.contains(&c) {
                    used.push(c);
                    return Some(c);
                }
                notes.push(format!("{what}: cpu {c} is not allowed or already used"));
            }
            let free = allowed.iter().copied().find(|c| !used.contains(c));
            if let Some(c) = free {
                used.push(c);
            } else {
                notes.push(format!("{what}: no free core left; not pinned"));
            }
            free
        };
        cpus[0] = take(self.core_cpu, "core thread", &mut notes);
        for g in 0..gateways {
            cpus[g + 1] = take(self.gateway_cpus.get(g).copied(), "gateway", &mut notes);
        }
        PlacementPlan { cpus, notes, reserved: None }
    }
}

/// The cores this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect()
}

/// Pins the calling thread to `cpu`; false if the OS refused.
pub fn pin_current(cpu: usize) -> bool {
    core_affinity::set_for_current(CoreId { id: cpu })
}

/// Keeps the calling thread, and every thread it starts from now on, off `cpu`: its
/// affinity becomes `allowed` without `cpu`. False, and nothing changed, when that would
/// leave no CPU or the OS refused (or elsewhere than Linux, which has no such call here).
pub fn keep_current_off(cpu: usize, allowed: &[usize]) -> bool {
    let rest: Vec<usize> = allowed.iter().copied().filter(|&c| c != cpu).collect();
    if rest.is_empty() {
        return false;
    }
    set_current_affinity(&rest)
}

#[cfg(target_os = "linux")]
fn set_current_affinity(cpus: &[usize]) -> bool {
    // SAFETY: `cpu_set_t` is a plain bit set for which all zeroes is the empty set; the
    // `CPU_*` helpers only touch the set they are given (each CPU is checked to fit it),
    // and `sched_setaffinity(0, ..)` reads that set for the calling thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            if c >= libc::CPU_SETSIZE as usize {
                return false;
            }
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn set_current_affinity(_cpus: &[usize]) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_pins_more_threads_than_cores() {
        let p = Placement { pin: true, core_cpu: Some(1), gateway_cpus: vec![1] };
        let plan = p.plan(3, &[0, 1]);
        assert_eq!(plan.cpus, vec![Some(1), Some(0), None, None]);
        assert!(!plan.notes.is_empty());
        assert_eq!(Placement::default().plan(2, &[0, 1]).cpus, vec![None; 3]);
    }
}
