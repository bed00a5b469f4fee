//! Job (batch/v1).

use serde::Deserialize;

use crate::Meta;

/// A Job as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Job {
    /// Object metadata.
    pub metadata: Meta,
}
