//! Families of the `replicationcontrollers` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::replicationcontroller::ReplicationController;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for ReplicationController {
    const RESOURCE: &'static str = "replicationcontrollers";
    const KIND: &'static str = "ReplicationController";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("replicationcontroller", &self.metadata.name);
    }
}

const FAMILIES: &[Family<ReplicationController>] = &[];
