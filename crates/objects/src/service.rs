//! Service (v1).

use serde::Deserialize;

use crate::Meta;

/// A Service as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    /// Object metadata.
    pub metadata: Meta,
}
