//! MutatingAdmissionPolicy (admissionregistration.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A MutatingAdmissionPolicy as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MutatingAdmissionPolicy {
    /// Object metadata.
    pub metadata: Meta,
}
