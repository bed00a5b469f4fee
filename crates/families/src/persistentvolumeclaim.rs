//! Families of the `persistentvolumeclaims` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::persistentvolumeclaim::PersistentVolumeClaim;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for PersistentVolumeClaim {
    const RESOURCE: &'static str = "persistentvolumeclaims";
    const KIND: &'static str = "PersistentVolumeClaim";
    const API: Api = Api::CORE_NS;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("namespace", &self.metadata.namespace);
        out.identity_label("persistentvolumeclaim", &self.metadata.name);
    }
}

const FAMILIES: &[Family<PersistentVolumeClaim>] = &[];
