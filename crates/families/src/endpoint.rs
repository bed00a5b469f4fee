//! Families of the `endpoints` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::endpoint::Endpoints;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Endpoints {
    const RESOURCE: &'static str = "endpoints";
    const KIND: &'static str = "Endpoints";
    const API: Api = Api::CORE_NS;
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("endpoint", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Endpoints>] = &[];
