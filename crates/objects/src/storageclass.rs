//! StorageClass (storage.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A StorageClass as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StorageClass {
    /// Object metadata.
    pub metadata: Meta,
}
