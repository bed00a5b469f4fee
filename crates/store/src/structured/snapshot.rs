//! Read views: every store at one instant, down to single series.

use std::sync::Arc;

use ahash::AHashMap;
use kubestate_metric::FamilyDesc;

use crate::StoreInfo;

use super::store::{Published, StoreState};
use super::*;

/// All stores at one instant. Cheap to take and to keep (it shares the objects with the live
/// stores); later writes never change it.
#[derive(Clone)]
pub struct Snapshot {
    pub(super) published: Arc<Published>,
    pub(super) names: SymbolTable,
    pub(super) symbols: Arc<Symbols>,
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
    pub(super) state: &'s StoreState,
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
    pub(super) desc: &'s FamilyDesc,
    pub(super) snapshot: &'s Snapshot,
    pub(super) parts: Vec<(&'s StoreState, usize)>,
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
    pub(super) family: &'s FamilyDesc,
    pub(super) view: SeriesView<'s>,
    pub(super) snapshot: &'s Snapshot,
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
