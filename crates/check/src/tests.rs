//! Unit tests of the check: one test per join rule of check-semantics.md §4 (named for the
//! rule), then transforms, aggregations, the Datadog preset and scrape mode.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kubestate_metric::{FamilyDesc, MetricType, ObjectMetrics, Stability};
use kubestate_store::{ObjectStore, StoreFactory, StoreInfo, StructuredStoreFactory};

use crate::{Check, CheckConfig, Collect, OwnedSeries, RunStats};

mod reference;

type Config = CheckConfig<serde_yaml::Value>;

/// One test sample: family, own labels, value.
pub(crate) type S<'a> = (&'a str, &'a [(&'a str, &'a str)], f64);

/// A small in-memory world: stores with families, objects with identity labels and samples.
pub(crate) struct World {
    factory: StructuredStoreFactory,
    stores: Vec<(Arc<dyn ObjectStore>, Vec<String>)>,
}

impl World {
    pub(crate) fn new() -> World {
        World {
            factory: StructuredStoreFactory::new(),
            stores: Vec::new(),
        }
    }

    pub(crate) fn store(&mut self, resource: &str, families: &[&str]) -> usize {
        let descs: Vec<FamilyDesc> = families
            .iter()
            .map(|n| FamilyDesc {
                name: n.to_string(),
                help: String::new(),
                ty: MetricType::Gauge,
                stability: Stability::Stable,
                deprecated_since: None,
            })
            .collect();
        let sink = self.factory.create(&StoreInfo {
            resource: resource.into(),
            namespace: None,
            index: 0,
            families: descs.into(),
        });
        self.stores
            .push((sink, families.iter().map(|s| s.to_string()).collect()));
        self.stores.len() - 1
    }

    pub(crate) fn put(
        &self,
        store: usize,
        uid: &str,
        identity: &[(&str, &str)],
        samples: &[S<'_>],
    ) {
        let (sink, families) = &self.stores[store];
        let mut m = ObjectMetrics::new();
        for (k, v) in identity {
            m.identity_label(k, v);
        }
        for f in families {
            m.begin_family();
            for (name, labels, v) in samples {
                if name == f {
                    m.sample(labels, *v);
                }
            }
        }
        sink.apply(uid, &m);
    }

    pub(crate) fn run(&self, yaml: &str) -> (Collect, RunStats) {
        let config = Config::from_yaml(yaml, "test.yaml").expect("valid test config");
        let mut check = Check::new(&config, self.factory.symbols().clone()).expect("compiles");
        let mut out = Collect::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let stats = check.run(&self.factory.snapshot(), now, &mut out);
        (out, stats)
    }
}

fn only<'a>(c: &'a Collect, name: &'a str) -> Vec<&'a OwnedSeries> {
    c.named(name).collect()
}

/// Pods with a one-hot phase family and an info family, nodes with labels.
fn pods_world() -> World {
    let mut w = World::new();
    let pods = w.store(
        "pods",
        &[
            "kube_pod_info",
            "kube_pod_status_phase",
            "kube_pod_container_info",
        ],
    );
    for (uid, name, node, phase) in [
        ("u1", "web-0", "n1", "Running"),
        ("u2", "web-1", "n2", "Pending"),
    ] {
        let node_label = [("node", node)];
        let mut samples: Vec<S<'_>> = vec![
            ("kube_pod_info", &node_label[..], 1.0),
            ("kube_pod_container_info", &[("container", "app")][..], 1.0),
        ];
        for p in ["Pending", "Running", "Failed"] {
            let phase_label: &[(&str, &str)] = match p {
                "Pending" => &[("phase", "Pending")],
                "Running" => &[("phase", "Running")],
                _ => &[("phase", "Failed")],
            };
            samples.push((
                "kube_pod_status_phase",
                phase_label,
                f64::from(u8::from(p == phase)),
            ));
        }
        w.put(
            pods,
            uid,
            &[("namespace", "shop"), ("pod", name), ("uid", uid)],
            &samples,
        );
    }
    let nodes = w.store("nodes", &["kube_node_labels", "kube_node_info"]);
    for (n, zone) in [("n1", "a"), ("n2", "b")] {
        w.put(
            nodes,
            n,
            &[("node", n)],
            &[
                (
                    "kube_node_labels",
                    &[("label_zone", zone), ("label_empty", "")],
                    1.0,
                ),
                ("kube_node_info", &[("kernel_version", "6.1")], 1.0),
            ],
        );
    }
    w
}

/// An engine that exposes every Kubernetes label, as the check asks of it.
fn engine_with_every_label(
    factory: &dyn kubestate_store::StoreFactory,
) -> kubestate_engine::Engine {
    let labels = kubestate_families::Allowlist::parse("--metric-labels-allowlist", "*=[*]")
        .expect("valid allowlist");
    let config = kubestate_engine::Config {
        labels_allowlist: labels,
        ..kubestate_engine::Config::default()
    };
    kubestate_engine::Engine::new(&config, factory).expect("engine")
}

/// The objects of a conformance world, as JSON.
fn world_json(case: &kubestate_testkit::Case) -> Vec<Vec<u8>> {
    case.objects()
        .iter()
        .map(|o| serde_json::to_vec(o).unwrap_or_default())
        .collect()
}

