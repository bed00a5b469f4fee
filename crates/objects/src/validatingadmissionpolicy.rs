//! ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A ValidatingAdmissionPolicy as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValidatingAdmissionPolicy {
    /// Object metadata.
    pub metadata: Meta,
}
