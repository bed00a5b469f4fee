//! StatefulSets with their PVCs, PVs, headless services and PDBs.

use rand::Rng;
use serde_json::json;

use super::networking::service;
use super::pods::template_spec;
use super::{owner_ref, Ctr, Gen, PodState, Tmpl};
use crate::object::{rfc3339, uuid_from};
use crate::store::WorldError;

/// Emit `n_sts` three-replica statefulsets in random workload namespaces.
pub(super) fn statefulsets(
    g: &mut Gen<'_>,
    namespaces: &[String],
    n_sts: usize,
) -> Result<(), WorldError> {
    for si in 0..n_sts {
        let ns = namespaces[g.rng.gen_range(0..namespaces.len())].clone();
        let name = format!("{}-{si:04}", ["postgres", "redis", "kafka", "etcd"][si % 4]);
        statefulset(g, &ns, &name, si)?;
    }
    Ok(())
}

pub(super) fn statefulset(
    g: &mut Gen<'_>,
    ns: &str,
    name: &str,
    si: usize,
) -> Result<(), WorldError> {
    let created = g.created(60 * 86_400);
    let labels = json!({"app.kubernetes.io/name": name});
    let image = [
        "docker.io/library/postgres:17.2",
        "docker.io/library/redis:7.4",
        "apache/kafka:3.9.0",
        "quay.io/coreos/etcd:v3.5.17",
    ][si % 4];
    let mut tmpl = Tmpl {
        labels: labels.clone(),
        containers: vec![Ctr {
            name: name.split('-').next().unwrap_or("db").into(),
            image: image.into(),
            cpu: "500m",
            mem: "1Gi",
            mem_limit: Some("2Gi"),
            port: Some(5432),
        }],
        init: None,
        config_volume: None,
        pvc: None,
        node_selector: false,
        service_account: "default".into(),
        restart_policy: "Always",
    };
    let mut meta = g.meta(name, Some(ns), created, labels.clone());
    meta["generation"] = json!(1);
    let uid = meta["uid"].as_str().unwrap_or("").to_string();
    let rev = format!("{name}-{}", g.suffix(10));
    let ready = if si % 7 == 6 { 2 } else { 3 };
    let mut sts_status = json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": ready, "currentReplicas": 3,
        "updatedReplicas": 3, "currentRevision": rev, "updateRevision": rev, "collisionCount": 0, "availableReplicas": ready});
    if ready == 3 {
        sts_status["availableReplicas"] = json!(3);
    }
    g.emit(json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta,
        "spec": {"replicas": 3, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": tmpl.labels}, "spec": template_spec(&tmpl)},
            "volumeClaimTemplates": [{"kind": "PersistentVolumeClaim", "apiVersion": "v1", "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}},
                    "storageClassName": "gp3", "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}],
            "serviceName": name, "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}, "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}},
        "status": sts_status}))?;
    let owner = owner_ref("apps/v1", "StatefulSet", name, &uid);
    let mut pods = Vec::new();
    for ord in 0..3 {
        let pname = format!("{name}-{ord}");
        let claim = format!("data-{pname}");
        let pv_name = format!("pvc-{}", uuid_from(g.rng.gen(), g.rng.gen()));
        let node = g.pick_node();
        let node_name = node.map(|i| g.nodes[i].name.clone()).unwrap_or_default();
        let mut pvc_meta = g.meta(&claim, Some(ns), created, labels.clone());
        pvc_meta["annotations"] = json!({"pv.kubernetes.io/bind-completed": "yes", "volume.kubernetes.io/selected-node": node_name,
            "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"});
        pvc_meta["finalizers"] = json!(["kubernetes.io/pvc-protection"]);
        let pvc_uid = pvc_meta["uid"].as_str().unwrap_or("").to_string();
        g.emit(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": pvc_meta,
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}}, "volumeName": pv_name,
                "storageClassName": "gp3", "volumeMode": "Filesystem"},
            "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "100Gi"}}}))?;
        let mut pv_meta = g.meta(&pv_name, None, created, json!({}));
        pv_meta["annotations"] = json!({"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"});
        pv_meta["finalizers"] = json!(["kubernetes.io/pv-protection"]);
        let handle = format!("vol-0{}", g.hex(16));
        g.emit(json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": pv_meta,
            "spec": {"capacity": {"storage": "100Gi"}, "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": handle, "fsType": "ext4",
                    "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity": "1731900000000-8081-ebs.csi.aws.com"}},
                "accessModes": ["ReadWriteOnce"],
                "claimRef": {"kind": "PersistentVolumeClaim", "namespace": ns, "name": claim, "uid": pvc_uid, "apiVersion": "v1"},
                "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "gp3", "volumeMode": "Filesystem"},
            "status": {"phase": "Bound", "lastPhaseTransitionTime": rfc3339(created)}}))?;
        if !node_name.is_empty() {
            let va_name = format!("csi-{}", g.hex(64));
            let va_meta = g.meta(&va_name, None, created, json!({}));
            g.emit(json!({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": va_meta,
                "spec": {"attacher": "ebs.csi.aws.com", "source": {"persistentVolumeName": pv_name}, "nodeName": node_name},
                "status": {"attached": true, "attachmentMetadata": {"devicePath": "/dev/xvdaa"}}}))?;
        }
        tmpl.pvc = Some(claim);
        let st = if ord >= ready {
            PodState::CrashLoop
        } else {
            PodState::Running {
                restarts: 0,
                oom: false,
            }
        };
        let endpoint = g.pod(
            ns,
            &pname,
            None,
            Some(owner.clone()),
            &tmpl,
            &[
                ("controller-revision-hash", rev.clone()),
                ("statefulset.kubernetes.io/pod-name", pname.clone()),
                ("apps.kubernetes.io/pod-index", ord.to_string()),
            ],
            st,
            created + 10,
            node,
        )?;
        pods.extend(endpoint);
    }
    service(g, ns, name, &labels, created, &pods, true)?;
    let mut meta = g.meta(name, Some(ns), created, json!({}));
    meta["generation"] = json!(1);
    g.emit(json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta,
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": name}}, "maxUnavailable": 1},
        "status": {"observedGeneration": 1, "disruptionsAllowed": i64::from(ready == 3), "currentHealthy": ready, "desiredHealthy": 2, "expectedPods": 3,
            "conditions": [{"type": "DisruptionAllowed", "status": if ready == 3 {"True"} else {"False"}, "observedGeneration": 1,
                "lastTransitionTime": rfc3339(created + 60), "reason": if ready == 3 {"SufficientPods"} else {"InsufficientPods"}, "message": ""}]}}))
}
