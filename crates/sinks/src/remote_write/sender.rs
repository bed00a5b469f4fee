//! The sending half of the HTTP sinks (remote-write and OTLP): tasks that take compressed
//! requests off the bounded queue and post them, with retries and exponential backoff,
//! counting every outcome.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kubestate_metric::{write_header, write_sample, write_single};
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use super::disk::DiskQueue;
use super::{HttpSinkConfig as RemoteWriteConfig, Wire};
use crate::SinkError;

/// One compressed `WriteRequest` and the number of samples in it.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Snappy-compressed protobuf.
    pub body: Bytes,
    /// Samples (series) in the request.
    pub samples: u64,
}

/// Why samples were dropped; each is a label value of the dropped counter.
pub const DROP_REASONS: [&str; 8] = [
    "queue_full",
    "rejected",
    "retries_exhausted",
    "closed",
    "encode",
    "shutdown",
    "evicted",
    "unreadable",
];

/// Counters of one remote-write or OTLP sink (exported as self-metrics).
#[derive(Debug)]
pub struct RemoteWriteStats {
    endpoint: String,
    wire: Wire,
    samples_queued: AtomicU64,
    samples_sent: AtomicU64,
    requests_sent: AtomicU64,
    bytes_sent: AtomicU64,
    retries: AtomicU64,
    dropped: [AtomicU64; 8],
    /// The latest reason samples were dropped, for the end-of-run report.
    last_error: parking_lot::Mutex<Option<String>>,
    /// Rate limit of the drop and retry logs.
    drop_log: LogGate,
    retry_log: LogGate,
}

/// Lets one log line per interval through and counts what it held back.
#[derive(Debug, Default)]
struct LogGate {
    last: parking_lot::Mutex<Option<std::time::Instant>>,
    held: AtomicU64,
}

/// How often a drop or retry of one endpoint is logged (with how many were not).
const LOG_INTERVAL: Duration = Duration::from_secs(60);

impl LogGate {
    /// `Some(events held back since the last line)` when a line may be logged now.
    fn pass(&self) -> Option<u64> {
        let mut last = self.last.lock();
        let now = std::time::Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < LOG_INTERVAL) {
            self.held.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(now);
        Some(self.held.swap(0, Ordering::Relaxed))
    }
}

/// What one remote-write or OTLP endpoint did over a run of the process, for `check --once`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The sink type (`remote_write`, `otlp`).
    pub sink: &'static str,
    /// The endpoint.
    pub endpoint: String,
    /// Samples handed to the senders.
    pub queued: u64,
    /// Samples delivered.
    pub sent: u64,
    /// Samples dropped (any reason).
    pub dropped: u64,
    /// Why samples were last dropped.
    pub last_error: Option<String>,
}

impl Delivery {
    /// Whether samples were lost (or none delivered of those queued).
    pub fn failed(&self) -> bool {
        self.dropped > 0 || (self.queued > 0 && self.sent == 0)
    }
}

impl std::fmt::Display for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} to {} delivered {} of {} samples ({} dropped)",
            if self.sink == "otlp" {
                "OTLP"
            } else {
                "remote-write"
            },
            self.endpoint,
            self.sent,
            self.queued,
            self.dropped
        )?;
        if let Some(e) = &self.last_error {
            write!(f, ": {e}")?;
        }
        Ok(())
    }
}

impl RemoteWriteStats {
    /// Zeroed counters for remote-write 1.0 to `endpoint`.
    pub fn new(endpoint: &str) -> RemoteWriteStats {
        RemoteWriteStats::for_wire(endpoint, Wire::RemoteWrite1)
    }

    /// Zeroed counters for `endpoint`, speaking `wire`.
    pub fn for_wire(endpoint: &str, wire: Wire) -> RemoteWriteStats {
        RemoteWriteStats {
            endpoint: endpoint.to_string(),
            wire,
            samples_queued: AtomicU64::new(0),
            samples_sent: AtomicU64::new(0),
            requests_sent: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            dropped: Default::default(),
            last_error: parking_lot::Mutex::new(None),
            drop_log: LogGate::default(),
            retry_log: LogGate::default(),
        }
    }

