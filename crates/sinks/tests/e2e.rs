//! End to end: a check run over a conformance world, sent with the remote-write sink to a real
//! Prometheus (`--web.enable-remote-write-receiver`) and a real VictoriaMetrics started on
//! 127.0.0.1 with free ports and temporary storage, then queried back (`/api/v1/query`).
//! Each test skips with a message when its binary is missing.

use std::collections::BTreeSet;
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
    Some(Server::start(bin, args, dir, base, "/-/ready").await)
}

async fn victoria_metrics() -> Option<Server> {
    let bin = binary(
        "KUBESTATE_VICTORIA_METRICS",
        "victoria-metrics",
        "victoria-metrics",
    )?;
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
    Some(Server::start(bin, args, dir, base, "/health").await)
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

/// Runs the Datadog preset over the first conformance world and sends it to `endpoint`.
/// Returns the emitted series and the run's timestamp, or `None` without the corpus.
async fn send(endpoint: &str) -> Option<(Collect, i64)> {
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

    let mut rw = RemoteWriteConfig::new(endpoint);
    rw.max_samples_per_request = 50; // several requests per run
    let config = Config::from_yaml("preset: datadog\n", "e2e.yaml").expect("config");
    let telemetry = kubestate_check::Telemetry::new();
    let mut outputs = kubestate_sinks::build(&[SinkConfig::RemoteWrite(Box::new(rw))], &telemetry)
        .expect("outputs");
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
            |l| l.starts_with("kubestate_check_remote_write_samples_sent_total")
                && l.ends_with(&format!(" {}", copy.0.len()))
        ),
        "every sample delivered:\n{text}"
    );
    assert!(
        text.lines()
            .filter(|l| l.starts_with("kubestate_check_remote_write_samples_dropped_total{"))
            .all(|l| l.ends_with(" 0")),
        "nothing dropped:\n{text}"
    );
    eprintln!(
        "{}: {} series in {} requests",
        case.name,
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
