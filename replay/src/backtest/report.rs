//! The report of a run: a [`Report`] built from the run's [`Outcome`], rendered as JSON
//! (for machines), as text tables (for the terminal), and as a self-contained HTML page
//! with charts ([`super::html`]).
//!
//! Everything in it is a function of the inputs, the settings and the seed — no run time,
//! no wall-clock figure, no path other than the data's as given — so the same run gives
//! the same bytes. Money is exact (decimal strings of the engine's 1e-8 unit); only ratios
//! (fill ratio, Sharpe) are floating point, computed with IEEE operations that give the
//! same result everywhere.
//!
//! Definitions:
//! - **equity** = realized P&L − fees + unrealized P&L, unrealized marked at the engine's
//!   reference price (the mid, else the last trade) — what the engine's loss limits use;
//! - **fill ratio** = orders with at least one fill ÷ new orders sent; **quantity fill
//!   ratio** = lots filled ÷ lots offered (over every order, the largest total it was sent
//!   or replaced with);
//! - **max drawdown** = the largest fall of sampled equity from its running peak;
//! - **Sharpe** = mean ÷ standard deviation (n − 1) of the equity change per sampling
//!   interval (intervals in which nothing happened count, as zero changes), and the same
//!   × √(intervals in 365 days).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use keel_engine::positions::value_per_notional_unit_e8;
use keel_engine::{Instrument, Qty};
use rust_decimal::Decimal;
use serde::Serialize;

use super::config::{BacktestConfig, STRATEGY_ACCOUNT};
use super::fees::FeeSchedule;
use super::latency::Duration;
use super::metrics::Sample;
use super::runner::Outcome;
use super::spec::{DataSpec, feed_name};
use crate::format::utc;

/// Version of the report's layout.
pub const REPORT_VERSION: u32 = 1;

/// An amount of money, exact, in 1e-8 of the reporting currency; serialized as a decimal
/// string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(pub i128);

impl Money {
    /// The exact decimal.
    pub fn decimal(self) -> Decimal {
        Decimal::from_i128_with_scale(self.0, 8).normalize()
    }

    /// Rounded to `dp` places (half away from zero), for people.
    pub fn rounded(self, dp: u32) -> String {
        let d = Decimal::from_i128_with_scale(self.0, 8)
            .round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        format!("{d:.*}", dp as usize)
    }

    /// As a float, for charts.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 1e8
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.decimal().to_string())
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Layout version.
    pub keel_backtest_report: u32,
    /// What was replayed.
    pub data: DataSummary,
    /// How.
    pub settings: Settings,
    /// Profit and loss.
    pub pnl: Pnl,
    /// Orders and fills.
    pub orders: Orders,
    /// Position in the strategy's instrument.
    pub position: PositionSummary,
    /// Drawdown and Sharpe.
    pub performance: Performance,
    /// Latency distributions.
    pub latency: Latencies,
    /// The engine's own counts, and a digest of its final state.
    pub engine: EngineSummary,
    /// Equity and position over time (not in the JSON: the HTML charts them).
    #[serde(skip)]
    pub samples: Vec<Sample>,
    /// Latency histograms (not in the JSON).
    #[serde(skip)]
    pub histograms: [Histogram<u64>; 2],
}

/// What was replayed.
#[derive(Clone, Debug, Serialize)]
pub struct DataSummary {
    /// The data as given (file or journal directory).
    pub source: String,
    /// `csv`, `journal` or `synthetic`.
    pub format: String,
    /// `l2` or `l3`.
    pub feed: String,
    /// Venue name and id.
    pub venue: String,
    /// Instrument symbols.
    pub instruments: Vec<String>,
    /// Market-data events replayed.
    pub events: u64,
    /// Exchange time of the first event (UTC).
    pub first: String,
    /// Exchange time of the last event (UTC).
    pub last: String,
    /// Seconds from first to last.
    pub duration_s: Decimal,
    /// Events whose exchange time went backwards (made monotonic).
    pub out_of_order: u64,
    /// Events of another venue, skipped.
    pub skipped: u64,
    /// Events the simulated venue's book refused.
    pub refused_by_venue: u64,
    /// The first of those, in words.
    pub refused_by_venue_first: Option<String>,
    /// Commands the core refused (anomalies), by code.
    pub refused_by_core: BTreeMap<&'static str, u64>,
}

