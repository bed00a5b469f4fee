//! Families of the `ingressclasses` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::ingressclass::IngressClass;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for IngressClass {
    const RESOURCE: &'static str = "ingressclasses";
    const KIND: &'static str = "IngressClass";
    const API: Api = Api::cluster("networking.k8s.io", "v1");
    const DEFAULT_ENABLED: bool = false;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("ingressclass", &self.metadata.name);
    }
}

const FAMILIES: &[Family<IngressClass>] = &[];
