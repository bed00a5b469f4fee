//! Nodes (a few tainted control-plane nodes, some workers not ready or cordoned) and
//! their heartbeat leases.

use rand::Rng;
use serde_json::{json, Value};

use super::addresses::{check_nodes, node_ip, pod_cidr};
use super::{Gen, NodeInfo, SynthSpec, T0, ZONES};
use crate::object::{rfc3339, uuid_from};
use crate::store::WorldError;

/// Emit `spec.nodes` nodes (at least one) with their leases and record them in `g.nodes`;
/// at least one node ends up ready.
pub(super) fn nodes(
    g: &mut Gen<'_>,
    spec: &SynthSpec,
    cluster_created: i64,
) -> Result<(), WorldError> {
    let n_nodes = spec.nodes.max(1);
    check_nodes(n_nodes)?;
    let n_cp = n_nodes.min(3).min(if n_nodes > 3 { 3 } else { 1 });
    for i in 0..n_nodes {
        let cp = i < n_cp;
        let name = if cp {
            format!("cp-{}", i + 1)
        } else {
            format!("worker-{:05}", i - n_cp + 1)
        };
        let zone = ZONES[i % 3];
        let ip = node_ip(i).to_string();
        // ~2% of workers are not ready (Unknown after losing the kubelet, or False).
        let not_ready = !cp && n_nodes > 5 && g.rng.gen_bool(0.02);
        let created = cluster_created + (i as i64) * 17;
        let instance =
            ["m6i.large", "m6i.xlarge", "m6i.2xlarge", "r6i.xlarge"][g.rng.gen_range(0..4)];
        let (cpu, mem_ki, alloc_cpu) = match instance {
            "m6i.large" => (2, 7_955_316u64, "1930m"),
            "m6i.xlarge" => (4, 16_078_876, "3920m"),
            "m6i.2xlarge" => (8, 32_394_180, "7910m"),
            _ => (4, 32_394_180, "3920m"),
        };
        let mut labels = json!({
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": instance,
            "topology.kubernetes.io/region": "eu-west-1", "topology.kubernetes.io/zone": zone,
        });
        let mut taints = Vec::new();
        if cp {
            labels["node-role.kubernetes.io/control-plane"] = json!("");
            taints.push(
                json!({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}),
            );
        }
        let hb = rfc3339(T0 - g.rng.gen_range(1..40));
        let since = rfc3339(created + 60);
        let (ready_status, ready_reason, ready_msg) = if not_ready {
            if g.rng.gen_bool(0.5) {
                taints.push(json!({"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": rfc3339(T0 - 600)}));
                taints.push(json!({"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": rfc3339(T0 - 600)}));
                (
                    "Unknown",
                    "NodeStatusUnknown",
                    "Kubelet stopped posting node status.",
                )
            } else {
                taints.push(json!({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": rfc3339(T0 - 600)}));
                ("False", "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")
            }
        } else {
            ("True", "KubeletReady", "kubelet is posting ready status")
        };
        let unschedulable = !cp && !not_ready && n_nodes > 20 && g.rng.gen_bool(0.005);
        let instance_id = format!("i-0{}", g.hex(16));
        let meta = g.meta(&name, None, created, labels);
        let cidr = pod_cidr(i);
        let mut spec = json!({"podCIDR": cidr, "podCIDRs": [cidr],
            "providerID": format!("aws:///{zone}/{instance_id}")});
        if unschedulable {
            spec["unschedulable"] = json!(true);
            taints.push(json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": rfc3339(T0 - 3600)}));
        }
        if !taints.is_empty() {
            spec["taints"] = Value::Array(taints);
        }
        let pressure = |ty: &str, reason: &str, msg: &str| {
            json!({"type": ty, "status": "False", "lastHeartbeatTime": hb, "lastTransitionTime": since,
                   "reason": reason, "message": msg})
        };
        let mut conditions = vec![
            pressure(
                "MemoryPressure",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            pressure(
                "DiskPressure",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            pressure(
                "PIDPressure",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
        ];
        conditions.push(
            json!({"type": "Ready", "status": ready_status, "lastHeartbeatTime": hb,
            "lastTransitionTime": if not_ready { rfc3339(T0 - 600) } else { since.clone() },
            "reason": ready_reason, "message": ready_msg}),
        );
        let status = json!({
            "capacity": {"cpu": cpu.to_string(), "ephemeral-storage": "83873772Ki", "hugepages-1Gi": "0",
                "hugepages-2Mi": "0", "memory": format!("{mem_ki}Ki"), "pods": "110"},
            "allocatable": {"cpu": alloc_cpu, "ephemeral-storage": "76224326324", "hugepages-1Gi": "0",
                "hugepages-2Mi": "0", "memory": format!("{}Ki", mem_ki - 614_400), "pods": "110"},
            "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": g.hex(32), "systemUUID": uuid_from(g.rng.gen(), g.rng.gen()),
                "bootID": uuid_from(g.rng.gen(), g.rng.gen()), "kernelVersion": "6.1.119-129.201.amzn2023.x86_64",
                "osImage": "Amazon Linux 2023.6.20241212", "containerRuntimeVersion": "containerd://1.7.25",
                "kubeletVersion": "v1.36.2", "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"},
        });
        let node_uid = meta["uid"].clone();
        g.emit(json!({"apiVersion": "v1", "kind": "Node", "metadata": meta, "spec": spec, "status": status}))?;
        let mut lmeta = g.meta(&name, Some("kube-node-lease"), created, json!({}));
        lmeta["ownerReferences"] =
            json!([{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}]);
        g.emit(
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": lmeta,
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                     "renewTime": format!("{}.000000Z", &rfc3339(T0 - 5)[..19])}}),
        )?;
        g.nodes.push(NodeInfo {
            name,
            ip,
            zone,
            ready: !not_ready && !unschedulable,
            pods: 0,
        });
    }
    if !g.nodes.iter().any(|n| n.ready) {
        g.nodes[0].ready = true;
    }
    Ok(())
}
