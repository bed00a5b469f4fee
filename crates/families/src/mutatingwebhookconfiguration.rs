//! Families of the `mutatingwebhookconfigurations` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::mutatingwebhookconfiguration::MutatingWebhookConfiguration;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for MutatingWebhookConfiguration {
    const RESOURCE: &'static str = "mutatingwebhookconfigurations";
    const KIND: &'static str = "MutatingWebhookConfiguration";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("mutatingwebhookconfiguration", &self.metadata.name);
    }
}

const FAMILIES: &[Family<MutatingWebhookConfiguration>] = &[];