/// One instrument's fee rates, bps.
#[derive(Clone, Debug, Serialize)]
pub struct FeeRow {
    /// Symbol.
    pub instrument: String,
    /// Maker rate, bps (negative: rebate).
    pub maker_bps: Decimal,
    /// Taker rate, bps.
    pub taker_bps: Decimal,
}

/// How the run was set up.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// Strategy name.
    pub strategy: String,
    /// Its parameters as passed to the engine.
    pub params: Vec<(String, String)>,
    /// The strategy's account.
    pub account: u32,
    /// Latency model.
    pub latency: String,
    /// Queue-position model.
    pub queue: String,
    /// Whether Keel's taker fills consume recorded liquidity.
    pub consume_liquidity: bool,
    /// Fees.
    pub fees: Vec<FeeRow>,
    /// Seed of the probabilistic queue model.
    pub seed: u64,
    /// Sampling interval.
    pub interval: String,
    /// Timer interval (`off` when none).
    pub timer: String,
    /// Limits set on the strategy's account.
    pub limits: Vec<String>,
}

/// One instrument's P&L.
#[derive(Clone, Debug, Serialize)]
pub struct InstrumentPnl {
    /// Symbol.
    pub instrument: String,
    /// Net position at the end.
    pub position: Decimal,
    /// Realized, gross of fees.
    pub realized: Money,
    /// Unrealized at the reference price.
    pub unrealized: Money,
    /// Fees paid (negative: rebates).
    pub fees: Money,
    /// realized + unrealized − fees.
    pub net: Money,
    /// Quantity bought.
    pub bought: Decimal,
    /// Quantity sold.
    pub sold: Decimal,
}

/// Profit and loss of the strategy's account.
#[derive(Clone, Debug, Serialize)]
pub struct Pnl {
    /// Currency of the amounts.
    pub currency: String,
    /// Realized, gross of fees.
    pub realized: Money,
    /// Unrealized at the end.
    pub unrealized: Money,
    /// Fees.
    pub fees: Money,
    /// realized + unrealized − fees: the final equity.
    pub net: Money,
    /// Per instrument traded.
    pub instruments: Vec<InstrumentPnl>,
}

/// Orders and fills.
#[derive(Clone, Debug, Serialize)]
pub struct Orders {
    /// New orders sent to the venue.
    pub sent: u64,
    /// Cancel/replace requests sent.
    pub replaces: u64,
    /// Cancel requests sent.
    pub cancels: u64,
    /// Orders with at least one fill.
    pub filled_orders: u64,
    /// filled_orders ÷ sent.
    pub fill_ratio: Option<f64>,
    /// Executions.
    pub fills: u64,
    /// Executions as maker.
    pub maker_fills: u64,
    /// Executions as taker.
    pub taker_fills: u64,
    /// Quantity offered: over every order, the largest total it was sent or replaced with.
    pub ordered_qty: Decimal,
    /// Quantity filled.
    pub filled_qty: Decimal,
    /// filled_qty ÷ ordered_qty.
    pub qty_fill_ratio: Option<f64>,
    /// Rejects of the strategy's orders, by code (Keel's checks and `VENUE_REJECTED`).
    pub rejects: BTreeMap<&'static str, u64>,
    /// Refused cancels and replaces, by code.
    pub cancel_rejects: BTreeMap<&'static str, u64>,
    /// Venue reports the core refused as contradicting its view of the order (races such
    /// as a cancel reject arriving after the fill that ended the order), by code.
    pub refused_reports: BTreeMap<&'static str, u64>,
}

/// Position over the run.
#[derive(Clone, Debug, Serialize)]
pub struct PositionSummary {
    /// The strategy's instrument.
    pub instrument: String,
    /// Its lot size (the unit of the position chart's samples).
    pub lot_size: Decimal,
    /// At the end.
    pub last: Decimal,
    /// Largest long position sampled.
    pub max_long: Decimal,
    /// Largest short position sampled (as a negative number, or zero).
    pub max_short: Decimal,
}

