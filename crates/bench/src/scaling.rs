//! How each exporter's cost grows with the cluster: saved `compare` results of several
//! presets folded into one point per (world, exporter), the cost per object of each point, and
//! the growth exponent between sizes (1 = linear; above 1 = a superlinear term).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::measure::Run;
use crate::report::{noise, num, Results};

const MIB: f64 = 1024.0 * 1024.0;

/// How a figure should grow with the number of objects if nothing superlinear hides in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Growth {
    /// Proportional to the objects (memory, a full sync, a full scrape).
    Linear,
    /// Independent of the objects (the cost of one watch event).
    Flat,
}

impl Growth {
    /// The exponent this growth has.
    pub fn exponent(self) -> f64 {
        match self {
            Growth::Linear => 1.0,
            Growth::Flat => 0.0,
        }
    }
}

/// One figure followed across sizes.
pub struct Metric {
    /// Key in the saved summary.
    pub key: &'static str,
    /// Chart and table title.
    pub name: &'static str,
    /// Unit of the figure.
    pub unit: &'static str,
    /// The figure of one run, in `unit`.
    pub get: fn(&Run) -> f64,
    /// Expected growth.
    pub growth: Growth,
    /// Unit of the normalized cost (per object, or per event for [`Growth::Flat`]).
    pub per_unit: &'static str,
    /// Multiplies `figure / objects` (or the figure itself for [`Growth::Flat`]) into `per_unit`.
    pub per_scale: f64,
}

impl Metric {
    /// The normalized cost of `value` in a world of `objects`: per object for linear figures,
    /// per event for the per-event figure.
    pub fn per(&self, value: f64, objects: usize) -> f64 {
        match self.growth {
            Growth::Linear if objects > 0 => value / objects as f64 * self.per_scale,
            Growth::Linear => f64::NAN,
            Growth::Flat => value * self.per_scale,
        }
    }
}

/// The figures followed, in chart order.
pub fn metrics() -> Vec<Metric> {
    vec![
        Metric {
            key: "steady_rss",
            name: "steady RSS",
            unit: "MiB",
            get: |r| r.steady_rss as f64 / MIB,
            growth: Growth::Linear,
            per_unit: "KiB/object",
            per_scale: 1024.0,
        },
        Metric {
            key: "peak_rss_sync",
            name: "peak RSS during sync",
            unit: "MiB",
            get: |r| r.peak_rss_sync as f64 / MIB,
            growth: Growth::Linear,
            per_unit: "KiB/object",
            per_scale: 1024.0,
        },
        Metric {
            key: "sync_cpu",
            name: "CPU of the initial sync",
            unit: "s",
            get: |r| r.sync_cpu,
            growth: Growth::Linear,
            per_unit: "µs/object",
            per_scale: 1e6,
        },
        Metric {
            key: "scrape_cpu",
            name: "CPU per plain scrape",
            unit: "s",
            get: |r| r.seq_plain.cpu_per_scrape,
            growth: Growth::Linear,
            per_unit: "µs/object",
            per_scale: 1e6,
        },
        Metric {
            key: "event_cpu",
            name: "CPU per 10k watch events",
            unit: "s",
            // No churn (a real API server, or --churn 0): not measured.
            get: |r| {
                if r.churn.events > 0 {
                    r.churn.cpu_per_10k
                } else {
                    f64::NAN
                }
            },
            growth: Growth::Flat,
            // s per 10,000 events → µs per event.
            per_unit: "µs/event",
            per_scale: 100.0,
        },
    ]
}

/// One exporter in one world: the medians of its runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Point {
    /// The world: a preset (`medium`), or `real-<preset>` for a real API server.
    pub world: String,
    /// Whether the world was served by a real API server rather than the simulator.
    pub real: bool,
    /// Objects in the world.
    pub objects: usize,
    /// `kubestate` or `ksm`.
    pub exporter: String,
    /// Runs folded into the medians.
    pub runs: usize,
    /// Sample lines of a full body (median).
    pub series: f64,
    /// Metric key → median over the runs (NaN when not measured, e.g. no churn).
    #[serde(deserialize_with = "nan_map")]
    pub values: BTreeMap<String, f64>,
    /// Highest 1-minute load average seen before a run.
    pub max_load: f64,
    /// `git describe` of the kubestate build.
    pub git: String,
    /// When the results were started (UTC).
    pub started: String,
}

