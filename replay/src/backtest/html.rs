//! The HTML report: one self-contained page (inline CSS and SVG, no script, no external
//! resource) with the summary tables and four charts — equity, position, and the
//! distributions of feed latency and order round trip. Deterministic: the same report
//! renders to the same bytes.

use std::fmt::Write;

use hdrhistogram::Histogram;

use super::latency::Duration;
use super::metrics::LATENCY_NS_MAX;
use super::report::{Money, Percentiles, Report};
use super::svg::{bar_chart, step_chart};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn table(out: &mut String, title: &str, rows: &[(String, String)]) {
    let _ = write!(out, "<h2>{}</h2><table>", esc(title));
    for (k, v) in rows {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    out.push_str("</table>");
}

fn grid(out: &mut String, title: &str, header: &[&str], rows: &[Vec<String>]) {
    let _ = write!(out, "<h2>{}</h2><table class=\"grid\"><tr>", esc(title));
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

/// Bucket edges 0, 1, 2, 5, 10, 20, 50, … ns up to an hour.
fn edges() -> Vec<u64> {
    let mut e = vec![0, 1];
    let mut p = 1u64;
    while p < LATENCY_NS_MAX {
        for m in [2, 5, 10] {
            e.push(p * m);
        }
        p *= 10;
    }
    e
}

fn latency_bars(h: &Histogram<u64>) -> Vec<(String, u64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let e = edges();
    let mut counts = vec![0u64; e.len() - 1];
    for v in h.iter_recorded() {
        let x = h.lowest_equivalent(v.value_iterated_to());
        let bucket = e.partition_point(|&edge| edge <= x).saturating_sub(1).min(counts.len() - 1);
        counts[bucket] += v.count_at_value();
    }
    // The occupied buckets and two empty ones either side, for scale.
    let first = counts.iter().position(|&c| c > 0).unwrap_or(0).saturating_sub(2);
    let last = (counts.iter().rposition(|&c| c > 0).unwrap_or(0) + 2).min(counts.len() - 1);
    (first..=last).map(|i| (Duration(e[i]).human(), counts[i])).collect()
}

fn pct_row(name: &str, p: &Percentiles) -> Vec<String> {
    let d = |ns| Duration(ns).human();
    vec![
        name.to_string(),
        p.count.to_string(),
        d(p.p50_ns),
        d(p.p90_ns),
        d(p.p99_ns),
        d(p.p99_9_ns),
        d(p.max_ns),
    ]
}

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}\
h1{font-size:22px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:6px 0}\
th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left;font-size:13px}\
th{color:#555;font-weight:normal}table.grid th{font-weight:bold;color:#222}\
td{font-variant-numeric:tabular-nums}.note{color:#666;font-size:12px}svg{display:block;margin:8px 0}";

/// The report as one self-contained HTML page.
pub fn render(r: &Report) -> String {
    let mut out = String::with_capacity(256 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        out,
        "<title>Keel backtest: {}</title><style>{STYLE}</style></head><body>",
        esc(&r.settings.strategy)
    );
    let _ = write!(
        out,
        "<h1>Keel backtest: {} on {}</h1><p class=\"note\">{} events from {} to {} ({} s). Same inputs, settings and seed give this page byte for byte.</p>",
        esc(&r.settings.strategy),
        esc(&r.data.source),
        r.data.events,
        esc(&r.data.first),
        esc(&r.data.last),
        r.data.duration_s
    );
    let p = &r.pnl;
    let o = &r.orders;
    let f = &r.performance;
    let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
    let money = |m: Money| format!("{} {}", m.rounded(2), p.currency);
    table(
        &mut out,
        "Summary",
        &[
            ("Net P&L".into(), money(p.net)),
            ("Realized (gross)".into(), money(p.realized)),
            ("Unrealized".into(), money(p.unrealized)),
            ("Fees".into(), money(p.fees)),
            ("Max drawdown".into(), money(f.max_drawdown)),
            (
                "Sharpe per interval / annualized".into(),
                format!(
                    "{} / {} ({} intervals of {})",
                    opt(f.sharpe_per_interval),
                    opt(f.sharpe_annualized),
                    f.intervals,
                    r.settings.interval
                ),
            ),
            (
                "Orders sent".into(),
                format!("{} new, {} replaces, {} cancels", o.sent, o.replaces, o.cancels),
            ),
            (
                "Fills".into(),
                format!("{} ({} maker, {} taker)", o.fills, o.maker_fills, o.taker_fills),
            ),
            (
                "Fill ratio (orders / quantity)".into(),
                format!("{} / {}", opt(o.fill_ratio), opt(o.qty_fill_ratio)),
            ),
            ("Quantity filled / ordered".into(), format!("{} / {}", o.filled_qty, o.ordered_qty)),
            (
                "Position (last, max long, max short)".into(),
                format!(
                    "{} / {} / {} {}",
                    r.position.last,
                    r.position.max_long,
                    r.position.max_short,
                    r.position.instrument
                ),
            ),
        ],
    );
    let _ = write!(out, "<h2>Charts</h2>");
    let t0 = r.samples.first().map_or(0, |s| s.t_ns);
    let secs = |t: u64| (t - t0) as f64 / 1e9;
    let equity: Vec<(f64, f64)> =
        r.samples.iter().map(|s| (secs(s.t_ns), Money(s.equity_e8).to_f64())).collect();
    // Through text: Rust's float parsing is correctly rounded, the same on every machine.
    let lot: f64 = r.position.lot_size.to_string().parse().unwrap_or(1.0);
    let position =
        r.samples.iter().map(|s| (secs(s.t_ns), s.position_lots as f64 * lot)).collect::<Vec<_>>();
    out.push_str(&step_chart(
        &format!("Equity ({}), sampled every {}", p.currency, r.settings.interval),
        &p.currency,
        &equity,
        "#1f77b4",
    ));
    out.push_str(&step_chart(
        &format!("Position in {}", r.position.instrument),
        "quantity",
        &position,
        "#2ca02c",
    ));
    out.push_str(&bar_chart(
        "Feed latency: exchange time to core arrival",
        &latency_bars(&r.histograms[0]),
        "#ff7f0e",
    ));
    out.push_str(&bar_chart(
        "Order round trip: new order sent to ack or reject received",
        &latency_bars(&r.histograms[1]),
        "#9467bd",
    ));
    grid(
        &mut out,
        "Latency",
        &["", "count", "p50", "p90", "p99", "p99.9", "max"],
        &[
            pct_row("feed", &r.latency.feed),
            pct_row("order round trip", &r.latency.order_round_trip),
        ],
    );
    grid(
        &mut out,
        "P&L by instrument",
        &["instrument", "position", "bought", "sold", "realized", "unrealized", "fees", "net"],
        &p.instruments
            .iter()
            .map(|i| {
                vec![
                    i.instrument.clone(),
                    i.position.to_string(),
                    i.bought.to_string(),
                    i.sold.to_string(),
                    i.realized.rounded(2),
                    i.unrealized.rounded(2),
                    i.fees.rounded(2),
                    i.net.rounded(2),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let counts = |m: &std::collections::BTreeMap<&str, u64>| -> Vec<Vec<String>> {
        m.iter().map(|(k, v)| vec![k.to_string(), v.to_string()]).collect()
    };
    grid(&mut out, "Rejects of the strategy's orders", &["code", "count"], &counts(&o.rejects));
    grid(&mut out, "Refused cancels and replaces", &["code", "count"], &counts(&o.cancel_rejects));
    grid(
        &mut out,
        "Venue reports the core refused (races: e.g. a cancel reject after the fill)",
        &["code", "count"],
        &counts(&o.refused_reports),
    );
    let s = &r.settings;
    table(
        &mut out,
        "Settings",
        &[
            ("Strategy".into(), format!("{} (account {})", s.strategy, s.account)),
            (
                "Parameters".into(),
                s.params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "),
            ),
            ("Latency model".into(), s.latency.clone()),
            ("Queue model".into(), s.queue.clone()),
            ("Consume recorded liquidity".into(), s.consume_liquidity.to_string()),
            (
                "Fees (maker / taker bps)".into(),
                s.fees
                    .iter()
                    .map(|f| format!("{} {} / {}", f.instrument, f.maker_bps, f.taker_bps))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("Seed".into(), s.seed.to_string()),
            ("Timer".into(), s.timer.clone()),
            (
                "Limits".into(),
                if s.limits.is_empty() { "none".into() } else { s.limits.join(", ") },
            ),
        ],
    );
    let d = &r.data;
    table(
        &mut out,
        "Data",
        &[
            ("Source".into(), format!("{} ({})", d.source, d.format)),
            ("Feed / venue".into(), format!("{} / {}", d.feed, d.venue)),
            ("Instruments".into(), d.instruments.join(", ")),
            ("Events".into(), d.events.to_string()),
            ("Out of order (made monotonic)".into(), d.out_of_order.to_string()),
            ("Skipped (other venues)".into(), d.skipped.to_string()),
            (
                "Refused by the venue's book".into(),
                match &d.refused_by_venue_first {
                    Some(first) => format!("{} (first: {first})", d.refused_by_venue),
                    None => d.refused_by_venue.to_string(),
                },
            ),
            ("Refused by the core".into(), format!("{:?}", d.refused_by_core)),
        ],
    );
    let e = &r.engine;
    table(
        &mut out,
        "Engine",
        &[
            (
                "Commands".into(),
                e.commands.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "),
            ),
            ("Outputs".into(), e.outputs.to_string()),
            ("Timers".into(), e.timers.to_string()),
            ("Strategy reports deferred".into(), e.strategy_events_deferred.to_string()),
            (
                "Most messages in flight / events in the feed".into(),
                format!("{} / {}", e.in_flight_max, e.feed_depth_max),
            ),
            ("Final state digest".into(), e.state_digest.clone()),
        ],
    );
    out.push_str("</body></html>\n");
    out
}
