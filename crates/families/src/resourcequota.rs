//! Families of the `resourcequotas` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::resourcequota::ResourceQuota;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for ResourceQuota {
    const RESOURCE: &'static str = "resourcequotas";
    const KIND: &'static str = "ResourceQuota";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("resourcequota", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ResourceQuota>] = &[];
