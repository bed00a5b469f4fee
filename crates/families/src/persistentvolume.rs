//! Families of the `persistentvolumes` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::persistentvolume::{PersistentVolume, VolumeSpec};
use kubestate_objects::Meta;

use crate::kind::{Api, Family, Kind, Out};
use crate::{common, phases};

type O = PersistentVolume;

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

fn claim_ref(o: &O, out: &mut Out<'_>) {
    if let Some(c) = &o.spec.claim_ref {
        out.sample(&[("name", &c.name), ("claim_namespace", &c.namespace)], 1.0);
    }
}

fn status_phase(o: &O, out: &mut Out<'_>) {
    phases::one_hot(
        out,
        "phase",
        &o.status.phase,
        &["Pending", "Available", "Bound", "Released", "Failed"],
    );
}

/// The source-specific `_info` labels, in output order.
const SOURCE_LABELS: [&str; 18] = [
    "gce_persistent_disk_name",
    "ebs_volume_id",
    "azure_disk_name",
    "fc_wwids",
    "fc_lun",
    "fc_target_wwns",
    "iscsi_target_portal",
    "iscsi_iqn",
    "iscsi_lun",
    "iscsi_initiator_name",
    "nfs_server",
    "nfs_path",
    "csi_driver",
    "csi_volume_handle",
    "local_path",
    "local_fs",
    "host_path",
    "host_path_type",
];

/// Values for [`SOURCE_LABELS`]: only the first volume source present, in KSM's precedence
/// order GCE PD, AWS EBS, Azure Disk, FC, iSCSI, NFS, CSI, Local, HostPath, is filled.
fn source_values(s: &VolumeSpec) -> [String; 18] {
    let mut v: [String; 18] = Default::default();
    let opt = |x: &Option<Box<str>>| x.as_deref().unwrap_or("").to_string();
    if let Some(d) = &s.gce_persistent_disk {
        v[0] = d.pd_name.to_string();
    } else if let Some(d) = &s.aws_elastic_block_store {
        v[1] = d.volume_id.to_string();
    } else if let Some(d) = &s.azure_disk {
        v[2] = d.disk_name.to_string();
    } else if let Some(fc) = &s.fc {
        v[3] = fc.wwids.join(",");
        v[4] = fc.lun.map(|l| l.to_string()).unwrap_or_default();
        v[5] = fc.target_wwns.join(",");
    } else if let Some(i) = &s.iscsi {
        v[6] = i.target_portal.to_string();
        v[7] = i.iqn.to_string();
        v[8] = i.lun.to_string();
        v[9] = opt(&i.initiator_name);
    } else if let Some(n) = &s.nfs {
        v[10] = n.server.to_string();
        v[11] = n.path.to_string();
    } else if let Some(c) = &s.csi {
        v[12] = c.driver.to_string();
        v[13] = c.volume_handle.to_string();
    } else if let Some(l) = &s.local {
        v[14] = l.path.to_string();
        v[15] = opt(&l.fs_type);
    } else if let Some(h) = &s.host_path {
        v[16] = h.path.to_string();
        v[17] = opt(&h.type_);
    }
    v
}

fn info(o: &O, out: &mut Out<'_>) {
    let values = source_values(&o.spec);
    out.begin()
        .label("storageclass", &o.spec.storage_class_name);
    for (name, value) in SOURCE_LABELS.iter().zip(&values) {
        out.label(name, value);
    }
    out.label("reclaim_policy", &o.spec.persistent_volume_reclaim_policy);
    out.finish(1.0);
}

fn capacity_bytes(o: &O, out: &mut Out<'_>) {
    let bytes = o.spec.capacity.get("storage").map_or(0, |q| q.value());
    out.sample(&[], bytes as f64);
}

fn csi_attributes(o: &O, out: &mut Out<'_>) {
    if let Some(c) = &o.spec.csi {
        let attrs = &c.volume_attributes;
        out.sample(
            &[
                ("csi_mounter", attrs.get("mounter").unwrap_or("")),
                ("csi_map_options", attrs.get("mapOptions").unwrap_or("")),
            ],
            1.0,
        );
    }
}

fn volume_mode(o: &O, out: &mut Out<'_>) {
    let mode = o.spec.volume_mode.as_deref().unwrap_or("Filesystem");
    out.sample(&[("volumemode", mode)], 1.0);
}

fn access_mode(o: &O, out: &mut Out<'_>) {
    for m in &o.spec.access_modes {
        out.sample(&[("access_mode", m)], 1.0);
    }
}

