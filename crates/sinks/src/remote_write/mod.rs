//! The `remote_write` sink: Prometheus remote-write 1.0.
//!
//! On the run's thread, series are encoded straight into a protobuf `WriteRequest`
//! ([`proto::Encoder`]); every `max_samples_per_request` series the request is compressed
//! (snappy block format) and put on a bounded queue of `queue_capacity` requests. Sender tasks
//! ([`sender`]) post them with `Content-Encoding: snappy`,
//! `Content-Type: application/x-protobuf` and `X-Prometheus-Remote-Write-Version: 0.1.0`,
//! retry 5xx, 429 and connection errors with exponential backoff (`min_backoff` doubling up
//! to `max_backoff`, at most `max_retries` times) and give up at once on other 4xx. Nothing
//! is dropped silently: a full queue, a rejected request or exhausted retries add the
//! request's samples to `kubestate_check_remote_write_samples_dropped_total{reason=…}` and
//! log at `error`.

pub mod disk;
pub mod proto;
pub mod sender;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kubestate_check::{OutSeries, RunStats};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::{is_label_name, prometheus_name, Sent, Sink, SinkError};
pub use kubestate_check::client::{BasicAuth, TlsConfig};
pub use sender::{Batch, Delivery, RemoteWriteStats, Senders};

const fn default_max_samples() -> usize {
    2_000
}
const fn default_queue() -> usize {
    256
}
const fn default_retries() -> u32 {
    5
}
fn default_min_backoff() -> Duration {
    Duration::from_millis(100)
}
fn default_max_backoff() -> Duration {
    Duration::from_secs(5)
}
fn default_timeout() -> Duration {
    Duration::from_secs(30)
}
const fn default_concurrency() -> usize {
    1
}
const fn yes() -> bool {
    true
}

