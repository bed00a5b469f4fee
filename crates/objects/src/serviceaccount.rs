//! ServiceAccount (v1).

use serde::Deserialize;

use crate::Meta;

/// A ServiceAccount as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceAccount {
    /// Object metadata.
    pub metadata: Meta,
    /// `automountServiceAccountToken` (`None` when unset).
    pub automount_service_account_token: Option<bool>,
    /// `secrets`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub secrets: Vec<NamedRef>,
    /// `imagePullSecrets`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub image_pull_secrets: Vec<NamedRef>,
}

/// A reference of which only the name is read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NamedRef {
    /// `name`
    pub name: Box<str>,
}
