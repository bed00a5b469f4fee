//! MutatingAdmissionPolicyBinding (admissionregistration.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A MutatingAdmissionPolicyBinding as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MutatingAdmissionPolicyBinding {
    /// Object metadata.
    pub metadata: Meta,
}
