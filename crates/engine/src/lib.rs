//! The embeddable kubestate engine: it lists and watches the API server, decodes each object
//! into a slim struct, generates its metric families and hands them to stores.
//!
//! Place in the data flow: API server → watch → decode → families → **engine feeds stores** →
//! readers. This is the library other programs embed: choose kinds, namespaces, filters,
//! allowlists and sharding in a [`Config`], plug in any [`StoreFactory`] (the text store that
//! serves `/metrics`, a structured store for an in-process check, your own), then
//! [`Engine::spawn`] it on a `kube::Client`, or feed it objects yourself with
//! [`Engine::replace_all`].
//!
//! # Brief overview
//!
//! * [`Config`]: KSM's flags as data; [`Config::plan`] validates it without I/O.
//! * [`Engine`]: the stores of a plan, each with its store and counters.
//! * [`Running`]: the watch tasks; dropping it stops them.
//! * [`Engine::reconfigure`]: a new configuration for a running engine, each store doing only
//!   what the change needs (trimmed in place, relisted, restarted, started or stopped), and
//!   [`Live`], an engine with its watches for whoever changes them while they run.
//! * [`Telemetry`]: list/watch counters under KSM's names, sync progress, readiness.
//! * [`Sharding`]: KSM-compatible uid sharding.
//! * Re-exported so an embedder needs only this crate: the store seam ([`ObjectStore`],
//!   [`StoreFactory`], [`StoreInfo`]) and kubestate's stores ([`TextStoreFactory`] with its
//!   [`Exposition`], [`StructuredStoreFactory`] with its [`Snapshot`]), the per-object arena
//!   [`ObjectMetrics`], family descriptors ([`FamilyDesc`]), the kinds ([`resources`]) and
//!   their filters, and [`CustomConfig`].
//!
//! # Example: count series per family with a custom store
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use kubestate_engine::{Config, Engine, ObjectMetrics, ObjectStore, StoreInfo};
//!
//! struct Counter(Arc<AtomicUsize>);
//! impl ObjectStore for Counter {
//!     fn apply(&self, _uid: &str, obj: &ObjectMetrics) {
//!         self.0.fetch_add(obj.sample_count(), Ordering::Relaxed);
//!     }
//!     fn delete(&self, _uid: &str) {}
//! }
//!
//! let total = Arc::new(AtomicUsize::new(0));
//! let t = total.clone();
//! let factory = move |_: &StoreInfo| -> Arc<dyn ObjectStore> { Arc::new(Counter(t.clone())) };
//! let config = Config { resources: vec!["configmaps".into()], ..Config::default() };
//! let engine = Engine::new(&config, &factory).unwrap();
//! let cm = br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"b","uid":"u","resourceVersion":"3"}}"#;
//! engine.replace_all([&cm[..]]);
//! assert_eq!(total.load(Ordering::Relaxed), 2); // kube_configmap_info and _metadata_resource_version
//! ```
#![deny(missing_docs)]

use std::sync::Arc;

use serde::Deserialize;
use tokio::task::JoinHandle;
use tracing::info;

pub mod autoshard;
mod config;
mod custom;
mod discovery;
mod feed;
mod reconfigure;
mod shard;
mod telemetry;

pub use config::{Config, ConfigError, StorePlan};
pub use custom::{config_hash, go_clean, CustomResources, CONFIG_KIND};
pub use reconfigure::{Live, Reconfigured};
pub use shard::{fnv1a64, jump, Sharding};
pub use telemetry::{StoreCounts, StoreStats, SyncState, Telemetry};

// What an embedder needs, from this one crate: the store seam and kubestate's stores, the
// per-object arena a store reads, family descriptors, the kinds and their filters, and the
// custom-resource-state configuration.
pub use kubestate_customstate::CustomConfig;
pub use kubestate_families::{resource, resources, Allowlist, FamilyFilter, Resource, Selection};
pub use kubestate_metric::{
    FamilyDesc, FamilyView, Format, MetricType, ObjectMetrics, SampleView, Stability,
};
pub use kubestate_store::structured::{self, Selector};
pub use kubestate_store::{
    Exposition, ObjectStore, ResourceFilter, Snapshot, StoreFactory, StoreInfo, StructuredStore,
    StructuredStoreFactory, Tee, TeeFactory, TextStore, TextStoreFactory,
};

use feed::Feed;

/// The stores of a validated configuration, each with its [`ObjectStore`] and counters.
pub struct Engine {
    config: Config,
    stores: Vec<Slot>,
    telemetry: Arc<Telemetry>,
}

