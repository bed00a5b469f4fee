//! Custom Resource State end to end: the in-process simulator serves CRDs and custom
//! resources, the exporter runs in-process with a custom-resource-state configuration file.
//!
//! * exact samples of gauges, state sets, infos and labels, and the self-metrics;
//! * CRDs added, changed (a new served version) and deleted at run time make custom
//!   resource families appear and disappear, while the built-in store keeps its objects and
//!   its list/watch is never restarted;
//! * file reloads replace the custom resource stores; a broken file keeps the old ones;
//! * a missing file (with --continue-without-custom-resource-state-config-file) is loaded
//!   when it appears;
//! * a differential run against the reference kube-state-metrics on the same world and
//!   configuration, before and after CRDs are created and deleted at run time (skipped with a
//!   message when the binary is not installed).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{loopback_options, start_exporter};

use kubestate_sim::{Sim, SimConfig, SimHandle};
use kubestate_testkit::http::get;
use kubestate_testkit::tools::{free_port, url_encode};
use kubestate_testkit::{diff_families, find_binary};
use serde_json::{json, Value};

const CONFIG: &str = r#"
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
      each: {type: Gauge, gauge: {path: [spec, replicas], nilIsZero: true}}
    - name: size
      help: Size as a quantity
      each: {type: Gauge, gauge: {path: [spec, size]}}
    - name: phase
      help: Phase
      each: {type: StateSet, stateSet: {path: [status, phase], labelName: phase, list: [Pending, Ready, Failed]}}
    - name: condition
      help: Conditions
      each: {type: Gauge, gauge: {path: [status, conditions], labelsFromPath: {type: [type]}, valueFrom: [status]}}
    - name: tags_info
      help: Tags
      each: {type: Info, info: {path: [spec, tags], labelFromKey: tag}}
    - name: labels
      help: Object labels
      each: {type: Info, info: {labelsFromPath: {"label_*": [metadata, labels]}}}
    - name: updated
      each: {type: Gauge, gauge: {path: [status, lastUpdate]}}
  - groupVersionKind: {group: tools.io, kind: Gadget}
    commonLabels: {team: tools}
    labelsFromPath: {name: [metadata, name]}
    metrics:
    - name: gadget_info
      each: {type: Info, info: {labelsFromPath: {version: [spec, version]}}}
    - name: gadget_weight
      each: {type: Gauge, gauge: {path: [spec, weight]}}
  - groupVersionKind: {group: other.io, version: v1, kind: Thing}
    metricNamePrefix: thing
    metrics:
    - name: count
      each: {type: Gauge, gauge: {path: [spec, count]}}
"#;

fn crd(group: &str, kind: &str, plural: &str, scope: &str, versions: &[&str]) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(), "listKind": format!("{kind}List")},
            "versions": versions.iter().enumerate().map(|(i, v)| json!({
                "name": v, "served": true, "storage": i == 0,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            })).collect::<Vec<_>>()
        }
    })
}

/// The world: two ConfigMaps, Widgets (namespaced) and a Gadget (cluster-scoped).
fn populate(sim: &SimHandle) {
    let apply = |v: Value| {
        sim.apply(v).expect("sim accepts the object");
    };
    for (ns, name) in [("default", "cm1"), ("team-b", "cm2")] {
        apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        apply(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}}),
        );
    }
    apply(crd(
        "example.com",
        "Widget",
        "widgets",
        "Namespaced",
        &["v1"],
    ));
    apply(crd(
        "tools.io",
        "Gadget",
        "gadgets",
        "Cluster",
        &["v1alpha1"],
    ));
    apply(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default", "labels": {"app": "shop", "app.kubernetes.io/part-of": "store"}},
        "spec": {"replicas": 3, "size": "250m", "tags": {"env": "prod", "tier": "web"}},
        "status": {"phase": "Ready", "lastUpdate": "2024-01-02T03:04:05Z",
                   "conditions": [{"type": "Available", "status": "True"}, {"type": "Degraded", "status": "False"}]}
    }));
    apply(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w2", "namespace": "team-b"},
        "spec": {},
        "status": {"phase": "Pending"}
    }));
    apply(json!({
        "apiVersion": "tools.io/v1alpha1", "kind": "Gadget",
        "metadata": {"name": "g1"},
        "spec": {"version": "1.2.3", "weight": "50%"}
    }));
}

