//! Families of the `validatingwebhookconfigurations` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::validatingwebhookconfiguration::ValidatingWebhookConfiguration;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for ValidatingWebhookConfiguration {
    const RESOURCE: &'static str = "validatingwebhookconfigurations";
    const KIND: &'static str = "ValidatingWebhookConfiguration";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("validatingwebhookconfiguration", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ValidatingWebhookConfiguration>] = &[];
