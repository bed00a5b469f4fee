//! The sinks of the in-process check: where each run's series go (stdout, files,
//! remote-write, OTLP). Not to be confused with the engine's store seam (`kubestate_store::ObjectStore`):
//! stores keep objects' metrics between scrapes; sinks receive the check's output series.
//!
//! Place in the data flow: engine → structured store → check → **sinks**. The check hands
//! every output series of a run to [`Sinks`], which fans it out to every configured
//! [`Sink`]; several can be active at once.
//!
//! # Brief overview
//!
//! * [`SinkConfig`]: one entry of the check's `sinks:` list, a tagged enum (`type: stdout`,
//!   `type: file`, `type: remote_write`, `type: otlp`), Vector-style; [`Config`] is the whole check file.
//! * [`stdout`]: one JSON object per series and line.
//! * [`file`](mod@file): one OpenMetrics snapshot file per run (optionally gzip), kept by
//!   count, age and total size.
//! * [`remote_write`]: Prometheus remote-write 1.0 or 2.0 (protobuf + snappy block format), batched
//!   by samples per request, a bounded queue, retries with exponential backoff on 5xx, 429
//!   and connection errors, and every drop counted and logged.
//! * [`otlp`]: OTLP/HTTP metrics (protobuf, gzip), delivered like remote-write.
//! * [`build`]: turns the configs into [`Sinks`], registering their counters with the
//!   check's [`Telemetry`].
//!
//! # Example: stdout as an output of a run
//!
//! ```
//! use kubestate_check::{Emit, OutSeries};
//! use kubestate_sinks::stdout::Stdout;
//! use kubestate_sinks::Sink;
//!
//! let mut out = Stdout::to_writer(Box::new(Vec::new()));
//! out.begin(1_700_000_000_000);
//! out.series(&OutSeries { name: "kubernetes_state.pod.count", labels: &[("kube_namespace", "shop")],
//!     value: 3.0, timestamp_ms: 1_700_000_000_000 });
//! assert_eq!(out.lines(), 1);
//! ```
#![deny(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use kubestate_check::telemetry::OutputRun;
use kubestate_check::{CheckConfig, Emit, OutSeries, RunStats, Telemetry};
use serde::Deserialize;

pub mod file;
pub mod otlp;
pub mod remote_write;
pub mod stdout;

pub use file::FileConfig;
pub use otlp::OtlpConfig;
pub use remote_write::{HttpSinkConfig, RemoteWriteConfig};
pub use stdout::StdoutConfig;

/// The check's whole configuration file, with these sinks.
pub type Config = CheckConfig<SinkConfig>;

/// One entry of `sinks:`. A closed set, so an enum rather than a registry.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SinkConfig {
    /// JSON lines on standard output.
    Stdout(StdoutConfig),
    /// OpenMetrics snapshot files.
    File(FileConfig),
    /// Prometheus remote-write 1.0 (or 2.0).
    RemoteWrite(Box<RemoteWriteConfig>),
    /// OTLP/HTTP metrics.
    Otlp(Box<OtlpConfig>),
}

/// Why an output could not be built or could not deliver a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// A setting is invalid.
    #[error("sink {sink}: {message}")]
    Config {
        /// The sink type.
        sink: &'static str,
        /// What to fix.
        message: String,
    },
    /// A file could not be written.
    #[error("writing {path}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// What an output did with one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// Series written or queued for sending.
    pub series: u64,
    /// Series left out (remote-write queue full; see its counters).
    pub dropped: u64,
    /// Series queued by this and earlier runs that are not delivered (nor dropped) yet
    /// (remote-write; 0 for outputs that write at once).
    pub queued: u64,
}

