//! The `datadog` preset: Datadog's `kubernetes_state_core` naming, joins and aggregations, for
//! users migrating from it (check-semantics.md §5.3, §5.4, §6.1–§6.3).
//!
//! These are data tables; [`crate::Plan::compile`] merges them under the user's entries (a user
//! join on a source family replaces the preset's join on it; user mapper, rename, transform and
//! aggregation entries override the preset's entries of the same key).
//!
//! The service checks (§6.4) are series of [`crate::service_checks`], on by default with this
//! preset. Not reproduced: the hostname taken from a `node`/`host` label (no host concept in series labels), the
//! Datadog-only `kube_*_with_owner_tag_*` families, and the multi-instance quirks (aggregators
//! flushed per store). Differences are listed in docs/check.md.

use std::collections::BTreeMap;

use crate::config::{
    AggregationConfig, AggregationKind, JoinConfig, TransformConfig, ValueAsLabel, ValueOp,
};

/// The 73 plain renames of §6.1 (value passed through).
pub const RENAMES: &[(&str, &str)] = &[
    (
        "kube_apiservice_status_condition",
        "kubernetes_state.apiservice.condition",
    ),
    (
        "kube_customresourcedefinition_status_condition",
        "kubernetes_state.crd.condition",
    ),
    (
        "kube_daemonset_status_current_number_scheduled",
        "kubernetes_state.daemonset.scheduled",
    ),
    (
        "kube_daemonset_status_desired_number_scheduled",
        "kubernetes_state.daemonset.desired",
    ),
    (
        "kube_daemonset_status_number_misscheduled",
        "kubernetes_state.daemonset.misscheduled",
    ),
    (
        "kube_daemonset_status_number_ready",
        "kubernetes_state.daemonset.ready",
    ),
    (
        "kube_daemonset_status_updated_number_scheduled",
        "kubernetes_state.daemonset.updated",
    ),
    (
        "kube_deployment_spec_paused",
        "kubernetes_state.deployment.paused",
    ),
    (
        "kube_deployment_spec_replicas",
        "kubernetes_state.deployment.replicas_desired",
    ),
    (
        "kube_deployment_spec_strategy_rollingupdate_max_unavailable",
        "kubernetes_state.deployment.rollingupdate.max_unavailable",
    ),
    (
        "kube_deployment_spec_strategy_rollingupdate_max_surge",
        "kubernetes_state.deployment.rollingupdate.max_surge",
    ),
    (
        "kube_deployment_status_replicas",
        "kubernetes_state.deployment.replicas",
    ),
    (
        "kube_deployment_status_replicas_ready",
        "kubernetes_state.deployment.replicas_ready",
    ),
    (
        "kube_deployment_status_replicas_available",
        "kubernetes_state.deployment.replicas_available",
    ),
    (
        "kube_deployment_status_replicas_unavailable",
        "kubernetes_state.deployment.replicas_unavailable",
    ),
    (
        "kube_deployment_status_replicas_updated",
        "kubernetes_state.deployment.replicas_updated",
    ),
    (
        "kube_deployment_status_condition",
        "kubernetes_state.deployment.condition",
    ),
    (
        "kube_daemonset_status_number_unavailable",
        "kubernetes_state.daemonset.daemons_unavailable",
    ),
    (
        "kube_daemonset_status_number_available",
        "kubernetes_state.daemonset.daemons_available",
    ),
    (
        "kube_endpoint_address_available",
        "kubernetes_state.endpoint.address_available",
    ),
    (
        "kube_endpoint_address_not_ready",
        "kubernetes_state.endpoint.address_not_ready",
    ),
    (
        "kube_pod_container_status_terminated",
        "kubernetes_state.container.terminated",
    ),
    (
        "kube_pod_container_status_waiting",
        "kubernetes_state.container.waiting",
    ),
    (
        "kube_pod_init_container_status_waiting",
        "kubernetes_state.initcontainer.waiting",
    ),
    (
        "kube_pod_init_container_status_restarts_total",
        "kubernetes_state.initcontainer.restarts",
    ),
    (
        "kube_persistentvolumeclaim_status_phase",
        "kubernetes_state.persistentvolumeclaim.status",
    ),
    (
        "kube_persistentvolumeclaim_access_mode",
        "kubernetes_state.persistentvolumeclaim.access_mode",
    ),
    (
        "kube_persistentvolumeclaim_resource_requests_storage_bytes",
        "kubernetes_state.persistentvolumeclaim.request_storage",
    ),
    (
        "kube_persistentvolume_capacity_bytes",
        "kubernetes_state.persistentvolume.capacity",
    ),
    (
        "kube_pod_container_status_ready",
        "kubernetes_state.container.ready",
    ),
    (
        "kube_pod_container_status_restarts_total",
        "kubernetes_state.container.restarts",
    ),
    (
        "kube_pod_container_status_running",
        "kubernetes_state.container.running",
    ),
    ("kube_pod_status_ready", "kubernetes_state.pod.ready"),
    (
        "kube_pod_status_scheduled",
        "kubernetes_state.pod.scheduled",
    ),
    (
        "kube_pod_spec_volumes_persistentvolumeclaims_readonly",
        "kubernetes_state.pod.volumes.persistentvolumeclaims_readonly",
    ),
    (
        "kube_pod_status_unschedulable",
        "kubernetes_state.pod.unschedulable",
    ),
    ("kube_pod_tolerations", "kubernetes_state.pod.tolerations"),
    (
        "kube_poddisruptionbudget_status_current_healthy",
        "kubernetes_state.pdb.pods_healthy",
    ),
    (
        "kube_poddisruptionbudget_status_desired_healthy",
        "kubernetes_state.pdb.pods_desired",
    ),
    (
        "kube_poddisruptionbudget_status_pod_disruptions_allowed",
        "kubernetes_state.pdb.disruptions_allowed",
    ),
    (
        "kube_poddisruptionbudget_status_expected_pods",
        "kubernetes_state.pdb.pods_total",
    ),
    ("kube_secret_type", "kubernetes_state.secret.type"),
    (
        "kube_replicaset_spec_replicas",
        "kubernetes_state.replicaset.replicas_desired",
    ),
    (
        "kube_replicaset_status_fully_labeled_replicas",
        "kubernetes_state.replicaset.fully_labeled_replicas",
    ),
    (
        "kube_replicaset_status_ready_replicas",
        "kubernetes_state.replicaset.replicas_ready",
    ),
    (
        "kube_replicaset_status_replicas",
        "kubernetes_state.replicaset.replicas",
    ),
    (
        "kube_replicationcontroller_spec_replicas",
        "kubernetes_state.replicationcontroller.replicas_desired",
    ),
    (
        "kube_replicationcontroller_status_available_replicas",
        "kubernetes_state.replicationcontroller.replicas_available",
    ),
    (
        "kube_replicationcontroller_status_fully_labeled_replicas",
        "kubernetes_state.replicationcontroller.fully_labeled_replicas",
    ),
    (
        "kube_replicationcontroller_status_ready_replicas",
        "kubernetes_state.replicationcontroller.replicas_ready",
    ),
    (
        "kube_replicationcontroller_status_replicas",
        "kubernetes_state.replicationcontroller.replicas",
    ),
    (
        "kube_statefulset_replicas",
        "kubernetes_state.statefulset.replicas_desired",
    ),
    (
        "kube_statefulset_status_replicas",
        "kubernetes_state.statefulset.replicas",
    ),
    (
        "kube_statefulset_status_replicas_current",
        "kubernetes_state.statefulset.replicas_current",
    ),
    (
        "kube_statefulset_status_replicas_ready",
        "kubernetes_state.statefulset.replicas_ready",
    ),
    (
        "kube_statefulset_status_replicas_updated",
        "kubernetes_state.statefulset.replicas_updated",
    ),
    (
        "kube_horizontalpodautoscaler_spec_min_replicas",
        "kubernetes_state.hpa.min_replicas",
    ),
    (
        "kube_horizontalpodautoscaler_spec_max_replicas",
        "kubernetes_state.hpa.max_replicas",
    ),
    (
        "kube_horizontalpodautoscaler_spec_target_metric",
        "kubernetes_state.hpa.spec_target_metric",
    ),
    (
        "kube_horizontalpodautoscaler_status_condition",
        "kubernetes_state.hpa.condition",
    ),
    (
        "kube_horizontalpodautoscaler_status_desired_replicas",
        "kubernetes_state.hpa.desired_replicas",
    ),
    (
        "kube_horizontalpodautoscaler_status_current_replicas",
        "kubernetes_state.hpa.current_replicas",
    ),
    (
        "kube_horizontalpodautoscaler_status_target_metric",
        "kubernetes_state.hpa.status_target_metric",
    ),
    (
        "kube_verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound",
        "kubernetes_state.vpa.lower_bound",
    ),
    (
        "kube_verticalpodautoscaler_status_recommendation_containerrecommendations_target",
        "kubernetes_state.vpa.target",
    ),
    (
        "kube_verticalpodautoscaler_status_recommendation_containerrecommendations_uncappedtarget",
        "kubernetes_state.vpa.uncapped_target",
    ),
    (
        "kube_verticalpodautoscaler_status_recommendation_containerrecommendations_upperbound",
        "kubernetes_state.vpa.upperbound",
    ),
    (
        "kube_verticalpodautoscaler_spec_updatepolicy_updatemode",
        "kubernetes_state.vpa.update_mode",
    ),
    (
        "kube_verticalpodautoscaler_spec_resourcepolicy_container_policies_minallowed",
        "kubernetes_state.vpa.spec_container_minallowed",
    ),
    (
        "kube_verticalpodautoscaler_spec_resourcepolicy_container_policies_maxallowed",
        "kubernetes_state.vpa.spec_container_maxallowed",
    ),
    (
        "kube_cronjob_spec_suspend",
        "kubernetes_state.cronjob.spec_suspend",
    ),
    ("kube_job_duration", "kubernetes_state.job.duration"),
    ("kube_ingress_path", "kubernetes_state.ingress.path"),
];

