//! # kubestate-sim — a fake Kubernetes API server
//!
//! `kubestate-sim` is the stand-in for the Kubernetes API server in kubestate's tests,
//! benchmarks and demos. In the data flow `API server → watch → decode → store → families →
//! /metrics`, it replaces the first box: it serves discovery, GET, LIST (with
//! `limit`/`continue` and resourceVersion semantics) and WATCH (chunked JSON lines with
//! bookmarks and `sendInitialEvents` streaming lists) for the 39 resource kinds
//! kube-state-metrics reads, plus CRDs and their custom resources, over HTTP/1.1 or HTTP/2,
//! optionally with TLS, on loopback. Real clients work against it (kubectl and the reference
//! kube-state-metrics, a client-go program, are tested).
//!
//! It works on JSON values and bytes only and shares no code with kubestate's decoders (only
//! the schema facts of `kubestate-protoschema`). Built-in kinds are also served in protobuf
//! (`application/vnd.kubernetes.protobuf`, length-prefixed watch frames) to clients that ask
//! for it, as a real API server does; custom resources stay JSON. Every object is serialized
//! once per encoding and kept as [`bytes::Bytes`]; lists and watch streams concatenate those
//! bytes, so the simulator is never the bottleneck of a benchmark.
//!
//! Principal types:
//! * [`SimConfig`] / [`WorldSource`] / [`SynthSpec`] — what to serve: nothing, a world file
//!   (the conformance `objects.json` format) or a deterministic synthesized cluster, optionally
//!   with churn ([`SimConfig::churn_per_sec`]).
//! * [`Sim::start`] → [`SimHandle`] — the running server: URLs, kubeconfig, world changes
//!   ([`SimHandle::apply`], [`SimHandle::delete`], [`SimHandle::churn_steps`]), the current
//!   objects ([`SimHandle::snapshot`]), fault control ([`SimHandle::faults`] → [`Faults`]),
//!   [`SimHandle::shutdown`].
//! * [`SimArgs`] + [`run`] — the `kubestate sim` command line.
//!
//! The same controls are available over HTTP under `/_sim/` on the API port (see
//! `docs/sim.md`).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
//! let sim = Sim::start(SimConfig {
//!     world: WorldSource::Synthesize(SynthSpec::preset("small").unwrap()),
//!     ..SimConfig::default()
//! })
//! .await?;
//! let pods_url = format!("{}/api/v1/pods?limit=500", sim.base_url());
//! sim.apply(serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
//!                               "metadata": {"name": "extra"}}))?;
//! sim.faults().gone_next_watches(1);
//! # let _ = pods_url;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod admin;
mod api;
mod churn;
mod discovery;
mod fault_config;
mod faults;
mod httputil;
mod kinds;
mod object;
mod proto;
mod selectors;
mod server;
mod state;
mod store;
mod synth;
mod table;
mod tasks;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::task::JoinHandle;
use tracing::info;

pub use discovery::KUBERNETES_VERSION;
pub use faults::{FaultConfig, FaultUpdate, Faults};
pub use store::WorldError;
pub use synth::SynthSpec;

use state::Shared;
use store::World;

/// Where the initial objects come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WorldSource {
    /// No objects.
    #[default]
    Empty,
    /// A file like the conformance `objects.json`: `{"items":[...]}`, each item with
    /// apiVersion/kind. Objects are served byte-for-byte as in the file (whitespace removed).
    File(PathBuf),
    /// A deterministic synthesized cluster (same spec and seed → same bytes).
    Synthesize(SynthSpec),
}

