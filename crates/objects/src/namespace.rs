//! Namespace (v1).

use serde::Deserialize;

use crate::{Condition, Meta};

/// A Namespace as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Namespace {
    /// Object metadata.
    pub metadata: Meta,
    /// `status`
    pub status: NamespaceStatus,
}

/// `status` of a Namespace.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NamespaceStatus {
    /// `Active` or `Terminating` (kept verbatim; empty when unset).
    pub phase: Box<str>,
    /// `status.conditions`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub conditions: Vec<Condition>,
}
