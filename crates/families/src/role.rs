//! Families of the `roles` resource (off by default).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::role::Role;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for Role {
    const RESOURCE: &'static str = "roles";
    const KIND: &'static str = "Role";
    const API: Api = Api::ns("rbac.authorization.k8s.io", "v1");
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("role", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Role>] = &[
    Family::gauge(
        "kube_role_annotations",
        Alpha,
        "Role annotations named by the annotations allowlist, as labels.",
        common::annotations::<Role>,
    ),
    Family::gauge(
        "kube_role_labels",
        Alpha,
        "Role labels named by the labels allowlist, as labels.",
        common::labels::<Role>,
    ),
    Family::gauge("kube_role_info", Alpha, "One series per Role.", |_, out| {
        out.sample(&[], 1.0)
    }),
    Family::gauge(
        "kube_role_created",
        Alpha,
        "When the Role was created, in Unix seconds.",
        common::created::<Role>,
    ),
    Family::gauge(
        "kube_role_metadata_resource_version",
        Alpha,
        "The Role's resourceVersion, as a number.",
        common::resource_version::<Role>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    #[test]
    fn all_families() {
        let j = r#"{"metadata":{"name":"reader","namespace":"kube-system","uid":"u1","resourceVersion":"12",
            "creationTimestamp":"2026-11-21T05:23:40Z","labels":{"team":"core"}},"rules":[]}"#;
        assert_eq!(
            render("roles", j, "roles=[*]", ""),
            "kube_role_labels{namespace=\"kube-system\",role=\"reader\",label_team=\"core\"} 1\n\
             kube_role_info{namespace=\"kube-system\",role=\"reader\"} 1\n\
             kube_role_created{namespace=\"kube-system\",role=\"reader\"} 1.79523862e+09\n\
             kube_role_metadata_resource_version{namespace=\"kube-system\",role=\"reader\"} 12\n"
        );
        assert_eq!(
            render_family("roles", j, "kube_role_annotations"),
            "kube_role_annotations{namespace=\"kube-system\",role=\"reader\"} 1\n"
        );
    }
}
