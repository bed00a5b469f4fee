//! Families of the `leases` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::lease::Lease;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Lease {
    const RESOURCE: &'static str = "leases";
    const KIND: &'static str = "Lease";
    const API: Api = Api::ns("coordination.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("lease", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Lease>] = &[];
