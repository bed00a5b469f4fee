//! Namespace (v1).

use serde::Deserialize;

use crate::Meta;

/// A Namespace as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Namespace {
    /// Object metadata.
    pub metadata: Meta,
}
