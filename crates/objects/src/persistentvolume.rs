//! PersistentVolume (v1).

use serde::Deserialize;

use crate::Meta;

/// A PersistentVolume as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PersistentVolume {
    /// Object metadata.
    pub metadata: Meta,
}
