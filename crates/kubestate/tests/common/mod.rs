//! Helpers shared by the binary's integration tests: the real binary as a process (exporter
//! and `kubestate sim`), the exporter in process against a simulator, the oracle body of a
//! world, waiting for convergence, a standard set of world changes, and (`check`) what the
//! check tests read and compare.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

pub mod check;

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kubestate::exporter::Exporter;
use kubestate::options::ExporterOptions;
use kubestate_engine::Engine;
use kubestate_metric::Format;
use kubestate_sim::{Sim, SimConfig, SimHandle, SynthSpec, WorldSource};
use kubestate_store::{Exposition, ResourceFilter, TextStoreFactory};
use kubestate_testkit::diff_families;
use kubestate_testkit::http::get;
use kubestate_testkit::tools::{ChildGuard, TempDir};
use serde_json::{json, Value};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_kubestate");

/// How long a converging exporter may take after a fault clears.
pub const CONVERGE: Duration = Duration::from_secs(60);

/// Installs the rustls provider (kube and the simulator both use rustls) once per process.
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A sim config serving the synthesized `small` world (1,000 pods: more than one 500-object
/// list page).
pub fn small_world() -> SimConfig {
    SimConfig {
        world: WorldSource::Synthesize(SynthSpec::preset("small").expect("small preset")),
        ..SimConfig::default()
    }
}

/// Starts an in-process sim.
pub async fn start_sim(cfg: SimConfig) -> SimHandle {
    Sim::start(cfg).await.expect("sim starts")
}

/// What the exporter must serve for `objects` under the KSM flags `args`: the offline engine
/// path (same generators, same filters), rendered as text.
pub fn oracle<'a>(
    args: &[String],
    objects: impl IntoIterator<Item = &'a [u8]>,
    filter: &ResourceFilter,
) -> String {
    let opts = ExporterOptions::parse_args(args.iter()).expect("oracle flags parse");
    let config = opts.engine_config().expect("oracle flags are valid");
    let exposition = Arc::new(Exposition::new());
    let engine =
        Engine::new(&config, &TextStoreFactory::new(exposition.clone())).expect("oracle engine");
    engine.replace_all(objects);
    let mut out = Vec::new();
    exposition.write_all(Format::Text, filter, &mut out);
    String::from_utf8(out).expect("UTF-8 exposition")
}

/// The oracle for the sim's current objects, and the resourceVersion it is for.
pub fn oracle_for(sim: &SimHandle, args: &[String]) -> (u64, String) {
    let snap = sim.snapshot();
    let body = oracle(
        args,
        snap.objects.iter().map(|o| &o.json[..]),
        &ResourceFilter::default(),
    );
    (snap.resource_version, body)
}

/// Exporter options for the KSM flags `args`, listening on free loopback ports.
pub fn loopback_options<S: AsRef<str>>(args: &[S]) -> ExporterOptions {
    let mut opts =
        ExporterOptions::parse_args(args.iter().map(AsRef::as_ref)).expect("flags parse");
    opts.host = "127.0.0.1".into();
    opts.port = 0;
    opts.telemetry_host = "127.0.0.1".into();
    opts.telemetry_port = 0;
    opts
}

/// A client of the simulator's API.
pub fn sim_client(sim: &SimHandle) -> kube::Client {
    let url = sim.base_url().parse().expect("sim URL");
    kube::Client::try_from(kube::Config::new(url)).expect("client")
}

/// Starts the exporter in process with `opts` against `sim` and waits (≤ 60 s) for its
/// initial sync.
pub async fn start_exporter(sim: &SimHandle, opts: &ExporterOptions) -> Exporter {
    let exporter = kubestate::exporter::start(opts, sim_client(sim))
        .await
        .expect("exporter starts");
    tokio::time::timeout(Duration::from_secs(60), exporter.wait_synced())
        .await
        .expect("initial sync within 60 s");
    exporter
}

/// Where a test reads the exporter's body from.
#[derive(Clone)]
pub enum Source {
    /// `GET` this `/metrics` URL (text format).
    Http(String),
    /// Write the exposition of an in-process engine directly.
    Exposition(Arc<Exposition>),
}

impl Source {
    /// The current text body.
    pub async fn body(&self) -> Result<String, String> {
        match self {
            Source::Http(url) => {
                let r = get(url, &[("Accept", "text/plain")], Duration::from_secs(30)).await?;
                if r.status != 200 {
                    return Err(format!("GET {url}: {}", r.status));
                }
                Ok(r.text())
            }
            Source::Exposition(e) => {
                let mut out = Vec::new();
                e.write_all(Format::Text, &ResourceFilter::default(), &mut out);
                Ok(String::from_utf8_lossy(&out).into_owned())
            }
        }
    }
}

