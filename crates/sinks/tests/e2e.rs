//! End to end: a check run over a conformance world, sent with the remote-write sink to a real
//! Prometheus (`--web.enable-remote-write-receiver`) and a real VictoriaMetrics started on
//! 127.0.0.1 with free ports and temporary storage, then queried back (`/api/v1/query`).
//! Each test skips with a message when its binary is missing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use kubestate_check::{Check, Collect, Emit, OutSeries};
use kubestate_engine::{Config as EngineConfig, Engine};
use kubestate_sinks::{Config, RemoteWriteConfig, SinkConfig, Sinks};
use kubestate_store::StructuredStoreFactory;

/// A child process killed when dropped; it can be stopped and started again on the same
/// port and storage.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
    bin: PathBuf,
    args: Vec<String>,
    ready: String,
}

impl Server {
    async fn start(
        bin: PathBuf,
        args: Vec<String>,
        dir: tempfile::TempDir,
        base: String,
        ready: &str,
    ) -> Server {
        let mut child = spawn(&bin, &args);
        let ready = format!("{base}{ready}");
        wait_ready(&ready, &mut child).await;
        Server {
            child,
            base,
            _dir: dir,
            bin,
            args,
            ready,
        }
    }

    /// Stops the server the way an operator would (SIGTERM, so it flushes what it
    /// acknowledged), killing it after 30 s.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn restart(&mut self) {
        self.child = spawn(&self.bin, &self.args);
        wait_ready(&self.ready, &mut self.child).await;
    }
}

fn spawn(bin: &PathBuf, args: &[String]) -> Child {
    Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn binary(env: &str, name: &str, package: &str) -> Option<PathBuf> {
    let found = kubestate_testkit::find_binary(env, name, &[PathBuf::from("/usr/bin")]);
    if found.is_none() {
        eprintln!(
            "skipping: {name} not found (install the Debian package `{package}` or set {env})"
        );
    }
    found
}

async fn get(url: &str) -> Option<(u16, String)> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<Bytes>>();
    let resp = client.get(url.parse().ok()?).await.ok()?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.ok()?.to_bytes();
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

async fn wait_ready(url: &str, child: &mut Child) {
    let start = Instant::now();
    loop {
        if let Some((200, _)) = get(url).await {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited before it was ready: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{url} not ready after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn prometheus() -> Option<Server> {
    let bin = binary("KUBESTATE_PROMETHEUS", "prometheus", "prometheus")?;
    Some(prometheus_at(bin).await)
}

/// A Prometheus from `bin` receiving remote-write, on a free port and temporary storage.
async fn prometheus_at(bin: PathBuf) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n").expect("write config");
    let port = free_port();
    let args = vec![
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--web.enable-remote-write-receiver".into(),
        "--log.level=warn".into(),
    ];
    let base = format!("http://127.0.0.1:{port}");
    Server::start(bin, args, dir, base, "/-/ready").await
}

async fn victoria_metrics() -> Option<Server> {
    let bin = binary(
        "KUBESTATE_VICTORIA_METRICS",
        "victoria-metrics",
        "victoria-metrics",
    )?;
    Some(victoria_metrics_at(bin).await)
}

/// A tool `.ci/run` builds from a Go module into `~/.cache/kubestate-tools/<path>` (or the
/// file `$env` names), or `None` after the SKIP line naming `what` and the `module` to build.
fn cached_tool(env: &str, path: &str, what: &str, module: &str) -> Option<PathBuf> {
    let bin = std::env::var_os(env)
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/kubestate-tools").join(path))
        })
        .filter(|p| p.is_file());
    if bin.is_none() {
        let dir = path.rsplit_once('/').map_or(path, |(d, _)| d);
        kubestate_testkit::tools::skip(
            what,
            &format!("GOBIN=~/.cache/kubestate-tools/{dir} go install {module}, as .ci/run does, or set {env}"),
        );
    }
    bin
}

/// The VictoriaMetrics release `.ci/run` builds from its Go module: Debian's 1.79 predates
/// OTLP ingestion (1.92).
const VM_OTLP_VERSION: &str = "v1.150.0";

/// A VictoriaMetrics that ingests OTLP (`$KUBESTATE_VICTORIA_METRICS_OTLP`, or the build of
/// `.ci/run` under `~/.cache/kubestate-tools`), or `None` after the SKIP line.
async fn victoria_metrics_otlp() -> Option<Server> {
    // Not PATH: Debian's victoria-metrics there is too old.
    let bin = cached_tool(
        "KUBESTATE_VICTORIA_METRICS_OTLP",
        &format!("victoria-metrics-{VM_OTLP_VERSION}/victoria-metrics"),
        &format!("VictoriaMetrics {VM_OTLP_VERSION} (OTLP ingestion)"),
        &format!(
            "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@{VM_OTLP_VERSION}"
        ),
    )?;
    Some(victoria_metrics_at(bin).await)
}

async fn victoria_metrics_at(bin: PathBuf) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let args = vec![
        format!("-storageDataPath={}", dir.path().display()),
        format!("-httpListenAddr=127.0.0.1:{port}"),
        "-search.latencyOffset=0s".into(),
        "-search.disableCache".into(),
        "-loggerLevel=ERROR".into(),
    ];
    let base = format!("http://127.0.0.1:{port}");
    Server::start(bin, args, dir, base, "/health").await
}

