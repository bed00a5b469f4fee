//! Families of the `clusterrolebindings` resource (off by default).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::clusterrolebinding::{ClusterRoleBinding, RoleRef};
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind, Out};

impl Kind for ClusterRoleBinding {
    const RESOURCE: &'static str = "clusterrolebindings";
    const KIND: &'static str = "ClusterRoleBinding";
    const API: Api = Api::cluster("rbac.authorization.k8s.io", "v1");
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("clusterrolebinding", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ClusterRoleBinding>] = &[
    Family::gauge(
        "kube_clusterrolebinding_annotations",
        Alpha,
        "ClusterRoleBinding annotations named by the annotations allowlist, as labels.",
        common::annotations::<ClusterRoleBinding>,
    ),
    Family::gauge(
        "kube_clusterrolebinding_labels",
        Alpha,
        "ClusterRoleBinding labels named by the labels allowlist, as labels.",
        common::labels::<ClusterRoleBinding>,
    ),
    Family::gauge(
        "kube_clusterrolebinding_info",
        Alpha,
        "One series per ClusterRoleBinding, with the kind and name of the role it grants.",
        |b, out| role_ref(&b.role_ref, out),
    ),
    Family::gauge(
        "kube_clusterrolebinding_created",
        Alpha,
        "When the ClusterRoleBinding was created, in Unix seconds.",
        common::created::<ClusterRoleBinding>,
    ),
    Family::gauge(
        "kube_clusterrolebinding_metadata_resource_version",
        Alpha,
        "The ClusterRoleBinding's resourceVersion, as a number.",
        common::resource_version::<ClusterRoleBinding>,
    ),
];

/// `*_info` of the two binding kinds: `roleref_kind` and `roleref_name`.
pub(crate) fn role_ref(r: &RoleRef, out: &mut Out<'_>) {
    out.sample(&[("roleref_kind", &r.kind), ("roleref_name", &r.name)], 1.0);
}

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"ksm","uid":"u1","resourceVersion":"90",
            "creationTimestamp":"2026-11-21T05:23:40Z","annotations":{"a.b/c":"d"}},
            "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"kube-state-metrics"},
            "subjects":[{"kind":"ServiceAccount","name":"ksm","namespace":"monitoring"}]}"#;
        assert_eq!(
            render("clusterrolebindings", j, "", "clusterrolebindings=[*]"),
            "kube_clusterrolebinding_annotations{clusterrolebinding=\"ksm\",annotation_a_b_c=\"d\"} 1\n\
             kube_clusterrolebinding_info{clusterrolebinding=\"ksm\",roleref_kind=\"ClusterRole\",roleref_name=\"kube-state-metrics\"} 1\n\
             kube_clusterrolebinding_created{clusterrolebinding=\"ksm\"} 1.79523862e+09\n\
             kube_clusterrolebinding_metadata_resource_version{clusterrolebinding=\"ksm\"} 90\n"
        );
        assert_eq!(
            render_family("clusterrolebindings", j, "kube_clusterrolebinding_labels"),
            "kube_clusterrolebinding_labels{clusterrolebinding=\"ksm\"} 1\n"
        );
    }
}
