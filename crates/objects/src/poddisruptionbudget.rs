//! PodDisruptionBudget (policy/v1).

use serde::Deserialize;

use crate::Meta;

/// A PodDisruptionBudget as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodDisruptionBudget {
    /// Object metadata.
    pub metadata: Meta,
}