async fn body(url: &str) -> String {
    get(url, &[("Accept", "text/plain")], Duration::from_secs(30))
        .await
        .expect("scrape")
        .text()
}

/// The sample lines of `family`, sorted.
fn samples(body: &str, family: &str) -> Vec<String> {
    let mut v: Vec<String> = body
        .lines()
        .filter(|l| {
            l.strip_prefix(family)
                .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
        })
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// The value of one self-metric sample (`name{labels}` exactly as written).
fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Polls `url` until `ok` holds for its body.
async fn wait_for(url: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let b = body(url).await;
        if ok(&b) {
            return b;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last body:\n{b}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const W1: &str = r#"customresource_group="example.com",customresource_kind="Widget",customresource_version="v1",name="w1",namespace="default""#;
const W2: &str = r#"customresource_group="example.com",customresource_kind="Widget",customresource_version="v1",name="w2",namespace="team-b""#;

/// The ConfigMap store's list and watch counters: they must not move when custom
/// resources come and go.
fn configmap_requests(telemetry: &str) -> (Option<f64>, Option<f64>) {
    (
        value(
            telemetry,
            r#"kube_state_metrics_list_total{resource="*v1.ConfigMap",result="success"}"#,
        ),
        value(
            telemetry,
            r#"kube_state_metrics_watch_total{resource="*v1.ConfigMap",result="success"}"#,
        ),
    )
}

fn write(path: &Path, text: &str) {
    // Write aside and rename, as a ConfigMap volume update does, so no half file is read.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write config");
    std::fs::rename(&tmp, path).expect("rename config");
}

fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_appear_disappear_and_reload() {
    init();
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    populate(&sim);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("crs.yaml");
    write(&file, CONFIG);
    let args = vec![
        "--resources=configmaps".to_string(),
        format!("--custom-resource-state-config-file={}", file.display()),
    ];
    let exporter = start_exporter(&sim, &loopback_options(&args)).await;
    let metrics = format!("http://{}/metrics", exporter.metrics_addr);
    let telemetry = format!("http://{}/metrics", exporter.telemetry_addr);

    // Readiness waited for discovery and the first sync: everything is there at once.
    let b = body(&metrics).await;
    assert_eq!(
        samples(&b, "widget_replicas"),
        vec![
            format!("widget_replicas{{{W1}}} 3"),
            format!("widget_replicas{{{W2}}} 0")
        ]
    );
    assert_eq!(
        samples(&b, "widget_size"),
        vec![format!("widget_size{{{W1}}} 0.25")]
    );
    assert_eq!(
        samples(&b, "widget_phase"),
        vec![
            format!("widget_phase{{{W1},phase=\"Failed\"}} 0"),
            format!("widget_phase{{{W1},phase=\"Pending\"}} 0"),
            format!("widget_phase{{{W1},phase=\"Ready\"}} 1"),
            format!("widget_phase{{{W2},phase=\"Failed\"}} 0"),
            format!("widget_phase{{{W2},phase=\"Pending\"}} 1"),
            format!("widget_phase{{{W2},phase=\"Ready\"}} 0"),
        ]
    );
    assert_eq!(
        samples(&b, "widget_condition"),
        vec![
            format!("widget_condition{{{W1},type=\"Available\"}} 1"),
            format!("widget_condition{{{W1},type=\"Degraded\"}} 0"),
        ]
    );
    assert_eq!(
        samples(&b, "widget_tags_info"),
        vec![
            format!("widget_tags_info{{{W1},tag=\"env\"}} 1"),
            format!("widget_tags_info{{{W1},tag=\"tier\"}} 1"),
        ]
    );
    assert_eq!(
        samples(&b, "widget_labels"),
        vec![format!(
            "widget_labels{{customresource_group=\"example.com\",customresource_kind=\"Widget\",customresource_version=\"v1\",label_app=\"shop\",label_app_kubernetes_io_part_of=\"store\",name=\"w1\",namespace=\"default\"}} 1"
        )]
    );
    assert_eq!(
        samples(&b, "widget_updated"),
        vec![format!("widget_updated{{{W1}}} 1.704164645e+09")]
    );
    let g = r#"customresource_group="tools.io",customresource_kind="Gadget",customresource_version="v1alpha1",name="g1",team="tools""#;
    assert_eq!(
        samples(&b, "kube_customresource_gadget_info"),
        vec![format!(
            "kube_customresource_gadget_info{{{g},version=\"1.2.3\"}} 1"
        )]
    );
    assert_eq!(
        samples(&b, "kube_customresource_gadget_weight"),
        vec![format!("kube_customresource_gadget_weight{{{g}}} 0.5")]
    );
    // HELP/TYPE as KSM writes them for custom resources: no stability prefix, a trailing
    // space for empty help, state sets and infos as gauges in the text format.
    assert!(b.contains("# HELP widget_phase Phase\n# TYPE widget_phase gauge\n"));
    assert!(b.contains("# HELP widget_updated \n# TYPE widget_updated gauge\n"));
    assert_eq!(samples(&b, "kube_configmap_info").len(), 2);
    // ... and `stateset`/`info` in OpenMetrics.
    let om = get(
        &metrics,
        &[("Accept", "application/openmetrics-text;version=1.0.0")],
        Duration::from_secs(30),
    )
    .await
    .expect("OpenMetrics scrape")
    .text();
    assert!(om.contains("# TYPE widget_phase stateset\n"), "{om}");
    assert!(om.contains("# TYPE widget_tags_info info\n"));
    // Custom resource stores are named by their GVR string. As in KSM, `?resources=` splits
    // on commas, so that name (which holds one) selects nothing; excluding built-ins works.
    let gvr = url_encode("example.com/v1, Resource=widgets");
    assert_eq!(body(&format!("{metrics}?resources={gvr}")).await, "");
    let only = body(&format!("{metrics}?exclude_resources=configmaps")).await;
    assert!(only.contains("widget_replicas{") && only.contains("gadget_info{"));
    assert!(!only.contains("kube_configmap_info"));
    // GVR strings sort with the built-in names: configmaps, example.com/…, tools.io/….
    assert!(b.find("# HELP kube_configmap").unwrap() < b.find("# HELP widget_replicas").unwrap());
    assert!(
        b.find("# HELP widget_replicas").unwrap()
            < b.find("# HELP kube_customresource_gadget_info").unwrap()
    );

    let t = body(&telemetry).await;
    let before = configmap_requests(&t);
    // (With watch-list the initial sync is a watch: lists may not be counted at all.)
    assert!(before.1.is_some(), "{t}");
    for (series, want) in [
        (
            "kube_state_metrics_custom_resource_state_add_events_total",
            2.0,
        ),
        (
            "kube_state_metrics_custom_resource_state_delete_events_total",
            0.0,
        ),
        ("kube_state_metrics_custom_resource_state_cache", 2.0),
    ] {
        assert_eq!(value(&t, series), Some(want), "{series}\n{t}");
    }
    let label = format!(
        "{{filename=\"{}\",type=\"customresourceconfig\"}}",
        file.display()
    );
    let hash = value(&t, &format!("kube_state_metrics_config_hash{label}"));
    assert_eq!(
        hash,
        Some(kubestate_engine::config_hash(CONFIG.as_bytes())),
        "{t}"
    );
    assert_eq!(
        value(
            &t,
            &format!("kube_state_metrics_last_config_reload_successful{label}")
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &t,
            r#"kube_state_metrics_watch_total{resource="*unstructured.Unstructured",result="success"}"#
        ),
        Some(2.0)
    );

    // A CRD the configuration names appears: its families appear.
    sim.apply(crd("other.io", "Thing", "things", "Namespaced", &["v1"]))
        .unwrap();
    sim.apply(json!({"apiVersion": "other.io/v1", "kind": "Thing",
        "metadata": {"name": "t1", "namespace": "default"}, "spec": {"count": 7}}))
        .unwrap();
    wait_for(&metrics, "thing_count", |b| {
        samples(b, "thing_count")
            == vec![r#"thing_count{customresource_group="other.io",customresource_kind="Thing",customresource_version="v1"} 7"#]
    })
    .await;

    // A CRD gains a served version: `version: "*"` adds the new GVR, the old one stays.
    sim.apply(crd(
        "example.com",
        "Widget",
        "widgets",
        "Namespaced",
        &["v1", "v2"],
    ))
    .unwrap();
    let b = wait_for(&metrics, "widgets v2", |b| {
        samples(b, "widget_replicas")
            .iter()
            .filter(|l| l.contains("customresource_version=\"v2\""))
            .count()
            == 2
    })
    .await;
    assert_eq!(samples(&b, "widget_replicas").len(), 4);

    // A CRD is deleted: its families disappear entirely.
    assert!(sim
        .delete("customresourcedefinitions", "", "gadgets.tools.io")
        .unwrap());
    let b = wait_for(&metrics, "gadgets gone", |b| !b.contains("gadget")).await;
    assert_eq!(samples(&b, "kube_configmap_info").len(), 2);
    assert_eq!(samples(&b, "thing_count").len(), 1);

    let t = body(&telemetry).await;
    assert_eq!(
        configmap_requests(&t),
        before,
        "the ConfigMap list/watch was restarted:\n{t}"
    );
    assert_eq!(
        value(
            &t,
            "kube_state_metrics_custom_resource_state_add_events_total"
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            &t,
            "kube_state_metrics_custom_resource_state_delete_events_total"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&t, "kube_state_metrics_custom_resource_state_cache"),
        Some(2.0)
    );
    assert!(value(
        &t,
        "kube_state_metrics_custom_resource_state_update_events_total"
    )
    .is_some_and(|v| v >= 1.0));

    // The file changes: custom resource stores are replaced, built-in ones are not.
    let reloaded = CONFIG.replace("metricNamePrefix: widget", "metricNamePrefix: widget2");
    write(&file, &reloaded);
    let b = wait_for(&metrics, "reloaded families", |b| {
        !samples(b, "widget2_replicas").is_empty() && samples(b, "widget_replicas").is_empty()
    })
    .await;
    assert_eq!(samples(&b, "widget2_replicas").len(), 4);
    assert_eq!(samples(&b, "kube_configmap_info").len(), 2);
    let t = body(&telemetry).await;
    assert_eq!(configmap_requests(&t), before);
    assert_eq!(
        value(&t, &format!("kube_state_metrics_config_hash{label}")),
        Some(kubestate_engine::config_hash(reloaded.as_bytes()))
    );

    // A broken file is reported and the running configuration kept.
    write(
        &file,
        "spec:\n  resources:\n  - metrics:\n    - each: {type: Gauge}\n",
    );
    wait_for(&telemetry, "failed reload", |t| {
        value(
            t,
            &format!("kube_state_metrics_last_config_reload_successful{label}"),
        ) == Some(0.0)
    })
    .await;
    assert_eq!(samples(&body(&metrics).await, "widget2_replicas").len(), 4);

    exporter.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_is_loaded_when_it_appears() {
    init();
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    populate(&sim);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("later.yaml");
    let args = vec![
        "--custom-resource-state-only".to_string(),
        format!("--custom-resource-state-config-file={}", file.display()),
        "--continue-without-custom-resource-state-config-file".to_string(),
    ];
    let exporter = start_exporter(&sim, &loopback_options(&args)).await;
    let metrics = format!("http://{}/metrics", exporter.metrics_addr);
    // --custom-resource-state-only: no built-in resource, and no configuration yet.
    assert_eq!(body(&metrics).await, "");
    write(&file, CONFIG);
    let b = wait_for(&metrics, "custom resources", |b| {
        samples(b, "widget_replicas").len() == 2
    })
    .await;
    assert!(!b.contains("kube_configmap"));
    exporter.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_are_sharded_and_filtered_like_built_ins() {
    init();
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    populate(&sim);
    for i in 3..12 {
        sim.apply(json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": format!("w{i}"), "namespace": "default"}, "spec": {"replicas": i}}))
            .unwrap();
    }
    let mut seen = Vec::new();
    for shard in 0..2 {
        let args = vec![
            "--custom-resource-state-only".to_string(),
            format!("--custom-resource-state-config={CONFIG}"),
            "--metric-denylist=widget_size,gadget".to_string(),
            "--total-shards=2".to_string(),
            format!("--shard={shard}"),
        ];
        let exporter = start_exporter(&sim, &loopback_options(&args)).await;
        let b = body(&format!("http://{}/metrics", exporter.metrics_addr)).await;
        assert!(!b.contains("widget_size") && !b.contains("gadget"), "{b}");
        assert!(b.contains("# TYPE widget_phase gauge"));
        let mine = samples(&b, "widget_replicas");
        assert!(
            !mine.is_empty() && mine.len() < 11,
            "shard {shard}: {mine:?}"
        );
        seen.extend(mine);
        exporter.stop().await;
    }
    // Every widget is in exactly one shard.
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!((before, seen.len()), (11, 11));
    sim.shutdown().await;
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn reference_ksm() -> Option<PathBuf> {
    let home = std::env::var("HOME").map(PathBuf::from).unwrap_or_default();
    let gopath = std::env::var("GOPATH")
        .map(PathBuf::from)
        .unwrap_or_else(|_| home.join("go"));
    find_binary("KSM_BIN", "kube-state-metrics", &[gopath.join("bin")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_samples_as_reference_ksm() {
    init();
    let Some(ksm) = reference_ksm() else {
        eprintln!("SKIP: reference kube-state-metrics not found (go install k8s.io/kube-state-metrics/v2@v2.20.0, or set KSM_BIN)");
        return;
    };
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    populate(&sim);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("crs.yaml");
    write(&file, CONFIG);
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let args = vec![
        "--resources=configmaps".to_string(),
        format!("--custom-resource-state-config-file={}", file.display()),
    ];

    let port = free_port();
    let _ksm = Killed(
        Command::new(&ksm)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .args([
                "--host=127.0.0.1",
                &format!("--port={port}"),
                "--telemetry-host=127.0.0.1",
            ])
            .arg(format!("--telemetry-port={}", free_port()))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kube-state-metrics"),
    );
    let exporter = start_exporter(&sim, &loopback_options(&args)).await;
    let ours = format!("http://{}/metrics", exporter.metrics_addr);
    let theirs = format!("http://127.0.0.1:{port}/metrics");

    // KSM has no readiness tied to its sync and discovers CRDs on a 3 s tick (then rebuilds
    // every store): poll it until it agrees, and report the last difference if it never does.
    let mine = body(&ours).await;
    assert!(mine.contains("widget_condition{") && mine.contains("gadget_info{"));
    agree_with_ksm(&theirs, &mine, "initial world").await;

    // At run time: a CRD the configuration names is created (with an object), another is
    // deleted. (Not a new served version of an existing CRD: the simulator serves stored
    // objects under every version with their stored apiVersion, which client-go's reflector
    // rejects; a real API server converts them.)
    sim.apply(crd("other.io", "Thing", "things", "Namespaced", &["v1"]))
        .unwrap();
    sim.apply(json!({"apiVersion": "other.io/v1", "kind": "Thing",
        "metadata": {"name": "t1", "namespace": "default"}, "spec": {"count": 7}}))
        .unwrap();
    assert!(sim
        .delete("customresourcedefinitions", "", "gadgets.tools.io")
        .unwrap());
    let mine = wait_for(&ours, "things, no gadgets", |b| {
        !b.contains("gadget") && b.contains("thing_count{")
    })
    .await;
    agree_with_ksm(&theirs, &mine, "after CRD changes").await;

    exporter.stop().await;
    sim.shutdown().await;
}

/// Polls kube-state-metrics at `url` until its samples equal `mine`, family by family.
async fn agree_with_ksm(url: &str, mine: &str, phase: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = String::from("(no answer)");
    while Instant::now() < deadline {
        if let Ok(r) = get(url, &[("Accept", "text/plain")], Duration::from_secs(10)).await {
            let theirs = r.text();
            match diff_families(&theirs, mine, |_| true) {
                None => return,
                Some(d) => last = d,
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{phase}: kubestate differs from kube-state-metrics:\n{last}\n--- ours ---\n{mine}");
}
