//! Automatic sharding (`--pod`/`--pod-namespace`): the shard comes from this pod's ordinal in
//! its StatefulSet, and scaling the StatefulSet re-shards the running exporter, whose output
//! then converges to exactly its new share of the objects.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kubestate::options::ExporterOptions;
use kubestate_engine::{Config, Engine, Sharding};
use kubestate_metric::Format;
use kubestate_sim::{Sim, SimConfig, WorldSource};
use kubestate_store::{Exposition, ResourceFilter, TextStoreFactory};
use kubestate_testkit::http::get;
use kubestate_testkit::{cases, diff_families};
use serde_json::json;

fn statefulset(replicas: u32) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": "kubestate", "namespace": "monitoring", "uid": "sts-uid-1"},
           "spec": {"replicas": replicas, "serviceName": "kubestate",
                    "selector": {"matchLabels": {"app": "kubestate"}}},
           "status": {"replicas": replicas}})
}

/// What an exporter with `sharding` must serve for `objects`.
fn oracle(objects: &[serde_json::Value], sharding: Sharding) -> String {
    let exposition = Arc::new(Exposition::new());
    let config = Config {
        sharding,
        ..Config::default()
    };
    let engine =
        Engine::new(&config, &TextStoreFactory::new(exposition.clone())).expect("valid config");
    let raw: Vec<Vec<u8>> = objects
        .iter()
        .map(|o| serde_json::to_vec(o).expect("json"))
        .collect();
    engine.replace_all(raw.iter().map(Vec::as_slice));
    let mut out = Vec::new();
    exposition.write_all(Format::Text, &ResourceFilter::default(), &mut out);
    String::from_utf8(out).expect("utf-8")
}

/// Exporter options for `args`, listening on free loopback ports.
fn local(args: &[&str]) -> ExporterOptions {
    let mut opts = ExporterOptions::parse_args(args).expect("flags");
    opts.host = "127.0.0.1".into();
    opts.port = 0;
    opts.telemetry_host = "127.0.0.1".into();
    opts.telemetry_port = 0;
    opts
}

async fn converges(url: &str, want: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    while Instant::now() < deadline {
        let body = get(url, &[], Duration::from_secs(10)).await?.text();
        match diff_families(want, &body, |_| true) {
            None => return Ok(()),
            Some(d) => last = d,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!(
        "did not converge:\n{}",
        last.lines().take(30).collect::<Vec<_>>().join("\n")
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_follows_the_statefulset() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(case) = cases().into_iter().find(|c| c.name == "flags-defaults") else {
        eprintln!("SKIP: conformance corpus not present");
        return;
    };
    let sim = Sim::start(SimConfig {
        port: 0,
        world: WorldSource::File(case.objects_path()),
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    sim.apply(statefulset(2)).expect("statefulset");
    sim.apply(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "kubestate-1", "namespace": "monitoring", "uid": "pod-uid-1",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "kubestate",
                                          "uid": "sts-uid-1", "controller": true}]},
        "spec": {"containers": [{"name": "kubestate", "image": "kubestate"}]}}))
    .expect("pod");

    let opts = local(&[
        "--pod=kubestate-1",
        "--pod-namespace=monitoring",
        "--shard=0",
        "--total-shards=5",
    ]);
    let client = kube::Client::try_from(kube::Config::new(sim.base_url().parse().expect("url")))
        .expect("client");
    let exporter = kubestate::exporter::start(&opts, client)
        .await
        .expect("exporter");
    tokio::time::timeout(Duration::from_secs(30), exporter.wait_synced())
        .await
        .expect("synced");
    let metrics = format!("http://{}/metrics", exporter.metrics_addr);
    let telemetry = format!("http://{}/metrics", exporter.telemetry_addr);

    let objects =
        |s: &kubestate_sim::WorldSnapshot| s.objects.iter().map(|o| o.value()).collect::<Vec<_>>();
    // The flags' static shard is overridden by the StatefulSet: pod 1 of 2.
    converges(
        &metrics,
        &oracle(&objects(&sim.snapshot()), Sharding { shard: 1, total: 2 }),
    )
    .await
    .expect("shard 1 of 2");
    let t = get(&telemetry, &[], Duration::from_secs(5))
        .await
        .expect("telemetry")
        .text();
    assert!(
        t.contains("kube_state_metrics_shard_ordinal{shard_ordinal=\"1\"} 1\n"),
        "{t}"
    );
    assert!(t.contains("kube_state_metrics_total_shards 2\n"), "{t}");

    sim.apply(statefulset(3)).expect("scale");
    converges(
        &metrics,
        &oracle(&objects(&sim.snapshot()), Sharding { shard: 1, total: 3 }),
    )
    .await
    .expect("shard 1 of 3");
    let t = get(&telemetry, &[], Duration::from_secs(5))
        .await
        .expect("telemetry")
        .text();
    assert!(t.contains("kube_state_metrics_total_shards 3\n"), "{t}");

    exporter.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_outside_a_statefulset_fails_at_startup() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        port: 0,
        world: WorldSource::Empty,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    sim.apply(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "lonely-0", "namespace": "default", "uid": "u0"}, "spec": {"containers": []}}))
    .expect("pod");
    let opts = local(&["--pod=lonely-0", "--pod-namespace=default"]);
    let client = kube::Client::try_from(kube::Config::new(sim.base_url().parse().expect("url")))
        .expect("client");
    let err = match kubestate::exporter::start(&opts, client).await {
        Ok(_) => panic!("started without a StatefulSet"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("not controlled by an apps/v1 StatefulSet"),
        "{err}"
    );
    sim.shutdown().await;
}