/// The default label-mapper entries of §5.4.
pub const LABELS_MAPPER: &[(&str, &str)] = &[
    ("namespace", "kube_namespace"),
    ("job_name", "kube_job"),
    ("cronjob", "kube_cronjob"),
    ("pod", "pod_name"),
    ("priority_class", "kube_priority_class"),
    ("daemonset", "kube_daemon_set"),
    ("replicationcontroller", "kube_replication_controller"),
    ("replicaset", "kube_replica_set"),
    ("statefulset", "kube_stateful_set"),
    ("deployment", "kube_deployment"),
    ("container", "kube_container_name"),
    ("container_id", "container_id"),
    ("image", "image_name"),
    ("endpoint", "kube_endpoint"),
    ("ingress", "kube_ingress"),
    ("label_topology_kubernetes_io_region", "kube_region"),
    ("label_topology_kubernetes_io_zone", "kube_zone"),
    (
        "label_failure_domain_beta_kubernetes_io_region",
        "kube_region",
    ),
    ("label_failure_domain_beta_kubernetes_io_zone", "kube_zone"),
    ("label_tags_datadoghq_com_env", "env"),
    ("label_tags_datadoghq_com_service", "service"),
    ("label_tags_datadoghq_com_version", "version"),
    ("label_app_kubernetes_io_name", "kube_app_name"),
    ("label_app_kubernetes_io_instance", "kube_app_instance"),
    ("label_app_kubernetes_io_version", "kube_app_version"),
    ("label_app_kubernetes_io_component", "kube_app_component"),
    ("label_app_kubernetes_io_part_of", "kube_app_part_of"),
    ("label_app_kubernetes_io_managed_by", "kube_app_managed_by"),
    ("label_helm_sh_chart", "helm_chart"),
];

