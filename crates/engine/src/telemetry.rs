//! Self-telemetry of the engine: KSM's `kube_state_metrics_*` list/watch counters under the
//! same names and label values, plus kubestate's own sync progress.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use kubestate_metric::{write_header as header, write_sample as sample};
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::shard::Sharding;

/// Counters of one store.
#[derive(Debug)]
pub struct StoreStats {
    /// Resource name.
    pub resource: String,
    /// Go type string of the resource as KSM labels it (`*v1.Pod`).
    pub go_type: String,
    /// Namespace of a per-namespace store.
    pub namespace: Option<String>,
    list_ok: AtomicU64,
    list_err: AtomicU64,
    watch_ok: AtomicU64,
    watch_err: AtomicU64,
    pub(crate) applied: AtomicU64,
    pub(crate) deleted: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) malformed_quantities: AtomicU64,
    pub(crate) listed: AtomicU64,
    synced: AtomicBool,
    sync_seconds: AtomicU64,
    started: Instant,
    /// Whether readiness waits for this store's initial sync.
    gates_readiness: AtomicBool,
    /// The [`SyncState`], as its index in [`SyncState::ALL`].
    state: AtomicU8,
    /// Events of watch streams that could not be decoded (the stream was relisted).
    undecodable: AtomicU64,
    /// The store has been settled once: readiness stops waiting for it for good, so a
    /// resource that comes back from 403 (syncing again) does not make a ready exporter
    /// unready.
    settled_once: AtomicBool,
}

/// Where a store stands with the API server: the readiness policy's input.
///
/// The exporter is ready once every store is [`Synced`](SyncState::Synced) or has failed in a
/// way retrying will not fix soon ([`Forbidden`](SyncState::Forbidden),
/// [`NotFound`](SyncState::NotFound), [`NotServed`](SyncState::NotServed)); those keep being
/// retried with backoff and become `Synced` once the permission or the API appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// The initial list has not completed yet (or is being retried after transient errors).
    Syncing,
    /// The initial list completed; the store follows the watch.
    Synced,
    /// The API server answered 401/403: an RBAC rule is missing.
    Forbidden,
    /// The API server answered 404: it does not serve the resource.
    NotFound,
    /// API discovery does not list the resource: no request is made until it does.
    NotServed,
}

impl SyncState {
    /// Every state, in the order the telemetry gauge writes them.
    pub const ALL: [SyncState; 5] = [
        SyncState::Synced,
        SyncState::Syncing,
        SyncState::Forbidden,
        SyncState::NotFound,
        SyncState::NotServed,
    ];

    /// The `state` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Synced => "synced",
            SyncState::Syncing => "syncing",
            SyncState::Forbidden => "forbidden",
            SyncState::NotFound => "not_found",
            SyncState::NotServed => "not_served",
        }
    }

    /// Whether readiness may go ahead without this store.
    pub fn settled(self) -> bool {
        self != SyncState::Syncing
    }

    fn index(self) -> u8 {
        SyncState::ALL.iter().position(|s| *s == self).unwrap_or(0) as u8
    }

    /// When several stores of one resource differ, the one to show: problems first.
    fn severity(self) -> u8 {
        match self {
            SyncState::Synced => 0,
            SyncState::NotServed => 1,
            SyncState::Syncing => 2,
            SyncState::NotFound => 3,
            SyncState::Forbidden => 4,
        }
    }
}

impl StoreStats {
    pub(crate) fn new(resource: &str, go_type: String, namespace: Option<String>) -> StoreStats {
        StoreStats {
            resource: resource.to_string(),
            go_type,
            namespace,
            list_ok: AtomicU64::new(0),
            list_err: AtomicU64::new(0),
            watch_ok: AtomicU64::new(0),
            watch_err: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            deleted: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            malformed_quantities: AtomicU64::new(0),
            listed: AtomicU64::new(0),
            synced: AtomicBool::new(false),
            sync_seconds: AtomicU64::new(0),
            started: Instant::now(),
            gates_readiness: AtomicBool::new(true),
            state: AtomicU8::new(SyncState::Syncing.index()),
            undecodable: AtomicU64::new(0),
            settled_once: AtomicBool::new(false),
        }
    }

