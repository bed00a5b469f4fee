//! PersistentVolume (v1).

use serde::Deserialize;

use crate::{Meta, ResourceList, StrMap};

/// A PersistentVolume as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PersistentVolume {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: VolumeSpec,
    /// `status`
    pub status: VolumeStatus,
}

/// `spec` of a PersistentVolume: binding, class, capacity and the volume sources KSM names.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VolumeSpec {
    /// `spec.claimRef`
    pub claim_ref: Option<ClaimRef>,
    /// `spec.storageClassName`
    pub storage_class_name: Box<str>,
    /// `spec.persistentVolumeReclaimPolicy`
    pub persistent_volume_reclaim_policy: Box<str>,
    /// `spec.capacity` (only `storage` is read).
    pub capacity: ResourceList,
    /// `spec.accessModes`, in order.
    pub access_modes: Vec<Box<str>>,
    /// `spec.volumeMode`; `None` when unset.
    pub volume_mode: Option<Box<str>>,
    /// `spec.gcePersistentDisk`
    pub gce_persistent_disk: Option<GcePersistentDisk>,
    /// `spec.awsElasticBlockStore`
    pub aws_elastic_block_store: Option<AwsElasticBlockStore>,
    /// `spec.azureDisk`
    pub azure_disk: Option<AzureDisk>,
    /// `spec.fc`
    pub fc: Option<FibreChannel>,
    /// `spec.iscsi`
    pub iscsi: Option<Iscsi>,
    /// `spec.nfs`
    pub nfs: Option<Nfs>,
    /// `spec.csi`
    pub csi: Option<Csi>,
    /// `spec.local`
    pub local: Option<Local>,
    /// `spec.hostPath`
    pub host_path: Option<HostPath>,
}

/// `spec.claimRef`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ClaimRef {
    /// Claim name.
    pub name: Box<str>,
    /// Claim namespace.
    pub namespace: Box<str>,
}

/// `spec.gcePersistentDisk`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GcePersistentDisk {
    /// `pdName`
    pub pd_name: Box<str>,
}

/// `spec.awsElasticBlockStore`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AwsElasticBlockStore {
    /// `volumeID`
    #[serde(rename = "volumeID")]
    pub volume_id: Box<str>,
}

/// `spec.azureDisk`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AzureDisk {
    /// `diskName`
    pub disk_name: Box<str>,
}

/// `spec.fc`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FibreChannel {
    /// `targetWWNs`
    #[serde(rename = "targetWWNs")]
    pub target_wwns: Vec<Box<str>>,
    /// `lun`; `None` when unset.
    pub lun: Option<i32>,
    /// `wwids`
    pub wwids: Vec<Box<str>>,
}

/// `spec.iscsi`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Iscsi {
    /// `targetPortal`
    pub target_portal: Box<str>,
    /// `iqn`
    pub iqn: Box<str>,
    /// `lun`
    pub lun: i32,
    /// `initiatorName`; `None` when unset.
    pub initiator_name: Option<Box<str>>,
}

/// `spec.nfs`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Nfs {
    /// `server`
    pub server: Box<str>,
    /// `path`
    pub path: Box<str>,
}

/// `spec.csi`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Csi {
    /// `driver`
    pub driver: Box<str>,
    /// `volumeHandle`
    pub volume_handle: Box<str>,
    /// `volumeAttributes`
    pub volume_attributes: StrMap,
}

/// `spec.local`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Local {
    /// `path`
    pub path: Box<str>,
    /// `fsType`; `None` when unset.
    pub fs_type: Option<Box<str>>,
}

/// `spec.hostPath`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HostPath {
    /// `path`
    pub path: Box<str>,
    /// `type`; `None` when unset.
    #[serde(rename = "type")]
    pub type_: Option<Box<str>>,
}

/// `status` of a PersistentVolume.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VolumeStatus {
    /// `Pending`, `Available`, `Bound`, `Released`, `Failed` (empty when unset).
    pub phase: Box<str>,
}