const FAMILIES: &[Family<O>] = &[
    Family::gauge(
        "kube_persistentvolume_claim_ref",
        Stable,
        "The claim a PersistentVolume is reserved for.",
        claim_ref,
    ),
    Family::gauge(
        "kube_persistentvolume_annotations",
        Alpha,
        "PersistentVolume annotations named by the annotations allowlist, as labels.",
        common::annotations::<O>,
    ),
    Family::gauge(
        "kube_persistentvolume_labels",
        Stable,
        "PersistentVolume labels named by the labels allowlist, as labels.",
        common::labels::<O>,
    ),
    Family::gauge(
        "kube_persistentvolume_status_phase",
        Stable,
        "Volume phase: 1 on the current phase among Pending, Available, Bound, Released, Failed.",
        status_phase,
    ),
    Family::gauge(
        "kube_persistentvolume_info",
        Stable,
        "Storage class, reclaim policy and identifiers of the volume's backing source.",
        info,
    ),
    Family::gauge(
        "kube_persistentvolume_capacity_bytes",
        Stable,
        "Capacity of the volume, in bytes.",
        capacity_bytes,
    ),
    Family::gauge(
        "kube_persistentvolume_created",
        Alpha,
        "When the volume was created, in Unix seconds.",
        common::created::<O>,
    ),
    Family::gauge(
        "kube_persistentvolume_deletion_timestamp",
        Alpha,
        "When deletion of the volume was requested, in Unix seconds.",
        common::deletion_timestamp::<O>,
    ),
    Family::gauge(
        "kube_persistentvolume_csi_attributes",
        Alpha,
        "Mounter and map options among the CSI volume attributes.",
        csi_attributes,
    )
    .opt_in(),
    Family::gauge(
        "kube_persistentvolume_volume_mode",
        Alpha,
        "Volume mode of the volume (Filesystem when unset).",
        volume_mode,
    ),
    Family::gauge(
        "kube_persistentvolume_access_mode",
        Alpha,
        "One series per access mode of the volume.",
        access_mode,
    ),
];

#[cfg(test)]
mod tests {
    use crate::testing::{render, render_family};

    fn info_of(spec: &str) -> String {
        let json = format!(r#"{{"metadata":{{"name":"v","uid":"u"}},"spec":{spec}}}"#);
        render_family("persistentvolumes", &json, "kube_persistentvolume_info")
    }

    /// The `_info` line with every source label empty except `set`.
    fn expected_info(class: &str, set: &[(&str, &str)], reclaim: &str) -> String {
        let mut s =
            format!("kube_persistentvolume_info{{persistentvolume=\"v\",storageclass=\"{class}\"");
        for name in super::SOURCE_LABELS {
            let v = set.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| v);
            s.push_str(&format!(",{name}=\"{v}\""));
        }
        s.push_str(&format!(",reclaim_policy=\"{reclaim}\"}} 1\n"));
        s
    }

