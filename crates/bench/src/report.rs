//! Results: what is saved as JSON, and the comparison table with noise and ratios.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::exporter::Binary;
use crate::measure::{Params, Run};
use crate::world::{ContentTypes, Expect};

/// The machine the figures were taken on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// Logical CPUs.
    pub cores: usize,
    /// Total memory, bytes.
    pub memory: u64,
    /// CPU model from /proc/cpuinfo.
    pub cpu_model: String,
    /// Kernel release.
    pub kernel: String,
}

/// One invocation of `compare`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// UTC start time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub started: String,
    /// The command line.
    pub command: Vec<String>,
    /// `git describe --always --dirty` of the work tree.
    pub git: String,
    /// The machine.
    pub machine: Machine,
    /// Synthesized preset, or `real` for a real API server.
    pub preset: String,
    /// Objects in the world.
    pub objects: usize,
    /// What a complete body holds.
    pub expect: Vec<Expect>,
    /// What each exporter asked the API server for and got.
    pub content_types: Option<ContentTypes>,
    /// The exporters measured.
    pub binaries: Vec<Binary>,
    /// How runs were measured.
    pub params: Params,
    /// Resources left out of the completeness check (`--ignore-resource`).
    #[serde(default)]
    pub ignored: Vec<String>,
    /// Every run.
    pub runs: Vec<Run>,
    /// How the world got into the real API server (`compare --control-plane`).
    #[serde(default)]
    pub load: Option<String>,
}

/// One compared figure.
pub struct Figure {
    /// Short key (chart label).
    pub key: &'static str,
    /// Description.
    pub name: &'static str,
    /// Unit shown.
    pub unit: &'static str,
    /// Extracts the value (in `unit`) from a run.
    pub get: fn(&Run) -> f64,
    /// The target ratio kubestate/KSM, when the issue sets one.
    pub target: Option<(f64, &'static str)>,
}

const MIB: f64 = 1024.0 * 1024.0;

/// Every figure of the table, in order.
pub fn figures() -> Vec<Figure> {
    vec![
        Figure {
            key: "first /metrics",
            name: "time to first complete /metrics",
            unit: "s",
            get: |r| r.first_complete,
            target: Some((0.2, "1/5")),
        },
        Figure {
            key: "peak RSS sync",
            name: "peak RSS during initial sync (VmHWM)",
            unit: "MiB",
            get: |r| r.peak_rss_sync as f64 / MIB,
            target: Some((0.25, "1/4")),
        },
        Figure {
            key: "steady RSS",
            name: "steady RSS after sync",
            unit: "MiB",
            get: |r| r.steady_rss as f64 / MIB,
            target: Some((0.25, "1/4")),
        },
        Figure {
            key: "sync CPU",
            name: "CPU of the initial sync",
            unit: "s",
            get: |r| r.sync_cpu,
            target: None,
        },
        Figure {
            key: "p50 seq",
            name: "scrape p50, sequential, plain",
            unit: "s",
            get: |r| r.seq_plain.p50,
            target: None,
        },
        Figure {
            key: "p99 seq",
            name: "scrape p99, sequential, plain",
            unit: "s",
            get: |r| r.seq_plain.p99,
            target: None,
        },
        Figure {
            key: "p50 seq gz",
            name: "scrape p50, sequential, gzip",
            unit: "s",
            get: |r| r.seq_gzip.p50,
            target: None,
        },
        Figure {
            key: "p99 seq gz",
            name: "scrape p99, sequential, gzip",
            unit: "s",
            get: |r| r.seq_gzip.p99,
            target: None,
        },
        Figure {
            key: "p50 Nx",
            name: "scrape p50, N concurrent, plain",
            unit: "s",
            get: |r| r.conc_plain.p50,
            target: None,
        },
        Figure {
            key: "p99 Nx",
            name: "scrape p99, N concurrent, plain",
            unit: "s",
            get: |r| r.conc_plain.p99,
            target: Some((0.125, "1/8")),
        },
        Figure {
            key: "p50 Nx gz",
            name: "scrape p50, N concurrent, gzip",
            unit: "s",
            get: |r| r.conc_gzip.p50,
            target: None,
        },
        Figure {
            key: "p99 Nx gz",
            name: "scrape p99, N concurrent, gzip",
            unit: "s",
            get: |r| r.conc_gzip.p99,
            target: Some((0.2, "1/5")),
        },
        Figure {
            key: "CPU/scrape",
            name: "exporter CPU per scrape, plain",
            unit: "s",
            get: |r| r.seq_plain.cpu_per_scrape,
            target: None,
        },
        Figure {
            key: "CPU/scrape gz",
            name: "exporter CPU per scrape, gzip",
            unit: "s",
            get: |r| r.seq_gzip.cpu_per_scrape,
            target: None,
        },
        Figure {
            key: "peak RSS scrape",
            name: "peak RSS while scraping",
            unit: "MiB",
            get: |r| r.peak_rss_scrape as f64 / MIB,
            target: None,
        },
        Figure {
            key: "body",
            name: "body, plain",
            unit: "MiB",
            get: |r| r.seq_plain.bytes as f64 / MIB,
            target: None,
        },
        Figure {
            key: "body gz",
            name: "body, gzip",
            unit: "MiB",
            get: |r| r.seq_gzip.bytes as f64 / MIB,
            target: None,
        },
        Figure {
            key: "series",
            name: "sample lines",
            unit: "",
            get: |r| r.series as f64,
            target: None,
        },
        Figure {
            key: "CPU/10k ev",
            name: "CPU per 10k watch events (churn)",
            unit: "s",
            get: |r| r.churn.cpu_per_10k,
            target: Some((1.0 / 3.0, "1/3")),
        },
        Figure {
            key: "peak RSS churn",
            name: "peak RSS under churn",
            unit: "MiB",
            get: |r| r.churn.peak_rss as f64 / MIB,
            target: None,
        },
        Figure {
            key: "delay idle",
            name: "change → /metrics delay, idle, p50",
            unit: "s",
            get: |r| r.delay_idle.p50,
            target: None,
        },
        Figure {
            key: "delay churn",
            name: "change → /metrics delay, churn, p50",
            unit: "s",
            get: |r| r.delay_churn.p50,
            target: None,
        },
        Figure {
            key: "delay churn max",
            name: "change → /metrics delay, churn, max",
            unit: "s",
            get: |r| r.delay_churn.max,
            target: None,
        },
    ]
}

/// Min, median and max of the finite values.
#[derive(Debug, Clone, Copy)]
pub struct Noise {
    /// Runs with a value.
    pub n: usize,
    /// Smallest.
    pub min: f64,
    /// Median (the mean of the two middle values for an even count).
    pub median: f64,
    /// Largest.
    pub max: f64,
}

/// Noise of `values`; `None` when none is finite.
pub fn noise(values: impl Iterator<Item = f64>) -> Option<Noise> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Noise {
        n,
        min: v[0],
        median,
        max: v[n - 1],
    })
}

