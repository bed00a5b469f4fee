//! The sampling thread: every interval, one pass over a snapshot of the stores feeds the
//! overview, the ring buffer and the pinned queries, and a tick is pushed to the pages.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use kubestate_engine::Telemetry;
use kubestate_store::Exposition;
use parking_lot::Mutex;
use serde::Serialize;
use tracing::{debug, warn};

use crate::eval::{evaluate, Limits};
use crate::history::History;
use crate::overview::{State, Tally};
use crate::query::Query;
use crate::snapshot::Snapshot;
use crate::Config;

/// Watch health and event rate of one resource (its stores summed).
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Health {
    pub stores: usize,
    pub synced: usize,
    pub sync_seconds: Option<f64>,
    pub list_errors: u64,
    pub watch_errors: u64,
    pub watches: u64,
    pub malformed: u64,
    pub events: u64,
    pub events_per_second: f64,
}

/// The last sample.
#[derive(Default)]
pub(crate) struct Latest {
    pub time: f64,
    pub state: State,
    pub health: BTreeMap<String, Health>,
    pub events_per_second: f64,
    pub rss_bytes: Option<u64>,
    pub sample_ms: f64,
    /// Objects the pass read (new or changed since the previous pass).
    pub sample_read: u64,
}

/// A query pinned to the graphs.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Pin {
    pub id: u32,
    pub query: String,
    pub since: f64,
    pub error: Option<String>,
    #[serde(skip)]
    pub parsed: Query,
}

pub(crate) struct Inner {
    pub exposition: Arc<Exposition>,
    pub telemetry: Arc<Telemetry>,
    pub config: Config,
    pub history: Mutex<History>,
    pub latest: Mutex<Arc<Latest>>,
    pub pins: Mutex<Vec<Pin>>,
    pub next_pin: AtomicU32,
    pub ticks: tokio::sync::broadcast::Sender<Bytes>,
    pub queries: Arc<tokio::sync::Semaphore>,
}

pub(crate) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub(crate) fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

pub(crate) fn start(
    exposition: Arc<Exposition>,
    telemetry: Arc<Telemetry>,
    config: Config,
) -> (Arc<Inner>, Sender<()>) {
    let inner = Inner::new(exposition, telemetry, config);
    let (stop, rx) = std::sync::mpsc::channel();
    let run = inner.clone();
    let spawned = std::thread::Builder::new()
        .name("explorer-sampler".into())
        .spawn(move || sample_loop(&run, &rx));
    if let Err(e) = spawned {
        warn!(error = %e, "cannot start the explorer's sampling thread; graphs stay empty");
    }
    (inner, stop)
}

fn sample_loop(inner: &Inner, stop: &Receiver<()>) {
    let mut sampler = Sampler::default();
    let interval = inner.config.interval;
    let mut next = Instant::now();
    loop {
        sampler.tick(inner);
        next += interval;
        let now = Instant::now();
        if next < now {
            next = now + interval;
        }
        match stop.recv_timeout(next - now) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
    }
}

#[derive(Default)]
struct Sampler {
    /// The overview, kept up to date from pass to pass.
    tally: Tally,
    /// Per resource: time and events count of the previous tick.
    events: BTreeMap<String, u64>,
    /// Time and total events of the previous tick.
    last: Option<(f64, f64)>,
    /// Container restarts summed at the previous tick.
    restarts: Option<f64>,
}

impl Sampler {
    /// Not inlined, so that a profiler sees each pass as one call (`crates/explorer/bench`
    /// counts its instructions with callgrind's `--dump-after`).
    #[inline(never)]
    fn tick(&mut self, inner: &Inner) {
        self.tick_at(inner, &Snapshot::take(&inner.exposition), now());
    }

