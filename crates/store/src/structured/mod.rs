//! The structured store: each object's families kept as data (interned label names, label
//! values, sample values), for readers that want series rather than text — the in-process
//! check, or any program embedding the engine.
//!
//! Place in the data flow: engine → [`StructuredStore`] (one per engine store, created by a
//! [`StructuredStoreFactory`]) → [`Snapshot`] → readers. Nothing here does I/O.
//!
//! * Label and family names are interned once in a [`Symbols`] table shared by all stores of a
//!   factory; a label costs a [`Sym`] (4 bytes) plus its value's bytes.
//! * Every object is frozen into one compact [`Object`]: one string buffer, flat label and
//!   sample arrays, family offsets.
//! * Writers publish with a pointer swap of a persistent map, as the text store does; the
//!   factory publishes **all** its stores behind one pointer, so [`StructuredStoreFactory::snapshot`]
//!   is one atomic load and sees every resource at the same instant (between two engine
//!   events). A relist is built aside and swapped in whole, so a snapshot never sees a
//!   half-filled store.
//!
//! ```
//! use std::sync::Arc;
//! use kubestate_metric::{FamilyDesc, MetricType, ObjectMetrics, Stability};
//! use kubestate_store::structured::{Selector, StructuredStoreFactory};
//! use kubestate_store::{SinkFactory, StoreInfo};
//!
//! let factory = StructuredStoreFactory::new();
//! let families: Arc<[FamilyDesc]> = vec![FamilyDesc {
//!     name: "kube_pod_info".into(),
//!     help: "Pod information.".into(),
//!     ty: MetricType::Gauge,
//!     stability: Stability::Stable,
//!     deprecated_since: None,
//! }]
//! .into();
//! let sink = factory.create(&StoreInfo {
//!     resource: "pods".into(),
//!     namespace: None,
//!     index: 0,
//!     families,
//! });
//! let mut m = ObjectMetrics::new();
//! m.identity_label("namespace", "shop");
//! m.identity_label("pod", "web-0");
//! m.begin_family();
//! m.sample(&[("node", "n1")], 1.0);
//! sink.apply("uid-1", &m);
//!
//! let snap = factory.snapshot();
//! let sel = Selector::new().family("kube_pod_info").label("namespace", "shop");
//! let found: Vec<_> = snap.select(&sel).map(|s| s.label("node").map(str::to_owned)).collect();
//! assert_eq!(found, vec![Some("n1".to_string())]);
//! ```

use std::ops::Range;
use std::sync::Arc;

use ahash::AHashMap;
use arc_swap::ArcSwap;
use kubestate_metric::{FamilyDesc, ObjectMetrics};
use parking_lot::{Mutex, RwLock};

use crate::{ObjectSink, SinkFactory, StoreInfo};

/// An interned name (label or family name) in a [`Symbols`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

impl Sym {
    /// The symbol's position in its table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An append-only table of interned names. Readers resolve symbols through a lock-free
/// [`SymbolTable`] snapshot; interning takes a lock only when the name is new.
#[derive(Default)]
pub struct Symbols {
    map: RwLock<AHashMap<Arc<str>, Sym>>,
    names: ArcSwap<Vec<Arc<str>>>,
}

/// The names of a [`Symbols`] table at one moment; index it with a [`Sym`].
pub type SymbolTable = Arc<Vec<Arc<str>>>;

impl Symbols {
    /// An empty table.
    pub fn new() -> Symbols {
        Symbols::default()
    }

    /// The symbol of `name`, interning it if new.
    pub fn intern(&self, name: &str) -> Sym {
        if let Some(s) = self.map.read().get(name) {
            return *s;
        }
        let mut map = self.map.write();
        if let Some(s) = map.get(name) {
            return *s;
        }
        let names = self.names.load_full();
        let sym = Sym(names.len() as u32);
        let name: Arc<str> = name.into();
        let mut next = Vec::with_capacity(names.len() + 1);
        next.extend(names.iter().cloned());
        next.push(name.clone());
        self.names.store(Arc::new(next));
        map.insert(name, sym);
        sym
    }

