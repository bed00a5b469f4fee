//! Custom Resource State in the engine (ksm-behaviour.md §8.3): CRD discovery, one store per
//! custom resource the configuration resolves to, started and stopped as CRDs come and go,
//! and all of them replaced when the configuration file changes.
//!
//! Unlike kube-state-metrics, which rebuilds every store (built-in ones included, with a
//! full relist) whenever the set of CRDs changes, only the custom resources a change affects
//! are started or stopped; built-in stores are never touched.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kubestate_customstate::{
    CustomConfig, CustomGenerator, EvalProblem, GroupVersionKind, ProblemHook, ResolvedResource,
};
use kubestate_families::{FamilyFilter, Generator};
use kubestate_store::{ObjectSink, SinkFactory, StoreInfo};
use kubestate_watch::{Event, Handler, RequestKind, Target};
use parking_lot::Mutex;
use serde::Deserialize;
use tokio::task::JoinHandle;
use tracing::{debug, error, info, trace, warn};

use crate::config::ConfigError;
use crate::feed::Feed;
use crate::telemetry::{CrdEvent, ReadinessHold, StoreStats, Telemetry};
use crate::{Engine, Sharding};

/// The `type` label of the reload gauges of the custom-resource-state file.
pub const CONFIG_KIND: &str = "customresourceconfig";
/// How KSM labels the watched type of every custom resource in its list/watch counters.
const GO_TYPE: &str = "*unstructured.Unstructured";
/// How often the configuration file is checked for changes.
const FILE_POLL: Duration = Duration::from_secs(2);
/// How often a change of this instance's shard (automatic sharding) is looked for.
const SHARD_POLL: Duration = Duration::from_secs(1);
/// At most one evaluation problem is logged per family in this window.
const PROBLEM_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The custom resources of a running engine: discovers CRDs, keeps one store (or one per
/// `--namespaces` entry) per configured custom resource the cluster serves, and reloads the
/// configuration file when it changes. Dropping it stops everything it started.
pub struct CustomResources {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

struct Shared {
    client: kube::Client,
    sinks: Arc<dyn SinkFactory>,
    telemetry: Arc<Telemetry>,
    namespaces: Vec<String>,
    field_selector: Option<String>,
    families: FamilyFilter,
    watch: kubestate_watch::Options,
    problems: ProblemHook,
    state: Mutex<State>,
}

struct State {
    config: Option<Arc<CustomConfig>>,
    /// Bumped by every configuration change: stores of older generations are replaced.
    generation: u64,
    /// Served versions per CRD name, as last seen.
    crds: BTreeMap<String, Vec<Served>>,
    /// The CRD list/watch, once a configuration exists.
    discovery: Option<JoinHandle<()>>,
    /// Running custom resources by GVR string.
    running: BTreeMap<String, RunningResource>,
    /// Fully specified GVKs already reported as not served.
    missing_warned: HashSet<GroupVersionKind>,
    sharding: Sharding,
    /// Held until the first CRD list has been turned into stores.
    startup: Option<ReadinessHold>,
}

/// One served version of a CRD.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Served {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
}

/// What a running custom resource was started for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Want {
    generation: u64,
    /// Position of the configured resource.
    index: usize,
    target: ResolvedResource,
    namespaced: bool,
}

struct RunningResource {
    want: Want,
    generator: Arc<dyn Generator>,
    stores: Vec<RunningStore>,
}

struct RunningStore {
    info: StoreInfo,
    target: Target,
    sink: Arc<dyn ObjectSink>,
    stats: Arc<StoreStats>,
    task: JoinHandle<()>,
}

