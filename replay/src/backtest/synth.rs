//! A seeded generator of realistic synthetic L2 market data, so a backtest runs on a fresh
//! machine with no data (`keel backtest synth`), and the benchmark has a data set of any
//! size.
//!
//! The book of `SYN-USD` (tick 0.01, lot 0.001) keeps about `levels` price levels a side,
//! deeper levels larger. Each step is one market event, written as the L2 updates and
//! trade prints a venue would publish for it:
//!
//! | share | event | rows |
//! |---:|---|---|
//! | 58% | an order joins or leaves a level (depth drawn with weight 0.75^depth) | `l2` |
//! | 15% | a market order: a print per level it reaches, the levels it took updated or removed (10% of them sweep beyond the best level) | `trade` …, `l2` … |
//! | 12% | a new best level inside the spread (or, at a one-tick spread, a join at the best) | `l2` |
//! | 10% | an order joins one of the three deepest levels | `l2` |
//! | 5% | the best level is cancelled whole | `l2` |
//!
//! Aggressor sides are autocorrelated (65% repeat), so the price trends and reverts; a
//! spread wider than 4 ticks is always narrowed next. Levels removed at the front are
//! replaced at the back, so depth stays stable. Exchange times advance by a mixture of
//! bursts (30%: uniform up to a fifth of the mean gap) and calm (uniform up to twice the
//! mean gap); local times add a feed latency of `feed_latency_ns` plus uniform jitter up
//! to `2 × jitter_ns`, with a 1% chance of a 20× spike. Only integer arithmetic and exact
//! comparisons are used, so a seed gives the same data on every machine.

use std::collections::VecDeque;

use keel_engine::core::FeedKind;
use keel_engine::{InstrumentId, Price, Qty, Side, TimestampNs};
use rust_decimal::Decimal;

use super::event::{MdEvent, MdKind};
use super::rng::SplitMix64;
use super::source::{DataError, EventSource, SourceProgress};
use super::spec::{DataSpec, InstrumentSpec};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthConfig {
    /// Events (rows) to produce.
    pub events: u64,
    /// Seed.
    pub seed: u64,
    /// Exchange time of the first event, UTC ns.
    pub start_ns: u64,
    /// Mean time between market events, ns.
    pub mean_gap_ns: u64,
    /// Base feed latency (local − exchange time), ns.
    pub feed_latency_ns: u64,
    /// Jitter of the feed latency, ns.
    pub jitter_ns: u64,
    /// Levels per side.
    pub levels: usize,
    /// Starting best bid, ticks.
    pub start_bid_ticks: i64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            events: 1_000_000,
            seed: 42,
            start_ns: 1_767_312_000_000_000_000, // 2026-01-02T00:00:00Z
            mean_gap_ns: 50_000,
            feed_latency_ns: 200_000,
            jitter_ns: 25_000,
            levels: 20,
            start_bid_ticks: 10_000,
        }
    }
}

/// The data description of the generated data.
pub fn synth_spec() -> DataSpec {
    DataSpec {
        feed: FeedKind::L2,
        venue_id: 1,
        venue_name: "SYN".into(),
        instruments: vec![InstrumentSpec {
            symbol: "SYN-USD".into(),
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, 3),
            currency: "USD".into(),
        }],
    }
}

/// The generator: an [`EventSource`] and an iterator of events.
pub struct Synth {
    cfg: SynthConfig,
    rng: SplitMix64,
    /// Best first.
    bids: VecDeque<(i64, i64)>,
    asks: VecDeque<(i64, i64)>,
    ts: u64,
    emitted: u64,
    pending: VecDeque<MdEvent>,
    last_aggressor: Side,
}

const INSTRUMENT: InstrumentId = InstrumentId(0);

impl Synth {
    /// A generator that first emits the starting book.
    pub fn new(cfg: SynthConfig) -> Synth {
        let mut s = Synth {
            rng: SplitMix64::new(cfg.seed),
            bids: VecDeque::with_capacity(cfg.levels * 2),
            asks: VecDeque::with_capacity(cfg.levels * 2),
            ts: cfg.start_ns,
            emitted: 0,
            pending: VecDeque::with_capacity(64),
            last_aggressor: Side::Buy,
            cfg,
        };
        let levels = s.cfg.levels.max(4);
        for d in 0..levels as i64 {
            let bid = (s.cfg.start_bid_ticks - d, s.level_size(d as usize));
            let ask = (s.cfg.start_bid_ticks + 1 + d, s.level_size(d as usize));
            s.bids.push_back(bid);
            s.asks.push_back(ask);
        }
        for d in 0..levels {
            let (p, q) = s.bids[d];
            s.emit_l2(Side::Buy, p, q);
            let (p, q) = s.asks[d];
            s.emit_l2(Side::Sell, p, q);
        }
        s
    }

