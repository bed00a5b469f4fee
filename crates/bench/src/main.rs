//! # kubestate-bench — kubestate side by side with kube-state-metrics
//!
//! `kubestate-bench compare` synthesizes a cluster in the simulator (in this process, a fresh
//! world for every measured run), then runs the kubestate release binary and the reference
//! kube-state-metrics v2.20 (when installed) against it, one after the other, as separate
//! processes with the same flags, and measures for each:
//!
//! * time from process start to the first `/metrics` body holding every object of the world
//!   (one line per object of a per-resource counting family, e.g. `kube_pod_created`), with
//!   the CPU seconds and the peak RSS (`VmHWM`) at that moment;
//! * steady RSS after an idle settle window;
//! * scrape latency (p50/p99, to the last byte) and body size, sequential and with 8
//!   concurrent scrapers, plain and gzip;
//! * CPU seconds per 10,000 watch events and peak RSS under a fixed churn rate;
//! * the delay from a change in the simulator to its line in `/metrics`, idle and under churn.
//!
//! It prints a table with min/median/max over the runs and the kubestate/KSM ratio of the
//! medians (never from a single run), saves every raw figure as JSON under `bench-results/`,
//! and renders SVG charts into `docs/bench/`. Figures are taken only while the machine's
//! 1-minute load average is below `--max-load`; the load and the CPU used by other processes
//! are printed with every run.
//!
//! `kubestate-bench report FILE.json` prints the table and renders the charts of saved
//! results again.
//!
//! Micro-benchmarks of the hot paths are in `benches/micro.rs` (`cargo bench -p
//! kubestate-bench`). See docs/benchmarks.md for the measured figures.

mod charts;
mod exporter;
mod httpc;
mod load;
mod measure;
mod procfs;
mod report;
mod scaling;
mod scaling_charts;
mod world;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::exporter::{Binary, Exporter};
use crate::measure::Params;
use crate::report::{Machine, Results};
use crate::world::SimWorld;

/// kubestate and kube-state-metrics side by side.
#[derive(Parser, Debug)]
#[command(name = "kubestate-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Measure kubestate and KSM against the same world.
    Compare(Box<CompareArgs>),
    /// Print the table and render the charts of saved results.
    Report {
        /// A JSON file written by `compare`.
        file: PathBuf,
        /// Where the SVG charts go.
        #[arg(long, value_name = "DIR")]
        charts: Option<PathBuf>,
    },
    /// How both exporters' costs grow with the cluster: fold saved results of several presets
    /// (and real API server runs) into one summary, print its tables (Markdown) with the
    /// growth exponents, and draw `scaling.svg` and `scaling-per-object.svg`.
    Scaling(ScalingArgs),
}

