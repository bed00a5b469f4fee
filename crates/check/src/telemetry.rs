//! The check's self-metrics: figures of the last run and counters, as Prometheus text, plus
//! anything outputs add (sent, retried, dropped), served by [`serve`] on a small endpoint
//! with `/healthz` and `/readyz`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kubestate_metric::write_single;
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

use crate::run::RunStats;

/// Something that adds lines to the self-metrics (an output's counters).
pub trait WriteMetrics: Send + Sync {
    /// Appends complete `# HELP`/`# TYPE`/sample lines (written with
    /// [`kubestate_metric::write_header`] and [`kubestate_metric::write_sample`]).
    fn write_metrics(&self, out: &mut Vec<u8>);
}

/// Whether the check is ready to serve (`/readyz`), e.g. "every store finished its initial
/// sync".
pub type Readiness = Arc<dyn Fn() -> bool + Send + Sync>;

/// What one output did with one run, as the check's caller reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputRun {
    /// Series the output received from the run.
    pub received: u64,
    /// Of those, series written (file, stdout) or handed to a send queue (remote-write).
    pub written: u64,
    /// Of those, series left out (full queue, encoding error, failed write).
    pub dropped: u64,
    /// Series still waiting for delivery after the run (all runs so far), if the output queues.
    pub queued: u64,
}

/// Counters of one output, over all runs.
#[derive(Default)]
struct OutputCounters {
    received: u64,
    written: u64,
    dropped: u64,
    failures: u64,
    queued: u64,
    last: OutputRun,
}

/// Counters and the last run's figures.
#[derive(Default)]
pub struct Telemetry {
    runs: AtomicU64,
    failures: AtomicU64,
    series_in_total: AtomicU64,
    series_out_total: AtomicU64,
    last: Mutex<Option<RunStats>>,
    sources: Mutex<Vec<Arc<dyn WriteMetrics>>>,
    outputs: Mutex<Vec<(String, OutputCounters)>>,
    readiness: Mutex<Option<Readiness>>,
}

impl Telemetry {
    /// Nothing recorded yet.
    pub fn new() -> Telemetry {
        Telemetry::default()
    }

    /// Records a completed run and logs its figures.
    pub fn record(&self, stats: &RunStats) {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.series_in_total
            .fetch_add(stats.series_in, Ordering::Relaxed);
        self.series_out_total
            .fetch_add(stats.series_out, Ordering::Relaxed);
        info!(
            duration_ms = stats.duration.as_secs_f64() * 1e3,
            index_ms = stats.index_duration.as_secs_f64() * 1e3,
            objects = stats.objects,
            series_in = stats.series_in,
            series_out = stats.series_out,
            dropped = stats.series_dropped,
            filtered = stats.series_filtered,
            unknown_families = stats.unknown_families,
            join_keys = stats.join_keys,
            aggregation_rows = stats.aggregation_rows,
            service_checks = stats.service_checks,
            "check run complete"
        );
        *self.last.lock() = Some(stats.clone());
    }