    /// The totals so far.
    pub fn delivery(&self) -> Delivery {
        Delivery {
            sink: self.wire.sink(),
            endpoint: self.endpoint.clone(),
            queued: self.samples_queued(),
            sent: self.samples_sent(),
            dropped: self.samples_dropped_total(),
            last_error: self.last_error.lock().clone(),
        }
    }

    /// Counts a drop and logs it at most once a minute, with how many drops went unlogged.
    pub(crate) fn drop_logged(&self, reason: &str, samples: u64, why: &str) {
        self.dropped(reason, samples);
        *self.last_error.lock() = Some(format!("{reason}: {why}"));
        if let Some(not_logged) = self.drop_log.pass() {
            let sink = self.wire.sink();
            error!(sink, endpoint = %self.endpoint, samples, reason, error = %why, not_logged, "samples dropped (kubestate_check_{sink}_samples_dropped_total counts all)");
        }
    }

    pub(crate) fn queued(&self, samples: u64) {
        self.samples_queued.fetch_add(samples, Ordering::Relaxed);
    }

    /// Counts a delivered request, of which the receiver refused `rejected` samples (an OTLP
    /// partial success).
    fn sent(&self, batch: &Batch, rejected: u64, why: &str) {
        let rejected = rejected.min(batch.samples);
        if rejected > 0 {
            self.drop_logged("rejected", rejected, why);
        }
        self.samples_sent
            .fetch_add(batch.samples - rejected, Ordering::Relaxed);
        self.requests_sent.fetch_add(1, Ordering::Relaxed);
        self.bytes_sent
            .fetch_add(batch.body.len() as u64, Ordering::Relaxed);
    }

    pub(crate) fn dropped(&self, reason: &str, samples: u64) {
        let i = DROP_REASONS.iter().position(|r| *r == reason).unwrap_or(1);
        self.dropped[i].fetch_add(samples, Ordering::Relaxed);
    }

    /// Samples delivered (2xx).
    pub fn samples_sent(&self) -> u64 {
        self.samples_sent.load(Ordering::Relaxed)
    }

    /// Samples queued for sending.
    pub fn samples_queued(&self) -> u64 {
        self.samples_queued.load(Ordering::Relaxed)
    }

    /// Samples dropped for `reason` (one of [`DROP_REASONS`]).
    pub fn samples_dropped(&self, reason: &str) -> u64 {
        DROP_REASONS
            .iter()
            .position(|r| *r == reason)
            .map_or(0, |i| self.dropped[i].load(Ordering::Relaxed))
    }

    /// Samples dropped for any reason.
    pub fn samples_dropped_total(&self) -> u64 {
        self.dropped.iter().map(|d| d.load(Ordering::Relaxed)).sum()
    }

    /// Requests delivered.
    pub fn requests_sent(&self) -> u64 {
        self.requests_sent.load(Ordering::Relaxed)
    }

    /// Retries made.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Queued samples whose request has not finished yet.
    pub fn pending(&self) -> u64 {
        let done = self.samples_sent()
            + self.samples_dropped("rejected")
            + self.samples_dropped("retries_exhausted")
            + self.samples_dropped("shutdown")
            + self.samples_dropped("evicted")
            + self.samples_dropped("unreadable");
        self.samples_queued().saturating_sub(done)
    }
}

