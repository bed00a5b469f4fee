//! Families of the `endpointslices` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::endpointslice::EndpointSlice;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for EndpointSlice {
    const RESOURCE: &'static str = "endpointslices";
    const KIND: &'static str = "EndpointSlice";
    const API: Api = Api::ns("discovery.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("endpointslice", &self.metadata.name);
        out.identity_label("namespace", &self.metadata.namespace);
    }
}

const FAMILIES: &[Family<EndpointSlice>] = &[];
