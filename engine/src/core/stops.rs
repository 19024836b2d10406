//! Stop, stop-limit and trailing-stop emulation: the rules that decide when a held order
//! is released.
//!
//! Contract:
//! - Stops trigger on trades (trade prints and L3 executions), never on quotes: a buy stop
//!   triggers when a trade prints at or above its stop price, a sell stop at or below.
//! - A trailing stop's trigger follows the market in the order's favour only: for a buy,
//!   `stop = min(stop, last + trail)`; for a sell, `stop = max(stop, last − trail)`. It
//!   never moves against the order.
//! - A trailing stop entered with no initial trigger starts from the reference price
//!   (`reference ± trail`); with no reference price it is rejected.
//! - A triggered stop becomes a market order, a triggered stop-limit a limit order at its
//!   limit price; both then pass through pre-trade risk like any new order.

use crate::{Price, Side};

/// True when a trade at `last` triggers a stop on `side` at `stop`.
#[inline]
pub fn triggers(side: Side, stop: Price, last: Price) -> bool {
    match side {
        Side::Buy => last >= stop,
        Side::Sell => last <= stop,
    }
}

/// The trailing stop's trigger after a trade at `last`.
#[inline]
pub fn trail(side: Side, stop: Price, trail_ticks: i64, last: Price) -> Price {
    match side {
        Side::Buy => Price(stop.0.min(last.0.saturating_add(trail_ticks))),
        Side::Sell => Price(stop.0.max(last.0.saturating_sub(trail_ticks))),
    }
}

/// The first trigger of a trailing stop entered without one.
#[inline]
pub fn initial_trail(side: Side, reference: Price, trail_ticks: i64) -> Price {
    match side {
        Side::Buy => Price(reference.0.saturating_add(trail_ticks)),
        Side::Sell => Price(reference.0.saturating_sub(trail_ticks)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buy_stop_triggers_at_or_above() {
        assert!(!triggers(Side::Buy, Price(100), Price(99)));
        assert!(triggers(Side::Buy, Price(100), Price(100)));
        assert!(triggers(Side::Sell, Price(100), Price(100)));
        assert!(!triggers(Side::Sell, Price(100), Price(101)));
    }

    #[test]
    fn sell_trailing_stop_follows_up_never_down() {
        let mut stop = initial_trail(Side::Sell, Price(100), 5);
        assert_eq!(stop, Price(95));
        stop = trail(Side::Sell, stop, 5, Price(110));
        assert_eq!(stop, Price(105));
        stop = trail(Side::Sell, stop, 5, Price(107));
        assert_eq!(stop, Price(105), "a fall does not lower the trigger");
        assert!(triggers(Side::Sell, stop, Price(105)));
    }

    proptest! {
        #[test]
        fn trailing_trigger_is_monotone_in_the_orders_favour(
            trades in proptest::collection::vec(1i64..10_000, 1..50), t in 1i64..100, buy in any::<bool>(),
        ) {
            let side = if buy { Side::Buy } else { Side::Sell };
            let mut stop = initial_trail(side, Price(trades[0]), t);
            for &p in &trades {
                let next = trail(side, stop, t, Price(p));
                match side {
                    Side::Buy => prop_assert!(next <= stop),
                    Side::Sell => prop_assert!(next >= stop),
                }
                stop = next;
            }
        }
    }
}
