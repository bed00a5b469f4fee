//! Families of the `secrets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::secret::Secret;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for Secret {
    const RESOURCE: &'static str = "secrets";
    const KIND: &'static str = "Secret";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("secret", &self.metadata.name);
    }
}

const FAMILIES: &[Family<Secret>] = &[];
