//! Migrating from Datadog's agent check: each instance option's mapping (`tags`,
//! `cluster_name`, `label_to_match`, `join_standard_tags`, `telemetry`, the options that map
//! to other keys, the ones rejected) and the service checks as series.

use crate::tests::{World, S};
use crate::{CheckConfig, Collect, OwnedSeries};

type Config = CheckConfig<serde_yaml::Value>;

fn err(yaml: &str) -> String {
    match Config::from_yaml(yaml, "dd.yaml") {
        Ok(c) => match crate::Plan::compile(&c, &kubestate_store::structured::Symbols::new()) {
            Ok(_) => panic!("should be rejected:\n{yaml}"),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    }
}

fn named<'a>(c: &'a Collect, name: &str) -> Vec<&'a OwnedSeries> {
    c.0.iter().filter(|s| s.name == name).collect()
}

fn one<'a>(c: &'a Collect, name: &str, key: &str, value: &str) -> &'a OwnedSeries {
    let v: Vec<_> = named(c, name)
        .into_iter()
        .filter(|s| s.values(key) == [value])
        .collect();
    assert_eq!(v.len(), 1, "{name}{{{key}={value}}}: {:#?}", c.0);
    v[0]
}

/// Nodes with conditions and a zone label, jobs of two cronjobs and one on its own, and the
/// cronjobs' next schedule times.
fn cluster() -> World {
    let mut w = World::new();
    let nodes = w.store("nodes", &["kube_node_status_condition", "kube_node_labels"]);
    for (node, ready, zone) in [
        ("n1", "true", "z1"),
        ("n2", "false", "z2"),
        ("n3", "unknown", "z3"),
    ] {
        let mut samples: Vec<S<'_>> = Vec::new();
        let zone_label = [("label_topology_kubernetes_io_zone", zone)];
        samples.push(("kube_node_labels", &zone_label[..], 1.0));
        for status in ["true", "false", "unknown"] {
            let l: &'static [(&str, &str)] = match status {
                "true" => &[("condition", "Ready"), ("status", "true")],
                "false" => &[("condition", "Ready"), ("status", "false")],
                _ => &[("condition", "Ready"), ("status", "unknown")],
            };
            samples.push((
                "kube_node_status_condition",
                l,
                f64::from(u8::from(status == ready)),
            ));
        }
        samples.push((
            "kube_node_status_condition",
            &[("condition", "MemoryPressure"), ("status", "false")],
            1.0,
        ));
        samples.push((
            "kube_node_status_condition",
            &[("condition", "PIDPressure"), ("status", "false")],
            1.0,
        ));
        w.put(nodes, node, &[("node", node)], &samples);
    }
    let jobs = w.store("jobs", &["kube_job_complete", "kube_job_failed"]);
    for (job, complete) in [
        ("backup-1000", false),
        ("backup-2000", true),
        ("report-6000", false),
        ("report-5000", true),
        ("adhoc", true),
    ] {
        let fam = if complete {
            "kube_job_complete"
        } else {
            "kube_job_failed"
        };
        w.put(
            jobs,
            job,
            &[("namespace", "ops"), ("job_name", job)],
            &[
                (fam, &[("condition", "true")], 1.0),
                (fam, &[("condition", "false")], 0.0),
                (fam, &[("condition", "unknown")], 0.0),
            ],
        );
    }
    let cronjobs = w.store("cronjobs", &["kube_cronjob_next_schedule_time"]);
    // World::run runs at t = 1 000 000 s.
    for (cj, next) in [("backup", 1_000_100.0), ("report", 999_000.0)] {
        w.put(
            cronjobs,
            cj,
            &[("namespace", "ops"), ("cronjob", cj)],
            &[("kube_cronjob_next_schedule_time", &[], next)],
        );
    }
    w
}

