//! Families of the `storageclasses` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::storageclass::StorageClass;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for StorageClass {
    const RESOURCE: &'static str = "storageclasses";
    const KIND: &'static str = "StorageClass";
    const API: Api = Api::cluster("storage.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("storageclass", &self.metadata.name);
    }
}

const FAMILIES: &[Family<StorageClass>] = &[];
