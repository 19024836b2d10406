//! Queue-position models: when a resting order of Keel's would have filled, given only
//! what the recorded market data shows (Keel's order is not in the recording).
//!
//! Every model fills a resting order when the recorded trading goes *through* its price:
//! a print (L2 data: a `trade`; L3 data: an `execute`) on the order's side at a worse
//! price means the whole level at Keel's price was consumed, so Keel's order fills
//! `min(leaves, print qty)` at its own price, as maker. They differ in what a print *at*
//! Keel's price does:
//!
//! - **conservative**: nothing. An order fills only when the price trades through it.
//! - **probabilistic** (`probabilistic[:power=N]`): the order joins behind the recorded
//!   quantity at its level (`ahead` = level quantity on arrival). Prints at the level
//!   consume `ahead` first; what a print leaves over fills Keel's order. A level decrease
//!   not explained by prints is a cancel, taken from ahead of Keel's order with
//!   probability `f(ahead) / (f(ahead) + f(behind))`, `f(x) = x^N` (default N = 2: a
//!   cancel comes more often from the larger part of the queue), drawn from the run's
//!   seeded generator; otherwise from behind (and from ahead for what behind cannot
//!   cover). Increases join behind.
//! - **fifo** (L3 data only): the exact position. `ahead` is the quantity of the recorded
//!   orders that were at the level when Keel's order arrived; deletes, executions and
//!   quantity cuts of those orders reduce it; an order that moves or grows loses its
//!   priority and goes behind. An execution of an order *behind* Keel's would, in
//!   price-time priority, have hit Keel's order first: it fills Keel's order instead.
//!
//! `ahead` never exceeds what the recorded level holds.

use std::fmt;

use super::rng::SplitMix64;

/// Which model, with its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueModel {
    /// Fills only when the price trades through.
    Conservative,
    /// Position estimated from level changes; cancels attributed at random.
    Probabilistic {
        /// Exponent of `f(x) = x^power` (0..=8).
        power: u32,
    },
    /// Exact position from order-by-order data.
    Fifo,
}

impl Default for QueueModel {
    fn default() -> Self {
        QueueModel::Probabilistic { power: 2 }
    }
}

/// A queue spec that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("queue model {spec:?}: {problem}")]
pub struct QueueModelError {
    /// The spec given.
    pub spec: String,
    /// What is wrong.
    pub problem: String,
}

impl QueueModel {
    /// Parses `conservative`, `probabilistic[:power=N]` or `fifo`.
    pub fn parse(spec: &str) -> Result<Self, QueueModelError> {
        let fail = |problem: &str| QueueModelError { spec: spec.into(), problem: problem.into() };
        let (kind, args) = spec.split_once(':').unwrap_or((spec, ""));
        match (kind, args) {
            ("conservative", "") => Ok(QueueModel::Conservative),
            ("fifo", "") => Ok(QueueModel::Fifo),
            ("probabilistic", "") => Ok(QueueModel::default()),
            ("probabilistic", args) => {
                let power = args
                    .strip_prefix("power=")
                    .ok_or_else(|| fail("probabilistic takes power=N"))?
                    .parse::<u32>()
                    .ok()
                    .filter(|p| *p <= 8)
                    .ok_or_else(|| fail("power must be an integer in 0..=8"))?;
                Ok(QueueModel::Probabilistic { power })
            }
            ("conservative" | "fifo", _) => Err(fail("takes no parameters")),
            _ => Err(fail("use conservative, probabilistic[:power=N] or fifo")),
        }
    }
}

impl fmt::Display for QueueModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueModel::Conservative => f.write_str("conservative"),
            QueueModel::Probabilistic { power } => write!(f, "probabilistic:power={power}"),
            QueueModel::Fifo => f.write_str("fifo"),
        }
    }
}

/// Where a resting order of Keel's stands in its level's queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueState {
    /// Recorded quantity ahead of the order, lots.
    pub ahead: i64,
    /// The recorded level quantity as last seen (for L2 deltas), lots.
    pub level_seen: i64,
    /// Print quantity at the level since the level was last updated (L2: the update that
    /// follows a print shows the print's quantity gone; it is not a cancel).
    pub traded_since_update: i64,
    /// FIFO: the venue's event count when the order joined; recorded orders added at or
    /// before it are ahead.
    pub rank: u64,
}

impl QueueState {
    /// An order joining a level that holds `level_qty` recorded lots, at event `rank`.
    pub fn join(level_qty: i64, rank: u64) -> Self {
        QueueState {
            ahead: level_qty.max(0),
            level_seen: level_qty.max(0),
            traded_since_update: 0,
            rank,
        }
    }
}

