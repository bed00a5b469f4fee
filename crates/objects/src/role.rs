//! Role (rbac.authorization.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A Role as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Role {
    /// Object metadata.
    pub metadata: Meta,
}
