//! `--tls-config`: the Prometheus exporter-toolkit web configuration file, applied to both
//! servers (ksm-behaviour.md §2, §4): TLS with optional client certificates, basic-auth users
//! with bcrypt hashes, and extra response headers.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use parking_lot::Mutex;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Why a web configuration was rejected. Messages name the file, the key and the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebConfigError {
    /// The file could not be read.
    #[error("reading --tls-config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML does not follow the schema (unknown key, wrong type), with its location.
    #[error("--tls-config {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is not acceptable.
    #[error("--tls-config {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<TlsFile>,
    http_server_config: Option<HttpFile>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    #[serde(default)]
    cert_file: String,
    #[serde(default)]
    key_file: String,
    #[serde(default)]
    cert: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    client_auth_type: String,
    #[serde(default)]
    client_ca_file: String,
    #[serde(default)]
    client_ca: String,
    #[serde(default)]
    min_version: String,
    #[serde(default)]
    max_version: String,
    #[serde(default)]
    client_allowed_sans: Vec<String>,
    // Accepted for compatibility; rustls picks modern suites and curves itself.
    #[serde(default)]
    cipher_suites: Vec<String>,
    #[serde(default)]
    curve_preferences: Vec<String>,
    #[serde(default)]
    prefer_server_cipher_suites: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    #[serde(default)]
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// The security a web configuration asks for, ready to apply to connections and requests.
#[derive(Default)]
pub struct WebSecurity {
    /// TLS for every connection, when configured.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    users: BTreeMap<String, String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Outcomes of bcrypt checks, keyed by a SHA-256 of user, password and hash (never the
    /// password itself): bcrypt is slow on purpose, and neither a scraper every few seconds
    /// nor a client repeating a wrong password may make the exporter pay for it each time.
    checked: Mutex<CheckCache>,
    /// A bcrypt hash of a random password at the configured users' cost: unknown users are
    /// checked against it, so they cost what known users cost (no timing tells them apart).
    dummy: std::sync::OnceLock<String>,
    /// Files the configuration was read from (itself and the certificates it names), for
    /// reloading on change.
    files: Vec<PathBuf>,
}

/// The verdict on a request's credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthCheck {
    /// No users configured, or valid credentials.
    Allowed,
    /// Missing or wrong credentials: 401.
    Denied,
    /// Too many checks are queued: 429, the client should retry later.
    Busy,
}

/// Remembered bcrypt outcomes, bounded: at most [`CACHE_MAX`] of each kind, the oldest half
/// dropped when full.
#[derive(Default)]
struct CheckCache {
    ok: HashSet<[u8; 32]>,
    failed: HashSet<[u8; 32]>,
    failed_order: std::collections::VecDeque<[u8; 32]>,
}

/// Entries per kind in the bcrypt outcome cache.
const CACHE_MAX: usize = 4096;

/// bcrypt checks that may run at once (on the blocking pool, never on the async workers).
fn bcrypt_permits() -> &'static tokio::sync::Semaphore {
    static SEM: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SEM.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        tokio::sync::Semaphore::new(cores.div_ceil(2).max(1))
    })
}

/// Requests allowed to wait for a bcrypt check; more are answered 429 at once.
const BCRYPT_QUEUE: usize = 64;

static BCRYPT_WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Headers the exporter-toolkit lets a configuration set.
const ALLOWED_HEADERS: [&str; 5] = [
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "X-XSS-Protection",
    "Content-Security-Policy",
];

