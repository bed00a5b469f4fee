//! Families of the `certificatesigningrequests` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::certificatesigningrequest::CertificateSigningRequest;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for CertificateSigningRequest {
    const RESOURCE: &'static str = "certificatesigningrequests";
    const KIND: &'static str = "CertificateSigningRequest";
    const API: Api = Api::cluster("certificates.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("certificatesigningrequest", &self.metadata.name);
    }
}

const FAMILIES: &[Family<CertificateSigningRequest>] = &[];
