//! Churn: realistic, internally consistent changes at a configured rate.
//!
//! One "change" is one of: replace a pod of a replicaset (delete + create), a pending pod
//! becoming ready, a container restart (restartCount bump, `OOMKilled`/`Error` last state),
//! a deployment rollout (new replicaset, pods moved over, old replicaset scaled to 0 and
//! pruned beyond two old ones), or a node's Ready condition flipping. The sequence of changes
//! is determined by the seed (timing only decides how many happen per tick); timestamps come
//! from a logical clock (one second per change from 2026-01-01T01:00:00Z).

use std::collections::{HashMap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::object::rfc3339;
use crate::store::{ObjKey, World};
use crate::synth::T0;

const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Pods indexed for O(1) random picks and removals.
#[derive(Debug, Default)]
struct KeySet {
    keys: Vec<ObjKey>,
    pos: HashMap<ObjKey, usize>,
}

impl KeySet {
    fn insert(&mut self, k: ObjKey) {
        if self.pos.contains_key(&k) {
            return;
        }
        self.pos.insert(k.clone(), self.keys.len());
        self.keys.push(k);
    }
    fn remove(&mut self, k: &ObjKey) {
        if let Some(i) = self.pos.remove(k) {
            self.keys.swap_remove(i);
            if let Some(moved) = self.keys.get(i) {
                self.pos.insert(moved.clone(), i);
            }
        }
    }
    fn len(&self) -> usize {
        self.keys.len()
    }
}

#[derive(Debug, Default)]
struct Model {
    pods: KeySet,
    /// replicaset → its pods.
    rs_pods: HashMap<ObjKey, Vec<ObjKey>>,
    /// replicasets that have pods (for picking), in a stable order.
    rs_list: Vec<ObjKey>,
    /// deployment → current replicaset.
    dep_rs: HashMap<ObjKey, ObjKey>,
    /// deployment → old replicasets (oldest first).
    dep_old: HashMap<ObjKey, VecDeque<ObjKey>>,
    deployments: Vec<ObjKey>,
    nodes: Vec<String>,
    pending: VecDeque<ObjKey>,
}

/// Churn state: RNG, logical clock and the model of what exists.
#[derive(Debug)]
pub(crate) struct Churn {
    rng: ChaCha8Rng,
    steps: u64,
    model: Option<Model>,
}

impl Churn {
    pub fn new(seed: u64) -> Churn {
        Churn {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xc4a2_1e55),
            steps: 0,
            model: None,
        }
    }
}

fn parse(w: &World, store: usize, key: &ObjKey) -> Option<Value> {
    let o = w.stores.get(store)?.objects.get(key)?;
    serde_json::from_slice(&o.json).ok()
}

fn controller_owner(v: &Value) -> Option<(String, String)> {
    let refs = v.get("metadata")?.get("ownerReferences")?.as_array()?;
    let r = refs
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .or_else(|| refs.first())?;
    Some((
        r.get("kind")?.as_str()?.to_string(),
        r.get("name")?.as_str()?.to_string(),
    ))
}

fn build_model(w: &World) -> Model {
    let mut m = Model::default();
    let store = |p: &str| w.registry.by_resource(p).map(|t| t.store).unwrap_or(0);
    let (pods, rss, nodes) = (store("pods"), store("replicasets"), store("nodes"));
    for (key, o) in &w.stores[pods].objects {
        m.pods.insert(key.clone());
        let Ok(v) = serde_json::from_slice::<Value>(&o.json) else {
            continue;
        };
        if let Some((kind, name)) = controller_owner(&v) {
            if kind == "ReplicaSet" {
                m.rs_pods
                    .entry((key.0.clone(), name))
                    .or_default()
                    .push(key.clone());
            }
        }
    }
    let mut rs_keys: Vec<ObjKey> = m.rs_pods.keys().cloned().collect();
    rs_keys.sort();
    m.rs_list = rs_keys;
    for (key, o) in &w.stores[rss].objects {
        let Ok(v) = serde_json::from_slice::<Value>(&o.json) else {
            continue;
        };
        let Some((kind, dep)) = controller_owner(&v) else {
            continue;
        };
        if kind != "Deployment" {
            continue;
        }
        let dkey = (key.0.clone(), dep);
        let replicas = v["spec"]["replicas"].as_u64().unwrap_or(0);
        if replicas > 0 || !m.dep_rs.contains_key(&dkey) {
            if let Some(prev) = m.dep_rs.insert(dkey.clone(), key.clone()) {
                m.dep_old.entry(dkey).or_default().push_back(prev);
            }
        } else {
            m.dep_old.entry(dkey).or_default().push_back(key.clone());
        }
    }
    let mut deps: Vec<ObjKey> = m.dep_rs.keys().cloned().collect();
    deps.sort();
    m.deployments = deps;
    m.nodes = w.stores[nodes]
        .objects
        .keys()
        .map(|(_, n)| n.clone())
        .collect();
    m
}