    /// Where the store stands (see [`SyncState`]).
    pub fn state(&self) -> SyncState {
        SyncState::ALL
            .get(usize::from(self.state.load(Ordering::Acquire)))
            .copied()
            .unwrap_or(SyncState::Syncing)
    }

    /// Sets the state; returns whether it changed.
    pub(crate) fn set_state(&self, s: SyncState) -> bool {
        if s.settled() {
            self.settled_once.store(true, Ordering::Release);
        }
        self.state.swap(s.index(), Ordering::AcqRel) != s.index()
    }

    /// Counts one undecodable watch event.
    pub(crate) fn count_undecodable(&self) {
        self.undecodable.fetch_add(1, Ordering::Relaxed);
    }

    /// Watch events that could not be decoded.
    pub fn undecodable(&self) -> u64 {
        self.undecodable.load(Ordering::Relaxed)
    }

    /// Lets readiness ignore (or wait for) this store's initial sync: stores added while
    /// running (a custom resource installed later) must not make a ready exporter unready.
    pub(crate) fn set_gates_readiness(&self, gates: bool) {
        self.gates_readiness.store(gates, Ordering::Relaxed);
    }

    pub(crate) fn request(&self, list: bool, ok: bool) {
        let c = match (list, ok) {
            (true, true) => &self.list_ok,
            (true, false) => &self.list_err,
            (false, true) => &self.watch_ok,
            (false, false) => &self.watch_err,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Marks the initial sync done; returns `true` the first time.
    pub(crate) fn mark_synced(&self) -> bool {
        self.set_state(SyncState::Synced);
        if self.synced.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.sync_seconds.store(
            self.started.elapsed().as_secs_f64().to_bits(),
            Ordering::Relaxed,
        );
        true
    }

    /// Whether the initial sync has completed.
    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    /// Seconds from the engine's start to the end of the initial sync.
    pub fn sync_seconds(&self) -> Option<f64> {
        self.is_synced()
            .then(|| f64::from_bits(self.sync_seconds.load(Ordering::Relaxed)))
    }

    /// Objects skipped because they could not be decoded.
    pub fn malformed(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// The store's request and event counters so far.
    pub fn counts(&self) -> StoreCounts {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StoreCounts {
            list_ok: get(&self.list_ok),
            list_err: get(&self.list_err),
            watch_ok: get(&self.watch_ok),
            watch_err: get(&self.watch_err),
            applied: get(&self.applied),
            deleted: get(&self.deleted),
            malformed: get(&self.malformed),
        }
    }
}

/// A reading of one store's counters ([`StoreStats::counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreCounts {
    /// Successful list requests.
    pub list_ok: u64,
    /// Failed list requests.
    pub list_err: u64,
    /// Watch requests that were established.
    pub watch_ok: u64,
    /// Watch requests that failed.
    pub watch_err: u64,
    /// Objects added or changed (listed or watched).
    pub applied: u64,
    /// Objects deleted.
    pub deleted: u64,
    /// Objects skipped as undecodable.
    pub malformed: u64,
}

/// All stores' counters.
#[derive(Default)]
pub struct Telemetry {
    stores: Mutex<Vec<Arc<StoreStats>>>,
    sharding: Mutex<Sharding>,
    synced: Notify,
    /// List/watch counters of removed stores, per Go type, so counters never go down.
    retired: Mutex<BTreeMap<String, [u64; 4]>>,
    /// Conditions readiness waits for besides store syncs (e.g. the first CRD list).
    holds: AtomicUsize,
    crd: CrdEvents,
    configs: Mutex<BTreeMap<(String, String), ConfigStatus>>,
}

/// CRD events seen by custom resource discovery (KSM's `custom_resource_state_*`).
#[derive(Default)]
struct CrdEvents {
    add: AtomicU64,
    update: AtomicU64,
    delete: AtomicU64,
    cache: AtomicI64,
}

/// What happened to a CRD, for [`Telemetry::crd_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CrdEvent {
    Add,
    Update,
    Delete,
}

/// The last load of one configuration file.
#[derive(Clone, Copy, Debug)]
struct ConfigStatus {
    successful: bool,
    success_timestamp: Option<f64>,
    hash: Option<f64>,
}

/// Keeps the exporter unready until dropped (see [`Telemetry::all_synced`]).
pub(crate) struct ReadinessHold(Arc<Telemetry>);

impl Drop for ReadinessHold {
    fn drop(&mut self) {
        self.0.holds.fetch_sub(1, Ordering::AcqRel);
        self.0.notify_synced();
    }
}

impl Telemetry {
    pub(crate) fn add(&self, s: Arc<StoreStats>) {
        self.stores.lock().push(s);
    }

