//! `kubestate check` in embedded mode runs the exporter's watches:
//!
//! * sharding: N check replicas over one simulated world (`--shard/--total-shards`, and
//!   `--pod/--pod-namespace` following a StatefulSet that scales from 2 to 3) emit, between
//!   them, every series of an unsharded check exactly once;
//! * custom resources from `--custom-resource-state-config`, appearing and disappearing
//!   with their CRD;
//! * `/healthz`, `/readyz` and the engine's list/watch counters on the check's telemetry
//!   listener;
//! * `--serve-metrics`: the exporter's `/metrics` from the same watches, byte for byte what a
//!   separate exporter serves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod common;
use common::check::newest_series;
use common::{loopback_options, start_exporter, LOOPBACK};

use kubestate::check::{CheckArgs, RunningCheck};
use kubestate::options::ExporterOptions;
use kubestate_sim::SimHandle;
use kubestate_testkit::http::get;
use kubestate_testkit::sim::{conformance_sim, empty_sim, install_crypto};
use serde_json::{json, Value};

const INTERVAL: Duration = Duration::from_millis(300);

fn statefulset(replicas: u32) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": "kubestate", "namespace": "monitoring", "uid": "sts-uid-1"},
           "spec": {"replicas": replicas, "serviceName": "kubestate",
                    "selector": {"matchLabels": {"app": "kubestate"}}},
           "status": {"replicas": replicas}})
}

fn replica_pod(ordinal: u32) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("kubestate-{ordinal}"), "namespace": "monitoring",
                     "uid": format!("pod-uid-{ordinal}"),
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "kubestate",
                                          "uid": "sts-uid-1", "controller": true}]},
        "spec": {"containers": [{"name": "kubestate", "image": "kubestate"}]}})
}

/// The check's YAML: everything passed through to one file output in `dir`.
fn check_yaml(dir: &Path) -> String {
    format!(
        "sinks:\n  - {{type: file, directory: {}, keep: 2}}\n",
        dir.display()
    )
}

fn args(config: PathBuf, telemetry: bool, exporter: &[String]) -> CheckArgs {
    CheckArgs {
        config: Some(config),
        interval: Some(INTERVAL),
        telemetry_listen: telemetry.then(|| "127.0.0.1:0".parse().expect("addr")),
        exporter_args: exporter.to_vec(),
        ..CheckArgs::default()
    }
}

/// One check replica writing into its own directory.
struct Replica {
    dir: tempfile::TempDir,
    check: RunningCheck,
}

async fn replica(sim: &SimHandle, flags: &[&str]) -> Replica {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let cfg = dir.path().join("check.yaml");
    std::fs::write(&cfg, check_yaml(&out)).expect("config");
    let mut exporter = vec![format!("--apiserver={}", sim.base_url())];
    exporter.extend(flags.iter().map(|f| (*f).to_string()));
    let check = kubestate::check::start(args(cfg, true, &exporter))
        .await
        .expect("check starts");
    Replica { dir, check }
}

/// What an unsharded check emits for the sim's objects now, through the same file output.
fn oracle(sim: &SimHandle, flags: &[&str]) -> Vec<String> {
    let mut all = vec!["--metric-labels-allowlist=*=[*]".to_string()];
    all.extend(flags.iter().map(|f| (*f).to_string()));
    let opts = ExporterOptions::parse_args(all.iter()).expect("flags");
    common::check::oracle(sim, &opts.engine_config().expect("engine config"))
}