impl CustomResources {
    /// Starts custom resource discovery for `engine`'s configuration on the current tokio
    /// runtime, creating stores through `sinks` (the same factory the engine's built-in
    /// stores came from, owned so stores can come and go). `None` when the configuration
    /// has no custom resource state. Readiness waits for the first CRD list and the initial
    /// sync of the custom resources it yields.
    ///
    /// # Errors
    /// An invalid `--metric-allowlist`/`--metric-denylist` pattern.
    pub fn start(
        engine: &Engine,
        client: kube::Client,
        sinks: Arc<dyn SinkFactory>,
    ) -> Result<Option<CustomResources>, ConfigError> {
        let config = engine.config();
        if config.custom_resources.is_none() && config.custom_resources_file.is_none() {
            return Ok(None);
        }
        let telemetry = engine.telemetry().clone();
        let mut initial = config.custom_resources.clone();
        let file = config
            .custom_resources_file
            .as_deref()
            .map(|p| FileWatch::open(p, &telemetry, &mut initial));
        let shared = Arc::new(Shared {
            client,
            sinks,
            namespaces: config.namespaces.clone(),
            field_selector: config.field_selector(),
            families: FamilyFilter::new(&config.metric_allowlist, &config.metric_denylist, &[])?,
            watch: engine.watch_options(),
            problems: problem_logger(),
            state: Mutex::new(State {
                startup: initial.as_ref().map(|_| telemetry.hold_readiness()),
                config: initial,
                generation: 0,
                crds: BTreeMap::new(),
                discovery: None,
                running: BTreeMap::new(),
                missing_warned: HashSet::new(),
                sharding: telemetry.sharding(),
            }),
            telemetry,
        });
        {
            let mut st = shared.state.lock();
            shared.ensure_discovery(&mut st);
        }
        let mut tasks = vec![tokio::spawn(follow_sharding(shared.clone()))];
        if let Some(mut file) = file {
            let s = shared.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(FILE_POLL).await;
                    file.check(&s);
                }
            }));
        }
        Ok(Some(CustomResources { shared, tasks }))
    }

    /// Replaces the configuration: every custom resource store is stopped and the new
    /// configuration's resources are started (built-in stores are untouched).
    pub fn reload(&self, config: Arc<CustomConfig>) {
        self.shared.reload(config);
    }

    /// The GVR strings (`group/version, Resource=plural`) of the custom resources currently
    /// exposed, sorted.
    pub fn resources(&self) -> Vec<String> {
        self.shared.state.lock().running.keys().cloned().collect()
    }

    /// Number of CRDs discovery currently knows.
    pub fn crds(&self) -> usize {
        self.shared.state.lock().crds.len()
    }
}

impl Drop for CustomResources {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        let mut st = self.shared.state.lock();
        if let Some(d) = st.discovery.take() {
            d.abort();
        }
        for r in st.running.values() {
            for s in &r.stores {
                s.task.abort();
            }
        }
    }
}

impl Shared {
    fn reload(self: &Arc<Self>, config: Arc<CustomConfig>) {
        let mut st = self.state.lock();
        st.config = Some(config);
        st.generation += 1;
        st.missing_warned.clear();
        self.ensure_discovery(&mut st);
        self.reconcile(&mut st);
    }

    /// Starts the CRD list/watch once there is a configuration to resolve.
    fn ensure_discovery(self: &Arc<Self>, st: &mut State) {
        if st.discovery.is_some() || st.config.is_none() {
            return;
        }
        let target = Target {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            plural: "customresourcedefinitions".into(),
            namespace: None,
            field_selector: None,
            label_selector: None,
        };
        let mut handler = CrdWatch {
            shared: self.clone(),
            listing: None,
            failures: 0,
        };
        let client = self.client.clone();
        let opts = self.watch.clone();
        info!("custom resource state: discovering CRDs");
        st.discovery = Some(tokio::spawn(async move {
            kubestate_watch::run(&client, &target, &opts, &mut handler).await;
        }));
    }

    /// A full CRD list arrived: the complete set of CRDs.
    fn replace_crds(&self, listed: BTreeMap<String, Vec<Served>>) {
        let mut st = self.state.lock();
        for name in listed.keys() {
            let ev = if st.crds.contains_key(name) {
                CrdEvent::Update
            } else {
                CrdEvent::Add
            };
            self.telemetry.crd_event(ev);
        }
        for name in st.crds.keys().filter(|n| !listed.contains_key(*n)) {
            debug!(crd = %name, "CRD gone after relist");
            self.telemetry.crd_event(CrdEvent::Delete);
        }
        st.crds = listed;
        self.telemetry.set_crd_cache(st.crds.len());
        self.reconcile(&mut st);
        if st.startup.take().is_some() {
            info!(
                crds = st.crds.len(),
                custom_resources = st.running.len(),
                "custom resource state: initial CRD list done"
            );
        }
    }

