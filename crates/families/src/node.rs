//! Families of the `nodes` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::node::Node;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Node {
    const RESOURCE: &'static str = "nodes";
    const KIND: &'static str = "Node";
    const API: Api = Api::CORE_CLUSTER;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("node", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Node>] = &[];
