//! Alerts keep firing: a real Prometheus evaluates the alerting rules written for
//! kube-state-metrics series, scraping kubestate and then the reference kube-state-metrics
//! v2.20.0 on the same simulated world with known failures, under the scrape job
//! `kube-state-metrics`. The same alerts must fire for both, the expected ones among them, and
//! every rule must evaluate without error.
//!
//! The world is the conformance corpus' `realistic-small-cluster` (real objects: a
//! crash-looping pod, pending pods, deployments missing replicas, a failed job) with a node made
//! not ready, an HPA at its maximum and two quotas (one overcommitting the cluster's CPU, one
//! exceeded), served by `kubestate sim --world FILE`.
//!
//! Rules: kube-prometheus' `manifests/*prometheusRule.yaml` (every group of every file),
//! fetched at test time with `go mod download` (module
//! `github.com/prometheus-operator/kube-prometheus`, version `$KUBE_PROMETHEUS_VERSION`, default
//! v0.16.0) and never stored in the repository; `for:` is rewritten to `0s` so an alert fires
//! on its first evaluation. When the Go module proxy does not serve that module (it refuses it
//! on the project's machines), the test says so and uses `tests/data/ksm-alerts.rules.yaml`,
//! kubestate's own restatement of the conditions of the alerts that read KSM series.
//!
//! Needs `prometheus` (Debian's) and `kube-state-metrics` (`$KSM_BIN`, `~/go/bin`); skips
//! without them (fails under `KUBESTATE_REQUIRE_TOOLS=1`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{exporter_base_args, ExporterProc, SimProc};
use kubestate_testkit::tools::{self, free_port, ChildGuard, PrometheusServer, TempDir};
use serde_json::{json, Value};

/// The alerts the world's failures must raise, for both exporters.
const EXPECTED: &[&str] = &[
    "KubePodCrashLooping",
    "KubePodNotReady",
    "KubeDeploymentReplicasMismatch",
    "KubeJobFailed",
    "KubeNodeNotReady",
    "KubeHpaMaxedOut",
    "KubeCPUQuotaOvercommit",
    "KubeQuotaExceeded",
];

/// The conformance world with the failures the base world lacks.
fn world() -> Option<Value> {
    let shared = kubestate_testkit::shared_dir()?;
    let path = shared.join("conformance/cases/realistic-small-cluster/objects.json");
    let mut w: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let items = w["items"].as_array_mut()?;
    for o in items.iter_mut() {
        let (kind, name) = (o["kind"].clone(), o["metadata"]["name"].clone());
        match (kind.as_str()?, name.as_str()?) {
            ("Node", "worker-4") => {
                for c in o["status"]["conditions"].as_array_mut()? {
                    if c["type"] == "Ready" {
                        c["status"] = json!("False");
                        c["reason"] = json!("KubeletNotReady");
                    }
                }
            }
            ("HorizontalPodAutoscaler", "payments-api") => {
                let max = o["spec"]["maxReplicas"].clone();
                o["status"]["currentReplicas"] = max.clone();
                o["status"]["desiredReplicas"] = max;
            }
            _ => {}
        }
    }
    let quota = |name: &str, hard: Value, used: Value| {
        json!({
            "apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("7e57a1e7-0000-4000-8000-{:012}", name.len()),
                         "resourceVersion": "90001", "creationTimestamp": "2026-11-01T00:00:00Z"},
            "spec": {"hard": hard},
            "status": {"hard": hard, "used": used}
        })
    };
    items.push(quota(
        "cpu-overcommit",
        json!({"requests.cpu": "1000"}),
        json!({"requests.cpu": "2"}),
    ));
    items.push(quota(
        "pods-exceeded",
        json!({"pods": "10"}),
        json!({"pods": "12"}),
    ));
    Some(w)
}

