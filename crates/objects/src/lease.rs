//! Lease (coordination.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A Lease as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Lease {
    /// Object metadata.
    pub metadata: Meta,
}
