//! The `remote_write` sink: Prometheus remote-write 1.0 (and 2.0 with
//! `protobuf_message: io.prometheus.write.v2.Request`), and the HTTP delivery it shares with
//! the [`otlp`](crate::otlp) sink: [`HttpSinkConfig`], the bounded in-memory or durable queue,
//! the senders, their counters.
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
pub mod proto2;
pub mod sender;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kubestate_check::{OutSeries, RunStats};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::{is_label_name, name_and_order, sanitized_labels, Sent, Sink, SinkError};
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

/// Settings of the `remote_write` sink.
pub type RemoteWriteConfig = HttpSinkConfig;

/// Settings of the HTTP sinks, `remote_write` and `otlp`: one struct, so the two take the
/// same keys for what they share (endpoint, batching, queue, retries, authentication, TLS);
/// keys of one protocol only are rejected for the other by [`HttpSinkConfig::validate`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpSinkConfig {
    /// Receiver URL: Prometheus `http://host:9090/api/v1/write` (with
    /// `--web.enable-remote-write-receiver`), VictoriaMetrics `http://host:8428/api/v1/write`;
    /// for OTLP, the full URL of the metrics path (`http://collector:4318/v1/metrics`).
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
    /// `kubernetes_state_pod_count`). Default: yes for remote-write, no for OTLP (whose
    /// names may contain dots).
    #[serde(default)]
    pub sanitize_names: Option<bool>,
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
    /// remote-write only: the message to send, as Prometheus names it:
    /// `prometheus.WriteRequest` (1.0, the default) or `io.prometheus.write.v2.Request` (2.0).
    #[serde(default)]
    pub protobuf_message: Option<String>,
    /// OTLP only: `gzip` (the default) or `none`. remote-write always uses snappy.
    #[serde(default)]
    pub compression: Option<String>,
    /// OTLP only: attributes of the resource every metric belongs to (`service.name`
    /// defaults to `kubestate-check`).
    #[serde(default)]
    pub resource_attributes: BTreeMap<String, String>,
    /// OTLP and remote-write 2.0: metric names (regular expressions, anchored, matched
    /// against the name as sent) sent as counters (OTLP: cumulative monotonic Sums; 2.0:
    /// metadata type counter); every other series is a gauge. Default `[".*_total"]`:
    /// kube-state-metrics' counters, and only those, end in `_total`.
    #[serde(default)]
    pub monotonic: Option<Vec<String>>,
}

/// The default of `monotonic`.
pub const DEFAULT_MONOTONIC: &str = ".*_total";

/// The protocol of an HTTP sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// Prometheus remote-write 1.0 (`prometheus.WriteRequest`).
    RemoteWrite1,
    /// Prometheus remote-write 2.0 (`io.prometheus.write.v2.Request`).
    RemoteWrite2,
    /// OTLP/HTTP metrics (`ExportMetricsServiceRequest`, protobuf).
    Otlp,
}

/// The `protobuf_message` of remote-write 1.0.
pub const RW1_MESSAGE: &str = "prometheus.WriteRequest";
/// The `protobuf_message` of remote-write 2.0.
pub const RW2_MESSAGE: &str = "io.prometheus.write.v2.Request";

impl Wire {
    /// The sink type it belongs to, as in `type:` and self-metric names.
    pub fn sink(self) -> &'static str {
        match self {
            Wire::RemoteWrite1 | Wire::RemoteWrite2 => "remote_write",
            Wire::Otlp => "otlp",
        }
    }

    /// `Content-Type` of a request.
    pub fn content_type(self) -> &'static str {
        match self {
            Wire::RemoteWrite1 | Wire::Otlp => "application/x-protobuf",
            Wire::RemoteWrite2 => "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        }
    }

    /// Whether a non-2xx status is worth retrying. Remote-write: 5xx and 429. OTLP/HTTP: 429,
    /// 502, 503 and 504 only, as its specification says.
    pub fn retryable(self, status: u16) -> bool {
        match self {
            Wire::RemoteWrite1 | Wire::RemoteWrite2 => {
                status == 429 || (500..600).contains(&status)
            }
            Wire::Otlp => matches!(status, 429 | 502 | 503 | 504),
        }
    }
}

const fn default_queue_bytes() -> u64 {
    256 << 20
}

