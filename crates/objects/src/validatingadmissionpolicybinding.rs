//! ValidatingAdmissionPolicyBinding (admissionregistration.k8s.io/v1), and the `paramRef`
//! shape it shares with MutatingAdmissionPolicyBinding.

use serde::Deserialize;

use crate::Meta;

/// A ValidatingAdmissionPolicyBinding as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValidatingAdmissionPolicyBinding {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: ValidatingAdmissionPolicyBindingSpec,
}

/// `spec` of a ValidatingAdmissionPolicyBinding.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ValidatingAdmissionPolicyBindingSpec {
    /// `policyName`
    pub policy_name: Box<str>,
    /// `paramRef`; `None` when unset.
    pub param_ref: Option<ParamRef>,
    /// `validationActions` (`Deny`, `Warn`, `Audit`), in order.
    pub validation_actions: Vec<Box<str>>,
}

/// `spec.paramRef` of an admission policy binding.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ParamRef {
    /// `name` (empty when a selector is used).
    pub name: Box<str>,
    /// `namespace`
    pub namespace: Box<str>,
    /// `parameterNotFoundAction`; `None` when unset.
    pub parameter_not_found_action: Option<Box<str>>,
}
