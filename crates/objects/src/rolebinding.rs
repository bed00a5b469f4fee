//! RoleBinding (rbac.authorization.k8s.io/v1).

use serde::Deserialize;

use crate::clusterrolebinding::RoleRef;
use crate::Meta;

/// A RoleBinding as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RoleBinding {
    /// Object metadata.
    pub metadata: Meta,
    /// `roleRef`
    pub role_ref: RoleRef,
}
