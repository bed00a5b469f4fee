//! IngressClass (networking.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// An IngressClass as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IngressClass {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: IngressClassSpec,
}

/// `spec` of an IngressClass.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IngressClassSpec {
    /// `controller`
    pub controller: Box<str>,
}
