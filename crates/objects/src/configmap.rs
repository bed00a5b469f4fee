//! ConfigMap (`v1`). Every configmap family is derived from metadata alone.

use serde::Deserialize;

use crate::Meta;

/// A ConfigMap as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfigMap {
    /// Object metadata.
    pub metadata: Meta,
}