    /// The symbol of `name`, if it was ever interned.
    pub fn get(&self, name: &str) -> Option<Sym> {
        self.map.read().get(name).copied()
    }

    /// The current names (lock-free; every symbol handed out so far resolves in it).
    pub fn table(&self) -> SymbolTable {
        self.names.load_full()
    }

    /// Number of names interned.
    pub fn len(&self) -> usize {
        self.names.load().len()
    }

    /// Whether nothing was interned yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Copy, Debug)]
struct Label {
    name: Sym,
    start: u32,
    end: u32,
}

#[derive(Clone, Debug)]
struct SampleRec {
    labels: Range<u32>,
    value: f64,
}

/// One object's families, frozen and compact: one string buffer for all label values, flat
/// arrays of labels and samples, and family offsets. Family `i` is family `i` of the store's
/// [`StoreInfo::families`].
#[derive(Debug)]
pub struct Object {
    strings: Box<str>,
    labels: Box<[Label]>,
    samples: Box<[SampleRec]>,
    /// `families[i]..families[i + 1]` are the samples of family `i`.
    families: Box<[u32]>,
    identity: u32,
}

impl Object {
    /// Freezes an engine arena, interning label names in `symbols`.
    pub fn from_metrics(m: &ObjectMetrics, symbols: &Symbols) -> Object {
        let mut b = ObjectBuilder::new();
        for (k, v) in m.identity() {
            b.identity_label(symbols.intern(k), v);
        }
        for f in m.families() {
            b.begin_family();
            for s in f.samples() {
                b.begin_sample();
                for (k, v) in s.own_labels() {
                    b.label(symbols.intern(k), v);
                }
                b.finish_sample(s.value());
            }
        }
        b.build()
    }

    fn text(&self, l: &Label) -> &str {
        self.strings
            .get(l.start as usize..l.end as usize)
            .unwrap_or("")
    }

    /// The identity labels (written first on every series of the object).
    pub fn identity(&self) -> impl ExactSizeIterator<Item = (Sym, &str)> + '_ {
        self.labels[..self.identity as usize]
            .iter()
            .map(|l| (l.name, self.text(l)))
    }

    /// Number of families.
    pub fn family_count(&self) -> usize {
        self.families.len().saturating_sub(1)
    }

    /// Number of series over all families.
    pub fn series_count(&self) -> usize {
        self.samples.len()
    }

    /// The series of family `i` (empty if there is no such family).
    pub fn family(&self, i: usize) -> impl ExactSizeIterator<Item = SeriesView<'_>> + '_ {
        let r = match (self.families.get(i), self.families.get(i + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        self.samples[r]
            .iter()
            .map(move |rec| SeriesView { obj: self, rec })
    }

    /// Bytes held on the heap by this object.
    pub fn heap_bytes(&self) -> usize {
        self.strings.len()
            + self.labels.len() * std::mem::size_of::<Label>()
            + self.samples.len() * std::mem::size_of::<SampleRec>()
            + self.families.len() * 4
    }
}

/// One series of an [`Object`]: identity labels, its own labels, a value.
#[derive(Clone, Copy, Debug)]
pub struct SeriesView<'a> {
    obj: &'a Object,
    rec: &'a SampleRec,
}

impl<'a> SeriesView<'a> {
    /// The value.
    pub fn value(&self) -> f64 {
        self.rec.value
    }

    /// The object this series belongs to.
    pub fn object(&self) -> &'a Object {
        self.obj
    }