/// Settings of the `remote_write` sink.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RemoteWriteConfig {
    /// Receiver URL: Prometheus `http://host:9090/api/v1/write` (with
    /// `--web.enable-remote-write-receiver`), VictoriaMetrics `http://host:8428/api/v1/write`.
    pub endpoint: String,
    /// Series per request (each series has one sample).
    #[serde(default = "default_max_samples")]
    pub max_samples_per_request: usize,
    /// Requests waiting to be sent; when full, new requests are dropped and counted.
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
    /// Retries of a request after a 5xx, 429 or connection error.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// First retry delay; doubled at each retry.
    #[serde(
        default = "default_min_backoff",
        deserialize_with = "kubestate_check::config::deserialize_duration"
    )]
    pub min_backoff: Duration,
    /// Largest retry delay.
    #[serde(
        default = "default_max_backoff",
        deserialize_with = "kubestate_check::config::deserialize_duration"
    )]
    pub max_backoff: Duration,
    /// Time limit of one request.
    #[serde(
        default = "default_timeout",
        deserialize_with = "kubestate_check::config::deserialize_duration"
    )]
    pub timeout: Duration,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Extra request headers (e.g. `Authorization`, `X-Scope-OrgID`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Make metric and label names Prometheus-safe (`kubernetes_state.pod.count` →
    /// `kubernetes_state_pod_count`).
    #[serde(default = "yes")]
    pub sanitize_names: bool,
    /// `Authorization: Bearer <token>` on every request.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// A file holding the bearer token, read again for every request (so a rotated
    /// ServiceAccount token is picked up).
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    /// HTTP basic authentication.
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// TLS settings of an `https://` endpoint.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Labels added to every series that does not already have them (as Prometheus'
    /// `external_labels`, e.g. `{cluster: prod-eu}`).
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    /// A directory for a durable queue: requests are written there before they are sent,
    /// retried without limit while the receiver is unreachable, and replayed after a
    /// restart. Without it the queue is in memory (`queue_capacity` requests).
    #[serde(default)]
    pub queue_dir: Option<PathBuf>,
    /// Bound of `queue_dir` in bytes (compressed requests); the oldest requests are evicted
    /// beyond it.
    #[serde(default = "default_queue_bytes")]
    pub queue_max_bytes: u64,
}

const fn default_queue_bytes() -> u64 {
    256 << 20
}

impl RemoteWriteConfig {
    /// A configuration with every default for `endpoint`.
    pub fn new(endpoint: impl Into<String>) -> RemoteWriteConfig {
        RemoteWriteConfig {
            endpoint: endpoint.into(),
            max_samples_per_request: default_max_samples(),
            queue_capacity: default_queue(),
            max_retries: default_retries(),
            min_backoff: default_min_backoff(),
            max_backoff: default_max_backoff(),
            timeout: default_timeout(),
            concurrency: default_concurrency(),
            headers: BTreeMap::new(),
            sanitize_names: true,
            bearer_token: None,
            bearer_token_file: None,
            basic_auth: None,
            tls: None,
            external_labels: BTreeMap::new(),
            queue_dir: None,
            queue_max_bytes: default_queue_bytes(),
        }
    }

    /// Pure checks only (no sockets): the endpoint is an http(s) URL, sizes are positive,
    /// headers are valid.
    ///
    /// # Errors
    /// What to fix.
    pub fn validate(&self) -> Result<http::Uri, SinkError> {
        let bad = |message: String| SinkError::Config {
            sink: "remote_write",
            message,
        };
        let uri: http::Uri = self
            .endpoint
            .parse()
            .map_err(|e| bad(format!("endpoint {:?} is not a URL: {e}", self.endpoint)))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(bad(format!(
                "endpoint {:?} must be an http:// or https:// URL with a host",
                self.endpoint
            )));
        }
        for (what, v) in [
            ("max_samples_per_request", self.max_samples_per_request),
            ("queue_capacity", self.queue_capacity),
            ("concurrency", self.concurrency),
        ] {
            if v == 0 {
                return Err(bad(format!("{what} must be at least 1")));
            }
        }
        if self.min_backoff > self.max_backoff {
            return Err(bad("min_backoff must not exceed max_backoff".into()));
        }
        for (k, v) in &self.headers {
            http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| bad(format!("header name {k:?} is not valid")))?;
            http::HeaderValue::from_str(v)
                .map_err(|_| bad(format!("header {k:?} has a value that is not valid")))?;
        }
        if self
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization"))
            && (self.bearer_token.is_some()
                || self.bearer_token_file.is_some()
                || self.basic_auth.is_some())
        {
            return Err(bad(
                "set at most one of bearer_token, bearer_token_file, basic_auth and an Authorization header"
                    .into(),
            ));
        }
        kubestate_check::client::validate_auth(
            self.bearer_token.as_deref(),
            self.bearer_token_file.as_deref(),
            self.basic_auth.as_ref(),
            self.tls.as_ref(),
        )
        .map_err(bad)?;
        if self.tls.is_some() && uri.scheme_str() != Some("https") {
            return Err(bad("tls is set but the endpoint is not https://".into()));
        }
        if self.queue_max_bytes == 0 {
            return Err(bad("queue_max_bytes must be at least 1".into()));
        }
        for k in self.external_labels.keys() {
            if !is_label_name(k) || k.starts_with("__") {
                return Err(bad(format!(
                    "external_labels: {k:?} is not a label name (letters, digits and _, not starting with a digit or __)"
                )));
            }
        }
        Ok(uri)
    }

    /// The `Authorization` header value of the next request, reading token and password
    /// files now.
    ///
    /// # Errors
    /// A file that cannot be read.
    pub fn authorization(&self) -> Result<Option<String>, String> {
        kubestate_check::client::authorization(
            self.bearer_token.as_deref(),
            self.bearer_token_file.as_deref(),
            self.basic_auth.as_ref(),
        )
    }

    /// The delay before retry number `attempt` (0-based): `min_backoff × 2^attempt`, at most
    /// `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(30));
        self.min_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Where requests wait for a sender.
enum Queue {
    /// A bounded channel (`queue_capacity` requests).
    Memory(mpsc::Sender<Batch>),
    /// Files in `queue_dir`.
    Disk(Arc<disk::DiskQueue>),
}

/// The output half: encodes series into requests and queues them for the senders.
pub struct RemoteWrite {
    config: RemoteWriteConfig,
    encoder: proto::Encoder,
    queue: Queue,
    stats: Arc<RemoteWriteStats>,
    name: String,
    labels: Vec<(String, String)>,
    order: Vec<usize>,
    queued: u64,
    dropped: u64,
}

