//! A consistent view of every text store at one moment, and lookups of objects in it.

use std::sync::Arc;

use kubestate_metric::FamilyDesc;
use kubestate_store::{Exposition, RenderedObject, TextStore, TextView};

use crate::lines::{Labels, Raw};

/// One store of a [`Snapshot`].
#[derive(Clone)]
pub struct StoreSnap {
    /// Resource name (`pods`).
    pub resource: Arc<str>,
    /// The namespace the store is limited to, if any.
    pub namespace: Option<String>,
    /// Families in the store's order.
    pub families: Arc<[FamilyDesc]>,
    /// The objects.
    pub view: TextView,
    /// The store the view was taken from (tells stores apart across snapshots).
    pub(crate) store: Arc<TextStore>,
}

impl StoreSnap {
    /// Position of family `name` in this store.
    pub fn family_index(&self, name: &str) -> Option<usize> {
        self.families.iter().position(|f| f.name == name)
    }
}

/// Every text store at one moment (one pointer load each; nothing is copied).
#[derive(Clone, Default)]
pub struct Snapshot {
    /// The stores, sorted by resource then registration order.
    pub stores: Vec<StoreSnap>,
}

impl Snapshot {
    /// Views of all stores of `exposition` now.
    pub fn take(exposition: &Exposition) -> Snapshot {
        let mut stores: Vec<StoreSnap> = exposition
            .stores()
            .iter()
            .map(|s| StoreSnap {
                resource: s.info().resource.as_str().into(),
                namespace: s.info().namespace.clone(),
                families: s.info().families.clone(),
                view: s.view(),
                store: s.clone(),
            })
            .collect();
        stores.sort_by(|a, b| a.resource.cmp(&b.resource));
        Snapshot { stores }
    }

    /// The stores of `resource`.
    pub fn resource<'s>(&'s self, resource: &'s str) -> impl Iterator<Item = &'s StoreSnap> + 's {
        self.stores.iter().filter(move |s| &*s.resource == resource)
    }

    /// The object of `resource` called `name` (in `namespace`, for namespaced kinds).
    pub fn find<'s>(
        &'s self,
        resource: &'s str,
        namespace: &str,
        name: &str,
    ) -> Option<(&'s StoreSnap, &'s str, RenderedObject<'s>)> {
        self.resource(resource).find_map(|s| {
            s.view.objects().find_map(|(uid, o)| {
                let id = Identity::of(o.identity());
                (id.name.is_some_and(|n| n.is(name))
                    && id
                        .namespace
                        .map_or(namespace.is_empty(), |n| n.is(namespace)))
                .then_some((s, uid, o))
            })
        })
    }
}

/// Who an object is, read from its identity labels.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity<'a> {
    /// `namespace`, for namespaced kinds.
    pub namespace: Option<Raw<'a>>,
    /// The first identity label that is neither `namespace` nor `uid`: the object's name
    /// (`pod`, `node`, `deployment`…).
    pub name: Option<Raw<'a>>,
    /// The name of that label.
    pub name_label: &'a str,
}

impl<'a> Identity<'a> {
    /// Reads an identity prefix.
    pub fn of(prefix: &'a [u8]) -> Identity<'a> {
        let mut id = Identity::default();
        for (k, v) in Labels::new(prefix) {
            match k {
                "namespace" => id.namespace = Some(v),
                "uid" => {}
                _ if id.name.is_none() => {
                    id.name = Some(v);
                    id.name_label = k;
                }
                _ => {}
            }
        }
        id
    }
}