/// Configuration of a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Listen address (default `127.0.0.1`).
    pub host: String,
    /// Listen port; 0 picks a free one (default 0).
    pub port: u16,
    /// Serve HTTPS with a self-signed certificate generated at startup.
    pub tls: bool,
    /// Initial objects.
    pub world: WorldSource,
    /// Changes per second made by the churn task (0 = none).
    pub churn_per_sec: f64,
    /// Seed of every random choice (synthesis, churn, uids of applied objects, faults).
    pub seed: u64,
    /// Initial fault settings.
    pub faults: FaultConfig,
    /// Events retained per resource for watches that resume from an older resourceVersion.
    pub watch_window: usize,
    /// Interval of BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// Lifetime of continue tokens.
    pub continue_ttl: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            host: "127.0.0.1".to_string(),
            port: 0,
            tls: false,
            world: WorldSource::Empty,
            churn_per_sec: 0.0,
            seed: 1,
            faults: FaultConfig::default(),
            watch_window: 10_000,
            bookmark_interval: Duration::from_secs(60),
            continue_ttl: Duration::from_secs(300),
        }
    }
}

/// One stored object, as returned by [`SimHandle::snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimObject {
    /// apiVersion of the type it is served under (`v1`, `apps/v1`, ...).
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name (`pods`).
    pub resource: String,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// resourceVersion of the object.
    pub resource_version: u64,
    /// The serialized object exactly as served.
    pub json: Bytes,
}

impl SimObject {
    /// The object parsed as JSON.
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

/// Every object at one resourceVersion.
#[derive(Debug, Clone)]
pub struct WorldSnapshot {
    /// The world's current resourceVersion.
    pub resource_version: u64,
    /// Every object, grouped by resource, sorted by namespace/name within a resource.
    pub objects: Vec<SimObject>,
}

impl WorldSnapshot {
    /// Objects of one resource (plural name, e.g. `pods`).
    pub fn of(&self, resource: &str) -> impl Iterator<Item = &SimObject> {
        let r = resource.to_string();
        self.objects.iter().filter(move |o| o.resource == r)
    }
}

/// Request counters and sizes of a running sim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStats {
    /// Current resourceVersion.
    pub resource_version: u64,
    /// Number of objects.
    pub objects: usize,
    /// Watches currently open.
    pub open_watches: usize,
    /// HTTP requests served.
    pub requests: u64,
    /// LIST requests.
    pub lists: u64,
    /// WATCH requests.
    pub watches: u64,
    /// GET requests of single objects.
    pub gets: u64,
    /// Resource requests (get, list, watch) answered in JSON.
    pub json_responses: u64,
    /// Resource requests answered in protobuf (`application/vnd.kubernetes.protobuf`).
    pub protobuf_responses: u64,
}

/// The protobuf message (without envelope) a protobuf client receives for this JSON object,
/// encoded strictly: a member the Kubernetes schema does not have, or a value of the wrong
/// JSON type, is an error here (the server itself leaves such members out). `Ok(None)` for
/// kinds without a protobuf form (custom resources, CRDs). The object needs `apiVersion` and
/// `kind`.
///
/// # Errors
/// The object does not fit its kind's protobuf schema; the message names the JSON path.
pub fn protobuf_message(object: &Value) -> Result<Option<Vec<u8>>, String> {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    match proto::message_of(api_version, kind) {
        None => Ok(None),
        Some(m) => proto::encode(object, m, proto::Mode::Strict)
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

/// Entry point: [`Sim::start`].
#[derive(Debug)]
pub struct Sim;

/// Load a world file into `w`.
fn load_file(path: &Path, w: &mut World) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct File<'a> {
        #[serde(borrow)]
        items: Vec<&'a RawValue>,
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read world file {}", path.display()))?;
    let file: File<'_> = serde_json::from_str(&text).with_context(|| {
        format!(
            "world file {} is not a JSON object with an \"items\" array",
            path.display()
        )
    })?;
    let mut parsed = Vec::with_capacity(file.items.len());
    for (i, raw) in file.items.iter().enumerate() {
        let bytes = object::minify_json(raw.get());
        let v: Value = serde_json::from_slice(&bytes).with_context(|| {
            format!("world file {}: item {i} is not valid JSON", path.display())
        })?;
        if !v.is_object() {
            anyhow::bail!(
                "world file {}: item {i} is not a JSON object",
                path.display()
            );
        }
        parsed.push((i, v, Bytes::from(bytes.into_boxed_slice())));
    }
    // CRDs first, so that custom resources anywhere in the file resolve.
    parsed.sort_by_key(|(_, v, _)| {
        v.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition")
    });
    for (i, v, bytes) in parsed {
        let ident = format!(
            "{} {} {}/{}",
            v.get("apiVersion").and_then(Value::as_str).unwrap_or("?"),
            v.get("kind").and_then(Value::as_str).unwrap_or("?"),
            v.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or(""),
            v.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?"),
        );
        w.load(&v, bytes)
            .with_context(|| format!("world file {}: item {i} ({ident})", path.display()))?;
    }
    w.finish_load();
    Ok(())
}

