//! Scrape mode: the check's pipeline over the text of any KSM-compatible `/metrics` endpoint.
//!
//! The body is parsed with [`kubestate_metric::parse`] into one [`Snapshot`] holding a single
//! store (`scrape`) whose families are the body's families, in order, and one object with
//! every sample (there are no object boundaries in text). Joins therefore walk every series'
//! labels instead of sharing per-object lookups, which is the main cost difference with
//! embedded mode.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ahash::AHashMap;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use kubestate_metric::parse::{belongs, Event, ParseError, ParsedType, Parser, Syntax};
use kubestate_metric::{FamilyDesc, MetricType, Stability};
use kubestate_store::structured::{ObjectBuilder, Snapshot, Sym, Symbols};
use kubestate_store::StoreInfo;
use serde::Deserialize;

use crate::client::{BasicAuth, TlsConfig};

/// Where the in-cluster ServiceAccount token is mounted; used for `https://` URLs when no
/// other authentication is configured.
pub const SERVICE_ACCOUNT_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// `scrape:` of the check's configuration: one URL, or every setting.
///
/// ```yaml
/// scrape: http://ksm:8080/metrics
/// # or
/// scrape:
///   urls: [https://ksm-0.ksm:8443/metrics, https://ksm-1.ksm:8443/metrics]
///   tls: {ca_file: /etc/ksm/ca.pem, cert_file: /etc/ksm/client.pem, key_file: /etc/ksm/client.key}
///   bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token
///   gzip: true
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ScrapeConfig {
    /// The endpoints; their series are merged (the shards of a sharded KSM).
    pub urls: Vec<String>,
    /// TLS of `https://` URLs.
    pub tls: Option<TlsConfig>,
    /// `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
    /// A file holding the bearer token, read for every scrape. Default for `https://` URLs
    /// when no authentication is set: the in-cluster ServiceAccount token, if mounted.
    pub bearer_token_file: Option<PathBuf>,
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// Ask for gzip bodies (`Accept-Encoding: gzip`); on by default.
    pub gzip: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScrapeFields {
    urls: Vec<String>,
    #[serde(default)]
    tls: Option<TlsConfig>,
    #[serde(default)]
    bearer_token: Option<String>,
    #[serde(default)]
    bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    basic_auth: Option<BasicAuth>,
    #[serde(default = "yes")]
    gzip: bool,
}

const fn yes() -> bool {
    true
}

impl ScrapeConfig {
    /// `urls` with every other setting at its default.
    pub fn new(urls: Vec<String>) -> ScrapeConfig {
        ScrapeConfig {
            urls,
            tls: None,
            bearer_token: None,
            bearer_token_file: None,
            basic_auth: None,
            gzip: true,
        }
    }
}

impl<'de> Deserialize<'de> for ScrapeConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ScrapeConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a URL or a map with `urls:`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ScrapeConfig, E> {
                Ok(ScrapeConfig::new(vec![v.to_string()]))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ScrapeConfig, A::Error> {
                let f =
                    ScrapeFields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ScrapeConfig {
                    urls: f.urls,
                    tls: f.tls,
                    bearer_token: f.bearer_token,
                    bearer_token_file: f.bearer_token_file,
                    basic_auth: f.basic_auth,
                    gzip: f.gzip,
                })
            }
        }
        d.deserialize_any(V)
    }
}

type HttpsClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Empty<Bytes>,
>;

/// Fetches every URL of a [`ScrapeConfig`] with its TLS and authentication.
pub struct Scraper {
    config: ScrapeConfig,
    client: HttpsClient,
    uris: Vec<http::Uri>,
}