#[test]
fn node_conditions_become_status_series() {
    let (out, _) = cluster().run("preset: datadog\n");
    for (node, status) in [("n1", 0.0), ("n2", 2.0), ("n3", 1.0)] {
        let s = one(&out, "kubernetes_state.node.ready", "node", node);
        assert_eq!(s.value, status, "{node}");
        // The name says the condition, the value the status; the node's joined zone stays.
        assert!(
            s.values("condition").is_empty() && s.values("status").is_empty(),
            "{s:?}"
        );
        assert_eq!(s.values("kube_zone"), [format!("z{}", &node[1..])]);
    }
    assert_eq!(
        named(&out, "kubernetes_state.node.ready").len(),
        3,
        "value-1 series only"
    );
    let mp = named(&out, "kubernetes_state.node.memory_pressure");
    assert_eq!(mp.len(), 3);
    assert!(mp.iter().all(|s| s.value == 0.0), "false pressure is OK");
    assert!(
        !out.0.iter().any(|s| s.name.contains("pid")),
        "conditions without an agent check emit none"
    );
}

#[test]
fn jobs_give_job_complete_with_their_cronjob() {
    let (out, _) = cluster().run("preset: datadog\n");
    let jobs = named(&out, "kubernetes_state.job.complete");
    assert_eq!(jobs.len(), 5, "{jobs:#?}");
    let failed = one(
        &out,
        "kubernetes_state.job.complete",
        "kube_job",
        "backup-1000",
    );
    assert_eq!(failed.value, 2.0);
    assert_eq!(failed.values("kube_cronjob"), ["backup"]);
    assert_eq!(failed.values("kube_namespace"), ["ops"]);
    assert!(failed.values("condition").is_empty());
    let ok = one(&out, "kubernetes_state.job.complete", "kube_job", "adhoc");
    assert_eq!(ok.value, 0.0);
    assert!(ok.values("kube_cronjob").is_empty());
}

#[test]
fn cronjob_complete_follows_the_latest_job() {
    let (out, _) = cluster().run("preset: datadog\n");
    let cj = named(&out, "kubernetes_state.cronjob.complete");
    assert_eq!(cj.len(), 2, "{cj:#?}");
    // backup-2000 (complete) is newer than backup-1000 (failed); report-6000 failed last.
    let backup = one(
        &out,
        "kubernetes_state.cronjob.complete",
        "kube_cronjob",
        "backup",
    );
    assert_eq!(backup.value, 0.0);
    assert_eq!(backup.values("kube_namespace"), ["ops"]);
    let report = one(
        &out,
        "kubernetes_state.cronjob.complete",
        "kube_cronjob",
        "report",
    );
    assert_eq!(report.value, 2.0);
}

#[test]
fn cronjob_on_schedule_is_critical_when_late() {
    let (out, stats) = cluster().run("preset: datadog\n");
    let on = |cj| {
        one(
            &out,
            "kubernetes_state.cronjob.on_schedule_check",
            "kube_cronjob",
            cj,
        )
        .value
    };
    assert_eq!((on("backup"), on("report")), (0.0, 2.0));
    // The family feeds the check: it is consumed, not unknown.
    assert_eq!(stats.unknown_families, 0, "{stats:?}");
}

#[test]
fn service_checks_are_counted_and_can_be_turned_off() {
    let w = cluster();
    let (out, stats) = w.run("preset: datadog\n");
    // 3 ready + 3 memory pressure + 5 jobs + 2 cronjob.complete + 2 on schedule.
    assert_eq!(stats.service_checks, 15);
    assert_eq!(stats.series_out, out.0.len() as u64);
    let (off, stats) = w.run("preset: datadog\nservice_checks: false\n");
    assert_eq!(stats.service_checks, 0);
    assert!(!off
        .0
        .iter()
        .any(|s| s.name.ends_with(".ready") || s.name.ends_with("complete")));
    // Without the preset they are off unless asked for.
    let (_, stats) = w.run("");
    assert_eq!(stats.service_checks, 0);
    let (raw, stats) = w.run("service_checks: true\n");
    assert_eq!(stats.service_checks, 15);
    // Without the mapper, labels keep KSM's names.
    assert_eq!(
        one(
            &raw,
            "kubernetes_state.job.complete",
            "job_name",
            "backup-2000"
        )
        .values("namespace"),
        ["ops"]
    );
}