fn build_world(cfg: &SimConfig) -> anyhow::Result<World> {
    let mut w = World::new(cfg.watch_window, cfg.seed);
    match &cfg.world {
        WorldSource::Empty => w.finish_load(),
        WorldSource::File(p) => load_file(p, &mut w)?,
        WorldSource::Synthesize(spec) => synth::synthesize(spec, cfg.seed, &mut w)
            .map_err(|e| anyhow::anyhow!("synthesizing the world failed: {e}"))?,
    }
    Ok(w)
}

impl Sim {
    /// Build the world, bind the listener and start serving in the background on the current
    /// tokio runtime.
    pub async fn start(cfg: SimConfig) -> anyhow::Result<SimHandle> {
        let t0 = Instant::now();
        let cfg2 = cfg.clone();
        let world = tokio::task::spawn_blocking(move || build_world(&cfg2))
            .await
            .context("world builder panicked")??;
        let build_time = t0.elapsed();
        let objects = world.object_count();
        let rv = world.rv;
        let sh = Shared::new(
            world,
            cfg.faults.clone(),
            cfg.seed,
            cfg.bookmark_interval.max(Duration::from_millis(1)),
            cfg.continue_ttl,
        );
        faults::Faults { sh: sh.clone() }.set(cfg.faults.clone());
        let listener = tokio::net::TcpListener::bind((cfg.host.as_str(), cfg.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", cfg.host, cfg.port))?;
        let addr = listener.local_addr()?;
        let tls = if cfg.tls {
            Some(server::self_signed(&cfg.host).context("cannot create a TLS certificate")?)
        } else {
            None
        };
        let scheme = if cfg.tls { "https" } else { "http" };
        let host = match addr {
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
            SocketAddr::V4(a) => a.ip().to_string(),
        };
        *sh.base_url.write() = format!("{scheme}://{host}:{}", addr.port());
        let server = tokio::spawn(server::serve(listener, tls, sh.clone()));
        sh.set_churn_rate(cfg.churn_per_sec);
        let tasks = vec![
            tokio::spawn(tasks::watch_dropper(sh.clone())),
            tokio::spawn(tasks::churn_loop(sh.clone())),
        ];
        info!(
            url = %sh.base_url.read(),
            objects,
            resource_version = rv,
            build_ms = build_time.as_millis() as u64,
            churn_per_sec = cfg.churn_per_sec,
            "kubestate-sim listening"
        );
        Ok(SimHandle {
            sh,
            addr,
            tls: cfg.tls,
            server: Some(server),
            tasks,
            build_time,
        })
    }
}

/// A running simulator. Dropping it stops the server (without waiting); prefer
/// [`SimHandle::shutdown`].
pub struct SimHandle {
    sh: Arc<Shared>,
    addr: SocketAddr,
    tls: bool,
    server: Option<JoinHandle<()>>,
    tasks: Vec<JoinHandle<()>>,
    build_time: Duration,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("base_url", &self.base_url())
            .finish()
    }
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (or `https://` with TLS).
    pub fn base_url(&self) -> String {
        self.sh.base_url.read().clone()
    }

    /// Base URL of the admin endpoint (`<base_url>/_sim`).
    pub fn admin_url(&self) -> String {
        format!("{}/_sim", self.base_url())
    }

    /// Whether it serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// How long building the world took.
    pub fn build_time(&self) -> Duration {
        self.build_time
    }

    /// A kubeconfig pointing at this sim (`insecure-skip-tls-verify` with TLS; a dummy
    /// bearer token, which the sim ignores).
    pub fn kubeconfig_yaml(&self) -> String {
        kubeconfig_yaml(&self.base_url(), self.tls)
    }

    /// Write [`SimHandle::kubeconfig_yaml`] to `path`.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml())
    }

