//! Families of the `statefulsets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Stable;
use kubestate_objects::statefulset::StatefulSet;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for StatefulSet {
    const RESOURCE: &'static str = "statefulsets";
    const KIND: &'static str = "StatefulSet";
    const API: Api = Api::ns("apps", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("statefulset", &self.metadata.name);
    }
}

const FAMILIES: &[Family<StatefulSet>] = &[
    Family::gauge(
        "kube_statefulset_created",
        Stable,
        "When the StatefulSet was created, in Unix seconds.",
        common::created::<StatefulSet>,
    ),
    Family::gauge(
        "kube_statefulset_status_replicas",
        Stable,
        "Pods the StatefulSet controller has created.",
        |s, out| out.sample(&[], s.status.replicas as f64),
    ),
    Family::gauge(
        "kube_statefulset_status_replicas_available",
        Stable,
        "Available pods of the StatefulSet.",
        |s, out| out.sample(&[], s.status.available_replicas as f64),
    ),
    Family::gauge(
        "kube_statefulset_status_replicas_current",
        Stable,
        "Pods of the StatefulSet at the current revision.",
        |s, out| out.sample(&[], s.status.current_replicas as f64),
    ),
    Family::gauge(
        "kube_statefulset_status_replicas_ready",
        Stable,
        "Ready pods of the StatefulSet.",
        |s, out| out.sample(&[], s.status.ready_replicas as f64),
    ),
    Family::gauge(
        "kube_statefulset_status_replicas_updated",
        Stable,
        "Pods of the StatefulSet at the update revision.",
        |s, out| out.sample(&[], s.status.updated_replicas as f64),
    ),
    Family::gauge(
        "kube_statefulset_status_observed_generation",
        Stable,
        "The generation the StatefulSet controller last acted on.",
        |s, out| out.sample(&[], s.status.observed_generation as f64),
    ),
    Family::gauge(
        "kube_statefulset_replicas",
        Stable,
        "Desired pods of the StatefulSet; absent when unset.",
        |s, out| common::value_if_set(s.spec.replicas.map(|v| v as f64), out),
    ),
    Family::gauge(
        "kube_statefulset_ordinals_start",
        Stable,
        "The first pod ordinal of the StatefulSet; absent without spec.ordinals.",
        |s, out| {
            if let Some(o) = &s.spec.ordinals {
                out.sample(&[], o.start as f64);
            }
        },
    ),
    Family::gauge(
        "kube_statefulset_metadata_generation",
        Stable,
        "The StatefulSet's metadata.generation.",
        |s, out| out.sample(&[], s.metadata.generation as f64),
    ),
    Family::gauge(
        "kube_statefulset_persistentvolumeclaim_retention_policy",
        Stable,
        "What happens to the StatefulSet's claims when it is deleted or scaled down; absent when neither is set.",
        |s, out| {
            let (deleted, scaled) = match &s.spec.persistent_volume_claim_retention_policy {
                Some(p) => (&*p.when_deleted, &*p.when_scaled),
                None => ("", ""),
            };
            if !deleted.is_empty() || !scaled.is_empty() {
                out.sample(&[("when_deleted", deleted), ("when_scaled", scaled)], 1.0);
            }
        },
    ),
    Family::gauge(
        "kube_statefulset_annotations",
        Stable,
        "StatefulSet annotations named by the annotations allowlist, as labels.",
        common::annotations::<StatefulSet>,
    ),
    Family::gauge(
        "kube_statefulset_labels",
        Stable,
        "StatefulSet labels named by the labels allowlist, as labels.",
        common::labels::<StatefulSet>,
    ),
    Family::gauge(
        "kube_statefulset_status_current_revision",
        Stable,
        "The revision pods [0, currentReplicas) were created from, as the revision label.",
        |s, out| out.sample(&[("revision", &s.status.current_revision)], 1.0),
    ),
    Family::gauge(
        "kube_statefulset_status_update_revision",
        Stable,
        "The revision pods [replicas - updatedReplicas, replicas) are created from, as the revision label.",
        |s, out| out.sample(&[("revision", &s.status.update_revision)], 1.0),
    ),
    Family::gauge(
        "kube_statefulset_deletion_timestamp",
        Stable,
        "When the StatefulSet was marked for deletion, in Unix seconds; only while it is being deleted.",
        common::deletion_timestamp::<StatefulSet>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"pg","namespace":"data","generation":2,
            "creationTimestamp":"2026-11-21T05:23:40Z","deletionTimestamp":"2026-11-21T05:25:00Z"},
            "spec":{"replicas":3,"ordinals":{"start":1},
                "persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete","whenScaled":"Retain"}},
            "status":{"replicas":3,"availableReplicas":2,"currentReplicas":1,"readyReplicas":2,"updatedReplicas":2,
                "observedGeneration":2,"currentRevision":"pg-1","updateRevision":"pg-2"}}"#;
        assert_eq!(
            render("statefulsets", j, "", ""),
            "kube_statefulset_created{namespace=\"data\",statefulset=\"pg\"} 1.79523862e+09\n\
             kube_statefulset_status_replicas{namespace=\"data\",statefulset=\"pg\"} 3\n\
             kube_statefulset_status_replicas_available{namespace=\"data\",statefulset=\"pg\"} 2\n\
             kube_statefulset_status_replicas_current{namespace=\"data\",statefulset=\"pg\"} 1\n\
             kube_statefulset_status_replicas_ready{namespace=\"data\",statefulset=\"pg\"} 2\n\
             kube_statefulset_status_replicas_updated{namespace=\"data\",statefulset=\"pg\"} 2\n\
             kube_statefulset_status_observed_generation{namespace=\"data\",statefulset=\"pg\"} 2\n\
             kube_statefulset_replicas{namespace=\"data\",statefulset=\"pg\"} 3\n\
             kube_statefulset_ordinals_start{namespace=\"data\",statefulset=\"pg\"} 1\n\
             kube_statefulset_metadata_generation{namespace=\"data\",statefulset=\"pg\"} 2\n\
             kube_statefulset_persistentvolumeclaim_retention_policy{namespace=\"data\",statefulset=\"pg\",when_deleted=\"Delete\",when_scaled=\"Retain\"} 1\n\
             kube_statefulset_status_current_revision{namespace=\"data\",statefulset=\"pg\",revision=\"pg-1\"} 1\n\
             kube_statefulset_status_update_revision{namespace=\"data\",statefulset=\"pg\",revision=\"pg-2\"} 1\n\
             kube_statefulset_deletion_timestamp{namespace=\"data\",statefulset=\"pg\"} 1.7952387e+09\n"
        );
    }

    #[test]
    fn unset_optional_specs() {
        let j = r#"{"metadata":{"name":"zk","namespace":"data"},
            "spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete"}}}"#;
        let text = render("statefulsets", j, "", "");
        assert!(!text.contains("kube_statefulset_replicas{"));
        assert!(!text.contains("ordinals_start"));
        assert!(text.contains("when_deleted=\"\",when_scaled=\"Delete\"} 1\n"));
        assert!(text.contains("kube_statefulset_status_update_revision{namespace=\"data\",statefulset=\"zk\",revision=\"\"} 1\n"));
        let j = r#"{"metadata":{"name":"zk","namespace":"data"},"spec":{"persistentVolumeClaimRetentionPolicy":{}}}"#;
        assert!(!render("statefulsets", j, "", "").contains("retention_policy"));
    }
}
