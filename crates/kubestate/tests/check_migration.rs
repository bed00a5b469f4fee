//! `kubestate check` with a Datadog `kubernetes_state_core` instance configuration, against a
//! simulated cluster: the instance `tags` and `cluster_name` label every series, the service
//! checks follow the world (a node made not ready turns `kubernetes_state.node.ready` to
//! CRITICAL, a newer failed job turns `kubernetes_state.cronjob.complete` to CRITICAL), the
//! agent's telemetry series come out, and the check's own counters equal what the file
//! output holds (`series_out`) and what the shared exporter serves (`series_in`).

use std::time::{Duration, Instant};

mod common;
use common::check::newest_series;
use common::LOOPBACK;

use kubestate::check::CheckArgs;
use kubestate_testkit::http::get;
use kubestate_testkit::sim::{conformance_sim, empty_sim};
use serde_json::{json, Value};

const INTERVAL: Duration = Duration::from_millis(300);

fn node(name: &str, zone: &str, ready: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": format!("node-{name}"),
                     "labels": {"topology.kubernetes.io/zone": zone}},
        "status": {"conditions": [
            {"type": "Ready", "status": ready},
            {"type": "MemoryPressure", "status": "False"}]}})
}

fn job(name: &str, condition: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "ops", "uid": format!("job-{name}"),
                     "labels": {"tags.datadoghq.com/service": "backups"},
                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "backup",
                                          "uid": "cj-backup", "controller": true}]},
        "spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b"}]}}},
        "status": {"conditions": [{"type": condition, "status": "True"}]}})
}

/// A kubernetes_state_core instance, as a Datadog user has it, plus where to write.
fn instance(out: &std::path::Path) -> String {
    format!(
        r#"preset: datadog
collectors: [nodes, jobs, cronjobs, namespaces]
labels_as_tags:
  node:
    topology.kubernetes.io/zone: zone
tags:
  - team:infra
  - env:staging
cluster_name: prod-eu-1
telemetry: true
skip_leader_election: true
resync_period: 300
sinks:
  - {{type: file, directory: {}, keep: 3, sanitize_names: true}}
"#,
        out.display()
    )
}

/// Prints what the check wrote when the test fails.
struct Show(std::path::PathBuf);

impl Drop for Show {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the check's newest output:\n{:#?}", newest_series(&self.0));
        }
    }
}

/// The newest output's line for series `name` whose labels contain `needle`.
fn line(out: &std::path::Path, name: &str, needle: &str) -> Option<String> {
    newest_series(out)?
        .into_iter()
        .find(|l| l.starts_with(&format!("{name}{{")) && l.contains(needle))
}

