//! Job (batch/v1).

use serde::Deserialize;

use crate::{Condition, Meta, Time};

/// A Job as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Job {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: JobSpec,
    /// `status`
    pub status: JobStatus,
}

/// `spec` of a Job.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct JobSpec {
    /// `spec.parallelism`
    pub parallelism: Option<i64>,
    /// `spec.completions`
    pub completions: Option<i64>,
    /// `spec.activeDeadlineSeconds`
    pub active_deadline_seconds: Option<i64>,
}

/// `status` of a Job.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct JobStatus {
    /// `status.succeeded`
    pub succeeded: i64,
    /// `status.failed`
    pub failed: i64,
    /// `status.active`
    pub active: i64,
    /// `status.ready` (`None` when the controller has not set it).
    pub ready: Option<i64>,
    /// `status.startTime`
    pub start_time: Option<Time>,
    /// `status.completionTime`
    pub completion_time: Option<Time>,
    /// `status.conditions`
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub conditions: Vec<Condition>,
}
