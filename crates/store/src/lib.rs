//! Keeping objects' metrics between scrapes: the store seam ([`ObjectStore`],
//! [`StoreFactory`]) and kubestate's two stores, pre-rendered text and structured series.
//!
//! Place in the data flow: family generators → **store** → readers (HTTP exposition, the
//! in-process check, your own reader). The engine hands every object's generated families to
//! an [`ObjectStore`]; what the store keeps is its own business. [`TextStore`] keeps each object's
//! families rendered as exposition lines, and [`Exposition`] writes all text stores
//! family-major, in bounded chunks, from a consistent snapshot.
//!
//! # Brief overview
//!
//! * [`ObjectStore`]: receives `apply`/`delete` per object and brackets relists; one per
//!   engine store (a resource, or a resource in one namespace).
//! * [`StoreFactory`]: creates the [`ObjectStore`] of each engine store; the engine calls it
//!   when it builds its stores.
//! * [`TextStore`] / [`TextStoreFactory`]: uid → rendered bytes, published through an
//!   [`Exposition`] that the HTTP server reads.
//! * [`Tee`]: feeds two stores at once (e.g. the text store and a check's structured store).
//!
//! # Example: a store that counts series per family
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use kubestate_metric::ObjectMetrics;
//! use kubestate_store::ObjectStore;
//!
//! #[derive(Default)]
//! struct Count(AtomicU64);
//! impl ObjectStore for Count {
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
mod group;
mod gzip;
mod index;
pub mod structured;
mod text;

pub use exposition::{Exposition, ResourceFilter, Scrape, TextStoreFactory};
pub use gzip::GzipScrape;
pub use structured::{Snapshot, StructuredStore, StructuredStoreFactory};
pub use text::{RenderedObject, Rests, TextStore, TextView};

/// Receives each object's families as the engine produces them. The engine drives; stores
/// react. Calls for one store come from one task at a time, in order (unless the store allows
/// concurrent applies during relists: [`ObjectStore::concurrent_relist`]).
pub trait ObjectStore: Send + Sync + 'static {
    /// The object was added or changed: `obj` replaces whatever was held for `uid`.
    fn apply(&self, uid: &str, obj: &ObjectMetrics);
    /// The object is gone.
    fn delete(&self, uid: &str);
    /// A (re)list begins: the objects applied until [`ObjectStore::relist_done`] are the
    /// complete new contents of the store.
    fn relist_started(&self) {}
    /// Whether, between [`ObjectStore::relist_started`] and [`ObjectStore::relist_done`],
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

/// Creates the [`ObjectStore`] of every store the engine builds.
pub trait StoreFactory: Send + Sync {
    /// The [`ObjectStore`] for the store `info` describes.
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectStore>;
    /// The store of `info` is gone for good (e.g. its custom resource is no longer served):
    /// forget it. Does nothing unless the factory publishes its stores somewhere.
    fn remove(&self, _info: &StoreInfo) {}
    /// Whether [`StoreFactory::project`] can succeed (a configuration change that only drops
    /// families then needs no relist). Default: no.
    fn can_project(&self) -> bool {
        false
    }
    /// Replaces the store of `from` (made by this factory and not in a relist) with a store
    /// for `to` holding the same objects, each keeping only some of its families: family `i`
    /// of `to` is family `keep[i]` of `from`. Readers see the new store at once, in place of
    /// the old one. `None` when this factory cannot (the engine then relists the resource
    /// into a new store).
    fn project(
        &self,
        _from: &StoreInfo,
        _to: &StoreInfo,
        _keep: &[usize],
    ) -> Option<Arc<dyn ObjectStore>> {
        None
    }
}

impl<F> StoreFactory for F
where
    F: Fn(&StoreInfo) -> Arc<dyn ObjectStore> + Send + Sync,
{
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectStore> {
        self(info)
    }
}

/// Feeds every event to two stores, in order.
pub struct Tee(pub Arc<dyn ObjectStore>, pub Arc<dyn ObjectStore>);

impl ObjectStore for Tee {
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

/// Two factories whose stores are fed together through a [`Tee`].
pub struct TeeFactory(pub Arc<dyn StoreFactory>, pub Arc<dyn StoreFactory>);

impl StoreFactory for TeeFactory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectStore> {
        Arc::new(Tee(self.0.create(info), self.1.create(info)))
    }
    fn remove(&self, info: &StoreInfo) {
        self.0.remove(info);
        self.1.remove(info);
    }
    fn can_project(&self) -> bool {
        self.0.can_project() && self.1.can_project()
    }
    fn project(
        &self,
        from: &StoreInfo,
        to: &StoreInfo,
        keep: &[usize],
    ) -> Option<Arc<dyn ObjectStore>> {
        if !self.can_project() {
            return None;
        }
        let a = self.0.project(from, to, keep)?;
        let b = self.1.project(from, to, keep)?;
        Some(Arc::new(Tee(a, b)))
    }
}
