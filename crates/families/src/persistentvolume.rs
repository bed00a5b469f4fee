//! Families of the `persistentvolumes` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::persistentvolume::PersistentVolume;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for PersistentVolume {
    const RESOURCE: &'static str = "persistentvolumes";
    const KIND: &'static str = "PersistentVolume";
    const API: Api = Api::CORE_CLUSTER;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("persistentvolume", &self.metadata.name);
    }
}

const FAMILIES: &[Family<PersistentVolume>] = &[];