/// Where one run's series go. The check drives: `begin`, every series, `finish`.
pub trait Sink: Send {
    /// Stable name for logs and self-metrics: `stdout`, `file`, `remote_write`, `otlp`.
    fn name(&self) -> &'static str;
    /// A run begins; its series carry `timestamp_ms`.
    fn begin(&mut self, timestamp_ms: i64);
    /// One series.
    fn series(&mut self, s: &OutSeries<'_>);
    /// The run is complete: write or hand over what is buffered.
    ///
    /// # Errors
    /// What could not be written (the caller logs and counts it).
    fn finish(&mut self, stats: &RunStats) -> Result<Sent, SinkError>;
}

/// Every configured output; an [`Emit`] that fans each series out to all of them.
#[derive(Default)]
pub struct Sinks {
    outputs: Vec<Box<dyn Sink>>,
    /// Per output, its name in self-metrics (`file`, then `file_2` for a second one).
    labels: Vec<String>,
    senders: Vec<remote_write::Senders>,
    /// Series handed to every output in the current run.
    received: u64,
}

impl Sinks {
    /// No outputs.
    pub fn new() -> Sinks {
        Sinks::default()
    }

    /// Adds an output.
    pub fn push(&mut self, o: Box<dyn Sink>) {
        let same = self.outputs.iter().filter(|x| x.name() == o.name()).count();
        self.labels.push(if same == 0 {
            o.name().to_string()
        } else {
            format!("{}_{}", o.name(), same + 1)
        });
        self.outputs.push(o);
    }

    /// Number of outputs.
    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    /// Whether there is no output.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// Starts a run on every output.
    pub fn begin(&mut self, timestamp_ms: i64) {
        self.received = 0;
        for o in &mut self.outputs {
            o.begin(timestamp_ms);
        }
    }

    /// Finishes a run on every output: each output's name and result.
    pub fn finish(&mut self, stats: &RunStats) -> Vec<(&'static str, Result<Sent, SinkError>)> {
        self.outputs
            .iter_mut()
            .map(|o| (o.name(), o.finish(stats)))
            .collect()
    }

    /// Series handed to each output since [`Sinks::begin`].
    pub fn received(&self) -> u64 {
        self.received
    }

    /// [`Sinks::finish`], recording what each output did in `telemetry` (one
    /// `output="<name>"` per output; a failed output counts every series it received as
    /// dropped).
    pub fn finish_recorded(
        &mut self,
        stats: &RunStats,
        telemetry: &Telemetry,
    ) -> Vec<(&'static str, Result<Sent, SinkError>)> {
        let received = self.received;
        let results = self.finish(stats);
        for (label, (_, r)) in self.labels.iter().zip(&results) {
            telemetry.record_output(
                label,
                match r {
                    Ok(s) => Ok(OutputRun {
                        received,
                        written: s.series,
                        dropped: s.dropped,
                        queued: s.queued,
                    }),
                    Err(_) => Err(received),
                },
            );
        }
        results
    }

    /// Stops accepting series and waits up to `timeout` for queued remote-write and OTLP
    /// requests to be delivered; what is still queued then is counted as dropped and logged
    /// (or, with `queue_dir`, stays on disk). Returns what each endpoint delivered over the
    /// whole run.
    pub async fn close(self, timeout: Duration) -> Vec<remote_write::Delivery> {
        drop(self.outputs);
        let mut out = Vec::new();
        for s in self.senders {
            out.push(s.finish(timeout).await);
        }
        out
    }
}

impl Emit for Sinks {
    fn series(&mut self, s: &OutSeries<'_>) {
        self.received += 1;
        for o in &mut self.outputs {
            o.series(s);
        }
    }
}

/// Builds the outputs of `sinks` (remote-write and OTLP senders are spawned on the current tokio
/// runtime) and registers their counters with `telemetry`.
///
/// # Errors
/// An invalid sink setting.
pub fn build(sinks: &[SinkConfig], telemetry: &Telemetry) -> Result<Sinks, SinkError> {
    let mut outputs = Sinks::new();
    for s in sinks {
        match s {
            SinkConfig::Stdout(c) => outputs.push(Box::new(stdout::Stdout::new(c))),
            SinkConfig::File(c) => outputs.push(Box::new(file::File::new(c)?)),
            SinkConfig::RemoteWrite(c) => {
                let (output, senders) = remote_write::RemoteWrite::start(c)?;
                telemetry.add(senders.stats() as Arc<dyn kubestate_check::telemetry::WriteMetrics>);
                outputs.push(Box::new(output));
                outputs.senders.push(senders);
            }
            SinkConfig::Otlp(c) => {
                let (output, senders) = otlp::Otlp::start(c)?;
                telemetry.add(senders.stats() as Arc<dyn kubestate_check::telemetry::WriteMetrics>);
                outputs.push(Box::new(output));
                outputs.senders.push(senders);
            }
        }
    }
    Ok(outputs)
}

/// Replaces every character not allowed in a Prometheus metric name (`[a-zA-Z0-9_:]`, no
/// leading digit) with `_`: `kubernetes_state.pod.count` → `kubernetes_state_pod_count`.
pub fn prometheus_name(name: &str, out: &mut String) {
    out.clear();
    for (i, c) in name.chars().enumerate() {
        let ok = c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit());
        out.push(if ok { c } else { '_' });
    }
}