const PHASE_JOIN: &str = "label_joins:\n  kube_pod_status_phase: {labels_to_match: [pod, namespace], labels_to_get: [phase]}\n";

#[test]
fn index_uses_only_source_series_with_value_1() {
    let (out, _) = pods_world().run(PHASE_JOIN);
    let info = only(&out, "kube_pod_container_info");
    let phases: Vec<_> = info.iter().map(|s| s.values("phase")).collect();
    assert!(phases.contains(&vec!["Running"]) && phases.contains(&vec!["Pending"]));
    assert!(phases.iter().all(|p| p.len() == 1), "{phases:?}");
}

#[test]
fn source_series_missing_a_match_label_is_ignored() {
    let mut w = pods_world();
    let extra = w.store("other", &["kube_pod_status_reason"]);
    // No `namespace` label: cannot be indexed on [pod, namespace].
    w.put(
        extra,
        "x",
        &[("pod", "web-0")],
        &[("kube_pod_status_reason", &[("reason", "Evicted")], 1.0)],
    );
    let (out, stats) = w.run(
        "label_joins:\n  kube_pod_status_reason: {labels_to_match: [pod, namespace], labels_to_get: [reason]}\n",
    );
    assert_eq!(stats.join_keys, 0);
    assert!(out
        .0
        .iter()
        .filter(|s| s.name != "kube_pod_status_reason")
        .all(|s| s.values("reason").is_empty()));
}

#[test]
fn labels_to_match_are_compared_in_order() {
    let mut w = World::new();
    let s = w.store("things", &["src", "dst"]);
    w.put(
        s,
        "1",
        &[],
        &[("src", &[("a", "x"), ("b", "y"), ("tag", "t")], 1.0)],
    );
    // Same values under swapped names: no match.
    w.put(s, "2", &[], &[("dst", &[("a", "y"), ("b", "x")], 5.0)]);
    w.put(s, "3", &[], &[("dst", &[("b", "y"), ("a", "x")], 6.0)]);
    let (out, _) = w.run("label_joins:\n  src: {labels_to_match: [a, b], labels_to_get: [tag]}\n");
    let dst = only(&out, "dst");
    let by_value = |v: f64| dst.iter().find(|s| s.value == v).map(|s| s.values("tag"));
    assert_eq!(by_value(5.0), Some(vec![]));
    assert_eq!(by_value(6.0), Some(vec!["t"]));
}

#[test]
fn normal_mode_skips_absent_and_empty_labels() {
    let (out, _) = pods_world().run(
        "label_joins:\n  kube_node_labels: {labels_to_match: [node], labels_to_get: [label_zone, label_empty, label_absent]}\n",
    );
    let info = only(&out, "kube_pod_info");
    assert_eq!(info.len(), 2);
    for s in info {
        assert_eq!(s.values("label_zone").len(), 1);
        assert!(s.values("label_empty").is_empty() && s.values("label_absent").is_empty());
    }
}

#[test]
fn get_all_labels_takes_every_label_except_the_match_labels_including_empty_values() {
    let (out, _) = pods_world()
        .run("label_joins:\n  kube_node_labels: {labels_to_match: [node], get_all_labels: true}\n");
    let s = only(&out, "kube_pod_info")
        .into_iter()
        .find(|s| s.values("node") == ["n1"])
        .cloned()
        .unwrap();
    assert_eq!(s.values("label_zone"), ["a"]);
    assert_eq!(s.values("label_empty"), [""]);
    assert_eq!(
        s.values("node"),
        ["n1"],
        "the match label is not joined again"
    );
}

#[test]
fn star_in_labels_to_get_means_get_all_labels() {
    let (a, _) = pods_world().run(
        "label_joins:\n  kube_node_labels: {labels_to_match: [node], labels_to_get: [\"*\"]}\n",
    );
    let (b, _) = pods_world()
        .run("label_joins:\n  kube_node_labels: {labels_to_match: [node], get_all_labels: true}\n");
    assert_eq!(sorted(&a), sorted(&b));
}

/// Objects come out of a snapshot in no particular order.
fn sorted(c: &Collect) -> Vec<String> {
    let mut v: Vec<String> = c.0.iter().map(|s| format!("{s:?}")).collect();
    v.sort();
    v
}

#[test]
fn get_all_key_is_the_rename_else_the_wildcard_template_else_the_raw_name() {
    let mut w = World::new();
    let pods = w.store("pods", &["kube_pod_labels", "kube_pod_info"]);
    w.put(
        pods,
        "u",
        &[("namespace", "ns"), ("pod", "p"), ("uid", "u")],
        &[
            (
                "kube_pod_labels",
                &[("label_app", "web"), ("label_team_name", "core")],
                1.0,
            ),
            ("kube_pod_info", &[], 1.0),
        ],
    );
    let (out, _) = w.run("labels_as_tags:\n  pod: {app: application, \"*\": \"pod_%%label%%\"}\n");
    let info = &only(&out, "kube_pod_info")[0];
    assert_eq!(info.values("application"), ["web"], "explicit rename");
    assert_eq!(info.values("pod_team_name"), ["core"], "wildcard template");
    assert_eq!(
        info.values("uid"),
        ["u", "u"],
        "raw name (own uid plus joined uid)"
    );
    assert!(info.values("pod_app").is_empty());
}