    /// Create or update an object (or every item of `{"items":[...]}`): bumps the
    /// resourceVersion, fills uid/creationTimestamp when missing, emits ADDED or MODIFIED.
    /// Applying a CRD starts serving its custom resources. Returns the stored objects.
    pub fn apply(&self, obj: Value) -> Result<Vec<SimObject>, WorldError> {
        let applied = admin::apply_value(&self.sh, obj)?;
        let w = self.sh.world.read();
        Ok(applied
            .iter()
            .map(|(_, o)| {
                let v: Value = serde_json::from_slice(&o.json).unwrap_or(Value::Null);
                let api_version = v["apiVersion"].as_str().unwrap_or("").to_string();
                let kind = v["kind"].as_str().unwrap_or("").to_string();
                let resource = w
                    .registry
                    .by_kind(&api_version, &kind)
                    .map(|t| t.plural.clone())
                    .unwrap_or_default();
                SimObject {
                    api_version,
                    kind,
                    resource,
                    namespace: o.namespace.clone(),
                    name: o.name.clone(),
                    resource_version: o.rv,
                    json: o.json.clone(),
                }
            })
            .collect())
    }

    /// Delete an object by resource (`pods`, `deployments` or `deployments.apps`),
    /// namespace (ignored for cluster-scoped resources) and name; emits DELETED.
    /// `Ok(false)` when it did not exist.
    pub fn delete(&self, resource: &str, namespace: &str, name: &str) -> Result<bool, WorldError> {
        admin::delete(&self.sh, resource, namespace, name).map(|o| o.is_some())
    }

    /// Change the churn rate (changes per second; 0 pauses churn).
    pub fn set_churn_rate(&self, per_sec: f64) {
        self.sh.set_churn_rate(per_sec);
    }

    /// The current churn rate.
    pub fn churn_rate(&self) -> f64 {
        self.sh.churn_rate()
    }

    /// Make `n` churn changes now (whatever the configured rate); returns how many were made.
    pub fn churn_steps(&self, n: usize) -> usize {
        tasks::run_steps(&self.sh, n)
    }

    /// Every current object.
    pub fn snapshot(&self) -> WorldSnapshot {
        let w = self.sh.world.read();
        let mut objects = Vec::with_capacity(w.object_count());
        for (i, s) in w.stores.iter().enumerate() {
            let Some(t) = w.registry.all().iter().find(|t| t.store == i) else {
                continue;
            };
            let api_version = t.api_version();
            for o in s.objects.values() {
                objects.push(SimObject {
                    api_version: api_version.clone(),
                    kind: t.kind.clone(),
                    resource: t.plural.clone(),
                    namespace: o.namespace.clone(),
                    name: o.name.clone(),
                    resource_version: o.rv,
                    json: o.json.clone(),
                });
            }
        }
        WorldSnapshot {
            resource_version: w.rv,
            objects,
        }
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.sh.world.read().rv
    }