    /// The family's own labels (without the identity labels).
    pub fn own(&self) -> impl ExactSizeIterator<Item = (Sym, &'a str)> + 'a {
        let obj = self.obj;
        obj.labels[self.rec.labels.start as usize..self.rec.labels.end as usize]
            .iter()
            .map(move |l| (l.name, obj.text(l)))
    }

    /// All labels: identity first, then the family's own, in KSM's order.
    pub fn labels(&self) -> impl Iterator<Item = (Sym, &'a str)> + 'a {
        self.obj.identity().chain(self.own())
    }

    /// The value of label `name`, if the series has it (own labels are searched first, so a
    /// family label shadows an identity label of the same name, as in the text).
    pub fn get(&self, name: Sym) -> Option<&'a str> {
        self.own()
            .find(|(k, _)| *k == name)
            .or_else(|| self.obj.identity().find(|(k, _)| *k == name))
            .map(|(_, v)| v)
    }
}

/// Builds an [`Object`] label by label: for scrape mode and tests, where there is no engine
/// arena. Values can be copied in ([`ObjectBuilder::label`]) or refer to text already in the
/// buffer ([`ObjectBuilder::label_at`], used to keep a scraped body without copying it).
#[derive(Default, Debug)]
pub struct ObjectBuilder {
    strings: String,
    labels: Vec<Label>,
    samples: Vec<SampleRec>,
    families: Vec<u32>,
    identity: u32,
    open: Option<u32>,
}

impl ObjectBuilder {
    /// An empty builder.
    pub fn new() -> ObjectBuilder {
        ObjectBuilder::default()
    }

    /// A builder whose string buffer starts as `text`, so that values can point into it with
    /// [`ObjectBuilder::label_at`].
    pub fn with_text(text: String) -> ObjectBuilder {
        ObjectBuilder {
            strings: text,
            ..ObjectBuilder::default()
        }
    }

    /// The buffer so far.
    pub fn text(&self) -> &str {
        &self.strings
    }

    fn push(&mut self, name: Sym, v: &str) {
        let start = self.strings.len() as u32;
        self.strings.push_str(v);
        self.labels.push(Label {
            name,
            start,
            end: self.strings.len() as u32,
        });
    }

    /// Adds an identity label. Call before the first family.
    pub fn identity_label(&mut self, name: Sym, value: &str) {
        self.push(name, value);
        self.identity = self.labels.len() as u32;
    }

    /// Starts the next family.
    pub fn begin_family(&mut self) {
        if self.families.is_empty() {
            self.families.push(self.samples.len() as u32);
        }
        self.families.push(self.samples.len() as u32);
    }

    /// Starts a sample of the current family.
    pub fn begin_sample(&mut self) {
        self.open = Some(self.labels.len() as u32);
    }

    /// Adds a label (value copied) to the open sample.
    pub fn label(&mut self, name: Sym, value: &str) {
        self.push(name, value);
    }

    /// Adds a label whose value is `range` of the buffer. Returns `false` (and adds nothing)
    /// when `range` is not a valid part of the buffer.
    pub fn label_at(&mut self, name: Sym, range: Range<usize>) -> bool {
        if self.strings.get(range.clone()).is_none() {
            return false;
        }
        self.labels.push(Label {
            name,
            start: range.start as u32,
            end: range.end as u32,
        });
        true
    }

    /// Finishes the open sample.
    pub fn finish_sample(&mut self, value: f64) {
        let start = self.open.take().unwrap_or(self.labels.len() as u32);
        self.samples.push(SampleRec {
            labels: start..self.labels.len() as u32,
            value,
        });
        if let Some(last) = self.families.last_mut() {
            *last = self.samples.len() as u32;
        }
    }

