//! Scrape mode: the check's pipeline over the text of any KSM-compatible `/metrics` endpoint.
//!
//! The body is parsed with [`kubestate_metric::parse`] into one [`Snapshot`] holding a single
//! store (`scrape`) whose families are the body's families, in order, and one object with
//! every sample (there are no object boundaries in text). Joins therefore walk every series'
//! labels instead of sharing per-object lookups, which is the main cost difference with
//! embedded mode.

use std::sync::Arc;
use std::time::Duration;

use ahash::AHashMap;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use kubestate_metric::parse::{belongs, Event, ParseError, ParsedType, Parser, Syntax};
use kubestate_metric::{FamilyDesc, MetricType, Stability};
use kubestate_store::structured::{ObjectBuilder, Snapshot, Sym, Symbols};
use kubestate_store::StoreInfo;

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
            index: 0,
            families: families.into(),
        };
        Ok(Snapshot::from_stores(
            self.symbols.clone(),
            vec![(info, vec![b.build()])],
        ))
    }
}

/// Fetches a `/metrics` body over plain HTTP (what KSM serves by default), asking for the
/// text format, and returns it with the syntax its `Content-Type` announces.
///
/// # Errors
/// A bad URL, a failed request, an error status or a non-UTF-8 body.
pub async fn fetch(url: &str, timeout: Duration) -> Result<(String, Syntax), ScrapeError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| ScrapeError::Url {
            url: url.into(),
            why: e.to_string(),
        })?;
    if uri.scheme_str() != Some("http") {
        return Err(ScrapeError::Url {
            url: url.into(),
            why: "only http:// is supported for scraping".into(),
        });
    }
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<Bytes>>();
    let req = http::Request::get(uri)
        .header(http::header::ACCEPT, "text/plain;version=0.0.4")
        .body(Empty::new())
        .map_err(|e| ScrapeError::Url {
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
    let body = tokio::time::timeout(timeout, resp.into_body().collect())
        .await
        .map_err(|_| request_error(format!("body not complete within {timeout:?}")))?
        .map_err(|e| request_error(e.to_string()))?
        .to_bytes();
    let text =
        String::from_utf8(body.to_vec()).map_err(|_| ScrapeError::Utf8 { url: url.into() })?;
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