    /// Counters.
    pub fn stats(&self) -> SimStats {
        use std::sync::atomic::Ordering::Relaxed;
        let (resource_version, objects) = {
            let w = self.sh.world.read();
            (w.rv, w.object_count())
        };
        SimStats {
            resource_version,
            objects,
            open_watches: self.sh.watches.lock().len(),
            requests: self.sh.counters.requests.load(Relaxed),
            lists: self.sh.counters.lists.load(Relaxed),
            watches: self.sh.counters.watches.load(Relaxed),
            gets: self.sh.counters.gets.load(Relaxed),
            json_responses: self.sh.counters.json_responses.load(Relaxed),
            protobuf_responses: self.sh.counters.protobuf_responses.load(Relaxed),
        }
    }

    /// Fault control.
    pub fn faults(&self) -> Faults {
        Faults {
            sh: self.sh.clone(),
        }
    }

    /// Stop serving: close watches and connections, stop churn; waits for the server task.
    pub async fn shutdown(mut self) {
        self.sh.shutdown.send_replace(true);
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.sh.shutdown.send_replace(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A kubeconfig YAML for a server URL.
pub fn kubeconfig_yaml(server: &str, insecure_tls: bool) -> String {
    let tls = if insecure_tls {
        "    insecure-skip-tls-verify: true\n"
    } else {
        ""
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kubestate-sim\n  cluster:\n    server: {server}\n{tls}contexts:\n- name: kubestate-sim\n  context:\n    cluster: kubestate-sim\n    user: kubestate-sim\ncurrent-context: kubestate-sim\npreferences: {{}}\nusers:\n- name: kubestate-sim\n  user:\n    token: kubestate-sim\n"
    )
}

/// Parse a duration like `500ms`, `5s`, `2m`, `1h30m` (Go's syntax) or a plain number of
/// seconds.
///
/// # Errors
/// A message naming the input and how to write a duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    kubestate_gotime::parse_std_duration(s, kubestate_gotime::BareNumber::Seconds)
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|_| format!("invalid fraction {s:?}"))?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("fraction {s:?} is not between 0 and 1"))
    }
}

/// Command line of `kubestate sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Listen port (6443 like a real API server; 0 picks a free port, printed at startup).
    #[arg(long, default_value_t = 6443)]
    pub port: u16,
    /// Serve HTTPS with a self-signed certificate generated at startup.
    #[arg(long)]
    pub tls: bool,
    /// Serve the objects of this file (`{"items":[...]}`, like conformance objects.json).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["synthesize", "preset", "nodes", "namespaces", "pods"])]
    pub world: Option<PathBuf>,
    /// Synthesize a cluster (size from --preset or --nodes/--namespaces/--pods; default small).
    #[arg(long)]
    pub synthesize: bool,
    /// Size preset of the synthesized cluster: small (1k pods), medium (10k), large (50k), xl (150k).
    #[arg(long, value_parser = ["small", "medium", "large", "xl"])]
    pub preset: Option<String>,
    /// Nodes of the synthesized cluster (default: pods / 30).
    #[arg(long)]
    pub nodes: Option<usize>,
    /// Workload namespaces of the synthesized cluster (default: pods / 250, 4..=600).
    #[arg(long)]
    pub namespaces: Option<usize>,
    /// Pods of the synthesized cluster.
    #[arg(long)]
    pub pods: Option<usize>,
    /// Seed of every random choice (world, churn, faults).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Changes per second (pod replacements, restarts, rollouts, node flips).
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub churn: f64,
    /// Events retained per resource for resuming watches.
    #[arg(long, default_value_t = 10_000)]
    pub watch_window: usize,
    /// Interval of watch BOOKMARK events.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub bookmark_interval: Duration,
    /// Lifetime of list continue tokens.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub continue_ttl: Duration,
    /// Write a kubeconfig pointing at the sim to this path.
    #[arg(long, value_name = "PATH")]
    pub write_kubeconfig: Option<PathBuf>,
    /// Fault: drop this many random watch connections per second.
    #[arg(long, value_name = "PER_SEC", default_value_t = 0.0)]
    pub fault_watch_drop_rate: f64,
    /// Fault: answer this fraction of resource requests with 429 + Retry-After.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = parse_fraction)]
    pub fault_throttle: f64,
    /// Retry-After seconds of 429 answers.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    pub fault_retry_after: u32,
    /// Fault: answer this fraction of resource requests with 500.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = parse_fraction)]
    pub fault_error_rate: f64,
    /// Fault: latency added to every resource request.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub fault_latency: Duration,
    /// Fault: answer the next N watches with a 410 ERROR event.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_gone_next_watches: u64,
    /// Fault: cut the next N list/watch responses in the middle of an object.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_cut_next_streams: u64,
    /// Fault: add a malformed object to the next N list responses / watch streams.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_malformed_next: u64,
}

