//! DaemonSet (apps/v1).

use serde::Deserialize;

use crate::Meta;

/// A DaemonSet as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DaemonSet {
    /// Object metadata.
    pub metadata: Meta,
}