    /// Freezes the object.
    pub fn build(self) -> Object {
        let mut families = self.families;
        if families.is_empty() {
            families.push(0);
        }
        Object {
            strings: self.strings.into_boxed_str(),
            labels: self.labels.into_boxed_slice(),
            samples: self.samples.into_boxed_slice(),
            families: families.into_boxed_slice(),
            identity: self.identity,
        }
    }
}

/// What one store holds, with its family names interned.
#[derive(Debug)]
pub struct StoreMeta {
    /// The engine's description of the store.
    pub info: StoreInfo,
    /// `family_syms[i]` is the interned name of `info.families[i]`.
    pub family_syms: Box<[Sym]>,
}

type Map = imbl::HashMap<Box<str>, Arc<Object>>;

#[derive(Clone)]
struct StoreState {
    meta: Arc<StoreMeta>,
    objects: Map,
}

#[derive(Clone, Default)]
struct Published {
    stores: Vec<StoreState>,
}

struct Shared {
    symbols: Arc<Symbols>,
    published: ArcSwap<Published>,
    /// Per store slot: the map a relist is building, if one is in progress.
    pending: Mutex<Vec<Option<Map>>>,
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

/// A store's sink: keeps each object as an [`Object`] and publishes through its factory.
pub struct StructuredStore {
    slot: usize,
    shared: Arc<Shared>,
}

impl ObjectSink for StructuredStore {
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
    shared: Arc<Shared>,
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

impl SinkFactory for StructuredStoreFactory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectSink> {
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

/// All stores at one instant. Cheap to take and to keep (it shares the objects with the live
/// stores); later writes never change it.
#[derive(Clone)]
pub struct Snapshot {
    published: Arc<Published>,
    names: SymbolTable,
    symbols: Arc<Symbols>,
}

impl Snapshot {
    /// A snapshot of objects that did not come from an engine (the check's scrape mode builds
    /// one from parsed text). Names in `stores` must be interned in `symbols`.
    pub fn from_stores(symbols: Arc<Symbols>, stores: Vec<(StoreInfo, Vec<Object>)>) -> Snapshot {
        let stores = stores
            .into_iter()
            .map(|(info, objects)| {
                let meta = Arc::new(StoreMeta {
                    family_syms: info
                        .families
                        .iter()
                        .map(|f| symbols.intern(&f.name))
                        .collect(),
                    info,
                });
                let objects = objects
                    .into_iter()
                    .enumerate()
                    .map(|(i, o)| (i.to_string().into_boxed_str(), Arc::new(o)))
                    .collect();
                StoreState { meta, objects }
            })
            .collect();
        Snapshot {
            published: Arc::new(Published { stores }),
            names: symbols.table(),
            symbols,
        }
    }

    /// The name of a symbol (empty for a symbol from another table).
    pub fn name(&self, sym: Sym) -> &str {
        self.names.get(sym.index()).map_or("", |s| s)
    }

    /// The names table this snapshot resolves symbols with.
    pub fn names(&self) -> &SymbolTable {
        &self.names
    }

    /// The symbol of a name, if any store ever used it.
    pub fn sym(&self, name: &str) -> Option<Sym> {
        self.symbols.get(name)
    }

    /// The stores, in creation order.
    pub fn stores(&self) -> impl ExactSizeIterator<Item = StoreView<'_>> + '_ {
        self.published.stores.iter().map(|s| StoreView { state: s })
    }

    /// Number of objects over all stores.
    pub fn object_count(&self) -> usize {
        self.published.stores.iter().map(|s| s.objects.len()).sum()
    }

    /// Number of series over all stores.
    pub fn series_count(&self) -> usize {
        self.published
            .stores
            .iter()
            .flat_map(|s| s.objects.values())
            .map(|o| o.series_count())
            .sum()
    }

    /// Every family, grouped by resource (a resource's namespace stores are merged), in store
    /// order then table order. Families with no series are included.
    pub fn families(&self) -> Vec<FamilyRef<'_>> {
        let mut out: Vec<FamilyRef<'_>> = Vec::new();
        let mut seen: AHashMap<(&str, &str), usize> = AHashMap::new();
        for s in &self.published.stores {
            for (i, f) in s.meta.info.families.iter().enumerate() {
                let key = (s.meta.info.resource.as_str(), f.name.as_str());
                match seen.get(&key) {
                    Some(&at) => out[at].parts.push((s, i)),
                    None => {
                        seen.insert(key, out.len());
                        out.push(FamilyRef {
                            desc: f,
                            snapshot: self,
                            parts: vec![(s, i)],
                        });
                    }
                }
            }
        }
        out
    }