/// Waits until the replicas' newest outputs, together, hold each line of `want` exactly once.
async fn converges(replicas: &[&Replica], want: &[String], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        let mut counts: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut complete = true;
        for (i, r) in replicas.iter().enumerate() {
            match newest_series(&r.dir.path().join("out")) {
                Some(lines) => {
                    for l in lines {
                        counts.entry(l).or_default().push(i);
                    }
                }
                None => complete = false,
            }
        }
        if complete {
            let missing: Vec<&String> = want.iter().filter(|l| !counts.contains_key(*l)).collect();
            let twice: Vec<(&String, &Vec<usize>)> =
                counts.iter().filter(|(_, v)| v.len() > 1).collect();
            let extra: Vec<&String> = counts
                .keys()
                .filter(|l| want.binary_search(l).is_err())
                .collect();
            if missing.is_empty() && twice.is_empty() && extra.is_empty() {
                // Every replica has a share (the world is large enough for that).
                for (i, r) in replicas.iter().enumerate() {
                    let n = newest_series(&r.dir.path().join("out")).map_or(0, |l| l.len());
                    assert!(n > 0, "{what}: replica {i} emits nothing");
                }
                return;
            }
            last = format!(
                "{} missing (e.g. {:?}), {} more than once (e.g. {:?}), {} unexpected (e.g. {:?})",
                missing.len(),
                missing.first(),
                twice.len(),
                twice.first(),
                extra.len(),
                extra.first()
            );
        }
        tokio::time::sleep(INTERVAL).await;
    }
    panic!(
        "{what}: the replicas did not converge to {} series: {last}",
        want.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_shards_emit_every_series_once_between_them() {
    let Some(sim) = conformance_sim("flags-defaults").await else {
        return;
    };
    let want = oracle(&sim, &[]);
    assert!(want.len() > 100, "the world has {} series", want.len());
    let mut replicas = Vec::new();
    for shard in 0..3 {
        replicas.push(replica(&sim, &[&format!("--shard={shard}"), "--total-shards=3"]).await);
    }
    converges(
        &replicas.iter().collect::<Vec<_>>(),
        &want,
        "3 fixed shards",
    )
    .await;
    // A change in the world reaches exactly one replica.
    sim.apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "late", "namespace": "default", "uid": "late-cm-uid"}}))
        .expect("configmap");
    converges(
        &replicas.iter().collect::<Vec<_>>(),
        &oracle(&sim, &[]),
        "3 fixed shards after a change",
    )
    .await;
    for r in replicas {
        r.check.stop().await.expect("clean stop");
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_shards_follow_the_statefulset_as_it_scales() {
    let Some(sim) = conformance_sim("flags-defaults").await else {
        return;
    };
    sim.apply(statefulset(2)).expect("statefulset");
    for i in 0..2 {
        sim.apply(replica_pod(i)).expect("pod");
    }
    let flags = |i: u32| {
        [
            format!("--pod=kubestate-{i}"),
            "--pod-namespace=monitoring".to_string(),
        ]
    };
    let mut replicas = Vec::new();
    for i in 0..2 {
        let f = flags(i);
        replicas.push(replica(&sim, &[&f[0], &f[1]]).await);
    }
    converges(
        &replicas.iter().collect::<Vec<_>>(),
        &oracle(&sim, &[]),
        "2 automatic shards",
    )
    .await;
    // The StatefulSet scales to 3: the new pod starts, the running ones re-shard.
    sim.apply(statefulset(3)).expect("scale up");
    sim.apply(replica_pod(2)).expect("pod 2");
    let f = flags(2);
    replicas.push(replica(&sim, &[&f[0], &f[1]]).await);
    converges(
        &replicas.iter().collect::<Vec<_>>(),
        &oracle(&sim, &[]),
        "3 automatic shards",
    )
    .await;
    let t = get(
        &format!(
            "http://{}/metrics",
            replicas[0].check.telemetry_addr.expect("telemetry")
        ),
        &[],
        Duration::from_secs(5),
    )
    .await
    .expect("telemetry")
    .text();
    assert!(t.contains("kube_state_metrics_total_shards 3\n"), "{t}");
    // And back to 2: the third replica goes away, the others take its share.
    let third = replicas.pop().expect("third");
    third.check.stop().await.expect("clean stop");
    sim.delete("pods", "monitoring", "kubestate-2")
        .expect("delete pod 2");
    sim.apply(statefulset(2)).expect("scale down");
    converges(
        &replicas.iter().collect::<Vec<_>>(),
        &oracle(&sim, &[]),
        "back to 2 automatic shards",
    )
    .await;
    for r in replicas {
        r.check.stop().await.expect("clean stop");
    }
    sim.shutdown().await;
}

const CR_CONFIG: &str = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
  - groupVersionKind: {group: example.com, version: "*", kind: Widget}
    metricNamePrefix: widget
    labelsFromPath:
      name: [metadata, name]
      namespace: [metadata, namespace]
    metrics:
    - name: replicas
      help: Desired replicas
      each: {type: Gauge, gauge: {path: [spec, replicas]}}
"#;

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]
        }
    })
}

/// Prints what the check wrote when a test fails.
struct Show<F: Fn() -> Option<Vec<String>>>(F);

impl<F: Fn() -> Option<Vec<String>>> Drop for Show<F> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the check's newest output:\n{:#?}", (self.0)());
        }
    }
}