impl Results {
    /// The runs of one exporter.
    pub fn runs_of<'a>(&'a self, exporter: &str) -> impl Iterator<Item = &'a Run> + 'a {
        let exporter = exporter.to_string();
        self.runs.iter().filter(move |r| r.exporter == exporter)
    }

    /// Noise of a figure for one exporter.
    pub fn noise(&self, exporter: &str, f: &Figure) -> Option<Noise> {
        noise(self.runs_of(exporter).map(f.get))
    }

    /// The figure's name as printed: `N concurrent` becomes the concurrency of these runs.
    pub fn figure_name(&self, f: &Figure) -> String {
        f.name.replace(
            "N concurrent",
            &format!("{} concurrent", self.params.concurrency),
        )
    }

    /// kubestate median / KSM median, only when both have at least two runs.
    pub fn ratio(&self, f: &Figure) -> Option<f64> {
        let a = self.noise("kubestate", f)?;
        let b = self.noise("ksm", f)?;
        if a.n < 2 || b.n < 2 || b.median == 0.0 {
            return None;
        }
        Some(a.median / b.median)
    }

    /// The human-readable report: context, table, targets.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let _ = writeln!(
            s,
            "machine: {} × {}, {:.1} GiB, kernel {}",
            m.cores,
            m.cpu_model,
            m.memory as f64 / (1024.0 * MIB),
            m.kernel
        );
        let _ = writeln!(
            s,
            "world: {} ({} objects); git {}; started {}",
            self.preset, self.objects, self.git, self.started
        );
        for b in &self.binaries {
            let _ = writeln!(s, "{}: {} ({})", b.name, b.version, b.path.display());
        }
        match &self.content_types {
            Some(ct) => {
                let _ = writeln!(
                    s,
                    "content type from the API server: kubestate asks {:?}, gets {:?}; KSM asks {:?}, gets {:?}{}",
                    ct.kubestate_accept,
                    ct.kubestate_got,
                    ct.ksm_accept,
                    ct.ksm_got,
                    if ct.ksm_got.contains("protobuf") {
                        ""
                    } else {
                        " (KSM decodes JSON here, not protobuf as against a real API server)"
                    }
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "content type from the API server: as the real API server negotiates (both ask protobuf for built-in kinds)"
                );
            }
        }
        for b in &self.binaries {
            let (pb, js) = self
                .runs
                .iter()
                .filter(|r| r.exporter == b.name)
                .fold((0, 0), |(p, j), r| {
                    (p + r.served_protobuf, j + r.served_json)
                });
            if pb + js > 0 {
                let _ = writeln!(
                    s,
                    "the simulator answered {} with {pb} protobuf and {js} JSON responses over all runs{}",
                    b.name,
                    if js > 0 && b.name == "ksm" {
                        " (KSM decoded JSON for some resources)"
                    } else {
                        ""
                    }
                );
            }
        }
        if !self.ignored.is_empty() {
            let _ = writeln!(
                s,
                "left out of the completeness check (--ignore-resource): {}",
                self.ignored.join(", ")
            );
        }
        if let Some(l) = &self.load {
            let _ = writeln!(s, "world loaded through the API: {l}");
        }
        for r in &self.runs {
            let _ = writeln!(
                s,
                "run {} {:<9} load before {:.2} {:.2} {:.2}, after {:.2}; other processes used {:.2} cores during sync, {:.2} over the run",
                r.run,
                r.exporter,
                r.load_before[0],
                r.load_before[1],
                r.load_before[2],
                r.load_after[0],
                r.foreign_cores_sync,
                r.foreign_cores_run
            );
        }
        let _ = writeln!(s);
        let cell = |n: Option<Noise>| -> String {
            match n {
                None => "—".to_string(),
                Some(n) if n.n == 1 => format!("{} (1 run)", num(n.median)),
                Some(n) => format!("{} [{}–{}]", num(n.median), num(n.min), num(n.max)),
            }
        };
        let _ = writeln!(
            s,
            "{:<42} {:>4} {:>30} {:>30} {:>8} {:>6}  met",
            "figure (median [min–max] over runs)", "unit", "kubestate", "KSM", "ratio", "target"
        );
        for f in figures() {
            let ratio = self.ratio(&f);
            let (target, met) = match (f.target, ratio) {
                (Some((t, label)), Some(r)) => (label, if r <= t { "yes" } else { "NO" }),
                (Some((_, label)), None) => (label, "?"),
                (None, _) => ("", ""),
            };
            let _ = writeln!(
                s,
                "{:<42} {:>4} {:>30} {:>30} {:>8} {:>6}  {}",
                self.figure_name(&f),
                f.unit,
                cell(self.noise("kubestate", &f)),
                cell(self.noise("ksm", &f)),
                ratio.map(|r| format!("{r:.3}")).unwrap_or_else(|| {
                    if self.runs_of("ksm").next().is_none() {
                        "no KSM".into()
                    } else {
                        "<2 runs".into()
                    }
                }),
                target,
                met
            );
        }
        if self.runs_of("ksm").count() < 2 || self.runs_of("kubestate").count() < 2 {
            let _ = writeln!(
                s,
                "\nno ratios: they need at least two runs of each exporter (--runs 2 or more) and KSM installed"
            );
        }
        s
    }
}

