//! Families of the `ingresses` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::ingress::Ingress;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Ingress {
    const RESOURCE: &'static str = "ingresses";
    const KIND: &'static str = "Ingress";
    const API: Api = Api::ns("networking.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("ingress", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Ingress>] = &[];
