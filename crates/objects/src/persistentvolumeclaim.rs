//! PersistentVolumeClaim (v1).

use serde::Deserialize;

use crate::{Condition, Meta, ResourceList};

/// A PersistentVolumeClaim as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PersistentVolumeClaim {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: ClaimSpec,
    /// `status`
    pub status: ClaimStatus,
}

/// `spec` of a claim.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClaimSpec {
    /// `spec.accessModes`, in order.
    pub access_modes: Vec<Box<str>>,
    /// `spec.resources`
    pub resources: ClaimResources,
    /// `spec.volumeName` (empty until bound).
    pub volume_name: Box<str>,
    /// `spec.storageClassName`; `None` when unset (KSM then reports "").
    pub storage_class_name: Option<Box<str>>,
    /// `spec.volumeMode`; `None` when unset.
    pub volume_mode: Option<Box<str>>,
}

/// `spec.resources` of a claim.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ClaimResources {
    /// `requests` (only `storage` is read).
    pub requests: ResourceList,
}

/// `status` of a claim.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ClaimStatus {
    /// `Pending`, `Bound`, `Lost` (empty when unset).
    pub phase: Box<str>,
    /// `status.conditions`, in order.
    pub conditions: Vec<Condition>,
}
