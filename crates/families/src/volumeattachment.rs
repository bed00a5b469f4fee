//! Families of the `volumeattachments` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::Alpha;
use kubestate_objects::volumeattachment::VolumeAttachment;
use kubestate_objects::{Meta, StrMap};

use crate::common;
use crate::kind::{Api, Family, Kind, Out};

type O = VolumeAttachment;

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

/// One sample with every entry of `map` as a `<prefix>_<key>` label (no allowlist).
fn whole_map(map: &StrMap, prefix: &str, out: &mut Out<'_>) {
    let entries: Vec<(&str, &str)> = map.iter().collect();
    common::map_sample(&entries, prefix, out);
}

fn info(o: &O, out: &mut Out<'_>) {
    out.sample(
        &[("attacher", &o.spec.attacher), ("node", &o.spec.node_name)],
        1.0,
    );
}

fn source_persistentvolume(o: &O, out: &mut Out<'_>) {
    if let Some(pv) = &o.spec.source.persistent_volume_name {
        out.sample(&[("volumename", pv)], 1.0);
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_volumeattachment_labels",
        Alpha,
        "Every label of the VolumeAttachment, as labels (not subject to the labels allowlist).",
        |o, out| whole_map(&o.metadata.labels, "label", out),
    ),
    Family::gauge(
        "kube_volumeattachment_info",
        Alpha,
        "Attacher and node of the VolumeAttachment.",
        info,
    ),
    Family::gauge(
        "kube_volumeattachment_created",
        Alpha,
        "When the VolumeAttachment was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_volumeattachment_spec_source_persistentvolume",
        Alpha,
        "The PersistentVolume being attached, when the source names one.",
        source_persistentvolume,
    ),
    Family::gauge(
        "kube_volumeattachment_status_attached",
        Alpha,
        "Whether the volume is attached (1) or not (0).",
        |o, out| out.sample(&[], if o.status.attached { 1.0 } else { 0.0 }),
    ),
    Family::gauge(
        "kube_volumeattachment_status_attachment_metadata",
        Alpha,
        "Attachment metadata reported by the attacher, as labels.",
        |o, out| whole_map(&o.status.attachment_metadata, "metadata", out),
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::render;

    #[test]
    fn volumeattachment_families_ignore_label_allowlist() {
        // No labels allowlist at all: `_labels` still carries every label.
        let json = r#"{"metadata":{"name":"csi-1","uid":"u","creationTimestamp":"2026-11-21T05:23:40Z",
            "labels":{"topology.kubernetes.io/zone":"a","app.kubernetes.io/managed-by":"x"}},
            "spec":{"attacher":"ebs.csi.aws.com","nodeName":"w1","source":{"persistentVolumeName":"pv-1"}},
            "status":{"attached":true,"attachmentMetadata":{"devicePath":"/dev/xvdba","volumeContext.fsType":"ext4"}}}"#;
        assert_eq!(
            render("volumeattachments", json, "", ""),
            "kube_volumeattachment_labels{volumeattachment=\"csi-1\",label_app_kubernetes_io_managed_by=\"x\",label_topology_kubernetes_io_zone=\"a\"} 1\n\
             kube_volumeattachment_info{volumeattachment=\"csi-1\",attacher=\"ebs.csi.aws.com\",node=\"w1\"} 1\n\
             kube_volumeattachment_created{volumeattachment=\"csi-1\"} 1.79523862e+09\n\
             kube_volumeattachment_spec_source_persistentvolume{volumeattachment=\"csi-1\",volumename=\"pv-1\"} 1\n\
             kube_volumeattachment_status_attached{volumeattachment=\"csi-1\"} 1\n\
             kube_volumeattachment_status_attachment_metadata{volumeattachment=\"csi-1\",metadata_device_path=\"/dev/xvdba\",metadata_volume_context_fs_type=\"ext4\"} 1\n"
        );
    }

    #[test]
    fn inline_unattached() {
        let json = r#"{"metadata":{"name":"inline","uid":"u"},
            "spec":{"attacher":"a","nodeName":"n","source":{"inlineVolumeSpec":{"csi":{"driver":"a"}}}},
            "status":{"attached":false}}"#;
        assert_eq!(
            render("volumeattachments", json, "", ""),
            "kube_volumeattachment_labels{volumeattachment=\"inline\"} 1\n\
             kube_volumeattachment_info{volumeattachment=\"inline\",attacher=\"a\",node=\"n\"} 1\n\
             kube_volumeattachment_status_attached{volumeattachment=\"inline\"} 0\n\
             kube_volumeattachment_status_attachment_metadata{volumeattachment=\"inline\"} 1\n"
        );
    }
}
