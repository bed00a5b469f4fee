//! Small in-memory worlds for the unit tests: text stores filled through the real sink API.

use std::sync::Arc;

use kubestate_metric::{FamilyDesc, MetricType, ObjectMetrics, Stability};
use kubestate_store::{Exposition, ObjectStore, StoreFactory, StoreInfo, TextStoreFactory};

use crate::snapshot::Snapshot;

fn desc(name: &str) -> FamilyDesc {
    FamilyDesc {
        name: name.into(),
        help: format!("help of {name}"),
        ty: MetricType::Gauge,
        stability: Stability::Stable,
        deprecated_since: None,
    }
}

/// A world under construction: one store per resource.
pub struct World {
    pub exposition: Arc<Exposition>,
    factory: TextStoreFactory,
}

impl World {
    pub fn new() -> World {
        let exposition = Arc::new(Exposition::new());
        World {
            factory: TextStoreFactory::new(exposition.clone()),
            exposition,
        }
    }

    pub fn store(&self, resource: &str, families: &[&str]) -> Arc<dyn ObjectStore> {
        self.factory.create(&StoreInfo {
            resource: resource.into(),
            namespace: None,
            index: 0,
            families: families.iter().map(|f| desc(f)).collect::<Vec<_>>().into(),
        })
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot::take(&self.exposition)
    }
}

pub const POD_FAMILIES: &[&str] = &[
    "kube_pod_info",
    "kube_pod_status_phase",
    "kube_pod_status_ready",
    "kube_pod_container_status_waiting_reason",
    "kube_pod_container_status_restarts_total",
    "kube_pod_owner",
];

/// A pod in `phase`, ready or not, with one container (waiting for `waiting` if given),
/// owned by replicaset `rs` if given.
#[derive(Clone, Copy)]
pub struct Pod<'a> {
    pub ns: &'a str,
    pub name: &'a str,
    pub node: &'a str,
    pub phase: &'a str,
    pub ready: bool,
    pub waiting: Option<&'a str>,
    pub restarts: f64,
    pub rs: Option<&'a str>,
}

pub fn pod(p: &Pod<'_>) -> ObjectMetrics {
    let (ns, name, node, phase) = (p.ns, p.name, p.node, p.phase);
    let (ready, waiting, restarts, rs) = (p.ready, p.waiting, p.restarts, p.rs);
    let mut m = ObjectMetrics::new();
    m.identity_label("namespace", ns);
    m.identity_label("pod", name);
    m.identity_label("uid", &format!("uid-{ns}-{name}"));
    m.begin_family();
    m.sample(&[("node", node), ("host_ip", "10.0.0.1")], 1.0);
    m.begin_family();
    for p in ["Pending", "Succeeded", "Failed", "Unknown", "Running"] {
        m.sample(&[("phase", p)], f64::from(u8::from(p == phase)));
    }
    m.begin_family();
    for c in ["true", "false", "unknown"] {
        let v = (c == "true" && ready) || (c == "false" && !ready);
        m.sample(&[("condition", c)], f64::from(u8::from(v)));
    }
    m.begin_family();
    if let Some(w) = waiting {
        m.sample(&[("container", "app"), ("reason", w)], 1.0);
    }
    m.begin_family();
    m.sample(&[("container", "app")], restarts);
    m.begin_family();
    match rs {
        Some(rs) => m.sample(
            &[
                ("owner_kind", "ReplicaSet"),
                ("owner_name", rs),
                ("owner_is_controller", "true"),
            ],
            1.0,
        ),
        None => m.sample(
            &[
                ("owner_kind", "<none>"),
                ("owner_name", "<none>"),
                ("owner_is_controller", "<none>"),
            ],
            1.0,
        ),
    }
    m
}

/// An object with a name label and the given scalar families (no own labels).
pub fn scalar_object(ns: &str, label: &str, name: &str, values: &[f64]) -> ObjectMetrics {
    let mut m = ObjectMetrics::new();
    if !ns.is_empty() {
        m.identity_label("namespace", ns);
    }
    m.identity_label(label, name);
    for v in values {
        m.begin_family();
        m.sample(&[], *v);
    }
    m
}

/// Pods in two namespaces, a replicaset → deployment chain, and two nodes (one not ready).
pub fn small() -> World {
    let w = World::new();
    let pods = w.store("pods", POD_FAMILIES);
    let all = [
        (
            "a",
            "web-1",
            "n1",
            "Running",
            true,
            None,
            0.0,
            Some("web-rs"),
        ),
        (
            "a",
            "web-2",
            "n1",
            "Running",
            false,
            Some("CrashLoopBackOff"),
            7.0,
            Some("web-rs"),
        ),
        ("a", "job-1", "n2", "Succeeded", false, None, 0.0, None),
        (
            "b",
            "db-0",
            "n2",
            "Pending",
            false,
            Some("ImagePullBackOff"),
            0.0,
            None,
        ),
        ("b", "say \"hi\"", "n2", "Running", true, None, 2.0, None),
    ];
    for (ns, name, node, phase, ready, waiting, restarts, rs) in all {
        let p = Pod {
            ns,
            name,
            node,
            phase,
            ready,
            waiting,
            restarts,
            rs,
        };
        pods.apply(&format!("uid-{ns}-{name}"), &pod(&p));
    }
    let rs = w.store("replicasets", &["kube_replicaset_owner"]);
    let mut m = ObjectMetrics::new();
    m.identity_label("namespace", "a");
    m.identity_label("replicaset", "web-rs");
    m.begin_family();
    m.sample(
        &[
            ("owner_kind", "Deployment"),
            ("owner_name", "web"),
            ("owner_is_controller", "true"),
        ],
        1.0,
    );
    rs.apply("rs-1", &m);
    let deploy = w.store(
        "deployments",
        &[
            "kube_deployment_spec_replicas",
            "kube_deployment_status_replicas_available",
        ],
    );
    deploy.apply("d-1", &scalar_object("a", "deployment", "web", &[3.0, 1.0]));
    deploy.apply("d-2", &scalar_object("b", "deployment", "ok", &[2.0, 2.0]));
    let nodes = w.store("nodes", &["kube_node_status_condition"]);
    for (n, status) in [("n1", "true"), ("n2", "unknown")] {
        let mut m = ObjectMetrics::new();
        m.identity_label("node", n);
        m.begin_family();
        for s in ["true", "false", "unknown"] {
            m.sample(
                &[("condition", "Ready"), ("status", s)],
                f64::from(u8::from(s == status)),
            );
        }
        nodes.apply(n, &m);
    }
    w
}
