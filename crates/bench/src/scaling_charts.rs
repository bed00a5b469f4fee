//! SVG charts of a scaling [`Summary`]: each figure against the object count (log–log), and
//! the cost per object (or per event) against the object count, where a flat line means no
//! superlinear term.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::scaling::{metrics, Growth, Metric, Point, Summary};

const KUBESTATE: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const KSM: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const FONT: &str = "sans-serif";

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {e:?}")
}

fn color(exporter: &str) -> RGBColor {
    if exporter == "kubestate" {
        KUBESTATE
    } else {
        KSM
    }
}

/// One line of a panel: a figure of one exporter over the simulated worlds, and the real API
/// server points of the same figure.
struct Line {
    color: RGBColor,
    /// Peak lines are drawn thinner with triangles, steady ones with circles.
    secondary: bool,
    sim: Vec<(f64, f64)>,
    real: Vec<(f64, f64)>,
}

/// What one panel shows.
struct Panel {
    title: String,
    /// Log scale on y (figures that grow with the world); linear from 0 otherwise.
    log_y: bool,
    y_desc: String,
    lines: Vec<Line>,
}

/// The metrics drawn in one panel each; the two RSS figures share the first panel.
fn panels(s: &Summary, per: bool) -> Vec<Panel> {
    let ms = metrics();
    let value = |m: &Metric, p: &Point| {
        let v = p.value(m.key);
        if per {
            m.per(v, p.objects)
        } else {
            v
        }
    };
    let line = |m: &Metric, ex: &str, secondary: bool| Line {
        color: color(ex),
        secondary,
        sim: s
            .points
            .iter()
            .filter(|p| !p.real && p.exporter == ex)
            .map(|p| (p.objects as f64, value(m, p)))
            .filter(|(_, y)| y.is_finite() && *y > 0.0)
            .collect(),
        real: s
            .points
            .iter()
            .filter(|p| p.real && p.exporter == ex)
            .map(|p| (p.objects as f64, value(m, p)))
            .filter(|(_, y)| y.is_finite() && *y > 0.0)
            .collect(),
    };
    let unit = |m: &Metric| if per { m.per_unit } else { m.unit };
    let mut out = vec![Panel {
        title: if per {
            "RSS per object: steady (●) and peak during sync (▲)".into()
        } else {
            "RSS: steady (●) and peak during sync (▲)".into()
        },
        log_y: !per,
        y_desc: unit(&ms[0]).to_string(),
        lines: ["kubestate", "ksm"]
            .iter()
            .flat_map(|ex| [line(&ms[0], ex, false), line(&ms[1], ex, true)])
            .collect(),
    }];
    for m in &ms[2..] {
        let title = match (per, m.growth) {
            (true, Growth::Linear) => format!("{} per object", m.name),
            (true, Growth::Flat) => "CPU per watch event".to_string(),
            (false, _) => m.name.to_string(),
        };
        out.push(Panel {
            title,
            log_y: !per && m.growth == Growth::Linear,
            y_desc: unit(m).to_string(),
            lines: ["kubestate", "ksm"]
                .iter()
                .map(|ex| line(m, ex, false))
                .collect(),
        });
    }
    out
}

/// Writes `scaling.svg` (figures) and `scaling-per-object.svg` into `dir`.
pub fn render(s: &Summary, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out = Vec::new();
    for (file, per) in [("scaling.svg", false), ("scaling-per-object.svg", true)] {
        let p = dir.join(file);
        draw(s, per, &p).with_context(|| format!("writing {}", p.display()))?;
        out.push(p);
    }
    Ok(out)
}

