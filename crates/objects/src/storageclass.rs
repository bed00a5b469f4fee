//! StorageClass (storage.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A StorageClass as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StorageClass {
    /// Object metadata.
    pub metadata: Meta,
    /// `provisioner`
    pub provisioner: Box<str>,
    /// `reclaimPolicy`; `None` when unset (KSM then reports `Delete`).
    pub reclaim_policy: Option<Box<str>>,
    /// `volumeBindingMode`; `None` when unset (KSM then reports `Immediate`).
    pub volume_binding_mode: Option<Box<str>>,
}
