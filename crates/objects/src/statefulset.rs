//! StatefulSet (apps/v1).

use serde::Deserialize;

use crate::Meta;

/// A StatefulSet as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatefulSet {
    /// Object metadata.
    pub metadata: Meta,
}
