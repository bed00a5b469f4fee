//! Families of the `mutatingadmissionpolicies` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::mutatingadmissionpolicy::MutatingAdmissionPolicy;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for MutatingAdmissionPolicy {
    const RESOURCE: &'static str = "mutatingadmissionpolicies";
    const KIND: &'static str = "MutatingAdmissionPolicy";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("mutatingadmissionpolicy", &self.metadata.name);
    }
}

const FAMILIES: &[Family<MutatingAdmissionPolicy>] = &[];
