//! Families of the `validatingadmissionpolicies` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::validatingadmissionpolicy::ValidatingAdmissionPolicy;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for ValidatingAdmissionPolicy {
    const RESOURCE: &'static str = "validatingadmissionpolicies";
    const KIND: &'static str = "ValidatingAdmissionPolicy";
    const API: Api = Api::cluster("admissionregistration.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("validatingadmissionpolicy", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ValidatingAdmissionPolicy>] = &[];