    pub(crate) fn set_sharding(&self, s: Sharding) {
        *self.sharding.lock() = s;
    }

    /// The shard the engine currently runs as.
    pub(crate) fn sharding(&self) -> Sharding {
        *self.sharding.lock()
    }

    /// Forgets a store that was removed, keeping its list/watch counts in the totals.
    pub(crate) fn remove(&self, s: &Arc<StoreStats>) {
        self.stores.lock().retain(|x| !Arc::ptr_eq(x, s));
        let mut retired = self.retired.lock();
        let e = retired.entry(s.go_type.clone()).or_default();
        for (slot, c) in e
            .iter_mut()
            .zip([&s.list_ok, &s.list_err, &s.watch_ok, &s.watch_err])
        {
            *slot += c.load(Ordering::Relaxed);
        }
        drop(retired);
        self.notify_synced();
    }

    /// Keeps [`Telemetry::all_synced`] false until the returned hold is dropped.
    pub(crate) fn hold_readiness(self: &Arc<Self>) -> ReadinessHold {
        self.holds.fetch_add(1, Ordering::AcqRel);
        ReadinessHold(self.clone())
    }

    /// Counts one CRD event of custom resource discovery.
    pub(crate) fn crd_event(&self, ev: CrdEvent) {
        let c = match ev {
            CrdEvent::Add => &self.crd.add,
            CrdEvent::Update => &self.crd.update,
            CrdEvent::Delete => &self.crd.delete,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Sets the number of CRDs discovery currently knows.
    pub(crate) fn set_crd_cache(&self, n: usize) {
        self.crd
            .cache
            .store(i64::try_from(n).unwrap_or(i64::MAX), Ordering::Relaxed);
    }

    /// Records a (re)load of the configuration file `filename` of kind `kind` (KSM's `type`
    /// label: `config`, `customresourceconfig`): `Some(hash)` when it loaded (the hash is
    /// the first 6 bytes of its MD5, little-endian), `None` when it could not be used.
    pub fn set_config_status(&self, kind: &str, filename: &str, hash: Option<f64>) {
        let mut configs = self.configs.lock();
        let e = configs
            .entry((kind.to_string(), filename.to_string()))
            .or_insert(ConfigStatus {
                successful: false,
                success_timestamp: None,
                hash: None,
            });
        e.successful = hash.is_some();
        if let Some(h) = hash {
            e.hash = Some(h);
            e.success_timestamp = Some(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64()),
            );
        }
    }

    pub(crate) fn notify_synced(&self) {
        self.synced.notify_waiters();
    }

    /// The per-store counters.
    pub fn stores(&self) -> Vec<Arc<StoreStats>> {
        self.stores.lock().clone()
    }

    /// The readiness policy: whether every store has completed its initial sync or failed in
    /// a way retrying will not fix soon (403, 404, not served according to API discovery;
    /// see [`SyncState`]), stores added while running not counting, and nothing else holds
    /// readiness back (custom resource discovery's first list of CRDs).
    pub fn all_synced(&self) -> bool {
        self.holds.load(Ordering::Acquire) == 0
            && self.stores.lock().iter().all(|s| {
                s.settled_once.load(Ordering::Acquire) || !s.gates_readiness.load(Ordering::Relaxed)
            })
    }

    /// Stores not yet settled (see [`Telemetry::all_synced`]), as `resource` or
    /// `resource/namespace`: what readiness waits for.
    pub fn unsettled(&self) -> Vec<String> {
        self.stores
            .lock()
            .iter()
            .filter(|s| {
                !s.settled_once.load(Ordering::Acquire) && s.gates_readiness.load(Ordering::Relaxed)
            })
            .map(|s| match &s.namespace {
                Some(ns) => format!("{}/{ns}", s.resource),
                None => s.resource.clone(),
            })
            .collect()
    }

    /// Waits until readiness holds (see [`Telemetry::all_synced`]).
    pub async fn wait_synced(&self) {
        loop {
            let n = self.synced.notified();
            if self.all_synced() {
                return;
            }
            n.await;
        }
    }

    /// Appends the telemetry families in text format.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        let stores = self.stores();
        // Counters are per watched type, summed over its stores (KSM labels by Go type).
        let retired = self.retired.lock().clone();
        let mut by_type: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
        for (ty, c) in &retired {
            let e = by_type.entry(ty).or_default();
            for (a, b) in e.iter_mut().zip(c) {
                *a += b;
            }
        }
        for s in &stores {
            let e = by_type.entry(&s.go_type).or_default();
            e[0] += s.list_ok.load(Ordering::Relaxed);
            e[1] += s.list_err.load(Ordering::Relaxed);
            e[2] += s.watch_ok.load(Ordering::Relaxed);
            e[3] += s.watch_err.load(Ordering::Relaxed);
        }
        for (name, help, ok_i, err_i) in [
            (
                "kube_state_metrics_list_total",
                "Number of list requests, by result and watched type.",
                0,
                1,
            ),
            (
                "kube_state_metrics_watch_total",
                "Number of watch requests, by result and watched type.",
                2,
                3,
            ),
        ] {
            header(out, name, help, "counter");
            for (ty, c) in &by_type {
                for (result, v) in [("success", c[ok_i]), ("error", c[err_i])] {
                    if v > 0 {
                        sample(out, name, &[("resource", ty), ("result", result)], v as f64);
                    }
                }
            }
        }
        let sh = *self.sharding.lock();
        header(
            out,
            "kube_state_metrics_shard_ordinal",
            "This instance's shard index.",
            "gauge",
        );
        let ord = sh.shard.to_string();
        sample(
            out,
            "kube_state_metrics_shard_ordinal",
            &[("shard_ordinal", &ord)],
            f64::from(sh.shard),
        );
        header(
            out,
            "kube_state_metrics_total_shards",
            "Number of shards the objects are split into.",
            "gauge",
        );
        sample(
            out,
            "kube_state_metrics_total_shards",
            &[],
            f64::from(sh.total),
        );
        self.write_custom_resource_text(out);
        self.write_sync_state(out, &stores);
        type Getter = fn(&StoreStats) -> Option<f64>;
        let per_store: [(&str, &str, &str, Getter); 6] = [
            (
                "kubestate_initial_sync_complete",
                "1 once the store finished its initial list.",
                "gauge",
                |s| Some(if s.is_synced() { 1.0 } else { 0.0 }),
            ),
            (
                "kubestate_initial_sync_duration_seconds",
                "Seconds from start to the end of the store's initial list.",
                "gauge",
                StoreStats::sync_seconds,
            ),
            (
                "kubestate_initial_sync_objects",
                "Objects received by the store's latest (re)list so far.",
                "gauge",
                |s| Some(s.listed.load(Ordering::Relaxed) as f64),
            ),
            (
                "kubestate_watch_events_total",
                "Objects added, changed or deleted through watches.",
                "counter",
                |s| {
                    Some(
                        (s.applied.load(Ordering::Relaxed) + s.deleted.load(Ordering::Relaxed))
                            as f64,
                    )
                },
            ),
            (
                "kubestate_malformed_objects_total",
                "Objects skipped because they could not be decoded or had neither name nor uid.",
                "counter",
                |s| Some(s.malformed() as f64),
            ),
            (
                "kubestate_malformed_quantities_total",
                "Resource quantities left out of an object's metrics because they do not parse or exceed the int64 range.",
                "counter",
                |s| Some(s.malformed_quantities.load(Ordering::Relaxed) as f64),
            ),
        ];
        for (name, help, ty, get) in per_store {
            header(out, name, help, ty);
            for s in &stores {
                if let Some(v) = get(s) {
                    let ns = s.namespace.as_deref().unwrap_or("");
                    sample(
                        out,
                        name,
                        &[("resource", &s.resource), ("namespace", ns)],
                        v,
                    );
                }
            }
        }
    }
}

impl Telemetry {
    /// `kubestate_resource_sync_state`: one series per resource and state, 1 for the
    /// resource's current state (the most severe over its stores), 0 for the others.
    fn write_sync_state(&self, out: &mut Vec<u8>, stores: &[Arc<StoreStats>]) {
        let mut by_resource: BTreeMap<&str, SyncState> = BTreeMap::new();
        for s in stores {
            let st = s.state();
            by_resource
                .entry(&s.resource)
                .and_modify(|cur| {
                    if st.severity() > cur.severity() {
                        *cur = st;
                    }
                })
                .or_insert(st);
        }
        let name = "kubestate_resource_sync_state";
        header(
            out,
            name,
            "Where each resource stands with the API server: synced, syncing, forbidden (403: an RBAC rule is missing), not_found (404) or not_served (absent from API discovery); 1 for the current state.",
            "gauge",
        );
        for (resource, cur) in &by_resource {
            for st in SyncState::ALL {
                let v = if st == *cur { 1.0 } else { 0.0 };
                sample(
                    out,
                    name,
                    &[("resource", resource), ("state", st.as_str())],
                    v,
                );
            }
        }
        let name = "kubestate_watch_undecodable_events_total";
        header(
            out,
            name,
            "Watch events that could not be decoded; each made the resource relist.",
            "counter",
        );
        for s in stores {
            let ns = s.namespace.as_deref().unwrap_or("");
            sample(
                out,
                name,
                &[("resource", &s.resource), ("namespace", ns)],
                s.undecodable() as f64,
            );
        }
    }

