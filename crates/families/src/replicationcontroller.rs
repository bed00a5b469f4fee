//! Families of the `replicationcontrollers` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::replicationcontroller::ReplicationController;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for ReplicationController {
    const RESOURCE: &'static str = "replicationcontrollers";
    const KIND: &'static str = "ReplicationController";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("replicationcontroller", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ReplicationController>] = &[
    Family::gauge(
        "kube_replicationcontroller_created",
        Stable,
        "When the ReplicationController was created, in Unix seconds.",
        common::created::<ReplicationController>,
    ),
    Family::gauge(
        "kube_replicationcontroller_status_replicas",
        Stable,
        "Pods currently managed by the ReplicationController.",
        |r, out| out.sample(&[], r.status.replicas as f64),
    ),
    Family::gauge(
        "kube_replicationcontroller_status_fully_labeled_replicas",
        Stable,
        "Pods of the ReplicationController whose labels match the pod template's.",
        |r, out| out.sample(&[], r.status.fully_labeled_replicas as f64),
    ),
    Family::gauge(
        "kube_replicationcontroller_status_ready_replicas",
        Stable,
        "Ready pods of the ReplicationController.",
        |r, out| out.sample(&[], r.status.ready_replicas as f64),
    ),
    Family::gauge(
        "kube_replicationcontroller_status_available_replicas",
        Stable,
        "Available pods of the ReplicationController.",
        |r, out| out.sample(&[], r.status.available_replicas as f64),
    ),
    Family::gauge(
        "kube_replicationcontroller_status_observed_generation",
        Stable,
        "The generation the replication manager last acted on.",
        |r, out| out.sample(&[], r.status.observed_generation as f64),
    ),
    Family::gauge(
        "kube_replicationcontroller_spec_replicas",
        Stable,
        "Desired pods of the ReplicationController; absent when unset.",
        |r, out| common::value_if_set(r.spec.replicas.map(|v| v as f64), out),
    ),
    Family::gauge(
        "kube_replicationcontroller_metadata_generation",
        Stable,
        "The ReplicationController's metadata.generation.",
        |r, out| out.sample(&[], r.metadata.generation as f64),
    ),
    Family::gauge(
        "kube_replicationcontroller_owner",
        Alpha,
        "One series per owner of the ReplicationController, or one with empty owner labels.",
        common::owner::<ReplicationController>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"legacy","namespace":"ns","generation":3,"creationTimestamp":"2026-11-21T05:23:40Z",
            "ownerReferences":[{"kind":"Thing","name":"t"}]},
            "spec":{"replicas":4},
            "status":{"replicas":4,"fullyLabeledReplicas":3,"readyReplicas":2,"availableReplicas":1,"observedGeneration":2}}"#;
        assert_eq!(
            render("replicationcontrollers", j, "", ""),
            "kube_replicationcontroller_created{namespace=\"ns\",replicationcontroller=\"legacy\"} 1.79523862e+09\n\
             kube_replicationcontroller_status_replicas{namespace=\"ns\",replicationcontroller=\"legacy\"} 4\n\
             kube_replicationcontroller_status_fully_labeled_replicas{namespace=\"ns\",replicationcontroller=\"legacy\"} 3\n\
             kube_replicationcontroller_status_ready_replicas{namespace=\"ns\",replicationcontroller=\"legacy\"} 2\n\
             kube_replicationcontroller_status_available_replicas{namespace=\"ns\",replicationcontroller=\"legacy\"} 1\n\
             kube_replicationcontroller_status_observed_generation{namespace=\"ns\",replicationcontroller=\"legacy\"} 2\n\
             kube_replicationcontroller_spec_replicas{namespace=\"ns\",replicationcontroller=\"legacy\"} 4\n\
             kube_replicationcontroller_metadata_generation{namespace=\"ns\",replicationcontroller=\"legacy\"} 3\n\
             kube_replicationcontroller_owner{namespace=\"ns\",replicationcontroller=\"legacy\",owner_kind=\"Thing\",owner_name=\"t\",owner_is_controller=\"false\"} 1\n"
        );
    }

    #[test]
    fn unset_replicas_and_no_owner() {
        let j = r#"{"metadata":{"name":"bare","namespace":"ns"}}"#;
        let text = render("replicationcontrollers", j, "", "");
        assert!(!text.contains("spec_replicas"));
        assert!(text.contains(
            "kube_replicationcontroller_owner{namespace=\"ns\",replicationcontroller=\"bare\",owner_kind=\"\",owner_name=\"\",owner_is_controller=\"\"} 1\n"
        ));
    }
}
