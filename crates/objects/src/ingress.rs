//! Ingress (networking.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A Ingress as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Ingress {
    /// Object metadata.
    pub metadata: Meta,
}
