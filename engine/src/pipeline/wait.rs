//! How an idle thread waits: for work on a ring, or for room on a full one.
//!
//! Every loop in the pipeline that may find nothing to do calls [`Idle::wait`] between
//! attempts and [`Idle::reset`] after doing work, so the strategy is chosen in one place
//! (configuration) for the core, the gateways and the publishers alike.

use super::doorbell::Sleeper;
use std::time::Duration;

/// How long a `Block` loop with no one to wake it (waiting for room in a full ring) naps
/// per round once it has spun and yielded, µs.
pub const FULL_RING_NAP_US: u32 = 50;

/// What a thread does while it has nothing to do (design §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStrategy {
    /// Spin without pause: lowest latency, one full core per thread. Production only, on
    /// isolated cores.
    BusySpin,
    /// Spin `spins` rounds with a spin-loop hint, then yield the CPU on every round.
    SpinThenYield {
        /// Rounds of spinning before yielding.
        spins: u32,
    },
    /// Spin, then yield, then sleep `park_us` microseconds per round: for laptops and CI,
    /// where threads outnumber cores.
    Park {
        /// Rounds of spinning before yielding.
        spins: u32,
        /// Rounds of yielding before sleeping.
        yields: u32,
        /// Sleep per round once parked, microseconds.
        park_us: u32,
    },
    /// Spin, then yield, then block until woken by a producer or a watched socket (or
    /// `timeout_us` passes, a safety net): for any box where threads outnumber cores.
    Block {
        /// Rounds of spinning before yielding.
        spins: u32,
        /// Rounds of yielding before blocking.
        yields: u32,
        /// Longest sleep without a wake-up, µs.
        timeout_us: u32,
    },
}

impl WaitStrategy {
    /// A laptop-friendly default: a short spin, a few yields, then 50 µs naps.
    pub const LAPTOP: WaitStrategy = WaitStrategy::Park { spins: 64, yields: 16, park_us: 50 };

    /// The default: block after a short spin and a few yields, waking at least every ms.
    pub const BLOCK: WaitStrategy =
        WaitStrategy::Block { spins: 100, yields: 10, timeout_us: 1_000 };

    /// The strategy a configuration or command line calls `name` (one of [`WAIT_NAMES`]),
    /// with these rounds and times (each strategy takes the ones it uses); `None` for any
    /// other name.
    pub fn named(
        name: &str,
        spins: u32,
        yields: u32,
        park_us: u32,
        timeout_us: u32,
    ) -> Option<WaitStrategy> {
        Some(match name {
            "busy-spin" => WaitStrategy::BusySpin,
            "spin-yield" => WaitStrategy::SpinThenYield { spins },
            "park" => WaitStrategy::Park { spins, yields, park_us },
            "block" => WaitStrategy::Block { spins, yields, timeout_us },
            _ => return None,
        })
    }

    /// True for the strategies whose idle thread never leaves the CPU of its own accord
    /// ([`WaitStrategy::BusySpin`], [`WaitStrategy::SpinThenYield`]).
    pub fn never_sleeps(&self) -> bool {
        matches!(self, WaitStrategy::BusySpin | WaitStrategy::SpinThenYield { .. })
    }

    /// True for [`WaitStrategy::Block`].
    pub fn blocks(&self) -> bool {
        matches!(self, WaitStrategy::Block { .. })
    }
}

/// The names of the strategies, as configurations and command lines spell them.
pub const WAIT_NAMES: [&str; 4] = ["busy-spin", "spin-yield", "park", "block"];

/// A wait loop's state: how long it has been idle.
#[derive(Clone, Debug)]
pub struct Idle {
    strategy: WaitStrategy,
    rounds: u32,
}

impl Idle {
    /// Starts idle-free.
    pub fn new(strategy: WaitStrategy) -> Idle {
        Idle { strategy, rounds: 0 }
    }

    /// Work was done: the next wait starts from spinning again.
    #[inline]
    pub fn reset(&mut self) {
        self.rounds = 0;
    }