#[test]
fn several_matching_source_series_all_contribute() {
    let mut w = World::new();
    let s = w.store("things", &["src", "dst"]);
    w.put(
        s,
        "1",
        &[],
        &[("src", &[("k", "x"), ("qux", "qux_value1")], 1.0)],
    );
    w.put(
        s,
        "2",
        &[],
        &[("src", &[("k", "x"), ("qux", "qux_value2")], 1.0)],
    );
    w.put(s, "3", &[], &[("dst", &[("k", "x")], 1.0)]);
    let (out, _) = w.run("label_joins:\n  src: {labels_to_match: [k], labels_to_get: [qux]}\nlabels_mapper: {qux: qux_tag}\n");
    let mut vals = only(&out, "dst")[0].values("qux_tag");
    vals.sort();
    assert_eq!(vals, ["qux_value1", "qux_value2"]);
}

#[test]
fn the_same_contributed_value_is_kept_twice() {
    let mut w = World::new();
    let s = w.store("things", &["src", "dst"]);
    w.put(s, "1", &[], &[("src", &[("k", "x"), ("qux", "v")], 1.0)]);
    w.put(s, "2", &[], &[("src", &[("k", "x"), ("qux", "v")], 1.0)]);
    w.put(s, "3", &[], &[("dst", &[("k", "x")], 1.0)]);
    let (out, _) = w.run("label_joins:\n  src: {labels_to_match: [k], labels_to_get: [qux]}\n");
    assert_eq!(only(&out, "dst")[0].values("qux"), ["v", "v"]);
}

#[test]
fn joins_apply_to_every_family_that_carries_the_match_labels() {
    let (out, _) = pods_world().run(
        "label_joins:\n  kube_node_labels: {labels_to_match: [node], labels_to_get: [label_zone]}\n",
    );
    // A pod family with a `node` label, and the node's own families.
    assert!(only(&out, "kube_pod_info")
        .iter()
        .all(|s| s.values("label_zone").len() == 1));
    assert!(only(&out, "kube_node_info")
        .iter()
        .all(|s| s.values("label_zone").len() == 1));
    // Pod families without `node` get nothing.
    assert!(only(&out, "kube_pod_container_info")
        .iter()
        .all(|s| s.values("label_zone").is_empty()));
}

#[test]
fn joined_labels_are_not_used_for_other_joins() {
    let (out, _) = pods_world().run(
        "label_joins:\n  kube_pod_info: {labels_to_match: [pod, namespace], labels_to_get: [node]}\n  kube_node_labels: {labels_to_match: [node], labels_to_get: [label_zone]}\n",
    );
    let c = only(&out, "kube_pod_container_info");
    assert!(
        c.iter().all(|s| s.values("node").len() == 1),
        "node joined from kube_pod_info"
    );
    assert!(
        c.iter().all(|s| s.values("label_zone").is_empty()),
        "no chaining through the joined node"
    );
}

#[test]
fn joined_labels_are_added_and_never_replace_own_labels() {
    let (out, _) = pods_world().run(&format!(
        "{PHASE_JOIN}label_overrides: {{kube_pod: {{phase: pod_phase}}}}\n"
    ));
    let pending = only(&out, "kube_pod_status_phase")
        .into_iter()
        .find(|s| {
            s.values("pod") == ["web-0"] && s.value == 0.0 && s.values("pod_phase")[0] == "Pending"
        })
        .cloned()
        .unwrap();
    // Own phase=Pending (value 0) and the pod's joined active phase Running: both kept.
    assert_eq!(pending.values("pod_phase"), ["Pending", "Running"]);
}

#[test]
fn joined_keys_go_through_the_mapper_and_the_family_overrides() {
    let (out, _) = pods_world().run(&format!(
        "{PHASE_JOIN}labels_mapper: {{phase: mapped_phase, namespace: kube_namespace}}\nlabel_overrides: {{kube_pod_container: {{phase: container_pod_phase}}}}\n"
    ));
    let info = &only(&out, "kube_pod_info")[0];
    assert_eq!(info.values("mapped_phase").len(), 1);
    assert_eq!(info.values("kube_namespace"), ["shop"]);
    let c = &only(&out, "kube_pod_container_info")[0];
    assert_eq!(c.values("container_pod_phase").len(), 1);
    assert!(c.values("mapped_phase").is_empty());
}

#[test]
fn a_user_join_replaces_the_preset_join_on_the_same_family() {
    let yaml = "preset: datadog\nunmatched: keep\nlabel_joins:\n  kube_pod_info: {labels_to_match: [pod, namespace], labels_to_get: [priority_class]}\n";
    let (out, _) = pods_world().run(yaml);
    // The preset's kube_pod_info join would add `node` to container series; the user's does not.
    let c = only(&out, "kube_pod_container_info");
    assert!(!c.is_empty());
    assert!(c.iter().all(|s| s.values("node").is_empty()));
    // Other preset joins remain (phase, mapped to pod_phase on kube_pod*).
    assert!(c.iter().all(|s| s.values("pod_phase").len() == 1));
}

