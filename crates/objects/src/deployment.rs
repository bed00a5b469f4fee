//! Deployment (apps/v1).

use serde::Deserialize;

use crate::Meta;

/// A Deployment as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Deployment {
    /// Object metadata.
    pub metadata: Meta,
}
