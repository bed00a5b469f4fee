//! Families of the `namespaces` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::namespace::Namespace;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Namespace {
    const RESOURCE: &'static str = "namespaces";
    const KIND: &'static str = "Namespace";
    const API: Api = Api::CORE_CLUSTER;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Namespace>] = &[];
