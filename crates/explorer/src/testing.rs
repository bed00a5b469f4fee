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

fn info(resource: &str, namespace: Option<&str>, families: &[&str]) -> StoreInfo {
    StoreInfo {
        resource: resource.into(),
        namespace: namespace.map(str::to_string),
        index: usize::from(namespace.is_some()),
        families: families.iter().map(|f| desc(f)).collect::<Vec<_>>().into(),
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
        self.factory.create(&info(resource, None, families))
    }

    /// A store limited to `namespace` (the second store of its resource).
    pub fn namespaced_store(
        &self,
        resource: &str,
        namespace: &str,
        families: &[&str],
    ) -> Arc<dyn ObjectStore> {
        self.factory
            .create(&info(resource, Some(namespace), families))
    }

    /// Forgets the store `namespaced_store` made, as the engine does when a resource goes.
    pub fn remove_namespaced_store(&self, resource: &str, namespace: &str) {
        self.factory.remove(&info(resource, Some(namespace), &[]));
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

/// A small deterministic random source (xorshift) for the churn tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len())]
    }
}

pub const DEPLOYMENT_FAMILIES: &[&str] = &[
    "kube_deployment_spec_replicas",
    "kube_deployment_status_replicas_available",
];

/// A world that changes at random: pods added, updated and deleted (in a cluster-wide store
/// and a store limited to namespace `z`), deployments scaled, nodes flipping Ready.
pub struct Churning {
    pub world: World,
    pub rng: Rng,
    pods: Arc<dyn ObjectStore>,
    z_pods: Option<Arc<dyn ObjectStore>>,
    deploys: Arc<dyn ObjectStore>,
    nodes: Arc<dyn ObjectStore>,
    /// Keys of the pods in the stores: (namespace, name).
    live: Vec<(String, String)>,
    next: usize,
}

const PHASES: &[&str] = &[
    "Pending",
    "Running",
    "Running",
    "Succeeded",
    "Failed",
    "Unknown",
];
const WAITING: &[&str] = &[
    "",
    "",
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ContainerCreating",
];

impl Churning {
    pub fn new(seed: u64, pods: usize) -> Churning {
        let world = World::new();
        let mut c = Churning {
            pods: world.store("pods", POD_FAMILIES),
            z_pods: Some(world.namespaced_store("pods", "z", POD_FAMILIES)),
            deploys: world.store("deployments", DEPLOYMENT_FAMILIES),
            nodes: world.store("nodes", &["kube_node_status_condition"]),
            world,
            rng: Rng::new(seed),
            live: Vec::new(),
            next: 0,
        };
        for _ in 0..pods {
            c.add_pod();
        }
        for i in 0..6 {
            c.scale(i);
            c.node(i);
        }
        c
    }

    fn store_of(&self, ns: &str) -> &Arc<dyn ObjectStore> {
        match (&self.z_pods, ns) {
            (Some(z), "z") => z,
            _ => &self.pods,
        }
    }

    fn namespaces(&self) -> &'static [&'static str] {
        if self.z_pods.is_some() {
            &["a", "b", "z"]
        } else {
            &["a", "b"]
        }
    }

    fn put_pod(&mut self, ns: &str, name: &str) {
        let r = &mut self.rng;
        let waiting = r.pick(WAITING);
        let p = Pod {
            ns,
            name,
            node: r.pick(&["n0", "n1", "n2"]),
            phase: r.pick(PHASES),
            ready: r.below(3) > 0,
            waiting: (!waiting.is_empty()).then_some(waiting),
            restarts: r.below(12) as f64,
            rs: (r.below(2) == 0).then_some("web-rs"),
        };
        self.store_of(ns).apply(&format!("{ns}/{name}"), &pod(&p));
    }

    pub fn add_pod(&mut self) {
        let ns = self.rng.pick(self.namespaces()).to_string();
        let name = format!("pod-{}", self.next);
        self.next += 1;
        self.put_pod(&ns, &name);
        self.live.push((ns, name));
    }

    fn scale(&mut self, i: usize) {
        let want = self.rng.below(4) as f64;
        let have = self.rng.below(4) as f64;
        self.deploys.apply(
            &format!("d-{i}"),
            &scalar_object("a", "deployment", &format!("web-{i}"), &[want, have]),
        );
    }

    fn node(&mut self, i: usize) {
        let status = self.rng.pick(&["true", "true", "false", "unknown"]);
        let mut m = ObjectMetrics::new();
        m.identity_label("node", &format!("n{i}"));
        m.begin_family();
        for s in ["true", "false", "unknown"] {
            m.sample(
                &[("condition", "Ready"), ("status", s)],
                f64::from(u8::from(s == status)),
            );
        }
        self.nodes.apply(&format!("n{i}"), &m);
    }

    /// `n` random changes: pod adds, updates and deletes, scalings, node flips, deletions
    /// of deployments and nodes.
    pub fn step(&mut self, n: usize) {
        for _ in 0..n {
            match self.rng.below(10) {
                0 | 1 => self.add_pod(),
                2..=4 if !self.live.is_empty() => {
                    let (ns, name) = self.live[self.rng.below(self.live.len())].clone();
                    self.put_pod(&ns, &name);
                }
                5 | 6 if !self.live.is_empty() => {
                    let (ns, name) = self.live.swap_remove(self.rng.below(self.live.len()));
                    self.store_of(&ns).delete(&format!("{ns}/{name}"));
                }
                7 => {
                    let i = self.rng.below(8);
                    self.scale(i);
                }
                8 => {
                    let i = self.rng.below(8);
                    self.node(i);
                }
                _ => {
                    let i = self.rng.below(8);
                    if self.rng.below(2) == 0 {
                        self.deploys.delete(&format!("d-{i}"));
                    } else {
                        self.nodes.delete(&format!("n{i}"));
                    }
                }
            }
        }
    }

    /// Relists the cluster-wide pod store: every pod rendered again (new entries).
    pub fn relist_pods(&mut self) {
        self.pods.relist_started();
        let live = self.live.clone();
        for (ns, name) in live.iter().filter(|(ns, _)| ns != "z") {
            self.put_pod(ns, name);
        }
        self.pods.relist_done();
    }

    /// Removes the store of namespace `z` with its pods.
    pub fn drop_z(&mut self) {
        self.world.remove_namespaced_store("pods", "z");
        self.z_pods = None;
        self.live.retain(|(ns, _)| ns != "z");
    }
}
