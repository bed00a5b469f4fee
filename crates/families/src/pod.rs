//! Families of the `pods` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::pod::Pod;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Pod {
    const RESOURCE: &'static str = "pods";
    const KIND: &'static str = "Pod";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("pod", &self.metadata.name);
        out.identity_label("uid", &self.metadata.uid);
    }
}

const FAMILIES: &[Family<Pod>] = &[];