/// Per-family label renames of §3 (family-name prefix, label, key).
pub const LABEL_OVERRIDES: &[(&str, &str, &str)] = &[
    ("kube_pod", "phase", "pod_phase"),
    ("kube_ingress", "host", "kube_ingress_host"),
    ("kube_ingress", "path", "kube_ingress_path"),
    ("kube_ingress", "service_name", "kube_service"),
    ("kube_ingress", "service_port", "kube_service_port"),
    ("kube_service", "service", "kube_service"),
];

/// Families Datadog tells KSM never to generate (§5.1), as anchored regular expressions.
pub const DENY: &[&str] = &[
    ".*_generation",
    ".*_metadata_resource_version",
    "kube_pod_owner",
    "kube_pod_restart_policy",
    "kube_pod_completion_time",
    "kube_pod_status_scheduled_time",
    "kube_cronjob_status_active",
    "kube_node_status_phase",
    "kube_cronjob_spec_starting_deadline_seconds",
    "kube_job_spec_active_dealine_seconds",
    "kube_job_spec_completions",
    "kube_job_spec_parallelism",
    "kube_job_status_active",
    "kube_job_status_.*_time",
    "kube_service_spec_external_ip",
    "kube_service_status_load_balancer_ingress",
    "kube_statefulset_status_current_revision",
    "kube_statefulset_status_update_revision",
    "kube_pod_container_status_last_terminated_reason",
    "kube_lease_renew_time",
];

