//! Families of the `pods` resource (60, in KSM's order).
//!
//! Pods are the hottest path of a production cluster, so the emitters borrow every label value
//! from the decoded [`Pod`] and format numbers only where a label carries one.
//!
//! * `container` — the container / init-container twins: one function per pair, the twin
//!   picked by a `const INIT: bool` parameter.
//! * `status` — phase, QoS class, conditions and reasons.
//! * this module — the table, plus the families read from metadata and spec.

use std::fmt::Write as _;

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::pod::Pod;
use kubestate_objects::{Meta, Time};

use crate::common;
use crate::kind::{Api, Family, Kind, Out};

mod container;
mod status;
#[cfg(test)]
mod tests;

use container as ct;

impl Kind for Pod {
    const RESOURCE: &'static str = "pods";
    const KIND: &'static str = "Pod";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("pod", &self.metadata.name);
        out.identity_label("uid", &self.metadata.uid);
    }

    /// The hand-written pod decoder (the same struct as the generic one, without `serde`).
    fn from_protobuf(
        bytes: &[u8],
        _: kubestate_protoschema::MessageId,
    ) -> Result<Pod, kubestate_objects::proto::Error> {
        kubestate_objects::proto::decode_pod(bytes)
    }
}

const FAMILIES: &[Family<Pod>] = &[
    Family::gauge(
        "kube_pod_completion_time",
        Stable,
        "When the pod's last container finished, in Unix seconds.",
        status::completion_time,
    ),
    Family::gauge(
        "kube_pod_container_info",
        Stable,
        "One series per container that has a status, with its spec and runtime image.",
        ct::info::<false>,
    ),
    Family::gauge(
        "kube_pod_container_resource_limits",
        Stable,
        "Resource limits of a container, by resource and unit.",
        ct::resources::<false, true>,
    ),
    Family::gauge(
        "kube_pod_container_resource_requests",
        Stable,
        "Resource requests of a container, by resource and unit.",
        ct::resources::<false, false>,
    ),
    Family::gauge(
        "kube_pod_container_state_started",
        Stable,
        "When a running or terminated container started, in Unix seconds.",
        ct::state_started::<false>,
    ),
    Family::gauge(
        "kube_pod_container_status_last_terminated_reason",
        Alpha,
        "Why a container's previous run terminated.",
        ct::last_terminated_reason::<false>,
    ),
    Family::gauge(
        "kube_pod_container_status_last_terminated_exitcode",
        Alpha,
        "Exit code of a container's previous run.",
        ct::last_terminated_exitcode::<false>,
    ),
    Family::gauge(
        "kube_pod_container_status_last_terminated_timestamp",
        Alpha,
        "When a container's previous run finished, in Unix seconds.",
        ct::last_terminated_timestamp::<false>,
    ),
    Family::gauge(
        "kube_pod_container_status_ready",
        Stable,
        "Whether a container passes its readiness check (1) or not (0).",
        ct::ready::<false>,
    ),
    Family::gauge(
        "kube_pod_container_status_restarts_total",
        Stable,
        "How many times a container has restarted.",
        ct::restarts::<false>,
    )
    .counter(),
    Family::gauge(
        "kube_pod_container_status_running",
        Stable,
        "Whether a container is running (1) or not (0).",
        ct::running::<false>,
    ),
    Family::gauge(
        "kube_pod_container_status_terminated",
        Stable,
        "Whether a container is terminated (1) or not (0).",
        ct::terminated::<false>,
    ),
    Family::gauge(
        "kube_pod_container_status_terminated_reason",
        Alpha,
        "Why a currently terminated container terminated.",
        ct::terminated_reason::<false>,
    ),
    Family::gauge(
        "kube_pod_container_status_waiting",
        Stable,
        "Whether a container is waiting (1) or not (0).",
        ct::waiting::<false>,
    ),
    Family::gauge(
        "kube_pod_container_status_waiting_reason",
        Stable,
        "Why a currently waiting container waits.",
        ct::waiting_reason::<false>,
    ),
    Family::gauge(
        "kube_pod_created",
        Stable,
        "When the pod was created, in Unix seconds.",
        common::created::<Pod>,
    ),
    Family::gauge(
        "kube_pod_deletion_timestamp",
        Alpha,
        "When the pod was marked for deletion, in Unix seconds.",
        common::deletion_timestamp::<Pod>,
    ),
    Family::gauge(
        "kube_pod_info",
        Stable,
        "One series per pod, with its addresses, node, controller and priority class.",
        info,
    ),
    Family::gauge(
        "kube_pod_ips",
        Alpha,
        "One series per pod IP address, with its family (4 or 6).",
        ips,
    ),
    Family::gauge(
        "kube_pod_init_container_info",
        Stable,
        "One series per init container that has a status, with its images and restart policy.",
        ct::info::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_resource_limits",
        Alpha,
        "Resource limits of an init container, by resource and unit.",
        ct::resources::<true, true>,
    ),
    Family::gauge(
        "kube_pod_init_container_resource_requests",
        Alpha,
        "Resource requests of an init container, by resource and unit.",
        ct::resources::<true, false>,
    ),
    Family::gauge(
        "kube_pod_init_container_state_started",
        Alpha,
        "When a running or terminated init container started, in Unix seconds.",
        ct::state_started::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_status_last_terminated_reason",
        Alpha,
        "Why an init container's previous run terminated.",
        ct::last_terminated_reason::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_status_last_terminated_exitcode",
        Alpha,
        "Exit code of an init container's previous run.",
        ct::last_terminated_exitcode::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_status_last_terminated_timestamp",
        Alpha,
        "When an init container's previous run finished, in Unix seconds.",
        ct::last_terminated_timestamp::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_status_ready",
        Stable,
        "Whether an init container is ready (1) or not (0).",
        ct::ready::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_status_restarts_total",
        Stable,
        "How many times an init container has restarted.",
        ct::restarts::<true>,
    )
    .counter(),
    Family::gauge(
        "kube_pod_init_container_status_running",
        Stable,
        "Whether an init container is running (1) or not (0).",
        ct::running::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_status_terminated",
        Stable,
        "Whether an init container is terminated (1) or not (0).",
        ct::terminated::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_status_terminated_reason",
        Alpha,
        "Why a currently terminated init container terminated.",
        ct::terminated_reason::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_status_waiting",
        Stable,
        "Whether an init container is waiting (1) or not (0).",
        ct::waiting::<true>,
    ),
    Family::gauge(
        "kube_pod_init_container_status_waiting_reason",
        Alpha,
        "Why a currently waiting init container waits.",
        ct::waiting_reason::<true>,
    ),
    Family::gauge(
        "kube_pod_annotations",
        Alpha,
        "Pod annotations named by the annotations allowlist, as labels.",
        common::annotations::<Pod>,
    ),
    Family::gauge(
        "kube_pod_labels",
        Stable,
        "Pod labels named by the labels allowlist, as labels.",
        common::labels::<Pod>,
    ),
    Family::gauge(
        "kube_pod_overhead_cpu_cores",
        Alpha,
        "CPU the pod's runtime class adds on top of its containers, in cores.",
        overhead_cpu,
    ),
    Family::gauge(
        "kube_pod_overhead_memory_bytes",
        Alpha,
        "Memory the pod's runtime class adds on top of its containers, in bytes.",
        overhead_memory,
    ),
    Family::gauge(
        "kube_pod_owner",
        Stable,
        "One series per owner reference of the pod.",
        common::owner::<Pod>,
    ),
    Family::gauge(
        "kube_pod_resourceclaim_info",
        Alpha,
        "One series per resource claim of the pod, with the claim or template behind it.",
        resource_claims,
    ),
    Family::gauge(
        "kube_pod_restart_policy",
        Stable,
        "The pod's restart policy.",
        |p, out| out.sample(&[("type", &p.spec.restart_policy)], 1.0),
    ),
    Family::gauge(
        "kube_pod_runtimeclass_name_info",
        Alpha,
        "The runtime class the pod asks for, when it names one.",
        runtime_class,
    ),
    Family::gauge(
        "kube_pod_spec_volumes_persistentvolumeclaims_info",
        Stable,
        "One series per volume backed by a PersistentVolumeClaim or a generic ephemeral volume.",
        |p, out| claim_volumes(p, out, false),
    ),
    Family::gauge(
        "kube_pod_spec_volumes_persistentvolumeclaims_readonly",
        Stable,
        "Whether a claim-backed volume is mounted read-only (1) or not (0).",
        |p, out| claim_volumes(p, out, true),
    ),
    Family::gauge(
        "kube_pod_start_time",
        Stable,
        "When the kubelet acknowledged the pod, in Unix seconds.",
        // Set but zero (year 1) still counts: KSM only checks the pointer.
        |p, out| common::value_if_set(p.status.start_time.map(|t| t.unix()), out),
    ),
    Family::gauge(
        "kube_pod_status_phase",
        Stable,
        "The pod's phase: 1 on the current one, 0 on the others.",
        status::phase,
    ),
    Family::gauge(
        "kube_pod_status_qos_class",
        Alpha,
        "The pod's QoS class: 1 on the current one, 0 on the others.",
        status::qos_class,
    ),
    Family::gauge(
        "kube_pod_status_ready",
        Stable,
        "Status of the pod's Ready condition (true, false or unknown).",
        status::ready,
    ),
    Family::gauge(
        "kube_pod_status_ready_time",
        Alpha,
        "When the pod became ready, in Unix seconds.",
        status::ready_time,
    ),
    Family::gauge(
        "kube_pod_status_initialized_time",
        Alpha,
        "When the pod's init containers all completed, in Unix seconds.",
        status::initialized_time,
    ),
    Family::gauge(
        "kube_pod_status_container_ready_time",
        Alpha,
        "When all the pod's containers became ready, in Unix seconds.",
        status::container_ready_time,
    ),
    Family::gauge(
        "kube_pod_status_reason",
        Alpha,
        "Known reasons the pod is in its state (status, condition or container reason), or Other.",
        status::reason,
    ),
    Family::gauge(
        "kube_pod_status_disruption_reason",
        Alpha,
        "Why the pod is a disruption target, per DisruptionTarget condition.",
        status::disruption_reason,
    ),
    Family::gauge(
        "kube_pod_status_scheduled",
        Stable,
        "Status of the pod's PodScheduled condition (true, false or unknown).",
        status::scheduled,
    ),
    Family::gauge(
        "kube_pod_status_scheduled_time",
        Stable,
        "When the pod was scheduled, in Unix seconds.",
        status::scheduled_time,
    ),
    Family::gauge(
        "kube_pod_status_unschedulable",
        Stable,
        "1 while the scheduler cannot place the pod.",
        status::unschedulable,
    ),
    Family::gauge(
        "kube_pod_status_unscheduled_time",
        Alpha,
        "When the pod was found unschedulable, in Unix seconds.",
        status::unscheduled_time,
    ),
    Family::gauge(
        "kube_pod_tolerations",
        Alpha,
        "One series per distinct toleration of the pod.",
        tolerations,
    ),
    Family::gauge(
        "kube_pod_nodeselectors",
        Alpha,
        "The pod's node selector, each entry as a label.",
        |p, out| common::map_sample(&node_selector(p), "nodeselector", out),
    )
    .opt_in(),
    Family::gauge(
        "kube_pod_service_account",
        Alpha,
        "The service account the pod runs as.",
        |p, out| out.sample(&[("service_account", &p.spec.service_account_name)], 1.0),
    ),
    Family::gauge(
        "kube_pod_scheduler",
        Alpha,
        "The scheduler responsible for the pod.",
        |p, out| out.sample(&[("name", &p.spec.scheduler_name)], 1.0),
    ),
];

