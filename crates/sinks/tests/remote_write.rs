//! Remote-write and OTLP behaviour against a scripted local receiver: headers and body
//! format, retries with exponential backoff on 5xx/429/connection errors (OTLP: 429, 502,
//! 503, 504 only), no retry on other 4xx, OTLP partial successes, and drop counting (queue
//! full, rejected, retries exhausted, shutdown).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kubestate_check::{Emit, OutSeries, RunStats};
use kubestate_sinks::otlp::proto::{
    AnyValue, AnyValueKind, Data, ExportMetricsPartialSuccess, ExportMetricsServiceRequest,
    ExportMetricsServiceResponse, Value,
};
use kubestate_sinks::otlp::Otlp;
use kubestate_sinks::remote_write::proto::WriteRequest;
use kubestate_sinks::remote_write::RemoteWrite;
use kubestate_sinks::{RemoteWriteConfig, Sink, Sinks};
use parking_lot::Mutex;
use prost::Message;

#[derive(Clone)]
enum Reply {
    Status(u16),
    /// 200 with this body.
    Body(Vec<u8>),
    /// 204 saying this many samples were written (remote-write 2.0).
    Written(u64),
    Hang,
}

#[derive(Default)]
struct Seen {
    requests: Vec<(Instant, http::HeaderMap, Vec<u8>)>,
}

/// A receiver answering each request with the next scripted reply (200 once exhausted).
async fn receiver(script: Vec<Reply>) -> (String, Arc<Mutex<Seen>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (script, seen) = (script.clone(), s2.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (script, seen) = (script.clone(), seen.clone());
                    async move {
                        let headers = req.headers().clone();
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes().to_vec())
                            .unwrap_or_default();
                        seen.lock().requests.push((Instant::now(), headers, body));
                        let reply = script.lock().pop_front().unwrap_or(Reply::Status(200));
                        match reply {
                            Reply::Status(code) => Ok::<_, std::convert::Infallible>(
                                http::Response::builder()
                                    .status(code)
                                    .body(Full::new(Bytes::from_static(b"scripted")))
                                    .unwrap(),
                            ),
                            Reply::Body(b) => Ok(http::Response::new(Full::new(Bytes::from(b)))),
                            Reply::Written(n) => Ok(http::Response::builder()
                                .status(204)
                                .header("X-Prometheus-Remote-Write-Samples-Written", n.to_string())
                                .body(Full::new(Bytes::new()))
                                .unwrap()),
                            Reply::Hang => {
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                                Ok(http::Response::new(Full::new(Bytes::new())))
                            }
                        }
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}/api/v1/write"), seen)
}

fn config(endpoint: &str) -> RemoteWriteConfig {
    let mut c = RemoteWriteConfig::new(endpoint);
    c.min_backoff = Duration::from_millis(20);
    c.max_backoff = Duration::from_millis(200);
    c.max_retries = 3;
    c.timeout = Duration::from_secs(5);
    c
}

fn one_run(out: &mut dyn Sink, n: usize) {
    out.begin(1_700_000_000_000);
    for i in 0..n {
        let v = i.to_string();
        out.series(&OutSeries {
            name: "kubernetes_state.test",
            labels: &[("i", &v), ("kube_namespace", "ns")],
            value: i as f64,
            timestamp_ms: 1_700_000_000_000,
        });
    }
    out.finish(&RunStats::default()).unwrap();
}