impl HttpSinkConfig {
    /// A configuration with every default for `endpoint`.
    pub fn new(endpoint: impl Into<String>) -> HttpSinkConfig {
        HttpSinkConfig {
            endpoint: endpoint.into(),
            max_samples_per_request: default_max_samples(),
            queue_capacity: default_queue(),
            max_retries: default_retries(),
            min_backoff: default_min_backoff(),
            max_backoff: default_max_backoff(),
            timeout: default_timeout(),
            concurrency: default_concurrency(),
            headers: BTreeMap::new(),
            sanitize_names: None,
            bearer_token: None,
            bearer_token_file: None,
            basic_auth: None,
            tls: None,
            external_labels: BTreeMap::new(),
            queue_dir: None,
            queue_max_bytes: default_queue_bytes(),
            protobuf_message: None,
            compression: None,
            resource_attributes: BTreeMap::new(),
            monotonic: None,
        }
    }

    /// Whether names are made Prometheus-safe for `wire` (`sanitize_names`, or its default).
    pub fn sanitize(&self, wire: Wire) -> bool {
        self.sanitize_names.unwrap_or(wire != Wire::Otlp)
    }

    /// [`HttpSinkConfig::check`] for the `remote_write` sink.
    ///
    /// # Errors
    /// What to fix.
    pub fn validate(&self) -> Result<http::Uri, SinkError> {
        self.check("remote_write").map(|(uri, _)| uri)
    }

    /// Pure checks only (no sockets) for the sink type `sink` (`remote_write` or `otlp`): the
    /// endpoint is an http(s) URL, sizes are positive, headers are valid, no key of the other
    /// protocol is set. Returns the endpoint and the protocol.
    ///
    /// # Errors
    /// What to fix.
    pub fn check(&self, sink: &'static str) -> Result<(http::Uri, Wire), SinkError> {
        let bad = |message: String| SinkError::Config { sink, message };
        let wire = self.wire(sink).map_err(bad)?;
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
        for (k, v) in &self.resource_attributes {
            if k.is_empty() {
                return Err(bad(format!(
                    "resource_attributes: an empty key (value {v:?})"
                )));
            }
        }
        for p in self.monotonic.iter().flatten() {
            regex::Regex::new(&format!("^(?:{p})$"))
                .map_err(|e| bad(format!("monotonic: {p:?} is not a regular expression: {e}")))?;
        }
        Ok((uri, wire))
    }

    /// The protocol these settings select for sink type `sink`, or what is set that does not
    /// belong to it.
    fn wire(&self, sink: &str) -> Result<Wire, String> {
        // `other` is "<type>" or "<type> (<hint>)".
        let only = |key: &str, set: bool, other: &str| {
            if set {
                let (ty, hint) = other.split_once(" (").unwrap_or((other, ""));
                let hint = hint
                    .strip_suffix(')')
                    .map_or(String::new(), |h| format!("; {h}"));
                Err(format!("{key} applies to type: {ty} only{hint}"))
            } else {
                Ok(())
            }
        };
        if sink == "otlp" {
            only(
                "protobuf_message",
                self.protobuf_message.is_some(),
                "remote_write",
            )?;
            only(
                "external_labels",
                !self.external_labels.is_empty(),
                "remote_write (OTLP has resource_attributes)",
            )?;
            match self.compression.as_deref() {
                None | Some("gzip" | "none") => {}
                Some(c) => return Err(format!("compression {c:?}: use gzip or none")),
            }
            return Ok(Wire::Otlp);
        }
        only(
            "compression",
            self.compression.is_some(),
            "otlp (remote-write always uses snappy)",
        )?;
        only(
            "resource_attributes",
            !self.resource_attributes.is_empty(),
            "otlp (remote-write has external_labels)",
        )?;
        let wire = match self.protobuf_message.as_deref() {
            None | Some(RW1_MESSAGE) => Wire::RemoteWrite1,
            Some(RW2_MESSAGE) => Wire::RemoteWrite2,
            Some(m) => {
                return Err(format!(
                    "protobuf_message {m:?}: use {RW1_MESSAGE} (remote-write 1.0) or {RW2_MESSAGE} (2.0)"
                ))
            }
        };
        if wire == Wire::RemoteWrite1 && self.monotonic.is_some() {
            return Err(format!(
                "monotonic applies to type: otlp and to protobuf_message: {RW2_MESSAGE} only (1.0 carries no types)"
            ));
        }
        Ok(wire)
    }

