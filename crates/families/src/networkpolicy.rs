//! Families of the `networkpolicies` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::networkpolicy::NetworkPolicy;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for NetworkPolicy {
    const RESOURCE: &'static str = "networkpolicies";
    const KIND: &'static str = "NetworkPolicy";
    const API: Api = Api::ns("networking.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("networkpolicy", &self.metadata.name);
    }
}

const FAMILIES: &[Family<NetworkPolicy>] = &[];
