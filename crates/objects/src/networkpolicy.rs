//! NetworkPolicy (networking.k8s.io/v1).

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::Meta;

/// A NetworkPolicy as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NetworkPolicy {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: NetworkPolicySpec,
}

/// `spec` of a NetworkPolicy: only the number of rules is read, so rule bodies are skipped.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NetworkPolicySpec {
    /// `ingress` rules (contents skipped).
    pub ingress: Vec<IgnoredAny>,
    /// `egress` rules (contents skipped).
    pub egress: Vec<IgnoredAny>,
}
