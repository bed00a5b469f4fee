//! NetworkPolicy (networking.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A NetworkPolicy as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NetworkPolicy {
    /// Object metadata.
    pub metadata: Meta,
}