/// The "standard" labels joined from workload `_labels` families (§5.3).
const STANDARD_LABELS: &[&str] = &[
    "label_tags_datadoghq_com_env",
    "label_tags_datadoghq_com_service",
    "label_tags_datadoghq_com_version",
    "label_app_kubernetes_io_name",
    "label_app_kubernetes_io_instance",
    "label_app_kubernetes_io_version",
    "label_app_kubernetes_io_component",
    "label_app_kubernetes_io_part_of",
    "label_app_kubernetes_io_managed_by",
    "label_helm_sh_chart",
];

fn join(matching: &[&str], get: &[&str]) -> JoinConfig {
    JoinConfig {
        labels_to_match: matching.iter().map(|s| s.to_string()).collect(),
        labels_to_get: get.iter().map(|s| s.to_string()).collect(),
        ..JoinConfig::default()
    }
}

/// The 14 default joins of the Oct-2024 code (§5.3), keyed by source family.
pub fn joins() -> BTreeMap<String, JoinConfig> {
    let mut j = BTreeMap::new();
    j.insert(
        "kube_pod_status_phase".into(),
        join(&["pod", "namespace"], &["phase"]),
    );
    j.insert(
        "kube_pod_info".into(),
        join(
            &["pod", "namespace"],
            &[
                "node",
                "created_by_kind",
                "created_by_name",
                "priority_class",
            ],
        ),
    );
    j.insert(
        "kube_pod_status_reason".into(),
        join(&["pod", "namespace"], &["reason"]),
    );
    j.insert(
        "kube_persistentvolume_info".into(),
        join(&["persistentvolume"], &["storageclass"]),
    );
    j.insert(
        "kube_persistentvolumeclaim_info".into(),
        join(&["persistentvolumeclaim", "namespace"], &["storageclass"]),
    );
    for kind in [
        "pod",
        "deployment",
        "replicaset",
        "daemonset",
        "statefulset",
        "cronjob",
    ] {
        j.insert(
            format!("kube_{kind}_labels"),
            join(&[kind, "namespace"], STANDARD_LABELS),
        );
    }
    j.insert(
        "kube_job_labels".into(),
        join(&["job_name", "namespace"], STANDARD_LABELS),
    );
    j.insert(
        "kube_node_labels".into(),
        join(
            &["node"],
            &[
                "label_topology_kubernetes_io_region",
                "label_topology_kubernetes_io_zone",
                "label_failure_domain_beta_kubernetes_io_region",
                "label_failure_domain_beta_kubernetes_io_zone",
            ],
        ),
    );
    j.insert(
        "kube_node_info".into(),
        join(
            &["node"],
            &[
                "container_runtime_version",
                "kernel_version",
                "kubelet_version",
                "os_image",
            ],
        ),
    );
    j
}

fn t(name: &str) -> TransformConfig {
    TransformConfig {
        name: name.to_string(),
        ..TransformConfig::default()
    }
}

fn only(label: &str, values: &[&str]) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        label.to_string(),
        values.iter().map(|s| s.to_string()).collect(),
    )])
}

fn map(label: &str, pairs: &[(&str, &str)]) -> BTreeMap<String, BTreeMap<String, String>> {
    BTreeMap::from([(
        label.to_string(),
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    )])
}

const GPU_NAMES: &[(&str, &str)] = &[
    ("nvidia_com_gpu", "gpu"),
    ("amd_com_gpu", "gpu"),
    ("gpu_intel_com_i915", "gpu"),
    ("kubernetes_io_network_bandwidth", "network_bandwidth"),
];

