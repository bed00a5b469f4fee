//! Feeding one store: decode, select, generate, hand to the store.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kubestate_families::{DecodeError, Encoding, Generator};
use kubestate_metric::ObjectMetrics;
use kubestate_store::ObjectStore;
use kubestate_watch::{Event, Handler, RequestKind};
use parking_lot::Mutex;
use tracing::{info, warn};

use crate::shard::Sharding;
use crate::telemetry::{StoreStats, SyncState, Telemetry};

/// Where a store's objects go: its generator and store, which a configuration change may
/// replace while the watch runs (see `Engine::reconfigure`). The watch holds the lock while
/// it handles one event, so a replacement happens between events.
pub(crate) struct Route {
    pub(crate) generator: Arc<dyn Generator>,
    pub(crate) sink: Arc<dyn ObjectStore>,
    /// Bumped by every replacement.
    pub(crate) version: u64,
    /// A relist is in progress (its objects are being built aside in the store).
    pub(crate) relisting: bool,
}

impl Route {
    pub(crate) fn new(
        generator: Arc<dyn Generator>,
        sink: Arc<dyn ObjectStore>,
    ) -> Arc<Mutex<Route>> {
        Arc::new(Mutex::new(Route {
            generator,
            sink,
            version: 0,
            relisting: false,
        }))
    }
}

/// Turns raw objects of one store into store calls.
pub(crate) struct Feed {
    pub(crate) generator: Arc<dyn Generator>,
    pub(crate) sink: Arc<dyn ObjectStore>,
    route: Arc<Mutex<Route>>,
    /// The route version `generator` and `sink` were taken from.
    version: u64,
    pub(crate) sharding: Sharding,
    pub(crate) stats: Arc<StoreStats>,
    pub(crate) telemetry: Arc<Telemetry>,
    scratch: ObjectMetrics,
    /// Objects of the relist in progress, waiting to be generated on all cores.
    batch: Batch,
    last_progress: Instant,
    last_warning: Option<Instant>,
    suppressed: u64,
    last_quantity_warning: Option<Instant>,
}

impl Feed {
    pub(crate) fn new(
        generator: Arc<dyn Generator>,
        sink: Arc<dyn ObjectStore>,
        sharding: Sharding,
        stats: Arc<StoreStats>,
        telemetry: Arc<Telemetry>,
    ) -> Feed {
        let route = Route::new(generator, sink);
        Feed::routed(route, sharding, stats, telemetry)
    }

    /// A feed following `route`.
    pub(crate) fn routed(
        route: Arc<Mutex<Route>>,
        sharding: Sharding,
        stats: Arc<StoreStats>,
        telemetry: Arc<Telemetry>,
    ) -> Feed {
        let (generator, sink, version) = {
            let r = route.lock();
            (r.generator.clone(), r.sink.clone(), r.version)
        };
        Feed {
            generator,
            sink,
            route,
            version,
            sharding,
            stats,
            telemetry,
            scratch: ObjectMetrics::new(),
            batch: Batch::default(),
            last_progress: Instant::now(),
            last_warning: None,
            suppressed: 0,
            last_quantity_warning: None,
        }
    }

    /// Decodes and stores one object (added, changed or listed), given in `enc`.
    pub(crate) fn upsert(&mut self, bytes: &[u8], enc: Encoding) {
        let (errors, quantities) = generate_all(
            std::iter::once((bytes, enc)),
            &*self.generator,
            &*self.sink,
            self.sharding,
            &mut self.scratch,
        );
        self.count_quantities(quantities);
        for e in &errors {
            self.malformed(e);
        }
    }

