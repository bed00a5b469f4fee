//! The object sink seam and kubestate's default store of pre-rendered text.
//!
//! Place in the data flow: family generators → **store** → readers (HTTP exposition, the
//! in-process check, custom sinks). The engine hands every object's generated families to an
//! [`ObjectSink`]; what the sink keeps is its own business. [`TextStore`] keeps each object's
//! families rendered as exposition lines, and [`Exposition`] writes all text stores
//! family-major, in bounded chunks, from a consistent snapshot.
//!
//! # Brief overview
//!
//! * [`ObjectSink`]: receives `apply`/`delete` per object and brackets relists; one sink per
//!   store (a resource, or a resource in one namespace).
//! * [`SinkFactory`]: creates the sink of each store; the engine calls it when it builds stores.
//! * [`TextStore`] / [`TextStoreFactory`]: uid → rendered bytes, published through an
//!   [`Exposition`] that the HTTP server reads.
//! * [`Tee`]: feeds two sinks at once (e.g. the text store and a check's structured store).
//!
//! # Example: a sink that counts series per family
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use kubestate_metric::ObjectMetrics;
//! use kubestate_store::ObjectSink;
//!
//! #[derive(Default)]
//! struct Count(AtomicU64);
//! impl ObjectSink for Count {
//!     fn apply(&self, _uid: &str, obj: &ObjectMetrics) {
//!         self.0.fetch_add(obj.sample_count() as u64, Ordering::Relaxed);
//!     }
//!     fn delete(&self, _uid: &str) {}
//! }
//!
//! let c = Count::default();
//! let mut m = ObjectMetrics::new();
//! m.begin_family();
//! m.sample(&[], 1.0);
//! c.apply("uid-1", &m);
//! assert_eq!(c.0.load(Ordering::Relaxed), 1);
//! ```
#![deny(missing_docs)]

use std::sync::Arc;

use kubestate_metric::{FamilyDesc, ObjectMetrics};

mod exposition;
mod gzip;
pub mod structured;
mod text;

pub use exposition::{Exposition, ResourceFilter, Scrape};
pub use gzip::GzipScrape;
pub use structured::{Snapshot, StructuredStore, StructuredStoreFactory};
pub use text::{RenderedObject, Rests, TextStore, TextStoreFactory, TextView};

/// Receives each object's families as the engine produces them. The engine drives; sinks
/// react. Calls for one store come from one task at a time, in order (unless the sink allows
/// concurrent applies during relists: [`ObjectSink::concurrent_relist`]).
pub trait ObjectSink: Send + Sync + 'static {
    /// The object was added or changed: `obj` replaces whatever was held for `uid`.
    fn apply(&self, uid: &str, obj: &ObjectMetrics);
    /// The object is gone.
    fn delete(&self, uid: &str);
    /// A (re)list begins: the objects applied until [`ObjectSink::relist_done`] are the
    /// complete new contents of the store.
    fn relist_started(&self) {}
    /// Whether, between [`ObjectSink::relist_started`] and [`ObjectSink::relist_done`],
    /// `apply` may be called from several threads at once (each object once, in no particular
    /// order). The engine then decodes and generates large lists on all cores. Outside
    /// relists, calls stay one at a time and in order. Default: no.
    fn concurrent_relist(&self) -> bool {
        false
    }
    /// The relist is complete: anything not applied since `relist_started` is gone.
    fn relist_done(&self) {}
}

/// What a store is for: the resource, the namespace it is limited to, and the families each
/// object will carry (family `i` of every [`ObjectMetrics`] is `families[i]`).
#[derive(Clone, Debug)]
pub struct StoreInfo {
    /// Resource name (`pods`), or the custom resource's GVR string.
    pub resource: String,
    /// The namespace this store covers, `None` for all namespaces.
    pub namespace: Option<String>,
    /// Position of this store among the resource's stores (`--namespaces` order).
    pub index: usize,
    /// The enabled families, in output order.
    pub families: Arc<[FamilyDesc]>,
}

/// Creates the sink of every store the engine builds.
pub trait SinkFactory: Send + Sync {
    /// The sink for one store.
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectSink>;
    /// The store of `info` is gone for good (e.g. its custom resource is no longer served):
    /// forget it. Does nothing unless the factory publishes its sinks somewhere.
    fn remove(&self, _info: &StoreInfo) {}
}

impl<F> SinkFactory for F
where
    F: Fn(&StoreInfo) -> Arc<dyn ObjectSink> + Send + Sync,
{
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectSink> {
        self(info)
    }
}

/// Feeds every event to two sinks, in order.
pub struct Tee(pub Arc<dyn ObjectSink>, pub Arc<dyn ObjectSink>);

impl ObjectSink for Tee {
    fn apply(&self, uid: &str, obj: &ObjectMetrics) {
        self.0.apply(uid, obj);
        self.1.apply(uid, obj);
    }
    fn delete(&self, uid: &str) {
        self.0.delete(uid);
        self.1.delete(uid);
    }
    fn relist_started(&self) {
        self.0.relist_started();
        self.1.relist_started();
    }
    fn concurrent_relist(&self) -> bool {
        self.0.concurrent_relist() && self.1.concurrent_relist()
    }
    fn relist_done(&self) {
        self.0.relist_done();
        self.1.relist_done();
    }
}

/// Two factories whose sinks are fed together through a [`Tee`].
pub struct TeeFactory(pub Arc<dyn SinkFactory>, pub Arc<dyn SinkFactory>);

impl SinkFactory for TeeFactory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectSink> {
        Arc::new(Tee(self.0.create(info), self.1.create(info)))
    }
    fn remove(&self, info: &StoreInfo) {
        self.0.remove(info);
        self.1.remove(info);
    }
}