impl WebSecurity {
    /// Reads and validates a web configuration file (relative paths inside it are resolved
    /// against the file's directory).
    ///
    /// # Errors
    /// Unreadable file, unknown keys, unreadable certificates, or unsupported values.
    pub fn load(path: &Path) -> Result<WebSecurity, WebConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| WebConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        WebSecurity::parse(&text, path)
    }

    /// Validates a web configuration given as text; `path` names it in errors and anchors
    /// relative file names.
    ///
    /// # Errors
    /// As [`WebSecurity::load`].
    pub fn parse(text: &str, path: &Path) -> Result<WebSecurity, WebConfigError> {
        let invalid = |message: String| WebConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let file: File = if text.trim().is_empty() {
            File::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| WebConfigError::Syntax {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &str| {
            if Path::new(p).is_absolute() {
                PathBuf::from(p)
            } else {
                base.join(p)
            }
        };
        for (user, hash) in &file.basic_auth_users {
            if hash.parse::<bcrypt::HashParts>().is_err() {
                return Err(invalid(format!("basic_auth_users.{user}: the password must be a bcrypt hash (e.g. from `htpasswd -nBC 10 {user}`)")));
            }
        }
        let mut headers = Vec::new();
        if let Some(h) = &file.http_server_config {
            if h.http2 == Some(false) {
                tracing::info!(
                    "http_server_config.http2: false has no effect, kubestate serves HTTP/1.1"
                );
            }
            for (k, v) in &h.headers {
                let Some(allowed) = ALLOWED_HEADERS.iter().find(|a| a.eq_ignore_ascii_case(k))
                else {
                    return Err(invalid(format!(
                        "http_server_config.headers: {k:?} cannot be set; allowed: {}",
                        ALLOWED_HEADERS.join(", ")
                    )));
                };
                let name = HeaderName::from_bytes(allowed.to_ascii_lowercase().as_bytes())
                    .map_err(|_| {
                        invalid(format!("http_server_config.headers: bad header name {k:?}"))
                    })?;
                let value = HeaderValue::from_str(v).map_err(|_| {
                    invalid(format!(
                        "http_server_config.headers.{k}: not a valid header value"
                    ))
                })?;
                headers.push((name, value));
            }
        }
        let tls = match &file.tls_server_config {
            None => None,
            Some(t) => Some(Arc::new(tls_config(t, &resolve).map_err(invalid)?)),
        };
        if tls.is_none() && !file.basic_auth_users.is_empty() {
            tracing::warn!("basic auth without TLS sends passwords in clear text");
        }
        let mut files = vec![path.to_path_buf()];
        if let Some(t) = &file.tls_server_config {
            for f in [&t.cert_file, &t.key_file, &t.client_ca_file] {
                if !f.is_empty() {
                    files.push(resolve(f));
                }
            }
        }
        Ok(WebSecurity {
            tls,
            users: file.basic_auth_users,
            headers,
            checked: Mutex::default(),
            dummy: std::sync::OnceLock::new(),
            files,
        })
    }

    /// Whether requests must carry basic-auth credentials.
    pub fn requires_auth(&self) -> bool {
        !self.users.is_empty()
    }

    /// The files this configuration was read from: the file itself and the certificate, key
    /// and client CA files it names. A reload is due when one of them changes.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Checks an `Authorization` header value against the configured users.
    ///
    /// bcrypt runs on the blocking pool with bounded concurrency; an unknown user is checked
    /// against a dummy hash of the same cost; outcomes are remembered (bounded, keyed by a
    /// hash), so repeated credentials, right or wrong, cost one SHA-256.
    pub async fn check(&self, authorization: Option<&str>) -> AuthCheck {
        if self.users.is_empty() {
            return AuthCheck::Allowed;
        }
        let Some((user, password)) = authorization.and_then(decode_basic) else {
            return AuthCheck::Denied;
        };
        let hash = self.users.get(&user).cloned();
        let key = cache_key(&user, &password, hash.as_deref().unwrap_or(""));
        {
            let c = self.checked.lock();
            if c.ok.contains(&key) {
                return AuthCheck::Allowed;
            }
            if c.failed.contains(&key) {
                return AuthCheck::Denied;
            }
        }
        use std::sync::atomic::Ordering;
        if BCRYPT_WAITING.fetch_add(1, Ordering::AcqRel) >= BCRYPT_QUEUE {
            BCRYPT_WAITING.fetch_sub(1, Ordering::AcqRel);
            return AuthCheck::Busy;
        }
        let permit = bcrypt_permits().acquire().await;
        BCRYPT_WAITING.fetch_sub(1, Ordering::AcqRel);
        let Ok(_permit) = permit else {
            return AuthCheck::Denied;
        };
        let dummy_cost = self.cost();
        let against = match &hash {
            Some(h) => h.clone(),
            None => self.dummy.get_or_init(|| dummy_hash(dummy_cost)).clone(),
        };
        let known = hash.is_some();
        let ok = tokio::task::spawn_blocking(move || {
            bcrypt::verify(&password, &against).unwrap_or(false) && known
        })
        .await
        .unwrap_or(false);
        self.remember(key, ok);
        if ok {
            AuthCheck::Allowed
        } else {
            AuthCheck::Denied
        }
    }

    /// The synchronous form of [`WebSecurity::check`], for callers outside a runtime (bcrypt
    /// runs on the calling thread).
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        if self.users.is_empty() {
            return true;
        }
        let Some((user, password)) = authorization.and_then(decode_basic) else {
            return false;
        };
        let hash = self.users.get(&user);
        let key = cache_key(&user, &password, hash.map_or("", String::as_str));
        {
            let c = self.checked.lock();
            if c.ok.contains(&key) {
                return true;
            }
            if c.failed.contains(&key) {
                return false;
            }
        }
        let ok = match hash {
            Some(h) => bcrypt::verify(&password, h).unwrap_or(false),
            None => {
                let d = self.dummy.get_or_init(|| dummy_hash(self.cost()));
                let _ = bcrypt::verify(&password, d);
                false
            }
        };
        self.remember(key, ok);
        ok
    }

    /// The bcrypt cost of the configured users (the highest), for the dummy hash.
    fn cost(&self) -> u32 {
        self.users
            .values()
            .filter_map(|h| h.parse::<bcrypt::HashParts>().ok())
            .map(|p| p.get_cost())
            .max()
            .unwrap_or(bcrypt::DEFAULT_COST)
    }

    fn remember(&self, key: [u8; 32], ok: bool) {
        let mut c = self.checked.lock();
        if ok {
            if c.ok.len() >= CACHE_MAX {
                c.ok.clear();
            }
            c.ok.insert(key);
        } else {
            if c.failed_order.len() >= CACHE_MAX {
                for _ in 0..CACHE_MAX / 2 {
                    if let Some(old) = c.failed_order.pop_front() {
                        c.failed.remove(&old);
                    }
                }
            }
            if c.failed.insert(key) {
                c.failed_order.push_back(key);
            }
        }
    }

    /// The configured extra response headers.
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }
}