fn draw(s: &Summary, per: bool, path: &Path) -> anyhow::Result<()> {
    let ps = panels(s, per);
    let has_real = s.points.iter().any(|p| p.real);
    let root = SVGBackend::new(path, (1200, 1180)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let title = if per {
        "Cost per object against cluster size (flat = no superlinear term)"
    } else {
        "Cost against cluster size (log–log; slope 1 = linear)"
    };
    let root = root
        .titled(title, (FONT, 26).into_font().color(&BLACK))
        .map_err(err)?;
    let (body, foot) = root.split_vertically(1110);
    let cells = body.split_evenly((3, 2));
    for (panel, area) in ps.iter().zip(cells.iter()) {
        draw_panel(panel, area)?;
    }
    let (lo, hi) = s
        .points
        .iter()
        .map(|p| p.max_load)
        .filter(|l| l.is_finite())
        .fold((f64::INFINITY, 0.0f64), |(a, b), l| (a.min(l), b.max(l)));
    let load = if lo.is_finite() {
        format!("; 1-minute load average before the runs {lo:.1}–{hi:.1}")
    } else {
        String::new()
    };
    let note = format!(
        "x: objects in the world (simulated presets){}; each point the median of its runs{load}",
        if has_real {
            "; hollow squares: the same world loaded into a real kube-apiserver"
        } else {
            ""
        }
    );
    foot.draw(&Text::new(
        note,
        (20, 20),
        (FONT, 17).into_font().color(&BLACK),
    ))
    .map_err(err)?;
    if let Some(area) = cells.get(ps.len()) {
        legend(area, has_real)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// Range of `v` widened by a margin: multiplicative for a log axis.
fn span(v: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = v
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    if !lo.is_finite() {
        return (1.0, 10.0);
    }
    if log {
        (lo / 1.8, hi * 1.8)
    } else {
        (0.0, hi * 1.25)
    }
}

/// Whether `y` lies in the bottom eighth of the axis `y0..y1` (linear or log), where a label
/// drawn below the point would cross the x axis.
fn near_floor(y: f64, y0: f64, y1: f64, log: bool) -> bool {
    let at = if log && y > 0.0 && y0 > 0.0 && y1 > y0 {
        (y / y0).ln() / (y1 / y0).ln()
    } else if y1 > y0 {
        (y - y0) / (y1 - y0)
    } else {
        return false;
    };
    at < 0.125
}

/// Tick labels of a log axis: 1, 10, 100 k… without exponents.
fn short(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{}M", trim(x / 1e6))
    } else if a >= 1e3 {
        format!("{}k", trim(x / 1e3))
    } else {
        trim(x)
    }
}

/// Whether a log-axis tick is 1, 2 or 5 times a power of ten: the only ones labelled, so that
/// dense ticks (600, 700, 800) do not print over each other.
fn round_tick(x: f64) -> bool {
    if !(x.is_finite() && x > 0.0) {
        return false;
    }
    let m = x / 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|r| (m - r).abs() < 1e-6 * r)
}

fn trim(x: f64) -> String {
    let s = if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.1}")
    } else if x.abs() >= 0.01 {
        format!("{x:.3}")
    } else {
        format!("{x:.1e}")
    };
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn draw_panel(p: &Panel, area: &DrawingArea<SVGBackend, Shift>) -> anyhow::Result<()> {
    let all = || p.lines.iter().flat_map(|l| l.sim.iter().chain(&l.real));
    let (x0, x1) = span(all().map(|q| q.0), true);
    let (y0, y1) = span(all().map(|q| q.1), p.log_y);
    let mut b = ChartBuilder::on(area);
    b.caption(&p.title, (FONT, 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(76);
    macro_rules! finish {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc("objects")
                .y_desc(&p.y_desc)
                .x_label_formatter(&|x| short(*x))
                .y_label_formatter(&|y| {
                    if p.log_y && !round_tick(*y) {
                        String::new()
                    } else {
                        short(*y)
                    }
                })
                .label_style((FONT, 15))
                .axis_desc_style((FONT, 16))
                .draw()
                .map_err(err)?;
            for l in &p.lines {
                let c = l.color;
                let width = if l.secondary { 1 } else { 2 };
                let style = if l.secondary { c.mix(0.6) } else { c.mix(1.0) };
                chart
                    .draw_series(LineSeries::new(
                        l.sim.iter().copied(),
                        style.stroke_width(width),
                    ))
                    .map_err(err)?;
                if l.secondary {
                    chart
                        .draw_series(
                            l.sim
                                .iter()
                                .map(|q| TriangleMarker::new(*q, 6, style.filled())),
                        )
                        .map_err(err)?;
                } else {
                    chart
                        .draw_series(l.sim.iter().map(|q| Circle::new(*q, 5, style.filled())))
                        .map_err(err)?;
                }
                chart
                    .draw_series(l.real.iter().map(|q| {
                        EmptyElement::at(*q) + Rectangle::new([(-6, -6), (6, 6)], c.stroke_width(2))
                    }))
                    .map_err(err)?;
                // Value labels at the largest world, so the end points can be read off:
                // the steady figure's below its point and the peak's above, both above when
                // the point sits near the x axis (a label there would cross it).
                if let Some(last) = l.sim.last() {
                    let dy = match (l.secondary, near_floor(last.1, y0, y1, p.log_y)) {
                        (false, false) => 4,
                        (true, false) => -16,
                        (false, true) => -18,
                        (true, true) => -32,
                    };
                    chart
                        .draw_series(std::iter::once(
                            EmptyElement::at(*last)
                                + Text::new(
                                    short(last.1),
                                    (8, dy),
                                    (FONT, 14).into_font().color(&c),
                                ),
                        ))
                        .map_err(err)?;
                }
            }
            Ok(())
        }};
    }
    // The right margin leaves room for the end-point labels.
    let x1 = x1 * 2.2;
    if p.log_y {
        finish!(b
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
            .map_err(err)?)
    } else {
        finish!(b
            .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
            .map_err(err)?)
    }
}