impl QueueModel {
    /// A print of `qty` at the order's own price (aggressor against the order's side):
    /// returns the quantity that fills the order (at most `leaves`).
    pub fn print_at_level(&self, q: &mut QueueState, qty: i64, leaves: i64) -> i64 {
        q.traded_since_update += qty;
        match self {
            QueueModel::Conservative => 0,
            QueueModel::Probabilistic { .. } | QueueModel::Fifo => {
                let from_ahead = q.ahead.min(qty);
                q.ahead -= from_ahead;
                (qty - from_ahead).min(leaves).max(0)
            }
        }
    }

    /// FIFO: a recorded order at the level executed `qty`. `was_ahead` says whether it
    /// was ahead of Keel's order. Returns the quantity that fills Keel's order.
    pub fn execution_at_level(
        &self,
        q: &mut QueueState,
        qty: i64,
        was_ahead: bool,
        leaves: i64,
    ) -> i64 {
        match self {
            QueueModel::Fifo if was_ahead => {
                q.ahead = (q.ahead - qty).max(0);
                0
            }
            QueueModel::Fifo => {
                // Price-time priority would have matched Keel's order before this one.
                q.ahead = 0;
                qty.min(leaves).max(0)
            }
            _ => self.print_at_level(q, qty, leaves),
        }
    }

    /// FIFO: a recorded order ahead of Keel's left the level or shrank by `qty`.
    pub fn removed_ahead(&self, q: &mut QueueState, qty: i64) {
        q.ahead = (q.ahead - qty).max(0);
    }

    /// The recorded level at the order's price now holds `new_qty` (it held
    /// `q.level_seen`). Decreases not explained by prints since the last update are
    /// cancels, attributed per the model.
    pub fn level_changed(&self, q: &mut QueueState, new_qty: i64, rng: &mut SplitMix64) {
        let old = q.level_seen;
        let decrease = old - new_qty;
        let explained = decrease.clamp(0, q.traded_since_update);
        q.traded_since_update = 0;
        let cancelled = decrease - explained;
        if cancelled > 0
            && let QueueModel::Probabilistic { power } = *self
        {
            let ahead = q.ahead;
            let behind = (old - explained - ahead).max(0);
            let from_ahead = if ahead == 0 {
                false
            } else if behind == 0 {
                true
            } else {
                let (fa, fb) = (pow(ahead as f64, power), pow(behind as f64, power));
                rng.chance(fa / (fa + fb))
            };
            if from_ahead {
                q.ahead -= cancelled.min(ahead);
            } else if cancelled > behind {
                q.ahead -= (cancelled - behind).min(ahead);
            }
        }
        q.level_seen = new_qty.max(0);
        q.ahead = q.ahead.clamp(0, q.level_seen);
    }
}

/// `x^n` by repeated multiplication: exact IEEE operations, the same on every machine
/// (unlike `powf`, which goes through the platform's libm).
fn pow(x: f64, n: u32) -> f64 {
    let mut r = 1.0;
    for _ in 0..n {
        r *= x;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_back() {
        for s in ["conservative", "fifo", "probabilistic:power=2", "probabilistic:power=0"] {
            assert_eq!(QueueModel::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(
            QueueModel::parse("probabilistic").unwrap(),
            QueueModel::Probabilistic { power: 2 }
        );
        assert!(QueueModel::parse("probabilistic:power=9").is_err());
        assert!(QueueModel::parse("fifo:x").is_err());
        assert!(QueueModel::parse("lifo").is_err());
    }

    #[test]
    fn prints_consume_ahead_first() {
        let m = QueueModel::Probabilistic { power: 2 };
        let mut q = QueueState::join(100, 0);
        assert_eq!(m.print_at_level(&mut q, 60, 10), 0);
        assert_eq!(m.print_at_level(&mut q, 45, 10), 5);
        assert_eq!(q.ahead, 0);
        // The update after the prints shows 105 gone: explained, not a cancel.
        let mut rng = SplitMix64::new(1);
        m.level_changed(&mut q, 0, &mut rng);
        assert_eq!((q.ahead, q.level_seen, q.traded_since_update), (0, 0, 0));
        let mut c = QueueState::join(100, 0);
        assert_eq!(QueueModel::Conservative.print_at_level(&mut c, 1000, 10), 0);
    }

    #[test]
    fn cancels_with_nobody_behind_come_from_ahead() {
        let m = QueueModel::Probabilistic { power: 2 };
        let mut rng = SplitMix64::new(9);
        let mut q = QueueState::join(100, 0);
        m.level_changed(&mut q, 70, &mut rng);
        assert_eq!(q.ahead, 70);
        // 50 join behind, then 60 cancel: the draw decides, but ahead never exceeds the level.
        m.level_changed(&mut q, 120, &mut rng);
        m.level_changed(&mut q, 60, &mut rng);
        assert!(q.ahead == 10 || q.ahead == 60, "{q:?}");
    }
}