/// Unix seconds of a timestamp KSM reads without a nil check: an absent time is Go's zero
/// time, whose `Unix()` is `-62135596800`.
fn unix_or_go_zero(t: Option<Time>) -> f64 {
    const GO_ZERO_UNIX: f64 = -62_135_596_800.0;
    t.map_or(GO_ZERO_UNIX, Time::unix)
}

/// 1 or 0, as KSM turns a bool into a sample value.
fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// `kube_pod_info`: the controller is the first owner reference marked `controller: true`.
fn info(p: &Pod, out: &mut Out<'_>) {
    let ctl = p
        .metadata
        .owner_references
        .iter()
        .find(|r| r.controller == Some(true));
    let (kind, name) = ctl.map_or(("", ""), |r| (&*r.kind, &*r.name));
    out.sample(
        &[
            ("host_ip", &p.status.host_ip),
            ("pod_ip", &p.status.pod_ip),
            ("node", &p.spec.node_name),
            ("created_by_kind", kind),
            ("created_by_name", name),
            ("priority_class", &p.spec.priority_class_name),
            ("host_network", common::bool_str(p.spec.host_network)),
        ],
        1.0,
    );
}

/// `kube_pod_ips`: family `4` for IPv4 and IPv4-mapped IPv6 (as Go's `To4` decides), `6` for
/// other IPv6; addresses that do not parse are left out.
fn ips(p: &Pod, out: &mut Out<'_>) {
    for ip in &p.status.pod_ips {
        let family = match ip.ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(_)) => "4",
            Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some() => "4",
            Ok(std::net::IpAddr::V6(_)) => "6",
            Err(_) => continue,
        };
        out.sample(&[("ip", &ip.ip), ("ip_family", family)], 1.0);
    }
}

