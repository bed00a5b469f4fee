//! PersistentVolumeClaim (v1).

use serde::Deserialize;

use crate::Meta;

/// A PersistentVolumeClaim as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PersistentVolumeClaim {
    /// Object metadata.
    pub metadata: Meta,
}