/// Risk-adjusted figures.
#[derive(Clone, Debug, Serialize)]
pub struct Performance {
    /// Sampling intervals covered.
    pub intervals: u64,
    /// Largest fall of equity from its running peak.
    pub max_drawdown: Money,
    /// When the trough of that fall was sampled (UTC).
    pub max_drawdown_at: Option<String>,
    /// Peak equity sampled.
    pub peak_equity: Money,
    /// Mean ÷ standard deviation of per-interval equity changes.
    pub sharpe_per_interval: Option<f64>,
    /// The same × √(intervals per 365 days).
    pub sharpe_annualized: Option<f64>,
}

/// Percentiles of a latency distribution, ns.
#[derive(Clone, Debug, Serialize)]
pub struct Percentiles {
    /// Values recorded.
    pub count: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p99_9_ns: u64,
    /// Largest.
    pub max_ns: u64,
}

/// Latency distributions.
#[derive(Clone, Debug, Serialize)]
pub struct Latencies {
    /// Exchange time → core arrival of market data.
    pub feed: Percentiles,
    /// New order sent → ack or reject received.
    pub order_round_trip: Percentiles,
}

/// The engine's view.
#[derive(Clone, Debug, Serialize)]
pub struct EngineSummary {
    /// Commands applied, by kind (kinds never applied are left out).
    pub commands: BTreeMap<&'static str, u64>,
    /// Outputs emitted.
    pub outputs: u64,
    /// Timer commands applied.
    pub timers: u64,
    /// Strategy reports carried to a later command by the per-command bound.
    pub strategy_events_deferred: u64,
    /// Most requests and reports in flight at once.
    pub in_flight_max: usize,
    /// Most events between the venue and the core at once.
    pub feed_depth_max: usize,
    /// Digest of the core's final state (equal digests: equal states).
    pub state_digest: String,
}

/// Where the data came from, for the report.
#[derive(Clone, Debug)]
pub struct SourceInfo {
    /// As given.
    pub source: String,
    /// `csv`, `journal`, `synthetic`.
    pub format: String,
}

fn percentiles(h: &Histogram<u64>) -> Percentiles {
    let q = |x: f64| if h.is_empty() { 0 } else { h.value_at_quantile(x) };
    Percentiles {
        count: h.len(),
        p50_ns: q(0.5),
        p90_ns: q(0.9),
        p99_ns: q(0.99),
        p99_9_ns: q(0.999),
        max_ns: if h.is_empty() { 0 } else { h.max() },
    }
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| round6(num / den))
}

/// Rounded to 6 decimals, so the JSON shows a stable, readable number.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn qty(inst: &Instrument, lots: i128) -> Decimal {
    match i64::try_from(lots) {
        Ok(l) => inst.qty_to_decimal(Qty(l)),
        Err(_) => Decimal::from_i128_with_scale(lots, 0) * inst.lot_size,
    }
}

/// Drawdown: (max fall, when, peak).
fn drawdown(samples: &[Sample]) -> (Money, Option<u64>, Money) {
    let mut peak = i128::MIN;
    let mut worst = 0i128;
    let mut at = None;
    for s in samples {
        peak = peak.max(s.equity_e8);
        if peak - s.equity_e8 > worst {
            worst = peak - s.equity_e8;
            at = Some(s.t_ns);
        }
    }
    (Money(worst), at, Money(peak.max(0)))
}

/// Sharpe over per-interval changes; quiet intervals count as zero changes.
fn sharpe(samples: &[Sample], interval_ns: u64) -> (u64, Option<f64>, Option<f64>) {
    let mut n: u64 = 0;
    let mut sum = 0f64;
    for w in samples.windows(2) {
        n += (w[1].t_ns - w[0].t_ns).div_ceil(interval_ns).max(1);
        sum += (w[1].equity_e8 - w[0].equity_e8) as f64 / 1e8;
    }
    if n < 2 {
        return (n, None, None);
    }
    let mean = sum / n as f64;
    let mut sq = 0f64;
    let mut counted: u64 = 0;
    for w in samples.windows(2) {
        let d = (w[1].equity_e8 - w[0].equity_e8) as f64 / 1e8 - mean;
        sq += d * d;
        counted += (w[1].t_ns - w[0].t_ns).div_ceil(interval_ns).max(1);
        // The quiet intervals of this stretch: changes of zero.
        let zeros = (w[1].t_ns - w[0].t_ns).div_ceil(interval_ns).max(1) - 1;
        sq += zeros as f64 * mean * mean;
    }
    debug_assert_eq!(counted, n);
    let std = (sq / (n - 1) as f64).sqrt();
    if std == 0.0 || !std.is_finite() {
        return (n, None, None);
    }
    let per = mean / std;
    let year_ns = 365.0 * 86_400.0 * 1e9;
    (n, Some(round6(per)), Some(round6(per * (year_ns / interval_ns as f64).sqrt())))
}

