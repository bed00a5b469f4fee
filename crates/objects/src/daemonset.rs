//! DaemonSet (apps/v1).

use serde::Deserialize;

use crate::Meta;

/// A DaemonSet as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DaemonSet {
    /// Object metadata.
    pub metadata: Meta,
    /// `status`
    pub status: DaemonSetStatus,
}

/// `status` of a DaemonSet.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DaemonSetStatus {
    /// `status.currentNumberScheduled`
    pub current_number_scheduled: i64,
    /// `status.desiredNumberScheduled`
    pub desired_number_scheduled: i64,
    /// `status.numberAvailable`
    pub number_available: i64,
    /// `status.numberMisscheduled`
    pub number_misscheduled: i64,
    /// `status.numberReady`
    pub number_ready: i64,
    /// `status.numberUnavailable`
    pub number_unavailable: i64,
    /// `status.observedGeneration`
    pub observed_generation: i64,
    /// `status.updatedNumberScheduled`
    pub updated_number_scheduled: i64,
}