#[test]
fn labels_as_tags_compile_into_joins_on_the_kind_labels_family() {
    let mut w = World::new();
    let jobs = w.store("jobs", &["kube_job_labels", "kube_job_info"]);
    w.put(
        jobs,
        "j",
        &[("namespace", "ns"), ("job_name", "backup-1")],
        &[
            ("kube_job_labels", &[("label_team_name", "ops")], 1.0),
            ("kube_job_info", &[], 1.0),
        ],
    );
    let nodes = w.store("nodes", &["kube_node_labels", "kube_node_info"]);
    w.put(
        nodes,
        "n",
        &[("node", "n1")],
        &[
            ("kube_node_labels", &[("label_topology_zone", "z")], 1.0),
            ("kube_node_info", &[], 1.0),
        ],
    );
    // Kubernetes label names are converted like KSM does (`teamName` → label_team_name).
    let (out, _) =
        w.run("labels_as_tags:\n  job: {teamName: team}\n  node: {topology.zone: zone}\n");
    assert_eq!(only(&out, "kube_job_info")[0].values("team"), ["ops"]);
    assert_eq!(only(&out, "kube_node_info")[0].values("zone"), ["z"]);
    assert_eq!(
        crate::labels_to_match_for_kind("job"),
        ["job_name", "namespace"]
    );
    assert_eq!(
        crate::labels_to_match_for_kind("deployment"),
        ["deployment", "namespace"]
    );
    assert_eq!(
        crate::labels_to_match_for_kind("persistentvolume"),
        ["persistentvolume"]
    );
}

#[test]
fn labels_as_tags_merge_into_an_existing_join_for_the_family() {
    let (out, _) = pods_world().run(
        "label_joins:\n  kube_node_labels: {labels_to_match: [node], labels_to_get: [label_empty]}\nlabels_as_tags:\n  node: {zone: node_zone}\n",
    );
    let info = only(&out, "kube_pod_info");
    assert!(info.iter().all(|s| s.values("node_zone").len() == 1));
}

#[test]
fn joins_apply_to_aggregation_rows() {
    let (out, _) = pods_world().run(
        "label_joins:\n  kube_node_labels: {labels_to_match: [node], labels_to_get: [label_zone]}\naggregations:\n  - {name: pods_per_node, from: kube_pod_info, kind: count, by: [node]}\n",
    );
    let rows = only(&out, "pods_per_node");
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r.values("label_zone").len() == 1 && r.value == 1.0));
}

#[test]
fn the_index_is_rebuilt_from_each_runs_snapshot() {
    let w = pods_world();
    let config = Config::from_yaml(PHASE_JOIN, "t").unwrap();
    let mut check = Check::new(&config, w.factory.symbols().clone()).unwrap();
    let mut first = Collect::default();
    check.run(&w.factory.snapshot(), SystemTime::now(), &mut first);
    // web-1 becomes Running.
    let samples: Vec<S<'_>> = vec![
        ("kube_pod_info", &[("node", "n2")][..], 1.0),
        ("kube_pod_status_phase", &[("phase", "Pending")][..], 0.0),
        ("kube_pod_status_phase", &[("phase", "Running")][..], 1.0),
    ];
    w.put(
        0,
        "u2",
        &[("namespace", "shop"), ("pod", "web-1"), ("uid", "u2")],
        &samples,
    );
    let mut second = Collect::default();
    check.run(&w.factory.snapshot(), SystemTime::now(), &mut second);
    let phase = |c: &Collect| {
        c.named("kube_pod_info")
            .find(|s| s.values("pod") == ["web-1"])
            .map(|s| {
                s.values("phase")
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
            })
    };
    assert_eq!(phase(&first), Some(vec!["Pending".to_string()]));
    assert_eq!(phase(&second), Some(vec!["Running".to_string()]));
}

#[test]
fn a_run_reads_one_snapshot_even_while_stores_change() {
    let w = pods_world();
    let snap = w.factory.snapshot();
    w.stores[0].0.delete("u1");
    let config = Config::from_yaml("", "t").unwrap();
    let mut check = Check::new(&config, w.factory.symbols().clone()).unwrap();
    let mut out = Collect::default();
    let stats = check.run(&snap, SystemTime::now(), &mut out);
    assert_eq!(only(&out, "kube_pod_info").len(), 2);
    assert_eq!(stats.series_in, stats.series_out);
}

