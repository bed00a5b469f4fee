//! External validators for the end-to-end tests, and the process plumbing they need.
//!
//! Each validator is looked up once ([`promtool`], [`prometheus`], [`python_prometheus_client`]);
//! a missing one prints `SKIP: <tool> not installed (<install command>)` and returns `None`, so
//! the calling test returns early instead of failing on a machine without it. Set
//! `KUBESTATE_REQUIRE_TOOLS=1` to turn a missing tool into a failure (CI, where `.ci/run`
//! installs them).
//!
//! * [`promtool_check_metrics`]: `promtool check metrics` on a body → parse verdict and lint
//!   findings, with [`PromtoolReport::kinds`] to compare finding *kinds* between exporters.
//! * [`python_parse`]: `prometheus_client`'s text or OpenMetrics parser → families and samples.
//! * [`PrometheusServer`]: a real Prometheus scraping given targets, queried over its HTTP API.
//! * [`ChildGuard`], [`TempDir`], [`free_port`], [`count_exposition`], [`url_encode`].

use std::collections::BTreeSet;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::find_binary;

/// Debian's install command for promtool and prometheus.
pub const APT_PROMETHEUS: &str = "apt-get install prometheus";
/// The install command for Python's prometheus_client.
pub const PIP_PROMETHEUS_CLIENT: &str = "pip install prometheus_client";

/// Reports a missing tool: `SKIP: …` on stderr, or a panic when `KUBESTATE_REQUIRE_TOOLS` is
/// set (so CI cannot pass by skipping).
///
/// # Panics
/// When `KUBESTATE_REQUIRE_TOOLS` is set to anything but `0` or empty.
pub fn skip(tool: &str, install: &str) {
    let msg = format!("SKIP: {tool} not installed ({install})");
    let required =
        std::env::var("KUBESTATE_REQUIRE_TOOLS").is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(!required, "{msg}, and KUBESTATE_REQUIRE_TOOLS is set");
    eprintln!("{msg}");
}