    /// The `monotonic` patterns (or their default) as one anchored regex.
    ///
    /// # Errors
    /// A pattern that is not a regular expression.
    pub fn monotonic_regex(&self) -> Result<regex::Regex, String> {
        let alternatives: Vec<String> = match &self.monotonic {
            Some(p) => p.iter().map(|p| format!("(?:{p})")).collect(),
            None => vec![format!("(?:{DEFAULT_MONOTONIC})")],
        };
        // An empty list matches nothing.
        let re = if alternatives.is_empty() {
            "[^\\s\\S]".to_string()
        } else {
            format!("^(?:{})$", alternatives.join("|"))
        };
        regex::Regex::new(&re).map_err(|e| format!("monotonic: {e}"))
    }

    /// The `Content-Encoding` of requests: `snappy` (remote-write), `gzip` or none (OTLP).
    pub fn content_encoding(&self, wire: Wire) -> Option<&'static str> {
        match wire {
            Wire::RemoteWrite1 | Wire::RemoteWrite2 => Some("snappy"),
            Wire::Otlp => (self.compression.as_deref() != Some("none")).then_some("gzip"),
        }
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

/// The queueing half an HTTP sink's output shares: takes compressed requests on the run's
/// thread, queues them for the senders, and counts what it queued and dropped in a run.
pub struct Outbox {
    queue: Queue,
    stats: Arc<RemoteWriteStats>,
    queued: u64,
    dropped: u64,
}

impl Outbox {
    /// Opens the queue `config` selects (memory or `queue_dir`) and starts its senders on
    /// the current tokio runtime.
    ///
    /// # Errors
    /// The TLS settings cannot be loaded or `queue_dir` cannot be opened.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(
        config: &HttpSinkConfig,
        uri: http::Uri,
        wire: Wire,
    ) -> Result<(Outbox, Senders), SinkError> {
        let stats = Arc::new(RemoteWriteStats::for_wire(&config.endpoint, wire));
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
        let outbox = Outbox {
            queue,
            stats,
            queued: 0,
            dropped: 0,
        };
        Ok((outbox, senders))
    }

    /// The counters of the sink.
    pub fn stats(&self) -> &Arc<RemoteWriteStats> {
        &self.stats
    }

    /// A run begins: its counts start at 0.
    pub fn begin(&mut self) {
        self.queued = 0;
        self.dropped = 0;
    }

    /// Queues one compressed request of `samples` samples, or counts them as dropped.
    pub fn push(&mut self, body: Result<Vec<u8>, String>, samples: u64) {
        let body = match body {
            Ok(b) => b,
            Err(e) => return self.drop_batch(samples, "encode", &e),
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

    /// What the run did: series queued, dropped, and still pending over all runs.
    pub fn sent(&self) -> Sent {
        Sent {
            series: self.queued,
            dropped: self.dropped,
            queued: self.stats.pending(),
        }
    }
}

/// The request being built, in the configured message.
enum Enc {
    V1(proto::Encoder),
    V2(proto2::Encoder),
}

impl Enc {
    fn push<'a>(
        &mut self,
        labels: impl Iterator<Item = (&'a str, &'a str)> + Clone,
        counter: bool,
        value: f64,
        ts: i64,
    ) {
        match self {
            Enc::V1(e) => e.push(labels, value, ts),
            Enc::V2(e) => e.push(labels, counter, value, ts),
        }
    }

    fn series(&self) -> usize {
        match self {
            Enc::V1(e) => e.series(),
            Enc::V2(e) => e.series(),
        }
    }

    fn take(&mut self) -> Vec<u8> {
        match self {
            Enc::V1(e) => e.take(),
            Enc::V2(e) => e.take(),
        }
    }
}

/// Whether names are counters (`monotonic`), remembering the last name asked about: a
/// run's series come family by family.
struct Counters {
    re: regex::Regex,
    last: String,
    last_is: bool,
}

impl Counters {
    fn new(re: regex::Regex) -> Counters {
        Counters {
            re,
            last: String::new(),
            last_is: false,
        }
    }

