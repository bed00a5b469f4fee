//! Families of the `volumeattachments` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_objects::volumeattachment::VolumeAttachment;
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind};

impl Kind for VolumeAttachment {
    const RESOURCE: &'static str = "volumeattachments";
    const KIND: &'static str = "VolumeAttachment";
    const API: Api = Api::cluster("storage.k8s.io", "v1");
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("volumeattachment", &self.metadata.name);
    }
}

const FAMILIES: &[Family<VolumeAttachment>] = &[];
