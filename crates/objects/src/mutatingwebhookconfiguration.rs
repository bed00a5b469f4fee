//! MutatingWebhookConfiguration (admissionregistration.k8s.io/v1).

use serde::Deserialize;

use crate::validatingwebhookconfiguration::Webhook;
use crate::Meta;

/// A MutatingWebhookConfiguration as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MutatingWebhookConfiguration {
    /// Object metadata.
    pub metadata: Meta,
    /// `webhooks`, in order.
    pub webhooks: Vec<Webhook>,
}
