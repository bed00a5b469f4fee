//! EndpointSlice (discovery.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A EndpointSlice as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EndpointSlice {
    /// Object metadata.
    pub metadata: Meta,
}
