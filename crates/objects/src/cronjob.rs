//! CronJob (batch/v1).

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::{Meta, Time};

/// A CronJob as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CronJob {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: CronJobSpec,
    /// `status`
    pub status: CronJobStatus,
}

/// `spec` of a CronJob.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CronJobSpec {
    /// `spec.schedule`
    pub schedule: Box<str>,
    /// `spec.timeZone` (`None` when unset: the controller's local zone).
    pub time_zone: Option<Box<str>>,
    /// `spec.concurrencyPolicy`
    pub concurrency_policy: Box<str>,
    /// `spec.suspend`
    pub suspend: Option<bool>,
    /// `spec.startingDeadlineSeconds`
    pub starting_deadline_seconds: Option<i64>,
    /// `spec.successfulJobsHistoryLimit`
    pub successful_jobs_history_limit: Option<i64>,
    /// `spec.failedJobsHistoryLimit`
    pub failed_jobs_history_limit: Option<i64>,
}

/// `status` of a CronJob.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CronJobStatus {
    /// `status.active`: only its length is read.
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub active: Vec<IgnoredAny>,
    /// `status.lastScheduleTime`
    pub last_schedule_time: Option<Time>,
    /// `status.lastSuccessfulTime`
    pub last_successful_time: Option<Time>,
}
