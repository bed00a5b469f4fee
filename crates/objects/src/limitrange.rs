//! LimitRange (v1).

use serde::Deserialize;

use crate::Meta;

/// A LimitRange as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LimitRange {
    /// Object metadata.
    pub metadata: Meta,
}