    fn apply_crd(&self, name: String, served: Vec<Served>) {
        let mut st = self.state.lock();
        let ev = if st.crds.contains_key(&name) {
            CrdEvent::Update
        } else {
            CrdEvent::Add
        };
        self.telemetry.crd_event(ev);
        if st.crds.get(&name) == Some(&served) {
            // Schema or status changes: nothing to resolve differently.
            return;
        }
        debug!(crd = %name, versions = served.len(), "CRD changed");
        st.crds.insert(name, served);
        self.telemetry.set_crd_cache(st.crds.len());
        self.reconcile(&mut st);
    }

    fn delete_crd(&self, name: &str) {
        let mut st = self.state.lock();
        self.telemetry.crd_event(CrdEvent::Delete);
        if st.crds.remove(name).is_some() {
            debug!(crd = %name, "CRD deleted");
            self.telemetry.set_crd_cache(st.crds.len());
            self.reconcile(&mut st);
        }
    }

    /// Makes the running custom resources what the configuration resolves to now: stops
    /// those that no longer resolve (or resolve differently), starts the new ones.
    fn reconcile(&self, st: &mut State) {
        let desired = self.desired(st);
        let stale: Vec<String> = st
            .running
            .iter()
            .filter(|(k, r)| desired.get(*k) != Some(&r.want))
            .map(|(k, _)| k.clone())
            .collect();
        // Stop before starting, so a replaced resource never has two stores of one name.
        for k in stale {
            if let Some(r) = st.running.remove(&k) {
                self.stop(&k, r);
            }
        }
        let Some(config) = st.config.clone() else {
            return;
        };
        for (gvr, want) in desired {
            if st.running.contains_key(&gvr) {
                continue;
            }
            let r = self.start_resource(&config, &gvr, want, st);
            st.running.insert(gvr, r);
        }
    }

    /// GVR string → what should run for it. A GVR resolved by several configured resources
    /// takes the last one (KSM registers one store per GVR, the last wins).
    fn desired(&self, st: &mut State) -> BTreeMap<String, Want> {
        let mut out = BTreeMap::new();
        let Some(config) = st.config.clone() else {
            return out;
        };
        let index = served_index(&st.crds);
        for (i, r) in config.resources().iter().enumerate() {
            let gvk = r.group_version_kind();
            let resolved = resolve(gvk, &index);
            let specific = is_specific(&gvk.version) && is_specific(&gvk.kind);
            if resolved.is_empty() && specific && !gvk.group.is_empty() && gvk.group != "*" {
                if st.missing_warned.insert(gvk.clone()) {
                    info!(gvk = %gvk, "configured custom resource is not served by the cluster; no metrics for it until a CRD serves it");
                }
            } else if !resolved.is_empty() {
                st.missing_warned.remove(gvk);
            }
            for s in resolved {
                let target = ResolvedResource::new(&s.group, &s.version, &s.kind, &s.plural);
                out.insert(
                    target.gvr_string(),
                    Want {
                        generation: st.generation,
                        index: i,
                        target,
                        namespaced: s.namespaced,
                    },
                );
            }
        }
        out
    }

