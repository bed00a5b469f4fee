//! VolumeAttachment (storage.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A VolumeAttachment as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VolumeAttachment {
    /// Object metadata.
    pub metadata: Meta,
}