/// kube-prometheus' rule groups through the Go module proxy, or `None` (with the reason).
fn kube_prometheus_groups() -> Result<Vec<serde_yaml::Value>, String> {
    let version = std::env::var("KUBE_PROMETHEUS_VERSION").unwrap_or_else(|_| "v0.16.0".into());
    let module = format!("github.com/prometheus-operator/kube-prometheus@{version}");
    let out = Command::new("go")
        .args(["mod", "download", "-json", &module])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("go: {e}"))?;
    let info: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("go mod download: {e}"))?;
    let Some(dir) = info["Dir"].as_str() else {
        return Err(format!(
            "{module}: {}",
            info["Error"].as_str().unwrap_or("not downloaded")
        ));
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(dir).join("manifests"))
        .map_err(|e| format!("{dir}/manifests: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("prometheusRule.yaml"))
        .collect();
    files.sort();
    let mut groups = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        for g in doc["spec"]["groups"].as_sequence().into_iter().flatten() {
            let mut g = g.clone();
            for r in g["rules"].as_sequence_mut().into_iter().flatten() {
                if let Some(m) = r.as_mapping_mut() {
                    if m.contains_key("for") {
                        m.insert("for".into(), "0s".into());
                    }
                    m.remove("keep_firing_for");
                }
            }
            groups.push(g);
        }
    }
    if groups.is_empty() {
        return Err(format!(
            "{module}: no rule groups in manifests/*prometheusRule.yaml"
        ));
    }
    Ok(groups)
}

/// Writes the rules file Prometheus loads; returns its path and where the rules came from.
fn rules_file(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("rules.yaml");
    match kube_prometheus_groups() {
        Ok(groups) => {
            let n = groups.len();
            let text = serde_yaml::to_string(&serde_yaml::Value::Mapping(
                [("groups".into(), serde_yaml::Value::Sequence(groups))]
                    .into_iter()
                    .collect(),
            ))
            .expect("rules serialize");
            std::fs::write(&path, text).expect("write rules");
            (
                path,
                format!("kube-prometheus ({n} groups, for: rewritten to 0s)"),
            )
        }
        Err(why) => {
            let own =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ksm-alerts.rules.yaml");
            std::fs::copy(&own, &path).expect("copy rules");
            (
                path,
                format!(
                    "kubestate's restatement in tests/data (kube-prometheus unavailable: {why})"
                ),
            )
        }
    }
}

/// What Prometheus made of one exporter: firing alerts (name and labels, without `instance`)
/// and the rules that did not evaluate cleanly.
struct Observed {
    firing: BTreeSet<String>,
    rule_errors: Vec<String>,
}