    /// Custom resource discovery's CRD counters (always written, as KSM registers them
    /// unconditionally) and the configuration file reload gauges (once a file was loaded).
    fn write_custom_resource_text(&self, out: &mut Vec<u8>) {
        for (name, help, c) in [
            (
                "kube_state_metrics_custom_resource_state_add_events_total",
                "CRDs that custom resource discovery saw added.",
                &self.crd.add,
            ),
            (
                "kube_state_metrics_custom_resource_state_update_events_total",
                "CRD changes that custom resource discovery saw.",
                &self.crd.update,
            ),
            (
                "kube_state_metrics_custom_resource_state_delete_events_total",
                "CRDs that custom resource discovery saw deleted.",
                &self.crd.delete,
            ),
        ] {
            header(out, name, help, "counter");
            sample(out, name, &[], c.load(Ordering::Relaxed) as f64);
        }
        let cache = "kube_state_metrics_custom_resource_state_cache";
        header(
            out,
            cache,
            "CRDs custom resource discovery currently knows.",
            "gauge",
        );
        sample(
            out,
            cache,
            &[],
            self.crd.cache.load(Ordering::Relaxed) as f64,
        );
        let configs = self.configs.lock().clone();
        if configs.is_empty() {
            return;
        }
        type Get = fn(&ConfigStatus) -> Option<f64>;
        let gauges: [(&str, &str, Get); 3] = [
            (
                "kube_state_metrics_config_hash",
                "First 6 bytes of the MD5 of the loaded configuration file, as a number.",
                |c| c.hash,
            ),
            (
                "kube_state_metrics_last_config_reload_successful",
                "1 if the last load of the configuration file succeeded, else 0.",
                |c| Some(if c.successful { 1.0 } else { 0.0 }),
            ),
            (
                "kube_state_metrics_last_config_reload_success_timestamp_seconds",
                "Unix time of the last successful load of the configuration file.",
                |c| c.success_timestamp,
            ),
        ];
        for (name, help, get) in gauges {
            let rows: Vec<_> = configs
                .iter()
                .filter_map(|((kind, file), c)| get(c).map(|v| (kind, file, v)))
                .collect();
            if rows.is_empty() {
                continue;
            }
            header(out, name, help, "gauge");
            for (kind, file, v) in rows {
                sample(out, name, &[("filename", file), ("type", kind)], v);
            }
        }
    }
}