/// serde_json writes NaN as `null`; read it back as NaN.
fn nan_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let m: BTreeMap<String, Option<f64>> = Deserialize::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
        .collect())
}

impl Point {
    /// The median of a metric, NaN when absent.
    pub fn value(&self, key: &str) -> f64 {
        self.values.get(key).copied().unwrap_or(f64::NAN)
    }
}

/// Everything the scaling report shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// The results files read.
    pub files: Vec<String>,
    /// Points, ordered by world size, then exporter.
    pub points: Vec<Point>,
}

/// Folds saved results into points: every run of one exporter in one world (same preset,
/// same object count), whichever file it came from, becomes one point of medians.
pub fn aggregate(results: &[Results]) -> Vec<Point> {
    let mut groups: BTreeMap<(usize, String, String), (Vec<&Run>, &Results)> = BTreeMap::new();
    for r in results {
        for run in &r.runs {
            groups
                .entry((r.objects, r.preset.clone(), run.exporter.clone()))
                .or_insert_with(|| (Vec::new(), r))
                .0
                .push(run);
        }
    }
    let mut points = Vec::new();
    for ((objects, world, exporter), (runs, r)) in groups {
        let med = |f: &dyn Fn(&Run) -> f64| {
            noise(runs.iter().map(|x| f(x)))
                .map(|n| n.median)
                .unwrap_or(f64::NAN)
        };
        let values = metrics()
            .iter()
            .map(|m| (m.key.to_string(), med(&m.get)))
            .collect();
        points.push(Point {
            real: world.starts_with("real"),
            world,
            objects,
            exporter,
            runs: runs.len(),
            series: med(&|x: &Run| x.series as f64),
            values,
            max_load: runs
                .iter()
                .map(|x| x.load_before[0])
                .fold(f64::NAN, f64::max),
            git: r.git.clone(),
            started: r.started.clone(),
        });
    }
    points.sort_by(|a, b| (a.real, a.objects, &a.exporter).cmp(&(b.real, b.objects, &b.exporter)));
    points
}

/// Reads `compare` results files and folds them into a summary.
pub fn summarize(files: &[impl AsRef<Path>]) -> anyhow::Result<Summary> {
    let mut results = Vec::with_capacity(files.len());
    for f in files {
        let f = f.as_ref();
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let r: Results = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a results file of `compare`", f.display()))?;
        results.push(r);
    }
    Ok(Summary {
        files: files
            .iter()
            .map(|f| f.as_ref().display().to_string())
            .collect(),
        points: aggregate(&results),
    })
}

/// Least-squares slope of `ln y` against `ln x` over the finite, positive pairs: the `b` of
/// `y = a·x^b`. `None` with fewer than two distinct sizes.
pub fn loglog_slope(xy: &[(f64, f64)]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = xy
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= f64::EPSILON {
        return None;
    }
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    Some(sxy / sxx)
}

/// How a figure grows for one exporter over the simulated worlds.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Exponent fitted over all sizes.
    pub overall: f64,
    /// Exponent between the two largest sizes (where a superlinear term would show most).
    pub top: f64,
    /// Normalized cost at the smallest and at the largest size.
    pub per_first: f64,
    /// See `per_first`.
    pub per_last: f64,
}

impl Fit {
    /// Whether the largest step grows no faster than `growth` allows, with `slack` for noise.
    pub fn within(&self, growth: Growth, slack: f64) -> bool {
        self.top <= growth.exponent() + slack
    }
}