/// The transformers of §6.2 that have a series equivalent (service checks are not emitted).
pub fn transforms() -> BTreeMap<String, TransformConfig> {
    let p = "kubernetes_state.";
    let mut m = BTreeMap::new();
    let mut add = |family: &str, tc: TransformConfig| {
        m.insert(family.to_string(), tc);
    };
    for (family, name) in [
        ("kube_pod_created", "pod.age"),
        ("kube_pod_start_time", "pod.uptime"),
        ("kube_node_created", "node.age"),
        (
            "kube_cronjob_status_last_schedule_time",
            "cronjob.duration_since_last_schedule",
        ),
    ] {
        add(
            family,
            TransformConfig {
                value: ValueOp::Age,
                ..t(&format!("{p}{name}"))
            },
        );
    }
    for (family, name) in [
        ("kube_pod_status_phase", "pod.status_phase"),
        ("kube_node_status_condition", "node.by_condition"),
        (
            "kube_persistentvolume_status_phase",
            "persistentvolume.by_phase",
        ),
        ("kube_service_spec_type", "service.type"),
    ] {
        add(
            family,
            TransformConfig {
                only_value: Some(1.0),
                ..t(&format!("{p}{name}"))
            },
        );
    }
    add(
        "kube_pod_container_status_waiting_reason",
        TransformConfig {
            only_labels: only(
                "reason",
                &[
                    "errimagepull",
                    "imagepullbackoff",
                    "crashloopbackoff",
                    "containercreating",
                    "createcontainererror",
                    "invalidimagename",
                    "createcontainerconfigerror",
                ],
            ),
            ..t(&format!("{p}container.status_report.count.waiting"))
        },
    );
    add(
        "kube_pod_container_status_terminated_reason",
        TransformConfig {
            only_labels: only("reason", &["oomkilled", "containercannotrun", "error"]),
            ..t(&format!("{p}container.status_report.count.terminated"))
        },
    );
    let container_res = ["cpu", "memory", "network_bandwidth", "gpu"];
    let node_res = [
        "cpu",
        "memory",
        "pods",
        "ephemeral_storage",
        "network_bandwidth",
        "gpu",
    ];
    for (family, suffix, allowed) in [
        (
            "kube_pod_container_resource_requests",
            "container.{resource}_requested",
            &container_res[..],
        ),
        (
            "kube_pod_container_resource_limits",
            "container.{resource}_limit",
            &container_res[..],
        ),
        (
            "kube_node_status_allocatable",
            "node.{resource}_allocatable",
            &node_res[..],
        ),
        (
            "kube_node_status_capacity",
            "node.{resource}_capacity",
            &node_res[..],
        ),
    ] {
        add(
            family,
            TransformConfig {
                only_labels: only("resource", allowed),
                map_values: map("resource", GPU_NAMES),
                ..t(&format!("{p}{suffix}"))
            },
        );
    }
    add(
        "kube_node_spec_unschedulable",
        TransformConfig {
            value_as_label: Some(ValueAsLabel {
                label: "status".into(),
                values: BTreeMap::from([
                    ("0".to_string(), "schedulable".to_string()),
                    ("1".to_string(), "unschedulable".to_string()),
                ]),
            }),
            ..t(&format!("{p}node.status"))
        },
    );
    for (family, name) in [
        ("kube_job_complete", "job.completion.succeeded"),
        ("kube_job_failed", "job.completion.failed"),
    ] {
        add(
            family,
            TransformConfig {
                only_labels: only("condition", &["true"]),
                drop_labels: vec!["condition".into()],
                ..t(&format!("{p}{name}"))
            },
        );
    }
    add("kube_job_status_succeeded", t(&format!("{p}job.succeeded")));
    add("kube_job_status_failed", t(&format!("{p}job.failed")));
    add(
        "kube_resourcequota",
        TransformConfig {
            map_values: map("type", &[("hard", "limit")]),
            ..t(&format!("{p}resourcequota.{{resource}}.{{type}}"))
        },
    );
    add(
        "kube_limitrange",
        TransformConfig {
            map_values: map(
                "constraint",
                &[
                    ("defaultRequest", "default_request"),
                    ("maxLimitRequestRatio", "max_limit_request_ratio"),
                ],
            ),
            only_labels: only(
                "constraint",
                &[
                    "min",
                    "max",
                    "default",
                    "default_request",
                    "max_limit_request_ratio",
                ],
            ),
            ..t(&format!("{p}limitrange.{{resource}}.{{constraint}}"))
        },
    );
    add(
        "kube_ingress_tls",
        TransformConfig {
            drop_labels: vec!["secret".into()],
            ..t(&format!("{p}ingress.tls"))
        },
    );
    m
}

