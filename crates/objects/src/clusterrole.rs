//! ClusterRole (rbac.authorization.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A ClusterRole as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ClusterRole {
    /// Object metadata.
    pub metadata: Meta,
}