    /// Waits one round, per the strategy.
    #[inline]
    pub fn wait(&mut self) {
        match self.strategy {
            WaitStrategy::BusySpin => {
                self.rounds = self.rounds.saturating_add(1);
                std::hint::spin_loop();
            }
            WaitStrategy::SpinThenYield { spins } => {
                if !self.spin_or_yield(spins, u32::MAX) {
                    std::thread::yield_now();
                }
            }
            WaitStrategy::Park { spins, yields, park_us } => {
                if !self.spin_or_yield(spins, yields) {
                    tighten_timer_slack();
                    std::thread::sleep(Duration::from_micros(park_us as u64));
                }
            }
            WaitStrategy::Block { spins, yields, timeout_us } => {
                if !self.spin_or_yield(spins, yields) {
                    tighten_timer_slack();
                    let nap = FULL_RING_NAP_US.min(timeout_us.max(1));
                    std::thread::sleep(Duration::from_micros(nap as u64));
                }
            }
        }
    }

    /// Counts an idle round and spends it spinning, then yielding, while those first two
    /// phases of a strategy last; `false` once they are over (the caller sleeps or blocks).
    #[inline]
    fn spin_or_yield(&mut self, spins: u32, yields: u32) -> bool {
        self.rounds = self.rounds.saturating_add(1);
        if self.rounds <= spins {
            std::hint::spin_loop();
        } else if self.rounds <= spins.saturating_add(yields) {
            std::thread::yield_now();
        } else {
            return false;
        }
        true
    }

    /// Like [`Idle::wait`], but a `Block` strategy past its spins and yields arms
    /// `sleeper` (the caller then looks for work once more) and, on the next idle round,
    /// sleeps until rung or `timeout` (at most the strategy's `timeout_us`). Other
    /// strategies ignore the sleeper. Call [`Idle::reset_sleeper`] after doing work.
    #[inline]
    pub fn wait_or_sleep(&mut self, sleeper: &mut Sleeper, timeout: Option<Duration>) {
        let WaitStrategy::Block { spins, yields, timeout_us } = self.strategy else {
            return self.wait();
        };
        // A thread that watches sockets polls them (a system call each) every round, so
        // its spin rounds last hundreds of microseconds, not a few: and the peer it just
        // handed work to, woken onto this CPU, waits for all of them (measured: the
        // binary gateway's spinning kept the bench client from its ack for ~300 µs). It
        // yields from the first round instead, which lets that peer run at once.
        let spins = if sleeper.watches() { 0 } else { spins };
        if self.spin_or_yield(spins, yields) {
            return;
        }
        if !sleeper.is_armed() {
            sleeper.arm();
        } else {
            let cap = Duration::from_micros(u64::from(timeout_us.max(1)));
            let t = timeout.map_or(cap, |t| t.min(cap));
            if t.is_zero() {
                // Work is due now (a deadline): look again rather than sleep.
                sleeper.disarm();
                std::thread::yield_now();
            } else {
                sleeper.sleep(t);
            }
        }
    }

    /// Like [`Idle::wait`], but a `Block` strategy past its yields calls `block(timeout_us)`
    /// instead of napping: for a loop that blocks on something of its own (a socket with
    /// `poll`) whose readiness the kernel keeps, so no arming is needed. Such a loop looks
    /// at its socket with a system call every round, so it skips the spin rounds and yields
    /// from the first, as a sleeper that watches sockets does ([`Idle::wait_or_sleep`]).
    #[inline]
    pub fn wait_with(&mut self, block: impl FnOnce(Duration)) {
        let WaitStrategy::Block { yields, timeout_us, .. } = self.strategy else {
            return self.wait();
        };
        if !self.spin_or_yield(0, yields) {
            block(Duration::from_micros(u64::from(timeout_us.max(1))));
        }
    }

    /// Work was done: start from spinning again, and tell producers not to ring.
    #[inline]
    pub fn reset_sleeper(&mut self, sleeper: &mut Sleeper) {
        self.rounds = 0;
        sleeper.disarm();
    }
}