    /// Records a run that could not happen (e.g. the scrape failed) and logs why.
    pub fn record_failure(&self, error: &dyn std::fmt::Display) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        warn!(error = %error, "check run failed");
    }

    /// Records what output `name` did with the last run (`Err` when it failed to deliver it:
    /// every series it received counts as dropped), and logs it at debug level.
    pub fn record_output(&self, name: &str, run: Result<OutputRun, u64>) {
        let mut outputs = self.outputs.lock();
        let at = match outputs.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                outputs.push((name.to_string(), OutputCounters::default()));
                outputs.len() - 1
            }
        };
        let c = &mut outputs[at].1;
        let run = match run {
            Ok(r) => r,
            Err(received) => {
                c.failures += 1;
                OutputRun {
                    received,
                    written: 0,
                    dropped: received,
                    queued: c.queued,
                }
            }
        };
        c.received += run.received;
        c.written += run.written;
        c.dropped += run.dropped;
        c.queued = run.queued;
        c.last = run;
        debug!(
            output = name,
            received = run.received,
            written = run.written,
            dropped = run.dropped,
            queued = run.queued,
            "check output finished its run"
        );
    }

    /// What output `name` did with the last run it finished.
    pub fn last_output(&self, name: &str) -> Option<OutputRun> {
        self.outputs
            .lock()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.last)
    }

    /// Sets what `/readyz` asks; without it the check is ready after its first run.
    pub fn set_readiness(&self, ready: Readiness) {
        *self.readiness.lock() = Some(ready);
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        let hook = self.readiness.lock().clone();
        match hook {
            Some(f) => f(),
            None => self.runs() > 0,
        }
    }

    /// Adds a source of extra lines.
    pub fn add(&self, source: Arc<dyn WriteMetrics>) {
        self.sources.lock().push(source);
    }

    /// Runs recorded so far.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// The last run's figures.
    pub fn last(&self) -> Option<RunStats> {
        self.last.lock().clone()
    }

    /// Everything as Prometheus text 0.0.4.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let counters = [
            (
                "kubestate_check_runs_total",
                "Completed check runs.",
                self.runs(),
            ),
            (
                "kubestate_check_run_failures_total",
                "Runs that could not take a snapshot.",
                self.failures.load(Ordering::Relaxed),
            ),
            (
                "kubestate_check_series_in_total",
                "Series read over all runs.",
                self.series_in_total.load(Ordering::Relaxed),
            ),
            (
                "kubestate_check_series_out_total",
                "Series emitted over all runs.",
                self.series_out_total.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, v) in counters {
            write_single(&mut out, name, help, "counter", &[], v as f64);
        }
        self.render_outputs(&mut out);
        if let Some(s) = self.last() {
            let gauges = [
                (
                    "timestamp_seconds",
                    "Time of the last run.",
                    s.timestamp_ms as f64 / 1e3,
                ),
                (
                    "duration_seconds",
                    "Duration of the last run.",
                    s.duration.as_secs_f64(),
                ),
                (
                    "index_duration_seconds",
                    "Time the last run spent building the join index.",
                    s.index_duration.as_secs_f64(),
                ),
                (
                    "objects",
                    "Objects in the last run's snapshot.",
                    s.objects as f64,
                ),
                (
                    "series_in",
                    "Series read by the last run.",
                    s.series_in as f64,
                ),
                (
                    "series_out",
                    "Series emitted by the last run.",
                    s.series_out as f64,
                ),
                (
                    "series_dropped",
                    "Series of families that emit nothing.",
                    s.series_dropped as f64,
                ),
                (
                    "series_filtered",
                    "Series left out by transform filters.",
                    s.series_filtered as f64,
                ),
                (
                    "unknown_families",
                    "Families without a rule, dropped.",
                    s.unknown_families as f64,
                ),
                (
                    "join_keys",
                    "Distinct keys in the join index.",
                    s.join_keys as f64,
                ),
                (
                    "aggregation_rows",
                    "Rows emitted by aggregations.",
                    s.aggregation_rows as f64,
                ),
                (
                    "service_checks",
                    "Service-check series emitted by the last run (in series_out).",
                    s.service_checks as f64,
                ),
            ];
            for (suffix, help, v) in gauges {
                let name = format!("kubestate_check_last_run_{suffix}");
                write_single(&mut out, &name, help, "gauge", &[], v);
            }
        }
        for s in self.sources.lock().iter() {
            s.write_metrics(&mut out);
        }
        // Every line is built from `&str`s, so this never replaces anything.
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Telemetry {
    fn render_outputs(&self, out: &mut Vec<u8>) {
        let outputs = self.outputs.lock();
        if outputs.is_empty() {
            return;
        }
        type Field = fn(&OutputCounters) -> u64;
        let families: [(&str, &str, &str, Field); 6] = [
            (
                "kubestate_check_output_series_received_total",
                "counter",
                "Series each output received from the runs.",
                |c| c.received,
            ),
            (
                "kubestate_check_output_series_written_total",
                "counter",
                "Series each output wrote or handed to its send queue.",
                |c| c.written,
            ),
            (
                "kubestate_check_output_series_dropped_total",
                "counter",
                "Series each output left out (full queue, failed write, encoding error).",
                |c| c.dropped,
            ),
            (
                "kubestate_check_output_failures_total",
                "counter",
                "Runs an output failed to deliver.",
                |c| c.failures,
            ),
            (
                "kubestate_check_output_series_queued",
                "gauge",
                "Series waiting for delivery after the last run (queueing outputs).",
                |c| c.queued,
            ),
            (
                "kubestate_check_output_last_run_series_written",
                "gauge",
                "Series each output wrote or queued from the last run.",
                |c| c.last.written,
            ),
        ];
        for (name, ty, help, f) in families {
            kubestate_metric::write_header(out, name, help, ty);
            for (sink, c) in outputs.iter() {
                kubestate_metric::write_sample(out, name, &[("output", sink)], f(c) as f64);
            }
        }
    }
}

/// Serves `GET /metrics` with [`Telemetry::render`], `/healthz` (200 while the process
/// runs) and `/readyz` ([`Telemetry::is_ready`]) until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    telemetry: Arc<Telemetry>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            _ = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    debug!(error = %e, "telemetry accept failed");
                    continue;
                }
            },
        };
        let t = telemetry.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let t = t.clone();
                async move {
                    let text = |status: http::StatusCode, body: &'static str| {
                        http::Response::builder()
                            .status(status)
                            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
                            .body(Full::new(Bytes::from_static(body.as_bytes())))
                    };
                    match req.uri().path() {
                        "/metrics" => http::Response::builder()
                            .header(
                                http::header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            )
                            .body(Full::new(Bytes::from(t.render()))),
                        "/healthz" | "/livez" => text(http::StatusCode::OK, "OK"),
                        "/readyz" if t.is_ready() => text(http::StatusCode::OK, "OK"),
                        "/readyz" => {
                            text(http::StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
                        }
                        _ => text(
                            http::StatusCode::NOT_FOUND,
                            "see /metrics, /healthz, /readyz\n",
                        ),
                    }
                }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await
            {
                debug!(%peer, error = %e, "telemetry connection ended");
            }
        });
    }
}
