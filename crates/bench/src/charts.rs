//! SVG charts of a [`Results`]: memory over time, scrape latencies, kubestate/KSM ratios.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plotters::prelude::*;

use crate::measure::Run;
use crate::report::{figures, Results};

const KUBESTATE: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const KSM: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const MIB: f64 = 1024.0 * 1024.0;

fn color(exporter: &str) -> RGBColor {
    if exporter == "kubestate" {
        KUBESTATE
    } else {
        KSM
    }
}

fn label(exporter: &str) -> &'static str {
    if exporter == "kubestate" {
        "kubestate"
    } else {
        "KSM v2.20"
    }
}

/// Plotters errors carry the backend's error type; flatten them into text.
fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {e:?}")
}

/// The run with the median time to first complete body (the representative one).
fn median_run<'a>(r: &'a Results, exporter: &str) -> Option<&'a Run> {
    let mut v: Vec<&Run> = r.runs_of(exporter).collect();
    v.sort_by(|a, b| a.first_complete.total_cmp(&b.first_complete));
    v.get(v.len().saturating_sub(1) / 2).copied()
}

/// Writes every chart into `dir`; returns the files written.
pub fn render(r: &Results, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out = Vec::new();
    let p = dir.join(format!("rss-{}.svg", r.preset));
    rss_timeline(r, &p).with_context(|| format!("writing {}", p.display()))?;
    out.push(p);
    let p = dir.join(format!("scrape-{}.svg", r.preset));
    scrape_latency(r, &p).with_context(|| format!("writing {}", p.display()))?;
    out.push(p);
    if figures().iter().any(|f| r.ratio(f).is_some()) {
        let p = dir.join(format!("ratios-{}.svg", r.preset));
        ratios(r, &p).with_context(|| format!("writing {}", p.display()))?;
        out.push(p);
    }
    Ok(out)
}

/// Resident memory over a representative run of each exporter, with the moment the first
/// complete body arrived.
fn rss_timeline(r: &Results, path: &Path) -> anyhow::Result<()> {
    let runs: Vec<&Run> = ["kubestate", "ksm"]
        .iter()
        .filter_map(|e| median_run(r, e))
        .collect();
    let xmax = runs
        .iter()
        .flat_map(|run| run.rss_timeline.last().map(|p| p.t))
        .fold(1.0, f64::max);
    let ymax = runs
        .iter()
        .flat_map(|run| run.rss_timeline.iter().map(|p| p.rss as f64 / MIB))
        .fold(1.0, f64::max)
        * 1.1;
    let root = SVGBackend::new(path, (960, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Resident memory, {} preset ({} objects): sync, settle, scrapes, churn",
                r.preset, r.objects
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..xmax, 0f64..ymax)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since process start")
        .y_desc("RSS (MiB)")
        .draw()
        .map_err(err)?;
    for run in &runs {
        let c = color(&run.exporter);
        chart
            .draw_series(LineSeries::new(
                run.rss_timeline.iter().map(|p| (p.t, p.rss as f64 / MIB)),
                c.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!(
                "{} (run {}; first complete /metrics at {:.1} s)",
                label(&run.exporter),
                run.run,
                run.first_complete
            ))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(run.first_complete, 0.0), (run.first_complete, ymax)],
                c.mix(0.5).stroke_width(1),
            )))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Median p50 and p99 of each scrape mode, log scale.