/// First `max` lines of a long report.
pub fn head(s: &str, max: usize) -> String {
    let n = s.lines().count();
    let mut out: String = s.lines().take(max).collect::<Vec<_>>().join("\n");
    if n > max {
        out.push_str(&format!("\n… ({} more lines)", n - max));
    }
    out
}

/// Waits until the body of `source` equals, family by family, the oracle of the sim's current
/// objects. Returns how long it took, or the last difference at the deadline.
pub async fn converge(
    source: &Source,
    sim: &SimHandle,
    args: &[String],
    timeout: Duration,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut expected: Option<(u64, String)> = None;
    loop {
        let rv = sim.resource_version();
        if expected.as_ref().is_none_or(|(r, _)| *r != rv) {
            expected = Some(oracle_for(sim, args));
        }
        let (_, want) = expected.as_ref().expect("oracle computed");
        let diff = match source.body().await {
            Ok(body) => diff_families(want, &body, |_| true),
            Err(e) => Some(format!("scrape failed: {e}")),
        };
        let Some(diff) = diff else {
            return Ok(start.elapsed());
        };
        if start.elapsed() > timeout {
            return Err(format!(
                "/metrics did not converge to the world within {timeout:?}:\n{}",
                head(&diff, 40)
            ));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Waits until `cond` holds, polling every 50 ms; `Err(what)` at the deadline.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut cond: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if cond().await {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What [`change_world`] did.
#[derive(Debug, Clone)]
pub struct Changes {
    /// Namespace/name of the pod it created.
    pub created_pod: (String, String),
    /// Namespace/name of the pod it deleted.
    pub deleted_pod: (String, String),
    /// Namespace/name of the deployment whose replicas it changed, and the new count.
    pub scaled_deployment: (String, String, i64),
}

fn pod_json(ns: &str, name: &str, node: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "e2e"}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "registry.example/e2e:1"}]},
        "status": {"phase": "Running", "qosClass": "BestEffort"}
    })
}

/// A standard batch of changes: create a pod `<tag>`, delete an existing pod, bump a
/// deployment's replicas, and `churn` churn steps.
pub fn change_world(sim: &SimHandle, tag: &str, churn: usize) -> Changes {
    let snap = sim.snapshot();
    let victim = snap
        .of("pods")
        .find(|p| !p.name.starts_with("e2e-"))
        .expect("a pod to delete");
    let ns = victim.namespace.clone();
    let node = victim.value()["spec"]["nodeName"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let name = format!("e2e-{tag}");
    sim.apply(pod_json(&ns, &name, &node)).expect("apply pod");
    let deleted = (victim.namespace.clone(), victim.name.clone());
    assert!(
        sim.delete("pods", &deleted.0, &deleted.1)
            .expect("delete pod"),
        "pod existed"
    );
    let dep = snap.of("deployments").next().expect("a deployment");
    let mut d = dep.value();
    let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1) + 1;
    d["spec"]["replicas"] = json!(replicas);
    sim.apply(d).expect("apply deployment");
    sim.churn_steps(churn);
    Changes {
        created_pod: (ns, name),
        deleted_pod: deleted,
        scaled_deployment: (dep.namespace.clone(), dep.name.clone(), replicas),
    }
}

/// KSM flags that turn on every resource, every family (opt-in ones included) and every label
/// and annotation, so a comparison covers the most.
pub fn all_flags() -> Vec<String> {
    let resources: Vec<&str> = kubestate_families::resources()
        .iter()
        .map(|r| r.name())
        .collect();
    vec![
        format!("--resources={}", resources.join(",")),
        "--metric-labels-allowlist=*=[*]".into(),
        "--metric-annotations-allowlist=*=[*]".into(),
        "--metric-opt-in-list=kube_pod_nodeselectors,kube_persistentvolume_csi_attributes".into(),
    ]
}

/// KSM flags that make the exporter's two servers listen on free loopback ports.
pub const LOOPBACK: [&str; 4] = [
    "--host=127.0.0.1",
    "--port=0",
    "--telemetry-host=127.0.0.1",
    "--telemetry-port=0",
];

/// Arguments that make the binary listen on free loopback ports and log JSON (so the bound
/// addresses can be read back).
pub fn exporter_base_args(apiserver_or_kubeconfig: &str) -> Vec<String> {
    let target = if apiserver_or_kubeconfig.starts_with("http") {
        format!("--apiserver={apiserver_or_kubeconfig}")
    } else {
        format!("--kubeconfig={apiserver_or_kubeconfig}")
    };
    let mut args = vec![target];
    args.extend(LOOPBACK.map(String::from));
    args.push("--log-format=json".into());
    args
}