    fn level_size(&mut self, depth: usize) -> i64 {
        let base = 20 + self.rng.below(180) as i64;
        base * (4 + depth as i64) / 4
    }

    fn side(&mut self) -> Side {
        if self.rng.below(2) == 0 { Side::Buy } else { Side::Sell }
    }

    fn book(&mut self, side: Side) -> &mut VecDeque<(i64, i64)> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn event(&mut self, kind: MdKind, side: Option<Side>, price: i64, qty: i64) {
        let mut latency = self.cfg.feed_latency_ns + self.rng.below(2 * self.cfg.jitter_ns + 1);
        if self.rng.below(100) == 0 {
            latency += self.rng.below(20 * self.cfg.jitter_ns + 1);
        }
        let mut e = MdEvent::new(kind, INSTRUMENT);
        e.exchange_ts = TimestampNs(self.ts);
        e.local_ts = TimestampNs(self.ts + latency);
        e.side = side;
        e.price = Price(price);
        e.qty = Qty(qty);
        self.pending.push_back(e);
    }

    fn emit_l2(&mut self, side: Side, price: i64, qty: i64) {
        self.event(MdKind::L2, Some(side), price, qty);
    }

    /// Adds a level behind the last one on `side` (gaps of one or two ticks).
    fn refill(&mut self, side: Side) {
        let target = self.cfg.levels.max(4);
        while self.book(side).len() < target {
            let gap = 1 + self.rng.below(2) as i64;
            let depth = self.book(side).len();
            let qty = self.level_size(depth);
            let last = self.book(side).back().map(|l| l.0);
            let price = match (side, last) {
                (Side::Buy, Some(p)) => p - gap,
                (Side::Sell, Some(p)) => p + gap,
                (Side::Buy, None) => {
                    self.asks.front().map_or(self.cfg.start_bid_ticks, |a| a.0 - 1)
                }
                (Side::Sell, None) => {
                    self.bids.front().map_or(self.cfg.start_bid_ticks + 1, |b| b.0 + 1)
                }
            };
            if price <= 0 {
                break;
            }
            self.book(side).push_back((price, qty));
            self.emit_l2(side, price, qty);
        }
    }

    fn spread(&self) -> i64 {
        match (self.bids.front(), self.asks.front()) {
            (Some(b), Some(a)) => a.0 - b.0,
            _ => 1,
        }
    }

    fn depth(&mut self, len: usize) -> usize {
        // Weight 0.75^d: walk outward while a 3-in-4 chance holds.
        let mut d = 0;
        while d + 1 < len && self.rng.below(4) != 0 && self.rng.below(4) != 0 {
            d += 1;
        }
        d.min(len.saturating_sub(1))
    }

    fn step(&mut self) {
        let gap = if self.rng.below(10) < 3 {
            self.rng.below(self.cfg.mean_gap_ns / 5 + 1)
        } else {
            self.rng.below(2 * self.cfg.mean_gap_ns + 1)
        };
        self.ts += gap.max(1);
        let spread = self.spread();
        let roll = if spread > 4 || (spread > 1 && self.rng.below(100) < 40) {
            80 // narrow the spread
        } else {
            self.rng.below(100)
        };
        match roll {
            0..=57 => self.size_change(),
            58..=72 => self.market_order(),
            73..=84 => self.improve(),
            85..=94 => {
                let side = self.side();
                let depth = self.book(side).len();
                let d = depth.saturating_sub(1 + self.rng.below(3) as usize);
                let qty = self.level_size(d);
                let (p, q) = self.book(side)[d];
                let new = q + qty / 3 + 1;
                self.book(side)[d] = (p, new);
                self.emit_l2(side, p, new);
            }
            _ => {
                let side = self.side();
                if self.book(side).len() > 3 {
                    let (p, _) = self.book(side).pop_front().expect("more than 3 levels");
                    self.emit_l2(side, p, 0);
                    self.refill(side);
                } else {
                    self.size_change();
                }
            }
        }
    }

    fn size_change(&mut self) {
        let side = self.side();
        let len = self.book(side).len();
        let d = self.depth(len);
        let (p, q) = self.book(side)[d];
        let delta = 1 + self.rng.below((q / 2).max(1) as u64) as i64;
        let join = self.rng.below(100) < 52;
        let new = if join { q + delta } else { q - delta };
        if new > 0 {
            self.book(side)[d] = (p, new);
            self.emit_l2(side, p, new);
        } else if len > 3 {
            self.book(side).remove(d);
            self.emit_l2(side, p, 0);
            self.refill(side);
        }
    }

