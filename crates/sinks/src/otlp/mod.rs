//! The `otlp` sink: OTLP/HTTP metrics, protobuf (`Content-Type: application/x-protobuf`)
//! posted to the configured URL (`…/v1/metrics`), gzip-compressed unless `compression: none`.
//!
//! Every run's series become data points of one `ExportMetricsServiceRequest` per
//! `max_samples_per_request` points: one resource (`resource_attributes`, `service.name`
//! defaulting to `kubestate-check`), one instrumentation scope (`kubestate`, its version),
//! points grouped by metric name. A series whose name matches `monotonic` (default
//! `.*_total`, which is exactly kube-state-metrics' counters) is a cumulative, monotonic
//! `Sum` whose start time is when the sink started; every other series is a `Gauge`. Labels
//! become string attributes, one value per key (the first, as the Prometheus-model sinks
//! do), sorted, empty values left out; names keep their dots unless `sanitize_names: true`.
//!
//! Delivery is remote-write's ([`crate::remote_write::sender`]): the same bounded queue or
//! durable `queue_dir`, authentication, TLS, timeouts and backoff; retried are 429, 502, 503,
//! 504 and connection errors (the OTLP/HTTP specification's list), and the data points a
//! receiver refuses in a partial success are counted as dropped (`reason="rejected"`).

pub mod proto;

use std::io::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use kubestate_check::{OutSeries, RunStats};

use crate::remote_write::{HttpSinkConfig, Outbox, RemoteWriteStats, Senders, Wire};
use crate::{name_and_order, sanitized_labels, Sent, Sink, SinkError};

/// Settings of the `otlp` sink (the HTTP sinks share one settings struct).
pub type OtlpConfig = HttpSinkConfig;

/// The output half: encodes series into requests and queues them for the senders.
pub struct Otlp {
    encoder: proto::Encoder,
    outbox: Outbox,
    max_points: usize,
    sanitize: bool,
    gzip: bool,
    monotonic: regex::Regex,
    /// When the sink started, the start of every cumulative Sum, in nanoseconds.
    start_ns: u64,
    name: String,
    order: Vec<usize>,
    owned: Vec<(String, String)>,
}

impl Otlp {
    /// Validates `config` and starts its senders on the current tokio runtime.
    ///
    /// # Errors
    /// An invalid setting.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(config: &OtlpConfig) -> Result<(Otlp, Senders), SinkError> {
        let (uri, wire) = config.check("otlp")?;
        let monotonic = config
            .monotonic_regex()
            .map_err(|message| SinkError::Config {
                sink: "otlp",
                message,
            })?;
        let mut resource = config.resource_attributes.clone();
        resource
            .entry("service.name".into())
            .or_insert_with(|| "kubestate-check".into());
        let encoder = proto::Encoder::new(
            resource.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ("kubestate", env!("CARGO_PKG_VERSION")),
        );
        let (outbox, senders) = Outbox::start(config, uri, wire)?;
        let start_ns = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Ok((
            Otlp {
                encoder,
                outbox,
                max_points: config.max_samples_per_request,
                sanitize: config.sanitize(Wire::Otlp),
                gzip: config.content_encoding(Wire::Otlp).is_some(),
                monotonic,
                start_ns,
                name: String::new(),
                order: Vec::new(),
                owned: Vec::new(),
            },
            senders,
        ))
    }

    /// The counters of this sink.
    pub fn stats(&self) -> &Arc<RemoteWriteStats> {
        self.outbox.stats()
    }

    fn flush(&mut self) {
        if self.encoder.is_empty() {
            return;
        }
        let points = self.encoder.points() as u64;
        let raw = self.encoder.take();
        let body = if self.gzip { gzip(&raw) } else { Ok(raw) };
        self.outbox.push(body.map_err(|e| e.to_string()), points);
    }
}

/// Gzip at level 2 (as the exporter's gzip bodies): fast, on the run's thread.
fn gzip(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut w = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::new(2),
    );
    w.write_all(raw)?;
    w.finish()
}

impl Sink for Otlp {
    fn name(&self) -> &'static str {
        "otlp"
    }

    fn begin(&mut self, _timestamp_ms: i64) {
        self.outbox.begin();
    }

    fn series(&mut self, s: &OutSeries<'_>) {
        // One value per key (the series' own first), sorted, empty values left out.
        let clean = name_and_order(s, self.sanitize, &mut self.name, &mut self.order);
        let time_ns = (s.timestamp_ms.max(0) as u64).saturating_mul(1_000_000);
        let monotonic = &self.monotonic;
        let is_sum = |n: &str| monotonic.is_match(n);
        if clean {
            let attrs = self
                .order
                .iter()
                .map(|&i| s.labels[i])
                .filter(|(_, v)| !v.is_empty());
            self.encoder
                .push(&self.name, is_sum, attrs, s.value, time_ns, self.start_ns);
        } else {
            self.owned.clear();
            sanitized_labels(s, &self.order, &mut self.owned);
            let attrs = self
                .owned
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.as_str(), v.as_str()));
            self.encoder
                .push(&self.name, is_sum, attrs, s.value, time_ns, self.start_ns);
        }
        if self.encoder.points() >= self.max_points {
            self.flush();
        }
    }

    fn finish(&mut self, _stats: &RunStats) -> Result<Sent, SinkError> {
        self.flush();
        Ok(self.outbox.sent())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_the_other_protocol_are_refused_at_start() {
        let c = |yaml: &str| -> OtlpConfig { serde_yaml::from_str(yaml).unwrap() };
        let ok = c("endpoint: http://127.0.0.1:4318/v1/metrics\nresource_attributes: {k8s.cluster.name: prod}\nmonotonic: ['.*_total', 'x\\.y']\n");
        assert_eq!(ok.check("otlp").unwrap().1, Wire::Otlp);
        let e = ok.check("remote_write").unwrap_err().to_string();
        assert!(
            e.contains("resource_attributes applies to type: otlp"),
            "{e}"
        );
        for (yaml, want) in [
            (
                "external_labels: {a: b}",
                "external_labels applies to type: remote_write",
            ),
            (
                "protobuf_message: prometheus.WriteRequest",
                "protobuf_message applies",
            ),
            ("compression: zstd", "use gzip or none"),
            ("monotonic: ['(']", "not a regular expression"),
            ("resource_attributes: {'': x}", "empty key"),
        ] {
            let e = c(&format!(
                "endpoint: http://127.0.0.1:4318/v1/metrics\n{yaml}\n"
            ))
            .check("otlp")
            .unwrap_err()
            .to_string();
            assert!(
                e.starts_with("sink otlp: ") && e.contains(want),
                "{yaml}: {e}"
            );
        }
        let rw = c("endpoint: http://127.0.0.1:9/api/v1/write\ncompression: gzip\n");
        assert!(rw.validate().unwrap_err().to_string().contains("snappy"));
        assert_eq!(ok.content_encoding(Wire::Otlp), Some("gzip"));
        let none = c("endpoint: http://x/v1/metrics\ncompression: none\n");
        assert_eq!(none.content_encoding(Wire::Otlp), None);
        assert!(!none.sanitize(Wire::Otlp) && none.sanitize(Wire::RemoteWrite1));
    }
}