fn alert_key(a: &Value) -> String {
    let mut labels: Vec<String> = a["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k != "instance")
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    labels.sort();
    labels.join(",")
}

async fn observe(
    prometheus: &Path,
    rules: &Path,
    main: &str,
    telemetry: &str,
    pods: usize,
) -> Result<Observed, String> {
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files: [{rules:?}]\nscrape_configs:\n- job_name: kube-state-metrics\n  honor_labels: true\n  static_configs:\n  - targets: [{main:?}, {telemetry:?}]\n"
    );
    let mut prom =
        PrometheusServer::start_config(prometheus, &config, &[]).map_err(|e| e.to_string())?;
    prom.wait_ready(Duration::from_secs(60)).await?;
    // The exporter has listed the world once Prometheus sees every pod.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let seen = prom
            .value("count(kube_pod_info{job=\"kube-state-metrics\"})")
            .await?
            .unwrap_or(0.0);
        let up = prom
            .value("sum(up{job=\"kube-state-metrics\"})")
            .await?
            .unwrap_or(0.0);
        if seen as usize == pods && up == 2.0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{pods} pods never reached Prometheus (saw {seen}, up {up}):\n{}",
                prom.log()
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Let every rule evaluate a few times on complete data, then read alerts until two reads
    // 2 s apart agree.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut last = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let firing = loop {
        let v = prom.api("/api/v1/alerts").await?;
        let now: BTreeSet<String> = v["data"]["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["state"] == "firing")
            .map(alert_key)
            .collect();
        if now == last && !now.is_empty() {
            break now;
        }
        if Instant::now() > deadline {
            return Err("firing alerts did not settle within 60 s".into());
        }
        last = now;
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let v = prom.api("/api/v1/rules").await?;
    let mut rule_errors = Vec::new();
    let mut rules_seen = 0;
    for g in v["data"]["groups"].as_array().into_iter().flatten() {
        for r in g["rules"].as_array().into_iter().flatten() {
            rules_seen += 1;
            if r["health"] != "ok" {
                rule_errors.push(format!(
                    "{}/{}: health {} {}",
                    g["name"].as_str().unwrap_or(""),
                    r["name"].as_str().unwrap_or(""),
                    r["health"],
                    r["lastError"].as_str().unwrap_or("")
                ));
            }
        }
    }
    if rules_seen == 0 {
        rule_errors.push("Prometheus loaded no rule".into());
    }
    Ok(Observed {
        firing,
        rule_errors,
    })
}

fn names(firing: &BTreeSet<String>) -> BTreeSet<String> {
    firing
        .iter()
        .filter_map(|k| {
            k.split(',')
                .find_map(|l| l.strip_prefix("alertname="))
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_alerts_fire_for_kubestate_and_kube_state_metrics() {
    common::init();
    let Some(prometheus) = tools::prometheus() else {
        return;
    };
    let home = std::env::var("HOME").map(PathBuf::from).unwrap_or_default();
    let Some(ksm) =
        kubestate_testkit::find_binary("KSM_BIN", "kube-state-metrics", &[home.join("go/bin")])
    else {
        tools::skip(
            "kube-state-metrics",
            "go install k8s.io/kube-state-metrics/v2@v2.20.0",
        );
        return;
    };
    let Some(world) = world() else {
        tools::skip("the conformance corpus (shared/)", "set KUBESTATE_SHARED");
        return;
    };
    let pods = world["items"]
        .as_array()
        .map_or(0, |i| i.iter().filter(|o| o["kind"] == "Pod").count());
    let dir = TempDir::new("alerts").expect("temp dir");
    let world_file = dir.path().join("world.json");
    std::fs::write(&world_file, serde_json::to_vec(&world).expect("world")).expect("write world");
    let (rules, source) = rules_file(dir.path());
    eprintln!("rules: {source}");

    let sim = SimProc::spawn(vec!["--world".into(), world_file.display().to_string()])
        .await
        .expect("sim");
    let kubeconfig = sim.kubeconfig.display().to_string();

    let kubestate = ExporterProc::spawn(exporter_base_args(&kubeconfig))
        .await
        .expect("kubestate");
    let ours = observe(
        &prometheus,
        &rules,
        &kubestate.metrics,
        &kubestate.telemetry,
        pods,
    )
    .await
    .unwrap_or_else(|e| panic!("kubestate: {e}\n{}", kubestate.log()));
    drop(kubestate);

    let (port, telemetry_port) = (free_port(), free_port());
    let child = Command::new(&ksm)
        .arg(format!("--kubeconfig={kubeconfig}"))
        .args([
            "--host=127.0.0.1",
            &format!("--port={port}"),
            "--telemetry-host=127.0.0.1",
        ])
        .arg(format!("--telemetry-port={telemetry_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start kube-state-metrics");
    let _ksm = ChildGuard(child);
    let theirs = observe(
        &prometheus,
        &rules,
        &format!("127.0.0.1:{port}"),
        &format!("127.0.0.1:{telemetry_port}"),
        pods,
    )
    .await
    .unwrap_or_else(|e| panic!("kube-state-metrics: {e}"));

    eprintln!("firing for kubestate: {:?}", names(&ours.firing));
    assert!(
        ours.rule_errors.is_empty(),
        "rules failing with kubestate ({source}):\n{}",
        ours.rule_errors.join("\n")
    );
    assert!(
        theirs.rule_errors.is_empty(),
        "rules failing with KSM ({source}):\n{}",
        theirs.rule_errors.join("\n")
    );
    let only_ours: Vec<&String> = ours.firing.difference(&theirs.firing).collect();
    let only_theirs: Vec<&String> = theirs.firing.difference(&ours.firing).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "different alerts ({source}):\nonly with kubestate: {only_ours:#?}\nonly with kube-state-metrics: {only_theirs:#?}"
    );
    let fired = names(&ours.firing);
    let missing: Vec<&&str> = EXPECTED.iter().filter(|a| !fired.contains(**a)).collect();
    assert!(
        missing.is_empty(),
        "expected alerts that did not fire: {missing:?} (fired: {fired:?})"
    );
}
