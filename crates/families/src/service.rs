//! Families of the `services` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::service::Service;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Service {
    const RESOURCE: &'static str = "services";
    const KIND: &'static str = "Service";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("service", &self.metadata.name);
        out.identity_label("uid", &self.metadata.uid);
    }
}

const FAMILIES: &[Family<Service>] = &[];