/// The exporter binary, running.
pub struct ExporterProc {
    child: ChildGuard,
    /// `host:port` of `/metrics`.
    pub metrics: String,
    /// `host:port` of the telemetry server.
    pub telemetry: String,
    log: Arc<Mutex<String>>,
}

impl ExporterProc {
    /// Spawns `kubestate <args>` and waits (≤ 30 s) until it logs its bound addresses.
    pub async fn spawn(args: Vec<String>) -> Result<ExporterProc, String> {
        tokio::task::spawn_blocking(move || ExporterProc::spawn_blocking(args))
            .await
            .map_err(|e| e.to_string())?
    }

    fn spawn_blocking(args: Vec<String>) -> Result<ExporterProc, String> {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawning {BIN}: {e}"))?;
        let stderr = child.stderr.take().expect("piped stderr");
        let child = ChildGuard(child);
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let f = &v["fields"];
                    if let (Some(m), Some(t)) = (f["metrics"].as_str(), f["telemetry"].as_str()) {
                        let _ = tx.send((m.to_string(), t.to_string()));
                    }
                }
                let mut l = log2.lock().expect("log lock");
                l.push_str(&line);
                l.push('\n');
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok((metrics, telemetry)) => Ok(ExporterProc {
                child,
                metrics,
                telemetry,
                log,
            }),
            Err(_) => {
                let mut child = child;
                child.kill();
                Err(format!(
                    "kubestate {args:?} did not report its addresses:\n{}",
                    log.lock().expect("log lock")
                ))
            }
        }
    }

    /// `http://<metrics>/metrics` plus `query` (`""` or `?…`).
    pub fn metrics_url(&self, query: &str) -> String {
        format!("http://{}/metrics{query}", self.metrics)
    }

    /// `http://<metrics><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.metrics)
    }

    /// `http://<telemetry><path>`.
    pub fn telemetry_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.telemetry)
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Waits until `/readyz` on the telemetry port answers 200.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let url = self.telemetry_url("/readyz");
        wait_for("/readyz 200", timeout, || async {
            get(&url, &[], Duration::from_secs(5))
                .await
                .is_ok_and(|r| r.status == 200)
        })
        .await
        .map_err(|e| format!("{e}\nexporter log:\n{}", head(&self.log(), 60)))
    }

    /// The process id (to pause it with SIGSTOP, or read its `/proc` figures).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_exit().is_none()
    }
}

/// Runs `kubestate <args>` expecting it to exit by itself within `timeout`: exit code and
/// stderr. A process still running at the deadline is killed and reported as `None`.
pub async fn run_to_exit(args: Vec<String>, timeout: Duration) -> (Option<i32>, String) {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubestate");
        let start = Instant::now();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                let out = child.wait_with_output().expect("collect output");
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stderr),
                    String::from_utf8_lossy(&out.stdout)
                );
                return (out.status.code(), text);
            }
            if start.elapsed() > timeout {
                let mut g = ChildGuard(child);
                g.kill();
                return (None, "still running at the deadline".to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .expect("runner thread")
}

/// `kubestate sim …` as a process.
pub struct SimProc {
    child: ChildGuard,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The kubeconfig it wrote.
    pub kubeconfig: PathBuf,
    _dir: TempDir,
}

impl SimProc {
    /// Spawns `kubestate sim --port 0 --write-kubeconfig <tmp> <args>` and waits (≤ 60 s) for
    /// it to print its address and write the kubeconfig.
    pub async fn spawn(args: Vec<String>) -> Result<SimProc, String> {
        tokio::task::spawn_blocking(move || {
            let dir = TempDir::new("sim").map_err(|e| e.to_string())?;
            let kubeconfig = dir.path().join("kubeconfig");
            let mut child = Command::new(BIN)
                .arg("sim")
                .args(["--port", "0", "--write-kubeconfig"])
                .arg(&kubeconfig)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("spawning {BIN} sim: {e}"))?;
            let stdout = child.stdout.take().expect("piped stdout");
            let child = ChildGuard(child);
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut url = None;
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(u) = line.strip_prefix("kubestate sim serving on ") {
                        url = Some(u.trim().to_string());
                    }
                    if line.starts_with("kubeconfig written to") {
                        if let Some(u) = url.take() {
                            let _ = tx.send(u);
                        }
                    }
                }
            });
            let base_url = rx
                .recv_timeout(Duration::from_secs(60))
                .map_err(|_| "kubestate sim did not print its address".to_string())?;
            Ok(SimProc {
                child,
                base_url,
                kubeconfig,
                _dir: dir,
            })
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// Kills the sim now.
    pub fn kill(&mut self) {
        self.child.kill();
    }
}
