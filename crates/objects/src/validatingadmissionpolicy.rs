//! ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1), and the `paramKind` shape it
//! shares with MutatingAdmissionPolicy.

use serde::Deserialize;

use crate::Meta;

/// A ValidatingAdmissionPolicy as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValidatingAdmissionPolicy {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: ValidatingAdmissionPolicySpec,
}

/// `spec` of a ValidatingAdmissionPolicy.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ValidatingAdmissionPolicySpec {
    /// `paramKind`; `None` when the policy takes no parameters.
    pub param_kind: Option<ParamKind>,
    /// `failurePolicy`; `None` when unset.
    pub failure_policy: Option<Box<str>>,
}

/// `spec.paramKind` of an admission policy.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ParamKind {
    /// `apiVersion`
    pub api_version: Box<str>,
    /// `kind`
    pub kind: Box<str>,
}
