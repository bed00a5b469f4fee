//! Pods and the pod templates of their controllers, in every [`PodState`].

use rand::Rng;
use serde_json::{json, Value};

use super::networking::Endpoint;
use super::{Ctr, Gen, PodState, Tmpl, T0};
use crate::object::rfc3339;
use crate::store::WorldError;

fn container_spec(c: &Ctr, mounts: &Value) -> Value {
    let mut requests = json!({"cpu": c.cpu, "memory": c.mem});
    if c.cpu.is_empty() {
        requests = json!({"memory": c.mem});
    }
    let mut resources = json!({"requests": requests});
    if let Some(l) = c.mem_limit {
        resources["limits"] = json!({"memory": l});
    }
    let mut v = json!({
        "name": c.name,
        "image": c.image,
        "resources": resources,
        "volumeMounts": mounts,
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    });
    if let Some(p) = c.port {
        v["ports"] = json!([{"name": "http", "containerPort": p, "protocol": "TCP"}]);
    }
    v
}

pub(super) fn template_spec(t: &Tmpl) -> Value {
    let mut spec = json!({
        "containers": t.containers.iter().map(|c| container_spec(c, &json!([]))).collect::<Vec<_>>(),
        "restartPolicy": t.restart_policy,
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": t.service_account,
        "serviceAccount": t.service_account,
        "securityContext": {},
        "schedulerName": "default-scheduler",
    });
    if let Some(i) = &t.init {
        spec["initContainers"] = json!([container_spec(i, &json!([]))]);
    }
    if t.node_selector {
        spec["nodeSelector"] = json!({"kubernetes.io/os": "linux"});
    }
    spec
}

fn cond(ty: &str, status: bool, ts: &str, reason: Option<&str>) -> Value {
    let mut c = json!({"type": ty, "status": if status {"True"} else {"False"},
                       "lastProbeTime": null, "lastTransitionTime": ts});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    c
}