/// A number with 3 significant digits, no exponent for usual sizes.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 10.0 {
        format!("{x:.2}")
    } else if a >= 1.0 {
        format!("{x:.3}")
    } else if a >= 0.001 {
        format!("{x:.4}")
    } else {
        format!("{x:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_and_median() {
        let n = noise([3.0, 1.0, f64::NAN, 2.0].into_iter()).unwrap();
        assert_eq!((n.n, n.min, n.median, n.max), (3, 1.0, 2.0, 3.0));
        let n = noise([4.0, 1.0].into_iter()).unwrap();
        assert_eq!(n.median, 2.5);
        assert!(noise([f64::NAN].into_iter()).is_none());
    }

    #[test]
    fn no_ratio_from_a_single_run() {
        let run = |e: &str, t: f64| Run {
            exporter: e.into(),
            first_complete: t,
            ..Run::default()
        };
        let mut r = Results {
            started: String::new(),
            command: vec![],
            git: String::new(),
            machine: Machine {
                cores: 2,
                memory: 0,
                cpu_model: String::new(),
                kernel: String::new(),
            },
            preset: "small".into(),
            objects: 0,
            expect: vec![],
            content_types: None,
            binaries: vec![],
            params: Params {
                poll_ms: 1,
                settle_secs: 0.0,
                scrapes: 1,
                concurrency: 1,
                scrapes_per_scraper: 1,
                churn: 0.0,
                churn_secs: 0.0,
                markers: 0,
                sync_timeout_secs: 1.0,
            },
            ignored: vec![],
            runs: vec![run("kubestate", 1.0), run("ksm", 4.0)],
            load: None,
        };
        let f = &figures()[0];
        assert!(r.ratio(f).is_none());
        assert!(r.table().contains("<2 runs"));
        r.runs.push(run("kubestate", 1.0));
        r.runs.push(run("ksm", 4.0));
        assert_eq!(r.ratio(f), Some(0.25));
    }
}