fn system_dirs() -> Vec<PathBuf> {
    vec![PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")]
}

/// `promtool` (`$PROMTOOL`, `/usr/bin`, `PATH`), or `None` after printing the SKIP line.
pub fn promtool() -> Option<PathBuf> {
    let p = find_binary("PROMTOOL", "promtool", &system_dirs());
    if p.is_none() {
        skip("promtool", APT_PROMETHEUS);
    }
    p
}

/// The Prometheus server (`$PROMETHEUS`, `/usr/bin`, `PATH`), or `None` after the SKIP line.
pub fn prometheus() -> Option<PathBuf> {
    let p = find_binary("PROMETHEUS", "prometheus", &system_dirs());
    if p.is_none() {
        skip("prometheus", APT_PROMETHEUS);
    }
    p
}

/// The reference kube-state-metrics v2.20 (`$KSM_BIN`, `$GOPATH/bin`, `$HOME/go/bin`, `PATH`),
/// or `None` after the SKIP line.
pub fn kube_state_metrics() -> Option<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(g) = std::env::var_os("GOPATH") {
        dirs.push(PathBuf::from(g).join("bin"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(h).join("go/bin"));
    }
    let p = find_binary("KSM_BIN", "kube-state-metrics", &dirs);
    if p.is_none() {
        skip(
            "the reference kube-state-metrics",
            "go install k8s.io/kube-state-metrics/v2@v2.20.0, or set KSM_BIN",
        );
    }
    p
}

/// A Python interpreter (`$PYTHON`, else `python3` on `PATH`) that can import
/// `prometheus_client`, or `None` after the SKIP line.
pub fn python_prometheus_client() -> Option<PathBuf> {
    let found = find_binary("PYTHON", "python3", &[])
        .or_else(|| find_binary("PYTHON", "python", &[]))
        .filter(|py| {
            Command::new(py)
                .args(["-c", "import prometheus_client"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    if found.is_none() {
        skip("python3 with prometheus_client", PIP_PROMETHEUS_CLIENT);
    }
    found
}

/// Kills and reaps a child process when dropped.
#[derive(Debug)]
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Kills the process now and waits for it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// Exit status if it has exited.
    pub fn try_exit(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh directory under the system temp dir, removed (with its contents) when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/kubestate-<prefix>-<pid>-<n>-<nanos>`.
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn new(prefix: &str) -> std::io::Result<TempDir> {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let p = std::env::temp_dir().join(format!(
            "kubestate-{prefix}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for tools that cannot report the port
/// they bound, like Prometheus).
///
/// # Panics
/// When no port can be bound at all.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Families (`# TYPE` lines) and samples (other non-empty, non-comment lines) of a body in
/// the text or OpenMetrics format.
pub fn count_exposition(body: &str) -> (usize, usize) {
    let mut families = 0;
    let mut samples = 0;
    for line in body.split('\n') {
        if line.starts_with("# TYPE ") {
            families += 1;
        } else if !line.is_empty() && !line.starts_with('#') {
            samples += 1;
        }
    }
    (families, samples)
}

/// Percent-encodes a query-string component (everything but `A-Za-z0-9-._~`).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One lint finding of `promtool check metrics`: the metric and the problem text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// Metric (family) name.
    pub metric: String,
    /// What promtool says about it (`no help text`, `counter metrics should have "_total" suffix`…).
    pub problem: String,
}

/// What `promtool check metrics` made of a body.
#[derive(Clone, Debug)]
pub struct PromtoolReport {
    /// Exit code: 0 clean, 3 lint findings only, 1 the body did not parse.
    pub exit_code: Option<i32>,
    /// `error while linting: …`, when the body did not parse.
    pub parse_error: Option<String>,
    /// Lint findings.
    pub findings: Vec<Finding>,
}

impl PromtoolReport {
    /// Whether the body parsed (findings allowed).
    pub fn parsed(&self) -> bool {
        self.parse_error.is_none() && matches!(self.exit_code, Some(0 | 3))
    }

    /// The distinct problem texts (the *kinds* of finding, without the metric names).
    pub fn kinds(&self) -> BTreeSet<String> {
        self.findings.iter().map(|f| f.problem.clone()).collect()
    }
}

/// Runs `promtool check metrics` with `body` on stdin.
///
/// # Errors
/// promtool cannot be run.
pub fn promtool_check_metrics(promtool: &Path, body: &[u8]) -> std::io::Result<PromtoolReport> {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let body = body.to_vec();
    // Feed stdin from a thread so a chatty promtool cannot deadlock us on full pipes.
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let out = child.wait_with_output()?;
    let _ = feeder.join();
    let mut report = PromtoolReport {
        exit_code: out.status.code(),
        parse_error: None,
        findings: Vec::new(),
    };
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(e) = line.strip_prefix("error while linting:") {
            report.parse_error = Some(e.trim().to_string());
        } else if let Some((metric, problem)) = line.split_once(' ') {
            report.findings.push(Finding {
                metric: metric.to_string(),
                problem: problem.to_string(),
            });
        } else {
            report.findings.push(Finding {
                metric: String::new(),
                problem: line.to_string(),
            });
        }
    }
    report.findings.sort();
    Ok(report)
}

/// Which of prometheus_client's parsers to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PyFormat {
    /// `prometheus_client.parser.text_string_to_metric_families`.
    Text,
    /// `prometheus_client.openmetrics.parser.text_string_to_metric_families`.
    OpenMetrics,
}

/// What prometheus_client made of a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyParse {
    /// The parser's exception (`ValueError: …`), when it rejected the body.
    pub error: Option<String>,
    /// Families it yielded.
    pub families: usize,
    /// Samples over all families.
    pub samples: usize,
}

const PY_PARSE: &str = r#"
import json, sys
fmt, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    text = f.read()
try:
    if fmt == "openmetrics":
        from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse
    else:
        from prometheus_client.parser import text_string_to_metric_families as parse
    fams = list(parse(text))
    print(json.dumps({"families": len(fams), "samples": sum(len(f.samples) for f in fams)}))
except Exception as e:
    print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
"#;

/// Parses `body` with prometheus_client (through `python`, see [`python_prometheus_client`]).
///
/// # Errors
/// Python cannot be run or printed something unexpected.
pub fn python_parse(python: &Path, body: &[u8], format: PyFormat) -> Result<PyParse, String> {
    let dir = TempDir::new("pyparse").map_err(|e| e.to_string())?;
    let file = dir.path().join("body.txt");
    std::fs::write(&file, body).map_err(|e| e.to_string())?;
    let fmt = match format {
        PyFormat::Text => "text",
        PyFormat::OpenMetrics => "openmetrics",
    };
    let out = Command::new(python)
        .args(["-c", PY_PARSE, fmt])
        .arg(&file)
        .output()
        .map_err(|e| format!("running {}: {e}", python.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).map_err(|e| {
        format!(
            "python printed {stdout:?} ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0) as usize;
    Ok(PyParse {
        error: v["error"].as_str().map(str::to_string),
        families: n("families"),
        samples: n("samples"),
    })
}

/// One scrape job of a [`PrometheusServer`].
#[derive(Clone, Debug)]
pub struct ScrapeJob {
    /// `job` label.
    pub name: String,
    /// `host:port` to scrape.
    pub target: String,
    /// Path (`/metrics`).
    pub path: String,
}

/// A real Prometheus server in a temp dir, on a free loopback port, killed when dropped.
#[derive(Debug)]
pub struct PrometheusServer {
    child: ChildGuard,
    dir: TempDir,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl PrometheusServer {
    /// Starts Prometheus scraping `jobs` every `interval` (timeout = interval), with extra
    /// command-line flags (e.g. `--enable-feature=native-histograms`). Call
    /// [`PrometheusServer::wait_ready`] next.
    ///
    /// # Errors
    /// The config cannot be written or the binary not started.
    pub fn start(
        binary: &Path,
        jobs: &[ScrapeJob],
        interval: Duration,
        extra_flags: &[&str],
    ) -> std::io::Result<PrometheusServer> {
        let secs = format!("{}ms", interval.as_millis().max(1));
        let mut cfg = format!(
            "global:\n  scrape_interval: {secs}\n  scrape_timeout: {secs}\n  evaluation_interval: {secs}\nscrape_configs:\n"
        );
        for j in jobs {
            cfg.push_str(&format!(
                "- job_name: {:?}\n  metrics_path: {:?}\n  static_configs:\n  - targets: [{:?}]\n",
                j.name, j.path, j.target
            ));
        }
        PrometheusServer::start_config(binary, &cfg, extra_flags)
    }

    /// Starts Prometheus with a complete configuration file's text (for rule files, several
    /// targets per job, relabelling…). Call [`PrometheusServer::wait_ready`] next.
    ///
    /// # Errors
    /// The config cannot be written or the binary not started.
    pub fn start_config(
        binary: &Path,
        config_text: &str,
        extra_flags: &[&str],
    ) -> std::io::Result<PrometheusServer> {
        let dir = TempDir::new("prometheus")?;
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, config_text)?;
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log"))?;
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .args(extra_flags)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        Ok(PrometheusServer {
            child: ChildGuard(child),
            dir,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// GET `path` (e.g. `/api/v1/rules`) of the HTTP API, parsed; fails unless
    /// `status` is `success`.
    ///
    /// # Errors
    /// The request failed or the API answered an error.
    pub async fn api(&self, path: &str) -> Result<serde_json::Value, String> {
        let r =
            crate::http::get(&format!("{}{path}", self.url), &[], Duration::from_secs(10)).await?;
        let v: serde_json::Value =
            serde_json::from_slice(&r.body).map_err(|e| format!("{path}: {e}: {}", r.text()))?;
        if v["status"] != "success" {
            return Err(format!("{path}: {v}"));
        }
        Ok(v)
    }

    /// Prometheus's own log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Waits until `/-/ready` answers 200.
    ///
    /// # Errors
    /// It exited or did not become ready in time (with its log).
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_exit() {
                return Err(format!("prometheus exited ({st}):\n{}", self.log()));
            }
            let url = format!("{}/-/ready", self.url);
            if let Ok(r) = crate::http::get(&url, &[], Duration::from_secs(2)).await {
                if r.status == 200 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "prometheus not ready after {timeout:?}:\n{}",
                    self.log()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// An instant query: each result's labels and value.
    ///
    /// # Errors
    /// The request failed or the API answered an error.
    pub async fn query(
        &self,
        promql: &str,
    ) -> Result<Vec<(serde_json::Map<String, serde_json::Value>, f64)>, String> {
        let url = format!("{}/api/v1/query?query={}", self.url, url_encode(promql));
        let r = crate::http::get(&url, &[], Duration::from_secs(10)).await?;
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .map_err(|e| format!("query {promql}: {e}: {}", r.text()))?;
        if v["status"] != "success" {
            return Err(format!("query {promql}: {v}"));
        }
        let mut out = Vec::new();
        for item in v["data"]["result"].as_array().into_iter().flatten() {
            let labels = item["metric"].as_object().cloned().unwrap_or_default();
            let value = item["value"][1]
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(f64::NAN);
            out.push((labels, value));
        }
        Ok(out)
    }

    /// The sum of the samples of `family` in Prometheus's own `/metrics` (its self-telemetry,
    /// e.g. `prometheus_target_scrapes_sample_duplicate_timestamp_total`), 0 when absent.
    ///
    /// # Errors
    /// The request failed.
    pub async fn own_metric(&self, family: &str) -> Result<f64, String> {
        let r = crate::http::get(
            &format!("{}/metrics", self.url),
            &[],
            Duration::from_secs(10),
        )
        .await?;
        Ok(r.text()
            .lines()
            .filter(|l| {
                l.strip_prefix(family)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum())
    }

    /// The single value of `promql`, `None` when it has no result.
    ///
    /// # Errors
    /// As [`PrometheusServer::query`].
    pub async fn value(&self, promql: &str) -> Result<Option<f64>, String> {
        Ok(self.query(promql).await?.first().map(|(_, v)| *v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_families_and_samples() {
        let body = "# HELP a x\n# TYPE a gauge\na 1\na{b=\"c\"} 2\n# TYPE b gauge\n# EOF\n";
        assert_eq!(count_exposition(body), (2, 2));
    }

    #[test]
    fn encodes_promql() {
        assert_eq!(url_encode("up{job=\"a b\"}"), "up%7Bjob%3D%22a%20b%22%7D");
    }

    #[test]
    fn temp_dirs_are_removed() {
        let d = TempDir::new("t").unwrap();
        let p = d.path().to_path_buf();
        std::fs::write(p.join("f"), "x").unwrap();
        drop(d);
        assert!(!p.exists());
    }
}
