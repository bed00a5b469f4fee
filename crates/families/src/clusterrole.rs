//! Families of the `clusterroles` resource (off by default).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::clusterrole::ClusterRole;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for ClusterRole {
    const RESOURCE: &'static str = "clusterroles";
    const KIND: &'static str = "ClusterRole";
    const API: Api = Api::cluster("rbac.authorization.k8s.io", "v1");
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("clusterrole", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ClusterRole>] = &[
    Family::gauge(
        "kube_clusterrole_annotations",
        Alpha,
        "ClusterRole annotations named by the annotations allowlist, as labels.",
        common::annotations::<ClusterRole>,
    ),
    Family::gauge(
        "kube_clusterrole_labels",
        Alpha,
        "ClusterRole labels named by the labels allowlist, as labels.",
        common::labels::<ClusterRole>,
    ),
    Family::gauge(
        "kube_clusterrole_info",
        Alpha,
        "One series per ClusterRole.",
        |_, out| out.sample(&[], 1.0),
    ),
    Family::gauge(
        "kube_clusterrole_created",
        Alpha,
        "When the ClusterRole was created, in Unix seconds.",
        common::created::<ClusterRole>,
    ),
    Family::gauge(
        "kube_clusterrole_metadata_resource_version",
        Alpha,
        "The ClusterRole's resourceVersion, as a number.",
        common::resource_version::<ClusterRole>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"view","uid":"u1","resourceVersion":"77",
            "creationTimestamp":"2026-11-21T05:23:40Z","labels":{"team":"core"},
            "annotations":{"note":"x"}},"rules":null}"#;
        assert_eq!(
            render(
                "clusterroles",
                j,
                "clusterroles=[team]",
                "clusterroles=[note]"
            ),
            "kube_clusterrole_annotations{clusterrole=\"view\",annotation_note=\"x\"} 1\n\
             kube_clusterrole_labels{clusterrole=\"view\",label_team=\"core\"} 1\n\
             kube_clusterrole_info{clusterrole=\"view\"} 1\n\
             kube_clusterrole_created{clusterrole=\"view\"} 1.79523862e+09\n\
             kube_clusterrole_metadata_resource_version{clusterrole=\"view\"} 77\n"
        );
    }

    #[test]
    fn no_allowlist_no_created_odd_version() {
        let j = r#"{"metadata":{"name":"view","resourceVersion":"abc"}}"#;
        assert_eq!(
            render("clusterroles", j, "", ""),
            "kube_clusterrole_info{clusterrole=\"view\"} 1\n"
        );
        assert_eq!(
            render_family("clusterroles", j, "kube_clusterrole_labels"),
            "kube_clusterrole_labels{clusterrole=\"view\"} 1\n"
        );
    }
}