#[test]
fn transforms_filter_compute_and_name_from_labels() {
    let mut w = World::new();
    let s = w.store(
        "nodes",
        &[
            "kube_node_status_capacity",
            "kube_node_created",
            "kube_node_spec_unschedulable",
        ],
    );
    w.put(
        s,
        "n",
        &[("node", "n1")],
        &[
            (
                "kube_node_status_capacity",
                &[("resource", "cpu"), ("unit", "core")],
                4.0,
            ),
            (
                "kube_node_status_capacity",
                &[("resource", "nvidia_com_gpu"), ("unit", "integer")],
                2.0,
            ),
            (
                "kube_node_status_capacity",
                &[("resource", "hugepages_2Mi"), ("unit", "byte")],
                0.0,
            ),
            ("kube_node_created", &[], 999_000.0),
            ("kube_node_spec_unschedulable", &[], 1.0),
        ],
    );
    let (out, stats) = w.run(
        r#"
unmatched: drop
transforms:
  kube_node_status_capacity:
    name: "node.{resource}_capacity"
    only_labels: {resource: [cpu, gpu]}
    map_values: {resource: {nvidia_com_gpu: gpu}}
    drop_labels: [unit]
  kube_node_created: {name: node.age, value: age}
  kube_node_spec_unschedulable:
    name: node.status
    value_as_label: {label: status, values: {"0": schedulable, "1": unschedulable}}
"#,
    );
    let names: Vec<_> = out.0.iter().map(|s| (s.name.as_str(), s.value)).collect();
    assert_eq!(
        names,
        vec![
            ("node.cpu_capacity", 4.0),
            ("node.gpu_capacity", 2.0),
            ("node.age", 1000.0),
            ("node.status", 1.0)
        ]
    );
    assert_eq!(
        out.0[0].labels,
        vec![("node".to_string(), "n1".to_string())]
    );
    assert_eq!(out.0[3].values("status"), ["unschedulable"]);
    assert_eq!(stats.series_filtered, 1);
}

#[test]
fn renames_drops_and_unmatched_policy() {
    let (out, stats) = pods_world().run(
        "renames: {kube_pod_info: pods.info}\ndrop: [\"kube_pod_container_.*\"]\nunmatched: drop\n",
    );
    let names: std::collections::BTreeSet<_> = out.0.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.into_iter().collect::<Vec<_>>(), vec!["pods.info"]);
    // kube_pod_status_phase is unknown; kube_node_labels and kube_node_info are metadata
    // (`_labels`/`_info`), dropped without being counted as unknown.
    assert_eq!(stats.unknown_families, 1);
    let (kept, _) = pods_world().run("drop: [kube_node_info]\n");
    assert!(kept.named("kube_node_info").next().is_none());
    assert!(kept.named("kube_pod_status_phase").next().is_some());
}

#[test]
fn aggregations_count_and_sum_with_joined_group_labels() {
    let (out, _) = pods_world().run(&format!(
        "{PHASE_JOIN}aggregations:\n  - {{name: kubernetes_state.pod.count, from: kube_pod_info, kind: count, by: [namespace, phase]}}\n  - {{name: phases, from: kube_pod_status_phase, kind: sum, by: [phase]}}\n"
    ));
    let counts: Vec<_> = only(&out, "kubernetes_state.pod.count")
        .iter()
        .map(|s| (s.values("phase")[0].to_string(), s.value))
        .collect();
    assert_eq!(
        counts,
        vec![("Pending".into(), 1.0), ("Running".into(), 1.0)]
    );
    let sums: Vec<_> = only(&out, "phases")
        .iter()
        .map(|s| (s.values("phase")[0].to_string(), s.value))
        .collect();
    assert_eq!(
        sums,
        vec![
            ("Failed".into(), 0.0),
            ("Pending".into(), 1.0),
            ("Running".into(), 1.0)
        ]
    );
}

#[test]
fn datadog_preset_renames_maps_and_counts() {
    let mut w = World::new();
    let deps = w.store(
        "deployments",
        &["kube_deployment_spec_replicas", "kube_deployment_labels"],
    );
    w.put(
        deps,
        "d",
        &[("namespace", "shop"), ("deployment", "web")],
        &[
            ("kube_deployment_spec_replicas", &[], 3.0),
            (
                "kube_deployment_labels",
                &[("label_app_kubernetes_io_name", "web-app")],
                1.0,
            ),
        ],
    );
    let pods = w.store("pods", &["kube_pod_info", "kube_pod_status_phase"]);
    w.put(
        pods,
        "p",
        &[
            ("namespace", "shop"),
            ("pod", "web-abc12-xyz"),
            ("uid", "p"),
        ],
        &[
            (
                "kube_pod_info",
                &[
                    ("node", "n1"),
                    ("created_by_kind", "ReplicaSet"),
                    ("created_by_name", "web-5d4f8c7b9"),
                ],
                1.0,
            ),
            ("kube_pod_status_phase", &[("phase", "Running")], 1.0),
        ],
    );
    let (out, stats) = w.run("preset: datadog\n");
    let r = &only(&out, "kubernetes_state.deployment.replicas_desired")[0];
    assert_eq!(r.value, 3.0);
    assert_eq!(r.values("kube_namespace"), ["shop"]);
    assert_eq!(r.values("kube_deployment"), ["web"]);
    assert_eq!(
        r.values("kube_app_name"),
        ["web-app"],
        "standard label joined and mapped"
    );
    let count = &only(&out, "kubernetes_state.deployment.count")[0];
    assert_eq!(
        (count.value, count.values("kube_namespace")),
        (1.0, vec!["shop"])
    );
    let pc = &only(&out, "kubernetes_state.pod.count")[0];
    assert_eq!(pc.values("kube_replica_set"), ["web-5d4f8c7b9"]);
    assert_eq!(
        pc.values("kube_deployment"),
        ["web"],
        "derived from the ReplicaSet name"
    );
    assert_eq!(pc.values("node"), ["n1"]);
    let phase = &only(&out, "kubernetes_state.pod.status_phase")[0];
    assert_eq!(phase.values("pod_phase"), ["Running", "Running"]);
    assert_eq!(phase.values("pod_name"), ["web-abc12-xyz"]);
    assert!(out.named("kube_pod_info").next().is_none());
    assert_eq!(stats.unknown_families, 0);
}

