//! Families of the `replicasets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::replicaset::ReplicaSet;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for ReplicaSet {
    const RESOURCE: &'static str = "replicasets";
    const KIND: &'static str = "ReplicaSet";
    const API: Api = Api::ns("apps", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("replicaset", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ReplicaSet>] = &[];