/// The fit of `m` for `exporter` over the simulated worlds of `points`.
pub fn fit(points: &[Point], exporter: &str, m: &Metric) -> Option<Fit> {
    let mut xy: Vec<(usize, f64)> = points
        .iter()
        .filter(|p| !p.real && p.exporter == exporter)
        .map(|p| (p.objects, p.value(m.key)))
        .filter(|(n, y)| *n > 0 && y.is_finite() && *y > 0.0)
        .collect();
    xy.sort_by_key(|p| p.0);
    let f: Vec<(f64, f64)> = xy.iter().map(|(n, y)| (*n as f64, *y)).collect();
    let overall = loglog_slope(&f)?;
    let top = loglog_slope(&f[f.len() - 2..])?;
    let (n0, y0) = xy[0];
    let (n1, y1) = xy[xy.len() - 1];
    Some(Fit {
        overall,
        top,
        per_first: m.per(y0, n0),
        per_last: m.per(y1, n1),
    })
}

/// Allowed excess of the top exponent over the expected one before a figure is called
/// superlinear: single runs of CPU figures read in 10 ms ticks are this noisy.
pub const SLACK: f64 = 0.15;

fn label(exporter: &str) -> &'static str {
    if exporter == "kubestate" {
        "kubestate"
    } else {
        "KSM"
    }
}

impl Summary {
    /// The point of `exporter` in `world`.
    pub fn point(&self, world: &str, exporter: &str) -> Option<&Point> {
        self.points
            .iter()
            .find(|p| p.world == world && p.exporter == exporter)
    }

    /// Worlds in size order (simulated first, then real API servers).
    pub fn worlds(&self) -> Vec<(&str, usize, bool)> {
        let mut w: Vec<(&str, usize, bool)> = Vec::new();
        for p in &self.points {
            if !w.iter().any(|x| x.0 == p.world) {
                w.push((p.world.as_str(), p.objects, p.real));
            }
        }
        w
    }

    /// Markdown tables: figures and per-object costs per world and exporter with the
    /// kubestate/KSM ratio, then the growth exponents.
    pub fn markdown(&self) -> String {
        let ms = metrics();
        let mut s = String::new();
        let _ = write!(s, "| world | objects | sample lines | exporter | runs |");
        for m in &ms {
            let _ = write!(s, " {} ({}) |", m.name, m.unit);
        }
        let _ = writeln!(s, " load before |");
        let _ = write!(s, "|---|---:|---:|---|---:|");
        for _ in &ms {
            let _ = write!(s, "---:|");
        }
        let _ = writeln!(s, "---:|");
        for (world, objects, _) in self.worlds() {
            for ex in ["kubestate", "ksm"] {
                let Some(p) = self.point(world, ex) else {
                    continue;
                };
                let _ = write!(
                    s,
                    "| {world} | {objects} | {} | {} | {} |",
                    num(p.series),
                    label(ex),
                    p.runs
                );
                for m in &ms {
                    let _ = write!(s, " {} |", num(p.value(m.key)));
                }
                let _ = writeln!(s, " {:.1} |", p.max_load);
            }
            if let (Some(a), Some(b)) = (self.point(world, "kubestate"), self.point(world, "ksm")) {
                let _ = write!(s, "| {world} | | | kubestate/KSM | |");
                for m in &ms {
                    let r = a.value(m.key) / b.value(m.key);
                    let _ = write!(
                        s,
                        " **{}** |",
                        if r.is_finite() {
                            format!("{r:.3}")
                        } else {
                            "—".into()
                        }
                    );
                }
                let _ = writeln!(s, " |");
            }
        }
        let _ = writeln!(s);
        let _ = write!(s, "| world | objects | exporter |");
        for m in &ms {
            let _ = write!(s, " {} ({}) |", m.name, m.per_unit);
        }
        let _ = writeln!(s);
        let _ = write!(s, "|---|---:|---|");
        for _ in &ms {
            let _ = write!(s, "---:|");
        }
        let _ = writeln!(s);
        for (world, objects, _) in self.worlds() {
            for ex in ["kubestate", "ksm"] {
                let Some(p) = self.point(world, ex) else {
                    continue;
                };
                let _ = write!(s, "| {world} | {objects} | {} |", label(ex));
                for m in &ms {
                    let _ = write!(s, " {} |", num(m.per(p.value(m.key), p.objects)));
                }
                let _ = writeln!(s);
            }
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "| figure | expected growth | exporter | exponent, all sizes | exponent, two largest | per unit, smallest → largest | verdict |"
        );
        let _ = writeln!(s, "|---|---|---|---:|---:|---|---|");
        for m in &ms {
            for ex in ["kubestate", "ksm"] {
                let Some(f) = fit(&self.points, ex, m) else {
                    continue;
                };
                let verdict = match (m.growth, f.within(m.growth, SLACK)) {
                    (Growth::Linear, true) => "linear or better".to_string(),
                    (Growth::Flat, true) => "flat".to_string(),
                    (_, false) => format!("grows faster (n^{:.2} at the top)", f.top),
                };
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {:.2} | {:.2} | {} → {} {} | {verdict} |",
                    m.name,
                    match m.growth {
                        Growth::Linear => "∝ objects (exponent 1)",
                        Growth::Flat => "constant (exponent 0)",
                    },
                    label(ex),
                    f.overall,
                    f.top,
                    num(f.per_first),
                    num(f.per_last),
                    m.per_unit
                );
            }
        }
        s
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::measure::{Churn, Latency, Params};
    use crate::report::Machine;

