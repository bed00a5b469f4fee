//! ReplicaSet (apps/v1).

use serde::Deserialize;

use crate::Meta;

/// A ReplicaSet as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplicaSet {
    /// Object metadata.
    pub metadata: Meta,
}