    /// One pass over `snap`, recorded as taken at `time`.
    fn tick_at(&mut self, inner: &Inner, snap: &Snapshot, time: f64) {
        let started = Instant::now();
        let read = self.tally.objects_read();
        let state = self.tally.update(snap);
        let sample_read = self.tally.objects_read() - read;

        let dt = self.last.map(|(t, _)| time - t).filter(|d| *d > 0.0);
        let mut health: BTreeMap<String, Health> = BTreeMap::new();
        for s in inner.telemetry.stores() {
            let c = s.counts();
            let h = health.entry(s.resource.clone()).or_default();
            h.stores += 1;
            if let Some(secs) = s.sync_seconds() {
                h.synced += 1;
                h.sync_seconds = Some(h.sync_seconds.map_or(secs, |m: f64| m.max(secs)));
            }
            h.list_errors += c.list_err;
            h.watch_errors += c.watch_err;
            h.watches += c.watch_ok;
            h.malformed += c.malformed;
            h.events += c.applied + c.deleted;
        }
        let mut total_events = 0;
        for (r, h) in health.iter_mut() {
            total_events += h.events;
            if let (Some(dt), Some(prev)) = (dt, self.events.get(r)) {
                h.events_per_second = h.events.saturating_sub(*prev) as f64 / dt;
            }
        }
        self.events = health.iter().map(|(r, h)| (r.clone(), h.events)).collect();
        let events_per_second = match (dt, self.last) {
            (Some(dt), Some((_, prev))) => (total_events as f64 - prev).max(0.0) / dt,
            _ => 0.0,
        };

        // Before the initial sync the stores are filling: graphing that ramp would show a
        // cluster growing from nothing, and restarts summed over it are no baseline.
        let synced = inner.telemetry.all_synced();
        let mut values: BTreeMap<String, f64> = BTreeMap::new();
        if snap.resource("pods").next().is_some() {
            for phase in ["Pending", "Running", "Succeeded", "Failed", "Unknown"] {
                let n = state.pods_by_phase.get(phase).copied().unwrap_or(0);
                values.insert(format!("pods.phase.{phase}"), n as f64);
            }
        }
        values.insert("workloads.missing_replicas".into(), state.missing_replicas);
        // Restarts of deleted pods leave the sum: a drop counts as no restart.
        let prev = if synced {
            self.restarts.replace(state.restarts)
        } else {
            self.restarts.take()
        };
        if let (Some(prev), Some(dt), true) = (prev, dt, synced) {
            values.insert(
                "pods.restarts_per_minute".into(),
                (state.restarts - prev).max(0.0) / dt * 60.0,
            );
        }
        values.insert("nodes.not_ready".into(), state.nodes_not_ready as f64);
        for r in &state.resources {
            values.insert(format!("objects.{}", r.resource), r.objects as f64);
        }
        values.insert("exporter.events_per_second".into(), events_per_second);
        let rss = rss_bytes();
        if let Some(rss) = rss {
            values.insert("exporter.rss_bytes".into(), rss as f64);
        }
        self.pins(inner, snap, &mut values);

        if synced {
            inner.history.lock().push(time, &values);
        }
        self.last = Some((time, total_events as f64));
        let latest = Latest {
            time,
            state,
            health,
            events_per_second,
            rss_bytes: rss,
            sample_ms: started.elapsed().as_secs_f64() * 1000.0,
            sample_read,
        };
        debug!(
            ms = latest.sample_ms,
            read = latest.sample_read,
            "explorer sample"
        );
        *inner.latest.lock() = Arc::new(latest);
        #[derive(Serialize)]
        struct Tick<'a> {
            time: f64,
            values: &'a BTreeMap<String, f64>,
        }
        if !synced {
            return;
        }
        if let Ok(json) = serde_json::to_string(&Tick {
            time,
            values: &values,
        }) {
            let _ = inner
                .ticks
                .send(Bytes::from(format!("event: tick\ndata: {json}\n\n")));
        }
    }

    fn pins(&self, inner: &Inner, snap: &Snapshot, values: &mut BTreeMap<String, f64>) {
        let mut pins = inner.pins.lock().clone();
        let budget = inner.config.interval / 4;
        for pin in &mut pins {
            let limits = Limits {
                max_rows: inner.config.max_pin_series,
                max_groups: inner.config.max_pin_series,
                deadline: Some(Instant::now() + budget),
            };
            match evaluate(&pin.parsed, snap, &limits) {
                Ok(a) => {
                    pin.error = a.truncated.then(|| {
                        format!(
                            "only the first {} series are graphed",
                            inner.config.max_pin_series
                        )
                    });
                    for row in a.rows {
                        values.insert(pin_series_id(pin.id, &row), row.value);
                    }
                }
                Err(t) => {
                    pin.error = Some(format!(
                        "too slow to graph every {:?} (stopped after {} series); narrow it",
                        inner.config.interval, t.scanned
                    ));
                }
            }
        }
        let mut live = inner.pins.lock();
        for p in live.iter_mut() {
            if let Some(done) = pins.iter().find(|d| d.id == p.id) {
                p.error = done.error.clone();
            }
        }
    }
}

/// The history id of one series of a pinned query: `pin.<id>.` and its labels.
pub(crate) fn pin_series_id(id: u32, row: &crate::eval::Row) -> String {
    let mut s = format!("pin.{id}.");
    if let Some(f) = &row.family {
        s.push_str(f);
    }
    s.push('{');
    for (i, (k, v)) in row.labels.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push_str("=\"");
        s.push_str(v);
        s.push('"');
    }
    s.push('}');
    s
}

