//! Pod (v1).

use serde::Deserialize;

use crate::Meta;

/// A Pod as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    /// Object metadata.
    pub metadata: Meta,
}
