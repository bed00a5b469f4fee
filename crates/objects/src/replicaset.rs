//! ReplicaSet (apps/v1).

use serde::Deserialize;

use crate::Meta;

/// A ReplicaSet as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplicaSet {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: ReplicaSetSpec,
    /// `status`
    pub status: ReplicaSetStatus,
}

/// `spec` of a ReplicaSet.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplicaSetSpec {
    /// `spec.replicas` (`None` when unset).
    pub replicas: Option<i64>,
}

/// `status` of a ReplicaSet.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReplicaSetStatus {
    /// `status.replicas`
    pub replicas: i64,
    /// `status.fullyLabeledReplicas`
    pub fully_labeled_replicas: i64,
    /// `status.readyReplicas`
    pub ready_replicas: i64,
    /// `status.terminatingReplicas` (`None` when the API server does not set it).
    pub terminating_replicas: Option<i64>,
    /// `status.observedGeneration`
    pub observed_generation: i64,
}
