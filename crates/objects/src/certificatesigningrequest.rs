//! CertificateSigningRequest (certificates.k8s.io/v1).

use serde::de::{Deserializer, Error};
use serde::Deserialize;

use crate::Meta;

/// A CertificateSigningRequest as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CertificateSigningRequest {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: CsrSpec,
    /// `status`
    pub status: CsrStatus,
}

/// `spec` of a CertificateSigningRequest.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CsrSpec {
    /// `spec.signerName`
    pub signer_name: Box<str>,
}

/// `status` of a CertificateSigningRequest.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrStatus {
    /// `status.conditions`: only the types are read.
    #[serde(deserialize_with = "crate::nullable::or_default")]
    pub conditions: Vec<CsrCondition>,
    /// Byte length of `status.certificate` once base64-decoded (0 until issued).
    #[serde(rename = "certificate", deserialize_with = "decoded_len")]
    pub certificate_len: usize,
}

/// One `status.conditions` entry of a CSR.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrCondition {
    /// `type`: `Approved`, `Denied`, `Failed`.
    #[serde(rename = "type")]
    pub type_: Box<str>,
}

/// The length of the bytes a standard-base64 JSON string encodes (how Go decodes `[]byte`),
/// without keeping them. A string that is not base64 fails the object, as it fails Go's
/// decoder.
fn decoded_len<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let Some(s) = Option::<std::borrow::Cow<'de, str>>::deserialize(d)? else {
        return Ok(0);
    };
    let data: Vec<u8> = s.bytes().filter(|c| !matches!(c, b'\r' | b'\n')).collect();
    let body = data
        .strip_suffix(b"==")
        .or_else(|| data.strip_suffix(b"="))
        .unwrap_or(&data);
    let valid = body
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/'));
    if !valid || data.len() % 4 != 0 || (body.len() % 4 == 1) {
        return Err(D::Error::custom("status.certificate is not base64"));
    }
    Ok(body.len() * 3 / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(json: &str) -> Result<usize, serde_json::Error> {
        serde_json::from_str::<CertificateSigningRequest>(json).map(|c| c.status.certificate_len)
    }

    #[test]
    fn certificate_length_is_decoded_length() {
        assert_eq!(len(r#"{"status":{"certificate":"YWJj"}}"#).unwrap(), 3);
        assert_eq!(len(r#"{"status":{"certificate":"YWI="}}"#).unwrap(), 2);
        assert_eq!(len(r#"{"status":{"certificate":"YQ=="}}"#).unwrap(), 1);
        assert_eq!(len(r#"{"status":{"certificate":""}}"#).unwrap(), 0);
        assert_eq!(len(r#"{"status":{"certificate":null}}"#).unwrap(), 0);
        assert_eq!(len(r#"{"status":{}}"#).unwrap(), 0);
        assert!(len(r#"{"status":{"certificate":"YQ"}}"#).is_err());
        assert!(len(r#"{"status":{"certificate":"Y*=="}}"#).is_err());
    }
}
