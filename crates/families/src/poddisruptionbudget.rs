//! Families of the `poddisruptionbudgets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::poddisruptionbudget::PodDisruptionBudget;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for PodDisruptionBudget {
    const RESOURCE: &'static str = "poddisruptionbudgets";
    const KIND: &'static str = "PodDisruptionBudget";
    const API: Api = Api::ns("policy", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("poddisruptionbudget", &self.metadata.name);
    }
}

const FAMILIES: &[Family<PodDisruptionBudget>] = &[
    Family::gauge(
        "kube_poddisruptionbudget_annotations",
        Alpha,
        "PodDisruptionBudget annotations named by the annotations allowlist, as labels.",
        common::annotations::<PodDisruptionBudget>,
    ),
    Family::gauge(
        "kube_poddisruptionbudget_labels",
        Alpha,
        "PodDisruptionBudget labels named by the labels allowlist, as labels.",
        common::labels::<PodDisruptionBudget>,
    ),
    Family::gauge(
        "kube_poddisruptionbudget_created",
        Stable,
        "When the PodDisruptionBudget was created, in Unix seconds.",
        common::created::<PodDisruptionBudget>,
    ),
    Family::gauge(
        "kube_poddisruptionbudget_status_current_healthy",
        Stable,
        "Healthy pods the budget currently counts.",
        |p, out| out.sample(&[], p.status.current_healthy as f64),
    ),
    Family::gauge(
        "kube_poddisruptionbudget_status_desired_healthy",
        Stable,
        "Healthy pods the budget requires at least.",
        |p, out| out.sample(&[], p.status.desired_healthy as f64),
    ),
    Family::gauge(
        "kube_poddisruptionbudget_status_pod_disruptions_allowed",
        Stable,
        "Pod disruptions the budget currently allows.",
        |p, out| out.sample(&[], p.status.disruptions_allowed as f64),
    ),
    Family::gauge(
        "kube_poddisruptionbudget_status_expected_pods",
        Stable,
        "Pods the budget covers.",
        |p, out| out.sample(&[], p.status.expected_pods as f64),
    ),
    Family::gauge(
        "kube_poddisruptionbudget_status_observed_generation",
        Stable,
        "The generation the disruption controller last acted on.",
        |p, out| out.sample(&[], p.status.observed_generation as f64),
    ),
    Family::gauge(
        "kube_poddisruptionbudget_deletion_timestamp",
        Alpha,
        "When the PodDisruptionBudget was marked for deletion, in Unix seconds; only while it is being deleted.",
        common::deletion_timestamp::<PodDisruptionBudget>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"web","namespace":"apps","creationTimestamp":"2026-11-21T05:23:40Z",
            "deletionTimestamp":"2026-11-21T05:25:00Z","annotations":{"owner":"sre"}},
            "spec":{"minAvailable":2},
            "status":{"currentHealthy":5,"desiredHealthy":2,"disruptionsAllowed":3,"expectedPods":5,"observedGeneration":1}}"#;
        assert_eq!(
            render("poddisruptionbudgets", j, "", "poddisruptionbudgets=[owner]"),
            "kube_poddisruptionbudget_annotations{namespace=\"apps\",poddisruptionbudget=\"web\",annotation_owner=\"sre\"} 1\n\
             kube_poddisruptionbudget_created{namespace=\"apps\",poddisruptionbudget=\"web\"} 1.79523862e+09\n\
             kube_poddisruptionbudget_status_current_healthy{namespace=\"apps\",poddisruptionbudget=\"web\"} 5\n\
             kube_poddisruptionbudget_status_desired_healthy{namespace=\"apps\",poddisruptionbudget=\"web\"} 2\n\
             kube_poddisruptionbudget_status_pod_disruptions_allowed{namespace=\"apps\",poddisruptionbudget=\"web\"} 3\n\
             kube_poddisruptionbudget_status_expected_pods{namespace=\"apps\",poddisruptionbudget=\"web\"} 5\n\
             kube_poddisruptionbudget_status_observed_generation{namespace=\"apps\",poddisruptionbudget=\"web\"} 1\n\
             kube_poddisruptionbudget_deletion_timestamp{namespace=\"apps\",poddisruptionbudget=\"web\"} 1.7952387e+09\n"
        );
    }

    #[test]
    fn without_status() {
        let j = r#"{"metadata":{"name":"new","namespace":"apps"}}"#;
        assert_eq!(
            render("poddisruptionbudgets", j, "", ""),
            "kube_poddisruptionbudget_status_current_healthy{namespace=\"apps\",poddisruptionbudget=\"new\"} 0\n\
             kube_poddisruptionbudget_status_desired_healthy{namespace=\"apps\",poddisruptionbudget=\"new\"} 0\n\
             kube_poddisruptionbudget_status_pod_disruptions_allowed{namespace=\"apps\",poddisruptionbudget=\"new\"} 0\n\
             kube_poddisruptionbudget_status_expected_pods{namespace=\"apps\",poddisruptionbudget=\"new\"} 0\n\
             kube_poddisruptionbudget_status_observed_generation{namespace=\"apps\",poddisruptionbudget=\"new\"} 0\n"
        );
    }
}