    /// The family called `name` (merged over all stores that carry it).
    pub fn family(&self, name: &str) -> Option<FamilyRef<'_>> {
        let mut parts = Vec::new();
        let mut desc = None;
        for s in &self.published.stores {
            if let Some(i) = s.meta.info.families.iter().position(|f| f.name == name) {
                desc.get_or_insert(&s.meta.info.families[i]);
                parts.push((s, i));
            }
        }
        desc.map(|desc| FamilyRef {
            desc,
            snapshot: self,
            parts,
        })
    }

    /// The series that `selector` admits, family by family.
    pub fn select<'s>(&'s self, selector: &Selector) -> impl Iterator<Item = Series<'s>> + 's {
        // Resolve names once: a name no store ever used matches nothing.
        let labels: Option<Vec<(Sym, String)>> = selector
            .labels
            .iter()
            .map(|(k, v)| self.sym(k).map(|s| (s, v.clone())))
            .collect();
        let families = selector.families.clone();
        let resources = selector.resources.clone();
        let fams: Vec<FamilyRef<'s>> = match labels {
            None => Vec::new(),
            Some(_) => self
                .families()
                .into_iter()
                .filter(|f| families.as_ref().is_none_or(|n| n.contains(&f.desc.name)))
                .filter(|f| {
                    resources
                        .as_ref()
                        .is_none_or(|r| r.iter().any(|r| *r == f.resource()))
                })
                .collect(),
        };
        let labels = labels.unwrap_or_default();
        fams.into_iter()
            .flat_map(|f| f.series_owned())
            .filter(move |s| {
                labels
                    .iter()
                    .all(|(k, v)| s.view.get(*k) == Some(v.as_str()))
            })
    }
}

/// One store of a [`Snapshot`].
#[derive(Clone, Copy)]
pub struct StoreView<'s> {
    state: &'s StoreState,
}

impl<'s> StoreView<'s> {
    /// What the store is.
    pub fn meta(&self) -> &'s StoreMeta {
        &self.state.meta
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.state.objects.len()
    }

    /// Whether the store holds no object.
    pub fn is_empty(&self) -> bool {
        self.state.objects.is_empty()
    }

    /// The objects with their uids (in no particular order).
    pub fn objects(&self) -> impl Iterator<Item = (&'s str, &'s Object)> + 's {
        self.state.objects.iter().map(|(k, v)| (&**k, &**v))
    }
}

/// One family across the stores of its resource.
#[derive(Clone)]
pub struct FamilyRef<'s> {
    desc: &'s FamilyDesc,
    snapshot: &'s Snapshot,
    parts: Vec<(&'s StoreState, usize)>,
}

impl<'s> FamilyRef<'s> {
    /// The family's name, help and type.
    pub fn desc(&self) -> &'s FamilyDesc {
        self.desc
    }

    /// The resource the family belongs to.
    pub fn resource(&self) -> &'s str {
        self.parts
            .first()
            .map_or("", |(s, _)| s.meta.info.resource.as_str())
    }

    /// Every series of the family, object by object.
    pub fn series(&self) -> impl Iterator<Item = Series<'s>> + '_ {
        self.clone().series_owned()
    }

    fn series_owned(self) -> impl Iterator<Item = Series<'s>> + 's {
        let (desc, snapshot) = (self.desc, self.snapshot);
        self.parts.into_iter().flat_map(move |(s, i)| {
            s.objects.values().flat_map(move |o| {
                o.family(i).map(move |view| Series {
                    family: desc,
                    view,
                    snapshot,
                })
            })
        })
    }
}

/// One series of a snapshot, with its family and names resolved.
#[derive(Clone, Copy)]
pub struct Series<'s> {
    family: &'s FamilyDesc,
    view: SeriesView<'s>,
    snapshot: &'s Snapshot,
}

