//! RoleBinding (rbac.authorization.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A RoleBinding as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoleBinding {
    /// Object metadata.
    pub metadata: Meta,
}
