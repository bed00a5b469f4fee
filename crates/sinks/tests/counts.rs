//! The check's telemetry counts what the outputs really received: over a synthesized world
//! with the `datadog` preset, the run's `series_out`, each output's received / written /
//! dropped / queued counters and the remote-write and OTLP counters are checked against what
//! local receivers decoded and what the file output holds, also when a queue overflows.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kubestate_check::{Check, Telemetry};
use kubestate_engine::{Config as EngineConfig, Engine};
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
use kubestate_sinks::remote_write::proto::WriteRequest;
use kubestate_sinks::Config;
use kubestate_store::StructuredStoreFactory;
use parking_lot::Mutex;
use prost::Message;

/// A remote-write (or, with `otlp`, OTLP/HTTP) receiver counting decoded samples; `hang`
/// holds every request forever.
async fn receiver(hang: bool, otlp: bool) -> (String, Arc<Mutex<u64>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let samples = Arc::new(Mutex::new(0u64));
    let s2 = samples.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let samples = s2.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let samples = samples.clone();
                    async move {
                        if hang {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes().to_vec())
                            .unwrap_or_default();
                        *samples.lock() += if otlp {
                            otlp_points(&body)
                        } else {
                            let raw = snap::raw::Decoder::new()
                                .decompress_vec(&body)
                                .expect("snappy");
                            let wr = WriteRequest::decode(&raw[..]).expect("WriteRequest");
                            wr.timeseries
                                .iter()
                                .map(|t| t.samples.len() as u64)
                                .sum::<u64>()
                        };
                        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                            Bytes::new(),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let path = if otlp { "v1/metrics" } else { "api/v1/write" };
    (format!("http://{addr}/{path}"), samples)
}

/// Data points of a gzip-compressed OTLP request.
fn otlp_points(body: &[u8]) -> u64 {
    use kubestate_sinks::otlp::proto::{Data, ExportMetricsServiceRequest};
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut raw).expect("gzip");
    let req = ExportMetricsServiceRequest::decode(&raw[..]).expect("ExportMetricsServiceRequest");
    req.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len() as u64,
            Some(Data::Sum(s)) => s.data_points.len() as u64,
            None => 0,
        })
        .sum()
}

