//! Families of the `deployments` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::deployment::Deployment;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Deployment {
    const RESOURCE: &'static str = "deployments";
    const KIND: &'static str = "Deployment";
    const API: Api = Api::ns("apps", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("deployment", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Deployment>] = &[];