/// Makes the calling thread's sleeps end when asked, once per thread.
///
/// Linux lets a sleep run late by the thread's timer slack (50 µs by default) so wake-ups
/// can be batched: a 20 µs park became about 70 µs, and every parked hop of a round trip
/// (gateway, core, gateway) paid it. Measured on the 2-core CI VM: `sleep(20 µs)` took a
/// median of 108 µs with the default slack and 50 µs with 1 ns. A thread that parks asks for
/// 1 ns (`PR_SET_TIMERSLACK`); the price is a few more timer interrupts while idle.
#[inline]
pub(crate) fn tighten_timer_slack() {
    #[cfg(target_os = "linux")]
    {
        use std::cell::Cell;
        thread_local!(static TIGHT: Cell<bool> = const { Cell::new(false) });
        TIGHT.with(|tight| {
            if !tight.get() {
                tight.set(true);
                // SAFETY: PR_SET_TIMERSLACK takes an integer and changes only the calling
                // thread's timer slack; no memory is passed. On failure (an old kernel) the
                // default slack stays, which is only slower.
                unsafe {
                    libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
                }
            }
        });
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn timer_slack_ns() -> u64 {
        // SAFETY: PR_GET_TIMERSLACK takes no pointer; it returns the calling thread's slack.
        unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) as u64 }
    }

    /// A parked thread asks for 1 ns of timer slack; a spinning one keeps the default.
    #[test]
    fn parking_tightens_the_timer_slack_of_its_thread_only() {
        let before = std::thread::spawn(|| {
            let mut idle = Idle::new(WaitStrategy::SpinThenYield { spins: 1 });
            idle.wait();
            idle.wait();
            timer_slack_ns()
        })
        .join()
        .unwrap();
        assert!(before > 1, "the default slack is kept without parking: {before}");
        let after = std::thread::spawn(|| {
            let mut idle = Idle::new(WaitStrategy::Park { spins: 1, yields: 1, park_us: 1 });
            for _ in 0..3 {
                idle.wait();
            }
            timer_slack_ns()
        })
        .join()
        .unwrap();
        assert_eq!(after, 1);
    }

    /// With 3 spins and no yields, a sleeper that watches nothing arms on the fourth idle
    /// round; one that watches a socket arms on the first (its rounds are system calls).
    #[test]
    fn a_sleeper_watching_sockets_skips_the_spin_rounds() {
        let strategy = WaitStrategy::Block { spins: 3, yields: 0, timeout_us: 1_000 };
        let rounds_to_arm = |sleeper: &mut crate::pipeline::Sleeper| {
            let mut idle = Idle::new(strategy);
            (1..=10).find(|_| {
                idle.wait_or_sleep(sleeper, None);
                sleeper.is_armed()
            })
        };
        let (mut plain, _bell) = crate::pipeline::doorbell::doorbell();
        assert!(!plain.watches());
        assert_eq!(rounds_to_arm(&mut plain), Some(4));
        let (mut watching, _bell) = crate::pipeline::doorbell::doorbell();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        watching.watch(listener.as_raw_fd(), crate::pipeline::Trigger::Level).unwrap();
        assert!(watching.watches());
        assert_eq!(rounds_to_arm(&mut watching), Some(1));
    }

    /// Every name in `WAIT_NAMES` gives its strategy with the rounds and times it uses; any
    /// other name none.
    #[test]
    fn strategies_by_name() {
        let named = |n| WaitStrategy::named(n, 1, 2, 3, 4);
        assert_eq!(named("busy-spin"), Some(WaitStrategy::BusySpin));
        assert_eq!(named("spin-yield"), Some(WaitStrategy::SpinThenYield { spins: 1 }));
        assert_eq!(named("park"), Some(WaitStrategy::Park { spins: 1, yields: 2, park_us: 3 }));
        let block = WaitStrategy::Block { spins: 1, yields: 2, timeout_us: 4 };
        assert_eq!(named("block"), Some(block));
        assert!(WAIT_NAMES.iter().all(|n| named(n).is_some()));
        assert_eq!(named("nap"), None);
        assert_eq!(named("Block"), None);
    }

    /// A loop that blocks on its own socket (`wait_with`) also skips the spin rounds: with
    /// 3 spins and 2 yields it blocks on its third idle round, and on every round after.
    #[test]
    fn wait_with_blocks_after_the_yields_only() {
        let mut idle = Idle::new(WaitStrategy::Block { spins: 3, yields: 2, timeout_us: 700 });
        let mut blocked = Vec::new();
        for round in 1..=5 {
            idle.wait_with(|cap| blocked.push((round, cap)));
        }
        let cap = Duration::from_micros(700);
        assert_eq!(blocked, [(3, cap), (4, cap), (5, cap)]);
        idle.reset();
        idle.wait_with(|_| panic!("the first round after work yields"));
    }
}
