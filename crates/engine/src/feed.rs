//! Feeding one store: decode, select, generate, hand to the sink.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kubestate_families::{Encoding, Generator};
use kubestate_metric::ObjectMetrics;
use kubestate_store::ObjectSink;
use kubestate_watch::{Event, Handler, RequestKind};
use tracing::{info, warn};

use crate::shard::Sharding;
use crate::telemetry::{StoreStats, Telemetry};

/// Turns raw objects of one store into sink calls.
pub(crate) struct Feed {
    pub(crate) generator: Arc<dyn Generator>,
    pub(crate) sink: Arc<dyn ObjectSink>,
    pub(crate) sharding: Sharding,
    pub(crate) stats: Arc<StoreStats>,
    pub(crate) telemetry: Arc<Telemetry>,
    scratch: ObjectMetrics,
    last_progress: Instant,
    last_warning: Option<Instant>,
    suppressed: u64,
}

impl Feed {
    pub(crate) fn new(
        generator: Arc<dyn Generator>,
        sink: Arc<dyn ObjectSink>,
        sharding: Sharding,
        stats: Arc<StoreStats>,
        telemetry: Arc<Telemetry>,
    ) -> Feed {
        Feed {
            generator,
            sink,
            sharding,
            stats,
            telemetry,
            scratch: ObjectMetrics::new(),
            last_progress: Instant::now(),
            last_warning: None,
            suppressed: 0,
        }
    }

    /// Decodes and stores one object (added, changed or listed), given in `enc`.
    pub(crate) fn upsert(&mut self, bytes: &[u8], enc: Encoding) {
        if self.sharding.is_active() {
            // Decide on the uid alone before paying for a full decode.
            match self.generator.peek_encoded(bytes, enc) {
                Ok(k) if !self.sharding.keeps(&k.uid) => return,
                Ok(_) => {}
                Err(e) => return self.malformed(&e),
            }
        }
        match self
            .generator
            .generate_encoded(bytes, enc, &mut self.scratch)
        {
            Ok(key) => {
                let id = store_key(&key.uid, &key.namespace, &key.name);
                self.sink.apply(&id, &self.scratch);
            }
            Err(e) => self.malformed(&e),
        }
    }

    pub(crate) fn delete(&mut self, bytes: &[u8], enc: Encoding) {
        match self.generator.peek_encoded(bytes, enc) {
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
        self.stats.listed.store(0, Ordering::Relaxed);
        self.sink.relist_started();
    }

    pub(crate) fn relist_done(&mut self) {
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

/// The key a sink stores an object under: its uid, or `namespace/name` for the odd object
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
        match ev {
            Event::RelistStarted => self.relist_started(),
            Event::Listed(o) => {
                self.progress();
                self.upsert(o.bytes, o.encoding);
            }
            Event::RelistDone => self.relist_done(),
            Event::Applied(o) => {
                self.stats.applied.fetch_add(1, Ordering::Relaxed);
                self.upsert(o.bytes, o.encoding);
            }
            Event::Deleted(o) => {
                self.stats.deleted.fetch_add(1, Ordering::Relaxed);
                self.delete(o.bytes, o.encoding);
            }
        }
    }

    fn request(&mut self, kind: RequestKind, result: Result<(), &kubestate_watch::Error>) {
        self.stats
            .request(kind == RequestKind::List, result.is_ok());
    }
}