/// Waits until that line has `value` (any value when empty).
async fn wait_for_line(out: &std::path::Path, name: &str, needle: &str, value: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(l) = line(out, name, needle) {
            if value.is_empty() || l.ends_with(&format!("}} {value}")) {
                return l;
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {name}{{…{needle}…}} {value}; have {:?}",
            line(out, name, needle)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_instance_config_tags_and_service_checks_follow_the_world() {
    let sim = empty_sim().await;
    sim.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}))
        .expect("namespace");
    sim.apply(node("n1", "eu-1a", "True")).expect("n1");
    sim.apply(node("n2", "eu-1b", "True")).expect("n2");
    // A cronjob every five minutes whose last run was in 2020: its next run is long overdue.
    sim.apply(json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "backup", "namespace": "ops", "uid": "cj-backup",
                     "creationTimestamp": "2020-01-01T00:00:00Z"},
        "spec": {"schedule": "*/5 * * * *",
                 "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b"}]}}}}},
        "status": {"lastScheduleTime": "2020-01-01T00:05:00Z"}}))
    .expect("cronjob");
    sim.apply(job("backup-28000000", "Complete")).expect("job");

    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let cfg = dir.path().join("kubernetes_state_core.yaml");
    std::fs::write(&cfg, instance(&out)).expect("config");
    let _show = Show(out.clone());
    let check = kubestate::check::start(CheckArgs {
        config: Some(cfg),
        interval: Some(INTERVAL),
        telemetry_listen: Some("127.0.0.1:0".parse().expect("addr")),
        exporter_args: vec![format!("--apiserver={}", sim.base_url())],
        ..CheckArgs::default()
    })
    .await
    .expect("the agent's instance config is accepted");

    // Node n1 is ready: OK (0), with the instance tags, the cluster name and its zone.
    let n1 = wait_for_line(&out, "kubernetes_state_node_ready", "node=\"n1\"", "0").await;
    for label in [
        "team=\"infra\"",
        "env=\"staging\"",
        "kube_cluster_name=\"prod-eu-1\"",
        "zone=\"eu-1a\"",
    ] {
        assert!(n1.contains(label), "{label} missing from {n1}");
    }
    assert!(
        !n1.contains("status=") && !n1.contains("condition="),
        "{n1}"
    );
    wait_for_line(
        &out,
        "kubernetes_state_node_memory_pressure",
        "node=\"n2\"",
        "0",
    )
    .await;
    // Every series carries the static labels, metrics and service checks alike.
    let all = newest_series(&out).expect("output");
    assert!(all.len() > 20, "{all:#?}");
    for l in &all {
        assert!(
            l.contains("kube_cluster_name=\"prod-eu-1\"") && l.contains("team=\"infra\""),
            "{l}"
        );
    }

    // The job completed: job.complete and cronjob.complete OK; the cronjob is late: CRITICAL.
    let j = wait_for_line(
        &out,
        "kubernetes_state_job_complete",
        "kube_job=\"backup-28000000\"",
        "0",
    )
    .await;
    assert!(
        j.contains("kube_cronjob=\"backup\"") && j.contains("kube_namespace=\"ops\""),
        "{j}"
    );
    wait_for_line(
        &out,
        "kubernetes_state_cronjob_complete",
        "kube_cronjob=\"backup\"",
        "0",
    )
    .await;
    wait_for_line(
        &out,
        "kubernetes_state_cronjob_on_schedule_check",
        "kube_cronjob=\"backup\"",
        "2",
    )
    .await;

    // The world changes: n2 stops being ready, a newer job of the cronjob fails.
    sim.apply(node("n2", "eu-1b", "False"))
        .expect("n2 not ready");
    sim.apply(job("backup-28000005", "Failed"))
        .expect("failed job");
    let n2 = wait_for_line(&out, "kubernetes_state_node_ready", "node=\"n2\"", "2").await;
    assert!(n2.contains("zone=\"eu-1b\""), "{n2}");
    wait_for_line(&out, "kubernetes_state_node_ready", "node=\"n1\"", "0").await;
    wait_for_line(
        &out,
        "kubernetes_state_cronjob_complete",
        "kube_cronjob=\"backup\"",
        "2",
    )
    .await;
    wait_for_line(
        &out,
        "kubernetes_state_job_complete",
        "kube_job=\"backup-28000005\"",
        "2",
    )
    .await;
    // The agent's telemetry series.
    wait_for_line(
        &out,
        "kubernetes_state_telemetry_metrics_count",
        "resource_name=\"node\"",
        "",
    )
    .await;
    assert!(line(&out, "kubernetes_state_telemetry_metrics_count_total", "").is_some());

    // The check's counters equal what the file holds (the world no longer changes, so two
    // consecutive runs write the same number of series).
    let telemetry = check.telemetry_addr.expect("telemetry");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let lines = newest_series(&out).map(|l| l.len() as f64);
        let series_out = self_metric(telemetry, "kubestate_check_last_run_series_out ").await;
        let written = self_metric(
            telemetry,
            "kubestate_check_output_last_run_series_written{output=\"file\"} ",
        )
        .await;
        // 2 nodes × (ready + memory pressure), 2 jobs, cronjob.complete, on_schedule_check.
        assert_eq!(
            self_metric(telemetry, "kubestate_check_last_run_service_checks ").await,
            Some(8.0)
        );
        if lines.is_some() && series_out == lines && written == lines {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "file lines {lines:?}, series_out {series_out:?}, written {written:?}"
        );
        tokio::time::sleep(INTERVAL).await;
    }
    if std::env::var_os("KUBESTATE_SHOW_CHECK_OUTPUT").is_some() {
        eprintln!("{:#?}", newest_series(&out));
    }
    check.stop().await.expect("clean stop");
    sim.shutdown().await;
}