    fn is_counter(&mut self, name: &str) -> bool {
        if name != self.last {
            self.last.clear();
            self.last.push_str(name);
            self.last_is = self.re.is_match(name);
        }
        self.last_is
    }
}

/// The output half: encodes series into requests and queues them for the senders.
pub struct RemoteWrite {
    config: RemoteWriteConfig,
    encoder: Enc,
    counters: Option<Counters>,
    outbox: Outbox,
    sanitize: bool,
    name: String,
    labels: Vec<(String, String)>,
    order: Vec<usize>,
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
        let (uri, wire) = config.check("remote_write")?;
        let (encoder, counters) = match wire {
            Wire::RemoteWrite2 => {
                let re = config
                    .monotonic_regex()
                    .map_err(|message| SinkError::Config {
                        sink: "remote_write",
                        message,
                    })?;
                (Enc::V2(proto2::Encoder::new()), Some(Counters::new(re)))
            }
            _ => (Enc::V1(proto::Encoder::new()), None),
        };
        let (outbox, senders) = Outbox::start(config, uri, wire)?;
        Ok((
            RemoteWrite {
                config: config.clone(),
                encoder,
                counters,
                outbox,
                sanitize: config.sanitize(wire),
                name: String::new(),
                labels: Vec::new(),
                order: Vec::new(),
            },
            senders,
        ))
    }

    /// The counters of this sink.
    pub fn stats(&self) -> &Arc<RemoteWriteStats> {
        self.outbox.stats()
    }

    fn flush(&mut self) {
        if self.encoder.series() == 0 {
            return;
        }
        let samples = self.encoder.series() as u64;
        let raw = self.encoder.take();
        let body = proto::compress(&raw).map_err(|e| e.to_string());
        self.outbox.push(body, samples);
    }
}

impl Sink for RemoteWrite {
    fn name(&self) -> &'static str {
        "remote_write"
    }

    fn begin(&mut self, _timestamp_ms: i64) {
        self.outbox.begin();
    }

    fn series(&mut self, s: &OutSeries<'_>) {
        // One value per key (the series' own first), sorted by name, `__name__` included.
        let clean = name_and_order(s, self.sanitize, &mut self.name, &mut self.order);
        let counter = self
            .counters
            .as_mut()
            .is_some_and(|c| c.is_counter(&self.name));
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
            self.encoder.push(it, counter, s.value, s.timestamp_ms);
        } else {
            self.labels.clear();
            self.labels.push(("__name__".into(), self.name.clone()));
            sanitized_labels(s, &self.order, &mut self.labels);
            let it = self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            let it = External::new(it, &self.config.external_labels);
            self.encoder.push(it, counter, s.value, s.timestamp_ms);
        }
        if self.encoder.series() >= self.config.max_samples_per_request {
            self.flush();
        }
    }

    fn finish(&mut self, _stats: &RunStats) -> Result<Sent, SinkError> {
        self.flush();
        Ok(self.outbox.sent())
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
        c.headers.clear();
        c.monotonic = Some(vec![".*_total".into()]);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("monotonic") && e.contains(RW2_MESSAGE), "{e}");
        c.protobuf_message = Some(RW2_MESSAGE.into());
        assert_eq!(c.check("remote_write").unwrap().1, Wire::RemoteWrite2);
        c.protobuf_message = Some("v2".into());
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains(RW1_MESSAGE) && e.contains(RW2_MESSAGE), "{e}");
    }

    #[test]
    fn monotonic_patterns_are_anchored_and_an_empty_list_matches_nothing() {
        let mut c = RemoteWriteConfig::new("http://127.0.0.1:9/api/v1/write");
        let re = c.monotonic_regex().unwrap();
        assert!(re.is_match("kube_pod_container_status_restarts_total"));
        assert!(!re.is_match("kube_pod_total_x") && !re.is_match("kubernetes_state.pod.count"));
        c.monotonic = Some(vec!["a.b".into(), "c".into()]);
        let re = c.monotonic_regex().unwrap();
        assert!(re.is_match("a.b") && re.is_match("axb") && re.is_match("c"));
        assert!(!re.is_match("cc") && !re.is_match("xa.b"));
        c.monotonic = Some(Vec::new());
        let re = c.monotonic_regex().unwrap();
        assert!(!re.is_match("") && !re.is_match("x_total"));
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