impl RemoteWrite {
    /// Validates `config` and starts its senders on the current tokio runtime.
    ///
    /// # Errors
    /// An invalid setting.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(config: &RemoteWriteConfig) -> Result<(RemoteWrite, Senders), SinkError> {
        let uri = config.validate()?;
        let stats = Arc::new(RemoteWriteStats::new(&config.endpoint));
        let (queue, senders) = match &config.queue_dir {
            None => {
                let (tx, rx) = mpsc::channel(config.queue_capacity);
                let senders = Senders::spawn(config.clone(), uri, rx, stats.clone())?;
                (Queue::Memory(tx), senders)
            }
            Some(dir) => {
                let q = Arc::new(
                    disk::DiskQueue::open(
                        dir,
                        config.queue_max_bytes,
                        stats.clone(),
                        &config.endpoint,
                    )
                    .map_err(|e| SinkError::Io {
                        path: dir.display().to_string(),
                        source: e,
                    })?,
                );
                let senders = Senders::spawn_disk(config.clone(), uri, q.clone(), stats.clone())?;
                (Queue::Disk(q), senders)
            }
        };
        Ok((
            RemoteWrite {
                config: config.clone(),
                encoder: proto::Encoder::new(),
                queue,
                stats,
                name: String::new(),
                labels: Vec::new(),
                order: Vec::new(),
                queued: 0,
                dropped: 0,
            },
            senders,
        ))
    }

    /// The counters of this sink.
    pub fn stats(&self) -> &Arc<RemoteWriteStats> {
        &self.stats
    }

    fn flush(&mut self) {
        if self.encoder.is_empty() {
            return;
        }
        let samples = self.encoder.series() as u64;
        let raw = self.encoder.take();
        let body = match proto::compress(&raw) {
            Ok(b) => b,
            Err(e) => {
                self.drop_batch(samples, "encode", &e.to_string());
                return;
            }
        };
        let tx = match &self.queue {
            Queue::Memory(tx) => tx,
            Queue::Disk(q) => {
                match q.push(&body, samples) {
                    Ok(()) => self.queued += samples,
                    Err(e) => {
                        self.drop_batch(samples, "encode", &format!("writing to queue_dir: {e}"))
                    }
                }
                return;
            }
        };
        let batch = Batch {
            body: body.into(),
            samples,
        };
        match tx.try_send(batch) {
            Ok(()) => {
                self.stats.queued(samples);
                self.queued += samples;
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.drop_batch(samples, "queue_full", "the send queue is full")
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.drop_batch(samples, "closed", "the senders have stopped")
            }
        }
    }

    fn drop_batch(&mut self, samples: u64, reason: &'static str, why: &str) {
        self.stats.drop_logged(reason, samples, why);
        self.dropped += samples;
    }
}

impl Sink for RemoteWrite {
    fn name(&self) -> &'static str {
        "remote_write"
    }

    fn begin(&mut self, _timestamp_ms: i64) {
        self.queued = 0;
        self.dropped = 0;
    }

    fn series(&mut self, s: &OutSeries<'_>) {
        if self.config.sanitize_names {
            prometheus_name(s.name, &mut self.name);
        } else {
            self.name.clear();
            self.name.push_str(s.name);
        }
        // One value per key (the series' own first), sorted by name, `__name__` included.
        self.order.clear();
        self.order.extend(0..s.labels.len());
        self.order
            .sort_by(|a, b| s.labels[*a].0.cmp(s.labels[*b].0));
        self.order.dedup_by(|b, a| s.labels[*a].0 == s.labels[*b].0);
        let clean = !self.config.sanitize_names || s.labels.iter().all(|(k, _)| is_label_name(k));
        if clean {
            // Fast path: no allocation, labels borrowed from the run.
            let it = Sorted {
                name: &self.name,
                labels: s.labels,
                order: &self.order,
                i: 0,
                name_done: false,
            };
            let it = External::new(it, &self.config.external_labels);
            self.encoder.push(it, s.value, s.timestamp_ms);
        } else {
            self.labels.clear();
            self.labels.push(("__name__".into(), self.name.clone()));
            for &i in &self.order {
                let (k, v) = s.labels[i];
                let mut key = String::new();
                prometheus_name(k, &mut key);
                self.labels.push((key.replace(':', "_"), v.to_string()));
            }
            self.labels.sort_by(|a, b| a.0.cmp(&b.0));
            self.labels.dedup_by(|b, a| a.0 == b.0);
            let it = self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            let it = External::new(it, &self.config.external_labels);
            self.encoder.push(it, s.value, s.timestamp_ms);
        }
        if self.encoder.series() >= self.config.max_samples_per_request {
            self.flush();
        }
    }

    fn finish(&mut self, _stats: &RunStats) -> Result<Sent, SinkError> {
        self.flush();
        Ok(Sent {
            series: self.queued,
            dropped: self.dropped,
            queued: self.stats.pending(),
        })
    }
}

/// A series' labels in name order with `__name__` merged in at its place.
#[derive(Clone)]
struct Sorted<'a> {
    name: &'a str,
    labels: &'a [(&'a str, &'a str)],
    order: &'a [usize],
    i: usize,
    name_done: bool,
}

impl<'a> Iterator for Sorted<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let next = self.order.get(self.i).map(|&j| self.labels[j]);
            if !self.name_done && next.is_none_or(|(k, _)| k > "__name__") {
                self.name_done = true;
                return Some(("__name__", self.name));
            }
            let l = next?;
            self.i += 1;
            if l.0 != "__name__" {
                return Some(l);
            }
        }
    }
}

/// A series' sorted labels merged with the sorted external labels it does not have.
#[derive(Clone)]
struct External<'a, I: Iterator<Item = (&'a str, &'a str)> + Clone> {
    inner: std::iter::Peekable<I>,
    ext: std::iter::Peekable<std::collections::btree_map::Iter<'a, String, String>>,
}

