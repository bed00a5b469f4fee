//! Families of the `mutatingadmissionpolicybindings` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::mutatingadmissionpolicybinding::MutatingAdmissionPolicyBinding;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for MutatingAdmissionPolicyBinding {
    const RESOURCE: &'static str = "mutatingadmissionpolicybindings";
    const KIND: &'static str = "MutatingAdmissionPolicyBinding";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("mutatingadmissionpolicybinding", &self.metadata.name);
    }
}

const FAMILIES: &[Family<MutatingAdmissionPolicyBinding>] = &[];