/// SHA-256 of user, password and hash, separated so no two triples collide.
fn cache_key(user: &str, password: &str, hash: &str) -> [u8; 32] {
    let mut d = Sha256::new();
    for part in [
        user.as_bytes(),
        b"\0",
        password.as_bytes(),
        b"\0",
        hash.as_bytes(),
    ] {
        d.update(part);
    }
    d.finalize().into()
}

/// A bcrypt hash of a random password at `cost`.
fn dummy_hash(cost: u32) -> String {
    let secret: [u8; 16] = rand_bytes();
    bcrypt::hash(secret, cost.clamp(4, 31))
        .unwrap_or_else(|_| "$2y$10$0000000000000000000000000000000000000000000000000000".into())
}

/// Random bytes from the standard library's per-process hasher keys (no extra dependency).
fn rand_bytes() -> [u8; 16] {
    use std::hash::{BuildHasher, Hasher};
    let mut out = [0u8; 16];
    for chunk in out.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x6b75_6265_7374_6174);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

fn decode_basic(value: &str) -> Option<(String, String)> {
    let b64 = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let raw = base64_decode(b64.trim())?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn tls_config(
    t: &TlsFile,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<rustls::ServerConfig, String> {
    let certs: Vec<CertificateDer<'static>> = match (t.cert_file.as_str(), t.cert.as_str()) {
        ("", "") => return Err("tls_server_config needs cert_file (or cert)".into()),
        (f, "") => CertificateDer::pem_file_iter(resolve(f))
            .map_err(|e| format!("tls_server_config.cert_file {f}: {e}"))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("tls_server_config.cert_file {f}: {e}"))?,
        (_, pem) => CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("tls_server_config.cert: {e}"))?,
    };
    if certs.is_empty() {
        return Err("tls_server_config: no certificate found in cert_file".into());
    }
    let key = match (t.key_file.as_str(), t.key.as_str()) {
        ("", "") => return Err("tls_server_config needs key_file (or key)".into()),
        (f, "") => PrivateKeyDer::from_pem_file(resolve(f))
            .map_err(|e| format!("tls_server_config.key_file {f}: {e}"))?,
        (_, pem) => PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| format!("tls_server_config.key: {e}"))?,
    };
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = {
        let rank = |v: &str, default: u8| -> Result<u8, String> {
            match v {
                "" => Ok(default),
                "TLS10" | "TLS11" => Err(format!("{v} is not supported (use TLS12 or TLS13)")),
                "TLS12" => Ok(12),
                "TLS13" => Ok(13),
                other => Err(format!(
                    "unknown TLS version {other:?} (use TLS12 or TLS13)"
                )),
            }
        };
        let lo = rank(&t.min_version, 12)?;
        let hi = rank(&t.max_version, 13)?;
        if lo > hi {
            return Err("tls_server_config: min_version is above max_version".into());
        }
        [(12, &rustls::version::TLS12), (13, &rustls::version::TLS13)]
            .into_iter()
            .filter(|(r, _)| (lo..=hi).contains(r))
            .map(|(_, v)| v)
            .collect()
    };
    if !t.cipher_suites.is_empty()
        || !t.curve_preferences.is_empty()
        || t.prefer_server_cipher_suites.is_some()
    {
        tracing::info!("tls_server_config cipher_suites/curve_preferences are accepted but rustls chooses modern defaults");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls_server_config: {e}"))?;
    let auth = if t.client_auth_type.is_empty() {
        "NoClientCert"
    } else {
        t.client_auth_type.as_str()
    };
    let roots = || -> Result<Arc<rustls::RootCertStore>, String> {
        let certs: Vec<CertificateDer<'static>> =
            match (t.client_ca_file.as_str(), t.client_ca.as_str()) {
                ("", "") => return Err(format!("client_auth_type {auth} needs client_ca_file")),
                (f, "") => CertificateDer::pem_file_iter(resolve(f))
                    .map_err(|e| format!("tls_server_config.client_ca_file {f}: {e}"))?
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("tls_server_config.client_ca_file {f}: {e}"))?,
                (_, pem) => CertificateDer::pem_slice_iter(pem.as_bytes())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("tls_server_config.client_ca: {e}"))?,
            };
        let mut store = rustls::RootCertStore::empty();
        for c in certs {
            store
                .add(c)
                .map_err(|e| format!("tls_server_config client CA: {e}"))?;
        }
        Ok(Arc::new(store))
    };
    if !t.client_allowed_sans.is_empty() {
        return Err("tls_server_config.client_allowed_sans is not supported yet; remove it".into());
    }
    let builder = match auth {
        "NoClientCert" => builder.with_no_client_auth(),
        "RequireAndVerifyClientCert" => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone())
                .build()
                .map_err(|e| format!("tls_server_config client CA: {e}"))?,
        ),
        "VerifyClientCertIfGiven" => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone())
                .allow_unauthenticated()
                .build()
                .map_err(|e| format!("tls_server_config client CA: {e}"))?,
        ),
        other => {
            return Err(format!(
                "client_auth_type {other:?} is not supported; use NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"
            ))
        }
    };
    let mut cfg = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("tls_server_config certificate/key: {e}"))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebSecurity, WebConfigError> {
        WebSecurity::parse(text, Path::new("/tmp/web.yml"))
    }

    #[test]
    fn empty_config_means_no_security() {
        let w = parse("").unwrap();
        assert!(w.tls.is_none() && !w.requires_auth() && w.authorized(None));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported_with_their_place() {
        let e = parse("tls_server_config:\n  cert_fil: x\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("cert_fil") && e.contains("line 2"), "{e}");
        let e = parse("basic_auth_users:\n  alice: plaintext\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("bcrypt"), "{e}");
        let e = parse("http_server_config:\n  headers:\n    Server: x\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("cannot be set"), "{e}");
        let e = parse(
            "tls_server_config:\n  cert_file: /nonexistent.pem\n  key_file: /nonexistent.key\n",
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("/nonexistent.pem"), "{e}");
    }

    #[test]
    fn basic_auth_checks_bcrypt_and_caches() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let w = parse(&format!("basic_auth_users:\n  alice: '{hash}'\n")).unwrap();
        let header = |u: &str, p: &str| {
            let raw = format!("{u}:{p}");
            format!("Basic {}", base64_encode(raw.as_bytes()))
        };
        assert!(w.authorized(Some(&header("alice", "s3cret"))));
        assert!(w.authorized(Some(&header("alice", "s3cret"))));
        assert!(!w.authorized(Some(&header("alice", "wrong"))));
        assert!(!w.authorized(Some(&header("bob", "s3cret"))));
        assert!(!w.authorized(None));
        assert!(!w.authorized(Some("Bearer x")));
    }

    fn base64_encode(b: &[u8]) -> String {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in b.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn base64_round_trip() {
        for s in ["", "a", "ab", "abc", "alice:s3cret", "ü:\u{1F600}"] {
            assert_eq!(
                base64_decode(&base64_encode(s.as_bytes())).unwrap(),
                s.as_bytes()
            );
        }
    }

    #[test]
    fn tls_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(dir.path().join("c.pem"), cert.cert.pem()).unwrap();
        std::fs::write(dir.path().join("k.pem"), cert.key_pair.serialize_pem()).unwrap();
        let cfg = dir.path().join("web.yml");
        std::fs::write(
            &cfg,
            "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  min_version: TLS13\n",
        )
        .unwrap();
        let w = WebSecurity::load(&cfg).unwrap();
        assert!(w.tls.is_some());
        std::fs::write(&cfg, "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  client_auth_type: RequireAndVerifyClientCert\n").unwrap();
        let e = WebSecurity::load(&cfg).err().unwrap().to_string();
        assert!(e.contains("client_ca_file"), "{e}");
    }
}