/// Feeds a run to the outputs and keeps a copy.
struct Both<'a>(&'a mut Sinks, &'a mut Collect);

impl Emit for Both<'_> {
    fn series(&mut self, s: &OutSeries<'_>) {
        self.0.series(s);
        self.1.series(s);
    }
}

/// A series as a Prometheus-model receiver stores it: sanitised name, one value per key,
/// empty values absent, sorted.
fn stored(name: &str, labels: &[(String, String)]) -> (String, Vec<(String, String)>) {
    let mut n = String::new();
    kubestate_sinks::prometheus_name(name, &mut n);
    let mut l: Vec<(String, String)> = Vec::new();
    for (k, v) in labels {
        if !v.is_empty() && !l.iter().any(|(x, _)| x == k) {
            l.push((k.clone(), v.clone()));
        }
    }
    l.sort();
    (n, l)
}

/// Runs the Datadog preset over the first conformance world and sends it to `endpoint` with
/// remote-write. Returns the emitted series and the run's timestamp, or `None` without the
/// corpus.
async fn send(endpoint: &str) -> Option<(Collect, i64)> {
    let mut rw = RemoteWriteConfig::new(endpoint);
    rw.max_samples_per_request = 50; // several requests per run
    send_to(SinkConfig::RemoteWrite(Box::new(rw))).await
}

/// The richest conformance world (pods, nodes, deployments, …) in a structured store, with
/// every Kubernetes label exposed; `None` without the corpus.
fn world() -> Option<(StructuredStoreFactory, Engine)> {
    let cases = kubestate_testkit::cases();
    // The richest world: pods, nodes, deployments, …
    let Some(case) = cases
        .iter()
        .find(|c| c.name == "realistic-small-cluster")
        .or_else(|| cases.first())
    else {
        eprintln!("skipping: conformance corpus not found");
        return None;
    };
    let structured = StructuredStoreFactory::new();
    let labels = kubestate_families::Allowlist::parse("--metric-labels-allowlist", "*=[*]").ok()?;
    let engine = Engine::new(
        &EngineConfig {
            labels_allowlist: labels,
            ..EngineConfig::default()
        },
        &structured,
    )
    .expect("engine");
    let objects: Vec<Vec<u8>> = case
        .objects()
        .iter()
        .map(|o| serde_json::to_vec(o).unwrap_or_default())
        .collect();
    engine.replace_all(objects.iter().map(|o| &o[..]));
    Some((structured, engine))
}

