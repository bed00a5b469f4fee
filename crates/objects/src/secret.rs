//! Secret (v1). The secret's data is never decoded.

use serde::Deserialize;

use crate::Meta;

/// A Secret as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Secret {
    /// Object metadata.
    pub metadata: Meta,
    /// `type`, e.g. `Opaque` or `kubernetes.io/tls` (kept verbatim).
    #[serde(rename = "type")]
    pub type_: Box<str>,
}