fn overhead_cpu(p: &Pod, out: &mut Out<'_>) {
    if let Some(q) = p.spec.overhead.get("cpu") {
        out.sample(&[], crate::quantity::milli_float(q));
    }
}

fn overhead_memory(p: &Pod, out: &mut Out<'_>) {
    if let Some(q) = p.spec.overhead.get("memory") {
        out.sample(&[], q.value() as f64);
    }
}

/// `kube_pod_resourceclaim_info`: a template-generated claim's name comes from the status
/// entry of the same name, and stays empty until the claim exists.
fn resource_claims(p: &Pod, out: &mut Out<'_>) {
    for rc in &p.spec.resource_claims {
        let claim = rc.resource_claim_name.as_deref().or_else(|| {
            p.status
                .resource_claim_statuses
                .iter()
                .find(|s| s.name == rc.name)
                .and_then(|s| s.resource_claim_name.as_deref())
        });
        out.sample(
            &[
                ("claim_name", &rc.name),
                ("resourceclaim_name", claim.unwrap_or("")),
                (
                    "resourceclaim_template_name",
                    rc.resource_claim_template_name.as_deref().unwrap_or(""),
                ),
            ],
            1.0,
        );
    }
}

fn runtime_class(p: &Pod, out: &mut Out<'_>) {
    if let Some(rc) = &p.spec.runtime_class_name {
        out.sample(&[("runtimeclass_name", rc)], 1.0);
    }
}

