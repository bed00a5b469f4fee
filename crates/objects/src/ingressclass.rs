//! IngressClass (networking.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A IngressClass as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IngressClass {
    /// Object metadata.
    pub metadata: Meta,
}
