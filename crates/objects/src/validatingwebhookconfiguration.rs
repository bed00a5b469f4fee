//! ValidatingWebhookConfiguration (admissionregistration.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A ValidatingWebhookConfiguration as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValidatingWebhookConfiguration {
    /// Object metadata.
    pub metadata: Meta,
}
