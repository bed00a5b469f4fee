//! ValidatingWebhookConfiguration (admissionregistration.k8s.io/v1), and the webhook shape it
//! shares with MutatingWebhookConfiguration.

use serde::Deserialize;

use crate::Meta;

/// A ValidatingWebhookConfiguration as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValidatingWebhookConfiguration {
    /// Object metadata.
    pub metadata: Meta,
    /// `webhooks`, in order.
    pub webhooks: Vec<Webhook>,
}

/// One `webhooks[]` entry (validating or mutating): only its name and where it is served.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Webhook {
    /// `name`
    pub name: Box<str>,
    /// `clientConfig`
    pub client_config: WebhookClientConfig,
}

/// `webhooks[].clientConfig`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WebhookClientConfig {
    /// `service`; `None` for URL-based webhooks.
    pub service: Option<WebhookService>,
}

/// `webhooks[].clientConfig.service`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WebhookService {
    /// Service name.
    pub name: Box<str>,
    /// Service namespace.
    pub namespace: Box<str>,
}
