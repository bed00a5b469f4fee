//! HorizontalPodAutoscaler (autoscaling/v2).

use serde::Deserialize;

use crate::{Condition, Meta, Quantity};

/// A HorizontalPodAutoscaler as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HorizontalPodAutoscaler {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: HpaSpec,
    /// `status`
    pub status: HpaStatus,
}

/// `spec` of a HorizontalPodAutoscaler.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HpaSpec {
    /// `spec.scaleTargetRef`
    pub scale_target_ref: ScaleTargetRef,
    /// `spec.minReplicas` (`None` when unset; the API default is 1).
    pub min_replicas: Option<i64>,
    /// `spec.maxReplicas`
    pub max_replicas: i64,
    /// `spec.metrics`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub metrics: Vec<HpaMetric>,
    /// `spec.behavior`
    pub behavior: Option<HpaBehavior>,
}

/// `spec.scaleTargetRef` of a HorizontalPodAutoscaler.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ScaleTargetRef {
    /// `apiVersion`
    pub api_version: Box<str>,
    /// `kind`
    pub kind: Box<str>,
    /// `name`
    pub name: Box<str>,
}

/// `spec.behavior` of a HorizontalPodAutoscaler.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HpaBehavior {
    /// `scaleUp`
    pub scale_up: Option<HpaScalingRules>,
    /// `scaleDown`
    pub scale_down: Option<HpaScalingRules>,
}

/// `spec.behavior.scaleUp` / `scaleDown`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HpaScalingRules {
    /// `tolerance`
    pub tolerance: Option<Quantity>,
}

/// One entry of `spec.metrics` or `status.currentMetrics`: a type and the source of that type.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HpaMetric {
    /// `type`: `Object`, `Pods`, `Resource`, `ContainerResource` or `External`.
    #[serde(rename = "type")]
    pub type_: Box<str>,
    /// `object`
    pub object: Option<HpaMetricSource>,
    /// `pods`
    pub pods: Option<HpaMetricSource>,
    /// `resource`
    pub resource: Option<HpaMetricSource>,
    /// `containerResource`
    pub container_resource: Option<HpaMetricSource>,
    /// `external`
    pub external: Option<HpaMetricSource>,
}

/// A metric source of any type, spec or status side: each type fills the fields it has.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HpaMetricSource {
    /// `metric.name` (Object, Pods, External).
    pub metric: HpaMetricIdentifier,
    /// `name`: the resource name (Resource, ContainerResource).
    pub name: Box<str>,
    /// `container` (ContainerResource).
    pub container: Box<str>,
    /// `target` (spec side).
    pub target: HpaMetricValues,
    /// `current` (status side).
    pub current: HpaMetricValues,
}

/// `metric` of a metric source.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HpaMetricIdentifier {
    /// `name`
    pub name: Box<str>,
}

/// A metric target or current value: any of the three may be set.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HpaMetricValues {
    /// `value`
    pub value: Option<Quantity>,
    /// `averageValue`
    pub average_value: Option<Quantity>,
    /// `averageUtilization`
    pub average_utilization: Option<i64>,
}

/// `status` of a HorizontalPodAutoscaler.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HpaStatus {
    /// `status.currentReplicas`
    pub current_replicas: i64,
    /// `status.desiredReplicas`
    pub desired_replicas: i64,
    /// `status.currentMetrics`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub current_metrics: Vec<HpaMetric>,
    /// `status.conditions`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub conditions: Vec<Condition>,
}
