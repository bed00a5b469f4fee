//! DaemonSets with one running pod on every ready node.

use rand::Rng;
use serde_json::json;

use super::pods::template_spec;
use super::{owner_ref, Ctr, Gen, PodState, Tmpl};
use crate::store::WorldError;

/// Emit the first `n_ds` system daemonsets and their pods.
pub(super) fn daemonsets(
    g: &mut Gen<'_>,
    n_ds: usize,
    ready_nodes: usize,
    cluster_created: i64,
) -> Result<(), WorldError> {
    let ds_defs = [
        (
            "kube-proxy",
            "kube-system",
            "registry.k8s.io/kube-proxy:v1.36.2",
            "100m",
            "64Mi",
        ),
        (
            "node-exporter",
            "kube-system",
            "quay.io/prometheus/node-exporter:v1.8.2",
            "50m",
            "32Mi",
        ),
        (
            "fluent-bit",
            "kube-system",
            "cr.fluentbit.io/fluent/fluent-bit:3.2.2",
            "50m",
            "64Mi",
        ),
    ];
    for &(name, ns, image, cpu, mem) in ds_defs.iter().take(n_ds) {
        let created = cluster_created + 300;
        let labels = json!({"k8s-app": name});
        let tmpl = Tmpl {
            labels: labels.clone(),
            containers: vec![Ctr {
                name: name.into(),
                image: image.into(),
                cpu,
                mem,
                mem_limit: Some("256Mi"),
                port: None,
            }],
            init: None,
            config_volume: None,
            pvc: None,
            node_selector: true,
            service_account: name.into(),
            restart_policy: "Always",
        };
        let mut meta = g.meta(name, Some(ns), created, labels.clone());
        meta["generation"] = json!(1);
        meta["annotations"] = json!({"deprecated.daemonset.template.generation": "1"});
        let uid = meta["uid"].as_str().unwrap_or("").to_string();
        let n = ready_nodes as u64;
        g.emit(json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta,
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": tmpl.labels}, "spec": template_spec(&tmpl)},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}, "revisionHistoryLimit": 10},
            "status": {"currentNumberScheduled": n, "numberMisscheduled": 0, "desiredNumberScheduled": n, "numberReady": n,
                "observedGeneration": 1, "updatedNumberScheduled": n, "numberAvailable": n}}))?;
        let hash = format!("{}", g.rng.gen_range(100_000_000u64..999_999_999));
        let owner = owner_ref("apps/v1", "DaemonSet", name, &uid);
        for ni in 0..g.nodes.len() {
            if !g.nodes[ni].ready {
                continue;
            }
            let pname = format!("{name}-{}", g.suffix(5));
            let restarts = if g.rng.gen_bool(0.05) {
                g.rng.gen_range(1..4)
            } else {
                0
            };
            g.pod(
                ns,
                &pname,
                Some(&format!("{name}-")),
                Some(owner.clone()),
                &tmpl,
                &[
                    ("controller-revision-hash", hash.clone()),
                    ("pod-template-generation", "1".into()),
                ],
                PodState::Running {
                    restarts,
                    oom: false,
                },
                created + 60,
                Some(ni),
            )?;
        }
    }
    Ok(())
}
