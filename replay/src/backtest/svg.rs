//! Hand-written SVG charts for the HTML report: a step line over time and a bar chart.
//!
//! No fonts, scripts or external references: text uses the generic `sans-serif` family,
//! so the page is self-contained. Output is deterministic: coordinates are printed with
//! one decimal, tick positions come from exact IEEE arithmetic (no `log`/`pow` from the
//! platform's libm), and long series are reduced per pixel column (first, lowest,
//! highest and last point kept, in time order), which keeps every spike visible.

use std::fmt::Write;

const W: f64 = 960.0;
const H: f64 = 300.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 44.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `target` ticks over `range`.
fn nice_step(range: f64, target: f64) -> f64 {
    let raw = (range / target).max(f64::MIN_POSITIVE);
    let mut p = 1.0;
    while p * 10.0 <= raw {
        p *= 10.0;
    }
    while p > raw {
        p /= 10.0;
    }
    // The candidate whose tick count is closest to the target (ties: the larger step).
    let mut best = p;
    for m in [1.0, 2.0, 5.0, 10.0] {
        let (n, best_n) = (range / (p * m), range / best);
        if (n - target).abs() <= (best_n - target).abs() {
            best = p * m;
        }
    }
    best
}

/// Decimals needed to show multiples of `step` exactly enough.
fn decimals(step: f64) -> usize {
    let mut d = 0;
    let mut s = step;
    while d < 8 && (s - s.round()).abs() > 1e-9 * step.max(1.0) {
        s *= 10.0;
        d += 1;
    }
    d
}

fn ticks(lo: f64, hi: f64, target: f64) -> (Vec<f64>, usize) {
    let step = nice_step(hi - lo, target);
    let first = (lo / step).ceil() * step;
    let mut out = Vec::new();
    let mut k = 0.0;
    loop {
        let v = first + k * step;
        if v > hi + step * 1e-9 || out.len() > 20 {
            break;
        }
        out.push(v);
        k += 1.0;
    }
    (out, decimals(step))
}

/// Keeps at most four points per pixel column: first, lowest, highest, last.
fn reduce(points: &[(f64, f64)], x0: f64, x1: f64, columns: usize) -> Vec<(f64, f64)> {
    if points.len() <= columns * 4 {
        return points.to_vec();
    }
    let span = (x1 - x0).max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(columns * 4);
    let mut i = 0;
    while i < points.len() {
        let col = (((points[i].0 - x0) / span) * columns as f64) as usize;
        let start = i;
        let (mut lo, mut hi) = (i, i);
        while i < points.len() && (((points[i].0 - x0) / span) * columns as f64) as usize == col {
            if points[i].1 < points[lo].1 {
                lo = i;
            }
            if points[i].1 > points[hi].1 {
                hi = i;
            }
            i += 1;
        }
        let mut keep = [start, lo, hi, i - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(points[k]);
                last = k;
            }
        }
    }
    out
}

/// How elapsed seconds are labelled.
fn time_unit(span_s: f64) -> (f64, &'static str) {
    if span_s < 180.0 {
        (1.0, "s")
    } else if span_s < 3.0 * 3600.0 {
        (60.0, "min")
    } else {
        (3600.0, "h")
    }
}