impl kubestate_check::telemetry::WriteMetrics for RemoteWriteStats {
    fn write_metrics(&self, out: &mut Vec<u8>) {
        let ep = [("endpoint", self.endpoint.as_str())];
        let counters = [
            (
                "samples_queued_total",
                "Samples put on the send queue.",
                self.samples_queued(),
            ),
            (
                "samples_sent_total",
                "Samples the receiver accepted.",
                self.samples_sent(),
            ),
            (
                "requests_sent_total",
                "Requests the receiver accepted.",
                self.requests_sent(),
            ),
            (
                "bytes_sent_total",
                "Compressed bytes of accepted requests.",
                self.bytes_sent.load(Ordering::Relaxed),
            ),
            (
                "retries_total",
                "Requests retried after a 5xx, 429 or connection error.",
                self.retries(),
            ),
        ];
        for (suffix, help, v) in counters {
            let name = format!("kubestate_check_{}_{suffix}", self.wire.sink());
            write_single(out, &name, help, "counter", &ep, v as f64);
        }
        let name = format!("kubestate_check_{}_samples_dropped_total", self.wire.sink());
        let name = name.as_str();
        write_header(
            out,
            name,
            "Samples that were not delivered, by reason.",
            "counter",
        );
        for (i, r) in DROP_REASONS.iter().enumerate() {
            let v = self.dropped[i].load(Ordering::Relaxed);
            write_sample(out, name, &[ep[0], ("reason", r)], v as f64);
        }
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The sender tasks of one sink.
pub struct Senders {
    workers: Vec<JoinHandle<()>>,
    stats: Arc<RemoteWriteStats>,
    endpoint: String,
    /// The durable queue, if `queue_dir` is set.
    disk: Option<Arc<DiskQueue>>,
}

fn client(config: &RemoteWriteConfig) -> Result<HttpClient, SinkError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = match &config.tls {
        Some(tls) => hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(
            kubestate_check::client::tls_config(tls, provider).map_err(|message| {
                SinkError::Config {
                    sink: "remote_write",
                    message: format!("tls: {message}"),
                }
            })?,
        ),
        None => match hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider.clone())
        {
            Ok(b) => b,
            Err(e) => {
                // No system CA bundle: plain http still works; https needs one.
                debug!(error = %e, "no native root certificates; https endpoints will fail");
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .expect("invariant: the ring provider supports rustls' default TLS versions")
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
            }
        },
    };
    let connector = builder.https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

impl Senders {
    pub(crate) fn spawn(
        config: RemoteWriteConfig,
        uri: http::Uri,
        rx: mpsc::Receiver<Batch>,
        stats: Arc<RemoteWriteStats>,
    ) -> Result<Senders, SinkError> {
        let rx = Arc::new(Mutex::new(rx));
        let client = client(&config)?;
        let config = Arc::new(config);
        let workers = (0..config.concurrency)
            .map(|_| {
                let (rx, client, config, uri, stats) = (
                    rx.clone(),
                    client.clone(),
                    config.clone(),
                    uri.clone(),
                    stats.clone(),
                );
                tokio::spawn(async move {
                    loop {
                        let next = rx.lock().await.recv().await;
                        let Some(batch) = next else { break };
                        deliver(&client, &config, &uri, batch, &stats).await;
                    }
                })
            })
            .collect();
        Ok(Senders {
            workers,
            endpoint: config.endpoint.clone(),
            stats,
            disk: None,
        })
    }

    /// One sender over the durable queue `disk`: oldest request first, retried until the
    /// receiver accepts or rejects it.
    pub(crate) fn spawn_disk(
        config: RemoteWriteConfig,
        uri: http::Uri,
        disk: Arc<DiskQueue>,
        stats: Arc<RemoteWriteStats>,
    ) -> Result<Senders, SinkError> {
        let client = client(&config)?;
        let config = Arc::new(config);
        let (q, s) = (disk.clone(), stats.clone());
        let endpoint = config.endpoint.clone();
        let worker = tokio::spawn(async move {
            loop {
                // Registered before looking, so a push in between is not missed.
                let notified = q.notify.notified();
                match q.take() {
                    Some(taken) => {
                        deliver_durable(&client, &config, &uri, &taken.batch, &s).await;
                        q.done(taken);
                    }
                    None if q.is_closed() => break,
                    None => {
                        let _ = tokio::time::timeout(super::disk::IDLE, notified).await;
                    }
                }
            }
        });
        Ok(Senders {
            workers: vec![worker],
            endpoint,
            stats,
            disk: Some(disk),
        })
    }

