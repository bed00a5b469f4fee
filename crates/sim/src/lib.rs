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
//! * [`StartError`] — why a simulator could not start.
//!
//! The `kubestate sim` command line lives in the `kubestate` binary; it builds a [`SimConfig`],
//! calls [`Sim::start`], writes [`SimHandle::kubeconfig_yaml`] where asked and serves until
//! stopped.
//!
//! The same controls are available over HTTP under `/_sim/` on the API port (see
//! `docs/sim.md`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
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

/// Why a simulator could not start. Messages name the file, item or address at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The world file cannot be read or holds an object the simulator cannot serve.
    #[error("world file {}: {message}", path.display())]
    WorldFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where in the file.
        message: String,
    },
    /// The synthesized world could not be built.
    #[error("synthesizing the world failed: {0}")]
    Synthesize(String),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// `host:port` asked for.
        addr: String,
        /// The bind error.
        #[source]
        source: std::io::Error,
    },
    /// The self-signed certificate could not be made.
    #[error("cannot create a TLS certificate: {0}")]
    Tls(String),
    /// The task building the world panicked.
    #[error("the world builder panicked")]
    Panicked,
}

/// Load a world file into `w`.
fn load_file(path: &Path, w: &mut World) -> Result<(), StartError> {
    #[derive(serde::Deserialize)]
    struct File<'a> {
        #[serde(borrow)]
        items: Vec<&'a RawValue>,
    }
    let fail = |message: String| StartError::WorldFile {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let file: File<'_> = serde_json::from_str(&text)
        .map_err(|e| fail(format!("not a JSON object with an \"items\" array: {e}")))?;
    let mut parsed = Vec::with_capacity(file.items.len());
    for (i, raw) in file.items.iter().enumerate() {
        let bytes = object::minify_json(raw.get());
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| fail(format!("item {i} is not valid JSON: {e}")))?;
        if !v.is_object() {
            return Err(fail(format!("item {i} is not a JSON object")));
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
            .map_err(|e| fail(format!("item {i} ({ident}): {e}")))?;
    }
    w.finish_load();
    Ok(())
}

fn build_world(cfg: &SimConfig) -> Result<World, StartError> {
    let mut w = World::new(cfg.watch_window, cfg.seed);
    match &cfg.world {
        WorldSource::Empty => w.finish_load(),
        WorldSource::File(p) => load_file(p, &mut w)?,
        WorldSource::Synthesize(spec) => synth::synthesize(spec, cfg.seed, &mut w)
            .map_err(|e| StartError::Synthesize(e.to_string()))?,
    }
    Ok(w)
}

impl Sim {
    /// Build the world, bind the listener and start serving in the background on the current
    /// tokio runtime.
    ///
    /// # Errors
    /// A world file that cannot be served, a port that cannot be bound, or a certificate
    /// that cannot be made.
    pub async fn start(cfg: SimConfig) -> Result<SimHandle, StartError> {
        let t0 = Instant::now();
        let cfg2 = cfg.clone();
        let world = tokio::task::spawn_blocking(move || build_world(&cfg2))
            .await
            .map_err(|_| StartError::Panicked)??;
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
        let listen_error = |source| StartError::Listen {
            addr: format!("{}:{}", cfg.host, cfg.port),
            source,
        };
        let listener = tokio::net::TcpListener::bind((cfg.host.as_str(), cfg.port))
            .await
            .map_err(listen_error)?;
        let addr = listener.local_addr().map_err(listen_error)?;
        let tls = if cfg.tls {
            Some(server::self_signed(&cfg.host).map_err(StartError::Tls)?)
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

#[cfg(test)]
mod tests {
    use super::*;

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
