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

/// A child process killed when dropped.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
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
    let mut child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-remote-write-receiver")
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/-/ready"), &mut child).await;
    Some(Server {
        child,
        base,
        _dir: dir,
    })
}

async fn victoria_metrics() -> Option<Server> {
    let bin = binary(
        "KUBESTATE_VICTORIA_METRICS",
        "victoria-metrics",
        "victoria-metrics",
    )?;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut child = Command::new(bin)
        .arg(format!("-storageDataPath={}", dir.path().display()))
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        .arg("-search.latencyOffset=0s")
        .arg("-search.disableCache")
        .arg("-loggerLevel=ERROR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start victoria-metrics");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/health"), &mut child).await;
    Some(Server {
        child,
        base,
        _dir: dir,
    })
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
    let mut outputs =
        kubestate_sinks::build(&[SinkConfig::RemoteWrite(rw)], &telemetry).expect("outputs");
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
