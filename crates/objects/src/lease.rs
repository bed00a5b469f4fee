//! Lease (coordination.k8s.io/v1).

use serde::Deserialize;

use crate::{Meta, Time};

/// A Lease as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Lease {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: LeaseSpec,
}

/// `spec` of a Lease.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LeaseSpec {
    /// `holderIdentity`; `None` when unheld.
    pub holder_identity: Option<Box<str>>,
    /// `renewTime` (microsecond precision on the wire).
    pub renew_time: Option<Time>,
}
