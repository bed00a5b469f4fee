//! MutatingAdmissionPolicyBinding (admissionregistration.k8s.io/v1).

use serde::Deserialize;

use crate::validatingadmissionpolicybinding::ParamRef;
use crate::Meta;

/// A MutatingAdmissionPolicyBinding as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MutatingAdmissionPolicyBinding {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: MutatingAdmissionPolicyBindingSpec,
}

/// `spec` of a MutatingAdmissionPolicyBinding.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MutatingAdmissionPolicyBindingSpec {
    /// `policyName`
    pub policy_name: Box<str>,
    /// `paramRef`; `None` when unset.
    pub param_ref: Option<ParamRef>,
}
