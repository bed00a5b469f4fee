//! ResourceQuota (v1).

use serde::Deserialize;

use crate::Meta;

/// A ResourceQuota as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResourceQuota {
    /// Object metadata.
    pub metadata: Meta,
}