#[test]
fn owner_labels_of_jobs_give_the_cronjob() {
    let mut out = Vec::new();
    crate::run::owner_labels("Job", "backup-28473600", &mut out);
    assert_eq!(
        out,
        vec![("kube_job", "backup-28473600"), ("kube_cronjob", "backup")]
    );
    out.clear();
    crate::run::owner_labels("<none>", "x", &mut out);
    assert!(out.is_empty());
}

mod scrape_mode {
    use super::*;
    use kubestate_metric::parse::Syntax;

    use crate::ScrapeSource;

    fn fixtures() -> Vec<(String, String)> {
        let Some(shared) = kubestate_testkit::shared_dir() else {
            eprintln!("skipping: shared/ corpus not found beside the repository");
            return Vec::new();
        };
        let dir = shared.join("fixtures/ksm-dumps");
        let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                        (e.file_name().to_string_lossy().into_owned(), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    #[test]
    fn every_ksm_dump_parses_and_runs_through_the_datadog_preset() {
        let files = fixtures();
        if files.is_empty() {
            return;
        }
        assert_eq!(
            files.len(),
            3,
            "{:?}",
            files.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        for (name, text) in files {
            let samples = text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .count() as u64;
            let config = Config::from_yaml("preset: datadog\n", "t").unwrap();
            let symbols = Arc::new(kubestate_store::structured::Symbols::new());
            let mut check = Check::new(&config, symbols.clone()).unwrap();
            let snap = ScrapeSource::new(symbols)
                .snapshot(&text, Syntax::Text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut out = Collect::default();
            let stats = check.run(&snap, SystemTime::now(), &mut out);
            assert_eq!(stats.series_in, samples, "{name}");
            assert!(stats.series_out > 0, "{name}");
            // Every dump has pods: the pod count must add up to kube_pod_info's series.
            let pods = text
                .lines()
                .filter(|l| l.starts_with("kube_pod_info{"))
                .count() as f64;
            let counted: f64 = out
                .named("kubernetes_state.pod.count")
                .map(|s| s.value)
                .sum();
            assert_eq!(counted, pods, "{name}");
        }
    }

    #[test]
    fn scrape_mode_equals_embedded_mode_on_kubestate_output() {
        use kubestate_store::{Exposition, ResourceFilter, TeeFactory, TextStoreFactory};
        let cases = kubestate_testkit::cases();
        let Some(case) = cases.iter().find(|c| c.objects_path().is_file()) else {
            eprintln!("skipping: no conformance world found");
            return;
        };
        let exposition = Arc::new(Exposition::new());
        let structured = StructuredStoreFactory::new();
        let tee = TeeFactory(
            Arc::new(TextStoreFactory::new(exposition.clone())),
            Arc::new(structured.clone()),
        );
        let engine = engine_with_every_label(&tee);
        let objects = world_json(case);
        engine.replace_all(objects.iter().map(|o| &o[..]));
        for fmt in [
            kubestate_metric::Format::Text,
            kubestate_metric::Format::OPENMETRICS_1,
        ] {
            let mut body = Vec::new();
            exposition.write_all(fmt, &ResourceFilter::default(), &mut body);
            let text = String::from_utf8(body).expect("utf-8 exposition");
            let syntax = if fmt.is_openmetrics() {
                Syntax::OpenMetrics
            } else {
                Syntax::Text
            };
            for yaml in ["preset: datadog\n", PHASE_JOIN] {
                let config = Config::from_yaml(yaml, "t").unwrap();
                let mut embedded = Check::new(&config, structured.symbols().clone()).unwrap();
                let now = SystemTime::now();
                let mut a = Collect::default();
                let sa = embedded.run(&structured.snapshot(), now, &mut a);
                let symbols = Arc::new(kubestate_store::structured::Symbols::new());
                let mut scraped = Check::new(&config, symbols.clone()).unwrap();
                let snap = ScrapeSource::new(symbols)
                    .snapshot(&text, syntax)
                    .expect("own output parses");
                let mut b = Collect::default();
                let sb = scraped.run(&snap, now, &mut b);
                assert_eq!(sa.series_in, sb.series_in, "{}", case.name);
                let norm = |c: &Collect| {
                    let mut v: Vec<String> =
                        c.0.iter()
                            .map(|s| {
                                let mut l = s.labels.clone();
                                l.sort();
                                format!("{} {:?} {}", s.name, l, s.value)
                            })
                            .collect();
                    v.sort();
                    v
                };
                let (na, nb) = (norm(&a), norm(&b));
                assert_eq!(na.len(), nb.len(), "{} {yaml}", case.name);
                assert!(
                    na == nb,
                    "{}: embedded and scrape outputs differ for {yaml}",
                    case.name
                );
            }
        }
    }
}

/// The run against [`reference`], a plain second implementation: same series, same labels in
/// the same order, same values, on every conformance world and on worlds that change
/// between runs.
mod against_reference {
    use super::*;
    use kubestate_store::structured::Snapshot;

    use super::reference;

    const CONFIGS: &[&str] = &[
        "preset: datadog\n",
        PHASE_JOIN,
        // Get-all joins with a template and a rename, no preset (every family emitted).
        "labels_as_tags:\n  pod: {\"*\": \"pod_%%label%%\", app: application}\n  node: {\"*\": \"%%label%%\"}\nlabel_joins:\n  kube_pod_info: {labels_to_match: [pod, namespace], labels_to_get: [\"*\"]}\n  kube_node_info: {labels_to_match: [node], labels_to_get: [kernel_version, os_image]}\naggregations:\n  - {name: by_node, from: kube_pod_info, kind: count, by: [node, label_zone]}\n",
        // The preset with labels as tags on top.
        "preset: datadog\nlabels_as_tags:\n  pod: {\"*\": \"%%label%%\"}\n  deployment: {app: app}\n",
    ];

    /// Runs `check` over `snap` and compares with the reference.
    fn same(check: &mut Check, snap: &Snapshot, what: &str) -> usize {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut got = Collect::default();
        let stats = check.run(snap, now, &mut got);
        let want = reference::run(check, snap, now);
        // The service checks come last, after the main pass the reference implements; they
        // are tested on their own (crate::migration_tests).
        let service_checks = stats.service_checks as usize;
        got.0.truncate(got.0.len().saturating_sub(service_checks));
        assert_eq!(got.0.len(), want.len(), "{what}: number of series");
        for (g, w) in got.0.iter().zip(&want) {
            assert_eq!(g, w, "{what}");
        }
        assert_eq!(
            stats.series_out - stats.service_checks,
            want.len() as u64,
            "{what}"
        );
        want.len()
    }

    #[test]
    fn every_conformance_world_gives_the_reference_output() {
        let cases = kubestate_testkit::cases();
        let cases: Vec<_> = cases
            .iter()
            .filter(|c| c.objects_path().is_file())
            .collect();
        if cases.is_empty() {
            eprintln!("skipping: no conformance world found");
            return;
        }
        for case in cases {
            let structured = StructuredStoreFactory::new();
            let engine = engine_with_every_label(&structured);
            let objects = world_json(case);
            for yaml in CONFIGS {
                let config = Config::from_yaml(yaml, "t").unwrap();
                let mut check = Check::new(&config, structured.symbols().clone()).unwrap();
                // All objects, half of them, all again: the second and third runs see
                // removed and re-added objects.
                let what = format!("{} / {yaml}", case.name);
                engine.replace_all(objects.iter().map(|o| &o[..]));
                let n = same(&mut check, &structured.snapshot(), &what);
                assert!(n > 0, "{what}: no output");
                engine.replace_all(objects.iter().step_by(2).map(|o| &o[..]));
                same(&mut check, &structured.snapshot(), &what);
                engine.replace_all(objects.iter().map(|o| &o[..]));
                same(&mut check, &structured.snapshot(), &what);
            }
        }
    }

    /// Runs `kept` (a check that ran before) and a fresh check over `snap`: the same output,
    /// service checks and join index sizes included, and the reference's. Returns how many
    /// objects the kept index read.
    fn same_as_fresh(kept: &mut Check, config: &Config, snap: &Snapshot, what: &str) -> u64 {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut fresh = Check::new(config, kept.symbols().clone()).unwrap();
        let (mut a, mut b) = (Collect::default(), Collect::default());
        let sa = kept.run(snap, now, &mut a);
        let sb = fresh.run(snap, now, &mut b);
        assert_eq!(a.0, b.0, "{what}: kept and fresh index");
        assert_eq!(
            (sa.join_keys, sa.join_pairs, sa.series_out),
            (sb.join_keys, sb.join_pairs, sb.series_out),
            "{what}"
        );
        same(kept, snap, what);
        sa.index_objects_read
    }

    /// A pod for the churn test: `dup` pods share one name, so several objects feed one leaf.
    fn churn_pod(w: &World, uid: &str, name: &str, node: &str, app: &str) {
        w.put(
            0,
            uid,
            &[("namespace", "shop"), ("pod", name), ("uid", uid)],
            &[
                ("kube_pod_info", &[("node", node)][..], 1.0),
                (
                    "kube_pod_labels",
                    &[("label_app", app), ("label_tier", uid)][..],
                    1.0,
                ),
                ("kube_pod_status_phase", &[("phase", "Running")][..], 1.0),
            ],
        );
    }

    #[test]
    fn the_kept_index_equals_a_fresh_one_under_churn() {
        let yamls = [
            CONFIGS.to_vec(),
            vec!["label_joins:\n  kube_pod_labels: {labels_to_match: [namespace, pod], labels_to_get: [\"*\"]}\n"],
        ]
        .concat();
        for yaml in yamls {
            let mut w = World::new();
            w.store(
                "pods",
                &["kube_pod_info", "kube_pod_labels", "kube_pod_status_phase"],
            );
            w.store("nodes", &["kube_node_labels", "kube_node_info"]);
            let node = |w: &World, n: &str, zone: &str| {
                w.put(
                    1,
                    n,
                    &[("node", n)],
                    &[
                        ("kube_node_labels", &[("label_zone", zone)][..], 1.0),
                        ("kube_node_info", &[("kernel_version", "6.1")][..], 1.0),
                    ],
                )
            };
            let pods: Vec<(String, String, String)> = (0..40)
                .map(|i| {
                    let name = if i % 5 == 0 {
                        "dup".to_string()
                    } else {
                        format!("web-{i}")
                    };
                    (format!("u{i}"), name, format!("n{}", i % 3))
                })
                .collect();
            for (uid, name, n) in &pods {
                churn_pod(&w, uid, name, n, "a");
            }
            for (n, zone) in [("n0", "a"), ("n1", "b"), ("n2", "c")] {
                node(&w, n, zone);
            }
            let config = Config::from_yaml(yaml, "t").unwrap();
            let mut check = Check::new(&config, w.factory.symbols().clone()).unwrap();
            let snap = |w: &World| w.factory.snapshot();
            let first = same_as_fresh(&mut check, &config, &snap(&w), yaml);
            // Every object of the joins' source stores (the pods, the nodes or both).
            assert!(
                [3, 40, 43].contains(&first),
                "{yaml}: first run read {first}"
            );
            let pods_are_sources = first != 3;
            let read = same_as_fresh(&mut check, &config, &snap(&w), yaml);
            assert_eq!(read, 0, "{yaml}: nothing changed, nothing read");
            // Added (one more `dup`), changed (labels and node), removed (one of the `dup`s).
            churn_pod(&w, "u100", "dup", "n1", "b");
            churn_pod(&w, "u1", "web-1", "n2", "changed");
            churn_pod(&w, "u7", "web-7", "n0", "a");
            w.stores[0].0.delete("u5");
            let read = same_as_fresh(&mut check, &config, &snap(&w), yaml);
            let want = if pods_are_sources { 3 } else { 0 };
            assert_eq!(
                read, want,
                "{yaml}: only the added and changed pods are read"
            );
            // A changed node, a removed node.
            node(&w, "n1", "z");
            w.stores[1].0.delete("n2");
            same_as_fresh(&mut check, &config, &snap(&w), yaml);
            // Relisted: every object new, the store's order new.
            let (store, _) = &w.stores[0];
            store.relist_started();
            for (uid, name, n) in pods.iter().rev().skip(3) {
                churn_pod(&w, uid, name, n, "r");
            }
            store.relist_done();
            let read = same_as_fresh(&mut check, &config, &snap(&w), yaml);
            let want = if pods_are_sources { 37 } else { 0 };
            assert_eq!(read, want, "{yaml}: a relist gives every pod anew");
            // Everything gone, then back.
            for (uid, _, _) in &pods {
                w.stores[0].0.delete(uid);
            }
            same_as_fresh(&mut check, &config, &snap(&w), yaml);
            for (uid, name, n) in &pods {
                churn_pod(&w, uid, name, n, "a");
            }
            same_as_fresh(&mut check, &config, &snap(&w), yaml);
        }
    }

    #[test]
    fn a_changing_world_gives_the_reference_output_on_every_run() {
        let w = pods_world();
        for yaml in CONFIGS {
            let config = Config::from_yaml(yaml, "t").unwrap();
            let mut check = Check::new(&config, w.factory.symbols().clone()).unwrap();
            same(&mut check, &w.factory.snapshot(), yaml);
            // A new pod on a new node, web-1 changes phase and node, web-0 goes away.
            let phases = |running: bool| -> Vec<S<'static>> {
                vec![
                    (
                        "kube_pod_status_phase",
                        &[("phase", "Pending")][..],
                        f64::from(u8::from(!running)),
                    ),
                    (
                        "kube_pod_status_phase",
                        &[("phase", "Running")][..],
                        f64::from(u8::from(running)),
                    ),
                ]
            };
            let mut web2 = phases(true);
            web2.push(("kube_pod_info", &[("node", "n3")][..], 1.0));
            w.put(
                0,
                "u3",
                &[("namespace", "shop"), ("pod", "web-2"), ("uid", "u3")],
                &web2,
            );
            w.put(
                1,
                "n3",
                &[("node", "n3")],
                &[("kube_node_labels", &[("label_zone", "c")][..], 1.0)],
            );
            let mut web1 = phases(true);
            web1.push(("kube_pod_info", &[("node", "n1")][..], 1.0));
            w.put(
                0,
                "u2",
                &[("namespace", "shop"), ("pod", "web-1"), ("uid", "u2")],
                &web1,
            );
            w.stores[0].0.delete("u1");
            same(&mut check, &w.factory.snapshot(), yaml);
            // Two pods with the same name and namespace: both contribute to the join.
            w.put(
                0,
                "u4",
                &[("namespace", "shop"), ("pod", "web-2"), ("uid", "u4")],
                &phases(false),
            );
            same(&mut check, &w.factory.snapshot(), yaml);
            w.stores[1].0.delete("n3");
            same(&mut check, &w.factory.snapshot(), yaml);
        }
    }
}
