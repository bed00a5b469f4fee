//! Families of the `daemonsets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::daemonset::DaemonSet;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for DaemonSet {
    const RESOURCE: &'static str = "daemonsets";
    const KIND: &'static str = "DaemonSet";
    const API: Api = Api::ns("apps", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("daemonset", &self.metadata.name);
    }
}

const FAMILIES: &[Family<DaemonSet>] = &[];
