//! Families of the `validatingwebhookconfigurations` resource (shared emitters in
//! [`crate::admission`]).

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::validatingwebhookconfiguration::{ValidatingWebhookConfiguration, Webhook};
use kubestate_objects::Meta;

use crate::admission::{self, WebhookConfiguration};
use crate::common;
use crate::kind::{Api, Family, Kind};

type O = ValidatingWebhookConfiguration;

impl Kind for ValidatingWebhookConfiguration {
    const RESOURCE: &'static str = "validatingwebhookconfigurations";
    const KIND: &'static str = "ValidatingWebhookConfiguration";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        admission::identity(self, "validatingwebhookconfiguration", out);
    }
}

impl WebhookConfiguration for ValidatingWebhookConfiguration {
    fn webhooks(&self) -> &[Webhook] {
        &self.webhooks
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_validatingwebhookconfiguration_info",
        Alpha,
        "One series per ValidatingWebhookConfiguration.",
        |_, out| out.sample(&[], 1.0),
    ),
    Family::gauge(
        "kube_validatingwebhookconfiguration_created",
        Alpha,
        "When the ValidatingWebhookConfiguration was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_validatingwebhookconfiguration_metadata_resource_version",
        Alpha,
        "The ValidatingWebhookConfiguration's resourceVersion, as a number.",
        common::resource_version::<O>,
    ),
    Family::gauge(
        "kube_validatingwebhookconfiguration_webhook_clientconfig_service",
        Alpha,
        "The Service each validating webhook is called through (empty for URL webhooks).",
        admission::clientconfig_service::<O>,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn validating_webhook_configuration_families() {
        let json = r#"{"metadata":{"name":"policy","uid":"u1","resourceVersion":"338",
            "creationTimestamp":"2026-11-21T05:23:40Z"},
            "webhooks":[{"name":"a.example.com","clientConfig":{"service":{"name":"engine","namespace":"policy","port":443}}},
                        {"name":"b.example.com","clientConfig":{"url":"https://x.example.com/"}}]}"#;
        assert_eq!(
            render("validatingwebhookconfigurations", json, "", ""),
            "kube_validatingwebhookconfiguration_info{namespace=\"\",validatingwebhookconfiguration=\"policy\"} 1\n\
             kube_validatingwebhookconfiguration_created{namespace=\"\",validatingwebhookconfiguration=\"policy\"} 1.79523862e+09\n\
             kube_validatingwebhookconfiguration_metadata_resource_version{namespace=\"\",validatingwebhookconfiguration=\"policy\"} 338\n\
             kube_validatingwebhookconfiguration_webhook_clientconfig_service{namespace=\"\",validatingwebhookconfiguration=\"policy\",webhook_name=\"a.example.com\",service_name=\"engine\",service_namespace=\"policy\"} 1\n\
             kube_validatingwebhookconfiguration_webhook_clientconfig_service{namespace=\"\",validatingwebhookconfiguration=\"policy\",webhook_name=\"b.example.com\",service_name=\"\",service_namespace=\"\"} 1\n"
        );
    }

    #[test]
    fn no_webhooks_no_created_non_numeric_version() {
        let json = r#"{"metadata":{"name":"empty","uid":"u1","resourceVersion":"abc"}}"#;
        assert_eq!(
            render("validatingwebhookconfigurations", json, "", ""),
            "kube_validatingwebhookconfiguration_info{namespace=\"\",validatingwebhookconfiguration=\"empty\"} 1\n"
        );
    }
}
