//! ClusterRoleBinding (rbac.authorization.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A ClusterRoleBinding as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClusterRoleBinding {
    /// Object metadata.
    pub metadata: Meta,
    /// `roleRef`
    pub role_ref: RoleRef,
}

/// `roleRef` of a ClusterRoleBinding or RoleBinding.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoleRef {
    /// `kind`: `Role` or `ClusterRole`.
    pub kind: Box<str>,
    /// `name`
    pub name: Box<str>,
}