impl<'a> Gen<'a> {
    /// Emits a pod in `state` on `node` (or a node picked for it; none when unschedulable);
    /// where the pod has an address, what a service needs to point at it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn pod(
        &mut self,
        ns: &str,
        name: &str,
        generate_name: Option<&str>,
        owner: Option<Value>,
        t: &Tmpl,
        extra_labels: &[(&str, String)],
        state: PodState,
        created: i64,
        node: Option<usize>,
    ) -> Result<Option<Endpoint>, WorldError> {
        let mut labels = t.labels.clone();
        for (k, v) in extra_labels {
            labels[*k] = json!(v);
        }
        let mut meta = self.meta(name, Some(ns), created, labels);
        if let Some(g) = generate_name {
            meta["generateName"] = json!(g);
        }
        if let Some(o) = owner {
            meta["ownerReferences"] = o;
        }
        let token_vol = format!("kube-api-access-{}", self.suffix(5));
        let mut volumes = vec![json!({"name": token_vol, "projected": {"sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
        ], "defaultMode": 420}})];
        let mut mounts = vec![json!({"name": token_vol, "readOnly": true,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})];
        if let Some(cm) = &t.config_volume {
            volumes.push(json!({"name": "config", "configMap": {"name": cm, "defaultMode": 420}}));
            mounts.push(json!({"name": "config", "mountPath": "/etc/config"}));
        }
        if let Some(claim) = &t.pvc {
            volumes.push(json!({"name": "data", "persistentVolumeClaim": {"claimName": claim}}));
            mounts.push(json!({"name": "data", "mountPath": "/data"}));
        }
        let mounts = Value::Array(mounts);
        let mut spec = template_spec(t);
        spec["containers"] = Value::Array(
            t.containers
                .iter()
                .map(|c| container_spec(c, &mounts))
                .collect(),
        );
        if let Some(i) = &t.init {
            spec["initContainers"] = json!([container_spec(i, &mounts)]);
        }
        spec["volumes"] = Value::Array(volumes);
        spec["tolerations"] = json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ]);
        spec["priority"] = json!(0);
        spec["enableServiceLinks"] = json!(true);
        spec["preemptionPolicy"] = json!("PreemptLowerPriority");
        let node = if state == PodState::Unschedulable {
            None
        } else {
            node.or_else(|| self.pick_node())
        };
        let started = created + self.rng.gen_range(1..20);
        let ts = rfc3339(started);
        let mut status = json!({});
        let mut endpoint = None;
        if let Some(ni) = node {
            let k = self.nodes[ni].pods;
            self.nodes[ni].pods += 1;
            let n = &self.nodes[ni];
            spec["nodeName"] = json!(n.name);
            status["hostIP"] = json!(n.ip);
            status["hostIPs"] = json!([{"ip": n.ip}]);
            if !matches!(state, PodState::ContainerCreating) {
                let ip = self.addresses.pod_ip(ni, k)?;
                status["podIP"] = json!(ip.to_string());
                status["podIPs"] = json!([{"ip": ip.to_string()}]);
                endpoint = Some(Endpoint {
                    name: name.to_string(),
                    ip,
                    node: ni,
                });
            }
            status["startTime"] = json!(rfc3339(created + 1));
        }
        let (phase, ready) = match state {
            PodState::Running { .. } => ("Running", true),
            PodState::CrashLoop => ("Running", false),
            PodState::ImagePull | PodState::Unschedulable | PodState::ContainerCreating => {
                ("Pending", false)
            }
            PodState::Evicted | PodState::JobFailed => ("Failed", false),
            PodState::Succeeded => ("Succeeded", false),
        };
        status["phase"] = json!(phase);
        if state == PodState::Unschedulable {
            status["conditions"] = json!([{"type": "PodScheduled", "status": "False", "lastProbeTime": null,
                "lastTransitionTime": ts, "reason": "Unschedulable",
                "message": format!("0/{} nodes are available: insufficient cpu. preemption: 0/{} nodes are available: no preemption victims found for incoming pod.", self.nodes.len(), self.nodes.len())}]);
            status["qosClass"] = json!("Burstable");
            spec["schedulerName"] = json!("default-scheduler");
            let v = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status});
            return self.emit(v).map(|()| None);
        }
        if state == PodState::Evicted {
            status["reason"] = json!("Evicted");
            status["message"] = json!("The node was low on resource: memory. Threshold quantity: 100Mi, available: 88112Ki.");
        }
        let terminal = matches!(
            state,
            PodState::Evicted | PodState::Succeeded | PodState::JobFailed
        );
        let not_ready_reason = (!ready).then_some(if terminal {
            "PodCompleted"
        } else {
            "ContainersNotReady"
        });
        status["conditions"] = json!([
            cond(
                "PodReadyToStartContainers",
                !terminal && state != PodState::ContainerCreating,
                &ts,
                None
            ),
            cond("Initialized", true, &ts, None),
            cond("Ready", ready, &ts, not_ready_reason),
            cond("ContainersReady", ready, &ts, not_ready_reason),
            cond("PodScheduled", true, &rfc3339(created), None),
        ]);
        if let Some(i) = &t.init {
            let cid = self.hex(64);
            let image_id = self.image_id(&i.image);
            status["initContainerStatuses"] = json!([{"name": i.name, "state": {"terminated": {
                "exitCode": 0, "reason": "Completed", "startedAt": ts, "finishedAt": ts,
                "containerID": format!("containerd://{cid}")}}, "lastState": {}, "ready": true,
                "restartCount": 0, "image": i.image, "imageID": image_id,
                "containerID": format!("containerd://{cid}"), "started": false}]);
        }
        let mut statuses = Vec::new();
        for (ci, c) in t.containers.iter().enumerate() {
            let cid = format!("containerd://{}", self.hex(64));
            let image_id = self.image_id(&c.image);
            let first = ci == 0;
            let (st, last, restarts, cready, image_id, cid) = match state {
                PodState::Running { restarts, oom } => {
                    let r = if first { restarts } else { 0 };
                    let last = if r > 0 {
                        let (code, reason) = if oom {
                            (137, "OOMKilled")
                        } else {
                            (1, "Error")
                        };
                        json!({"terminated": {"exitCode": code, "reason": reason,
                            "startedAt": rfc3339(started - 3600), "finishedAt": rfc3339(started - 60),
                            "containerID": format!("containerd://{}", self.hex(64))}})
                    } else {
                        json!({})
                    };
                    (
                        json!({"running": {"startedAt": ts}}),
                        last,
                        r,
                        true,
                        image_id,
                        Some(cid),
                    )
                }
                PodState::CrashLoop if first => {
                    let restarts = self.rng.gen_range(3..40);
                    let oom = self.rng.gen_bool(0.5);
                    let (code, reason) = if oom {
                        (137, "OOMKilled")
                    } else {
                        (1, "Error")
                    };
                    (
                        json!({"waiting": {"reason": "CrashLoopBackOff",
                            "message": format!("back-off 5m0s restarting failed container={} pod={}", c.name, name)}}),
                        json!({"terminated": {"exitCode": code, "reason": reason,
                            "startedAt": rfc3339(T0 - 400), "finishedAt": rfc3339(T0 - 370),
                            "containerID": cid.clone()}}),
                        restarts,
                        false,
                        image_id,
                        Some(cid),
                    )
                }
                PodState::CrashLoop => (
                    json!({"running": {"startedAt": ts}}),
                    json!({}),
                    0,
                    true,
                    image_id,
                    Some(cid),
                ),
                PodState::ImagePull => (
                    json!({"waiting": {"reason": "ImagePullBackOff",
                        "message": format!("Back-off pulling image \"{}\"", c.image)}}),
                    json!({}),
                    0,
                    false,
                    String::new(),
                    None,
                ),
                PodState::ContainerCreating | PodState::Unschedulable => (
                    json!({"waiting": {"reason": "ContainerCreating"}}),
                    json!({}),
                    0,
                    false,
                    String::new(),
                    None,
                ),
                PodState::Evicted => (
                    json!({"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                        "message": "The container could not be located when the pod was terminated",
                        "startedAt": ts, "finishedAt": rfc3339(started + 600)}}),
                    json!({}),
                    0,
                    false,
                    image_id,
                    None,
                ),
                PodState::Succeeded | PodState::JobFailed => {
                    let ok = state == PodState::Succeeded;
                    (
                        json!({"terminated": {"exitCode": if ok {0} else {1},
                            "reason": if ok {"Completed"} else {"Error"},
                            "startedAt": ts, "finishedAt": rfc3339(started + 120),
                            "containerID": cid.clone()}}),
                        json!({}),
                        0,
                        false,
                        image_id,
                        Some(cid),
                    )
                }
            };
            let mut s = json!({"name": c.name, "state": st, "lastState": last, "ready": cready,
                "restartCount": restarts, "image": c.image, "imageID": image_id,
                "started": cready});
            if let Some(cid) = cid {
                s["containerID"] = json!(cid);
            }
            statuses.push(s);
        }
        status["containerStatuses"] = Value::Array(statuses);
        let qos = if t
            .containers
            .iter()
            .all(|c| c.mem_limit.is_some() && c.cpu.is_empty())
        {
            "Guaranteed"
        } else {
            "Burstable"
        };
        status["qosClass"] = json!(qos);
        let v = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status});
        self.emit(v)?;
        Ok(endpoint)
    }
}
