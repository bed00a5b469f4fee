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

pub mod proto;
pub mod sender;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kubestate_check::{OutSeries, RunStats};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::{is_label_name, prometheus_name, Sent, Sink, SinkError};
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
        Ok(uri)
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

/// The output half: encodes series into requests and queues them for the senders.
pub struct RemoteWrite {
    config: RemoteWriteConfig,
    encoder: proto::Encoder,
    queue: mpsc::Sender<Batch>,
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
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let senders = Senders::spawn(config.clone(), uri, rx, stats.clone())?;
        Ok((
            RemoteWrite {
                config: config.clone(),
                encoder: proto::Encoder::new(),
                queue: tx,
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
        let batch = Batch {
            body: body.into(),
            samples,
        };
        match self.queue.try_send(batch) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