/// Prepares a series for a Prometheus-model encoder: its name into `name` (made
/// Prometheus-safe if `sanitize`), and into `order` the indexes of its labels sorted by key,
/// one per key (the series' own first). Returns whether the keys can be used as they are
/// (else see [`sanitized_labels`]).
pub(crate) fn name_and_order(
    s: &OutSeries<'_>,
    sanitize: bool,
    name: &mut String,
    order: &mut Vec<usize>,
) -> bool {
    if sanitize {
        prometheus_name(s.name, name);
    } else {
        name.clear();
        name.push_str(s.name);
    }
    order.clear();
    order.extend(0..s.labels.len());
    order.sort_by(|a, b| s.labels[*a].0.cmp(s.labels[*b].0));
    order.dedup_by(|b, a| s.labels[*a].0 == s.labels[*b].0);
    !sanitize || s.labels.iter().all(|(k, _)| is_label_name(k))
}

/// Appends the labels `order` selects with Prometheus-safe keys to `out`, then sorts `out` by
/// key and keeps one value per key (for a series some of whose keys are not label names).
pub(crate) fn sanitized_labels(
    s: &OutSeries<'_>,
    order: &[usize],
    out: &mut Vec<(String, String)>,
) {
    for &i in order {
        let (k, v) = s.labels[i];
        let mut key = String::new();
        prometheus_name(k, &mut key);
        out.push((key.replace(':', "_"), v.to_string()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|b, a| a.0 == b.0);
}

/// Whether `name` is a valid Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_label_name(name: &str) -> bool {
    let mut b = name.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinks_are_a_tagged_enum_with_unknown_fields_denied() {
        let c = Config::from_yaml(
            "sinks:\n  - type: stdout\n  - {type: file, directory: /tmp/x, keep: 3}\n  - {type: remote_write, endpoint: \"http://127.0.0.1:9090/api/v1/write\", max_samples_per_request: 500}\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(c.sinks.len(), 3);
        assert!(matches!(&c.sinks[1], SinkConfig::File(f) if f.keep == Some(3)));
        assert!(
            matches!(&c.sinks[2], SinkConfig::RemoteWrite(r) if r.max_samples_per_request == 500)
        );
        let e = Config::from_yaml("sinks:\n  - {type: kafka}\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("kafka") && e.contains("remote_write"), "{e}");
        let e = Config::from_yaml(
            "sinks:\n  - {type: file, directory: /tmp, kep: 3}\n",
            "c.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("kep") && e.starts_with("c.yaml:2:"), "{e}");
    }

    #[test]
    fn names_are_made_prometheus_safe() {
        let mut s = String::new();
        prometheus_name("kubernetes_state.pod.count", &mut s);
        assert_eq!(s, "kubernetes_state_pod_count");
        prometheus_name("9lives-x", &mut s);
        assert_eq!(s, "_lives_x");
        assert!(is_label_name("kube_namespace") && !is_label_name("a.b") && !is_label_name("1a"));
    }
}