impl<'s> Series<'s> {
    /// The family.
    pub fn family(&self) -> &'s FamilyDesc {
        self.family
    }

    /// The value.
    pub fn value(&self) -> f64 {
        self.view.value()
    }

    /// Labels by name: identity labels first, then the family's own.
    pub fn labels(&self) -> impl Iterator<Item = (&'s str, &'s str)> + 's {
        let snap = self.snapshot;
        self.view.labels().map(move |(k, v)| (snap.name(k), v))
    }

    /// The value of one label.
    pub fn label(&self, name: &str) -> Option<&'s str> {
        self.view.get(self.snapshot.sym(name)?)
    }

    /// The structured view (symbols instead of names).
    pub fn view(&self) -> SeriesView<'s> {
        self.view
    }
}

/// Which series [`Snapshot::select`] returns: families by name, resources, and label
/// equalities (all must hold). An empty selector admits everything.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    families: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    labels: Vec<(String, String)>,
}

impl Selector {
    /// Admits every series.
    pub fn new() -> Selector {
        Selector::default()
    }

    /// Also admit family `name` (the first call restricts the selection to named families).
    pub fn family(mut self, name: impl Into<String>) -> Selector {
        self.families.get_or_insert_with(Vec::new).push(name.into());
        self
    }

    /// Also admit resource `name` (`pods`); the first call restricts to named resources.
    pub fn resource(mut self, name: impl Into<String>) -> Selector {
        self.resources
            .get_or_insert_with(Vec::new)
            .push(name.into());
        self
    }

