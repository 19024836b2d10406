//! `--plot FILE.svg`: the latency-percentile chart of a run, in the HdrHistogram style:
//! x is the percentile on a log scale of `1 / (1 − percentile)` (so 90%, 99%, 99.9%, …
//! are evenly spaced), y the corrected latency in microseconds on a log scale; one line
//! per measurement, floors dashed-looking (lighter colour).

use super::report::{Report, Role};
use plotters::prelude::*;

/// The largest `1 / (1 − q)` plotted: 99.9999%.
const X_MAX: f64 = 1e6;

/// One line of the chart: name, role, (x = 1/(1−q), y = µs) points.
type Series = (String, Role, Vec<(f64, f64)>);

/// Writes the chart of `report` to `path` (SVG).
pub fn write_svg(report: &Report, path: &std::path::Path) -> Result<(), String> {
    let series: Vec<Series> = report
        .measurements
        .iter()
        .filter_map(|m| {
            let h = m.histogram.as_ref().filter(|h| !h.is_empty())?;
            let mut pts: Vec<(f64, f64)> = h
                .iter_quantiles(5)
                .map(|v| {
                    let q = v.quantile_iterated_to();
                    let x = if q >= 1.0 { X_MAX } else { (1.0 / (1.0 - q)).min(X_MAX) };
                    (x, (v.value_iterated_to().max(1)) as f64 / 1e3)
                })
                .collect();
            pts.dedup_by(|a, b| a.0 == b.0);
            Some((m.name.clone(), m.role, pts))
        })
        .collect();
    if series.is_empty() {
        return Err("nothing was measured: no chart".into());
    }
    let y_max = series.iter().flat_map(|s| s.2.iter().map(|p| p.1)).fold(0.001_f64, f64::max);
    let y_min = series.iter().flat_map(|s| s.2.iter().map(|p| p.1)).fold(f64::MAX, f64::min);
    let x_max = series.iter().flat_map(|s| s.2.iter().map(|p| p.0)).fold(10.0_f64, f64::max);
    let err = |e: &dyn std::fmt::Display| format!("chart {}: {e}", path.display());

    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let title = format!("keel bench {} — latency by percentile (corrected)", report.mode);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (1.0..x_max * 1.2).log_scale(),
            ((y_min * 0.8).max(1e-3)..y_max * 1.5).log_scale(),
        )
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (µs)")
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| format!("{y}"))
        .draw()
        .map_err(|e| err(&e))?;
    let palette = [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44)];
    let floors = [RGBColor(120, 120, 120), RGBColor(255, 127, 14), RGBColor(148, 103, 189)];
    let (mut s_i, mut f_i) = (0, 0);
    for (name, role, pts) in series {
        let color = match role {
            Role::Subject => {
                s_i += 1;
                palette[(s_i - 1) % palette.len()]
            }
            Role::Floor => {
                f_i += 1;
                floors[(f_i - 1) % floors.len()]
            }
        };
        let label = match role {
            Role::Subject => name,
            Role::Floor => format!("{name} (floor)"),
        };
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// `1 / (1 − q)` as a percentile label: 1 → 0%, 10 → 90%, 100 → 99%, 1000 → 99.9%.
fn percentile_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 1.0 / x.max(1.0));
    let digits = (x.log10().round() as i32 - 2).max(0) as usize;
    format!("{q:.digits$}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(10_000.0), "99.99%");
    }
}