#[derive(clap::Args, Debug)]
struct ScalingArgs {
    /// JSON files written by `compare` (any presets; runs of the same world are pooled).
    #[arg(required_unless_present = "from_summary")]
    files: Vec<PathBuf>,
    /// Redraw from a summary written earlier instead of results files.
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    from_summary: Option<PathBuf>,
    /// Where the summary goes (default: docs/bench/scaling.json in the workspace).
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
    /// Where the SVG charts go (default: docs/bench/ in the workspace).
    #[arg(long, value_name = "DIR")]
    charts: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct CompareArgs {
    /// Size of the synthesized world: small (1k pods), medium (10k), large (50k), xl (150k).
    #[arg(long, default_value = "medium", value_parser = ["small", "medium", "large", "xl"])]
    preset: String,
    /// Measured runs of each exporter (ratios need at least 2).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Churn rate in simulator changes per second during the churn window (0: no churn).
    #[arg(long, value_name = "R", default_value_t = 50.0)]
    churn: f64,
    /// Length of the churn window.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    churn_secs: f64,
    /// The reference kube-state-metrics binary (default: $GOBIN, $GOPATH/bin or ~/go/bin).
    #[arg(long, value_name = "PATH")]
    ksm: Option<PathBuf>,
    /// Install KSM v2.20.0 with `go install` when it is not found.
    #[arg(long)]
    install_ksm: bool,
    /// Measure kubestate only.
    #[arg(long)]
    no_ksm: bool,
    /// The kubestate binary (default: `kubestate` next to this executable).
    #[arg(long, value_name = "PATH")]
    kubestate: Option<PathBuf>,
    /// Run against a real API server instead of the simulator (no churn, no change delay:
    /// the harness changes nothing there).
    #[arg(long, value_name = "PATH", conflicts_with = "control_plane")]
    kubeconfig: Option<PathBuf>,
    /// Start a real control plane (etcd + kube-apiserver, built by
    /// ../shared/tools/k8s-control-plane/build.sh) on free loopback ports, create the
    /// preset's objects in it through the API, and measure against it like --kubeconfig.
    #[arg(long)]
    control_plane: bool,
    /// Concurrent create requests while loading the world into the control plane.
    #[arg(long, default_value_t = 16)]
    load_concurrency: usize,
    /// Sequential scrapes per encoding.
    #[arg(long, default_value_t = 20)]
    scrapes: usize,
    /// Concurrent scrapers.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Scrapes per concurrent scraper and encoding.
    #[arg(long, default_value_t = 4)]
    scrapes_per_scraper: usize,
    /// Marker changes whose delay to /metrics is measured (idle and under churn).
    #[arg(long, default_value_t = 10)]
    markers: usize,
    /// Idle seconds after the initial sync before the steady RSS is read.
    #[arg(long, default_value_t = 15.0)]
    settle: f64,
    /// Pause between completeness polls during the initial sync.
    #[arg(long, default_value_t = 100)]
    poll_ms: u64,
    /// Pass `--server-write-timeout=<SECS>s` to both exporters (their default, 60 s, cuts
    /// off a client that reads an xl body slowly on a loaded machine).
    #[arg(long, value_name = "SECS")]
    write_timeout: Option<u64>,
    /// Give up on an initial sync after this many seconds.
    #[arg(long, default_value_t = 900.0)]
    sync_timeout: f64,
    /// Start a run only while the 1-minute load average is below this.
    #[arg(long, default_value_t = 1.0)]
    max_load: f64,
    /// Wait at most this many seconds for the load to drop before each run.
    #[arg(long, default_value_t = 1800.0)]
    load_wait: f64,
    /// Leave this resource out of the completeness check (repeatable), e.g. when one exporter
    /// does not export it at all. Printed with the results.
    #[arg(long, value_name = "RESOURCE")]
    ignore_resource: Vec<String>,
    /// Where the JSON results go (default: bench-results/ in the workspace).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Where the SVG charts go (default: docs/bench/ in the workspace).
    #[arg(long, value_name = "DIR")]
    charts: Option<PathBuf>,
}

/// The workspace root (two levels above this crate).
fn workspace() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `git describe --always --dirty` of the workspace, or `$KUBESTATE_GIT_DESCRIBE` (for a build
/// from an exported tree that has no `.git`).
fn git_describe() -> String {
    if let Ok(v) = std::env::var("KUBESTATE_GIT_DESCRIBE") {
        return v;
    }
    std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(workspace())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    kubestate_gotime::format_rfc3339_utc(secs)
}

fn machine() -> Machine {
    let (cores, memory, cpu_model) = procfs::machine();
    Machine {
        cores,
        memory,
        cpu_model,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    }
}

fn compare(a: &CompareArgs) -> anyhow::Result<()> {
    if a.runs == 0 {
        anyhow::bail!("--runs must be at least 1");
    }
    if !a.churn.is_finite() || a.churn < 0.0 {
        anyhow::bail!("--churn must be a non-negative number");
    }
    let kubestate = Binary::kubestate(a.kubestate.as_deref())?;
    let ksm = if a.no_ksm {
        None
    } else {
        Binary::ksm(a.ksm.as_deref(), a.install_ksm)?
    };
    if ksm.is_none() && !a.no_ksm {
        eprintln!(
            "KSM not found: measuring kubestate only (install it with `go install k8s.io/kube-state-metrics/v2@v2.20.0`, or pass --install-ksm / --ksm PATH)"
        );
    }
    let mut binaries = vec![kubestate.clone()];
    binaries.extend(ksm.clone());
    let params = Params {
        poll_ms: a.poll_ms,
        settle_secs: a.settle,
        scrapes: a.scrapes.max(1),
        concurrency: a.concurrency.max(1),
        scrapes_per_scraper: a.scrapes_per_scraper.max(1),
        churn: a.churn,
        churn_secs: a.churn_secs,
        markers: a.markers,
        sync_timeout_secs: a.sync_timeout,
    };
    let root = workspace();
    let out_dir = a.out.clone().unwrap_or_else(|| root.join("bench-results"));
    let chart_dir = a.charts.clone().unwrap_or_else(|| root.join("docs/bench"));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let started = utc_now();
    let stamp: String = started
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let run_dir = out_dir.join(format!("{stamp}-{}", a.preset));
    std::fs::create_dir_all(&run_dir).with_context(|| format!("creating {}", run_dir.display()))?;

    // A control plane lives until the comparison ends (dropping it stops it).
    let loaded = if a.control_plane {
        Some(load::LoadedControlPlane::start(
            &a.preset,
            a.load_concurrency,
        )?)
    } else {
        None
    };
    let kubeconfig: Option<PathBuf> = match &loaded {
        Some(l) => Some(l.kubeconfig().to_path_buf()),
        None => a.kubeconfig.clone(),
    };
    let preset = match (&loaded, &kubeconfig) {
        (Some(_), _) => format!("real-{}", a.preset),
        (None, Some(_)) => "real".to_string(),
        (None, None) => a.preset.clone(),
    };
    let mut results = Results {
        started,
        command: std::env::args().collect(),
        git: git_describe(),
        machine: machine(),
        preset: preset.clone(),
        objects: 0,
        expect: Vec::new(),
        content_types: None,
        binaries: binaries.clone(),
        params: params.clone(),
        ignored: a.ignore_resource.clone(),
        runs: Vec::new(),
        load: None,
    };
    let keep = |e: &world::Expect| !a.ignore_resource.contains(&e.resource);
    results.load = loaded.as_ref().map(|l| l.report.summary());
    let real_expect = match &kubeconfig {
        Some(kc) => {
            let mut e = world::real_expectations(kc)?;
            e.retain(keep);
            // The preset's own count when it was loaded here, so that the point sits next to
            // the simulator's; else what the counting families will show.
            results.objects = match &loaded {
                Some(l) => l.objects,
                None => e.iter().map(|x| x.count).sum(),
            };
            results.expect = e.clone();
            Some(e)
        }
        None => None,
    };
    let extra: Vec<String> = a
        .write_timeout
        .map(|t| format!("--server-write-timeout={t}s"))
        .into_iter()
        .collect();
    let json_path = out_dir.join(format!("{stamp}-{preset}.json"));
    let mut log = |s: &str| eprintln!("{s}");
    for run_no in 1..=a.runs {
        // Alternate the order so that drift in the machine's state favours neither.
        let mut order: Vec<&Binary> = binaries.iter().collect();
        if run_no % 2 == 0 {
            order.reverse();
        }
        for bin in order {
            procfs::wait_for_quiet(a.max_load, Duration::from_secs_f64(a.load_wait), false)?;
            let tag = format!("{}-{run_no}", bin.name);
            let logf = run_dir.join(format!("{tag}.log"));
            let run = match (&kubeconfig, &real_expect) {
                (Some(kc), Some(expect)) => {
                    log(&format!(
                        "run {run_no}: {} against {}",
                        bin.name,
                        kc.display()
                    ));
                    let ex = Exporter::start(bin, kc, &extra, &logf)?;
                    measure::run_one(expect, None, ex, run_no, &params, &mut log)?
                }
                _ => {
                    log(&format!(
                        "run {run_no}: {} against a fresh simulated {} world",
                        bin.name, a.preset
                    ));
                    let mut w = SimWorld::start(&a.preset, &run_dir, &tag)?;
                    w.expect.retain(keep);
                    results.objects = w.objects;
                    results.expect = w.expect.clone();
                    if results.content_types.is_none() {
                        results.content_types = Some(w.content_types()?);
                    }
                    let before = w.served()?;
                    let ex = Exporter::start(bin, w.kubeconfig(), &extra, &logf)?;
                    let r = measure::run_one(&w.expect, Some(&w), ex, run_no, &params, &mut log);
                    let after = w.served();
                    w.stop();
                    let mut r = r?;
                    let after = after?;
                    r.served_protobuf = after.0 - before.0;
                    r.served_json = after.1 - before.1;
                    log(&format!(
                        "  the simulator answered {} with {} protobuf and {} JSON responses",
                        bin.name, r.served_protobuf, r.served_json
                    ));
                    r
                }
            };
            log(&format!(
                "  load average before {:.2}, after {:.2}; other processes used {:.2} cores",
                run.load_before[0], run.load_after[0], run.foreign_cores_run
            ));
            results.runs.push(run);
            // Save after every run, so that an interrupted comparison keeps what it measured.
            save(&results, &json_path)?;
        }
    }
    println!("{}", results.table());
    println!("raw results: {}", json_path.display());
    for p in charts::render(&results, &chart_dir)? {
        println!("chart: {}", p.display());
    }
    if let Some(l) = loaded {
        l.stop();
    }
    Ok(())
}

fn save(r: &Results, path: &Path) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(r).context("serializing the results")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn report(file: &Path, charts_dir: Option<&Path>) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let r: Results = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a results file of `compare`", file.display()))?;
    println!("{}", r.table());
    let dir = charts_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace().join("docs/bench"));
    for p in charts::render(&r, &dir)? {
        println!("chart: {}", p.display());
    }
    Ok(())
}

