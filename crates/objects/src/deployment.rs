//! Deployment (apps/v1).

use serde::Deserialize;

use crate::intstr::IntOrString;
use crate::{Condition, Meta};

/// A Deployment as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Deployment {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: DeploymentSpec,
    /// `status`
    pub status: DeploymentStatus,
}

/// `spec` of a Deployment.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeploymentSpec {
    /// `spec.replicas` (`None` when unset).
    pub replicas: Option<i64>,
    /// `spec.paused`
    pub paused: bool,
    /// `spec.strategy`
    pub strategy: DeploymentStrategy,
}

/// `spec.strategy` of a Deployment.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeploymentStrategy {
    /// `spec.strategy.rollingUpdate` (`None` for `Recreate`).
    pub rolling_update: Option<RollingUpdate>,
}

/// `spec.strategy.rollingUpdate`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RollingUpdate {
    /// `maxUnavailable`
    pub max_unavailable: Option<IntOrString>,
    /// `maxSurge`
    pub max_surge: Option<IntOrString>,
}

/// `status` of a Deployment.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeploymentStatus {
    /// `status.replicas`
    pub replicas: i64,
    /// `status.readyReplicas`
    pub ready_replicas: i64,
    /// `status.availableReplicas`
    pub available_replicas: i64,
    /// `status.unavailableReplicas`
    pub unavailable_replicas: i64,
    /// `status.updatedReplicas`
    pub updated_replicas: i64,
    /// `status.terminatingReplicas` (`None` when the API server does not set it).
    pub terminating_replicas: Option<i64>,
    /// `status.observedGeneration`
    pub observed_generation: i64,
    /// `status.conditions`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub conditions: Vec<Condition>,
}