impl Report {
    /// Builds the report of a run.
    pub fn build(
        outcome: &Outcome,
        config: &BacktestConfig,
        data: &DataSpec,
        source: &SourceInfo,
    ) -> Result<Report, super::config::ConfigError> {
        let instruments = data.engine_instruments()?;
        let fees = FeeSchedule::parse(&config.fees, data)?;
        let core = &outcome.core;
        let positions = core.positions();
        let markets = core.markets();
        let m = &outcome.metrics;
        let mut per = Vec::new();
        let (mut realized, mut unrealized, mut fee_total) = (0i128, 0i128, 0i128);
        for inst in &instruments {
            let Some(p) = positions.position(STRATEGY_ACCOUNT, inst.id) else { continue };
            if p.bought_lots() == 0 && p.sold_lots() == 0 {
                continue;
            }
            let vpn = value_per_notional_unit_e8(inst).unwrap_or(0) as i128;
            let mark = markets.reference_price(inst.id);
            let r = p.realized_pnl() * vpn;
            let u = mark.map_or(0, |px| p.unrealized(px)) * vpn;
            let f = p.fees() * vpn;
            realized += r;
            unrealized += u;
            fee_total += f;
            per.push(InstrumentPnl {
                instrument: inst.symbol.clone(),
                position: inst.qty_to_decimal(p.net_qty()),
                realized: Money(r),
                unrealized: Money(u),
                fees: Money(f),
                net: Money(r + u - f),
                bought: inst.qty_to_decimal(Qty(p.bought_lots())),
                sold: inst.qty_to_decimal(Qty(p.sold_lots())),
            });
        }
        let currency = {
            let mut c: Vec<&str> = instruments.iter().map(|i| i.currency.as_str()).collect();
            c.dedup();
            if c.len() == 1 { c[0].to_string() } else { "reporting currency".to_string() }
        };
        let traded = &instruments[outcome.instrument.index()];
        let (max_long, max_short) = m
            .samples
            .iter()
            .fold((0i64, 0i64), |(l, s), x| (l.max(x.position_lots), s.min(x.position_lots)));
        let last_position = positions
            .position(STRATEGY_ACCOUNT, outcome.instrument)
            .map_or(0, |p| p.net_qty_lots());
        let (max_dd, dd_at, peak) = drawdown(&m.samples);
        let (intervals, sharpe_per, sharpe_year) = sharpe(&m.samples, config.sample_interval_ns);
        let counters = core.counters();
        let commands = keel_engine::core::COMMAND_KIND_NAMES
            .iter()
            .zip(counters.commands_by_kind.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(name, n)| (*name, *n))
            .collect();
        let duration_ns = outcome.last_ns.saturating_sub(outcome.first_ns);
        Ok(Report {
            keel_backtest_report: REPORT_VERSION,
            data: DataSummary {
                source: source.source.clone(),
                format: source.format.clone(),
                feed: feed_name(data.feed).to_string(),
                venue: format!("{} ({})", data.venue_name, data.venue_id),
                instruments: data.instruments.iter().map(|i| i.symbol.clone()).collect(),
                events: outcome.events,
                first: utc(outcome.first_ns),
                last: utc(outcome.last_ns),
                duration_s: Decimal::from_i128_with_scale(duration_ns as i128, 9).normalize(),
                out_of_order: outcome.out_of_order,
                skipped: outcome.skipped,
                refused_by_venue: outcome.venue.md_refused,
                refused_by_venue_first: outcome.venue.md_refused_first.clone(),
                refused_by_core: m.md_anomalies.clone(),
            },
            settings: Settings {
                strategy: config.strategy.clone(),
                params: config.resolved_params(data)?,
                account: STRATEGY_ACCOUNT.0,
                latency: config.latency.to_string(),
                queue: config.queue.to_string(),
                consume_liquidity: config.consume_liquidity,
                fees: fees
                    .describe(data)
                    .into_iter()
                    .map(|(instrument, maker_bps, taker_bps)| FeeRow {
                        instrument,
                        maker_bps,
                        taker_bps,
                    })
                    .collect(),
                seed: config.seed,
                interval: config.interval_text(),
                timer: if config.timer_interval_ns == 0 {
                    "off".into()
                } else {
                    Duration(config.timer_interval_ns).to_string()
                },
                limits: config.limits.iter().map(|(k, v)| format!("{k:?}={v}")).collect(),
            },
            pnl: Pnl {
                currency,
                realized: Money(realized),
                unrealized: Money(unrealized),
                fees: Money(fee_total),
                net: Money(realized + unrealized - fee_total),
                instruments: per,
            },
            orders: Orders {
                sent: m.orders_sent,
                replaces: m.replaces_sent,
                cancels: m.cancels_sent,
                filled_orders: m.orders_filled,
                fill_ratio: ratio(m.orders_filled as f64, m.orders_sent as f64),
                fills: m.fills,
                maker_fills: outcome.venue.maker_fills,
                taker_fills: outcome.venue.taker_fills,
                ordered_qty: qty(traded, m.offered_lots()),
                filled_qty: qty(traded, m.filled_lots),
                qty_fill_ratio: ratio(m.filled_lots as f64, m.offered_lots() as f64),
                rejects: m.rejects.clone(),
                cancel_rejects: m.cancel_rejects.clone(),
                refused_reports: m.report_anomalies.clone(),
            },
            position: PositionSummary {
                instrument: traded.symbol.clone(),
                lot_size: traded.lot_size,
                last: traded.qty_to_decimal(Qty(last_position)),
                max_long: traded.qty_to_decimal(Qty(max_long)),
                max_short: traded.qty_to_decimal(Qty(max_short)),
            },
            performance: Performance {
                intervals,
                max_drawdown: max_dd,
                max_drawdown_at: dd_at.map(utc),
                peak_equity: peak,
                sharpe_per_interval: sharpe_per,
                sharpe_annualized: sharpe_year,
            },
            latency: Latencies {
                feed: percentiles(&m.feed_ns),
                order_round_trip: percentiles(&m.round_trip_ns),
            },
            engine: EngineSummary {
                commands,
                outputs: counters.outputs,
                timers: outcome.timers,
                strategy_events_deferred: core.strategy_events_deferred(),
                in_flight_max: outcome.in_flight_max,
                feed_depth_max: outcome.feed_depth_max,
                state_digest: core.digest().to_string(),
            },
            samples: m.samples.clone(),
            histograms: [m.feed_ns.clone(), m.round_trip_ns.clone()],
        })
    }

