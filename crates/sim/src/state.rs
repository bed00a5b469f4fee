//! State shared by the HTTP server, the churn task, the admin endpoint and [`crate::SimHandle`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::Notify;

use crate::fault_config::FaultConfig;
use crate::object::ObjRef;
use crate::store::World;

/// A consistent list result kept for its continue tokens.
#[derive(Debug)]
pub(crate) struct ListSnapshot {
    pub items: Arc<Vec<ObjRef>>,
    pub rv: u64,
    pub store: usize,
    pub created: Instant,
}

/// Counters exposed by `GET /_sim/stats` and [`crate::SimHandle::stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub lists: AtomicU64,
    pub watches: AtomicU64,
    pub gets: AtomicU64,
    /// Resource requests (get, list, watch) answered in JSON.
    pub json_responses: AtomicU64,
    /// Resource requests answered in protobuf.
    pub protobuf_responses: AtomicU64,
}

pub(crate) struct Shared {
    pub world: RwLock<World>,
    /// Latest resourceVersion; every change to the world sends on it (wakes watches).
    pub changed: tokio::sync::watch::Sender<u64>,
    pub faults: Mutex<FaultConfig>,
    pub fault_rng: Mutex<ChaCha8Rng>,
    pub snapshots: Mutex<HashMap<u64, ListSnapshot>>,
    pub token_gen: AtomicU64,
    pub next_id: AtomicU64,
    /// Open watches: id → control to close it.
    pub watches: Mutex<HashMap<u64, Arc<WatchCtl>>>,
    pub shutdown: tokio::sync::watch::Sender<bool>,
    pub bookmark_interval: Duration,
    pub continue_ttl: Duration,
    pub counters: Counters,
    /// `http(s)://host:port` once bound.
    pub base_url: RwLock<String>,
    pub churn: Mutex<crate::churn::Churn>,
    /// Churn changes per second (f64 bits).
    churn_rate: AtomicU64,
}

impl Shared {
    pub fn new(
        world: World,
        faults: FaultConfig,
        seed: u64,
        bookmark_interval: Duration,
        continue_ttl: Duration,
    ) -> Arc<Shared> {
        let rv = world.rv;
        Arc::new(Shared {
            world: RwLock::new(world),
            changed: tokio::sync::watch::channel(rv).0,
            faults: Mutex::new(faults),
            fault_rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0xfa17_fa17)),
            snapshots: Mutex::new(HashMap::new()),
            token_gen: AtomicU64::new(1),
            next_id: AtomicU64::new(1),
            watches: Mutex::new(HashMap::new()),
            shutdown: tokio::sync::watch::channel(false).0,
            bookmark_interval,
            continue_ttl,
            counters: Counters::default(),
            base_url: RwLock::new(String::new()),
            churn: Mutex::new(crate::churn::Churn::new(seed)),
            churn_rate: AtomicU64::new(0f64.to_bits()),
        })
    }

    /// Churn changes per second.
    pub fn churn_rate(&self) -> f64 {
        f64::from_bits(self.churn_rate.load(Ordering::Relaxed))
    }

    /// Set the churn rate (negative or non-finite → 0).
    pub fn set_churn_rate(&self, rate: f64) {
        let r = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            0.0
        };
        self.churn_rate.store(r.to_bits(), Ordering::Relaxed);
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Run a mutation of the world and wake watchers.
    pub fn mutate<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let mut w = self.world.write();
        let before = w.rv;
        let out = f(&mut w);
        if w.rv != before {
            self.changed.send_replace(w.rv);
        }
        out
    }
}

/// Closing switch of one open watch.
#[derive(Debug, Default)]
pub(crate) struct WatchCtl {
    closed: std::sync::atomic::AtomicBool,
    pub notify: Notify,
}

impl WatchCtl {
    /// Ask the watch to end (it ends cleanly, without sending anything more).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// Registration of an open watch; unregisters on drop.
pub(crate) struct WatchGuard {
    pub sh: Arc<Shared>,
    pub id: u64,
    pub ctl: Arc<WatchCtl>,
}

impl WatchGuard {
    pub fn register(sh: &Arc<Shared>) -> WatchGuard {
        let id = sh.next_id();
        let ctl = Arc::new(WatchCtl::default());
        sh.watches.lock().insert(id, ctl.clone());
        WatchGuard {
            sh: sh.clone(),
            id,
            ctl,
        }
    }
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.sh.watches.lock().remove(&self.id);
    }
}

/// Seconds since the Unix epoch from the wall clock.
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
