//! CertificateSigningRequest (certificates.k8s.io/v1).

use serde::Deserialize;

use crate::Meta;

/// A CertificateSigningRequest as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CertificateSigningRequest {
    /// Object metadata.
    pub metadata: Meta,
}