    #[test]
    fn all_families() {
        let json = r#"{"metadata":{"name":"v","uid":"u","creationTimestamp":"2026-11-21T05:23:40Z",
            "deletionTimestamp":"2026-11-21T05:24:00Z","labels":{"type":"nfs"}},
            "spec":{"capacity":{"storage":"1.5Ti"},"accessModes":["ReadWriteOnce","ReadOnlyMany"],
              "claimRef":{"kind":"PersistentVolumeClaim","namespace":"db","name":"data"},
              "persistentVolumeReclaimPolicy":"Retain","storageClassName":"ceph","volumeMode":"Block",
              "csi":{"driver":"rbd.csi.ceph.com","volumeHandle":"h1","volumeAttributes":{"mounter":"rbd-nbd","pool":"p"}}},
            "status":{"phase":"Released"}}"#;
        let mut want = String::from(
            "kube_persistentvolume_claim_ref{persistentvolume=\"v\",name=\"data\",claim_namespace=\"db\"} 1\n\
             kube_persistentvolume_labels{persistentvolume=\"v\",label_type=\"nfs\"} 1\n\
             kube_persistentvolume_status_phase{persistentvolume=\"v\",phase=\"Pending\"} 0\n\
             kube_persistentvolume_status_phase{persistentvolume=\"v\",phase=\"Available\"} 0\n\
             kube_persistentvolume_status_phase{persistentvolume=\"v\",phase=\"Bound\"} 0\n\
             kube_persistentvolume_status_phase{persistentvolume=\"v\",phase=\"Released\"} 1\n\
             kube_persistentvolume_status_phase{persistentvolume=\"v\",phase=\"Failed\"} 0\n",
        );
        want += &expected_info(
            "ceph",
            &[
                ("csi_driver", "rbd.csi.ceph.com"),
                ("csi_volume_handle", "h1"),
            ],
            "Retain",
        );
        want += "kube_persistentvolume_capacity_bytes{persistentvolume=\"v\"} 1.649267441664e+12\n\
                 kube_persistentvolume_created{persistentvolume=\"v\"} 1.79523862e+09\n\
                 kube_persistentvolume_deletion_timestamp{persistentvolume=\"v\"} 1.79523864e+09\n\
                 kube_persistentvolume_csi_attributes{persistentvolume=\"v\",csi_mounter=\"rbd-nbd\",csi_map_options=\"\"} 1\n\
                 kube_persistentvolume_volume_mode{persistentvolume=\"v\",volumemode=\"Block\"} 1\n\
                 kube_persistentvolume_access_mode{persistentvolume=\"v\",access_mode=\"ReadWriteOnce\"} 1\n\
                 kube_persistentvolume_access_mode{persistentvolume=\"v\",access_mode=\"ReadOnlyMany\"} 1\n";
        assert_eq!(
            render("persistentvolumes", json, "persistentvolumes=[*]", ""),
            want
        );
    }

    #[test]
    fn bare_volume() {
        // No claim, phase, class, source or capacity: capacity 0, mode Filesystem, no csi line.
        let json = r#"{"metadata":{"name":"v","uid":"u"}}"#;
        let want = expected_info("", &[], "")
            + "kube_persistentvolume_capacity_bytes{persistentvolume=\"v\"} 0\n\
               kube_persistentvolume_volume_mode{persistentvolume=\"v\",volumemode=\"Filesystem\"} 1\n";
        assert_eq!(render("persistentvolumes", json, "", ""), want);
    }

    #[test]
    fn info_per_source() {
        assert_eq!(
            info_of(r#"{"awsElasticBlockStore":{"volumeID":"vol-1"}}"#),
            expected_info("", &[("ebs_volume_id", "vol-1")], "")
        );
        assert_eq!(
            info_of(r#"{"azureDisk":{"diskName":"az","diskURI":"x"}}"#),
            expected_info("", &[("azure_disk_name", "az")], "")
        );
        assert_eq!(
            info_of(r#"{"fc":{"targetWWNs":["a","b"],"lun":2}}"#),
            expected_info("", &[("fc_lun", "2"), ("fc_target_wwns", "a,b")], "")
        );
        assert_eq!(
            info_of(r#"{"fc":{"wwids":["w1","w2"]}}"#),
            expected_info("", &[("fc_wwids", "w1,w2")], "")
        );
        assert_eq!(
            info_of(r#"{"iscsi":{"targetPortal":"10.0.0.1:3260","iqn":"iqn.x","lun":0}}"#),
            expected_info(
                "",
                &[
                    ("iscsi_target_portal", "10.0.0.1:3260"),
                    ("iscsi_iqn", "iqn.x"),
                    ("iscsi_lun", "0")
                ],
                ""
            )
        );
        assert_eq!(
            info_of(r#"{"iscsi":{"targetPortal":"p","iqn":"q","lun":3,"initiatorName":"init"}}"#),
            expected_info(
                "",
                &[
                    ("iscsi_target_portal", "p"),
                    ("iscsi_iqn", "q"),
                    ("iscsi_lun", "3"),
                    ("iscsi_initiator_name", "init")
                ],
                ""
            )
        );
        assert_eq!(
            info_of(r#"{"nfs":{"server":"s","path":"/p"}}"#),
            expected_info("", &[("nfs_server", "s"), ("nfs_path", "/p")], "")
        );
        assert_eq!(
            info_of(r#"{"local":{"path":"/mnt","fsType":"ext4"}}"#),
            expected_info("", &[("local_path", "/mnt"), ("local_fs", "ext4")], "")
        );
        assert_eq!(
            info_of(r#"{"hostPath":{"path":"/h","type":"Directory"}}"#),
            expected_info(
                "",
                &[("host_path", "/h"), ("host_path_type", "Directory")],
                ""
            )
        );
        assert_eq!(
            info_of(r#"{"hostPath":{"path":"/h"}}"#),
            expected_info("", &[("host_path", "/h")], "")
        );
    }

    #[test]
    fn info_first_source_wins() {
        // GCE beats NFS and CSI even when all are present.
        assert_eq!(
            info_of(
                r#"{"storageClassName":"std","persistentVolumeReclaimPolicy":"Delete",
                   "csi":{"driver":"d","volumeHandle":"h"},"nfs":{"server":"s","path":"/p"},
                   "gcePersistentDisk":{"pdName":"disk-1"}}"#
            ),
            expected_info("std", &[("gce_persistent_disk_name", "disk-1")], "Delete")
        );
        // CSI beats Local and HostPath.
        assert_eq!(
            info_of(
                r#"{"hostPath":{"path":"/h"},"local":{"path":"/l"},"csi":{"driver":"d","volumeHandle":"h"}}"#
            ),
            expected_info("", &[("csi_driver", "d"), ("csi_volume_handle", "h")], "")
        );
    }
}
