//! Families of the `validatingadmissionpolicybindings` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::validatingadmissionpolicybinding::ValidatingAdmissionPolicyBinding;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for ValidatingAdmissionPolicyBinding {
    const RESOURCE: &'static str = "validatingadmissionpolicybindings";
    const KIND: &'static str = "ValidatingAdmissionPolicyBinding";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("validatingadmissionpolicybinding", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ValidatingAdmissionPolicyBinding>] = &[];
