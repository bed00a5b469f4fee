//! Remote-write behaviour against a scripted local receiver: headers and body format, retries
//! with exponential backoff on 5xx/429/connection errors, no retry on other 4xx, and drop
//! counting (queue full, rejected, retries exhausted, shutdown).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kubestate_check::{Emit, OutSeries, RunStats};
use kubestate_sinks::remote_write::proto::WriteRequest;
use kubestate_sinks::remote_write::RemoteWrite;
use kubestate_sinks::{RemoteWriteConfig, Sink, Sinks};
use parking_lot::Mutex;
use prost::Message;

#[derive(Clone, Copy)]
enum Reply {
    Status(u16),
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

fn one_run(out: &mut RemoteWrite, n: usize) {
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