impl SimArgs {
    /// The [`SimConfig`] these arguments describe.
    pub fn to_config(&self) -> anyhow::Result<SimConfig> {
        let world = if let Some(p) = &self.world {
            WorldSource::File(p.clone())
        } else if self.synthesize
            || self.preset.is_some()
            || self.pods.is_some()
            || self.nodes.is_some()
            || self.namespaces.is_some()
        {
            let mut spec = match (&self.preset, self.pods) {
                (Some(p), _) => {
                    SynthSpec::preset(p).ok_or_else(|| anyhow::anyhow!("unknown preset {p:?}"))?
                }
                (None, Some(n)) => SynthSpec::for_pods(n),
                (None, None) => SynthSpec::preset("small")
                    .ok_or_else(|| anyhow::anyhow!("missing small preset"))?,
            };
            if let Some(n) = self.pods {
                spec.pods = n;
            }
            if let Some(n) = self.nodes {
                spec.nodes = n.max(1);
            }
            if let Some(n) = self.namespaces {
                spec.namespaces = n.max(1);
            }
            WorldSource::Synthesize(spec)
        } else {
            WorldSource::Empty
        };
        if !self.churn.is_finite() || self.churn < 0.0 {
            anyhow::bail!("--churn must be a non-negative number");
        }
        Ok(SimConfig {
            host: self.host.clone(),
            port: self.port,
            tls: self.tls,
            world,
            churn_per_sec: self.churn,
            seed: self.seed,
            faults: FaultConfig {
                watch_drop_per_sec: self.fault_watch_drop_rate.max(0.0),
                throttle_fraction: self.fault_throttle,
                retry_after_secs: self.fault_retry_after,
                error_fraction: self.fault_error_rate,
                latency_ms: self
                    .fault_latency
                    .as_millis()
                    .try_into()
                    .unwrap_or(u64::MAX),
                gone_next_watches: self.fault_gone_next_watches,
                cut_next_streams: self.fault_cut_next_streams,
                malformed_next: self.fault_malformed_next,
            },
            watch_window: self.watch_window,
            bookmark_interval: self.bookmark_interval,
            continue_ttl: self.continue_ttl,
        })
    }
}