/// Runs the Datadog preset over the richest conformance world into `sink` (an HTTP sink
/// sending 50 samples per request), and checks its counters say everything was delivered.
async fn send_to(sink: SinkConfig) -> Option<(Collect, i64)> {
    let (structured, _engine) = world()?;
    let kind = match &sink {
        SinkConfig::Otlp(_) => "otlp",
        _ => "remote_write",
    };
    let config = Config::from_yaml("preset: datadog\n", "e2e.yaml").expect("config");
    let telemetry = kubestate_check::Telemetry::new();
    let mut outputs = kubestate_sinks::build(&[sink], &telemetry).expect("outputs");
    let mut check = Check::new(&config, structured.symbols().clone()).expect("check");
    let mut copy = Collect::default();
    let now = SystemTime::now();
    let ts = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    outputs.begin(ts);
    let stats = check.run(
        &structured.snapshot(),
        now,
        &mut Both(&mut outputs, &mut copy),
    );
    for (name, r) in outputs.finish(&stats) {
        let sent = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sent.dropped, 0);
    }
    outputs.close(Duration::from_secs(60)).await;
    let text = telemetry.render();
    assert!(
        text.lines().any(
            |l| l.starts_with(&format!("kubestate_check_{kind}_samples_sent_total"))
                && l.ends_with(&format!(" {}", copy.0.len()))
        ),
        "every sample delivered:\n{text}"
    );
    assert!(
        text.lines()
            .filter(|l| l.starts_with(&format!("kubestate_check_{kind}_samples_dropped_total{{")))
            .all(|l| l.ends_with(" 0")),
        "nothing dropped:\n{text}"
    );
    eprintln!(
        "{kind}: {} series in {} requests",
        copy.0.len(),
        copy.0.len().div_ceil(50)
    );
    Some((copy, ts))
}