async fn wait_for(mut ok: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_health_and_engine_telemetry() {
    let sim = empty_sim().await;
    sim.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}))
        .expect("namespace");
    sim.apply(widget_crd()).expect("crd");
    sim.apply(json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default"}, "spec": {"replicas": 3}}))
        .expect("widget");
    let r = replica(
        &sim,
        &[
            "--resources=namespaces",
            &format!("--custom-resource-state-config={CR_CONFIG}"),
        ],
    )
    .await;
    let out = r.dir.path().join("out");
    let has =
        |needle: &str| newest_series(&out).is_some_and(|l| l.iter().any(|s| s.contains(needle)));
    let shown = out.clone();
    let _show = Show(move || newest_series(&shown));
    wait_for(
        || has("widget_replicas{customresource_group=\"example.com\",customresource_kind=\"Widget\",customresource_version=\"v1\",name=\"w1\",namespace=\"default\"} 3"),
        "the widget's series",
    )
    .await;
    assert!(has("kube_namespace_status_phase{"), "built-in families too");

    let base = format!("http://{}", r.check.telemetry_addr.expect("telemetry"));
    let h = get(&format!("{base}/healthz"), &[], Duration::from_secs(5))
        .await
        .expect("healthz");
    assert_eq!((h.status, h.text().as_str()), (200, "OK"));
    let h = get(&format!("{base}/readyz"), &[], Duration::from_secs(5))
        .await
        .expect("readyz");
    assert_eq!(h.status, 200, "synced before the first run");
    let t = get(&format!("{base}/metrics"), &[], Duration::from_secs(5))
        .await
        .expect("metrics")
        .text();
    for needle in [
        // The simulator serves watch-lists: the initial list is a watch request.
        "kube_state_metrics_watch_total{resource=\"*v1.Namespace\",result=\"success\"} ",
        "kube_state_metrics_watch_total{resource=\"*unstructured.Unstructured\",result=\"success\"} ",
        "kube_state_metrics_custom_resource_state_add_events_total",
        "kubestate_check_runs_total ",
        "kubestate_check_output_series_written_total{output=\"file\"}",
    ] {
        assert!(t.contains(needle), "{needle} missing from\n{t}");
    }

    // The CRD goes away: so do its series, and only them.
    sim.delete("customresourcedefinitions", "", "widgets.example.com")
        .expect("delete crd");
    wait_for(|| !has("widget_replicas"), "the widget's series to go").await;
    assert!(has("kube_namespace_status_phase{"));
    r.check.stop().await.expect("clean stop");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_until_the_initial_sync() {
    install_crypto();
    // Nothing answers here: the watches never sync.
    let port = kubestate_testkit::tools::free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("check.yaml");
    std::fs::write(&cfg, check_yaml(&dir.path().join("out"))).expect("config");
    let check = kubestate::check::start(args(
        cfg,
        true,
        &[
            format!("--apiserver=http://127.0.0.1:{port}"),
            "--resources=configmaps".into(),
        ],
    ))
    .await
    .expect("starts without waiting for the sync");
    let base = format!("http://{}", check.telemetry_addr.expect("telemetry"));
    let h = get(&format!("{base}/healthz"), &[], Duration::from_secs(5))
        .await
        .expect("healthz");
    assert_eq!(h.status, 200);
    let r = get(&format!("{base}/readyz"), &[], Duration::from_secs(5))
        .await
        .expect("readyz");
    assert_eq!(r.status, 503);
    let t = get(&format!("{base}/metrics"), &[], Duration::from_secs(5))
        .await
        .expect("metrics")
        .text();
    assert!(t.contains("kubestate_check_runs_total 0\n"), "{t}");
    // The failed list (or watch-list) of configmaps is counted.
    assert!(
        t.contains("{resource=\"*v1.ConfigMap\",result=\"error\"} "),
        "{t}"
    );
    check.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_metrics_shares_the_watches_and_serves_what_the_exporter_serves() {
    let Some(sim) = conformance_sim("flags-defaults").await else {
        return;
    };
    let flags: Vec<String> = [
        format!("--apiserver={}", sim.base_url()),
        "--metric-labels-allowlist=pods=[*],deployments=[*]".to_string(),
    ]
    .into_iter()
    .chain(LOOPBACK.map(String::from))
    .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let cfg = dir.path().join("check.yaml");
    std::fs::write(&cfg, check_yaml(&out)).expect("config");
    let mut a = args(cfg, true, &flags);
    a.serve_metrics = true;
    let check = kubestate::check::start(a).await.expect("check starts");
    let (metrics, telemetry) = check.exporter_addrs.expect("exporter servers");

    let exporter = start_exporter(&sim, &loopback_options(&flags)).await;
    wait_for(|| newest_series(&out).is_some(), "the check's first run").await;

    let body = |addr: std::net::SocketAddr| async move {
        get(
            &format!("http://{addr}/metrics"),
            &[],
            Duration::from_secs(10),
        )
        .await
        .expect("metrics")
        .text()
    };
    let ours = body(metrics).await;
    let theirs = body(exporter.metrics_addr).await;
    assert!(
        ours.contains("kube_pod_labels{"),
        "{}",
        &ours[..ours.len().min(2000)]
    );
    if let Some(d) = kubestate_testkit::diff_families(&theirs, &ours, |_| true) {
        panic!("/metrics of --serve-metrics differs from the exporter's:\n{d}");
    }
    // The check sees the same objects: its pod series match the exporter's.
    let lines = newest_series(&out).expect("check output");
    let pods_check = lines
        .iter()
        .filter(|l| l.starts_with("kube_pod_info{"))
        .count();
    let pods_exporter = theirs
        .lines()
        .filter(|l| l.starts_with("kube_pod_info{"))
        .count();
    assert!(pods_check > 0);
    assert_eq!(pods_check, pods_exporter);
    // Both telemetry servers answer.
    let t = get(
        &format!("http://{telemetry}/readyz"),
        &[],
        Duration::from_secs(5),
    )
    .await
    .expect("readyz");
    assert_eq!(t.status, 200);
    let c = check.telemetry_addr.expect("check telemetry");
    let t = get(&format!("http://{c}/readyz"), &[], Duration::from_secs(5))
        .await
        .expect("readyz");
    assert_eq!(t.status, 200);
    exporter.stop().await;
    check.stop().await.expect("clean stop");
    sim.shutdown().await;
}
