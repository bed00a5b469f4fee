//! PodDisruptionBudget (policy/v1).

use serde::Deserialize;

use crate::Meta;

/// A PodDisruptionBudget as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodDisruptionBudget {
    /// Object metadata.
    pub metadata: Meta,
    /// `status`
    pub status: PodDisruptionBudgetStatus,
}

/// `status` of a PodDisruptionBudget.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodDisruptionBudgetStatus {
    /// `status.currentHealthy`
    pub current_healthy: i64,
    /// `status.desiredHealthy`
    pub desired_healthy: i64,
    /// `status.disruptionsAllowed`
    pub disruptions_allowed: i64,
    /// `status.expectedPods`
    pub expected_pods: i64,
    /// `status.observedGeneration`
    pub observed_generation: i64,
}
