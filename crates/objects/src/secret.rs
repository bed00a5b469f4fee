//! Secret (v1).

use serde::Deserialize;

use crate::Meta;

/// A Secret as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Secret {
    /// Object metadata.
    pub metadata: Meta,
}