fn suffix(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| ALPHA[rng.gen_range(0..ALPHA.len())] as char)
        .collect()
}

fn hex(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16u32), 16).unwrap_or('0'))
        .collect()
}

/// Turn a pod value into a fresh pod of replicaset `rs` (hash, uid) named `name`.
#[allow(clippy::too_many_arguments)]
fn fresh_pod(
    mut v: Value,
    name: &str,
    rs: &str,
    rs_uid: Option<&str>,
    hash: Option<&str>,
    ts: &str,
    running: bool,
    rng: &mut ChaCha8Rng,
) -> Value {
    if let Some(m) = v["metadata"].as_object_mut() {
        m.remove("uid");
        m.remove("resourceVersion");
        m.remove("deletionTimestamp");
        m.insert("name".into(), json!(name));
        m.insert("generateName".into(), json!(format!("{rs}-")));
        m.insert("creationTimestamp".into(), json!(ts));
    }
    if let Some(h) = hash {
        v["metadata"]["labels"]["pod-template-hash"] = json!(h);
    }
    if let Some(refs) = v["metadata"]["ownerReferences"].as_array_mut() {
        if let Some(r) = refs.first_mut() {
            r["name"] = json!(rs);
            if let Some(u) = rs_uid {
                r["uid"] = json!(u);
            }
        }
    }
    let containers: Vec<(String, String)> = v["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("c").to_string(),
                        c["image"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let host_ip = v["status"]["hostIP"].clone();
    let ready = if running { "True" } else { "False" };
    let mut statuses = Vec::new();
    for (n, image) in &containers {
        let mut s = json!({"name": n, "lastState": {}, "ready": running, "restartCount": 0,
            "image": image, "started": running});
        if running {
            s["state"] = json!({"running": {"startedAt": ts}});
            s["imageID"] = json!(format!(
                "{}@sha256:{}",
                image.split(':').next().unwrap_or(""),
                hex(rng, 64)
            ));
            s["containerID"] = json!(format!("containerd://{}", hex(rng, 64)));
        } else {
            s["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
            s["imageID"] = json!("");
        }
        statuses.push(s);
    }
    let mut conds = vec![
        json!({"type": "PodReadyToStartContainers", "status": ready, "lastProbeTime": null, "lastTransitionTime": ts}),
        json!({"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": ts}),
        json!({"type": "Ready", "status": ready, "lastProbeTime": null, "lastTransitionTime": ts}),
        json!({"type": "ContainersReady", "status": ready, "lastProbeTime": null, "lastTransitionTime": ts}),
        json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": ts}),
    ];
    if !running {
        conds[2]["reason"] = json!("ContainersNotReady");
        conds[3]["reason"] = json!("ContainersNotReady");
    }
    let mut status = json!({"phase": if running {"Running"} else {"Pending"}, "conditions": conds,
        "startTime": ts, "containerStatuses": statuses, "qosClass": v["status"]["qosClass"].clone()});
    if host_ip.is_string() {
        status["hostIP"] = host_ip.clone();
        status["hostIPs"] = json!([{"ip": host_ip}]);
    }
    if running {
        let ip = format!(
            "10.{}.{}.{}",
            244 + rng.gen_range(0..4),
            rng.gen_range(0..256),
            rng.gen_range(2..252)
        );
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
    }
    if let Some(m) = v["status"].as_object_mut() {
        m.clear();
    }
    v["status"] = status;
    if v["spec"]["nodeName"].is_null() {
        if let Some(m) = v["spec"].as_object_mut() {
            m.remove("nodeName");
        }
    }
    v
}

impl Churn {
    fn clock(&self) -> i64 {
        T0 + 3600 + self.steps as i64
    }

    /// One change. Returns false when there is nothing to change.
    pub(crate) fn step(&mut self, w: &mut World) -> bool {
        if self.model.is_none() {
            self.model = Some(build_model(w));
        }
        self.steps += 1;
        let now = self.clock();
        let ts = rfc3339(now);
        let roll = self.rng.gen_range(0..100u32);
        let Some(m) = self.model.as_mut() else {
            return false;
        };
        let rng = &mut self.rng;
        let pods_store = w.registry.by_resource("pods").map(|t| t.store).unwrap_or(0);
        let rs_store = w
            .registry
            .by_resource("replicasets")
            .map(|t| t.store)
            .unwrap_or(0);
        let dep_store = w
            .registry
            .by_resource("deployments")
            .map(|t| t.store)
            .unwrap_or(0);
        let node_store = w
            .registry
            .by_resource("nodes")
            .map(|t| t.store)
            .unwrap_or(0);
        let op = match roll {
            0..=29 => 0,
            30..=49 if !m.pending.is_empty() => 1,
            30..=79 => 2,
            80..=84 => 3,
            _ => 4,
        };
        match op {
            // Replace a pod through its replicaset.
            0 => {
                if m.rs_list.is_empty() {
                    return restart_bump(m, w, pods_store, rng, &ts, now);
                }
                let rs_key = m.rs_list[rng.gen_range(0..m.rs_list.len())].clone();
                let Some(pods) = m.rs_pods.get_mut(&rs_key).filter(|p| !p.is_empty()) else {
                    return false;
                };
                let idx = rng.gen_range(0..pods.len());
                let old_key = pods.swap_remove(idx);
                m.pods.remove(&old_key);
                let Some(old) = parse(w, pods_store, &old_key) else {
                    return false;
                };
                w.delete(pods_store, &old_key.0, &old_key.1);
                let name = format!("{}-{}", rs_key.1, suffix(rng, 5));
                let v = fresh_pod(old, &name, &rs_key.1, None, None, &ts, false, rng);
                if w.apply(v, now).is_ok() {
                    let k = (rs_key.0.clone(), name);
                    m.pods.insert(k.clone());
                    if let Some(p) = m.rs_pods.get_mut(&rs_key) {
                        p.push(k.clone());
                    }
                    m.pending.push_back(k);
                }
                true
            }
            // A pending pod becomes ready.
            1 => {
                let Some(k) = m.pending.pop_front() else {
                    return false;
                };
                let Some(v) = parse(w, pods_store, &k) else {
                    return false;
                };
                let rs = v["metadata"]["ownerReferences"][0]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let mut nv = fresh_pod(v.clone(), &k.1, &rs, None, None, &ts, true, rng);
                // Keep identity.
                nv["metadata"] = v["metadata"].clone();
                if let Some(mm) = nv["metadata"].as_object_mut() {
                    mm.remove("resourceVersion");
                }
                w.apply(nv, now).is_ok()
            }
            2 => restart_bump(m, w, pods_store, rng, &ts, now),
            // Rollout.
            3 => {
                if m.deployments.is_empty() {
                    return restart_bump(m, w, pods_store, rng, &ts, now);
                }
                let dkey = m.deployments[rng.gen_range(0..m.deployments.len())].clone();
                let Some(old_rs_key) = m.dep_rs.get(&dkey).cloned() else {
                    return false;
                };
                let (Some(dep), Some(old_rs)) =
                    (parse(w, dep_store, &dkey), parse(w, rs_store, &old_rs_key))
                else {
                    return false;
                };
                let revision: u64 = dep["metadata"]["annotations"]
                    ["deployment.kubernetes.io/revision"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(1)
                    + 1;
                let hash = suffix(rng, 10);
                let new_rs_name = format!("{}-{hash}", dkey.1);
                let bump_image = |tmpl: &mut Value| {
                    if let Some(c) = tmpl["spec"]["containers"].get_mut(0) {
                        let img = c["image"].as_str().unwrap_or("app").to_string();
                        let base = img.split(":r").next().unwrap_or(&img).to_string();
                        c["image"] = json!(format!("{base}:r{revision}"));
                    }
                };
                // New replicaset.
                let mut nrs = old_rs.clone();
                if let Some(mm) = nrs["metadata"].as_object_mut() {
                    mm.remove("uid");
                    mm.remove("resourceVersion");
                    mm.insert("name".into(), json!(new_rs_name));
                    mm.insert("creationTimestamp".into(), json!(ts));
                    mm.insert("generation".into(), json!(1));
                }
                nrs["metadata"]["labels"]["pod-template-hash"] = json!(hash);
                nrs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                    json!(revision.to_string());
                nrs["spec"]["selector"]["matchLabels"]["pod-template-hash"] = json!(hash);
                nrs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = json!(hash);
                bump_image(&mut nrs["spec"]["template"]);
                let Ok((_, nrs_obj)) = w.apply(nrs, now) else {
                    return false;
                };
                let nrs_v: Value = serde_json::from_slice(&nrs_obj.json).unwrap_or(Value::Null);
                let nrs_uid = nrs_v["metadata"]["uid"].as_str().unwrap_or("").to_string();
                let new_rs_key = (dkey.0.clone(), new_rs_name.clone());
                // Move pods.
                let old_pods = m.rs_pods.remove(&old_rs_key).unwrap_or_default();
                m.rs_list.retain(|k| *k != old_rs_key);
                let mut new_pods = Vec::new();
                for pk in old_pods {
                    m.pods.remove(&pk);
                    m.pending.retain(|p| *p != pk);
                    let Some(pv) = parse(w, pods_store, &pk) else {
                        continue;
                    };
                    w.delete(pods_store, &pk.0, &pk.1);
                    let name = format!("{new_rs_name}-{}", suffix(rng, 5));
                    let mut np = fresh_pod(
                        pv,
                        &name,
                        &new_rs_name,
                        Some(&nrs_uid),
                        Some(&hash),
                        &ts,
                        true,
                        rng,
                    );
                    bump_image(&mut np);
                    let img = np["spec"]["containers"][0]["image"].clone();
                    if let Some(c) = np["status"]["containerStatuses"].get_mut(0) {
                        c["image"] = img;
                    }
                    if w.apply(np, now).is_ok() {
                        let k = (dkey.0.clone(), name);
                        m.pods.insert(k.clone());
                        new_pods.push(k);
                    }
                }
                let n = new_pods.len();
                m.rs_pods.insert(new_rs_key.clone(), new_pods);
                m.rs_list.push(new_rs_key.clone());
                m.rs_list.sort();
                // Old replicaset scaled to zero.
                let mut ors = old_rs;
                if let Some(mm) = ors["metadata"].as_object_mut() {
                    mm.remove("resourceVersion");
                }
                let gen = ors["metadata"]["generation"].as_u64().unwrap_or(1) + 1;
                ors["metadata"]["generation"] = json!(gen);
                ors["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                    json!("0");
                ors["spec"]["replicas"] = json!(0);
                ors["status"] =
                    json!({"replicas": 0, "observedGeneration": gen, "terminatingReplicas": 0});
                let _ = w.apply(ors, now);
                let olds = m.dep_old.entry(dkey.clone()).or_default();
                olds.push_back(old_rs_key);
                while olds.len() > 2 {
                    if let Some(k) = olds.pop_front() {
                        w.delete(rs_store, &k.0, &k.1);
                    }
                }
                m.dep_rs.insert(dkey.clone(), new_rs_key);
                // New replicaset status and deployment.
                if let Some(mut nr) = parse(w, rs_store, &(dkey.0.clone(), new_rs_name.clone())) {
                    if let Some(mm) = nr["metadata"].as_object_mut() {
                        mm.remove("resourceVersion");
                    }
                    nr["spec"]["replicas"] = json!(n);
                    nr["status"] = json!({"replicas": n, "fullyLabeledReplicas": n, "readyReplicas": n,
                        "availableReplicas": n, "terminatingReplicas": 0, "observedGeneration": 1});
                    let _ = w.apply(nr, now);
                }
                let mut d = dep;
                if let Some(mm) = d["metadata"].as_object_mut() {
                    mm.remove("resourceVersion");
                }
                let dgen = d["metadata"]["generation"].as_u64().unwrap_or(1) + 1;
                d["metadata"]["generation"] = json!(dgen);
                d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                    json!(revision.to_string());
                bump_image(&mut d["spec"]["template"]);
                d["status"]["observedGeneration"] = json!(dgen);
                d["status"]["replicas"] = json!(n);
                d["status"]["updatedReplicas"] = json!(n);
                d["status"]["readyReplicas"] = json!(n);
                d["status"]["availableReplicas"] = json!(n);
                if let Some(conds) = d["status"]["conditions"].as_array_mut() {
                    for c in conds.iter_mut() {
                        if c["type"] == "Progressing" {
                            c["lastUpdateTime"] = json!(ts);
                            c["message"] = json!(format!(
                                "ReplicaSet \"{new_rs_name}\" has successfully progressed."
                            ));
                        }
                    }
                }
                let _ = w.apply(d, now);
                true
            }
            // Node Ready flip.
            _ => {
                if m.nodes.is_empty() {
                    return restart_bump(m, w, pods_store, rng, &ts, now);
                }
                let name = m.nodes[rng.gen_range(0..m.nodes.len())].clone();
                let key = (String::new(), name);
                let Some(mut v) = parse(w, node_store, &key) else {
                    return false;
                };
                if let Some(mm) = v["metadata"].as_object_mut() {
                    mm.remove("resourceVersion");
                }
                let mut now_ready = false;
                if let Some(conds) = v["status"]["conditions"].as_array_mut() {
                    for c in conds.iter_mut() {
                        if c["type"] == "Ready" {
                            now_ready = c["status"] != "True";
                            c["status"] = json!(if now_ready { "True" } else { "False" });
                            c["reason"] = json!(if now_ready {
                                "KubeletReady"
                            } else {
                                "KubeletNotReady"
                            });
                            c["message"] = json!(if now_ready {
                                "kubelet is posting ready status"
                            } else {
                                "PLEG is not healthy: pleg was last seen active 3m0s ago"
                            });
                            c["lastTransitionTime"] = json!(ts);
                            c["lastHeartbeatTime"] = json!(ts);
                        }
                    }
                }
                let mut taints: Vec<Value> =
                    v["spec"]["taints"].as_array().cloned().unwrap_or_default();
                taints.retain(|t| t["key"] != "node.kubernetes.io/not-ready");
                if !now_ready {
                    taints.push(json!({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": ts}));
                }
                if taints.is_empty() {
                    if let Some(mm) = v["spec"].as_object_mut() {
                        mm.remove("taints");
                    }
                } else {
                    v["spec"]["taints"] = Value::Array(taints);
                }
                w.apply(v, now).is_ok()
            }
        }
    }
}

fn restart_bump(
    m: &mut Model,
    w: &mut World,
    pods_store: usize,
    rng: &mut ChaCha8Rng,
    ts: &str,
    now: i64,
) -> bool {
    if m.pods.len() == 0 {
        return false;
    }
    let k = m.pods.keys[rng.gen_range(0..m.pods.len())].clone();
    let Some(mut v) = parse(w, pods_store, &k) else {
        m.pods.remove(&k);
        return false;
    };
    if v["status"]["phase"] != "Running" {
        return false;
    }
    let oom = rng.gen_bool(0.3);
    let cid = format!("containerd://{}", hex(rng, 64));
    if let Some(mm) = v["metadata"].as_object_mut() {
        mm.remove("resourceVersion");
    }
    let Some(c) = v["status"]["containerStatuses"].get_mut(0) else {
        return false;
    };
    let restarts = c["restartCount"].as_u64().unwrap_or(0) + 1;
    let started = c["state"]["running"]["startedAt"].clone();
    let prev_cid = c["containerID"].clone();
    c["restartCount"] = json!(restarts);
    c["lastState"] = json!({"terminated": {"exitCode": if oom {137} else {1},
        "reason": if oom {"OOMKilled"} else {"Error"}, "startedAt": started, "finishedAt": ts,
        "containerID": prev_cid}});
    c["state"] = json!({"running": {"startedAt": ts}});
    c["containerID"] = json!(cid);
    w.apply(v, now).is_ok()
}
