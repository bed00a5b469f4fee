//! Deployments → ReplicaSets → Pods (with their config maps, secrets, services, HPAs and
//! PDBs), and one scaled-down legacy ReplicationController.

use rand::Rng;
use serde_json::{json, Value};

use super::networking::service;
use super::pods::template_spec;
use super::{owner_ref, Ctr, Gen, PodState, Tmpl, APPS, LIM_MEM, REQ_CPU, REQ_MEM};
use crate::object::rfc3339;
use crate::store::WorldError;

/// Spread `dep_pods` pods over `n_deploy` deployments in random workload namespaces.
pub(super) fn deployments(
    g: &mut Gen<'_>,
    namespaces: &[String],
    n_deploy: usize,
    dep_pods: usize,
) -> Result<(), WorldError> {
    let base = dep_pods.checked_div(n_deploy).unwrap_or(0);
    let extra = dep_pods.checked_rem(n_deploy).unwrap_or(0);
    let mut replicas: Vec<usize> = (0..n_deploy)
        .map(|i| base + usize::from(i < extra))
        .collect();
    // Move replicas between neighbours for variety; the total stays exact.
    for i in (0..n_deploy.saturating_sub(1)).step_by(2) {
        let movable = replicas[i].saturating_sub(1);
        if movable > 0 {
            let k = g.rng.gen_range(0..=movable);
            replicas[i] -= k;
            replicas[i + 1] += k;
        }
    }
    for (di, &reps) in replicas.iter().enumerate() {
        let ns = namespaces[g.rng.gen_range(0..namespaces.len())].clone();
        let app = APPS[di % APPS.len()];
        let name = format!("{app}-{di:05}");
        deployment(g, &ns, &name, app, reps, di)?;
    }
    Ok(())
}

