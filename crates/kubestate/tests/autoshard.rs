//! Automatic sharding (`--pod`/`--pod-namespace`): the shard comes from this pod's ordinal in
//! its StatefulSet, and scaling the StatefulSet re-shards the running exporter, whose output
//! then converges to exactly its new share of the objects.

use std::time::{Duration, Instant};

mod common;

use common::{loopback_options, oracle, sim_client, start_exporter};
use kubestate_sim::SimHandle;
use kubestate_store::ResourceFilter;
use kubestate_testkit::diff_families;
use kubestate_testkit::http::get;
use kubestate_testkit::sim::{conformance_sim, empty_sim};
use serde_json::json;

fn statefulset(replicas: u32) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": "kubestate", "namespace": "monitoring", "uid": "sts-uid-1"},
           "spec": {"replicas": replicas, "serviceName": "kubestate",
                    "selector": {"matchLabels": {"app": "kubestate"}}},
           "status": {"replicas": replicas}})
}

/// What an exporter that is shard `shard` of `total` must serve for the sim's objects now.
fn shard_oracle(sim: &SimHandle, shard: u32, total: u32) -> String {
    let flags = [
        format!("--shard={shard}"),
        format!("--total-shards={total}"),
    ];
    let snap = sim.snapshot();
    oracle(
        &flags,
        snap.objects.iter().map(|o| &o.json[..]),
        &ResourceFilter::default(),
    )
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
    let Some(sim) = conformance_sim("flags-defaults").await else {
        return;
    };
    sim.apply(statefulset(2)).expect("statefulset");
    sim.apply(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "kubestate-1", "namespace": "monitoring", "uid": "pod-uid-1",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "kubestate",
                                          "uid": "sts-uid-1", "controller": true}]},
        "spec": {"containers": [{"name": "kubestate", "image": "kubestate"}]}}))
    .expect("pod");

    let opts = loopback_options(&[
        "--pod=kubestate-1",
        "--pod-namespace=monitoring",
        "--shard=0",
        "--total-shards=5",
    ]);
    let exporter = start_exporter(&sim, &opts).await;
    let metrics = format!("http://{}/metrics", exporter.metrics_addr);
    let telemetry = format!("http://{}/metrics", exporter.telemetry_addr);

    // The flags' static shard is overridden by the StatefulSet: pod 1 of 2.
    converges(&metrics, &shard_oracle(&sim, 1, 2))
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
    converges(&metrics, &shard_oracle(&sim, 1, 3))
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
    let sim = empty_sim().await;
    sim.apply(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "lonely-0", "namespace": "default", "uid": "u0"}, "spec": {"containers": []}}))
    .expect("pod");
    let opts = loopback_options(&["--pod=lonely-0", "--pod-namespace=default"]);
    let err = match kubestate::exporter::start(&opts, sim_client(&sim)).await {
        Ok(_) => panic!("started without a StatefulSet"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("not controlled by an apps/v1 StatefulSet"),
        "{err}"
    );
    sim.shutdown().await;
}
