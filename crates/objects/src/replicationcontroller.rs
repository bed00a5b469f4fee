//! ReplicationController (v1).

use serde::Deserialize;

use crate::Meta;

/// A ReplicationController as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplicationController {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: ReplicationControllerSpec,
    /// `status`
    pub status: ReplicationControllerStatus,
}

/// `spec` of a ReplicationController.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplicationControllerSpec {
    /// `spec.replicas` (`None` when unset).
    pub replicas: Option<i64>,
}

/// `status` of a ReplicationController.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReplicationControllerStatus {
    /// `status.replicas`
    pub replicas: i64,
    /// `status.fullyLabeledReplicas`
    pub fully_labeled_replicas: i64,
    /// `status.readyReplicas`
    pub ready_replicas: i64,
    /// `status.availableReplicas`
    pub available_replicas: i64,
    /// `status.observedGeneration`
    pub observed_generation: i64,
}