fn scaling(a: &ScalingArgs) -> anyhow::Result<()> {
    let docs = workspace().join("docs/bench");
    let summary = match &a.from_summary {
        Some(f) => {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a scaling summary", f.display()))?
        }
        None => {
            let s = scaling::summarize(&a.files)?;
            let path = a
                .summary
                .clone()
                .unwrap_or_else(|| docs.join("scaling.json"));
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            let text = serde_json::to_string_pretty(&s).context("serializing the summary")?;
            std::fs::write(&path, text + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
            println!("summary: {}", path.display());
            s
        }
    };
    if summary.points.is_empty() {
        anyhow::bail!("no runs in the given files");
    }
    println!("{}", summary.markdown());
    let dir = a.charts.clone().unwrap_or(docs);
    for p in scaling_charts::render(&summary, &dir)? {
        println!("chart: {}", p.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // kube-rs (real API server mode) needs a process-wide TLS provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let res = match &cli.command {
        Cmd::Compare(a) => compare(a),
        Cmd::Report { file, charts } => report(file, charts.as_deref()),
        Cmd::Scaling(a) => scaling(a),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_format() {
        let s = utc_now();
        assert_eq!(s.len(), 20, "{s}");
        assert!(s.starts_with("20") && s.ends_with('Z'), "{s}");
    }
}