impl Scraper {
    /// Validates `config` (URLs, authentication, readable secret and certificate files) and
    /// builds the client.
    ///
    /// # Errors
    /// What to fix.
    pub fn new(mut config: ScrapeConfig) -> Result<Scraper, ScrapeError> {
        let bad = |why: String| ScrapeError::Url {
            url: config.urls.join(","),
            why,
        };
        if config.urls.is_empty() {
            return Err(bad("scrape: give at least one URL".into()));
        }
        let mut uris = Vec::new();
        for url in &config.urls {
            let uri: http::Uri =
                url.parse()
                    .map_err(|e: http::uri::InvalidUri| ScrapeError::Url {
                        url: url.clone(),
                        why: e.to_string(),
                    })?;
            if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
                return Err(ScrapeError::Url {
                    url: url.clone(),
                    why: "must be an http:// or https:// URL with a host".into(),
                });
            }
            uris.push(uri);
        }
        let https = uris.iter().any(|u| u.scheme_str() == Some("https"));
        if https
            && config.bearer_token.is_none()
            && config.bearer_token_file.is_none()
            && config.basic_auth.is_none()
            && Path::new(SERVICE_ACCOUNT_TOKEN).exists()
        {
            config.bearer_token_file = Some(SERVICE_ACCOUNT_TOKEN.into());
        }
        crate::client::validate_auth(
            config.bearer_token.as_deref(),
            config.bearer_token_file.as_deref(),
            config.basic_auth.as_ref(),
            config.tls.as_ref(),
        )
        .map_err(bad)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = crate::client::tls_config(&config.tls.clone().unwrap_or_default(), provider)
            .map_err(|e| bad(format!("tls: {e}")))?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        Ok(Scraper {
            config,
            client,
            uris,
        })
    }

    /// The settings in use (with the default ServiceAccount token filled in).
    pub fn config(&self) -> &ScrapeConfig {
        &self.config
    }

    /// Fetches every URL at once and parses the bodies into one snapshot, one store per
    /// URL. A single failing URL fails the whole scrape: a partial merge would silently miss
    /// a shard's series.
    ///
    /// # Errors
    /// The first URL that could not be fetched or parsed.
    pub async fn scrape(
        &self,
        source: &ScrapeSource,
        timeout: Duration,
    ) -> Result<Snapshot, ScrapeError> {
        let auth = crate::client::authorization(
            self.config.bearer_token.as_deref(),
            self.config.bearer_token_file.as_deref(),
            self.config.basic_auth.as_ref(),
        )
        .map_err(|why| ScrapeError::Request {
            url: self.config.urls.join(","),
            why,
        })?;
        let fetches = self.uris.iter().zip(&self.config.urls).map(|(uri, url)| {
            fetch_with(
                &self.client,
                uri.clone(),
                url,
                auth.as_deref(),
                self.config.gzip,
                timeout,
            )
        });
        let bodies = futures::future::join_all(fetches).await;
        let mut stores = Vec::with_capacity(bodies.len());
        for ((text, syntax), (i, url)) in bodies
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .zip(self.config.urls.iter().enumerate())
        {
            let store = source
                .store(&text, syntax, i)
                .map_err(|source| ScrapeError::Parse {
                    url: url.clone(),
                    source,
                })?;
            stores.push(store);
        }
        Ok(Snapshot::from_stores(source.symbols.clone(), stores))
    }
}

/// Why a scrape failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScrapeError {
    /// The URL is not usable.
    #[error("scrape URL {url:?} is not valid: {why}")]
    Url {
        /// The URL.
        url: String,
        /// Why.
        why: String,
    },
    /// The request failed (connection, timeout).
    #[error("requesting {url}: {why}")]
    Request {
        /// The URL.
        url: String,
        /// Why.
        why: String,
    },
    /// The endpoint answered with an error status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body is not UTF-8.
    #[error("the body of {url} is not UTF-8")]
    Utf8 {
        /// The URL.
        url: String,
    },
    /// The body is not valid exposition text.
    #[error("parsing the body of {url}")]
    Parse {
        /// The URL.
        url: String,
        /// The parse error.
        #[source]
        source: ParseError,
    },
}

fn metric_type(t: ParsedType) -> MetricType {
    match t {
        ParsedType::Counter => MetricType::Counter,
        ParsedType::Info => MetricType::Info,
        ParsedType::StateSet => MetricType::StateSet,
        _ => MetricType::Gauge,
    }
}

fn desc(name: &str) -> FamilyDesc {
    FamilyDesc {
        name: name.to_string(),
        help: String::new(),
        ty: MetricType::Gauge,
        stability: Stability::Alpha,
        deprecated_since: None,
    }
}

/// Turns exposition text into snapshots, interning names in the check's table.
pub struct ScrapeSource {
    symbols: Arc<Symbols>,
}

