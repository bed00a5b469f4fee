//! Endpoints (v1).

use serde::Deserialize;

use crate::Meta;

/// A Endpoints as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Endpoints {
    /// Object metadata.
    pub metadata: Meta,
}