    /// Counts resource quantities dropped as malformed (the object itself was stored).
    fn count_quantities(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        self.stats
            .malformed_quantities
            .fetch_add(n, Ordering::Relaxed);
        let now = Instant::now();
        if self
            .last_quantity_warning
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(60))
        {
            return;
        }
        self.last_quantity_warning = Some(now);
        warn!(
            resource = %self.stats.resource,
            total = self.stats.malformed_quantities.load(Ordering::Relaxed),
            "dropped resource quantities that do not parse (kubestate_malformed_quantities_total counts them)"
        );
    }

    pub(crate) fn delete(&mut self, bytes: &[u8], enc: Encoding) {
        match self.generator.peek_encoded(bytes, enc) {
            Ok(k) if k.uid.is_empty() && k.name.is_empty() => {
                self.malformed(&Skipped::Anonymous(self.generator.resource().to_string()));
            }
            Ok(k) => self.sink.delete(&store_key(&k.uid, &k.namespace, &k.name)),
            Err(e) => self.malformed(&e),
        }
    }

    fn malformed(&mut self, err: &dyn std::error::Error) {
        self.stats.malformed.fetch_add(1, Ordering::Relaxed);
        // At most one warning per resource every 10 s; the counter has the full tally.
        let now = Instant::now();
        if self
            .last_warning
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(10))
        {
            self.suppressed += 1;
            return;
        }
        let cause = err.source().map(|s| s.to_string()).unwrap_or_default();
        warn!(
            resource = %self.stats.resource,
            error = %err,
            cause = %cause,
            suppressed = self.suppressed,
            "skipped malformed object"
        );
        self.last_warning = Some(now);
        self.suppressed = 0;
    }

    pub(crate) fn relist_started(&mut self) {
        self.batch.clear();
        self.stats.listed.store(0, Ordering::Relaxed);
        self.sink.relist_started();
    }

    /// One object of a relist: generated at once, or batched when the store lets several
    /// threads apply during relists and there is more than one core.
    fn listed(&mut self, bytes: &[u8], enc: Encoding) {
        if relist_threads() < 2 || !self.sink.concurrent_relist() {
            return self.upsert(bytes, enc);
        }
        self.batch.push(bytes, enc);
        if self.batch.len() >= BATCH {
            self.flush_batch();
        }
    }

    /// Generates and applies the batched objects, split over all cores.
    fn flush_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        let threads = relist_threads().min(batch.len().div_ceil(MIN_PER_THREAD));
        if threads < 2 {
            for (bytes, enc) in batch.iter() {
                self.upsert(bytes, enc);
            }
        } else {
            let per = batch.len().div_ceil(threads);
            let (generator, sink, sharding) = (&*self.generator, &*self.sink, self.sharding);
            let errors: (Vec<Skipped>, u64) = std::thread::scope(|scope| {
                let handles: Vec<_> = (1..threads)
                    .map(|t| {
                        let batch = &batch;
                        scope.spawn(move || {
                            let mut scratch = ObjectMetrics::new();
                            let items = batch.iter().skip(t * per).take(per);
                            generate_all(items, generator, sink, sharding, &mut scratch)
                        })
                    })
                    .collect();
                let (mut errors, mut quantities) = generate_all(
                    batch.iter().take(per),
                    generator,
                    sink,
                    sharding,
                    &mut self.scratch,
                );
                for h in handles {
                    match h.join() {
                        Ok((e, q)) => {
                            errors.extend(e);
                            quantities += q;
                        }
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
                (errors, quantities)
            });
            let (errors, quantities) = errors;
            self.count_quantities(quantities);
            for e in &errors {
                self.malformed(e);
            }
        }
        // Keep the buffer for the next batch unless one huge object inflated it.
        self.batch = batch;
        self.batch.clear();
    }

    pub(crate) fn relist_done(&mut self) {
        self.flush_batch();
        self.sink.relist_done();
        let objects = self.stats.listed.load(Ordering::Relaxed);
        if self.stats.mark_synced() {
            info!(
                resource = %self.stats.resource,
                namespace = self.stats.namespace.as_deref().unwrap_or(""),
                objects,
                seconds = self.stats.sync_seconds().unwrap_or_default(),
                "initial sync complete"
            );
            self.telemetry.notify_synced();
        }
    }

    fn progress(&mut self) {
        let n = self.stats.listed.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.stats.is_synced() && self.last_progress.elapsed() > Duration::from_secs(5) {
            self.last_progress = Instant::now();
            info!(
                resource = %self.stats.resource,
                objects = n,
                "initial sync in progress"
            );
        }
    }
}

