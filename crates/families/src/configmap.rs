//! Families of the `configmaps` resource: all derived from metadata.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::configmap::ConfigMap;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

impl Kind for ConfigMap {
    const RESOURCE: &'static str = "configmaps";
    const KIND: &'static str = "ConfigMap";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("configmap", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ConfigMap>] = &[
    Family::gauge(
        "kube_configmap_annotations",
        Alpha,
        "ConfigMap annotations named by the annotations allowlist, as labels.",
        common::annotations::<ConfigMap>,
    ),
    Family::gauge(
        "kube_configmap_labels",
        Stable,
        "ConfigMap labels named by the labels allowlist, as labels.",
        common::labels::<ConfigMap>,
    ),
    Family::gauge(
        "kube_configmap_info",
        Stable,
        "One series per ConfigMap.",
        |_, out| out.sample(&[], 1.0),
    ),
    Family::gauge(
        "kube_configmap_created",
        Stable,
        "When the ConfigMap was created, in Unix seconds.",
        common::created::<ConfigMap>,
    ),
    Family::gauge(
        "kube_configmap_metadata_resource_version",
        Alpha,
        "The ConfigMap's resourceVersion, as a number.",
        common::resource_version::<ConfigMap>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn configmap_families() {
        let json = r#"{"metadata":{"name":"app","namespace":"prod","uid":"u1","resourceVersion":"42",
            "creationTimestamp":"2026-11-21T05:23:40Z","labels":{"app":"api"}}}"#;
        assert_eq!(
            render("configmaps", json, "configmaps=[*]", ""),
            "kube_configmap_labels{namespace=\"prod\",configmap=\"app\",label_app=\"api\"} 1\n\
             kube_configmap_info{namespace=\"prod\",configmap=\"app\"} 1\n\
             kube_configmap_created{namespace=\"prod\",configmap=\"app\"} 1.79523862e+09\n\
             kube_configmap_metadata_resource_version{namespace=\"prod\",configmap=\"app\"} 42\n"
        );
    }
}
