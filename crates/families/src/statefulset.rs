//! Families of the `statefulsets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::statefulset::StatefulSet;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for StatefulSet {
    const RESOURCE: &'static str = "statefulsets";
    const KIND: &'static str = "StatefulSet";
    const API: Api = Api::ns("apps", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("statefulset", &self.metadata.name);
    }
}

const FAMILIES: &[Family<StatefulSet>] = &[];
