//! The store the engine writes through, and the factory that publishes all its stores
//! behind one pointer.

use std::sync::Arc;

use arc_swap::ArcSwap;
use kubestate_metric::ObjectMetrics;
use parking_lot::Mutex;

use crate::{ObjectStore, StoreFactory, StoreInfo};

use super::*;

/// What one store holds, with its family names interned.
#[derive(Debug)]
pub struct StoreMeta {
    /// The engine's description of the store.
    pub info: StoreInfo,
    /// `family_syms[i]` is the interned name of `info.families[i]`.
    pub family_syms: Box<[Sym]>,
}

pub(super) type Map = imbl::HashMap<Box<str>, Arc<Object>>;

#[derive(Clone)]
pub(super) struct StoreState {
    pub(super) meta: Arc<StoreMeta>,
    pub(super) objects: Map,
}

#[derive(Clone, Default)]
pub(super) struct Published {
    pub(super) stores: Vec<StoreState>,
}

pub(super) struct Shared {
    pub(super) symbols: Arc<Symbols>,
    pub(super) published: ArcSwap<Published>,
    /// Per store slot: the map a relist is building, if one is in progress.
    pub(super) pending: Mutex<Vec<Option<Map>>>,
}

impl Shared {
    fn update(&self, slot: usize, f: impl FnOnce(&mut Map)) {
        let mut pending = self.pending.lock();
        if let Some(Some(p)) = pending.get_mut(slot) {
            f(p);
            return;
        }
        let mut next = (*self.published.load_full()).clone();
        if let Some(s) = next.stores.get_mut(slot) {
            f(&mut s.objects);
            self.published.store(Arc::new(next));
        }
    }
}

/// One engine store's [`ObjectStore`]: keeps each object as an [`Object`] and publishes through its factory.
pub struct StructuredStore {
    pub(super) slot: usize,
    pub(super) shared: Arc<Shared>,
}

impl ObjectStore for StructuredStore {
    fn apply(&self, uid: &str, obj: &ObjectMetrics) {
        // Freeze outside the lock: only the pointer swap is serialised.
        let o = Arc::new(Object::from_metrics(obj, &self.shared.symbols));
        self.shared.update(self.slot, |m| {
            m.insert(uid.into(), o);
        });
    }

    fn delete(&self, uid: &str) {
        self.shared.update(self.slot, |m| {
            m.remove(uid);
        });
    }

    /// Every change goes through the factory's lock.
    fn concurrent_relist(&self) -> bool {
        true
    }

    fn relist_started(&self) {
        if let Some(p) = self.shared.pending.lock().get_mut(self.slot) {
            *p = Some(Map::new());
        }
    }

    fn relist_done(&self) {
        let mut pending = self.shared.pending.lock();
        let Some(map) = pending.get_mut(self.slot).and_then(Option::take) else {
            return;
        };
        let mut next = (*self.shared.published.load_full()).clone();
        if let Some(s) = next.stores.get_mut(self.slot) {
            s.objects = map;
            self.shared.published.store(Arc::new(next));
        }
    }
}

/// Creates a [`StructuredStore`] for every engine store and gives consistent [`Snapshot`]s of
/// all of them. Clone it freely: clones share the stores.
#[derive(Clone)]
pub struct StructuredStoreFactory {
    pub(super) shared: Arc<Shared>,
}

impl Default for StructuredStoreFactory {
    fn default() -> Self {
        StructuredStoreFactory::new()
    }
}

impl StructuredStoreFactory {
    /// No stores yet.
    pub fn new() -> StructuredStoreFactory {
        StructuredStoreFactory::with_symbols(Arc::new(Symbols::new()))
    }

    /// No stores yet; names are interned in `symbols` (share one table with a reader that
    /// compiles names to symbols ahead of time).
    pub fn with_symbols(symbols: Arc<Symbols>) -> StructuredStoreFactory {
        StructuredStoreFactory {
            shared: Arc::new(Shared {
                symbols,
                published: ArcSwap::from_pointee(Published::default()),
                pending: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The name table of every store of this factory.
    pub fn symbols(&self) -> &Arc<Symbols> {
        &self.shared.symbols
    }

    /// Every store's contents at this instant: one atomic pointer load.
    pub fn snapshot(&self) -> Snapshot {
        // Load the stores before the names: every name they use was interned before they
        // were published, so the table taken afterwards resolves all of them.
        let published = self.shared.published.load_full();
        Snapshot {
            published,
            names: self.shared.symbols.table(),
            symbols: self.shared.symbols.clone(),
        }
    }
}

impl StoreFactory for StructuredStoreFactory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectStore> {
        let meta = Arc::new(StoreMeta {
            family_syms: info
                .families
                .iter()
                .map(|f| self.shared.symbols.intern(&f.name))
                .collect(),
            info: info.clone(),
        });
        let mut pending = self.shared.pending.lock();
        let mut next = (*self.shared.published.load_full()).clone();
        let slot = next.stores.len();
        next.stores.push(StoreState {
            meta,
            objects: Map::new(),
        });
        pending.push(None);
        self.shared.published.store(Arc::new(next));
        Arc::new(StructuredStore {
            slot,
            shared: self.shared.clone(),
        })
    }
}