async fn query(base: &str, promql: &str, ts: i64) -> serde_json::Value {
    let q: String = promql
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let url = format!(
        "{base}/api/v1/query?query={q}&time={}.{:03}",
        ts / 1000,
        ts % 1000
    );
    let (status, body) = get(&url).await.expect("query answered");
    assert_eq!(status, 200, "{url}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    v["data"]["result"].clone()
}

/// Queries back what was written: the number of series, and every series of three
/// families with its labels and value.
async fn verify(base: &str, copy: &Collect, ts: i64) {
    let distinct: BTreeSet<_> = copy.0.iter().map(|s| stored(&s.name, &s.labels)).collect();
    let start = Instant::now();
    loop {
        let r = query(base, "count({__name__=~\"kubernetes_state_.+\"})", ts).await;
        let n = r[0]["value"][1]
            .as_str()
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0);
        if n == distinct.len() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "receiver holds {n} series, {} written",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut checked = 0;
    for family in [
        "kubernetes_state.pod.count",
        "kubernetes_state.deployment.replicas_desired",
        "kubernetes_state.node.count",
    ] {
        let want: BTreeSet<String> = copy
            .named(family)
            .map(|s| {
                let (_, l) = stored(&s.name, &s.labels);
                format!("{l:?} {}", s.value)
            })
            .collect();
        let mut n = String::new();
        kubestate_sinks::prometheus_name(family, &mut n);
        let got: BTreeSet<String> = query(base, &n, ts)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let mut l: Vec<(String, String)> = r["metric"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .filter(|(k, _)| *k != "__name__")
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                l.sort();
                let v: f64 = r["value"][1]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(f64::NAN);
                format!("{l:?} {v}")
            })
            .collect();
        assert_eq!(got, want, "{family}");
        checked += want.len();
    }
    assert!(checked > 0, "nothing to compare");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_to_prometheus_and_query_back() {
    let Some(server) = prometheus().await else {
        return;
    };
    let Some((copy, ts)) = send(&format!("{}/api/v1/write", server.base)).await else {
        return;
    };
    verify(&server.base, &copy, ts).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_to_victoria_metrics_and_query_back() {
    let Some(server) = victoria_metrics().await else {
        return;
    };
    let Some((copy, ts)) = send(&format!("{}/api/v1/write", server.base)).await else {
        return;
    };
    // Make freshly written data searchable at once.
    let _ = get(&format!("{}/internal/force_flush", server.base)).await;
    verify(&server.base, &copy, ts).await;
}

/// The check keeps writing every second while the TSDB is stopped for 10 s (the two
/// minutes scaled down) and is itself restarted in the middle of the outage: with
/// `queue_dir`, every run's samples are stored, none missing, none twice.
async fn outage(server: &mut Server, flush: bool) {
    let qdir = tempfile::tempdir().expect("temp dir");
    let mut cfg = RemoteWriteConfig::new(format!("{}/api/v1/write", server.base));
    cfg.queue_dir = Some(qdir.path().to_path_buf());
    cfg.min_backoff = Duration::from_millis(100);
    cfg.max_backoff = Duration::from_millis(500);
    cfg.max_samples_per_request = 4;
    let sinks = [SinkConfig::RemoteWrite(Box::new(cfg))];
    let telemetry = kubestate_check::Telemetry::new();
    let mut outputs = kubestate_sinks::build(&sinks, &telemetry).expect("outputs");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let t0 = now - now % 1000;
    let (runs, series) = (20i64, 10usize);
    for r in 0..runs {
        match r {
            5 => server.stop(),
            10 => {
                // The check restarts during the outage: what it queued stays on disk.
                outputs.close(Duration::from_millis(200)).await;
                outputs = kubestate_sinks::build(&sinks, &telemetry).expect("outputs");
            }
            15 => server.restart().await,
            _ => {}
        }
        let ts = t0 + r * 1000;
        outputs.begin(ts);
        for i in 0..series {
            let v = i.to_string();
            outputs.series(&OutSeries {
                name: "kubernetes_state.outage",
                labels: &[("i", &v)],
                value: r as f64,
                timestamp_ms: ts,
            });
        }
        let _ = outputs.finish(&kubestate_check::RunStats::default());
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    let at = t0 + runs * 1000;
    let want = (runs as usize * series) as u64;
    let start = Instant::now();
    let mut got = 0;
    while start.elapsed() < Duration::from_secs(60) {
        if flush {
            let _ = get(&format!("{}/internal/force_flush", server.base)).await;
        }
        let r = query(
            &server.base,
            "sum(count_over_time(kubernetes_state_outage[5m]))",
            at,
        )
        .await;
        got = r[0]["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0, |v| v as u64);
        if got == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(got, want, "samples stored over the outage");
    // One sample per run and series: the first and last runs' values are there.
    let r = query(
        &server.base,
        "min(min_over_time(kubernetes_state_outage[5m])) + max(max_over_time(kubernetes_state_outage[5m]))",
        at,
    )
    .await;
    assert_eq!(r[0]["value"][1], format!("{}", runs - 1));
    outputs.close(Duration::from_secs(5)).await;
    assert_eq!(std::fs::read_dir(qdir.path()).expect("dir").count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_outage_and_check_restart_lose_nothing() {
    let Some(mut server) = prometheus().await else {
        return;
    };
    outage(&mut server, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn victoria_metrics_outage_and_check_restart_lose_nothing() {
    let Some(mut server) = victoria_metrics().await else {
        return;
    };
    outage(&mut server, true).await;
}

#[test]
fn helper_collapses_like_a_receiver() {
    let (n, l) = stored(
        "a.b",
        &[
            ("k".into(), "1".into()),
            ("k".into(), "2".into()),
            ("e".into(), String::new()),
        ],
    );
    assert_eq!(n, "a_b");
    assert_eq!(l, vec![("k".to_string(), "1".to_string())]);
    let _ = Arc::new(());
}

/// Every series VictoriaMetrics holds, as `name{k="v",…} value @ms`, from `/api/v1/export`.
async fn exported(base: &str) -> Points {
    let url = format!("{base}/api/v1/export?match[]=%7B__name__%21%3D%22%22%7D");
    let (status, body) = get(&url).await.expect("export answered");
    assert_eq!(status, 200, "{url}: {body}");
    let mut out = Points::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        let metric = v["metric"].as_object().cloned().unwrap_or_default();
        let name = metric
            .get("__name__")
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string();
        let labels: Vec<(String, String)> = metric
            .iter()
            .filter(|(k, _)| *k != "__name__")
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect();
        let values = v["values"].as_array().cloned().unwrap_or_default();
        let stamps = v["timestamps"].as_array().cloned().unwrap_or_default();
        for (value, ts) in values.iter().zip(&stamps) {
            let value = value.as_f64().unwrap_or(f64::NAN);
            out.insert(point(&name, &labels, ts.as_i64().unwrap_or(0)), value);
        }
    }
    out
}

/// A stored sample: `name{k="v",…} @ms` and its value.
type Points = BTreeMap<String, f64>;

fn point(name: &str, labels: &[(String, String)], ts: i64) -> String {
    let mut l = labels.to_vec();
    l.sort();
    let l: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}} @{ts}", l.join(","))
}

/// Asserts `got` holds the samples of `want` and nothing else, values equal to a relative
/// `precision` (VictoriaMetrics keeps about 12 significant digits).
fn same_points(want: &Points, got: &Points, precision: f64) {
    let missing: Vec<_> = want
        .keys()
        .filter(|k| !got.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = got
        .keys()
        .filter(|k| !want.contains_key(*k))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} sent, {} stored; missing {missing:#?}, unexpected {extra:#?}",
        want.len(),
        got.len()
    );
    let differ: Vec<_> = want
        .iter()
        .filter(|(k, w)| {
            let g = got[*k];
            !(g == **w || (g - **w).abs() <= precision * w.abs().max(g.abs()))
        })
        .take(5)
        .map(|(k, w)| format!("{k}: sent {w}, stored {}", got[k]))
        .collect();
    assert!(differ.is_empty(), "values differ: {differ:#?}");
}

/// OTLP/HTTP (protobuf, gzip) into a VictoriaMetrics that ingests it: every series and value
/// the check emitted is stored, with the resource's attributes and the scope as labels, and
/// nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_to_victoria_metrics_stores_every_series_and_value() {
    let Some(server) = victoria_metrics_otlp().await else {
        return;
    };
    let yaml = format!(
        "type: otlp\nendpoint: {}/opentelemetry/v1/metrics\nmax_samples_per_request: 50\nresource_attributes: {{k8s.cluster.name: e2e}}\n",
        server.base
    );
    let sink: SinkConfig = serde_yaml::from_str(&yaml).expect("sink config");
    let Some((copy, ts)) = send_to(sink).await else {
        return;
    };
    // VictoriaMetrics stores resource attributes and the instrumentation scope as labels.
    let resource = [
        ("k8s.cluster.name".to_string(), "e2e".to_string()),
        ("service.name".to_string(), "kubestate-check".to_string()),
        ("scope.name".to_string(), "kubestate".to_string()),
        (
            "scope.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ];
    // One value per key (the first), empty values left out, names unchanged.
    let want: Points = copy
        .0
        .iter()
        .map(|s| {
            let (_, mut l) = stored(&s.name, &s.labels);
            l.extend(resource.iter().cloned());
            (point(&s.name, &l, ts), s.value)
        })
        .collect();
    assert!(want.len() > 100, "a world worth checking: {}", want.len());
    let start = Instant::now();
    let got = loop {
        let _ = get(&format!("{}/internal/force_flush", server.base)).await;
        let got = exported(&server.base).await;
        if got.len() >= want.len() || start.elapsed() > Duration::from_secs(30) {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    same_points(&want, &got, 1e-11);
}

/// A series' labels.
type Labels = Vec<(String, String)>;

/// The labels of a `promtool tsdb dump` line `{__name__="m", k="v"} value ts`, its value and
/// timestamp.
fn dump_line(line: &str) -> Option<(Labels, f64, i64)> {
    let rest = line.strip_prefix('{')?;
    let mut labels = Vec::new();
    let mut chars = rest.char_indices().peekable();
    let end = loop {
        while chars.peek().is_some_and(|(_, c)| *c == ' ' || *c == ',') {
            chars.next();
        }
        if let Some((i, '}')) = chars.peek().copied() {
            break i;
        }
        let mut key = String::new();
        for (_, c) in chars.by_ref() {
            if c == '=' {
                break;
            }
            key.push(c);
        }
        chars.next()?; // the opening quote
        let mut value = String::new();
        loop {
            let (_, c) = chars.next()?;
            match c {
                '"' => break,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        }
        labels.push((key, value));
    };
    let mut tail = rest[end + 1..].split_whitespace();
    let value = tail.next()?.parse().ok()?;
    let ts = tail.next()?.parse().ok()?;
    Some((labels, value, ts))
}

/// The file sink as an audit history: three runs of the Datadog preset written as gzip
/// OpenMetrics files, each decompressed and imported with `promtool tsdb create-blocks-from
/// openmetrics`; the blocks (`promtool tsdb dump`) hold every sample of every run, with its
/// labels, value and timestamp, and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_history_imports_into_tsdb_blocks_holding_every_sample() {
    let Some(promtool) = kubestate_testkit::tools::promtool() else {
        return;
    };
    let Some((structured, _engine)) = world() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let files = dir.path().join("history");
    let sink: SinkConfig = serde_yaml::from_str(&format!(
        "type: file\ndirectory: {}\ncompression: gzip\nmax_age: 24h\nmax_bytes: 1GiB\n",
        files.display()
    ))
    .expect("sink config");
    let config = Config::from_yaml("preset: datadog\n", "e2e.yaml").expect("config");
    let telemetry = kubestate_check::Telemetry::new();
    let mut outputs = kubestate_sinks::build(&[sink], &telemetry).expect("outputs");
    let mut check = Check::new(&config, structured.symbols().clone()).expect("check");
    let mut want = Points::new();
    let t0 = 1_700_000_000_000i64;
    for r in 0..3 {
        let ts = t0 + r * 15_000;
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(ts as u64);
        let mut copy = Collect::default();
        outputs.begin(ts);
        let stats = check.run(
            &structured.snapshot(),
            now,
            &mut Both(&mut outputs, &mut copy),
        );
        for (name, r) in outputs.finish(&stats) {
            r.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for s in &copy.0 {
            // As the sink writes them: Prometheus-safe names and keys, one value per key;
            // Prometheus leaves out empty values.
            let (name, labels) = stored(&s.name, &s.labels);
            let mut l: Vec<(String, String)> = labels
                .into_iter()
                .map(|(k, v)| {
                    let mut key = String::new();
                    kubestate_sinks::prometheus_name(&k, &mut key);
                    (key.replace(':', "_"), v)
                })
                .collect();
            l.push(("__name__".into(), name.clone()));
            want.insert(point("", &l, ts), s.value);
        }
    }
    let kept = kubestate_sinks::file::File::kept(&files, "kubestate-check").expect("list");
    assert_eq!(kept.len(), 3, "{kept:?}");
    let blocks = dir.path().join("blocks");
    for (i, f) in kept.iter().enumerate() {
        assert!(f.to_string_lossy().ends_with(".om.gz"), "{}", f.display());
        let mut text = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(f).expect("open")),
            &mut text,
        )
        .expect("gunzip");
        eprintln!(
            "{}: {} bytes gzip, {} bytes of text",
            f.display(),
            std::fs::metadata(f).map_or(0, |m| m.len()),
            text.len()
        );
        let om = dir.path().join(format!("run-{i}.om"));
        std::fs::write(&om, &text).expect("write");
        let out = Command::new(&promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&om)
            .arg(&blocks)
            .output()
            .expect("promtool runs");
        assert!(
            out.status.success(),
            "promtool import of {}: {}{}",
            f.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // `dump` opens the directory as a database, which has a write-ahead log.
    std::fs::create_dir_all(blocks.join("wal")).expect("wal dir");
    let out = Command::new(&promtool)
        .args(["tsdb", "dump"])
        .arg(&blocks)
        .output()
        .expect("promtool dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let got: Points = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (labels, value, ts) = dump_line(l).unwrap_or_else(|| panic!("a dump line: {l:?}"));
            (point("", &labels, ts), value)
        })
        .collect();
    assert!(
        want.len() > 3 * 100,
        "a history worth checking: {}",
        want.len()
    );
    // The file holds Go's shortest round-trip float text: exact.
    same_points(&want, &got, 0.0);
}

/// The Prometheus 3 release `.ci/run` builds from its Go module (module version v0.316.0 is
/// Prometheus v3.16.0): Debian's 2.42 does not speak remote-write 2.0.
const PROMETHEUS3_MODULE: &str = "v0.316.0";

/// A Prometheus 3 receiving remote-write 1.0 and 2.0 (`$KUBESTATE_PROMETHEUS3`, or the build
/// of `.ci/run` under `~/.cache/kubestate-tools`), or `None` after the SKIP line.
async fn prometheus3() -> Option<Server> {
    let bin = cached_tool(
        "KUBESTATE_PROMETHEUS3",
        &format!("prometheus-{PROMETHEUS3_MODULE}/prometheus"),
        "Prometheus 3 (remote-write 2.0 receiver)",
        &format!("github.com/prometheus/prometheus/cmd/prometheus@{PROMETHEUS3_MODULE}"),
    )?;
    Some(prometheus_at(bin).await)
}

/// Every series Prometheus holds at `ts` whose name matches `re`, as [`Points`].
async fn queried(base: &str, re: &str, ts: i64) -> Points {
    let mut out = Points::new();
    for r in query(base, &format!("{{__name__=~\"{re}\"}}"), ts)
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let metric = r["metric"].as_object().cloned().unwrap_or_default();
        let labels: Vec<(String, String)> = metric
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect();
        let value: f64 = r["value"][1]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN);
        out.insert(point("", &labels, ts), value);
    }
    out
}

/// Remote-write 2.0 (`io.prometheus.write.v2.Request`: symbol table, typed series) into a
/// Prometheus 3: every series and value the check emitted is stored, exactly. (Prometheus'
/// metadata API answers from scrape targets only, so the types are checked against the
/// scripted receiver in `remote_write.rs`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_2_to_prometheus_3_stores_every_series_and_value() {
    let Some(server) = prometheus3().await else {
        return;
    };
    let yaml = format!(
        "type: remote_write\nendpoint: {}/api/v1/write\nprotobuf_message: io.prometheus.write.v2.Request\nmax_samples_per_request: 50\n",
        server.base
    );
    let sink: SinkConfig = serde_yaml::from_str(&yaml).expect("sink config");
    let Some((copy, ts)) = send_to(sink).await else {
        return;
    };
    let want: Points = copy
        .0
        .iter()
        .map(|s| {
            let (name, mut l) = stored(&s.name, &s.labels);
            l.push(("__name__".into(), name));
            (point("", &l, ts), s.value)
        })
        .collect();
    assert!(want.len() > 100, "a world worth checking: {}", want.len());
    let start = Instant::now();
    let got = loop {
        let got = queried(&server.base, "kubernetes_state_.+", ts).await;
        if got.len() >= want.len() || start.elapsed() > Duration::from_secs(30) {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    same_points(&want, &got, 0.0);
}