/// A ReplicationController scaled to zero in the first workload namespace.
pub(super) fn legacy_replication_controller(
    g: &mut Gen<'_>,
    namespaces: &[String],
) -> Result<(), WorldError> {
    let meta = g.meta_aged(
        "legacy-frontend",
        Some(&namespaces[0]),
        80 * 86_400,
        json!({"app": "legacy"}),
    );
    let mut meta = meta;
    meta["generation"] = json!(1);
    g.emit(json!({"apiVersion": "v1", "kind": "ReplicationController", "metadata": meta,
        "spec": {"replicas": 0, "selector": {"app": "legacy"}, "template": {"metadata": {"labels": {"app": "legacy"}},
            "spec": {"containers": [{"name": "legacy", "image": "nginx:1.14", "resources": {},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
                "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                "securityContext": {}, "schedulerName": "default-scheduler"}}},
        "status": {"replicas": 0, "observedGeneration": 1}}))?;
    Ok(())
}

fn pick<'s>(g: &mut Gen<'_>, xs: &[&'s str]) -> &'s str {
    xs[g.rng.gen_range(0..xs.len())]
}

fn deployment(
    g: &mut Gen<'_>,
    ns: &str,
    name: &str,
    app: &str,
    reps: usize,
    di: usize,
) -> Result<(), WorldError> {
    let created = g.created(45 * 86_400);
    let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": app});
    let version = format!(
        "{}.{}.{}",
        g.rng.gen_range(1..5),
        g.rng.gen_range(0..20),
        g.rng.gen_range(0..10)
    );
    let image_pull_broken = g.rng.gen_bool(0.01);
    let image = if image_pull_broken {
        format!("ghcr.io/acme/{app}:{version}-typo")
    } else {
        format!("ghcr.io/acme/{app}:{version}")
    };
    let ci = g.rng.gen_range(0..5);
    let mut containers = vec![Ctr {
        name: app.into(),
        image,
        cpu: REQ_CPU[ci],
        mem: REQ_MEM[ci],
        mem_limit: Some(LIM_MEM[ci]),
        port: Some(8080),
    }];
    if g.rng.gen_bool(0.2) {
        containers.push(Ctr {
            name: "envoy".into(),
            image: "envoyproxy/envoy:v1.32.3".into(),
            cpu: "50m",
            mem: "64Mi",
            mem_limit: Some("128Mi"),
            port: None,
        });
    }
    let init = g.rng.gen_bool(0.1).then(|| Ctr {
        name: "migrate".into(),
        image: format!("ghcr.io/acme/{app}-migrations:{version}"),
        cpu: "50m",
        mem: "64Mi",
        mem_limit: None,
        port: None,
    });
    let config_volume = g.rng.gen_bool(0.3).then(|| format!("{name}-config"));
    if let Some(cm) = &config_volume {
        let meta = g.meta(cm, Some(ns), created, labels.clone());
        g.emit(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {"config.yaml": format!("log_level: info\nport: 8080\nname: {name}\n")}}),
        )?;
    }
    if di % 2 == 0 {
        let secret_type = pick(
            g,
            &[
                "Opaque",
                "kubernetes.io/tls",
                "kubernetes.io/dockerconfigjson",
                "helm.sh/release.v1",
                "kubernetes.io/basic-auth",
            ],
        );
        let data = match secret_type {
            "kubernetes.io/tls" => {
                json!({"tls.crt": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==", "tls.key": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg=="})
            }
            "kubernetes.io/dockerconfigjson" => json!({".dockerconfigjson": "eyJhdXRocyI6e319"}),
            "helm.sh/release.v1" => json!({"release": "SDRzSUFBQUFBQUFDLzZ5U1QyL2FRQkRGdjhwcQ=="}),
            "kubernetes.io/basic-auth" => json!({"username": "YWRtaW4=", "password": "c2VjcmV0"}),
            _ => json!({"api-key": "c2VjcmV0LXZhbHVl"}),
        };
        let sname = if secret_type == "helm.sh/release.v1" {
            format!("sh.helm.release.v1.{name}.v1")
        } else {
            format!("{name}-secret")
        };
        let slabels = if secret_type == "helm.sh/release.v1" {
            json!({"name": name, "owner": "helm", "status": "deployed", "version": "1"})
        } else {
            json!({})
        };
        let meta = g.meta(&sname, Some(ns), created, slabels);
        g.emit(json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": data, "type": secret_type}))?;
    }
    let sa = if di % 4 == 0 {
        let meta = g.meta(name, Some(ns), created, json!({}));
        g.emit(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}))?;
        name.to_string()
    } else {
        "default".to_string()
    };
    let tmpl = Tmpl {
        labels: labels.clone(),
        containers,
        init,
        config_volume,
        pvc: None,
        node_selector: g.rng.gen_bool(0.2),
        service_account: sa,
        restart_policy: "Always",
    };
    let rolled = g.rng.gen_bool(0.1);
    let revision = if rolled { 2 } else { 1 };
    let mut meta = g.meta(name, Some(ns), created, labels.clone());
    meta["generation"] = json!(revision);
    meta["annotations"] = json!({"deployment.kubernetes.io/revision": revision.to_string()});
    let dep_uid = meta["uid"].as_str().unwrap_or("").to_string();
    let hash = g.suffix(10);
    // Pod states.
    let mut states = Vec::with_capacity(reps);
    for _ in 0..reps {
        let x: f64 = g.rng.gen();
        let st = if image_pull_broken {
            PodState::ImagePull
        } else if x < 0.02 {
            PodState::CrashLoop
        } else if x < 0.03 {
            PodState::Unschedulable
        } else if x < 0.04 {
            PodState::ContainerCreating
        } else if x < 0.05 {
            PodState::Evicted
        } else if x < 0.15 {
            PodState::Running {
                restarts: g.rng.gen_range(1..6),
                oom: g.rng.gen_bool(0.3),
            }
        } else {
            PodState::Running {
                restarts: 0,
                oom: false,
            }
        };
        states.push(st);
    }
    let ready = states
        .iter()
        .filter(|s| matches!(s, PodState::Running { .. }))
        .count();
    let active = states
        .iter()
        .filter(|s| !matches!(s, PodState::Evicted))
        .count();
    let desired = active;
    let available = ready;
    let dep_ts = rfc3339(created + 30);
    let avail_cond = if available >= desired.saturating_sub(desired / 4).max(1).min(desired)
        && desired > 0
    {
        json!({"type": "Available", "status": "True", "lastUpdateTime": dep_ts, "lastTransitionTime": dep_ts,
               "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."})
    } else {
        json!({"type": "Available", "status": "False", "lastUpdateTime": dep_ts, "lastTransitionTime": dep_ts,
               "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."})
    };
    let rs_name = format!("{name}-{hash}");
    let mut dstatus = json!({"observedGeneration": revision, "replicas": active, "updatedReplicas": active,
        "readyReplicas": ready, "availableReplicas": available, "terminatingReplicas": 0,
        "conditions": [avail_cond, {"type": "Progressing", "status": "True", "lastUpdateTime": dep_ts,
            "lastTransitionTime": rfc3339(created), "reason": "NewReplicaSetAvailable",
            "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed.")}]});
    if active > ready {
        dstatus["unavailableReplicas"] = json!(active - ready);
    }
    if ready == 0 {
        if let Some(m) = dstatus.as_object_mut() {
            m.remove("readyReplicas");
            m.remove("availableReplicas");
        }
    }
    g.emit(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
        "spec": {"replicas": desired, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": tmpl.labels}, "spec": template_spec(&tmpl)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": dstatus}))?;
    let dep_owner = owner_ref("apps/v1", "Deployment", name, &dep_uid);
    if rolled {
        let old_hash = g.suffix(10);
        rs(
            g,
            ns,
            name,
            &old_hash,
            &tmpl,
            0,
            0,
            1,
            created,
            dep_owner.clone(),
        )?;
    }
    let rs_uid = rs(
        g,
        ns,
        name,
        &hash,
        &tmpl,
        desired,
        ready,
        revision,
        created + 1,
        dep_owner,
    )?;
    let rs_owner = owner_ref("apps/v1", "ReplicaSet", &rs_name, &rs_uid);
    let mut endpoints = Vec::new();
    for st in states {
        let pname = format!("{rs_name}-{}", g.suffix(5));
        let pcreated = created + g.rng.gen_range(2..86_400);
        let endpoint = g.pod(
            ns,
            &pname,
            Some(&format!("{rs_name}-")),
            Some(rs_owner.clone()),
            &tmpl,
            &[("pod-template-hash", hash.clone())],
            st,
            pcreated,
            None,
        )?;
        if matches!(st, PodState::Running { .. }) {
            endpoints.extend(endpoint);
        }
    }
    service(g, ns, name, &labels, created, &endpoints, false)?;
    if di % 10 == 0 && desired > 0 {
        let meta = g.meta(name, Some(ns), created, json!({}));
        g.emit(json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta,
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": name, "apiVersion": "apps/v1"},
                "minReplicas": desired.max(1), "maxReplicas": desired.max(1) * 3,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
            "status": {"currentReplicas": desired, "desiredReplicas": desired,
                "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageValue": "120m", "averageUtilization": 48}}}],
                "conditions": [{"type": "AbleToScale", "status": "True", "lastTransitionTime": rfc3339(created + 60), "reason": "ReadyForNewScale", "message": "recommended size matches current size"},
                    {"type": "ScalingActive", "status": "True", "lastTransitionTime": rfc3339(created + 60), "reason": "ValidMetricFound", "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"},
                    {"type": "ScalingLimited", "status": "False", "lastTransitionTime": rfc3339(created + 60), "reason": "DesiredWithinRange", "message": "the desired count is within the acceptable range"}]}}))?;
    }
    if di % 10 == 5 && desired > 1 {
        let mut meta = g.meta(name, Some(ns), created, json!({}));
        meta["generation"] = json!(1);
        g.emit(json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta,
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": name}}, "maxUnavailable": 1},
            "status": {"observedGeneration": 1, "disruptionsAllowed": i64::from(ready >= desired), "currentHealthy": ready,
                "desiredHealthy": desired - 1, "expectedPods": desired,
                "conditions": [{"type": "DisruptionAllowed", "status": if ready >= desired {"True"} else {"False"}, "observedGeneration": 1,
                    "lastTransitionTime": rfc3339(created + 60), "reason": if ready >= desired {"SufficientPods"} else {"InsufficientPods"}, "message": ""}]}}))?;
    }
    if di % 20 == 3 {
        let mut meta = g.meta(name, Some(ns), created, json!({}));
        meta["generation"] = json!(1);
        let host = format!("{name}.{ns}.acme.example");
        g.emit(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta,
            "spec": {"ingressClassName": "nginx", "tls": [{"hosts": [host], "secretName": format!("{name}-tls")}],
                "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": name, "port": {"number": 80}}}}]}}]},
            "status": {"loadBalancer": {"ingress": [{"hostname": "a0b1c2d3-1234567890.elb.eu-west-1.amazonaws.com"}]}}}))?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn rs(
    g: &mut Gen<'_>,
    ns: &str,
    dep: &str,
    hash: &str,
    tmpl: &Tmpl,
    replicas: usize,
    ready: usize,
    revision: u32,
    created: i64,
    owner: Value,
) -> Result<String, WorldError> {
    let name = format!("{dep}-{hash}");
    let mut labels = tmpl.labels.clone();
    labels["pod-template-hash"] = json!(hash);
    let mut meta = g.meta(&name, Some(ns), created, labels.clone());
    meta["generation"] = json!(if replicas == 0 { 2 } else { 1 });
    meta["annotations"] = json!({"deployment.kubernetes.io/desired-replicas": replicas.to_string(),
        "deployment.kubernetes.io/max-replicas": (replicas + replicas.div_ceil(4)).to_string(),
        "deployment.kubernetes.io/revision": revision.to_string()});
    meta["ownerReferences"] = owner;
    let uid = meta["uid"].as_str().unwrap_or("").to_string();
    let mut sel = tmpl.labels.clone();
    sel["pod-template-hash"] = json!(hash);
    let mut status = json!({"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": ready,
        "availableReplicas": ready, "terminatingReplicas": 0, "observedGeneration": meta["generation"]});
    if ready == 0 {
        if let Some(m) = status.as_object_mut() {
            m.remove("readyReplicas");
            m.remove("availableReplicas");
        }
    }
    g.emit(
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
        "spec": {"replicas": replicas, "selector": {"matchLabels": sel},
            "template": {"metadata": {"labels": labels}, "spec": template_spec(tmpl)}},
        "status": status}),
    )?;
    Ok(uid)
}
