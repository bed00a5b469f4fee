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
//! The parts, each in its own file: `symbols` (interning), `object` (the compact frozen
//! object and its builder), `store` (the store and factory the engine writes through),
//! `snapshot` (read views) and `selector` (which series a reader asks for).
//!
//! ```
//! use std::sync::Arc;
//! use kubestate_metric::{FamilyDesc, MetricType, ObjectMetrics, Stability};
//! use kubestate_store::structured::{Selector, StructuredStoreFactory};
//! use kubestate_store::{StoreFactory, StoreInfo};
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
//! let store = factory.create(&StoreInfo {
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
//! store.apply("uid-1", &m);
//!
//! let snap = factory.snapshot();
//! let sel = Selector::new().family("kube_pod_info").label("namespace", "shop");
//! let found: Vec<_> = snap.select(&sel).map(|s| s.label("node").map(str::to_owned)).collect();
//! assert_eq!(found, vec![Some("n1".to_string())]);
//! ```

mod object;
mod selector;
mod snapshot;
mod store;
mod symbols;

pub use object::{Object, ObjectBuilder, SeriesView};
pub use selector::Selector;
pub use snapshot::{FamilyRef, Series, Snapshot, StoreView};
pub use store::{StoreMeta, StructuredStore, StructuredStoreFactory};
pub use symbols::{Sym, SymbolTable, Symbols};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use kubestate_metric::{FamilyDesc, MetricType, ObjectMetrics, Stability};

    use crate::{StoreFactory, StoreInfo};

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
