//! Node (v1).

use serde::Deserialize;

use crate::Meta;

/// A Node as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Node {
    /// Object metadata.
    pub metadata: Meta,
}
