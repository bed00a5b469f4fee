//! Families of the `secrets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::secret::Secret;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for Secret {
    const RESOURCE: &'static str = "secrets";
    const KIND: &'static str = "Secret";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("secret", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Secret>] = &[
    Family::gauge(
        "kube_secret_info",
        Stable,
        "One series per Secret.",
        |_, out| out.sample(&[], 1.0),
    ),
    Family::gauge(
        "kube_secret_type",
        Stable,
        "The Secret's type, as a label.",
        |s, out| out.sample(&[("type", &s.type_)], 1.0),
    ),
    Family::gauge(
        "kube_secret_annotations",
        Alpha,
        "Secret annotations named by the annotations allowlist, as labels.",
        common::annotations::<Secret>,
    ),
    Family::gauge(
        "kube_secret_labels",
        Stable,
        "Secret labels named by the labels allowlist, as labels.",
        common::labels::<Secret>,
    ),
    Family::gauge(
        "kube_secret_created",
        Stable,
        "When the Secret was created, in Unix seconds.",
        common::created::<Secret>,
    ),
    Family::gauge(
        "kube_secret_metadata_resource_version",
        Alpha,
        "The Secret's resourceVersion, as a number.",
        common::resource_version::<Secret>,
    ),
    Family::gauge(
        "kube_secret_owner",
        Alpha,
        "One series per owner of the Secret, or one with empty owner labels.",
        common::owner::<Secret>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn tls_secret_owned_by_certificate() {
        let j = r#"{"metadata":{"name":"shop-tls","namespace":"prod","uid":"u","resourceVersion":"345",
            "creationTimestamp":"2026-11-21T05:27:08Z","labels":{"app":"shop"},
            "ownerReferences":[{"kind":"Certificate","name":"shop","controller":true}]},
            "type":"kubernetes.io/tls","data":{"tls.crt":"eA=="}}"#;
        assert_eq!(
            render("secrets", j, "secrets=[*]", ""),
            "kube_secret_info{namespace=\"prod\",secret=\"shop-tls\"} 1\n\
             kube_secret_type{namespace=\"prod\",secret=\"shop-tls\",type=\"kubernetes.io/tls\"} 1\n\
             kube_secret_labels{namespace=\"prod\",secret=\"shop-tls\",label_app=\"shop\"} 1\n\
             kube_secret_created{namespace=\"prod\",secret=\"shop-tls\"} 1.795238828e+09\n\
             kube_secret_metadata_resource_version{namespace=\"prod\",secret=\"shop-tls\"} 345\n\
             kube_secret_owner{namespace=\"prod\",secret=\"shop-tls\",owner_kind=\"Certificate\",owner_name=\"shop\",owner_is_controller=\"true\"} 1\n"
        );
    }

    #[test]
    fn untyped_secret_without_owner_or_numeric_version() {
        let j = r#"{"metadata":{"name":"s","namespace":"dev","resourceVersion":"abc"}}"#;
        assert_eq!(
            render("secrets", j, "", "secrets=[*]"),
            "kube_secret_info{namespace=\"dev\",secret=\"s\"} 1\n\
             kube_secret_type{namespace=\"dev\",secret=\"s\",type=\"\"} 1\n\
             kube_secret_annotations{namespace=\"dev\",secret=\"s\"} 1\n\
             kube_secret_owner{namespace=\"dev\",secret=\"s\",owner_kind=\"\",owner_name=\"\",owner_is_controller=\"\"} 1\n"
        );
    }
}
