//! Families of the `ingressclasses` resource (off by default).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::ingressclass::IngressClass;
use kubestate_objects::Meta;

use crate::common;
use crate::kind::{Api, Family, Kind};

type O = IngressClass;

impl Kind for IngressClass {
    const RESOURCE: &'static str = "ingressclasses";
    const KIND: &'static str = "IngressClass";
    const API: Api = Api::cluster("networking.k8s.io", "v1");
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("ingressclass", &self.metadata.name);
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_ingressclass_info",
        Alpha,
        "Controller that implements the IngressClass.",
        |o, out| out.sample(&[("controller", &o.spec.controller)], 1.0),
    ),
    Family::gauge(
        "kube_ingressclass_created",
        Alpha,
        "When the IngressClass was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_ingressclass_annotations",
        Alpha,
        "IngressClass annotations named by the annotations allowlist, as labels.",
        common::annotations::<O>,
    ),
    Family::gauge(
        "kube_ingressclass_labels",
        Alpha,
        "IngressClass labels named by the labels allowlist, as labels.",
        common::labels::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn ingressclass_families() {
        let json = r#"{"metadata":{"name":"nginx","uid":"u","creationTimestamp":"2026-11-21T05:23:40Z",
            "labels":{"app.kubernetes.io/name":"ingress-nginx"}},"spec":{"controller":"k8s.io/ingress-nginx"}}"#;
        assert_eq!(
            render("ingressclasses", json, "ingressclasses=[*]", "ingressclasses=[*]"),
            "kube_ingressclass_info{ingressclass=\"nginx\",controller=\"k8s.io/ingress-nginx\"} 1\n\
             kube_ingressclass_created{ingressclass=\"nginx\"} 1.79523862e+09\n\
             kube_ingressclass_annotations{ingressclass=\"nginx\"} 1\n\
             kube_ingressclass_labels{ingressclass=\"nginx\",label_app_kubernetes_io_name=\"ingress-nginx\"} 1\n"
        );
        assert!(!crate::resource("ingressclasses")
            .expect("known")
            .default_enabled());
    }
}