fn scrape_latency(r: &Results, path: &Path) -> anyhow::Result<()> {
    type Pick = fn(&Run) -> f64;
    let concurrent = |mode: &str| format!("{} concurrent {mode}", r.params.concurrency);
    let modes: [(String, Pick, Pick); 4] = [
        (
            "sequential plain".into(),
            |x| x.seq_plain.p50,
            |x| x.seq_plain.p99,
        ),
        (
            "sequential gzip".into(),
            |x| x.seq_gzip.p50,
            |x| x.seq_gzip.p99,
        ),
        (
            concurrent("plain"),
            |x| x.conc_plain.p50,
            |x| x.conc_plain.p99,
        ),
        (concurrent("gzip"), |x| x.conc_gzip.p50, |x| x.conc_gzip.p99),
    ];
    let exporters: Vec<&str> = ["kubestate", "ksm"]
        .into_iter()
        .filter(|e| r.runs_of(e).next().is_some())
        .collect();
    let med = |e: &str, f: Pick| crate::report::noise(r.runs_of(e).map(f)).map(|n| n.median);
    let mut vals = Vec::new();
    for (mi, (_, p50, p99)) in modes.iter().enumerate() {
        for (ei, e) in exporters.iter().enumerate() {
            if let (Some(a), Some(b)) = (med(e, *p50), med(e, *p99)) {
                vals.push((mi, ei, *e, a, b));
            }
        }
    }
    let ymin = vals
        .iter()
        .map(|v| v.3.min(v.4))
        .fold(f64::INFINITY, f64::min)
        .max(1e-5)
        / 2.0;
    let ymax = vals.iter().map(|v| v.4).fold(1e-4, f64::max) * 2.0;
    let ymin = if ymin.is_finite() { ymin } else { 1e-5 };
    let root = SVGBackend::new(path, (960, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Scrape latency of /metrics, {} preset (bar: p50, whisker: p99; median over runs; log scale)",
                r.preset
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..4f64, (ymin..ymax).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(modes.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 0.26 {
                modes.get(i).map(|m| m.0.to_string()).unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("seconds to last byte")
        .draw()
        .map_err(err)?;
    let n = exporters.len().max(1) as f64;
    for e in &exporters {
        let c = color(e);
        let bars: Vec<_> = vals
            .iter()
            .filter(|v| v.2 == *e)
            .map(|v| {
                let x0 = v.0 as f64 + 0.1 + 0.8 * v.1 as f64 / n;
                let x1 = x0 + 0.8 / n - 0.04;
                Rectangle::new([(x0, ymin), (x1, v.3)], c.mix(0.7).filled())
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(err)?
            .label(label(e))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
        let whiskers: Vec<_> = vals
            .iter()
            .filter(|v| v.2 == *e)
            .map(|v| {
                let x0 = v.0 as f64 + 0.1 + 0.8 * v.1 as f64 / n;
                let xm = x0 + (0.8 / n - 0.04) / 2.0;
                PathElement::new(vec![(xm, v.3), (xm, v.4)], c.stroke_width(2))
            })
            .collect();
        chart.draw_series(whiskers).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// kubestate/KSM ratio of each figure with a target, with the target marked.
fn ratios(r: &Results, path: &Path) -> anyhow::Result<()> {
    let rows: Vec<(String, f64, Option<f64>)> = figures()
        .into_iter()
        .filter(|f| {
            f.target.is_some()
                || matches!(
                    f.key,
                    // The change delays are milliseconds for both, at the polling
                    // resolution: their ratio is noise and would squash the chart.
                    "sync CPU" | "p99 seq" | "CPU/scrape" | "CPU/scrape gz"
                )
        })
        .filter_map(|f| {
            let key = f.key.replace("Nx", &format!("{}x", r.params.concurrency));
            r.ratio(&f).map(|x| (key, x, f.target.map(|t| t.0)))
        })
        .collect();
    let n = rows.len().max(1) as f64;
    let ymax = rows
        .iter()
        .map(|x| x.1.max(x.2.unwrap_or(0.0)))
        .fold(1.05, f64::max)
        * 1.1;
    let root = SVGBackend::new(path, (960, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "kubestate / KSM, {} preset (median of runs; below 1 = kubestate better; black tick = target)",
                r.preset
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n, 0f64..ymax)
        .map_err(err)?;
    let keys: Vec<&str> = rows.iter().map(|x| x.0.as_str()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 0.26 {
                keys.get(i).map(|k| k.to_string()).unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("ratio kubestate / KSM")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, (_, v, t))| {
            // Blue: meets its target, or is better than KSM when there is none.
            let met = *v <= t.unwrap_or(1.0);
            let c = if met { KUBESTATE } else { KSM };
            Rectangle::new(
                [(i as f64 + 0.2, 0.0), (i as f64 + 0.8, *v)],
                c.mix(0.75).filled(),
            )
        }))
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().filter_map(|(i, (_, _, t))| {
            t.map(|t| {
                PathElement::new(
                    vec![(i as f64 + 0.1, t), (i as f64 + 0.9, t)],
                    BLACK.stroke_width(3),
                )
            })
        }))
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 1.0), (n, 1.0)],
            BLACK.mix(0.4).stroke_width(1),
        )))
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, (_, v, _))| {
            Text::new(
                format!("{v:.2}"),
                (i as f64 + 0.3, *v + ymax * 0.02),
                ("sans-serif", 14),
            )
        }))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