#[test]
fn tags_and_cluster_name_label_every_series() {
    let yaml = "preset: datadog\ntags: [\"team:infra\", \"env:prod:eu\"]\ncluster_name: prod-1\n";
    let (out, _) = cluster().run(yaml);
    assert!(!out.0.is_empty());
    for s in &out.0 {
        assert_eq!(s.values("team"), ["infra"], "{s:?}");
        assert_eq!(
            s.values("env"),
            ["prod:eu"],
            "split at the first colon: {s:?}"
        );
        assert_eq!(s.values("kube_cluster_name"), ["prod-1"], "{s:?}");
    }
    // Aggregation rows too.
    let (out, _) = cluster().run(
        "tags: [\"team:infra\"]\naggregations:\n  - {name: jobs, from: kube_job_complete, kind: count, by: [namespace]}\n",
    );
    assert_eq!(named(&out, "jobs")[0].values("team"), ["infra"]);
}

#[test]
fn tags_must_be_key_value_pairs() {
    let e = err("tags:\n  - team:infra\n  - standalone\n");
    assert!(
        e.starts_with("dd.yaml:") && e.contains("\"standalone\" has no value"),
        "{e}"
    );
    let e = err("tags: [\"team.name:infra\"]\n");
    assert!(e.contains("write team_name:infra"), "{e}");
    let e = err("cluster_name: \"\"\n");
    assert!(e.contains("must not be empty"), "{e}");
}

/// One deployment `shop/web` with these Kubernetes labels and 3 desired replicas.
fn deployment(labels: &[(&str, &str)]) -> World {
    let mut w = World::new();
    let deps = w.store(
        "deployments",
        &["kube_deployment_labels", "kube_deployment_spec_replicas"],
    );
    w.put(
        deps,
        "d1",
        &[("namespace", "shop"), ("deployment", "web")],
        &[
            ("kube_deployment_labels", labels, 1.0),
            ("kube_deployment_spec_replicas", &[], 3.0),
        ],
    );
    w
}

#[test]
fn label_to_match_is_a_one_label_labels_to_match() {
    let w = deployment(&[("label_team", "a")]);
    let older = "label_joins:\n  kube_deployment_labels:\n    label_to_match: deployment\n    labels_to_get: [label_team]\n";
    let newer = "label_joins:\n  kube_deployment_labels:\n    labels_to_match: [deployment]\n    labels_to_get: [label_team]\n";
    let (a, _) = w.run(older);
    let (b, _) = w.run(newer);
    assert_eq!(a.0, b.0);
    assert_eq!(
        named(&a, "kube_deployment_spec_replicas")[0].values("label_team"),
        ["a"]
    );
    let e = err("label_joins:\n  kube_deployment_labels:\n    label_to_match: deployment\n    labels_to_match: [deployment]\n");
    assert!(
        e.contains(
            "label_joins.kube_deployment_labels: give labels_to_match or label_to_match, not both"
        ),
        "{e}"
    );
    let e = err("label_joins:\n  kube_deployment_labels:\n    labels_to_get: [label_team]\n");
    assert!(e.contains("at least one label"), "{e}");
    let e = err("label_joins:\n  kube_pod_info:\n    label_to_match: \"a-b\"\n");
    assert!(e.starts_with("dd.yaml:3:"), "{e}");
}

#[test]
fn join_standard_tags_joins_env_service_version() {
    let w = deployment(&[
        ("label_tags_datadoghq_com_env", "prod"),
        ("label_tags_datadoghq_com_service", "web"),
        ("label_team", "a"),
    ]);
    let (plain, _) = w.run("");
    let r = named(&plain, "kube_deployment_spec_replicas")[0];
    assert!(r.values("env").is_empty());
    let (joined, _) = w.run("join_standard_tags: true\n");
    let r = named(&joined, "kube_deployment_spec_replicas")[0];
    assert_eq!(
        (r.values("env"), r.values("service")),
        (vec!["prod"], vec!["web"])
    );
    assert!(
        r.values("version").is_empty() && r.values("label_team").is_empty(),
        "{r:?}"
    );
    // The preset already does it: the option changes nothing there.
    let (a, _) = w.run("preset: datadog\n");
    let (b, _) = w.run("preset: datadog\njoin_standard_tags: true\n");
    assert_eq!(a.0, b.0);
    let r = named(&a, "kubernetes_state.deployment.replicas_desired")[0];
    assert_eq!(r.values("env"), ["prod"]);
}