    /// The JSON summary, pretty-printed, ending in a newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serializes") + "\n"
    }

    /// Text tables for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let d = &self.data;
        let s = &self.settings;
        let p = &self.pnl;
        let o = &self.orders;
        let f = &self.performance;
        let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
        let rows = vec![
            vec![
                "data".into(),
                format!("{} ({}, {} feed, {})", d.source, d.format, d.feed, d.venue),
            ],
            vec![
                "events".into(),
                format!("{} from {} to {} ({} s)", d.events, d.first, d.last, d.duration_s),
            ],
            vec![
                "refused".into(),
                format!(
                    "venue {}, core {}",
                    d.refused_by_venue,
                    d.refused_by_core.values().sum::<u64>()
                ),
            ],
            vec![
                "strategy".into(),
                format!(
                    "{} {}",
                    s.strategy,
                    s.params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
                ),
            ],
            vec!["latency".into(), s.latency.clone()],
            vec![
                "queue".into(),
                format!(
                    "{} (consume liquidity: {}, seed {})",
                    s.queue, s.consume_liquidity, s.seed
                ),
            ],
            vec![format!("net P&L ({})", p.currency), p.net.rounded(2)],
            vec!["  realized".into(), p.realized.rounded(2)],
            vec!["  unrealized".into(), p.unrealized.rounded(2)],
            vec!["  fees".into(), p.fees.rounded(2)],
            vec![
                "orders sent".into(),
                format!("{} (+{} replaces, {} cancels)", o.sent, o.replaces, o.cancels),
            ],
            vec![
                "fills".into(),
                format!(
                    "{} ({} maker, {} taker), {} filled of {} ordered",
                    o.fills, o.maker_fills, o.taker_fills, o.filled_qty, o.ordered_qty
                ),
            ],
            vec![
                "fill ratio".into(),
                format!("{} of orders, {} of quantity", opt(o.fill_ratio), opt(o.qty_fill_ratio)),
            ],
            vec!["rejects".into(), format!("{:?}", o.rejects)],
            vec!["cancel rejects".into(), format!("{:?}", o.cancel_rejects)],
            vec!["late venue reports".into(), format!("{:?}", o.refused_reports)],
            vec![
                "position".into(),
                format!(
                    "{} {} (max long {}, max short {})",
                    self.position.last,
                    self.position.instrument,
                    self.position.max_long,
                    self.position.max_short
                ),
            ],
            vec!["max drawdown".into(), f.max_drawdown.rounded(2)],
            vec![
                format!("sharpe ({} intervals of {})", f.intervals, s.interval),
                format!(
                    "{} per interval, {} annualized",
                    opt(f.sharpe_per_interval),
                    opt(f.sharpe_annualized)
                ),
            ],
            vec!["feed latency".into(), pct_text(&self.latency.feed)],
            vec!["order round trip".into(), pct_text(&self.latency.order_round_trip)],
            vec!["state digest".into(), self.engine.state_digest.clone()],
        ];
        out.push_str(&crate::format::table(&["backtest", ""], &rows));
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