/// A step chart of `points` (x: seconds since the start, y: value), titled, with the y
/// axis labelled `y_label`. Each value holds until the next point.
pub fn step_chart(title: &str, y_label: &str, points: &[(f64, f64)], color: &str) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r##"<rect width="{W}" height="{H}" fill="#ffffff"/>"##);
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"#,
        esc(title)
    );
    if points.is_empty() {
        let _ = write!(svg, r#"<text x="{LEFT}" y="{}">no data</text></svg>"#, H / 2.0);
        return svg;
    }
    let x0 = points[0].0;
    let x1 = points[points.len() - 1].0.max(x0 + 1e-9);
    let (unit, unit_name) = time_unit(x1 - x0);
    let (mut y0, mut y1) =
        points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if y1 - y0 < 1e-12 {
        y0 -= 1.0;
        y1 += 1.0;
    }
    let (yt, yd) = ticks(y0, y1, 5.0);
    y0 = y0.min(yt.first().copied().unwrap_or(y0));
    y1 = y1.max(yt.last().copied().unwrap_or(y1));
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * ph;
    for v in &yt {
        let y = sy(*v);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/>"##,
            W - RIGHT
        );
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{v:.yd$}</text>"#,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let (xt, xd) = ticks(0.0, (x1 - x0) / unit, 8.0);
    for v in &xt {
        let x = sx(x0 + v * unit);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#f0f0f0"/>"##,
            H - BOTTOM
        );
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{v:.xd$}</text>"#,
            H - BOTTOM + 16.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time since start ({unit_name})</text>"#,
        LEFT + pw / 2.0,
        H - 6.0
    );
    let _ = write!(
        svg,
        r#"<text transform="translate(16,{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + ph / 2.0,
        esc(y_label)
    );
    if y0 < 0.0 && y1 > 0.0 {
        let y = sy(0.0);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#999999"/>"##,
            W - RIGHT
        );
    }
    let kept = reduce(points, x0, x1, pw as usize);
    let mut d = String::with_capacity(kept.len() * 24);
    let mut prev_y = None;
    for (x, y) in &kept {
        let (px, py) = (sx(*x), sy(*y));
        match prev_y {
            None => {
                let _ = write!(d, "M{px:.1} {py:.1}");
            }
            Some(prev) => {
                let _ = write!(d, "H{px:.1}");
                if prev != py {
                    let _ = write!(d, "V{py:.1}");
                }
            }
        }
        prev_y = Some(py);
    }
    let _ = write!(svg, r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="1.5"/>"#);
    let _ = write!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#888888"/></svg>"##
    );
    svg
}

/// A bar chart of counts with a label under each bar.
pub fn bar_chart(title: &str, bars: &[(String, u64)], color: &str) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(svg, r##"<rect width="{W}" height="{H}" fill="#ffffff"/>"##);
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0);
    if bars.is_empty() || max == 0 {
        let _ = write!(svg, r#"<text x="{LEFT}" y="{}">no data</text></svg>"#, H / 2.0);
        return svg;
    }
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let (yt, yd) = ticks(0.0, max as f64, 5.0);
    let top = yt.last().copied().unwrap_or(max as f64).max(max as f64);
    let sy = |v: f64| TOP + (1.0 - v / top) * ph;
    for v in &yt {
        let y = sy(*v);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/>"##,
            W - RIGHT
        );
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{v:.yd$}</text>"#,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let slot = pw / bars.len() as f64;
    let every = bars.len().div_ceil(24).max(1);
    for (i, (label, count)) in bars.iter().enumerate() {
        let x = LEFT + i as f64 * slot;
        let y = sy(*count as f64);
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}: {count}</title></rect>"#,
            x + slot * 0.1,
            slot * 0.8,
            TOP + ph - y,
            esc(label)
        );
        if i % every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x + slot / 2.0,
                H - BOTTOM + 16.0,
                esc(label)
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">latency (bucket lower bound)</text>"#,
        LEFT + pw / 2.0,
        H - 6.0
    );
    let _ = write!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#888888"/></svg>"##
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_and_ticks() {
        assert_eq!(nice_step(10.0, 5.0), 2.0);
        assert_eq!(nice_step(1.0, 5.0), 0.2);
        assert_eq!(nice_step(730.0, 5.0), 200.0);
        let (t, d) = ticks(-3.2, 7.9, 5.0);
        assert_eq!(t, vec![-2.0, 0.0, 2.0, 4.0, 6.0]);
        assert_eq!(d, 0);
        assert_eq!(decimals(0.05), 2);
    }

    #[test]
    fn long_series_keep_their_extremes() {
        let points: Vec<(f64, f64)> =
            (0..100_000).map(|i| (i as f64, if i == 54_321 { 99.0 } else { 0.0 })).collect();
        let kept = reduce(&points, 0.0, 99_999.0, 100);
        assert!(kept.len() <= 400);
        assert!(kept.contains(&(54_321.0, 99.0)));
        assert_eq!(kept.first(), points.first());
        assert_eq!(kept.last(), points.last());
    }

    #[test]
    fn charts_are_self_contained_and_repeatable() {
        let points = vec![(0.0, 1.0), (5.0, -2.0), (10.0, 3.5)];
        let a = step_chart("Equity", "USD", &points, "#1f77b4");
        assert_eq!(a, step_chart("Equity", "USD", &points, "#1f77b4"));
        assert!(a.starts_with("<svg") && a.ends_with("</svg>"));
        assert!(!a.contains("href") && !a.contains("<script"));
        let b = bar_chart("Latency", &[("1us".into(), 3), ("2us".into(), 0)], "#ff7f0e");
        assert!(b.contains("<title>1us: 3</title>"));
    }
}
