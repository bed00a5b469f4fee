//! CronJob (batch/v1).

use serde::Deserialize;

use crate::Meta;

/// A CronJob as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CronJob {
    /// Object metadata.
    pub metadata: Meta,
}
