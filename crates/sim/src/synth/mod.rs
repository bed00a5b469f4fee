//! Deterministic synthesis of a realistic cluster (modelled on the conformance worlds):
//! nodes, namespaces, deployments → replicasets → pods, daemonsets, statefulsets with
//! PVCs/PVs, cronjobs → jobs → pods, services with endpointslices and endpoints, configmaps,
//! secrets, HPAs, PDBs, leases, RBAC, quotas, policies...
//!
//! Same [`SynthSpec`] and seed → byte-identical world (all timestamps are derived from a fixed
//! base time, all names/uids from a ChaCha RNG, JSON maps are key-sorted).

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::object::{rfc3339, uuid_from};
use crate::store::{to_bytes, World, WorldError};

mod addresses;
mod cluster;
mod daemonsets;
mod deployments;
mod jobs;
mod namespaces;
mod networking;
mod nodes;
mod pods;
mod policy;
mod statefulsets;

/// Size of a synthesized cluster. Everything else (deployments, services, secrets, ...)
/// is derived from these three numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynthSpec {
    /// Number of nodes (at least 1; up to 3 of them are tainted control-plane nodes).
    pub nodes: usize,
    /// Number of workload namespaces (plus `default`, `kube-system`, `kube-public`,
    /// `kube-node-lease`).
    pub namespaces: usize,
    /// Total number of pods, exactly (daemonset, statefulset, job and deployment pods).
    pub pods: usize,
}

impl SynthSpec {
    /// A spec for `pods` pods with proportional nodes (≈30 pods per node) and namespaces.
    pub fn for_pods(pods: usize) -> SynthSpec {
        SynthSpec {
            nodes: (pods / 30).max(3),
            namespaces: (pods / 250).clamp(4, 600),
            pods,
        }
    }

    /// Presets: `small` (1k pods), `medium` (10k), `large` (50k), `xl` (150k).
    pub fn preset(name: &str) -> Option<SynthSpec> {
        let pods = match name {
            "small" => 1_000,
            "medium" => 10_000,
            "large" => 50_000,
            "xl" => 150_000,
            _ => return None,
        };
        Some(SynthSpec::for_pods(pods))
    }

    /// Preset names, smallest first.
    pub const PRESETS: [&'static str; 4] = ["small", "medium", "large", "xl"];
}

/// Fixed base time of synthesized worlds: 2026-01-01T00:00:00Z.
pub(crate) const T0: i64 = 1_767_225_600;

const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const ZONES: [&str; 3] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

struct NodeInfo {
    name: String,
    ip: String,
    zone: &'static str,
    ready: bool,
    pods: usize,
}

struct Gen<'a> {
    rng: ChaCha8Rng,
    w: &'a mut World,
    rv: u64,
    image_ids: HashMap<String, String>,
    nodes: Vec<NodeInfo>,
    next_node: usize,
    addresses: addresses::Addresses,
}

/// A container template.
#[derive(Clone)]
struct Ctr {
    name: String,
    image: String,
    cpu: &'static str,
    mem: &'static str,
    mem_limit: Option<&'static str>,
    port: Option<u16>,
}

/// What a pod template contains.
#[derive(Clone)]
struct Tmpl {
    labels: Value,
    containers: Vec<Ctr>,
    init: Option<Ctr>,
    config_volume: Option<String>,
    pvc: Option<String>,
    node_selector: bool,
    service_account: String,
    restart_policy: &'static str,
}

/// What state a generated pod is in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PodState {
    Running { restarts: u32, oom: bool },
    CrashLoop,
    ImagePull,
    Unschedulable,
    ContainerCreating,
    Evicted,
    Succeeded,
    JobFailed,
}