fn agg(name: &str, from: &str, kind: AggregationKind, by: &[&str]) -> AggregationConfig {
    AggregationConfig {
        name: format!("kubernetes_state.{name}"),
        from: from.to_string(),
        kind,
        by: by.iter().map(|s| s.to_string()).collect(),
        only_value: None,
        only_labels: BTreeMap::new(),
        map_values: BTreeMap::new(),
    }
}

/// The aggregated metrics of §6.3 that KSM's own families can feed.
pub fn aggregations() -> Vec<AggregationConfig> {
    use AggregationKind::{Count, Sum};
    let mut v = vec![
        agg(
            "pod.count",
            "kube_pod_info",
            Count,
            &["node", "namespace", "created_by_kind", "created_by_name"],
        ),
        agg(
            "node.count",
            "kube_node_info",
            Count,
            &[
                "kubelet_version",
                "container_runtime_version",
                "kernel_version",
                "os_image",
            ],
        ),
    ];
    for (name, from) in [
        ("deployment.count", "kube_deployment_labels"),
        ("daemonset.count", "kube_daemonset_labels"),
        ("statefulset.count", "kube_statefulset_labels"),
        ("cronjob.count", "kube_cronjob_labels"),
        ("endpoint.count", "kube_endpoint_labels"),
        ("hpa.count", "kube_horizontalpodautoscaler_labels"),
        ("vpa.count", "kube_verticalpodautoscaler_labels"),
        ("ingress.count", "kube_ingress_labels"),
        ("configmap.count", "kube_configmap_info"),
        ("secret.count", "kube_secret_info"),
    ] {
        v.push(agg(name, from, Count, &["namespace"]));
    }
    v.push(agg(
        "apiservice.count",
        "kube_apiservice_labels",
        Count,
        &[],
    ));
    v.push(agg(
        "crd.count",
        "kube_customresourcedefinition_labels",
        Count,
        &[],
    ));
    v.push(agg(
        "service.count",
        "kube_service_spec_type",
        Count,
        &["namespace", "type"],
    ));
    v.push(agg(
        "replicaset.count",
        "kube_replicaset_owner",
        Count,
        &["namespace", "owner_name", "owner_kind"],
    ));
    v.push(agg(
        "job.count",
        "kube_job_owner",
        Count,
        &["namespace", "owner_name", "owner_kind"],
    ));
    v.push(agg(
        "namespace.count",
        "kube_namespace_status_phase",
        Sum,
        &["phase"],
    ));
    v.push(agg(
        "persistentvolumes.by_phase",
        "kube_persistentvolume_status_phase",
        Sum,
        &["storageclass", "phase"],
    ));
    for (family, what) in [
        ("kube_node_status_allocatable", "allocatable"),
        ("kube_node_status_capacity", "capacity"),
    ] {
        let mut a = agg(
            &format!("node.{{resource}}_{what}.total"),
            family,
            Sum,
            &["resource"],
        );
        a.only_labels = only("resource", &["cpu", "memory", "gpu"]);
        a.map_values = map("resource", GPU_NAMES);
        v.push(a);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sizes_match_the_reference() {
        assert_eq!(RENAMES.len(), 73);
        // §5.4 announces 28 entries but lists 29 (helm_chart included); we carry all 29.
        assert_eq!(LABELS_MAPPER.len(), 29);
        assert_eq!(joins().len(), 14);
        let mut seen = std::collections::HashSet::new();
        assert!(
            RENAMES.iter().all(|(k, _)| seen.insert(*k)),
            "duplicate rename source"
        );
        assert!(RENAMES
            .iter()
            .all(|(_, v)| v.starts_with("kubernetes_state.")));
    }
}
