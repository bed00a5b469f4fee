//! Self-telemetry of the engine: KSM's `kube_state_metrics_*` list/watch counters under the
//! same names and label values, plus kubestate's own sync progress.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
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
    pub(crate) listed: AtomicU64,
    synced: AtomicBool,
    sync_seconds: AtomicU64,
    started: Instant,
    /// Whether readiness waits for this store's initial sync.
    gates_readiness: AtomicBool,
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
            listed: AtomicU64::new(0),
            synced: AtomicBool::new(false),
            sync_seconds: AtomicU64::new(0),
            started: Instant::now(),
            gates_readiness: AtomicBool::new(true),
        }
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

    /// Whether every store has completed its initial sync (stores added while running do
    /// not count) and nothing else holds readiness back (custom resource discovery's first
    /// list of CRDs).
    pub fn all_synced(&self) -> bool {
        self.holds.load(Ordering::Acquire) == 0
            && self
                .stores
                .lock()
                .iter()
                .all(|s| s.is_synced() || !s.gates_readiness.load(Ordering::Relaxed))
    }

    /// Waits until every store has completed its initial sync.
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
        type Getter = fn(&StoreStats) -> Option<f64>;
        let per_store: [(&str, &str, &str, Getter); 5] = [
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
                "Objects skipped because they could not be decoded.",
                "counter",
                |s| Some(s.malformed() as f64),
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