/// Objects per parallel batch of a relist.
const BATCH: usize = 1024;
/// Fewer objects than this per thread are not worth a thread.
const MIN_PER_THREAD: usize = 128;

/// Threads that generate a relist's objects: the cores available to the process.
fn relist_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Raw objects of a relist, copied out of the response that carried them.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    items: Vec<(std::ops::Range<usize>, Encoding)>,
}

impl Batch {
    fn push(&mut self, bytes: &[u8], enc: Encoding) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        self.items.push((start..self.bytes.len(), enc));
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn clear(&mut self) {
        self.items.clear();
        self.bytes.clear();
        if self.bytes.capacity() > 64 << 20 {
            self.bytes = Vec::new();
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], Encoding)> + '_ {
        self.items
            .iter()
            .map(|(r, enc)| (&self.bytes[r.clone()], *enc))
    }
}

/// Why an object was not stored.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Skipped {
    /// It could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// It decoded to an object without name and uid (`{}`): storing it would show a phantom
    /// object with empty identity labels.
    #[error("{0} object without metadata.name and metadata.uid")]
    Anonymous(String),
}

/// Generates and applies `items` (one object, or one thread's share of a batch); returns what
/// could not be stored, and how many resource quantities were dropped as malformed. With
/// sharding, objects of other shards are skipped on their uid alone, before paying for a full
/// decode.
fn generate_all<'a>(
    items: impl Iterator<Item = (&'a [u8], Encoding)>,
    generator: &dyn Generator,
    sink: &dyn ObjectStore,
    sharding: Sharding,
    scratch: &mut ObjectMetrics,
) -> (Vec<Skipped>, u64) {
    let mut errors = Vec::new();
    let mut quantities = 0u64;
    kubestate_objects::take_malformed_quantities();
    for (bytes, enc) in items {
        if sharding.is_active() {
            match generator.peek_encoded(bytes, enc) {
                Ok(k) if !sharding.keeps(&k.uid) => continue,
                Ok(_) => {}
                Err(e) => {
                    errors.push(e.into());
                    continue;
                }
            }
        }
        let result = generator.generate_encoded(bytes, enc, scratch);
        quantities += u64::from(kubestate_objects::take_malformed_quantities());
        match result {
            Ok(key) if key.uid.is_empty() && key.name.is_empty() => {
                errors.push(Skipped::Anonymous(generator.resource().to_string()));
            }
            Ok(key) => sink.apply(&store_key(&key.uid, &key.namespace, &key.name), scratch),
            Err(e) => errors.push(e.into()),
        }
    }
    (errors, quantities)
}

/// The key an [`ObjectStore`] keeps an object under: its uid, or `namespace/name` for the odd object
/// without one.
fn store_key<'a>(uid: &'a str, ns: &str, name: &str) -> std::borrow::Cow<'a, str> {
    if uid.is_empty() {
        std::borrow::Cow::Owned(format!("{ns}/{name}"))
    } else {
        std::borrow::Cow::Borrowed(uid)
    }
}

