//! LimitRange (v1).

use serde::Deserialize;

use crate::{Meta, ResourceList};

/// A LimitRange as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LimitRange {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: LimitRangeSpec,
}

/// `spec` of a LimitRange.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LimitRangeSpec {
    /// `limits`, in order (Go writes an empty list as `null`).
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub limits: Vec<LimitRangeItem>,
}

/// One `spec.limits[]` entry: the constraints for one kind of object.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LimitRangeItem {
    /// `type` (`Container`, `Pod`, `PersistentVolumeClaim`).
    #[serde(rename = "type")]
    pub type_: Box<str>,
    /// `min`
    pub min: ResourceList,
    /// `max`
    pub max: ResourceList,
    /// `default`
    pub default: ResourceList,
    /// `defaultRequest`
    pub default_request: ResourceList,
    /// `maxLimitRequestRatio`
    pub max_limit_request_ratio: ResourceList,
}