/// The shared legend, in the spare sixth cell; the real API server's mark only when a chart
/// has such a point.
fn legend(area: &DrawingArea<SVGBackend, Shift>, has_real: bool) -> anyhow::Result<()> {
    let style = (FONT, 18).into_font().color(&BLACK);
    let rows: [(RGBColor, &str, u8); 5] = [
        (KUBESTATE, "kubestate (steady RSS, CPU figures)", 0),
        (KUBESTATE, "kubestate, peak RSS during sync", 1),
        (KSM, "KSM v2.20 (steady RSS, CPU figures)", 0),
        (KSM, "KSM v2.20, peak RSS during sync", 1),
        (
            BLACK,
            "real kube-apiserver (same preset loaded through the API)",
            2,
        ),
    ];
    let (x, mut y) = (60, 80);
    area.draw(&Text::new(
        "Legend",
        (x, y - 44),
        (FONT, 20).into_font().color(&BLACK),
    ))
    .map_err(err)?;
    for (c, text, kind) in rows.into_iter().filter(|r| has_real || r.2 != 2) {
        match kind {
            0 => {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 40, y)],
                    c.stroke_width(2),
                ))
                .map_err(err)?;
                area.draw(&Circle::new((x + 20, y), 5, c.filled()))
                    .map_err(err)?;
            }
            1 => {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 40, y)],
                    c.mix(0.6).stroke_width(1),
                ))
                .map_err(err)?;
                area.draw(&TriangleMarker::new((x + 20, y), 6, c.mix(0.6).filled()))
                    .map_err(err)?;
            }
            _ => {
                area.draw(&Rectangle::new(
                    [(x + 14, y - 6), (x + 26, y + 6)],
                    c.stroke_width(2),
                ))
                .map_err(err)?;
            }
        }
        area.draw(&Text::new(text, (x + 56, y - 9), style.clone()))
            .map_err(err)?;
        y += 40;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::tests::{results, run, sample};
    use crate::scaling::{aggregate, Summary};

    #[test]
    fn labels_near_the_x_axis_go_above_their_point() {
        assert!(near_floor(1.8, 0.0, 43.0, false));
        assert!(!near_floor(13.7, 0.0, 43.0, false));
        assert!(near_floor(1.1, 1.0, 1000.0, true));
        assert!(!near_floor(100.0, 1.0, 1000.0, true));
        assert!(!near_floor(5.0, 5.0, 5.0, false));
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(short(150_000.0), "150k");
        assert_eq!(short(2_500.0), "2.5k");
        assert_eq!(short(1_000_000.0), "1M");
        assert_eq!(short(12.0), "12");
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(0.004), "4.0e-3");
        assert_eq!(short(0.0), "0");
        assert!(round_tick(200.0) && round_tick(0.05) && round_tick(1000.0));
        assert!(!round_tick(700.0) && !round_tick(0.3) && !round_tick(0.0));
    }

    #[test]
    fn charts_are_written_with_every_panel() {
        let mut rs = sample();
        rs.push(results(
            "real-medium",
            24_600,
            vec![run("kubestate", 24_600, 2_500.0, f64::NAN)],
        ));
        let s = Summary {
            files: vec![],
            points: aggregate(&rs),
        };
        let dir = std::env::temp_dir().join(format!("scaling-charts-{}", std::process::id()));
        let files = render(&s, &dir).expect("charts");
        assert_eq!(files.len(), 2);
        for f in &files {
            let svg = std::fs::read_to_string(f).expect("svg");
            assert!(svg.starts_with("<svg"), "{}", f.display());
            for title in [
                "RSS",
                "CPU of the initial sync",
                "CPU per plain scrape",
                "Legend",
            ] {
                assert!(svg.contains(title), "{} lacks {title}", f.display());
            }
            // The hollow squares of the real API server point.
            assert!(svg.contains("real kube-apiserver"));
        }
        // Without a real API server point, its legend entry is left out.
        let s = Summary {
            files: vec![],
            points: aggregate(&sample()),
        };
        for f in render(&s, &dir).expect("charts") {
            let svg = std::fs::read_to_string(&f).expect("svg");
            assert!(svg.contains("Legend") && !svg.contains("real kube-apiserver"));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