fn pct_text(p: &Percentiles) -> String {
    if p.count == 0 {
        return "-".into();
    }
    format!(
        "p50 {} p90 {} p99 {} p99.9 {} max {} (n={})",
        Duration(p.p50_ns).human(),
        Duration(p.p90_ns).human(),
        Duration(p.p99_ns).human(),
        Duration(p.p99_9_ns).human(),
        Duration(p.max_ns).human(),
        p.count
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t_ns: u64, eq: i128) -> Sample {
        Sample { t_ns, equity_e8: eq * 100_000_000, position_lots: 0 }
    }

    #[test]
    fn drawdown_is_the_largest_fall_from_a_peak() {
        let samples = [s(0, 0), s(1, 10), s(2, 4), s(3, 12), s(4, 5), s(5, 9)];
        let (dd, at, peak) = drawdown(&samples);
        assert_eq!((dd, at, peak), (Money(7 * 100_000_000), Some(4), Money(12 * 100_000_000)));
    }

    #[test]
    fn sharpe_counts_quiet_intervals_as_zero() {
        // Changes +1, +1 over two intervals, then a quiet stretch of two intervals.
        let samples = [s(0, 0), s(10, 1), s(20, 2), s(40, 2)];
        let (n, per, _) = sharpe(&samples, 10);
        assert_eq!(n, 4);
        // Changes 1, 1, 0, 0: mean 0.5, sample std √(1/3).
        let expected = 0.5 / (1.0f64 / 3.0).sqrt();
        assert!((per.unwrap() - expected).abs() < 1e-6, "{per:?}");
        assert_eq!(sharpe(&[s(0, 0), s(10, 0), s(20, 0)], 10).1, None);
    }

    #[test]
    fn money_is_exact_and_rounds_half_away() {
        assert_eq!(Money(123_456_789).decimal().to_string(), "1.23456789");
        assert_eq!(Money(-150_000_000).decimal().to_string(), "-1.5");
        assert_eq!(Money(1_005_000_000).rounded(2), "10.05");
        assert_eq!(Money(-1_005_000_000).rounded(2), "-10.05");
        assert_eq!(Money(-500_000).rounded(2), "-0.01");
        assert_eq!(serde_json::to_string(&Money(250_000_000)).unwrap(), "\"2.5\"");
    }
}
