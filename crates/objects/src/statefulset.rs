//! StatefulSet (apps/v1).

use serde::Deserialize;

use crate::Meta;

/// A StatefulSet as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatefulSet {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: StatefulSetSpec,
    /// `status`
    pub status: StatefulSetStatus,
}

/// `spec` of a StatefulSet.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StatefulSetSpec {
    /// `spec.replicas` (`None` when unset).
    pub replicas: Option<i64>,
    /// `spec.ordinals` (`None` when unset).
    pub ordinals: Option<StatefulSetOrdinals>,
    /// `spec.persistentVolumeClaimRetentionPolicy` (`None` when unset).
    pub persistent_volume_claim_retention_policy: Option<PvcRetentionPolicy>,
}

/// `spec.ordinals` of a StatefulSet.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatefulSetOrdinals {
    /// `start`
    pub start: i64,
}

/// `spec.persistentVolumeClaimRetentionPolicy` of a StatefulSet.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PvcRetentionPolicy {
    /// `whenDeleted`
    pub when_deleted: Box<str>,
    /// `whenScaled`
    pub when_scaled: Box<str>,
}

/// `status` of a StatefulSet.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StatefulSetStatus {
    /// `status.replicas`
    pub replicas: i64,
    /// `status.availableReplicas`
    pub available_replicas: i64,
    /// `status.currentReplicas`
    pub current_replicas: i64,
    /// `status.readyReplicas`
    pub ready_replicas: i64,
    /// `status.updatedReplicas`
    pub updated_replicas: i64,
    /// `status.observedGeneration`
    pub observed_generation: i64,
    /// `status.currentRevision`
    pub current_revision: Box<str>,
    /// `status.updateRevision`
    pub update_revision: Box<str>,
}