    /// The counters.
    pub fn stats(&self) -> Arc<RemoteWriteStats> {
        self.stats.clone()
    }

    /// Waits (after the queue was closed) until every queued request is delivered or
    /// dropped, at most `timeout`; what remains is counted as dropped (`shutdown`).
    pub async fn drain(self, timeout: Duration) {
        if let Some(disk) = &self.disk {
            // What is not delivered in time stays on disk for the next start.
            disk.close();
            let all = futures_join(self.workers);
            if tokio::time::timeout(timeout, all.0).await.is_err() {
                for h in all.1.iter() {
                    h.abort();
                }
            }
            super::disk::report_left(disk);
            return;
        }
        let all = futures_join(self.workers);
        if tokio::time::timeout(timeout, all.0).await.is_err() {
            for h in all.1.iter() {
                h.abort();
            }
            let pending = self.stats.pending();
            if pending > 0 {
                self.stats.dropped("shutdown", pending);
                *self.stats.last_error.lock() = Some(format!(
                    "shutdown: {pending} samples still queued after {timeout:?}"
                ));
                error!(endpoint = %self.endpoint, samples = pending, "remote-write requests still queued at shutdown were dropped");
            }
        }
    }

    /// [`Senders::drain`], then what the endpoint delivered.
    pub async fn finish(self, timeout: Duration) -> Delivery {
        let stats = self.stats.clone();
        self.drain(timeout).await;
        stats.delivery()
    }
}

/// Awaits handles without consuming them, so they can still be aborted after a timeout.
fn futures_join(
    workers: Vec<JoinHandle<()>>,
) -> (
    impl std::future::Future<Output = ()>,
    Arc<Vec<tokio::task::AbortHandle>>,
) {
    let aborts: Arc<Vec<_>> = Arc::new(workers.iter().map(|h| h.abort_handle()).collect());
    let fut = async move {
        for h in workers {
            let _ = h.await;
        }
    };
    (fut, aborts)
}

/// Posts `batch` until the receiver accepts or rejects it: retryable failures are retried
/// with backoff (capped at `max_backoff`) without limit, as the request is safe on disk.
async fn deliver_durable(
    client: &HttpClient,
    config: &RemoteWriteConfig,
    uri: &http::Uri,
    batch: &Batch,
    stats: &RemoteWriteStats,
) {
    let mut attempt = 0u32;
    loop {
        match send_once(client, config, stats.wire, uri, batch).await {
            Outcome::Sent(rejected, why) => {
                stats.sent(batch, rejected, &why);
                if attempt > 0 {
                    info!(endpoint = %config.endpoint, attempts = attempt + 1, "remote-write receiver reachable again");
                }
                return;
            }
            Outcome::Reject(why) => {
                stats.dropped("rejected", batch.samples);
                error!(endpoint = %config.endpoint, samples = batch.samples, error = %why, "remote-write request rejected; samples dropped");
                return;
            }
            Outcome::Retry(why) => {
                let delay = config.backoff(attempt);
                attempt = attempt.saturating_add(1);
                stats.retries.fetch_add(1, Ordering::Relaxed);
                // Loud at first, then once per ten attempts while the outage lasts.
                if attempt <= 3 || attempt % 10 == 0 {
                    warn!(endpoint = %config.endpoint, attempt, delay_ms = delay.as_millis() as u64, error = %why, "remote-write request failed; kept on disk, retrying");
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}

enum Outcome {
    /// Accepted, but for this many samples the receiver refused, and why.
    Sent(u64, String),
    /// Retryable, and why.
    Retry(String),
    /// Refused, and why.
    Reject(String),
}

async fn send_once(
    client: &HttpClient,
    config: &RemoteWriteConfig,
    wire: Wire,
    uri: &http::Uri,
    batch: &Batch,
) -> Outcome {
    let mut req = http::Request::post(uri.clone())
        .header(http::header::CONTENT_TYPE, wire.content_type())
        .header(
            http::header::USER_AGENT,
            concat!("kubestate/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(enc) = config.content_encoding(wire) {
        req = req.header(http::header::CONTENT_ENCODING, enc);
    }
    match wire {
        Wire::RemoteWrite1 => req = req.header("X-Prometheus-Remote-Write-Version", "0.1.0"),
        Wire::RemoteWrite2 => req = req.header("X-Prometheus-Remote-Write-Version", "2.0.0"),
        Wire::Otlp => {}
    }
    for (k, v) in &config.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    match config.authorization() {
        Ok(Some(auth)) => req = req.header(http::header::AUTHORIZATION, auth),
        Ok(None) => {}
        // A token file being rotated: try again later.
        Err(e) => return Outcome::Retry(e),
    }
    let req = match req.body(Full::new(batch.body.clone())) {
        Ok(r) => r,
        Err(e) => return Outcome::Reject(format!("building the request: {e}")),
    };
    let resp = match tokio::time::timeout(config.timeout, client.request(req)).await {
        Err(_) => return Outcome::Retry(format!("no answer within {:?}", config.timeout)),
        Ok(Err(e)) => return Outcome::Retry(format!("{e}: {}", source_chain(&e))),
        Ok(Ok(r)) => r,
    };
    let status = resp.status();
    if status.is_success() && wire == Wire::RemoteWrite2 {
        // A 2.0 receiver says how many samples it wrote; fewer than sent is a partial write.
        let written = resp
            .headers()
            .get("X-Prometheus-Remote-Write-Samples-Written")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let _ = tokio::time::timeout(config.timeout, resp.into_body().collect()).await;
        return match written {
            Some(w) if w < batch.samples => Outcome::Sent(
                batch.samples - w,
                format!("the receiver wrote {w} of {} samples", batch.samples),
            ),
            _ => Outcome::Sent(0, String::new()),
        };
    }
    if status.is_success() {
        // Read the (usually empty) body so the connection can be reused; an OTLP receiver
        // may report a partial success in it.
        let body = tokio::time::timeout(config.timeout, resp.into_body().collect()).await;
        if wire == Wire::Otlp {
            if let Ok(Ok(b)) = body {
                let (rejected, why) = crate::otlp::proto::partial_success(&b.to_bytes());
                return Outcome::Sent(rejected, why);
            }
        }
        return Outcome::Sent(0, String::new());
    }
    let text = match tokio::time::timeout(Duration::from_secs(5), resp.into_body().collect()).await
    {
        Ok(Ok(b)) => String::from_utf8_lossy(&b.to_bytes()[..])
            .chars()
            .take(300)
            .collect(),
        _ => String::new(),
    };
    let why = format!("HTTP {}: {}", status.as_u16(), text.trim());
    if wire.retryable(status.as_u16()) {
        Outcome::Retry(why)
    } else {
        Outcome::Reject(why)
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// Sends one batch: retries 5xx, 429 and connection errors with exponential backoff, gives
/// up at once on other statuses; every outcome is counted, every drop logged.
pub async fn deliver(
    client: &HttpClient,
    config: &RemoteWriteConfig,
    uri: &http::Uri,
    batch: Batch,
    stats: &RemoteWriteStats,
) {
    let mut attempt = 0u32;
    loop {
        match send_once(client, config, stats.wire, uri, &batch).await {
            Outcome::Sent(rejected, why) => {
                stats.sent(&batch, rejected, &why);
                return;
            }
            Outcome::Reject(why) => {
                stats.drop_logged("rejected", batch.samples, &why);
                return;
            }
            Outcome::Retry(why) => {
                if attempt >= config.max_retries {
                    let why = format!("{why} (after {} attempts)", attempt + 1);
                    stats.drop_logged("retries_exhausted", batch.samples, &why);
                    return;
                }
                let delay = config.backoff(attempt);
                attempt += 1;
                stats.retries.fetch_add(1, Ordering::Relaxed);
                if let Some(not_logged) = stats.retry_log.pass() {
                    warn!(endpoint = %config.endpoint, attempt, delay_ms = delay.as_millis() as u64, error = %why, not_logged, "remote-write request failed; retrying");
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}