/// Starts a scrape-mode check with configuration file `cfg`; its start-up error.
async fn start_error(cfg: &std::path::Path) -> String {
    let e = kubestate::check::start(CheckArgs {
        config: Some(cfg.to_path_buf()),
        scrape: vec!["http://127.0.0.1:1/metrics".into()],
        once: true,
        ..CheckArgs::default()
    })
    .await
    .err()
    .expect("rejected");
    format!("{e:#}")
}

#[tokio::test]
async fn unmapped_agent_options_fail_at_start_naming_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("kubernetes_state_core.yaml");
    std::fs::write(
        &cfg,
        "preset: datadog\npod_collection_mode: node_kubelet\nhostname_override: true\n",
    )
    .expect("config");
    let msg = start_error(&cfg).await;
    assert!(
        msg.contains(&cfg.display().to_string())
            && msg.contains("line 2: pod_collection_mode")
            && msg.contains("line 3: hostname_override"),
        "{msg}"
    );
    // Embedded-only options in scrape mode.
    std::fs::write(&cfg, "collectors: [pods]\nnamespaces: [ops]\n").expect("config");
    let msg = start_error(&cfg).await;
    assert!(
        msg.contains("collectors, namespaces: only in embedded mode"),
        "{msg}"
    );
}

/// A figure of the check's self-metrics, if served.
async fn self_metric(addr: std::net::SocketAddr, prefix: &str) -> Option<f64> {
    let text = get(
        &format!("http://{addr}/metrics"),
        &[],
        Duration::from_secs(5),
    )
    .await
    .ok()?
    .text();
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_in_equals_the_samples_of_the_shared_exporter() {
    let Some(sim) = conformance_sim("flags-defaults").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let cfg = dir.path().join("dd.yaml");
    std::fs::write(
        &cfg,
        format!(
            "preset: datadog\ntags: [\"team:infra\"]\ntelemetry: true\nsinks:\n  - {{type: file, directory: {}, keep: 2}}\n",
            out.display()
        ),
    )
    .expect("config");
    let check = kubestate::check::start(CheckArgs {
        config: Some(cfg),
        interval: Some(INTERVAL),
        telemetry_listen: Some("127.0.0.1:0".parse().expect("addr")),
        serve_metrics: true,
        exporter_args: [
            format!("--apiserver={}", sim.base_url()),
            "--metric-labels-allowlist=*=[*]".into(),
        ]
        .into_iter()
        .chain(LOOPBACK.map(String::from))
        .collect(),
        ..CheckArgs::default()
    })
    .await
    .expect("check starts");
    let (metrics, _) = check.exporter_addrs.expect("exporter servers");
    let telemetry = check.telemetry_addr.expect("telemetry");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = get(
            &format!("http://{metrics}/metrics"),
            &[],
            Duration::from_secs(10),
        )
        .await
        .expect("metrics")
        .text();
        let samples = body
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count() as f64;
        let series_in = self_metric(telemetry, "kubestate_check_last_run_series_in ").await;
        let series_out = self_metric(telemetry, "kubestate_check_last_run_series_out ").await;
        let lines = newest_series(&out).map(|l| l.len() as f64);
        if samples > 100.0 && series_in == Some(samples) && series_out == lines {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "exporter samples {samples}, series_in {series_in:?}; file lines {lines:?}, series_out {series_out:?}"
        );
        tokio::time::sleep(INTERVAL).await;
    }
    check.stop().await.expect("clean stop");
    sim.shutdown().await;
}
