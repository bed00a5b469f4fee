//! MutatingAdmissionPolicy (admissionregistration.k8s.io/v1).

use serde::Deserialize;

use crate::validatingadmissionpolicy::ParamKind;
use crate::Meta;

/// A MutatingAdmissionPolicy as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MutatingAdmissionPolicy {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: MutatingAdmissionPolicySpec,
}

/// `spec` of a MutatingAdmissionPolicy.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MutatingAdmissionPolicySpec {
    /// `paramKind`; `None` when the policy takes no parameters.
    pub param_kind: Option<ParamKind>,
    /// `failurePolicy`; `None` when unset.
    pub failure_policy: Option<Box<str>>,
    /// `reinvocationPolicy` (empty when unset).
    pub reinvocation_policy: Box<str>,
}