    /// Only series whose label `name` equals `value`.
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Selector {
        self.labels.push((name.into(), value.into()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubestate_metric::{MetricType, Stability};

    fn desc(name: &str) -> FamilyDesc {
        FamilyDesc {
            name: name.into(),
            help: "h".into(),
            ty: MetricType::Gauge,
            stability: Stability::Alpha,
            deprecated_since: None,
        }
    }

    fn info(resource: &str, ns: Option<&str>, fams: &[&str]) -> StoreInfo {
        StoreInfo {
            resource: resource.into(),
            namespace: ns.map(Into::into),
            index: 0,
            families: fams.iter().map(|f| desc(f)).collect::<Vec<_>>().into(),
        }
    }

    fn pod(ns: &str, name: &str, phase: &str) -> ObjectMetrics {
        let mut m = ObjectMetrics::new();
        m.identity_label("namespace", ns);
        m.identity_label("pod", name);
        m.begin_family();
        m.sample(&[("node", "n1")], 1.0);
        m.begin_family();
        for p in ["Pending", "Running"] {
            m.sample(&[("phase", p)], f64::from(u8::from(p == phase)));
        }
        m
    }

    #[test]
    fn objects_keep_identity_families_and_values() {
        let symbols = Symbols::new();
        let o = Object::from_metrics(&pod("a", "p", "Running"), &symbols);
        assert_eq!(o.family_count(), 2);
        assert_eq!(o.series_count(), 3);
        let t = symbols.table();
        let ident: Vec<_> = o.identity().map(|(k, v)| (&*t[k.index()], v)).collect();
        assert_eq!(ident, vec![("namespace", "a"), ("pod", "p")]);
        let phases: Vec<_> = o
            .family(1)
            .map(|s| (s.get(symbols.intern("phase")), s.value()))
            .collect();
        assert_eq!(phases, vec![(Some("Pending"), 0.0), (Some("Running"), 1.0)]);
        assert_eq!(o.family(7).count(), 0);
        assert_eq!(symbols.intern("pod"), symbols.get("pod").unwrap());
    }

    #[test]
    fn snapshot_sees_all_stores_and_is_immutable() {
        let f = StructuredStoreFactory::new();
        let pods = f.create(&info(
            "pods",
            None,
            &["kube_pod_info", "kube_pod_status_phase"],
        ));
        let nodes = f.create(&info("nodes", None, &["kube_node_info"]));
        pods.apply("u1", &pod("a", "p1", "Running"));
        pods.apply("u2", &pod("b", "p2", "Pending"));
        let mut n = ObjectMetrics::new();
        n.identity_label("node", "n1");
        n.begin_family();
        n.sample(&[], 1.0);
        nodes.apply("n1", &n);
        let before = f.snapshot();
        pods.delete("u1");
        assert_eq!(before.object_count(), 3);
        assert_eq!(before.series_count(), 7);
        assert_eq!(f.snapshot().object_count(), 2);
        let mut running: Vec<_> = before
            .select(
                &Selector::new()
                    .family("kube_pod_status_phase")
                    .label("phase", "Running"),
            )
            .map(|s| (s.label("pod").unwrap_or("").to_string(), s.value()))
            .collect();
        running.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            running,
            vec![("p1".to_string(), 1.0), ("p2".to_string(), 0.0)]
        );
        assert_eq!(before.select(&Selector::new().resource("nodes")).count(), 1);
        assert_eq!(
            before
                .select(&Selector::new().label("nosuchlabel", "x"))
                .count(),
            0
        );
        let names: Vec<_> = before
            .families()
            .iter()
            .map(|f| f.desc().name.clone())
            .collect();
        assert_eq!(
            names,
            vec!["kube_pod_info", "kube_pod_status_phase", "kube_node_info"]
        );
        let labels: Vec<_> = before
            .family("kube_node_info")
            .unwrap()
            .series()
            .flat_map(|s| s.labels().collect::<Vec<_>>())
            .collect();
        assert_eq!(labels, vec![("node", "n1")]);
    }

    #[test]
    fn relists_swap_in_whole_and_namespace_stores_merge() {
        let f = StructuredStoreFactory::new();
        let a = f.create(&info("pods", Some("a"), &["kube_pod_info", "x"]));
        let b = f.create(&info("pods", Some("b"), &["kube_pod_info", "x"]));
        a.apply("u1", &pod("a", "p1", "Running"));
        b.apply("u2", &pod("b", "p2", "Running"));
        a.relist_started();
        a.apply("u3", &pod("a", "p3", "Running"));
        let mid = f.snapshot();
        let pods: Vec<_> = mid
            .family("kube_pod_info")
            .unwrap()
            .series()
            .map(|s| s.label("pod").unwrap_or("").to_string())
            .collect();
        assert_eq!(pods.len(), 2);
        assert!(pods.contains(&"p1".to_string()) && pods.contains(&"p2".to_string()));
        a.relist_done();
        let after: Vec<_> = f
            .snapshot()
            .select(
                &Selector::new()
                    .family("kube_pod_info")
                    .label("namespace", "a"),
            )
            .map(|s| s.label("pod").unwrap_or("").to_string())
            .collect();
        assert_eq!(after, vec!["p3"]);
        assert_eq!(f.snapshot().families().len(), 2);
    }

    #[test]
    fn builder_refers_to_text_without_copying() {
        let symbols = Arc::new(Symbols::new());
        let text = String::from("abc");
        let mut b = ObjectBuilder::with_text(text);
        b.begin_family();
        b.begin_sample();
        assert!(b.label_at(symbols.intern("k"), 1..3));
        assert!(!b.label_at(symbols.intern("k"), 2..9));
        b.label(symbols.intern("j"), "copied");
        b.finish_sample(2.5);
        let o = b.build();
        let snap = Snapshot::from_stores(
            symbols.clone(),
            vec![(info("scrape", None, &["f"]), vec![o])],
        );
        let s: Vec<_> = snap.family("f").unwrap().series().collect();
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].labels().collect::<Vec<_>>(),
            vec![("k", "bc"), ("j", "copied")]
        );
        assert_eq!(s[0].value(), 2.5);
    }
}