#[test]
fn telemetry_true_emits_the_agent_telemetry_series() {
    let w = cluster();
    let (out, _) = w.run("preset: datadog\ntelemetry: true\ntags: [\"team:infra\"]\n");
    let v = |name: &str| named(&out, name).iter().map(|s| s.value).sum::<f64>();
    // Known, non-metadata families: kube_node_status_condition (15 series), kube_job_complete
    // and kube_job_failed (5 jobs × 3), kube_cronjob_next_schedule_time (2). kube_node_labels
    // is metadata.
    assert_eq!(v("kubernetes_state.telemetry.metrics.count.total"), 32.0);
    assert_eq!(v("kubernetes_state.telemetry.unknown_metrics.count"), 0.0);
    let per: Vec<(String, f64)> = named(&out, "kubernetes_state.telemetry.metrics.count")
        .iter()
        .map(|s| (s.values("resource_name")[0].to_string(), s.value))
        .collect();
    assert_eq!(
        per,
        [
            ("cronjob".to_string(), 2.0),
            ("job".into(), 15.0),
            ("node".into(), 15.0)
        ]
    );
    assert!(named(&out, "kubernetes_state.telemetry.metrics.count")
        .iter()
        .all(|s| s.values("team") == ["infra"]));
    // An unknown family is counted as such.
    let (out, _) = w.run("preset: datadog\ntelemetry: true\nservice_checks: false\n");
    assert_eq!(
        named(&out, "kubernetes_state.telemetry.unknown_metrics.count")[0].value,
        1.0,
        "kube_cronjob_next_schedule_time has no rule without the service checks"
    );
    // Off by default, and the mapping form still sets the listener only.
    let (out, _) = w.run("preset: datadog\ntelemetry: false\n");
    assert!(!out.0.iter().any(|s| s.name.contains(".telemetry.")));
    let c = Config::from_yaml("telemetry: {listen: \"127.0.0.1:9\"}\n", "x").expect("config");
    assert!(c.telemetry.listen.is_some() && !c.telemetry.series);
}

#[test]
fn options_that_are_other_names_of_ours() {
    let c = Config::from_yaml("min_collection_interval: 30\n", "x").expect("config");
    assert_eq!(c.interval, std::time::Duration::from_secs(30));
    let e = err("interval: 15s\nmin_collection_interval: 30\n");
    assert!(e.contains("keep one"), "{e}");
    let c = Config::from_yaml("kube_state_url: http://ksm:8080/metrics\n", "x").expect("config");
    assert_eq!(c.scrape.expect("scrape").urls, ["http://ksm:8080/metrics"]);
    let e = err("kube_state_url: http://a/metrics\nscrape: http://b/metrics\n");
    assert!(e.contains("keep one"), "{e}");
    let c = Config::from_yaml(
        "collectors: [pods, nodes]\nnamespaces: [prod]\nuse_apiserver_cache: true\npod_collection_mode: cluster_unassigned\n\
         disable_global_tags: true\nresync_period: 300\nskip_leader_election: true\n",
        "x",
    )
    .expect("accepted");
    assert_eq!(c.collectors, ["pods", "nodes"]);
    assert_eq!(c.namespaces, ["prod"]);
    assert!(c.use_apiserver_cache);
}

#[test]
fn options_without_equivalent_are_all_named_with_their_fix() {
    let yaml = "preset: datadog\nhostname_override: true\nskip_leader_election: false\npod_collection_mode: node_kubelet\ncustom_resource: {spec: {resources: []}}\nignore_metrics: [kube_pod_*]\n";
    let e = err(yaml);
    assert!(
        e.starts_with("dd.yaml: 5 options of Datadog's kubernetes_state checks have no equivalent"),
        "{e}"
    );
    for needle in [
        "line 2: hostname_override: series have no host field",
        "line 3: skip_leader_election: the check has no leader election",
        "line 4: pod_collection_mode: pods come from the API server",
        "line 5: custom_resource: give the same CustomResourceStateMetrics spec",
        "line 6: ignore_metrics: use drop:",
    ] {
        assert!(e.contains(needle), "{needle:?} missing from\n{e}");
    }
    let e = err("instances:\n  - tags: [\"a:b\"]\n");
    assert!(
        e.contains("1 option of Datadog's kubernetes_state checks has no equivalent")
            && e.contains("line 1: instances: write the keys of your one instance"),
        "{e}"
    );
    // A typo of one of our own keys is still the parser's "unknown field" with the line.
    let e = err("interval: 15s\nlabel_join: {}\n");
    assert!(
        e.starts_with("dd.yaml:2:1: unknown field `label_join`"),
        "{e}"
    );
}