    fn start_resource(
        &self,
        config: &CustomConfig,
        gvr: &str,
        want: Want,
        st: &State,
    ) -> RunningResource {
        let generator: Arc<dyn Generator> = Arc::new(
            CustomGenerator::new(
                &config.resources()[want.index],
                &want.target,
                &self.families,
            )
            .with_problem_hook(self.problems.clone()),
        );
        let families: Arc<[_]> = generator.families().to_vec().into();
        // Readiness waits only for what exists when the first CRD list is processed.
        let gating = st.startup.is_some();
        let layout: Vec<(Option<String>, usize)> = if want.namespaced && !self.namespaces.is_empty()
        {
            self.namespaces
                .iter()
                .enumerate()
                .map(|(i, ns)| (Some(ns.clone()), i))
                .collect()
        } else {
            vec![(None, 0)]
        };
        let stores = layout
            .into_iter()
            .map(|(namespace, index)| {
                let info = StoreInfo {
                    resource: gvr.to_string(),
                    namespace: namespace.clone(),
                    index,
                    families: families.clone(),
                };
                let sink = self.sinks.create(&info);
                let stats = Arc::new(StoreStats::new(gvr, GO_TYPE.into(), namespace.clone()));
                stats.set_gates_readiness(gating);
                self.telemetry.add(stats.clone());
                let target = Target {
                    group: want.target.group.clone(),
                    version: want.target.version.clone(),
                    plural: want.target.plural.clone(),
                    namespace,
                    // As for built-in kinds, cluster-scoped resources take no field selector.
                    field_selector: if want.namespaced {
                        self.field_selector.clone()
                    } else {
                        None
                    },
                    label_selector: None,
                };
                let task = self.spawn_watch(&target, &generator, &sink, &stats, st.sharding);
                RunningStore {
                    info,
                    target,
                    sink,
                    stats,
                    task,
                }
            })
            .collect::<Vec<_>>();
        info!(
            resource = %gvr,
            families = families.len(),
            stores = stores.len(),
            "custom resource: started"
        );
        RunningResource {
            want,
            generator,
            stores,
        }
    }

    fn spawn_watch(
        &self,
        target: &Target,
        generator: &Arc<dyn Generator>,
        sink: &Arc<dyn ObjectSink>,
        stats: &Arc<StoreStats>,
        sharding: Sharding,
    ) -> JoinHandle<()> {
        let mut feed = Feed::new(
            generator.clone(),
            sink.clone(),
            sharding,
            stats.clone(),
            self.telemetry.clone(),
        );
        let client = self.client.clone();
        let opts = self.watch.clone();
        let target = target.clone();
        tokio::spawn(async move { kubestate_watch::run(&client, &target, &opts, &mut feed).await })
    }

    fn stop(&self, gvr: &str, r: RunningResource) {
        for s in r.stores {
            s.task.abort();
            self.sinks.remove(&s.info);
            self.telemetry.remove(&s.stats);
        }
        info!(resource = %gvr, "custom resource: stopped");
    }
}

/// Restarts the custom resource watches when this instance's shard changes (automatic
/// sharding); each store's next list replaces its contents in one swap.
async fn follow_sharding(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(SHARD_POLL).await;
        let now = shared.telemetry.sharding();
        let mut st = shared.state.lock();
        if now == st.sharding {
            continue;
        }
        st.sharding = now;
        let State { running, .. } = &mut *st;
        for r in running.values_mut() {
            for s in &mut r.stores {
                s.task.abort();
                s.task = shared.spawn_watch(&s.target, &r.generator, &s.sink, &s.stats, now);
            }
        }
        info!(
            shard = now.shard,
            total = now.total,
            "custom resources follow the new shard"
        );
    }
}

/// group → version → served kinds, in CRD-name order, one entry per kind.
type ServedIndex<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Vec<&'a Served>>>;

fn served_index(crds: &BTreeMap<String, Vec<Served>>) -> ServedIndex<'_> {
    let mut index: ServedIndex<'_> = BTreeMap::new();
    for s in crds.values().flatten() {
        let kinds = index
            .entry(s.group.as_str())
            .or_default()
            .entry(s.version.as_str())
            .or_default();
        if !kinds.iter().any(|k| k.kind == s.kind) {
            kinds.push(s);
        }
    }
    index
}

/// `*` and the empty string stand for "any".
fn is_specific(s: &str) -> bool {
    !s.is_empty() && s != "*"
}

/// The served custom resources a configured GVK stands for (KSM's rules: the group is
/// required; a version or kind of `*`/empty matches all).
fn resolve<'a>(gvk: &GroupVersionKind, index: &ServedIndex<'a>) -> Vec<&'a Served> {
    if !is_specific(&gvk.group) {
        return Vec::new();
    }
    let Some(versions) = index.get(gvk.group.as_str()) else {
        return Vec::new();
    };
    versions
        .iter()
        .filter(|(v, _)| !is_specific(&gvk.version) || **v == gvk.version)
        .flat_map(|(_, kinds)| kinds.iter().copied())
        .filter(|s| !is_specific(&gvk.kind) || s.kind == gvk.kind)
        .collect()
}