impl Inner {
    fn new(exposition: Arc<Exposition>, telemetry: Arc<Telemetry>, config: Config) -> Arc<Inner> {
        let ticks = (config.window.as_secs_f64() / config.interval.as_secs_f64().max(0.1)).ceil();
        Arc::new(Inner {
            exposition,
            telemetry,
            history: Mutex::new(History::new(ticks as usize)),
            latest: Mutex::new(Arc::new(Latest::default())),
            pins: Mutex::new(Vec::new()),
            next_pin: AtomicU32::new(1),
            ticks: tokio::sync::broadcast::channel(16).0,
            // Queries run on the blocking pool; half the cores at most, so scrapes and watches
            // always keep the rest.
            queries: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            )),
            config,
        })
    }

    /// Pins `query`; returns the pin or why not.
    pub(crate) fn pin(&self, query: &str) -> Result<Pin, String> {
        let parsed = Query::parse(query).map_err(|e| e.to_string())?;
        let mut pins = self.pins.lock();
        if let Some(p) = pins.iter().find(|p| p.query == query) {
            return Ok(p.clone());
        }
        if pins.len() >= self.config.max_pins {
            return Err(format!(
                "at most {} pinned queries; unpin one first",
                self.config.max_pins
            ));
        }
        let pin = Pin {
            id: self.next_pin.fetch_add(1, Ordering::Relaxed),
            query: query.to_string(),
            since: now(),
            error: None,
            parsed,
        };
        pins.push(pin.clone());
        Ok(pin)
    }

    /// Unpins `id`; whether it was pinned.
    pub(crate) fn unpin(&self, id: u32) -> bool {
        let mut pins = self.pins.lock();
        let before = pins.len();
        pins.retain(|p| p.id != id);
        pins.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Churning;

    /// The sampler keeps the overview up to date by re-reading changed objects only; the
    /// graphs it records must be exactly those of a sampler recomputing everything at each
    /// tick, through adds, updates, deletes, a relist and a store going away.
    #[test]
    fn incremental_samples_record_the_history_of_full_recomputes() {
        let mut w = Churning::new(11, 200);
        let telemetry = Arc::new(Telemetry::default());
        let config = Config::default();
        let inc_inner = Inner::new(
            w.world.exposition.clone(),
            telemetry.clone(),
            config.clone(),
        );
        let full_inner = Inner::new(w.world.exposition.clone(), telemetry, config);
        let (mut inc, mut full) = (Sampler::default(), Sampler::default());
        let ticks = 40;
        for round in 0..ticks {
            if round > 0 {
                let n = 1 + w.rng.below(30);
                w.step(n);
            }
            if round == 12 {
                w.relist_pods();
            }
            if round == 25 {
                w.drop_z();
            }
            let snap = Snapshot::take(&w.world.exposition);
            let time = 1_800_000_000.0 + 5.0 * f64::from(round);
            let walked = inc.tally.stores_walked();
            inc.tick_at(&inc_inner, &snap, time);
            // Changed stores are brought forward from their change lists; only the relisted
            // pod store is walked again.
            let expected = match round {
                0 => snap.stores.len() as u64,
                12 => 1,
                _ => 0,
            };
            assert_eq!(
                inc.tally.stores_walked() - walked,
                expected,
                "round {round}"
            );
            full.tally = Tally::new();
            full.tick_at(&full_inner, &snap, time);
            let (a, b) = (
                inc_inner.latest.lock().clone(),
                full_inner.latest.lock().clone(),
            );
            assert_eq!(a.state, b.state, "round {round}");
            if round > 0 && round != 12 && round != 25 {
                // Only what changed was read (at most one object per change).
                assert!(a.sample_read <= 30, "round {round}: read {}", a.sample_read);
            }
        }
        let a = inc_inner.history.lock().dump(0.0, "");
        let b = full_inner.history.lock().dump(0.0, "");
        assert_eq!(a.times.len(), ticks as usize);
        assert_eq!(a.times, b.times);
        // The RSS is read at each tick, so it differs between the two samplers.
        let graphs = |d: &crate::history::HistoryDump| {
            d.series
                .iter()
                .filter(|(id, _)| *id != "exporter.rss_bytes")
                .map(|(id, v)| (id.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(graphs(&a), graphs(&b));
        // The churn shows in the graphs the comparison covered.
        for id in [
            "pods.phase.Running",
            "pods.phase.Pending",
            "pods.restarts_per_minute",
            "workloads.missing_replicas",
            "nodes.not_ready",
            "objects.pods",
        ] {
            let distinct: std::collections::BTreeSet<u64> =
                a.series[id].iter().flatten().map(|v| v.to_bits()).collect();
            assert!(distinct.len() > 2, "{id} did not move: {:?}", a.series[id]);
        }
    }
}