#[test]
fn an_agent_instance_config_runs_as_is() {
    // What a kubernetes_state_core user has, with the check's own `preset` and nothing else.
    let yaml = r#"
preset: datadog
collectors: [nodes, jobs, cronjobs]
labels_as_tags:
  node:
    topology.kubernetes.io/zone: zone
label_joins:
  kube_job_complete:
    labels_to_match: [job_name, namespace]
    labels_to_get: [condition]
labels_mapper:
  namespace: ns
tags:
  - team:infra
cluster_name: prod-1
telemetry: true
skip_leader_election: true
"#;
    let (out, _) = cluster().run(yaml);
    let n2 = one(&out, "kubernetes_state.node.ready", "node", "n2");
    assert_eq!(n2.value, 2.0);
    assert_eq!(n2.values("zone"), ["z2"]);
    assert_eq!(n2.values("kube_cluster_name"), ["prod-1"]);
    let job = one(
        &out,
        "kubernetes_state.job.complete",
        "kube_job",
        "backup-2000",
    );
    assert_eq!(job.values("ns"), ["ops"]);
}

#[test]
fn the_documented_instance_compiles() {
    let doc = include_str!("../../../docs/check.md");
    let start = doc
        .find("# A kubernetes_state_core instance, as is")
        .expect("the example in docs/check.md");
    let block = &doc[start..];
    let yaml = &block[..block.find("```").expect("end of the example")];
    let (out, _) = cluster().run(yaml);
    let n1 = one(&out, "kubernetes_state.node.ready", "node", "n1");
    assert_eq!(n1.values("kube_cluster_name"), ["prod-eu-1"]);
    assert_eq!(n1.values("team"), ["platform"]);
}

#[test]
fn service_checks_work_in_scrape_mode() {
    // A scraped body is one object holding every sample: the checks read labels per series.
    let body = "\
# TYPE kube_node_status_condition gauge
kube_node_status_condition{node=\"n1\",condition=\"Ready\",status=\"true\"} 0
kube_node_status_condition{node=\"n1\",condition=\"Ready\",status=\"false\"} 1
kube_node_status_condition{node=\"n1\",condition=\"Ready\",status=\"unknown\"} 0
# TYPE kube_node_labels gauge
kube_node_labels{node=\"n1\",label_topology_kubernetes_io_zone=\"z1\"} 1
# TYPE kube_job_failed gauge
kube_job_failed{namespace=\"ops\",job_name=\"backup-1000\",condition=\"true\"} 1
# TYPE kube_job_complete gauge
kube_job_complete{namespace=\"ops\",job_name=\"backup-2000\",condition=\"true\"} 1
";
    let config = Config::from_yaml("preset: datadog\ncluster_name: c1\n", "t").expect("config");
    let symbols = std::sync::Arc::new(kubestate_store::structured::Symbols::new());
    let mut check = crate::Check::new(&config, symbols.clone()).expect("check");
    let snap = crate::ScrapeSource::new(symbols)
        .snapshot(body, kubestate_metric::parse::Syntax::Text)
        .expect("parses");
    let mut out = Collect::default();
    let stats = check.run(&snap, std::time::SystemTime::now(), &mut out);
    let n1 = one(&out, "kubernetes_state.node.ready", "node", "n1");
    assert_eq!(n1.value, 2.0);
    assert_eq!(n1.values("kube_zone"), ["z1"]);
    assert_eq!(n1.values("kube_cluster_name"), ["c1"]);
    let cj = one(
        &out,
        "kubernetes_state.cronjob.complete",
        "kube_cronjob",
        "backup",
    );
    assert_eq!(
        cj.value, 0.0,
        "backup-2000 completed after backup-1000 failed"
    );
    assert_eq!(stats.service_checks, 4, "{:#?}", out.0);
}