/// The CRD list/watch handler.
struct CrdWatch {
    shared: Arc<Shared>,
    /// CRDs of a (re)list in progress.
    listing: Option<BTreeMap<String, Vec<Served>>>,
    failures: u64,
}

impl Handler for CrdWatch {
    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::RelistStarted => self.listing = Some(BTreeMap::new()),
            Event::Listed(o) => {
                if let (Some(l), Some((name, served))) = (self.listing.as_mut(), parse_crd(o.bytes))
                {
                    l.insert(name, served);
                }
            }
            Event::RelistDone => {
                let listed = self.listing.take().unwrap_or_default();
                self.shared.replace_crds(listed);
            }
            Event::Applied(o) => {
                if let Some((name, served)) = parse_crd(o.bytes) {
                    self.shared.apply_crd(name, served);
                }
            }
            Event::Deleted(o) => {
                if let Some((name, _)) = parse_crd(o.bytes) {
                    self.shared.delete_crd(&name);
                }
            }
        }
    }

    fn request(&mut self, kind: RequestKind, result: Result<(), &kubestate_watch::Error>) {
        match result {
            Ok(()) => self.failures = 0,
            Err(e) => {
                self.failures += 1;
                // The first failure and then every tenth: discovery retries with backoff.
                if self.failures % 10 == 1 {
                    warn!(error = %e, ?kind, failures = self.failures, "custom resource state: CRD list/watch failed (needs list/watch on customresourcedefinitions.apiextensions.k8s.io)");
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CrdObject {
    metadata: CrdMeta,
    spec: Option<CrdSpec>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CrdMeta {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CrdSpec {
    group: Option<String>,
    names: Option<CrdNames>,
    scope: String,
    versions: Option<Vec<CrdVersion>>,
}

/// One entry of `spec.versions`; its schema is skipped unread.
#[derive(Deserialize, Default)]
#[serde(default)]
struct CrdVersion {
    name: Option<serde_json::Value>,
    served: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CrdNames {
    kind: Option<String>,
    plural: Option<String>,
}

/// A CRD's name and served versions (none when the object lacks what is needed, as KSM
/// skips such CRDs). `None` only when it is not an object at all.
fn parse_crd(json: &[u8]) -> Option<(String, Vec<Served>)> {
    let crd: CrdObject = match serde_json::from_slice(json) {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "custom resource state: skipping an undecodable CRD");
            return None;
        }
    };
    let name = crd.metadata.name;
    let usable = crd.spec.and_then(|spec| {
        let group = spec.group?;
        let names = spec.names?;
        Some((
            group,
            names.kind?,
            names.plural?,
            spec.versions?,
            spec.scope != "Cluster",
        ))
    });
    let Some((group, kind, plural, versions, namespaced)) = usable else {
        warn!(crd = %name, "custom resource state: CRD lacks spec.group, spec.names or spec.versions; skipped");
        return Some((name, Vec::new()));
    };
    let served = versions
        .iter()
        .filter_map(|v| {
            let version = v.name.as_ref()?.as_str()?;
            // `served` is required; absent counts as served, a non-boolean as not.
            let served = v
                .served
                .as_ref()
                .map_or(Some(true), serde_json::Value::as_bool);
            (served == Some(true)).then(|| Served {
                group: group.clone(),
                version: version.to_string(),
                kind: kind.clone(),
                plural: plural.clone(),
                namespaced,
            })
        })
        .collect();
    Some((name, served))
}

/// Logs evaluation problems at the level the metric's `errorLogV` asks for (0 → warn,
/// 1 → info, 2-4 → debug, more → trace), at most one line per family every 10 s with the
/// number of problems left unlogged.
fn problem_logger() -> ProblemHook {
    let last: Mutex<HashMap<String, (Instant, u64)>> = Mutex::new(HashMap::new());
    Arc::new(move |p: &EvalProblem<'_>| {
        let now = Instant::now();
        let suppressed = {
            let mut m = last.lock();
            match m.get_mut(p.family) {
                Some((t, n)) if now.duration_since(*t) < PROBLEM_LOG_INTERVAL => {
                    *n += 1;
                    return;
                }
                Some((t, n)) => {
                    *t = now;
                    std::mem::take(n)
                }
                None => {
                    m.insert(p.family.to_string(), (now, 0));
                    0
                }
            }
        };
        let (family, ns, name, msg) = (p.family, p.namespace, p.name, p.message);
        match p.error_log_v {
            i32::MIN..=0 => {
                warn!(
                    family,
                    namespace = ns,
                    name,
                    suppressed,
                    "custom resource metric: {msg}"
                )
            }
            1 => info!(
                family,
                namespace = ns,
                name,
                suppressed,
                "custom resource metric: {msg}"
            ),
            2..=4 => {
                debug!(
                    family,
                    namespace = ns,
                    name,
                    suppressed,
                    "custom resource metric: {msg}"
                )
            }
            _ => trace!(
                family,
                namespace = ns,
                name,
                suppressed,
                "custom resource metric: {msg}"
            ),
        }
    })
}

/// The custom-resource-state file, polled for changes.
struct FileWatch {
    path: PathBuf,
    /// The `filename` label: the path cleaned as Go's `filepath.Clean` does.
    label: String,
    /// The contents last acted on.
    last: Option<Vec<u8>>,
    /// What was last said about the file not being readable, to say it once.
    unreadable: Option<String>,
}

impl FileWatch {
    /// Reads the file once at startup: its configuration (when valid) becomes `initial`.
    fn open(path: &Path, telemetry: &Telemetry, initial: &mut Option<Arc<CustomConfig>>) -> Self {
        let mut w = FileWatch {
            path: path.to_path_buf(),
            label: go_clean(&path.to_string_lossy()),
            last: None,
            unreadable: None,
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                match parse(&bytes) {
                    Ok(config) => {
                        telemetry.set_config_status(
                            CONFIG_KIND,
                            &w.label,
                            Some(config_hash(&bytes)),
                        );
                        *initial = Some(Arc::new(config.config));
                    }
                    Err(e) => {
                        error!(file = %w.label, error = %e, "invalid custom resource state configuration");
                        telemetry.set_config_status(CONFIG_KIND, &w.label, None);
                    }
                }
                w.last = Some(bytes);
            }
            Err(e) => {
                info!(file = %w.label, error = %e, "custom resource state file not readable yet; it is checked every 2 s");
                w.unreadable = Some(e.to_string());
            }
        }
        w
    }

    /// Acts on a change of the file: a valid new configuration replaces the custom
    /// resource stores; an invalid one is reported and the running configuration kept.
    fn check(&mut self, shared: &Arc<Shared>) {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) => {
                let msg = e.to_string();
                if self.unreadable.as_deref() != Some(msg.as_str()) {
                    warn!(file = %self.label, error = %msg, "custom resource state file not readable; keeping the current configuration");
                    self.unreadable = Some(msg);
                }
                return;
            }
        };
        self.unreadable = None;
        if self.last.as_deref() == Some(bytes.as_slice()) {
            return;
        }
        match parse(&bytes) {
            Ok(parsed) => {
                for w in &parsed.warnings {
                    warn!(file = %self.label, "custom resource state configuration: {w}");
                }
                shared.telemetry.set_config_status(
                    CONFIG_KIND,
                    &self.label,
                    Some(config_hash(&bytes)),
                );
                info!(file = %self.label, resources = parsed.config.resources().len(), "custom resource state configuration loaded; replacing custom resource stores");
                shared.reload(Arc::new(parsed.config));
            }
            Err(e) => {
                error!(file = %self.label, error = %e, "invalid custom resource state configuration; keeping the previous one");
                shared
                    .telemetry
                    .set_config_status(CONFIG_KIND, &self.label, None);
            }
        }
        self.last = Some(bytes);
    }
}

fn parse(
    bytes: &[u8],
) -> Result<kubestate_customstate::ParsedConfig, kubestate_customstate::CustomConfigError>
{
    let text = String::from_utf8_lossy(bytes);
    CustomConfig::parse(&text)
}

/// KSM's configuration hash: the first 6 bytes of the MD5 of the file, read as a
/// little-endian integer (exact in a float64).
pub fn config_hash(data: &[u8]) -> f64 {
    use md5::{Digest, Md5};
    let sum = Md5::digest(data);
    let mut buf = [0u8; 8];
    buf[..6].copy_from_slice(&sum[..6]);
    u64::from_le_bytes(buf) as f64
}

/// Go's `filepath.Clean` on a Unix path: one slash between elements, no `.` elements, `..`
/// resolved where possible, `.` for an empty result.
fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(group: &str, version: &str, kind: &str) -> Served {
        Served {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
            namespaced: true,
        }
    }

    fn gvk(g: &str, v: &str, k: &str) -> GroupVersionKind {
        GroupVersionKind {
            group: g.into(),
            version: v.into(),
            kind: k.into(),
        }
    }

    #[test]
    fn resolution_follows_ksm_wildcards() {
        let mut crds = BTreeMap::new();
        crds.insert(
            "widgets.a.io".to_string(),
            vec![
                served("a.io", "v1", "Widget"),
                served("a.io", "v2", "Widget"),
            ],
        );
        crds.insert(
            "gadgets.a.io".to_string(),
            vec![served("a.io", "v1", "Gadget")],
        );
        crds.insert(
            "others.b.io".to_string(),
            vec![served("b.io", "v1", "Other")],
        );
        let index = served_index(&crds);
        let names = |g: GroupVersionKind| -> Vec<String> {
            resolve(&g, &index)
                .iter()
                .map(|s| format!("{}/{}/{}", s.group, s.version, s.kind))
                .collect()
        };
        assert_eq!(names(gvk("a.io", "v1", "Widget")), vec!["a.io/v1/Widget"]);
        assert_eq!(names(gvk("a.io", "v3", "Widget")), Vec::<String>::new());
        assert_eq!(
            names(gvk("a.io", "*", "Widget")),
            vec!["a.io/v1/Widget", "a.io/v2/Widget"]
        );
        assert_eq!(
            names(gvk("a.io", "v1", "")),
            vec!["a.io/v1/Gadget", "a.io/v1/Widget"]
        );
        assert_eq!(names(gvk("a.io", "", "*")).len(), 3);
        assert!(names(gvk("*", "v1", "Other")).is_empty());
        assert!(names(gvk("", "", "")).is_empty());
    }

    #[test]
    fn crds_yield_their_served_versions() {
        let crd = br#"{"metadata":{"name":"widgets.a.io"},"spec":{"group":"a.io","scope":"Cluster",
            "names":{"kind":"Widget","plural":"widgets"},
            "versions":[{"name":"v1","served":true},{"name":"v2","served":false},{"name":"v3"},{"name":"v4","served":"yes"}]}}"#;
        let (name, s) = parse_crd(crd).unwrap();
        assert_eq!(name, "widgets.a.io");
        let versions: Vec<&str> = s.iter().map(|x| x.version.as_str()).collect();
        assert_eq!(versions, vec!["v1", "v3"]);
        assert!(!s[0].namespaced && s[0].plural == "widgets");
        let (_, none) = parse_crd(br#"{"metadata":{"name":"x"},"spec":{"group":"a"}}"#).unwrap();
        assert!(none.is_empty());
        assert!(parse_crd(b"\"text\"").is_none());
        assert!(parse_crd(b"{").is_none());
    }

    #[test]
    fn config_hash_is_ksms() {
        // md5("") = d41d8cd98f00…, md5("abc") = 900150983cd2…: first 6 bytes, little-endian.
        assert_eq!(config_hash(b""), 0x008f_d98c_1dd4_u64 as f64);
        assert_eq!(config_hash(b"abc"), 0xd23c_9850_0190_u64 as f64);
    }

    #[test]
    fn paths_are_cleaned_like_go() {
        assert_eq!(go_clean("/etc//ksm/./crs.yaml"), "/etc/ksm/crs.yaml");
        assert_eq!(go_clean("a/b/../c/"), "a/c");
        assert_eq!(go_clean("../x"), "../x");
        assert_eq!(go_clean("/../x"), "/x");
        assert_eq!(go_clean(""), ".");
    }
}