impl Handler for Feed {
    fn event(&mut self, ev: Event<'_>) {
        let route = Arc::clone(&self.route);
        let mut route = route.lock();
        if route.version != self.version {
            self.generator = route.generator.clone();
            self.sink = route.sink.clone();
            self.version = route.version;
        }
        match ev {
            Event::RelistStarted => {
                route.relisting = true;
                self.relist_started();
            }
            Event::Listed(o) => {
                self.progress();
                self.listed(o.bytes, o.encoding);
            }
            Event::RelistDone => {
                self.relist_done();
                route.relisting = false;
            }
            Event::Applied(o) => {
                self.flush_batch();
                self.stats.applied.fetch_add(1, Ordering::Relaxed);
                self.upsert(o.bytes, o.encoding);
            }
            Event::Deleted(o) => {
                self.flush_batch();
                self.stats.deleted.fetch_add(1, Ordering::Relaxed);
                self.delete(o.bytes, o.encoding);
            }
        }
    }

    fn request(&mut self, kind: RequestKind, result: Result<(), &kubestate_watch::Error>) {
        self.stats
            .request(kind == RequestKind::List, result.is_ok());
        if result.is_ok() {
            // Answered again after a 403/404: syncing (or still synced) from here on.
            let back = if self.stats.is_synced() {
                SyncState::Synced
            } else {
                SyncState::Syncing
            };
            if self.stats.state() != back && self.stats.set_state(back) {
                self.telemetry.notify_synced();
            }
        }
    }

    fn retrying(&mut self, error: &kubestate_watch::Error, _delay: Duration) {
        let state = if error.is_forbidden() {
            SyncState::Forbidden
        } else if error.is_not_found() {
            SyncState::NotFound
        } else {
            return;
        };
        if self.stats.set_state(state) {
            self.telemetry.notify_synced();
        }
    }