impl ScrapeSource {
    /// A source interning names in `symbols` (the check's, see [`crate::Check::symbols`]).
    pub fn new(symbols: Arc<Symbols>) -> ScrapeSource {
        ScrapeSource { symbols }
    }

    /// Parses `body` into a snapshot.
    ///
    /// # Errors
    /// The first malformed line.
    pub fn snapshot(&self, body: &str, syntax: Syntax) -> Result<Snapshot, ParseError> {
        let store = self.store(body, syntax, 0)?;
        Ok(Snapshot::from_stores(self.symbols.clone(), vec![store]))
    }

    /// Parses `body` into the store at position `index` of a merged snapshot.
    fn store(
        &self,
        body: &str,
        syntax: Syntax,
        index: usize,
    ) -> Result<(StoreInfo, Vec<kubestate_store::structured::Object>), ParseError> {
        let mut families: Vec<FamilyDesc> = Vec::new();
        let mut b = ObjectBuilder::new();
        let mut names: AHashMap<&str, Sym> = AHashMap::new();
        // Starts a new family unless the current one is `name`.
        fn family<'f>(
            families: &'f mut Vec<FamilyDesc>,
            b: &mut ObjectBuilder,
            name: &str,
        ) -> &'f mut FamilyDesc {
            if families.last().is_none_or(|f| f.name != name) {
                families.push(desc(name));
                b.begin_family();
            }
            let last = families.len() - 1;
            &mut families[last]
        }
        for ev in Parser::new(body, syntax) {
            match ev? {
                Event::Help { name, help } => {
                    let f = family(&mut families, &mut b, name);
                    match help.strip_prefix("[STABLE] ") {
                        Some(h) => {
                            f.stability = Stability::Stable;
                            f.help = h.to_string();
                        }
                        None => f.help = help.into_owned(),
                    }
                }
                Event::Type { name, ty } => {
                    family(&mut families, &mut b, name).ty = metric_type(ty);
                }
                Event::Unit { .. } | Event::Eof => {}
                Event::Sample(s) => {
                    if families.last().is_none_or(|f| !belongs(&f.name, s.name)) {
                        family(&mut families, &mut b, s.name);
                    }
                    b.begin_sample();
                    for (k, v) in s.labels() {
                        let k = *names.entry(k).or_insert_with(|| self.symbols.intern(k));
                        b.label(k, &v);
                    }
                    b.finish_sample(s.value);
                }
            }
        }
        let info = StoreInfo {
            resource: "scrape".into(),
            namespace: None,
            index,
            families: families.into(),
        };
        Ok((info, vec![b.build()]))
    }
}

/// Fetches a `/metrics` body over plain HTTP without authentication, asking for the text
/// format, and returns it with the syntax its `Content-Type` announces (see [`Scraper`] for
/// https, authentication, gzip and several URLs).
///
/// # Errors
/// A bad URL, a failed request, an error status or a non-UTF-8 body.
pub async fn fetch(url: &str, timeout: Duration) -> Result<(String, Syntax), ScrapeError> {
    let scraper = Scraper::new(ScrapeConfig {
        gzip: false,
        ..ScrapeConfig::new(vec![url.to_string()])
    })?;
    fetch_with(
        &scraper.client,
        scraper.uris[0].clone(),
        url,
        None,
        false,
        timeout,
    )
    .await
}