    fn market_order(&mut self) {
        let aggressor = if self.rng.below(100) < 65 {
            self.last_aggressor
        } else {
            self.last_aggressor.opposite()
        };
        self.last_aggressor = aggressor;
        let hit = aggressor.opposite();
        let best = self.book(hit).front().map_or(1, |l| l.1);
        let mut want = 1 + self.rng.below((best * 3 / 4).max(1) as u64) as i64;
        if self.rng.below(10) == 0 {
            want += best; // a sweep beyond the best level
        }
        let mut touched = Vec::new();
        while want > 0 && self.book(hit).len() > 3 {
            let (p, q) = *self.book(hit).front().expect("levels");
            let take = want.min(q);
            want -= take;
            self.event(MdKind::Trade, Some(aggressor), p, take);
            if take == q {
                self.book(hit).pop_front();
                touched.push((p, 0));
            } else {
                self.book(hit)[0] = (p, q - take);
                touched.push((p, q - take));
            }
        }
        for (p, q) in touched {
            self.emit_l2(hit, p, q);
        }
        self.refill(hit);
    }

    fn improve(&mut self) {
        let side = self.side();
        if self.spread() > 1 {
            let price = match side {
                Side::Buy => self.bids.front().map_or(0, |b| b.0) + 1,
                Side::Sell => self.asks.front().map_or(0, |a| a.0) - 1,
            };
            let qty = self.level_size(0) / 2 + 1;
            self.book(side).push_front((price, qty));
            self.emit_l2(side, price, qty);
            // Keep the depth: the last level of the side falls off the published book.
            if self.book(side).len() > self.cfg.levels.max(4) {
                let (p, _) = self.book(side).pop_back().expect("levels");
                self.emit_l2(side, p, 0);
            }
        } else {
            let (p, q) = self.book(side)[0];
            let add = 1 + self.rng.below(40) as i64;
            self.book(side)[0] = (p, q + add);
            self.emit_l2(side, p, q + add);
        }
    }

    /// The next event, or `None` after `events` of them.
    pub fn next_md(&mut self) -> Option<MdEvent> {
        if self.emitted >= self.cfg.events {
            return None;
        }
        while self.pending.is_empty() {
            self.step();
        }
        self.emitted += 1;
        self.pending.pop_front()
    }

    /// All events, in memory (for benchmarks and repeated runs).
    pub fn collect_all(cfg: SynthConfig) -> Vec<MdEvent> {
        let n = cfg.events as usize;
        let mut s = Synth::new(cfg);
        let mut out = Vec::with_capacity(n);
        while let Some(e) = s.next_md() {
            out.push(e);
        }
        out
    }
}

impl Iterator for Synth {
    type Item = MdEvent;
    fn next(&mut self) -> Option<MdEvent> {
        self.next_md()
    }
}

impl EventSource for Synth {
    fn next_event(&mut self) -> Result<Option<MdEvent>, DataError> {
        Ok(self.next_md())
    }

    fn progress(&self) -> SourceProgress {
        SourceProgress { done: self.emitted, total: Some(self.cfg.events) }
    }

    fn unit(&self) -> &'static str {
        "events"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_engine::book::{BookCapacity, L2Book};

    #[test]
    fn seeded_and_well_formed() {
        let cfg = SynthConfig { events: 200_000, ..SynthConfig::default() };
        let a = Synth::collect_all(cfg.clone());
        assert_eq!(a, Synth::collect_all(cfg.clone()));
        assert_ne!(a, Synth::collect_all(SynthConfig { seed: 7, ..cfg }));
        assert_eq!(a.len(), 200_000);
        let mut book = L2Book::new(BookCapacity { orders: 1, levels_per_side: 1024 });
        let (mut trades, mut crossed) = (0, 0);
        for w in a.windows(2) {
            assert!(w[1].exchange_ts >= w[0].exchange_ts);
        }
        for e in &a {
            assert!(e.local_ts > e.exchange_ts);
            match e.kind {
                MdKind::L2 => {
                    let side = e.side.unwrap();
                    let opposite = book.best(side.opposite()).map(|l| l.0);
                    let crosses = match (side, opposite) {
                        (Side::Buy, Some(ask)) => e.price >= ask,
                        (Side::Sell, Some(bid)) => e.price <= bid,
                        _ => false,
                    };
                    if e.qty.0 > 0 && crosses {
                        crossed += 1;
                    }
                    book.set(side, e.price, e.qty).unwrap();
                }
                MdKind::Trade => {
                    trades += 1;
                    assert!(e.qty.0 > 0);
                }
                k => panic!("unexpected {k:?}"),
            }
        }
        assert_eq!(crossed, 0, "the generated book never crosses");
        assert!(trades > 10_000, "{trades} trades");
        let spread = book.best_ask().unwrap().0.0 - book.best_bid().unwrap().0.0;
        assert!((1..=5).contains(&spread), "spread {spread}");
    }
}