    /// A run whose figures follow `objects` the way `cost` says.
    pub(crate) fn run(exporter: &str, n: usize, rss_per_obj: f64, event: f64) -> Run {
        let objects = n as f64;
        Run {
            exporter: exporter.into(),
            run: 1,
            load_before: [1.5, 1.0, 1.0],
            steady_rss: (16.0 * MIB + objects * rss_per_obj) as u64,
            peak_rss_sync: (16.0 * MIB + objects * rss_per_obj * 1.1) as u64,
            sync_cpu: objects * 20e-6,
            series: n * 20,
            seq_plain: Latency {
                cpu_per_scrape: objects * 3e-6,
                ..Latency::default()
            },
            churn: Churn {
                events: 1_500,
                cpu_per_10k: event,
                ..Churn::default()
            },
            ..Run::default()
        }
    }

    pub(crate) fn results(preset: &str, objects: usize, runs: Vec<Run>) -> Results {
        Results {
            started: "2026-12-06T08:00:00Z".into(),
            command: vec![],
            git: "abc1234".into(),
            machine: Machine {
                cores: 2,
                memory: 0,
                cpu_model: String::new(),
                kernel: String::new(),
            },
            preset: preset.into(),
            objects,
            expect: vec![],
            content_types: None,
            binaries: vec![],
            params: Params {
                poll_ms: 100,
                settle_secs: 15.0,
                scrapes: 20,
                concurrency: 8,
                scrapes_per_scraper: 4,
                churn: 50.0,
                churn_secs: 30.0,
                markers: 10,
                sync_timeout_secs: 900.0,
            },
            ignored: vec![],
            runs,
            load: None,
        }
    }

    /// Four simulated worlds with kubestate linear and KSM's memory growing as n^1.3.
    pub(crate) fn sample() -> Vec<Results> {
        [
            ("small", 2_500),
            ("medium", 24_591),
            ("large", 122_861),
            ("xl", 368_000),
        ]
        .into_iter()
        .map(|(p, n)| {
            let x = n as f64;
            results(
                p,
                n,
                vec![
                    run("kubestate", n, 2_500.0, 0.5),
                    run("ksm", n, 200.0 * x.powf(0.3), 1.2 + 0.01 * x.ln()),
                ],
            )
        })
        .collect()
    }

    #[test]
    fn slope_recovers_a_power_law() {
        let xy: Vec<(f64, f64)> = [1e3, 1e4, 1e5]
            .iter()
            .map(|&x: &f64| (x, 3.0 * x.powf(1.25)))
            .collect();
        let b = loglog_slope(&xy).expect("a slope");
        assert!((b - 1.25).abs() < 1e-9, "{b}");
        // Non-positive and non-finite values are ignored; one size left gives no slope.
        assert_eq!(
            loglog_slope(&[(1e3, 5.0), (1e4, f64::NAN), (1e5, 0.0)]),
            None
        );
        assert_eq!(loglog_slope(&[(1e3, 5.0), (1e3, 6.0)]), None);
    }

