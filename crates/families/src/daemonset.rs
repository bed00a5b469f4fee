//! Families of the `daemonsets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::daemonset::DaemonSet;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for DaemonSet {
    const RESOURCE: &'static str = "daemonsets";
    const KIND: &'static str = "DaemonSet";
    const API: Api = Api::ns("apps", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("daemonset", &self.metadata.name);
    }
}

const FAMILIES: &[Family<DaemonSet>] = &[
    Family::gauge(
        "kube_daemonset_created",
        Stable,
        "When the DaemonSet was created, in Unix seconds.",
        common::created::<DaemonSet>,
    ),
    Family::gauge(
        "kube_daemonset_status_current_number_scheduled",
        Stable,
        "Nodes running at least one daemon pod that should run one.",
        |d, out| out.sample(&[], d.status.current_number_scheduled as f64),
    ),
    Family::gauge(
        "kube_daemonset_status_desired_number_scheduled",
        Stable,
        "Nodes that should run the daemon pod.",
        |d, out| out.sample(&[], d.status.desired_number_scheduled as f64),
    ),
    Family::gauge(
        "kube_daemonset_status_number_available",
        Stable,
        "Nodes that should run the daemon pod and have an available one.",
        |d, out| out.sample(&[], d.status.number_available as f64),
    ),
    Family::gauge(
        "kube_daemonset_status_number_misscheduled",
        Stable,
        "Nodes running a daemon pod that should not run one.",
        |d, out| out.sample(&[], d.status.number_misscheduled as f64),
    ),
    Family::gauge(
        "kube_daemonset_status_number_ready",
        Stable,
        "Nodes that should run the daemon pod and have a ready one.",
        |d, out| out.sample(&[], d.status.number_ready as f64),
    ),
    Family::gauge(
        "kube_daemonset_status_number_unavailable",
        Stable,
        "Nodes that should run the daemon pod and have no available one.",
        |d, out| out.sample(&[], d.status.number_unavailable as f64),
    ),
    Family::gauge(
        "kube_daemonset_status_observed_generation",
        Stable,
        "The generation the DaemonSet controller last acted on.",
        |d, out| out.sample(&[], d.status.observed_generation as f64),
    ),
    Family::gauge(
        "kube_daemonset_status_updated_number_scheduled",
        Stable,
        "Nodes running the current version of the daemon pod.",
        |d, out| out.sample(&[], d.status.updated_number_scheduled as f64),
    ),
    Family::gauge(
        "kube_daemonset_metadata_generation",
        Stable,
        "The DaemonSet's metadata.generation.",
        |d, out| out.sample(&[], d.metadata.generation as f64),
    ),
    Family::gauge(
        "kube_daemonset_deletion_timestamp",
        Alpha,
        "When the DaemonSet was marked for deletion, in Unix seconds; only while it is being deleted.",
        common::deletion_timestamp::<DaemonSet>,
    ),
    Family::gauge(
        "kube_daemonset_annotations",
        Alpha,
        "DaemonSet annotations named by the annotations allowlist, as labels.",
        common::annotations::<DaemonSet>,
    ),
    Family::gauge(
        "kube_daemonset_labels",
        Stable,
        "DaemonSet labels named by the labels allowlist, as labels.",
        common::labels::<DaemonSet>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"node-exporter","namespace":"mon","generation":3,
            "creationTimestamp":"2026-11-21T05:23:40Z","deletionTimestamp":"2026-11-21T05:25:00Z","labels":{"app":"ne"}},
            "status":{"currentNumberScheduled":5,"desiredNumberScheduled":6,"numberAvailable":4,"numberMisscheduled":1,
                "numberReady":4,"numberUnavailable":2,"observedGeneration":2,"updatedNumberScheduled":3}}"#;
        assert_eq!(
            render("daemonsets", j, "daemonsets=[app]", ""),
            "kube_daemonset_created{namespace=\"mon\",daemonset=\"node-exporter\"} 1.79523862e+09\n\
             kube_daemonset_status_current_number_scheduled{namespace=\"mon\",daemonset=\"node-exporter\"} 5\n\
             kube_daemonset_status_desired_number_scheduled{namespace=\"mon\",daemonset=\"node-exporter\"} 6\n\
             kube_daemonset_status_number_available{namespace=\"mon\",daemonset=\"node-exporter\"} 4\n\
             kube_daemonset_status_number_misscheduled{namespace=\"mon\",daemonset=\"node-exporter\"} 1\n\
             kube_daemonset_status_number_ready{namespace=\"mon\",daemonset=\"node-exporter\"} 4\n\
             kube_daemonset_status_number_unavailable{namespace=\"mon\",daemonset=\"node-exporter\"} 2\n\
             kube_daemonset_status_observed_generation{namespace=\"mon\",daemonset=\"node-exporter\"} 2\n\
             kube_daemonset_status_updated_number_scheduled{namespace=\"mon\",daemonset=\"node-exporter\"} 3\n\
             kube_daemonset_metadata_generation{namespace=\"mon\",daemonset=\"node-exporter\"} 3\n\
             kube_daemonset_deletion_timestamp{namespace=\"mon\",daemonset=\"node-exporter\"} 1.7952387e+09\n\
             kube_daemonset_labels{namespace=\"mon\",daemonset=\"node-exporter\",label_app=\"ne\"} 1\n"
        );
    }

    #[test]
    fn without_status() {
        let j = r#"{"metadata":{"name":"fresh","namespace":"mon","generation":1}}"#;
        let text = render("daemonsets", j, "", "");
        assert_eq!(text.lines().count(), 9);
        assert!(text.contains(
            "kube_daemonset_status_number_ready{namespace=\"mon\",daemonset=\"fresh\"} 0\n"
        ));
        assert!(!text.contains("deletion_timestamp"));
    }
}
