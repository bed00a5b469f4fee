//! ReplicationController (v1).

use serde::Deserialize;

use crate::Meta;

/// A ReplicationController as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplicationController {
    /// Object metadata.
    pub metadata: Meta,
}
