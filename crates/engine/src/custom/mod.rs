//! Custom Resource State in the engine (ksm-behaviour.md §8.3): CRD discovery, one store per
//! custom resource the configuration resolves to, started and stopped as CRDs come and go,
//! and all of them replaced when the configuration file changes.
//!
//! Unlike kube-state-metrics, which rebuilds every store (built-in ones included, with a
//! full relist) whenever the set of CRDs changes, only the custom resources a change affects
//! are started or stopped; built-in stores are never touched.
//!
//! This module keeps the stores' lifecycle ([`CustomResources`]); its parts live beside it:
//! `crd` (the CRD list/watch and CRD decoding), `resolve` (configured GVK → served
//! resources), `file` (the configuration file, polled) and `problems` (rate-limited logging
//! of evaluation problems).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kubestate_customstate::{
    CustomConfig, CustomGenerator, GroupVersionKind, ProblemHook, ResolvedResource,
};
use kubestate_families::{FamilyFilter, Generator};
use kubestate_store::{ObjectStore, StoreFactory, StoreInfo};
use kubestate_watch::Target;
use parking_lot::Mutex;
use tokio::task::JoinHandle;
use tracing::{debug, info};

use crate::config::ConfigError;
use crate::feed::Feed;
use crate::telemetry::{CrdEvent, ReadinessHold, StoreStats, Telemetry};
use crate::{Engine, Sharding};

mod crd;
mod file;
mod problems;
mod resolve;

pub use file::{config_hash, go_clean};

use crd::CrdWatch;
use file::FileWatch;
use problems::problem_logger;
use resolve::{is_specific, resolve, served_index, Served};

/// The `type` label of the reload gauges of the custom-resource-state file.
pub const CONFIG_KIND: &str = "customresourceconfig";
/// How KSM labels the watched type of every custom resource in its list/watch counters.
const GO_TYPE: &str = "*unstructured.Unstructured";
/// How often the configuration file is checked for changes.
const FILE_POLL: Duration = Duration::from_secs(2);
/// How often a change of this instance's shard (automatic sharding) is looked for.
const SHARD_POLL: Duration = Duration::from_secs(1);

/// The custom resources of a running engine: discovers CRDs, keeps one store (or one per
/// `--namespaces` entry) per configured custom resource the cluster serves, and reloads the
/// configuration file when it changes. Dropping it stops everything it started.
pub struct CustomResources {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

struct Shared {
    client: kube::Client,
    factory: Arc<dyn StoreFactory>,
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
    sink: Arc<dyn ObjectStore>,
    stats: Arc<StoreStats>,
    task: JoinHandle<()>,
}

impl CustomResources {
    /// Starts custom resource discovery for `engine`'s configuration on the current tokio
    /// runtime, creating stores through `stores` (the same factory the engine's built-in
    /// stores came from, owned so stores can come and go). `None` when the configuration
    /// has no custom resource state. Readiness waits for the first CRD list and the initial
    /// sync of the custom resources it yields.
    ///
    /// # Errors
    /// An invalid `--metric-allowlist`/`--metric-denylist` pattern.
    pub fn start(
        engine: &Engine,
        client: kube::Client,
        factory: Arc<dyn StoreFactory>,
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
            factory,
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

    /// Stops everything and removes every custom resource store (from the factory, so
    /// readers no longer see them, and from the telemetry): the custom resources are turned
    /// off, or about to start over with other settings. Dropping only stops the tasks.
    pub fn remove(self) {
        for t in &self.tasks {
            t.abort();
        }
        let running = {
            let mut st = self.shared.state.lock();
            if let Some(d) = st.discovery.take() {
                d.abort();
            }
            std::mem::take(&mut st.running)
        };
        for (gvr, r) in running {
            self.shared.stop(&gvr, r);
        }
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
                let sink = self.factory.create(&info);
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
        sink: &Arc<dyn ObjectStore>,
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
            self.factory.remove(&s.info);
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