    fn undecodable(&mut self, error: &kubestate_watch::Error) {
        // Logged (rate-limited) by the watch loop, which relists.
        let _ = error;
        self.stats.count_undecodable();
        self.stats.malformed.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubestate_watch::Object;

    /// Records applies with the thread that made them.
    struct Record {
        concurrent: bool,
        applies: Mutex<Vec<(String, std::thread::ThreadId)>>,
        relists: Mutex<Vec<&'static str>>,
    }

    impl ObjectStore for Record {
        fn apply(&self, uid: &str, obj: &ObjectMetrics) {
            assert!(obj.family_count() > 0);
            self.applies
                .lock()
                .push((uid.to_string(), std::thread::current().id()));
        }
        fn delete(&self, _uid: &str) {}
        fn concurrent_relist(&self) -> bool {
            self.concurrent
        }
        fn relist_started(&self) {
            self.relists.lock().push("started");
        }
        fn relist_done(&self) {
            // Every object of the relist has been applied by now.
            let n = self.applies.lock().len();
            self.relists
                .lock()
                .push(if n > 0 { "done" } else { "done-empty" });
        }
    }

    fn configmap(i: usize) -> String {
        format!(
            r#"{{"metadata":{{"name":"cm{i}","namespace":"ns","uid":"uid-{i}","resourceVersion":"1","creationTimestamp":"2026-01-01T00:00:00Z"}}}}"#
        )
    }

    fn feed(concurrent: bool, sharding: Sharding) -> (Feed, Arc<Record>) {
        let generator = kubestate_families::resource("configmaps")
            .expect("configmaps")
            .generator(kubestate_families::Selection::default());
        let sink = Arc::new(Record {
            concurrent,
            applies: Mutex::new(Vec::new()),
            relists: Mutex::new(Vec::new()),
        });
        let stats = Arc::new(StoreStats::new("configmaps", "*v1.ConfigMap".into(), None));
        let f = Feed::new(
            generator,
            sink.clone(),
            sharding,
            stats,
            Arc::new(Telemetry::default()),
        );
        (f, sink)
    }

    /// A large relist is generated on all cores when the store allows it, with the same
    /// result as one at a time: every object applied once before `relist_done`, malformed
    /// ones counted, sharding respected, later events applied in order on the watch's thread.
    #[test]
    fn large_relists_are_generated_in_parallel_with_the_same_result() {
        let total = 3 * BATCH + 17;
        let bad = |i: usize| i % 500 == 7;
        for (concurrent, sharding) in [
            (true, Sharding { shard: 0, total: 1 }),
            (false, Sharding { shard: 0, total: 1 }),
            (true, Sharding { shard: 1, total: 3 }),
        ] {
            let (mut f, sink) = feed(concurrent, sharding);
            f.event(Event::RelistStarted);
            for i in 0..total {
                let json = if bad(i) {
                    r#"{"metadata":5}"#.to_string()
                } else {
                    configmap(i)
                };
                let raw = serde_json::value::RawValue::from_string(json).expect("raw");
                f.event(Event::Listed(Object::json(&raw)));
            }
            f.event(Event::RelistDone);
            let raw = serde_json::value::RawValue::from_string(configmap(total)).expect("raw");
            f.event(Event::Applied(Object::json(&raw)));

            let applies = sink.applies.lock();
            let mut expected: Vec<String> = (0..=total)
                .filter(|i| !bad(*i))
                .map(|i| format!("uid-{i}"))
                .filter(|uid| sharding.keeps(uid))
                .collect();
            let mut got: Vec<String> = applies.iter().map(|(u, _)| u.clone()).collect();
            // The live event comes last, after the whole relist.
            let live = format!("uid-{total}");
            if sharding.keeps(&live) {
                assert_eq!(got.last(), Some(&live));
            }
            got.sort();
            expected.sort();
            assert_eq!(got, expected);
            assert_eq!(*sink.relists.lock(), ["started", "done"]);
            let malformed = (0..total).filter(|i| bad(*i)).count() as u64;
            assert_eq!(f.stats.malformed.load(Ordering::Relaxed), malformed);
            let threads: std::collections::HashSet<_> = applies.iter().map(|(_, t)| *t).collect();
            if concurrent && relist_threads() > 1 {
                assert!(threads.len() > 1, "one thread applied everything");
            } else {
                assert_eq!(threads.len(), 1);
            }
        }
    }

    /// `{}` decodes to an object without identity: skipped and counted, never stored as a
    /// phantom with empty name, namespace and uid; unparsable quantities are counted while
    /// the object is kept (out-of-range ones keep Go's value, as KSM prints them).
    #[test]
    fn anonymous_objects_and_bad_quantities_are_counted() {
        let (mut f, sink) = feed(false, Sharding::default());
        for json in ["{}", r#"{"metadata":{}}"#] {
            let raw = serde_json::value::RawValue::from_string(json.into()).expect("raw");
            f.event(Event::Applied(Object::json(&raw)));
            f.event(Event::Deleted(Object::json(&raw)));
        }
        assert!(sink.applies.lock().is_empty(), "phantom object stored");
        assert_eq!(f.stats.malformed(), 4);

        let generator = kubestate_families::resource("pods")
            .expect("pods")
            .generator(kubestate_families::Selection::default());
        let stats = Arc::new(StoreStats::new("pods", "*v1.Pod".into(), None));
        let sink = Arc::new(Record {
            concurrent: false,
            applies: Mutex::new(Vec::new()),
            relists: Mutex::new(Vec::new()),
        });
        let mut f = Feed::new(
            generator,
            sink.clone(),
            Sharding::default(),
            stats.clone(),
            Arc::new(Telemetry::default()),
        );
        let pod = r#"{"metadata":{"name":"p","namespace":"n","uid":"u1"},"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"abc","memory":"1e400","ephemeral-storage":"8Ei","pods":"2"}}}]}}"#;
        let raw = serde_json::value::RawValue::from_string(pod.into()).expect("raw");
        f.event(Event::Applied(Object::json(&raw)));
        assert_eq!(sink.applies.lock().len(), 1, "the pod itself is kept");
        // "abc" does not parse; "1e400" does (its value wraps as Go's does, like KSM's).
        assert_eq!(stats.malformed_quantities.load(Ordering::Relaxed), 1);
        assert_eq!(stats.malformed(), 0);
    }
}
