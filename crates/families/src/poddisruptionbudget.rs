//! Families of the `poddisruptionbudgets` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::poddisruptionbudget::PodDisruptionBudget;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for PodDisruptionBudget {
    const RESOURCE: &'static str = "poddisruptionbudgets";
    const KIND: &'static str = "PodDisruptionBudget";
    const API: Api = Api::ns("policy", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("poddisruptionbudget", &self.metadata.name);
    }
}

const FAMILIES: &[Family<PodDisruptionBudget>] = &[];