async fn fetch_with(
    client: &HttpsClient,
    uri: http::Uri,
    url: &str,
    auth: Option<&str>,
    gzip: bool,
    timeout: Duration,
) -> Result<(String, Syntax), ScrapeError> {
    let mut req = http::Request::get(uri).header(http::header::ACCEPT, "text/plain;version=0.0.4");
    if gzip {
        req = req.header(http::header::ACCEPT_ENCODING, "gzip");
    }
    if let Some(a) = auth {
        req = req.header(http::header::AUTHORIZATION, a);
    }
    let req = req.body(Empty::new()).map_err(|e| ScrapeError::Url {
        url: url.into(),
        why: e.to_string(),
    })?;
    let request_error = |why: String| ScrapeError::Request {
        url: url.into(),
        why,
    };
    let resp = tokio::time::timeout(timeout, client.request(req))
        .await
        .map_err(|_| request_error(format!("no answer within {timeout:?}")))?
        .map_err(|e| request_error(with_sources(&e)))?;
    if !resp.status().is_success() {
        return Err(ScrapeError::Status {
            url: url.into(),
            status: resp.status().as_u16(),
        });
    }
    let syntax = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map_or(Syntax::Text, Syntax::from_content_type);
    let gzipped = resp
        .headers()
        .get(http::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let body = tokio::time::timeout(timeout, resp.into_body().collect())
        .await
        .map_err(|_| request_error(format!("body not complete within {timeout:?}")))?
        .map_err(|e| request_error(e.to_string()))?
        .to_bytes();
    let body = if gzipped {
        use std::io::Read as _;
        let mut out = Vec::with_capacity(body.len() * 8);
        flate2::read::MultiGzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .map_err(|e| request_error(format!("gzip body: {e}")))?;
        out
    } else {
        body.to_vec()
    };
    let text = String::from_utf8(body).map_err(|_| ScrapeError::Utf8 { url: url.into() })?;
    Ok((text, syntax))
}

/// An error and its causes on one line (hyper's own message is only "client error (Connect)").
fn with_sources(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// Fetches and parses in one step.
///
/// # Errors
/// See [`fetch`]; a malformed body.
pub async fn scrape(
    source: &ScrapeSource,
    url: &str,
    timeout: Duration,
) -> Result<Snapshot, ScrapeError> {
    let (text, syntax) = fetch(url, timeout).await?;
    source
        .snapshot(&text, syntax)
        .map_err(|source| ScrapeError::Parse {
            url: url.into(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot endpoint answering with `body` gzipped; returns its URL and the request
    /// head it received.
    async fn gzip_endpoint(body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        use std::io::Write as _;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap();
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(body.as_bytes()).unwrap();
            let z = gz.finish().unwrap();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                z.len()
            );
            s.write_all(head.as_bytes()).await.unwrap();
            s.write_all(&z).await.unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        (format!("http://{addr}/metrics"), task)
    }

    #[tokio::test]
    async fn gzip_bodies_are_asked_for_and_decoded_and_urls_merged() {
        let (a, ta) =
            gzip_endpoint("# TYPE kube_pod_info gauge\nkube_pod_info{pod=\"a\"} 1\n").await;
        let (b, tb) =
            gzip_endpoint("# TYPE kube_pod_info gauge\nkube_pod_info{pod=\"b\"} 1\n").await;
        let mut config = ScrapeConfig::new(vec![a, b]);
        config.bearer_token = Some("t0k".into());
        let scraper = Scraper::new(config).unwrap();
        let source = ScrapeSource::new(Arc::new(Symbols::new()));
        let snap = scraper
            .scrape(&source, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(snap.series_count(), 2);
        assert_eq!(snap.stores().count(), 2, "one store per URL");
        for t in [ta, tb] {
            let head = t.await.unwrap().to_ascii_lowercase();
            assert!(head.contains("accept-encoding: gzip"), "{head}");
            assert!(head.contains("authorization: bearer t0k"), "{head}");
        }
    }

    #[test]
    fn scrape_is_a_url_or_a_map() {
        #[derive(Deserialize)]
        struct W {
            scrape: ScrapeConfig,
        }
        let w: W = serde_yaml::from_str("scrape: http://ksm:8080/metrics\n").unwrap();
        assert_eq!(
            w.scrape,
            ScrapeConfig::new(vec!["http://ksm:8080/metrics".into()])
        );
        let w: W = serde_yaml::from_str(
            "scrape:\n  urls: [https://a/metrics, https://b/metrics]\n  gzip: false\n  bearer_token: x\n",
        )
        .unwrap();
        assert_eq!(w.scrape.urls.len(), 2);
        assert!(!w.scrape.gzip);
        let e = serde_yaml::from_str::<W>("scrape:\n  url: https://a/metrics\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("url"), "{e}");
        assert!(Scraper::new(ScrapeConfig::new(vec!["ftp://x/metrics".into()])).is_err());
        assert!(Scraper::new(ScrapeConfig::new(Vec::new())).is_err());
    }
}