/// The two `kube_pod_spec_volumes_persistentvolumeclaims_*` families: PVC volumes with their
/// claim, then generic ephemeral volumes with the claim Kubernetes generates for them
/// (`<pod>-<volume>`). `readonly` selects the value: the mount's read-only flag (always 0 for
/// ephemeral volumes) instead of a constant 1.
fn claim_volumes(p: &Pod, out: &mut Out<'_>, readonly: bool) {
    let mut generated = String::new();
    for v in &p.spec.volumes {
        if let Some(pvc) = &v.persistent_volume_claim {
            let value = if readonly { flag(pvc.read_only) } else { 1.0 };
            out.sample(
                &[
                    ("volume", &v.name),
                    ("persistentvolumeclaim", &pvc.claim_name),
                    ("ephemeral", "false"),
                ],
                value,
            );
        }
        if v.ephemeral.is_some() {
            generated.clear();
            generated.push_str(&p.metadata.name);
            generated.push('-');
            generated.push_str(&v.name);
            let value = if readonly { 0.0 } else { 1.0 };
            out.sample(
                &[
                    ("volume", &v.name),
                    ("persistentvolumeclaim", &generated),
                    ("ephemeral", "true"),
                ],
                value,
            );
        }
    }
}

/// `kube_pod_tolerations`: tolerations equal in all five labels are reported once, at their
/// first position.
fn tolerations(p: &Pod, out: &mut Out<'_>) {
    let ts = &p.spec.tolerations;
    let mut secs = String::new();
    for (i, t) in ts.iter().enumerate() {
        if ts[..i].contains(t) {
            continue;
        }
        secs.clear();
        if let Some(s) = t.toleration_seconds {
            // Writing into a String cannot fail.
            let _ = write!(secs, "{s}");
        }
        out.sample(
            &[
                ("key", &t.key),
                ("operator", &t.operator),
                ("value", &t.value),
                ("effect", &t.effect),
                ("toleration_seconds", &secs),
            ],
            1.0,
        );
    }
}

fn node_selector(p: &Pod) -> Vec<(&str, &str)> {
    p.spec.node_selector.iter().collect()
}