    #[test]
    fn runs_of_one_world_are_folded_into_medians() {
        let mut a = results(
            "medium",
            24_591,
            vec![run("kubestate", 24_591, 2_000.0, 0.4)],
        );
        let b = results(
            "medium",
            24_591,
            vec![
                run("kubestate", 24_591, 2_000.0, 0.6),
                run("kubestate", 24_591, 2_000.0, 0.5),
            ],
        );
        a.runs.push(run("ksm", 24_591, 9_000.0, 1.2));
        let pts = aggregate(&[a, b]);
        assert_eq!(pts.len(), 2);
        let k = &pts[1];
        assert_eq!((k.exporter.as_str(), k.runs), ("kubestate", 3));
        assert!((k.value("event_cpu") - 0.5).abs() < 1e-12);
        assert_eq!(pts[0].exporter, "ksm");
        assert_eq!(pts[0].runs, 1);
        assert_eq!(k.max_load, 1.5);
    }

    #[test]
    fn real_api_server_points_stay_apart_and_out_of_the_fit() {
        let mut rs = sample();
        rs.push(results(
            "real-medium",
            24_600,
            vec![run("kubestate", 24_600, 1e6, f64::NAN)],
        ));
        let pts = aggregate(&rs);
        let real: Vec<&Point> = pts.iter().filter(|p| p.real).collect();
        assert_eq!(real.len(), 1);
        assert_eq!(pts.last().map(|p| p.world.as_str()), Some("real-medium"));
        // A huge real point would bend the fit if it were counted.
        let m = &metrics()[0];
        let f = fit(&pts, "kubestate", m).expect("fit");
        assert!(f.top < 1.0 + SLACK, "{f:?}");
    }

    #[test]
    fn linear_cost_passes_and_a_log_term_is_flagged() {
        let pts = aggregate(&sample());
        let ms = metrics();
        let rss = &ms[0];
        let k = fit(&pts, "kubestate", rss).expect("kubestate fit");
        // A fixed baseline makes growth sublinear, and the per-object cost falls.
        assert!(k.top < 1.0 && k.within(Growth::Linear, SLACK), "{k:?}");
        assert!(k.per_last < k.per_first);
        let q = fit(&pts, "ksm", rss).expect("ksm fit");
        assert!(q.top > 1.15 && !q.within(Growth::Linear, SLACK), "{q:?}");
        assert!(q.per_last > q.per_first);
        let ev = &ms[4];
        let e = fit(&pts, "kubestate", ev).expect("event fit");
        assert!(e.top.abs() < 1e-9 && e.within(Growth::Flat, SLACK));
        // µs per event from s per 10k events.
        assert!((e.per_last - 50.0).abs() < 1e-9, "{e:?}");
    }

    #[test]
    fn per_object_costs_and_the_markdown_table() {
        let s = Summary {
            files: vec![],
            points: aggregate(&sample()),
        };
        let sync = &metrics()[2];
        assert!((sync.per(0.5, 25_000) - 20.0).abs() < 1e-9);
        assert!(sync.per(0.5, 0).is_nan());
        let md = s.markdown();
        assert!(md.contains("| xl | 368000 |"), "{md}");
        assert!(md.contains("kubestate/KSM"), "{md}");
        assert!(md.contains("linear or better"), "{md}");
        assert!(md.contains("grows faster (n^1.2"), "{md}");
        assert!(md.contains("| CPU per 10k watch events |"), "{md}");
        let back: Summary =
            serde_json::from_str(&serde_json::to_string(&s).expect("json")).expect("parse");
        assert_eq!(back.points.len(), s.points.len());
        assert_eq!(back.points[0].world, s.points[0].world);
    }
}
