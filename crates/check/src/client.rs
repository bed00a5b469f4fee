//! HTTP client settings shared by scrape mode and the remote-write sink: TLS (a CA file, a
//! client certificate), bearer tokens (inline or from a file read per request, so a rotated
//! token is used) and basic auth.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

/// HTTP basic authentication.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password (or use `password_file`).
    #[serde(default)]
    pub password: Option<String>,
    /// A file holding the password, read again for every request.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// TLS settings of an `https://` endpoint.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of the CA certificates that sign the server's certificate; without it the
    /// system's roots are used.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (chain) presented to the server; needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

/// The trimmed contents of a secret file.
///
/// # Errors
/// The file cannot be read (the message names it).
pub fn read_secret(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("reading {}: {e}", path.display()))
}

/// Standard base64 with padding (basic auth needs nothing more).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `Authorization` value for a bearer token (inline or file) or basic auth, reading
/// files now; `None` without any.
///
/// # Errors
/// A file that cannot be read.
pub fn authorization(
    bearer_token: Option<&str>,
    bearer_token_file: Option<&Path>,
    basic_auth: Option<&BasicAuth>,
) -> Result<Option<String>, String> {
    if let Some(t) = bearer_token {
        return Ok(Some(format!("Bearer {t}")));
    }
    if let Some(f) = bearer_token_file {
        return Ok(Some(format!("Bearer {}", read_secret(f)?)));
    }
    if let Some(b) = basic_auth {
        let password = match (&b.password, &b.password_file) {
            (Some(p), _) => p.clone(),
            (None, Some(f)) => read_secret(f)?,
            (None, None) => String::new(),
        };
        let raw = format!("{}:{password}", b.username);
        return Ok(Some(format!("Basic {}", base64(raw.as_bytes()))));
    }
    Ok(None)
}

/// Checks that at most one authentication is set, that basic auth has one password source,
/// that secret files are readable and that a client certificate comes with its key.
///
/// # Errors
/// What to fix.
pub fn validate_auth(
    bearer_token: Option<&str>,
    bearer_token_file: Option<&Path>,
    basic_auth: Option<&BasicAuth>,
    tls: Option<&TlsConfig>,
) -> Result<(), String> {
    let set = [
        bearer_token.is_some(),
        bearer_token_file.is_some(),
        basic_auth.is_some(),
    ];
    if set.iter().filter(|a| **a).count() > 1 {
        return Err("set at most one of bearer_token, bearer_token_file and basic_auth".into());
    }
    if let Some(b) = basic_auth {
        if b.password.is_some() == b.password_file.is_some() {
            return Err("basic_auth needs exactly one of password and password_file".into());
        }
        if let Some(f) = &b.password_file {
            read_secret(f)?;
        }
    }
    if let Some(f) = bearer_token_file {
        read_secret(f)?;
    }
    if let Some(t) = tls {
        if t.cert_file.is_some() != t.key_file.is_some() {
            return Err("tls: cert_file and key_file go together".into());
        }
    }
    Ok(())
}

/// The rustls client configuration of `tls`: its CA file (else the system roots) and its
/// client certificate, if any.
///
/// # Errors
/// A file that cannot be read or holds no certificate or key.
pub fn tls_config(
    tls: &TlsConfig,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match &tls.ca_file {
        Some(ca) => {
            let certs = CertificateDer::pem_file_iter(ca)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("reading ca_file {}: {e}", ca.display()))?;
            if certs.is_empty() {
                return Err(format!("ca_file {} holds no certificate", ca.display()));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| format!("ca_file {}: {e}", ca.display()))?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("reading cert_file {}: {e}", cert.display()))?;
            if chain.is_empty() {
                return Err(format!("cert_file {} holds no certificate", cert.display()));
            }
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("reading key_file {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate: {e}"))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_values() {
        assert_eq!(authorization(None, None, None).unwrap(), None);
        let b = BasicAuth {
            username: "Aladdin".into(),
            password: Some("open sesame".into()),
            password_file: None,
        };
        assert_eq!(
            authorization(None, None, Some(&b)).unwrap().as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(
            authorization(Some("t"), None, None).unwrap().as_deref(),
            Some("Bearer t")
        );
        let e = validate_auth(Some("t"), None, Some(&b), None).unwrap_err();
        assert!(e.contains("at most one"), "{e}");
        let e = validate_auth(None, Some(Path::new("/nonexistent/token")), None, None).unwrap_err();
        assert!(e.contains("/nonexistent/token"), "{e}");
    }
}
