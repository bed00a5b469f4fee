//! ClusterRoleBinding (rbac.authorization.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A ClusterRoleBinding as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ClusterRoleBinding {
    /// Object metadata.
    pub metadata: Meta,
}