impl<'a, I: Iterator<Item = (&'a str, &'a str)> + Clone> External<'a, I> {
    fn new(inner: I, ext: &'a BTreeMap<String, String>) -> Self {
        External {
            inner: inner.peekable(),
            ext: ext.iter().peekable(),
        }
    }
}

impl<'a, I: Iterator<Item = (&'a str, &'a str)> + Clone> Iterator for External<'a, I> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let ext_key = self.ext.peek().map(|(k, _)| k.as_str());
        match (self.inner.peek().map(|l| l.0), ext_key) {
            (_, None) => self.inner.next(),
            (Some(i), Some(e)) if i < e => self.inner.next(),
            (Some(i), Some(e)) if i == e => {
                // The series' own label wins.
                self.ext.next();
                self.inner.next()
            }
            _ => self.ext.next().map(|(k, v)| (k.as_str(), v.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_labels_merge_in_order_and_never_override() {
        let ext: BTreeMap<String, String> = [("cluster", "prod"), ("a", "x"), ("zone", "z1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let series = [("__name__", "m"), ("b", "1"), ("cluster", "own")];
        let got: Vec<_> = External::new(series.iter().copied(), &ext).collect();
        assert_eq!(
            got,
            vec![
                ("__name__", "m"),
                ("a", "x"),
                ("b", "1"),
                ("cluster", "own"),
                ("zone", "z1")
            ]
        );
        let none = BTreeMap::new();
        assert_eq!(External::new(series.iter().copied(), &none).count(), 3);
    }

    #[test]
    fn authorization_headers() {
        let mut c = RemoteWriteConfig::new("https://127.0.0.1:1/api/v1/write");
        assert_eq!(c.authorization().unwrap(), None);
        c.basic_auth = Some(BasicAuth {
            username: "Aladdin".into(),
            password: Some("open sesame".into()),
            password_file: None,
        });
        assert_eq!(
            c.authorization().unwrap().as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        c.validate().unwrap();
        c.bearer_token = Some("t".into());
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("at most one of"));
        c.basic_auth = None;
        assert_eq!(c.authorization().unwrap().as_deref(), Some("Bearer t"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("token");
        std::fs::write(&f, "rotated\n").unwrap();
        c.bearer_token = None;
        c.bearer_token_file = Some(f.clone());
        assert_eq!(
            c.authorization().unwrap().as_deref(),
            Some("Bearer rotated")
        );
        std::fs::write(&f, "again").unwrap();
        assert_eq!(c.authorization().unwrap().as_deref(), Some("Bearer again"));
        c.bearer_token_file = Some(dir.path().join("missing"));
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
        c.bearer_token_file = None;
        c.external_labels.insert("__x".into(), "y".into());
        assert!(c.validate().unwrap_err().to_string().contains("__x"));
        c.external_labels.clear();
        c.tls = Some(TlsConfig {
            cert_file: Some("/c.pem".into()),
            ..TlsConfig::default()
        });
        assert!(c.validate().unwrap_err().to_string().contains("key_file"));
        c.tls = Some(TlsConfig::default());
        c.endpoint = "http://127.0.0.1:1/api/v1/write".into();
        assert!(c.validate().unwrap_err().to_string().contains("not https"));
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let mut c = RemoteWriteConfig::new("http://127.0.0.1:1/api/v1/write");
        c.min_backoff = Duration::from_millis(100);
        c.max_backoff = Duration::from_secs(1);
        let d: Vec<u128> = (0..6).map(|a| c.backoff(a).as_millis()).collect();
        assert_eq!(d, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(c.backoff(1000), Duration::from_secs(1));
    }

    #[test]
    fn validation_says_what_to_fix() {
        let mut c = RemoteWriteConfig::new("ftp://x/y");
        assert!(c.validate().unwrap_err().to_string().contains("http://"));
        c.endpoint = "http://127.0.0.1:9/api/v1/write".into();
        c.max_samples_per_request = 0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_samples_per_request"));
        c.max_samples_per_request = 1;
        c.headers.insert("bad header".into(), "x".into());
        assert!(c.validate().is_err());
    }

    #[test]
    fn labels_are_sorted_with_the_name_in_place() {
        let labels = [
            ("zone", "a"),
            ("Upper", "u"),
            ("__name__", "ignored"),
            ("a", "1"),
        ];
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.sort_by(|a, b| labels[*a].0.cmp(labels[*b].0));
        let got: Vec<_> = Sorted {
            name: "m",
            labels: &labels,
            order: &order,
            i: 0,
            name_done: false,
        }
        .collect();
        assert_eq!(
            got,
            vec![("Upper", "u"), ("__name__", "m"), ("a", "1"), ("zone", "a")]
        );
    }
}
