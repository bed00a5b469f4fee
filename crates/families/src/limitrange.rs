//! Families of the `limitranges` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::limitrange::LimitRange;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for LimitRange {
    const RESOURCE: &'static str = "limitranges";
    const KIND: &'static str = "LimitRange";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("limitrange", &self.metadata.name);
    }
}

const FAMILIES: &[Family<LimitRange>] = &[];
