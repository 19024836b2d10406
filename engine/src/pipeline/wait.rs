//! How an idle thread waits: for work on a ring, or for room on a full one.
//!
//! Every loop in the pipeline that may find nothing to do calls [`Idle::wait`] between
//! attempts and [`Idle::reset`] after doing work, so the strategy is chosen in one place
//! (configuration) for the core, the gateways and the publishers alike.

use std::time::Duration;

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
}

impl WaitStrategy {
    /// A laptop-friendly default: a short spin, a few yields, then 50 µs naps.
    pub const LAPTOP: WaitStrategy = WaitStrategy::Park { spins: 64, yields: 16, park_us: 50 };
}

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
        self.rounds = self.rounds.saturating_add(1);
        match self.strategy {
            WaitStrategy::BusySpin => std::hint::spin_loop(),
            WaitStrategy::SpinThenYield { spins } => {
                if self.rounds <= spins {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            WaitStrategy::Park { spins, yields, park_us } => {
                if self.rounds <= spins {
                    std::hint::spin_loop();
                } else if self.rounds <= spins.saturating_add(yields) {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(Duration::from_micros(park_us as u64));
                }
            }
        }
    }
}