async fn wait_for(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_5xx_and_429_with_exponential_backoff_then_delivers() {
    let (url, seen) = receiver(vec![
        Reply::Status(503),
        Reply::Status(429),
        Reply::Status(500),
    ])
    .await;
    let (mut out, senders) = RemoteWrite::start(&config(&url)).unwrap();
    let stats = senders.stats();
    one_run(&mut out, 3);
    wait_for("delivery", || stats.samples_sent() == 3).await;
    assert_eq!(stats.retries(), 3);
    assert_eq!(stats.samples_dropped_total(), 0);
    let seen = seen.lock();
    assert_eq!(seen.requests.len(), 4);
    // Backoff doubles: 20, 40, 80 ms between attempts.
    for (i, want) in [20u64, 40, 80].iter().enumerate() {
        let gap = seen.requests[i + 1].0 - seen.requests[i].0;
        assert!(gap >= Duration::from_millis(*want), "gap {i} was {gap:?}");
    }
    let (_, headers, body) = &seen.requests[3];
    assert_eq!(headers["content-encoding"], "snappy");
    assert_eq!(headers["content-type"], "application/x-protobuf");
    assert_eq!(headers["x-prometheus-remote-write-version"], "0.1.0");
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .expect("snappy block format");
    let req = WriteRequest::decode(&raw[..]).expect("a WriteRequest");
    assert_eq!(req.timeseries.len(), 3);
    let names: Vec<_> = req.timeseries[2]
        .labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("__name__", "kubernetes_state_test"),
            ("i", "2"),
            ("kube_namespace", "ns")
        ]
    );
    assert_eq!(req.timeseries[2].samples[0].value, 2.0);
    assert_eq!(req.timeseries[2].samples[0].timestamp, 1_700_000_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_4xx_are_not_retried_and_are_counted_as_rejected() {
    let (url, seen) = receiver(vec![Reply::Status(400)]).await;
    let (mut out, senders) = RemoteWrite::start(&config(&url)).unwrap();
    let stats = senders.stats();
    one_run(&mut out, 2);
    wait_for("the drop", || stats.samples_dropped("rejected") == 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(seen.lock().requests.len(), 1);
    assert_eq!(stats.retries(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_are_counted() {
    let (url, seen) = receiver(vec![Reply::Status(500); 10]).await;
    let (mut out, senders) = RemoteWrite::start(&config(&url)).unwrap();
    let stats = senders.stats();
    one_run(&mut out, 4);
    wait_for("the drop", || {
        stats.samples_dropped("retries_exhausted") == 4
    })
    .await;
    assert_eq!(
        seen.lock().requests.len(),
        4,
        "one attempt plus max_retries=3"
    );
    assert_eq!(stats.retries(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_are_retried_then_counted() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (mut out, senders) =
        RemoteWrite::start(&config(&format!("http://127.0.0.1:{port}/api/v1/write"))).unwrap();
    let stats = senders.stats();
    one_run(&mut out, 1);
    wait_for("the drop", || {
        stats.samples_dropped("retries_exhausted") == 1
    })
    .await;
    assert_eq!(stats.retries(), 3);
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_drops_and_counts_and_shutdown_counts_what_is_left() {
    let (url, _seen) = receiver(vec![Reply::Hang; 10]).await;
    let mut c = config(&url);
    c.queue_capacity = 1;
    c.max_samples_per_request = 1;
    let (mut out, senders) = RemoteWrite::start(&c).unwrap();
    let stats = senders.stats();
    // On a current-thread runtime the senders cannot run while the run is encoding: the
    // first request fills the queue, the next four find it full.
    one_run(&mut out, 5);
    assert_eq!(stats.samples_queued(), 1);
    assert_eq!(stats.samples_dropped("queue_full"), 4);
    let mut outputs = Sinks::new();
    outputs.push(Box::new(out));
    let _ = &mut outputs as &mut dyn Emit;
    drop(outputs);
    senders.drain(Duration::from_millis(200)).await;
    assert_eq!(
        stats.samples_dropped("shutdown"),
        1,
        "the hung request is counted at shutdown"
    );
    let mut text = Vec::new();
    kubestate_check::telemetry::WriteMetrics::write_metrics(&*stats, &mut text);
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("reason=\"queue_full\"} 4"), "{text}");
}

/// The samples of every request the receiver saw, as (timestamp, label `i`), in arrival
/// order.
fn received(seen: &Seen, accepted_only_after: usize) -> Vec<(i64, String)> {
    seen.requests[accepted_only_after..]
        .iter()
        .flat_map(|(_, _, body)| {
            let raw = snap::raw::Decoder::new()
                .decompress_vec(body)
                .expect("snappy");
            WriteRequest::decode(&raw[..])
                .expect("WriteRequest")
                .timeseries
        })
        .map(|t| {
            let i = t
                .labels
                .iter()
                .find(|l| l.name == "i")
                .map(|l| l.value.clone())
                .unwrap_or_default();
            (t.samples[0].timestamp, i)
        })
        .collect()
}

fn run_at(out: &mut RemoteWrite, ts: i64, n: usize) {
    out.begin(ts);
    for i in 0..n {
        let v = i.to_string();
        out.series(&OutSeries {
            name: "kubernetes_state.test",
            labels: &[("i", &v)],
            value: 1.0,
            timestamp_ms: ts,
        });
    }
    out.finish(&RunStats::default()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disk_queue_outlasts_an_outage_longer_than_the_retries() {
    // 12 failures: far more than max_retries (3), which would drop in memory mode.
    let (url, seen) = receiver(vec![Reply::Status(503); 12]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(&url);
    c.max_samples_per_request = 2;
    c.max_backoff = Duration::from_millis(40);
    c.queue_dir = Some(dir.path().join("q"));
    let (mut out, senders) = RemoteWrite::start(&c).unwrap();
    let stats = senders.stats();
    for r in 0..3 {
        run_at(&mut out, 1_700_000_000_000 + r * 15_000, 3);
    }
    wait_for("delivery after the outage", || stats.samples_sent() == 9).await;
    assert_eq!(stats.samples_dropped_total(), 0);
    assert!(stats.retries() >= 12);
    let got = received(&seen.lock(), 12);
    // Oldest first: timestamps never go back, and every sample arrived once.
    assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "{got:?}");
    assert_eq!(got.len(), 9);
    let files = std::fs::read_dir(dir.path().join("q")).unwrap().count();
    assert_eq!(files, 0, "delivered requests leave the directory");
    drop(out);
    senders.drain(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disk_queue_is_replayed_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // A receiver that is down: nothing listens on this port.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = config(&format!("http://127.0.0.1:{down}/api/v1/write"));
    c.queue_dir = Some(dir.path().to_path_buf());
    c.max_samples_per_request = 4;
    let (mut out, senders) = RemoteWrite::start(&c).unwrap();
    let stats = senders.stats();
    run_at(&mut out, 1_700_000_000_000, 5);
    run_at(&mut out, 1_700_000_015_000, 5);
    drop(out);
    // Shutdown during the outage: the requests stay on disk, nothing counts as dropped.
    senders.drain(Duration::from_millis(200)).await;
    assert_eq!(stats.samples_sent(), 0);
    assert_eq!(stats.samples_dropped_total(), 0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);

    // The next process (the receiver is back, at another address) sends them first.
    let (url, seen) = receiver(vec![]).await;
    c.endpoint = url;
    let (mut out, senders) = RemoteWrite::start(&c).unwrap();
    let stats = senders.stats();
    assert_eq!(
        stats.samples_queued(),
        10,
        "replayed requests count as queued"
    );
    run_at(&mut out, 1_700_000_030_000, 2);
    wait_for("the replay", || stats.samples_sent() == 12).await;
    let got = received(&seen.lock(), 0);
    let stamps: Vec<i64> = got.iter().map(|(t, _)| *t).collect();
    let mut sorted = stamps.clone();
    sorted.sort_unstable();
    assert_eq!(stamps, sorted, "in time order");
    assert_eq!(
        stamps.iter().filter(|t| **t == 1_700_000_000_000).count(),
        5
    );
    assert_eq!(
        stamps.iter().filter(|t| **t == 1_700_000_015_000).count(),
        5
    );
    drop(out);
    senders.drain(Duration::from_secs(1)).await;
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn otlp_config(endpoint: &str, yaml: &str) -> kubestate_sinks::OtlpConfig {
    let mut c: kubestate_sinks::OtlpConfig =
        serde_yaml::from_str(&format!("endpoint: {endpoint}\n{yaml}")).expect("config");
    c.min_backoff = Duration::from_millis(20);
    c.max_backoff = Duration::from_millis(200);
    c.max_retries = 3;
    c
}

/// Decodes an OTLP request body (gzip or not).
fn otlp_body(headers: &http::HeaderMap, body: &[u8]) -> ExportMetricsServiceRequest {
    let raw = if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out)
            .expect("gzip");
        out
    } else {
        body.to_vec()
    };
    ExportMetricsServiceRequest::decode(&raw[..]).expect("an ExportMetricsServiceRequest")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_requests_carry_gauges_sums_resource_and_retry_only_what_the_spec_says() {
    let (url, seen) = receiver(vec![Reply::Status(503), Reply::Status(429)]).await;
    let c = otlp_config(
        &url,
        "resource_attributes: {k8s.cluster.name: prod}\nmonotonic: ['kubernetes_state\\.test']\nbearer_token: s3cret\n",
    );
    let (mut out, senders) = Otlp::start(&c).unwrap();
    let stats = senders.stats();
    one_run(&mut out, 3);
    out.begin(1_700_000_015_000);
    out.series(&OutSeries {
        name: "kubernetes_state.gauge",
        labels: &[("a", "1"), ("a", "2"), ("b", ""), ("c.d", "x")],
        value: 0.5,
        timestamp_ms: 1_700_000_015_000,
    });
    out.finish(&RunStats::default()).unwrap();
    wait_for("delivery", || stats.samples_sent() == 4).await;
    assert_eq!(stats.retries(), 2);
    let seen = seen.lock();
    assert_eq!(
        seen.requests.len(),
        4,
        "two retries of the first request, then the second"
    );
    let (_, headers, body) = &seen.requests[2];
    assert_eq!(headers["content-type"], "application/x-protobuf");
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["authorization"], "Bearer s3cret");
    assert!(headers.get("x-prometheus-remote-write-version").is_none());
    let req = otlp_body(headers, body);
    let rm = &req.resource_metrics[0];
    let attrs: Vec<_> = rm
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(attrs, ["k8s.cluster.name", "service.name"]);
    let m = &rm.scope_metrics[0].metrics;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].name, "kubernetes_state.test", "names keep their dots");
    let Some(Data::Sum(sum)) = &m[0].data else {
        panic!("a Sum: {:?}", m[0].data)
    };
    assert!(sum.is_monotonic && sum.aggregation_temporality == 2);
    assert_eq!(sum.data_points.len(), 3);
    let p = &sum.data_points[2];
    assert_eq!(p.time_unix_nano, 1_700_000_000_000_000_000);
    assert!(p.start_time_unix_nano > 0 && p.start_time_unix_nano <= p.time_unix_nano);
    assert_eq!(p.value, Some(Value::AsDouble(2.0)));
    let (_, headers, body) = &seen.requests[3];
    let req = otlp_body(headers, body);
    let m = &req.resource_metrics[0].scope_metrics[0].metrics[0];
    let Some(Data::Gauge(g)) = &m.data else {
        panic!("a Gauge")
    };
    let kv: Vec<_> = g.data_points[0]
        .attributes
        .iter()
        .map(|kv| (kv.key.as_str(), kv.value.clone()))
        .collect();
    // One value per key (the first), sorted, empty values left out, keys as they are.
    assert_eq!(kv.len(), 2);
    assert_eq!((kv[0].0, kv[1].0), ("a", "c.d"));
    assert_eq!(
        kv[0].1,
        Some(AnyValue {
            value: Some(AnyValueKind::StringValue("1".into()))
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_500_is_not_retried_and_partial_successes_count_as_dropped() {
    let partial = ExportMetricsServiceResponse {
        partial_success: Some(ExportMetricsPartialSuccess {
            rejected_data_points: 2,
            error_message: "two bad points".into(),
        }),
    }
    .encode_to_vec();
    let (url, seen) = receiver(vec![Reply::Status(500), Reply::Body(partial)]).await;
    let (mut out, senders) = Otlp::start(&otlp_config(&url, "compression: none\n")).unwrap();
    let stats = senders.stats();
    one_run(&mut out, 3);
    wait_for("the drop", || stats.samples_dropped("rejected") == 3).await;
    one_run(&mut out, 5);
    wait_for("the partial success", || stats.samples_sent() == 3).await;
    assert_eq!(stats.samples_dropped("rejected"), 5);
    assert_eq!((stats.retries(), stats.pending()), (0, 0));
    let seen = seen.lock();
    assert_eq!(seen.requests.len(), 2);
    assert!(seen.requests[1].1.get("content-encoding").is_none());
    let req = otlp_body(&seen.requests[1].1, &seen.requests[1].2);
    assert_eq!(req.resource_metrics[0].scope_metrics[0].metrics.len(), 1);
    let text = {
        let mut out = Vec::new();
        kubestate_check::telemetry::WriteMetrics::write_metrics(&*stats, &mut out);
        String::from_utf8(out).unwrap()
    };
    assert!(
        text.contains(&format!(
            "kubestate_check_otlp_samples_dropped_total{{endpoint=\"{url}\",reason=\"rejected\"}} 5"
        )),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_2_sends_a_symbol_table_with_types_and_counts_partial_writes() {
    let (url, seen) = receiver(vec![Reply::Written(4), Reply::Written(5)]).await;
    let mut c = config(&url);
    c.protobuf_message = Some(kubestate_sinks::remote_write::RW2_MESSAGE.into());
    c.monotonic = Some(vec![".*_test".into()]);
    let (mut out, senders) = RemoteWrite::start(&c).unwrap();
    let stats = senders.stats();
    one_run(&mut out, 5);
    wait_for("the first answer", || stats.pending() == 0).await;
    assert_eq!(
        (stats.samples_sent(), stats.samples_dropped("rejected")),
        (4, 1)
    );
    one_run(&mut out, 5);
    wait_for("the second answer", || stats.samples_sent() == 9).await;
    let seen = seen.lock();
    let (_, headers, body) = &seen.requests[0];
    assert_eq!(
        headers["content-type"],
        "application/x-protobuf;proto=io.prometheus.write.v2.Request"
    );
    assert_eq!(headers["content-encoding"], "snappy");
    assert_eq!(headers["x-prometheus-remote-write-version"], "2.0.0");
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .expect("snappy");
    let req =
        kubestate_sinks::remote_write::proto2::Request::decode(&raw[..]).expect("a v2 Request");
    assert_eq!(req.symbols[0], "");
    assert_eq!(req.timeseries.len(), 5);
    let ts = &req.timeseries[3];
    let labels: Vec<_> = ts
        .labels_refs
        .chunks(2)
        .map(|p| {
            (
                req.symbols[p[0] as usize].as_str(),
                req.symbols[p[1] as usize].as_str(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            ("__name__", "kubernetes_state_test"),
            ("i", "3"),
            ("kube_namespace", "ns")
        ]
    );
    assert_eq!(ts.samples[0].value, 3.0);
    assert_eq!(
        ts.metadata.as_ref().map(|m| m.r#type),
        Some(kubestate_sinks::remote_write::proto2::COUNTER)
    );
    // Each string once: the name, `i`, its five values, the namespace key and value, "".
    assert_eq!(req.symbols.len(), 1 + 2 + 1 + 5 + 2);
}
