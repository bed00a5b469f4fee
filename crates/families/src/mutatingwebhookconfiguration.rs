//! Families of the `mutatingwebhookconfigurations` resource (shared emitters in
//! [`crate::admission`]).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::mutatingwebhookconfiguration::MutatingWebhookConfiguration;
use kubestate_objects::validatingwebhookconfiguration::Webhook;
use kubestate_objects::Meta;

use crate::admission::{self, WebhookConfiguration};
use crate::common;
use crate::kind::{Api, Family, Kind};

type O = MutatingWebhookConfiguration;

impl Kind for MutatingWebhookConfiguration {
    const RESOURCE: &'static str = "mutatingwebhookconfigurations";
    const KIND: &'static str = "MutatingWebhookConfiguration";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        admission::identity(self, "mutatingwebhookconfiguration", out);
    }
}

impl WebhookConfiguration for MutatingWebhookConfiguration {
    fn webhooks(&self) -> &[Webhook] {
        &self.webhooks
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_mutatingwebhookconfiguration_info",
        Alpha,
        "One series per MutatingWebhookConfiguration.",
        |_, out| out.sample(&[], 1.0),
    ),
    Family::gauge(
        "kube_mutatingwebhookconfiguration_created",
        Alpha,
        "When the MutatingWebhookConfiguration was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_mutatingwebhookconfiguration_metadata_resource_version",
        Alpha,
        "The MutatingWebhookConfiguration's resourceVersion, as a number.",
        common::resource_version::<O>,
    ),
    Family::gauge(
        "kube_mutatingwebhookconfiguration_webhook_clientconfig_service",
        Alpha,
        "The Service each mutating webhook is called through (empty for URL webhooks).",
        admission::clientconfig_service::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn mutating_webhook_configuration_families() {
        let json = r#"{"metadata":{"name":"inject","uid":"u1","resourceVersion":"336",
            "creationTimestamp":"2026-11-21T05:23:40Z"},
            "webhooks":[{"name":"a.example.com","clientConfig":{"service":{"name":"injector","namespace":"hooks"}}}]}"#;
        assert_eq!(
            render("mutatingwebhookconfigurations", json, "", ""),
            "kube_mutatingwebhookconfiguration_info{namespace=\"\",mutatingwebhookconfiguration=\"inject\"} 1\n\
             kube_mutatingwebhookconfiguration_created{namespace=\"\",mutatingwebhookconfiguration=\"inject\"} 1.79523862e+09\n\
             kube_mutatingwebhookconfiguration_metadata_resource_version{namespace=\"\",mutatingwebhookconfiguration=\"inject\"} 336\n\
             kube_mutatingwebhookconfiguration_webhook_clientconfig_service{namespace=\"\",mutatingwebhookconfiguration=\"inject\",webhook_name=\"a.example.com\",service_name=\"injector\",service_namespace=\"hooks\"} 1\n"
        );
    }
}
