//! ValidatingAdmissionPolicyBinding (admissionregistration.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A ValidatingAdmissionPolicyBinding as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValidatingAdmissionPolicyBinding {
    /// Object metadata.
    pub metadata: Meta,
}
