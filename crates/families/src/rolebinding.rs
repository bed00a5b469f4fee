//! Families of the `rolebindings` resource (off by default).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::rolebinding::RoleBinding;
use kubestate_objects::Meta;

use crate::clusterrolebinding::role_ref;
use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for RoleBinding {
    const RESOURCE: &'static str = "rolebindings";
    const KIND: &'static str = "RoleBinding";
    const API: Api = Api::ns("rbac.authorization.k8s.io", "v1");
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("rolebinding", &self.metadata.name);
    }
}

const FAMILIES: &[Family<RoleBinding>] = &[
    Family::gauge(
        "kube_rolebinding_annotations",
        Alpha,
        "RoleBinding annotations named by the annotations allowlist, as labels.",
        common::annotations::<RoleBinding>,
    ),
    Family::gauge(
        "kube_rolebinding_labels",
        Alpha,
        "RoleBinding labels named by the labels allowlist, as labels.",
        common::labels::<RoleBinding>,
    ),
    Family::gauge(
        "kube_rolebinding_info",
        Alpha,
        "One series per RoleBinding, with the kind and name of the role it grants.",
        |b, out| role_ref(&b.role_ref, out),
    ),
    Family::gauge(
        "kube_rolebinding_created",
        Alpha,
        "When the RoleBinding was created, in Unix seconds.",
        common::created::<RoleBinding>,
    ),
    Family::gauge(
        "kube_rolebinding_metadata_resource_version",
        Alpha,
        "The RoleBinding's resourceVersion, as a number.",
        common::resource_version::<RoleBinding>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"readers","namespace":"team-a","uid":"u1","resourceVersion":"91",
            "creationTimestamp":"2026-11-21T05:23:40Z","labels":{"x":"y"}},
            "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"reader"}}"#;
        assert_eq!(
            render("rolebindings", j, "rolebindings=[x]", ""),
            "kube_rolebinding_labels{namespace=\"team-a\",rolebinding=\"readers\",label_x=\"y\"} 1\n\
             kube_rolebinding_info{namespace=\"team-a\",rolebinding=\"readers\",roleref_kind=\"Role\",roleref_name=\"reader\"} 1\n\
             kube_rolebinding_created{namespace=\"team-a\",rolebinding=\"readers\"} 1.79523862e+09\n\
             kube_rolebinding_metadata_resource_version{namespace=\"team-a\",rolebinding=\"readers\"} 91\n"
        );
    }
}