/// One store of the engine: what it was planned as, what readers know it by, where its
/// objects go, and its counters.
pub(crate) struct Slot {
    pub(crate) plan: StorePlan,
    pub(crate) info: StoreInfo,
    pub(crate) route: Arc<parking_lot::Mutex<feed::Route>>,
    pub(crate) stats: Arc<StoreStats>,
}

/// How a store is told apart from the others: resource, namespace, position.
pub(crate) type StoreKey = (&'static str, Option<String>, usize);

impl Slot {
    pub(crate) fn key(&self) -> StoreKey {
        plan_key(&self.plan)
    }
}

pub(crate) fn plan_key(p: &StorePlan) -> StoreKey {
    (p.resource.name(), p.namespace.clone(), p.index)
}

/// What readers of the store of `p` are told about it.
pub(crate) fn store_info(p: &StorePlan) -> StoreInfo {
    StoreInfo {
        resource: p.resource.name().to_string(),
        namespace: p.namespace.clone(),
        index: p.index,
        families: p.generator.families().to_vec().into(),
    }
}

impl Engine {
    /// Validates `config` and creates the [`ObjectStore`] of each store through `factory`.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn new(config: &Config, factory: &dyn StoreFactory) -> Result<Engine, ConfigError> {
        let plan = config.plan()?;
        let telemetry = Arc::new(Telemetry::default());
        telemetry.set_sharding(config.sharding);
        let mut engine = Engine {
            config: config.clone(),
            stores: Vec::new(),
            telemetry,
        };
        engine.stores = plan
            .into_iter()
            .map(|p| engine.create_slot(p, factory))
            .collect();
        Ok(engine)
    }

    /// Creates the store of `p` through `factory`, with its counters.
    pub(crate) fn create_slot(&self, p: StorePlan, factory: &dyn StoreFactory) -> Slot {
        let info = store_info(&p);
        let sink = factory.create(&info);
        let stats = Arc::new(StoreStats::new(
            p.resource.name(),
            p.resource.go_type(),
            p.namespace.clone(),
        ));
        self.telemetry.add(stats.clone());
        Slot {
            route: feed::Route::new(p.generator.clone(), sink),
            plan: p,
            info,
            stats,
        }
    }

    /// The configuration the engine was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The planned stores.
    pub fn stores(&self) -> impl Iterator<Item = &StorePlan> {
        self.stores.iter().map(|s| &s.plan)
    }

    /// Counters and readiness.
    pub fn telemetry(&self) -> &Arc<Telemetry> {
        &self.telemetry
    }

    /// Starts one list/watch task per store on the current tokio runtime.
    ///
    /// Build `client` with `default_retry = false`: the watch loop backs off itself (honouring
    /// `Retry-After`) and counts failed requests, which kube's retry layer would otherwise hide.
    pub fn spawn(&self, client: kube::Client) -> Running {
        info!(stores = self.stores.len(), "starting list/watch");
        let discovery = self.config.discovery_interval.map(|interval| {
            let gvs = self
                .stores
                .iter()
                .map(|s| {
                    let api = s.plan.resource.api();
                    (api.group.to_string(), api.version.to_string())
                })
                .collect();
            discovery::Discovery::start(client.clone(), gvs, interval)
        });
        let mut running = Running {
            watches: Vec::new(),
            others: Vec::new(),
            client,
            discovery: discovery.as_ref().map(|(d, _)| d.clone()),
        };
        for slot in &self.stores {
            running.start(self, slot);
        }
        running.others.extend(discovery.map(|(_, task)| task));
        running
    }

    /// The list/watch task of `slot`.
    fn spawn_slot(
        &self,
        slot: &Slot,
        client: &kube::Client,
        discovery: Option<Arc<discovery::Discovery>>,
    ) -> JoinHandle<()> {
        // Built-in kinds only: protobuf when configured (custom resources stay JSON).
        let opts = kubestate_watch::Options {
            protobuf: self.config.protobuf,
            ..self.watch_options()
        };
        let plan = &slot.plan;
        let api = plan.resource.api();
        let target = kubestate_watch::Target {
            group: api.group.to_string(),
            version: api.version.to_string(),
            plural: plan.resource.name().to_string(),
            namespace: plan.namespace.clone(),
            field_selector: plan.field_selector.clone(),
            label_selector: None,
        };
        let mut feed = Feed::routed(
            slot.route.clone(),
            self.config.sharding,
            slot.stats.clone(),
            self.telemetry.clone(),
        );
        let client = client.clone();
        let (stats, telemetry) = (slot.stats.clone(), self.telemetry.clone());
        tokio::spawn(async move {
            if let Some(d) = discovery {
                d.wait_served(
                    &target.group,
                    &target.version,
                    &target.plural,
                    &stats,
                    &telemetry,
                )
                .await;
            }
            kubestate_watch::run(&client, &target, &opts, &mut feed).await
        })
    }

    /// How list/watch requests are made (page size, watch-list, API server cache, limit).
    pub(crate) fn watch_options(&self) -> kubestate_watch::Options {
        kubestate_watch::Options {
            page_size: self.config.page_size,
            use_apiserver_cache: self.config.use_apiserver_cache,
            object_limit: (self.config.object_limit > 0).then_some(self.config.object_limit),
            watch_list: self.config.watch_list,
            ..kubestate_watch::Options::default()
        }
    }

    /// Changes this instance's shard. Takes effect at the next [`Engine::spawn`]: each store's
    /// first list then replaces its contents in one swap, so scrapes move from the old share of
    /// objects to the new one without a gap.
    pub fn set_sharding(&mut self, sharding: Sharding) {
        self.config.sharding = sharding;
        self.telemetry.set_sharding(sharding);
    }

    /// Replaces the contents of every store with `objects` (JSON objects carrying `kind` and
    /// `apiVersion`, as in a list or a world file), applying the same namespace, node and shard
    /// selection a watch would. Objects of kinds the engine does not expose are ignored;
    /// malformed ones are skipped and counted.
    pub fn replace_all<'a>(&self, objects: impl IntoIterator<Item = &'a [u8]>) {
        let mut feeds: Vec<(&StorePlan, Feed)> = self
            .stores
            .iter()
            .map(|s| {
                let feed = Feed::routed(
                    s.route.clone(),
                    self.config.sharding,
                    s.stats.clone(),
                    self.telemetry.clone(),
                );
                (&s.plan, feed)
            })
            .collect();
        for (_, f) in &mut feeds {
            f.relist_started();
        }
        for json in objects {
            let Ok(head) = serde_json::from_slice::<Head<'_>>(json) else {
                continue;
            };
            let group = head.api_version.rsplit_once('/').map_or("", |(g, _)| g);
            for (_, f) in feeds.iter_mut().filter(|(p, _)| {
                p.resource.kind() == head.kind
                    && p.resource.api().group == group
                    && self.admits(p, &head)
            }) {
                f.stats
                    .listed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                f.upsert(json, kubestate_families::Encoding::Json);
            }
        }
        for (_, f) in &mut feeds {
            f.relist_done();
        }
    }

    /// What a server would have selected for `plan` (namespace path and field selector).
    fn admits(&self, plan: &StorePlan, head: &Head<'_>) -> bool {
        let ns = &*head.metadata.namespace;
        if let Some(want) = &plan.namespace {
            if ns != want {
                return false;
            }
        }
        if plan.field_selector.is_none() {
            return true;
        }
        if self.config.namespaces_denylist.iter().any(|d| d == ns) {
            return false;
        }
        let node = head.spec.node_name.as_deref().unwrap_or("");
        if self.config.track_unscheduled_pods {
            return node.is_empty();
        }
        self.config.node.as_deref().is_none_or(|n| n == node)
    }
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow, default, rename = "apiVersion")]
    api_version: std::borrow::Cow<'a, str>,
    #[serde(default)]
    metadata: kubestate_objects::MetaHead,
    #[serde(default)]
    spec: HeadSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct HeadSpec {
    node_name: Option<String>,
}

/// The watch tasks of a running engine; dropping this stops them.
pub struct Running {
    /// One list/watch per store.
    watches: Vec<(StoreKey, JoinHandle<()>)>,
    /// API discovery.
    others: Vec<JoinHandle<()>>,
    client: kube::Client,
    discovery: Option<Arc<discovery::Discovery>>,
}

impl Running {
    /// Stops every task.
    pub fn shutdown(self) {}

    /// Starts (or restarts) the list/watch of `slot`.
    pub(crate) fn start(&mut self, engine: &Engine, slot: &Slot) {
        self.stop(&slot.key());
        let task = engine.spawn_slot(slot, &self.client, self.discovery.clone());
        self.watches.push((slot.key(), task));
    }

    /// Stops the list/watch of the store `key`, if it runs.
    pub(crate) fn stop(&mut self, key: &StoreKey) {
        self.watches.retain(|(k, t)| {
            if k == key {
                t.abort();
            }
            k != key
        });
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for (_, t) in &self.watches {
            t.abort();
        }
        for t in &self.others {
            t.abort();
        }
    }
}
