//! ResourceQuota (v1).

use serde::Deserialize;

use crate::{Meta, ResourceList};

/// A ResourceQuota as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResourceQuota {
    /// Object metadata.
    pub metadata: Meta,
    /// `status`
    pub status: ResourceQuotaStatus,
}

/// `status` of a ResourceQuota.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResourceQuotaStatus {
    /// `hard`: enforced limits, by raw resource name.
    pub hard: ResourceList,
    /// `used`: current usage, by raw resource name.
    pub used: ResourceList,
}