impl<'a> Gen<'a> {
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| {
                let d: u8 = self.rng.gen_range(0..16);
                char::from_digit(u32::from(d), 16).unwrap_or('0')
            })
            .collect()
    }

    fn uid(&mut self) -> String {
        let hi: u64 = self.rng.gen();
        let lo: u64 = self.rng.gen();
        uuid_from(hi, lo)
    }

    fn suffix(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| ALPHA[self.rng.gen_range(0..ALPHA.len())] as char)
            .collect()
    }

    /// A creation time up to `max_age` seconds before T0.
    fn created(&mut self, max_age: i64) -> i64 {
        T0 - self.rng.gen_range(60..max_age.max(61))
    }

    fn image_id(&mut self, image: &str) -> String {
        if let Some(id) = self.image_ids.get(image) {
            return id.clone();
        }
        let repo = image.split(':').next().unwrap_or(image);
        let id = format!("{repo}@sha256:{}", self.hex(64));
        self.image_ids.insert(image.to_string(), id.clone());
        id
    }

    fn emit(&mut self, mut v: Value) -> Result<(), WorldError> {
        self.rv += 1;
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), json!(self.rv.to_string()));
        }
        let bytes = to_bytes(&v);
        self.w.load(&v, bytes)
    }

    fn meta(&mut self, name: &str, ns: Option<&str>, created: i64, labels: Value) -> Value {
        let mut m = json!({
            "name": name,
            "uid": self.uid(),
            "creationTimestamp": rfc3339(created),
        });
        if let Some(ns) = ns {
            m["namespace"] = json!(ns);
        }
        if labels.as_object().is_some_and(|o| !o.is_empty()) {
            m["labels"] = labels;
        }
        m
    }

    fn meta_aged(&mut self, name: &str, ns: Option<&str>, max_age: i64, labels: Value) -> Value {
        let created = self.created(max_age);
        self.meta(name, ns, created, labels)
    }

    fn pick_node(&mut self) -> Option<usize> {
        // Round-robin over ready worker nodes, starting at a random offset per call site.
        let n = self.nodes.len();
        for _ in 0..n {
            let i = self.next_node % n;
            self.next_node += 1 + self.rng.gen_range(0..3);
            if self.nodes[i].ready && !self.nodes[i].name.starts_with("cp-") {
                return Some(i);
            }
        }
        (0..n).find(|&i| self.nodes[i].ready)
    }
}

fn owner_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!([{"apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
            "controller": true, "blockOwnerDeletion": true}])
}

const APPS: [&str; 16] = [
    "api",
    "web",
    "worker",
    "cache",
    "gateway",
    "auth",
    "billing",
    "search",
    "catalog",
    "checkout",
    "orders",
    "notifier",
    "ingest",
    "reports",
    "frontend",
    "scheduler",
];
const REQ_CPU: [&str; 5] = ["50m", "100m", "250m", "500m", "1"];
const REQ_MEM: [&str; 5] = ["64Mi", "128Mi", "256Mi", "512Mi", "1Gi"];
const LIM_MEM: [&str; 5] = ["128Mi", "256Mi", "512Mi", "1Gi", "2Gi"];

/// Build a world for `spec` with `seed`; deterministic.
pub(crate) fn synthesize(spec: &SynthSpec, seed: u64, w: &mut World) -> Result<(), WorldError> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        w,
        rv: 1000,
        image_ids: HashMap::new(),
        nodes: Vec::new(),
        next_node: 0,
        addresses: addresses::Addresses::default(),
    };
    let cluster_created = T0 - 90 * 86_400;
    let namespaces = namespaces::namespaces(&mut g, spec, cluster_created)?;
    nodes::nodes(&mut g, spec, cluster_created)?;
    cluster::cluster_singletons(&mut g, cluster_created)?;
    let b = Budget::new(&g, spec);
    daemonsets::daemonsets(&mut g, b.n_ds, b.ready_nodes, cluster_created)?;
    deployments::deployments(&mut g, &namespaces, b.n_deploy, b.dep_pods)?;
    statefulsets::statefulsets(&mut g, &namespaces, b.n_sts)?;
    jobs::cron_jobs_and_jobs(&mut g, &namespaces, b.n_cron, b.n_jobs)?;
    policy::namespace_policies(&mut g, &namespaces)?;
    deployments::legacy_replication_controller(&mut g, &namespaces)?;
    g.w.finish_load();
    Ok(())
}

/// How the exact pod count is shared between the kinds of workload.
struct Budget {
    /// Nodes that get daemonset pods (at least 1).
    ready_nodes: usize,
    /// DaemonSets (up to 3, fewer when they would take over half the pods).
    n_ds: usize,
    /// StatefulSets, 3 pods each.
    n_sts: usize,
    /// Jobs, 1 pod each.
    n_jobs: usize,
    /// CronJobs owning the first jobs.
    n_cron: usize,
    /// Deployments sharing the remaining pods.
    n_deploy: usize,
    /// Pods left for deployments.
    dep_pods: usize,
}