/// Run `kubestate sim`: start, print the address, write the kubeconfig if asked, serve until
/// Ctrl-C (or SIGTERM).
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let cfg = args.to_config()?;
    let sim = Sim::start(cfg).await?;
    println!("kubestate sim serving on {}", sim.base_url());
    println!(
        "admin endpoint: {}/faults, /world, /stats, /apply, /delete, /churn",
        sim.admin_url()
    );
    if let Some(p) = &args.write_kubeconfig {
        sim.write_kubeconfig(p)
            .with_context(|| format!("cannot write kubeconfig {}", p.display()))?;
        println!("kubeconfig written to {}", p.display());
    }
    wait_for_signal().await;
    info!("shutting down");
    sim.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimArgs,
    }

    fn parse(argv: &[&str]) -> Result<SimConfig, String> {
        use clap::Parser;
        let cli = Cli::try_parse_from(std::iter::once("sim").chain(argv.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.args.to_config().map_err(|e| e.to_string())
    }

    #[test]
    fn cli_flags_build_the_config() {
        let c = parse(&[]).unwrap();
        assert_eq!((c.host.as_str(), c.port, c.tls), ("127.0.0.1", 6443, false));
        assert_eq!(c.world, WorldSource::Empty);
        let c = parse(&[
            "--preset", "large", "--seed", "3", "--churn", "5", "--port", "0", "--tls",
        ])
        .unwrap();
        assert_eq!(
            c.world,
            WorldSource::Synthesize(SynthSpec::preset("large").unwrap())
        );
        assert_eq!((c.seed, c.churn_per_sec, c.port, c.tls), (3, 5.0, 0, true));
        let c = parse(&["--pods", "100", "--nodes", "7"]).unwrap();
        assert_eq!(
            c.world,
            WorldSource::Synthesize(SynthSpec {
                nodes: 7,
                namespaces: 4,
                pods: 100
            })
        );
        let c = parse(&[
            "--world",
            "/x.json",
            "--bookmark-interval",
            "500ms",
            "--continue-ttl",
            "2m",
        ])
        .unwrap();
        assert_eq!(c.world, WorldSource::File("/x.json".into()));
        assert_eq!(c.bookmark_interval, Duration::from_millis(500));
        assert_eq!(c.continue_ttl, Duration::from_secs(120));
        let c = parse(&[
            "--fault-throttle",
            "0.25",
            "--fault-retry-after",
            "4",
            "--fault-error-rate",
            "0.1",
            "--fault-latency",
            "20ms",
            "--fault-gone-next-watches",
            "2",
            "--fault-cut-next-streams",
            "3",
            "--fault-malformed-next",
            "1",
            "--fault-watch-drop-rate",
            "0.5",
        ])
        .unwrap();
        assert_eq!(
            c.faults,
            FaultConfig {
                watch_drop_per_sec: 0.5,
                throttle_fraction: 0.25,
                retry_after_secs: 4,
                error_fraction: 0.1,
                latency_ms: 20,
                gone_next_watches: 2,
                cut_next_streams: 3,
                malformed_next: 1,
            }
        );
        assert!(parse(&["--fault-throttle", "2"]).is_err());
        assert!(parse(&["--world", "a.json", "--preset", "small"]).is_err());
        assert!(parse(&["--preset", "huge"]).is_err());
        assert!(parse(&["--churn", "-1"]).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn kubeconfig_mentions_server_and_tls() {
        let k = kubeconfig_yaml("https://127.0.0.1:1234", true);
        assert!(k.contains("server: https://127.0.0.1:1234\n"));
        assert!(k.contains("insecure-skip-tls-verify: true"));
        assert!(!kubeconfig_yaml("http://x", false).contains("insecure"));
    }

    #[test]
    fn bad_world_file_names_file_and_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.json");
        std::fs::write(
            &p,
            "{\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}]}",
        )
        .unwrap();
        let mut w = World::new(10, 1);
        let e = format!("{:#}", load_file(&p, &mut w).unwrap_err());
        assert!(
            e.contains("w.json") && e.contains("item 0") && e.contains("namespace"),
            "{e}"
        );
        std::fs::write(&p, "{\"items\":[{\"apiVersion\":\"x/v1\",\"kind\":\"Nope\",\"metadata\":{\"name\":\"a\"}}]}").unwrap();
        let e = format!("{:#}", load_file(&p, &mut World::new(10, 1)).unwrap_err());
        assert!(e.contains("unknown resource type"), "{e}");
        std::fs::write(&p, "[1,2]").unwrap();
        let e = format!("{:#}", load_file(&p, &mut World::new(10, 1)).unwrap_err());
        assert!(e.contains("items"), "{e}");
        let e = format!(
            "{:#}",
            load_file(&dir.path().join("missing.json"), &mut World::new(10, 1)).unwrap_err()
        );
        assert!(e.contains("missing.json"), "{e}");
    }
}