/// The value of the sample line starting with `prefix` in `text`.
fn value(text: &str, prefix: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"));
    let v: f64 = line
        .rsplit_once(' ')
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no value in {line}"));
    v as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_counts_equal_what_the_outputs_received() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        port: 0,
        world: WorldSource::Synthesize(SynthSpec::for_pods(300)),
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let world = sim.snapshot();
    sim.shutdown().await;
    let structured = StructuredStoreFactory::new();
    let engine = Engine::new(
        &EngineConfig {
            labels_allowlist: kubestate_families::Allowlist::parse(
                "--metric-labels-allowlist",
                "*=[*]",
            )
            .expect("allowlist"),
            ..EngineConfig::default()
        },
        &structured,
    )
    .expect("engine");
    engine.replace_all(world.objects.iter().map(|o| &o.json[..]));

    let (good, delivered) = receiver(false, false).await;
    let (stuck, _) = receiver(true, false).await;
    let (otlp, otlp_delivered) = receiver(false, true).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = format!(
        "preset: datadog\nsinks:\n  - {{type: file, directory: {}, keep: 1}}\n  - {{type: remote_write, endpoint: \"{good}\", max_samples_per_request: 500}}\n  - {{type: remote_write, endpoint: \"{stuck}\", max_samples_per_request: 500, queue_capacity: 2, concurrency: 1}}\n  - {{type: otlp, endpoint: \"{otlp}\", max_samples_per_request: 700}}\n",
        dir.path().display()
    );
    let config = Config::from_yaml(&yaml, "counts.yaml").expect("config");
    let telemetry = Telemetry::new();
    let mut outputs = kubestate_sinks::build(&config.sinks, &telemetry).expect("outputs");
    let mut check = Check::new(&config, structured.symbols().clone()).expect("check");

    let mut total_out = 0;
    let runs = 2;
    for run in 0..runs {
        let ts = 1_700_000_000_000 + run * 15_000;
        outputs.begin(ts);
        let stats = check.run(&structured.snapshot(), SystemTime::now(), &mut outputs);
        telemetry.record(&stats);
        for (name, r) in outputs.finish_recorded(&stats, &telemetry) {
            r.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(outputs.received(), stats.series_out, "run {run}");
        assert!(
            stats.series_out > 5_000,
            "the world is large enough for several requests ({} series)",
            stats.series_out
        );
        total_out += stats.series_out;

        // The file holds one line per series of the run.
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "om"))
            .collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].path()).expect("file");
        let lines = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count() as u64;
        assert_eq!(lines, stats.series_out, "run {run}: lines in the file");

        let file = telemetry.last_output("file").expect("file counters");
        assert_eq!(
            (file.received, file.written, file.dropped, file.queued),
            (stats.series_out, stats.series_out, 0, 0)
        );
        let rw = telemetry.last_output("remote_write").expect("remote_write");
        assert_eq!(
            (rw.received, rw.written, rw.dropped),
            (stats.series_out, stats.series_out, 0)
        );
        let o = telemetry.last_output("otlp").expect("otlp");
        assert_eq!(
            (o.received, o.written, o.dropped),
            (stats.series_out, stats.series_out, 0)
        );
        // The stuck receiver: one request in flight, two queued, the rest dropped.
        let st = telemetry
            .last_output("remote_write_2")
            .expect("second remote_write");
        assert_eq!(st.received, stats.series_out);
        assert_eq!(st.written + st.dropped, st.received, "run {run}: {st:?}");
        assert!(st.dropped > 0 && st.queued > 0, "run {run}: {st:?}");
    }

    // Everything the good receiver was sent arrives, and the counters say so.
    let deadline = Instant::now() + Duration::from_secs(30);
    while *delivered.lock() < total_out && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(*delivered.lock(), total_out, "samples the receiver decoded");
    while *otlp_delivered.lock() < total_out && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        *otlp_delivered.lock(),
        total_out,
        "points the OTLP receiver decoded"
    );
    // The sender counts a request once its answer arrived, just after the receiver counted.
    let sent = format!("kubestate_check_remote_write_samples_sent_total{{endpoint=\"{good}\"}}");
    let otlp_sent = format!("kubestate_check_otlp_samples_sent_total{{endpoint=\"{otlp}\"}}");
    while (value(&telemetry.render(), &sent) < total_out
        || value(&telemetry.render(), &otlp_sent) < total_out)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = telemetry.render();
    assert_eq!(value(&text, "kubestate_check_runs_total "), runs as u64);
    assert_eq!(value(&text, "kubestate_check_series_out_total "), total_out);
    assert_eq!(
        value(
            &text,
            "kubestate_check_output_series_received_total{output=\"file\"}"
        ),
        total_out
    );
    assert_eq!(
        value(
            &text,
            "kubestate_check_output_series_written_total{output=\"remote_write\"}"
        ),
        total_out
    );
    assert_eq!(
        value(
            &text,
            &format!("kubestate_check_remote_write_samples_sent_total{{endpoint=\"{good}\"}}")
        ),
        total_out
    );
    assert_eq!(value(&text, &otlp_sent), total_out);
    assert_eq!(
        value(
            &text,
            "kubestate_check_output_series_written_total{output=\"otlp\"}"
        ),
        total_out
    );
    let queued_otlp = format!("kubestate_check_otlp_samples_queued_total{{endpoint=\"{otlp}\"}}");
    assert_eq!(
        value(&text, &queued_otlp),
        total_out,
        "queued, all delivered"
    );
    let queued_stuck = value(
        &text,
        &format!("kubestate_check_remote_write_samples_queued_total{{endpoint=\"{stuck}\"}}"),
    );
    let dropped_stuck = value(
        &text,
        &format!(
            "kubestate_check_remote_write_samples_dropped_total{{endpoint=\"{stuck}\",reason=\"queue_full\"}}"
        ),
    );
    assert_eq!(queued_stuck + dropped_stuck, total_out);
    assert_eq!(
        value(
            &text,
            "kubestate_check_output_series_dropped_total{output=\"remote_write_2\"}"
        ),
        dropped_stuck
    );
    assert_eq!(
        value(
            &text,
            "kubestate_check_output_series_queued{output=\"remote_write_2\"}"
        ),
        queued_stuck,
        "nothing of the stuck receiver was delivered"
    );
    drop(outputs);
}
