//! HorizontalPodAutoscaler (autoscaling/v2).

use serde::Deserialize;

use crate::Meta;

/// A HorizontalPodAutoscaler as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HorizontalPodAutoscaler {
    /// Object metadata.
    pub metadata: Meta,
}
