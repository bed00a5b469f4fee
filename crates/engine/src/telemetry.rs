//! Self-telemetry of the engine: KSM's `kube_state_metrics_*` list/watch counters under the
//! same names and label values, plus kubestate's own sync progress.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use kubestate_metric::{write_float, write_label_value};
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
        }
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
}

impl Telemetry {
    pub(crate) fn add(&self, s: Arc<StoreStats>) {
        self.stores.lock().push(s);
    }

    pub(crate) fn set_sharding(&self, s: Sharding) {
        *self.sharding.lock() = s;
    }

    pub(crate) fn notify_synced(&self) {
        self.synced.notify_waiters();
    }

    /// The per-store counters.
    pub fn stores(&self) -> Vec<Arc<StoreStats>> {
        self.stores.lock().clone()
    }

    /// Whether every store has completed its initial sync.
    pub fn all_synced(&self) -> bool {
        self.stores.lock().iter().all(|s| s.is_synced())
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
        let mut by_type: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
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

/// Appends `# HELP`/`# TYPE` lines.
pub fn header(out: &mut Vec<u8>, name: &str, help: &str, ty: &str) {
    out.extend_from_slice(format!("# HELP {name} {help}\n# TYPE {name} {ty}\n").as_bytes());
}

/// Appends one sample line.
pub fn sample(out: &mut Vec<u8>, name: &str, labels: &[(&str, &str)], v: f64) {
    out.extend_from_slice(name.as_bytes());
    if !labels.is_empty() {
        out.push(b'{');
        for (i, (k, val)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b"=\"");
            write_label_value(out, val);
            out.push(b'"');
        }
        out.push(b'}');
    }
    out.push(b' ');
    write_float(out, v);
    out.push(b'\n');
}
