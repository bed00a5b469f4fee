//! The check's self-metrics: figures of the last run and counters, as Prometheus text, plus
//! anything outputs add (sent, retried, dropped), served by [`serve`] on a small endpoint.

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

/// Counters and the last run's figures.
#[derive(Default)]
pub struct Telemetry {
    runs: AtomicU64,
    failures: AtomicU64,
    series_out_total: AtomicU64,
    last: Mutex<Option<RunStats>>,
    sources: Mutex<Vec<Arc<dyn WriteMetrics>>>,
}

impl Telemetry {
    /// Nothing recorded yet.
    pub fn new() -> Telemetry {
        Telemetry::default()
    }

    /// Records a completed run and logs its figures.
    pub fn record(&self, stats: &RunStats) {
        self.runs.fetch_add(1, Ordering::Relaxed);
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
            "check run complete"
        );
        *self.last.lock() = Some(stats.clone());
    }

    /// Records a run that could not happen (e.g. the scrape failed) and logs why.
    pub fn record_failure(&self, error: &dyn std::fmt::Display) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        warn!(error = %error, "check run failed");
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
                "kubestate_check_series_out_total",
                "Series emitted over all runs.",
                self.series_out_total.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, v) in counters {
            write_single(&mut out, name, help, "counter", &[], v as f64);
        }
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

/// Serves `GET /metrics` with [`Telemetry::render`] until `shutdown` completes.
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
                    let resp = if req.uri().path() == "/metrics" {
                        http::Response::builder()
                            .header(
                                http::header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            )
                            .body(Full::new(Bytes::from(t.render())))
                    } else {
                        http::Response::builder()
                            .status(http::StatusCode::NOT_FOUND)
                            .body(Full::new(Bytes::from_static(b"see /metrics\n")))
                    };
                    resp
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
