//! ServiceAccount (v1).

use serde::Deserialize;

use crate::Meta;

/// A ServiceAccount as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServiceAccount {
    /// Object metadata.
    pub metadata: Meta,
}
