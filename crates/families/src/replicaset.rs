//! Families of the `replicasets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::replicaset::ReplicaSet;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for ReplicaSet {
    const RESOURCE: &'static str = "replicasets";
    const KIND: &'static str = "ReplicaSet";
    const API: Api = Api::ns("apps", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("replicaset", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ReplicaSet>] = &[
    Family::gauge(
        "kube_replicaset_created",
        Stable,
        "When the ReplicaSet was created, in Unix seconds.",
        common::created::<ReplicaSet>,
    ),
    Family::gauge(
        "kube_replicaset_status_replicas",
        Stable,
        "Pods currently managed by the ReplicaSet.",
        |r, out| out.sample(&[], r.status.replicas as f64),
    ),
    Family::gauge(
        "kube_replicaset_status_fully_labeled_replicas",
        Stable,
        "Pods of the ReplicaSet whose labels match the pod template's.",
        |r, out| out.sample(&[], r.status.fully_labeled_replicas as f64),
    ),
    Family::gauge(
        "kube_replicaset_status_ready_replicas",
        Stable,
        "Ready pods of the ReplicaSet.",
        |r, out| out.sample(&[], r.status.ready_replicas as f64),
    ),
    Family::gauge(
        "kube_replicaset_status_terminating_replicas",
        Alpha,
        "Pods of the ReplicaSet that are terminating; absent when the API server does not report it.",
        |r, out| common::value_if_set(r.status.terminating_replicas.map(|v| v as f64), out),
    ),
    Family::gauge(
        "kube_replicaset_status_observed_generation",
        Stable,
        "The generation the ReplicaSet controller last acted on.",
        |r, out| out.sample(&[], r.status.observed_generation as f64),
    ),
    Family::gauge(
        "kube_replicaset_spec_replicas",
        Stable,
        "Desired pods of the ReplicaSet; absent when unset.",
        |r, out| common::value_if_set(r.spec.replicas.map(|v| v as f64), out),
    ),
    Family::gauge(
        "kube_replicaset_metadata_generation",
        Stable,
        "The ReplicaSet's metadata.generation.",
        |r, out| out.sample(&[], r.metadata.generation as f64),
    ),
    Family::gauge(
        "kube_replicaset_owner",
        Stable,
        "One series per owner of the ReplicaSet, or one with empty owner labels.",
        common::owner::<ReplicaSet>,
    ),
    Family::gauge(
        "kube_replicaset_annotations",
        Alpha,
        "ReplicaSet annotations named by the annotations allowlist, as labels.",
        common::annotations::<ReplicaSet>,
    ),
    Family::gauge(
        "kube_replicaset_labels",
        Stable,
        "ReplicaSet labels named by the labels allowlist, as labels.",
        common::labels::<ReplicaSet>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"web-1","namespace":"ns","generation":5,"creationTimestamp":"2026-11-21T05:24:51Z",
            "ownerReferences":[{"kind":"Deployment","name":"web","controller":true}],"labels":{"app":"web"}},
            "spec":{"replicas":9},
            "status":{"replicas":11,"fullyLabeledReplicas":10,"readyReplicas":8,"terminatingReplicas":2,"observedGeneration":5}}"#;
        assert_eq!(
            render("replicasets", j, "replicasets=[app]", ""),
            "kube_replicaset_created{namespace=\"ns\",replicaset=\"web-1\"} 1.795238691e+09\n\
             kube_replicaset_status_replicas{namespace=\"ns\",replicaset=\"web-1\"} 11\n\
             kube_replicaset_status_fully_labeled_replicas{namespace=\"ns\",replicaset=\"web-1\"} 10\n\
             kube_replicaset_status_ready_replicas{namespace=\"ns\",replicaset=\"web-1\"} 8\n\
             kube_replicaset_status_terminating_replicas{namespace=\"ns\",replicaset=\"web-1\"} 2\n\
             kube_replicaset_status_observed_generation{namespace=\"ns\",replicaset=\"web-1\"} 5\n\
             kube_replicaset_spec_replicas{namespace=\"ns\",replicaset=\"web-1\"} 9\n\
             kube_replicaset_metadata_generation{namespace=\"ns\",replicaset=\"web-1\"} 5\n\
             kube_replicaset_owner{namespace=\"ns\",replicaset=\"web-1\",owner_kind=\"Deployment\",owner_name=\"web\",owner_is_controller=\"true\"} 1\n\
             kube_replicaset_labels{namespace=\"ns\",replicaset=\"web-1\",label_app=\"web\"} 1\n"
        );
    }

    #[test]
    fn bare_replicaset_without_status() {
        let j = r#"{"metadata":{"name":"bare","namespace":"ns"}}"#;
        assert_eq!(
            render("replicasets", j, "", ""),
            "kube_replicaset_status_replicas{namespace=\"ns\",replicaset=\"bare\"} 0\n\
             kube_replicaset_status_fully_labeled_replicas{namespace=\"ns\",replicaset=\"bare\"} 0\n\
             kube_replicaset_status_ready_replicas{namespace=\"ns\",replicaset=\"bare\"} 0\n\
             kube_replicaset_status_observed_generation{namespace=\"ns\",replicaset=\"bare\"} 0\n\
             kube_replicaset_metadata_generation{namespace=\"ns\",replicaset=\"bare\"} 0\n\
             kube_replicaset_owner{namespace=\"ns\",replicaset=\"bare\",owner_kind=\"\",owner_name=\"\",owner_is_controller=\"\"} 1\n"
        );
        assert_eq!(
            render_family("replicasets", j, "kube_replicaset_annotations"),
            "kube_replicaset_annotations{namespace=\"ns\",replicaset=\"bare\"} 1\n"
        );
    }
}