impl Budget {
    fn new(g: &Gen<'_>, spec: &SynthSpec) -> Budget {
        let ready_nodes = g.nodes.iter().filter(|n| n.ready).count().max(1);
        let mut n_ds = 3usize;
        while n_ds > 0 && n_ds * ready_nodes > spec.pods / 2 {
            n_ds -= 1;
        }
        let ds_pods = n_ds * ready_nodes;
        let mut left = spec.pods - ds_pods;
        let n_sts = (spec.pods / 200).min(left / 3 / 2);
        left -= n_sts * 3;
        let n_jobs = (spec.pods / 100).min(left / 4);
        left -= n_jobs;
        let n_cron = (spec.pods / 500).min(n_jobs / 2);
        let n_deploy = (spec.pods / 5).max(usize::from(left > 0)).min(left);
        let dep_pods = left;
        Budget {
            ready_nodes,
            n_ds,
            n_sts,
            n_jobs,
            n_cron,
            n_deploy,
            dep_pods,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world_bytes(spec: &SynthSpec, seed: u64) -> (Vec<u8>, usize, u64) {
        let mut w = World::new(10, seed);
        synthesize(spec, seed, &mut w).unwrap();
        let mut out = Vec::new();
        for s in &w.stores {
            for o in s.objects.values() {
                out.extend_from_slice(&o.json);
                out.push(b'\n');
            }
        }
        (out, w.object_count(), w.rv)
    }

    #[test]
    fn same_seed_same_bytes_different_seed_different_world() {
        let spec = SynthSpec {
            nodes: 12,
            namespaces: 4,
            pods: 300,
        };
        let (a, n, rv) = world_bytes(&spec, 42);
        let (b, _, _) = world_bytes(&spec, 42);
        let (c, _, _) = world_bytes(&spec, 43);
        assert!(a == b, "same seed must give identical bytes");
        assert!(a != c, "different seeds must differ");
        assert!(n > 300);
        assert_eq!(rv, 1000 + n as u64);
    }

    #[test]
    fn pod_count_is_exact_and_objects_are_consistent() {
        let spec = SynthSpec {
            nodes: 20,
            namespaces: 5,
            pods: 777,
        };
        let mut w = World::new(10, 7);
        synthesize(&spec, 7, &mut w).unwrap();
        let store = |p: &str| w.registry.by_resource(p).unwrap().store;
        let pods = &w.stores[store("pods")].objects;
        assert_eq!(pods.len(), 777);
        let rss = &w.stores[store("replicasets")].objects;
        let mut uids = std::collections::HashSet::new();
        for s in &w.stores {
            for o in s.objects.values() {
                let v: Value = serde_json::from_slice(&o.json).unwrap();
                let uid = v["metadata"]["uid"].as_str().unwrap().to_string();
                assert_eq!(uid.len(), 36);
                assert!(uids.insert(uid), "uids are unique");
                assert!(v["metadata"]["creationTimestamp"]
                    .as_str()
                    .unwrap()
                    .ends_with('Z'));
                assert!(v["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .parse::<u64>()
                    .is_ok());
            }
        }
        for p in pods.values() {
            let v: Value = serde_json::from_slice(&p.json).unwrap();
            let owner = &v["metadata"]["ownerReferences"][0];
            if owner["kind"] == "ReplicaSet" {
                let key = (
                    p.namespace.clone(),
                    owner["name"].as_str().unwrap().to_string(),
                );
                let rs = rss.get(&key).expect("owner replicaset exists");
                let rsv: Value = serde_json::from_slice(&rs.json).unwrap();
                assert_eq!(rsv["metadata"]["uid"], owner["uid"]);
                assert_eq!(
                    v["metadata"]["labels"]["pod-template-hash"],
                    rsv["metadata"]["labels"]["pod-template-hash"]
                );
            }
        }
        let phases: std::collections::HashSet<String> = pods
            .values()
            .map(|p| p.field("status.phase").unwrap().to_string())
            .collect();
        for ph in ["Running", "Pending", "Failed", "Succeeded"] {
            assert!(phases.contains(ph), "{ph} pods expected");
        }
    }

    /// FNV-1a over the synthesized bytes: a fingerprint of the generated world.
    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    /// The generated world is pinned byte for byte, so any refactoring that changes a single
    /// byte of any object fails here. The fingerprints were last recomputed when the address
    /// plan (`addresses.rs`) replaced addresses past .255 and repeated pod ranges, and
    /// endpoints took their pods' addresses; the object counts did not change.
    #[test]
    fn synthesized_world_is_pinned() {
        let cases = [
            (
                SynthSpec::preset("small").unwrap(),
                1u64,
                0x8174_4d24_cdec_f3f9,
            ),
            (SynthSpec::for_pods(300), 42, 0x4bdf_50c2_4eb3_2c96),
            (
                SynthSpec {
                    nodes: 2,
                    namespaces: 1,
                    pods: 5,
                },
                7,
                0xdf66_8e00_789a_3dd0,
            ),
        ];
        let mut got = Vec::new();
        let mut report = Vec::new();
        for (spec, seed, _) in &cases {
            let (bytes, n, rv) = world_bytes(spec, *seed);
            let h = fnv1a(&bytes);
            report.push(format!(
                "{spec:?} seed {seed}: {h:#018x} ({n} objects, rv {rv})"
            ));
            got.push(h);
        }
        let want: Vec<u64> = cases.iter().map(|c| c.2).collect();
        assert_eq!(got, want, "world changed: {report:#?}");
    }

    #[test]
    fn presets_scale() {
        let l = SynthSpec::preset("large").unwrap();
        assert_eq!(l.pods, 50_000);
        assert_eq!(l.nodes, 1_666);
        assert!(SynthSpec::preset("huge").is_none());
    }
}
