//! Partial APIs and bad streams (issue 12): readiness with resources the exporter may not or
//! cannot list, API discovery, undecodable watch events.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    change_world, converge, exporter_base_args, init, small_world, start_sim, wait_for,
    ExporterProc, Source, CONVERGE,
};
use kubestate::options::ExporterOptions;
use kubestate_engine::{Config, Engine, SyncState};
use kubestate_sim::{FaultConfig, SimConfig, SimHandle};
use kubestate_store::{Exposition, TextStoreFactory};
use kubestate_testkit::http::get;
use serde_json::Value;

const T: Duration = Duration::from_secs(10);

fn kube_client(sim: &SimHandle) -> kube::Client {
    let url = sim.base_url().parse().expect("sim URL");
    let mut config = kube::Config::new(url);
    config.default_retry = false;
    kube::Client::try_from(config).expect("kube client")
}

/// The value of the one sample of `family` whose labels contain all of `with`.
fn value(text: &str, family: &str, with: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")) || l.starts_with(&format!("{family} ")))
        .find(|l| with.iter().all(|w| l.contains(w)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// The states `kubestate_resource_sync_state` shows as 1, per resource.
fn states(telemetry: &str) -> std::collections::BTreeMap<String, String> {
    telemetry
        .lines()
        .filter(|l| l.starts_with("kubestate_resource_sync_state{") && l.ends_with(" 1"))
        .filter_map(|l| {
            let r = l.split("resource=\"").nth(1)?.split('"').next()?;
            let s = l.split("state=\"").nth(1)?.split('"').next()?;
            Some((r.to_string(), s.to_string()))
        })
        .collect()
}

/// Messages and levels of the JSON log lines.
fn log_lines(log: &str) -> Vec<(String, String)> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            (
                v["level"].as_str().unwrap_or("").to_string(),
                v["fields"]["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A cluster where one resource is forbidden (RBAC), one answers 404 and a whole group is
/// not served: the exporter becomes ready anyway, says what is missing (the RBAC rule in the
/// exact words other tooling matches), shows each state in `kubestate_resource_sync_state`,
/// and picks the forbidden resource up once the permission appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_does_not_wait_for_forbidden_missing_or_unserved_resources() {
    init();
    let sim = start_sim(SimConfig {
        faults: FaultConfig {
            forbidden_resources: vec!["secrets".into()],
            not_found_resources: vec!["leases".into()],
            hidden_groups: vec!["batch".into()],
            ..FaultConfig::default()
        },
        ..small_world()
    })
    .await;
    let exporter = ExporterProc::spawn(exporter_base_args(&sim.base_url()))
        .await
        .expect("exporter starts");
    exporter
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("ready although secrets, leases and batch are unavailable");
    let telemetry_url = exporter.telemetry_url("/metrics");
    let seen = Arc::new(std::sync::Mutex::new(String::new()));
    let settled = wait_for("all sync states settled", Duration::from_secs(30), || {
        let (url, seen) = (telemetry_url.clone(), seen.clone());
        async move {
            let t = get(&url, &[], T)
                .await
                .map(|r| r.text())
                .unwrap_or_default();
            let s = states(&t);
            let ok = s.get("secrets").is_some_and(|v| v == "forbidden")
                && s.get("leases").is_some_and(|v| v == "not_found")
                && s.get("jobs").is_some_and(|v| v == "not_served")
                && s.get("cronjobs").is_some_and(|v| v == "not_served")
                && s.get("pods").is_some_and(|v| v == "synced");
            *seen.lock().expect("lock") = t;
            ok
        }
    })
    .await;
    let telemetry = seen.lock().expect("lock").clone();
    if let Err(e) = settled {
        panic!("{e}\n{}", common::head(&telemetry, 400));
    }
    // One series per state, exactly one of them 1.
    for state in ["synced", "syncing", "forbidden", "not_found", "not_served"] {
        let v = value(
            &telemetry,
            "kubestate_resource_sync_state",
            &["resource=\"secrets\"", &format!("state=\"{state}\"")],
        );
        assert_eq!(
            v,
            Some(if state == "forbidden" { 1.0 } else { 0.0 }),
            "{state}"
        );
    }
    let lines = log_lines(&exporter.log());
    let rbac = r#"missing RBAC rule: list and watch on resource "secrets" in API group """#;
    assert!(
        lines.iter().any(|(l, m)| l == "WARN" && m.contains(rbac)),
        "no WARN naming the RBAC rule:\n{}",
        exporter.log()
    );
    assert!(
        lines
            .iter()
            .any(|(l, m)| l == "WARN" && m.contains("\"leases\"") && m.contains("404")),
        "404 not logged at the default level:\n{}",
        exporter.log()
    );
    let skipped: Vec<_> = lines
        .iter()
        .filter(|(_, m)| m.starts_with("skipping resource \"jobs\""))
        .collect();
    assert_eq!(skipped.len(), 1, "{}", exporter.log());
    // Retries are logged once a minute, not once per attempt.
    let rbac_lines = lines.iter().filter(|(_, m)| m.contains(rbac)).count();
    assert_eq!(rbac_lines, 1, "{}", exporter.log());

    // The permission appears: secrets sync, readiness stays.
    sim.faults().forbid(&[]);
    let url = exporter.metrics_url("");
    wait_for("secrets synced", Duration::from_secs(60), || {
        let (t, m) = (telemetry_url.clone(), url.clone());
        async move {
            let tel = get(&t, &[], T).await.map(|r| r.text()).unwrap_or_default();
            let body = get(&m, &[], T).await.map(|r| r.text()).unwrap_or_default();
            states(&tel).get("secrets").is_some_and(|v| v == "synced")
                && body.contains("kube_secret_info{")
        }
    })
    .await
    .expect("secrets picked up after the RBAC rule appeared");
    let ready = get(&exporter.telemetry_url("/readyz"), &[], T)
        .await
        .expect("readyz");
    assert_eq!(ready.status, 200);
    sim.shutdown().await;
}

/// API discovery runs periodically: a group absent at startup makes no requests and does not
/// hold readiness; once the API server serves it, its stores start and sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unserved_kinds_are_picked_up_when_discovery_lists_them() {
    init();
    let sim = start_sim(SimConfig {
        faults: FaultConfig {
            hidden_groups: vec!["batch".into()],
            ..FaultConfig::default()
        },
        ..small_world()
    })
    .await;
    let exposition = Arc::new(Exposition::new());
    let config = Config {
        resources: vec!["jobs".into(), "configmaps".into()],
        discovery_interval: Some(Duration::from_millis(300)),
        ..Config::default()
    };
    let engine = Engine::new(&config, &TextStoreFactory::new(exposition.clone())).expect("engine");
    let running = engine.spawn(kube_client(&sim));
    tokio::time::timeout(Duration::from_secs(30), engine.telemetry().wait_synced())
        .await
        .expect("ready without the batch group");
    let state = |r: &str| {
        engine
            .telemetry()
            .stores()
            .iter()
            .find(|s| s.resource == r)
            .map(|s| s.state())
    };
    assert_eq!(state("jobs"), Some(SyncState::NotServed));
    assert_eq!(state("configmaps"), Some(SyncState::Synced));
    let watches_before = sim.stats().watches;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        state("jobs"),
        Some(SyncState::NotServed),
        "still not served"
    );
    // Only configmaps watch: nothing was asked about jobs.
    assert!(sim.stats().watches - watches_before <= 1);
    sim.faults().hide_groups(&[]);
    wait_for("jobs synced", Duration::from_secs(20), || async {
        state("jobs") == Some(SyncState::Synced)
    })
    .await
    .expect("jobs picked up");
    let mut out = Vec::new();
    exposition.write_all(
        kubestate_metric::Format::Text,
        &kubestate_store::ResourceFilter::default(),
        &mut out,
    );
    assert!(String::from_utf8_lossy(&out).contains("kube_job_info{"));
    drop(running);
    sim.shutdown().await;
}

/// Every watch stream starts with an event that cannot be decoded (JSON and protobuf): the
/// exporter still syncs (a watch-list that fails falls back to a paginated list, as
/// client-go's reflector does, instead of being retried forever), counts the bad events, and
/// converges to the world once the streams are clean again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_watch_events_fall_back_to_a_list() {
    for content_type in ["json", "protobuf"] {
        init();
        let sim = start_sim(SimConfig {
            faults: FaultConfig {
                poison_next_watches: u64::MAX,
                ..FaultConfig::default()
            },
            ..small_world()
        })
        .await;
        let args: Vec<String> = vec![
            "--resources=pods,configmaps,deployments".into(),
            format!("--api-content-type={content_type}"),
        ];
        let mut opts = ExporterOptions::parse_args(args.iter()).expect("flags");
        opts.host = "127.0.0.1".into();
        opts.port = 0;
        opts.telemetry_host = "127.0.0.1".into();
        opts.telemetry_port = 0;
        let exporter = kubestate::exporter::start(&opts, kube_client(&sim))
            .await
            .expect("exporter starts");
        tokio::time::timeout(Duration::from_secs(30), exporter.wait_synced())
            .await
            .unwrap_or_else(|_| panic!("{content_type}: no sync while every watch is poisoned"));
        let tel = get(
            &format!("http://{}/metrics", exporter.telemetry_addr),
            &[],
            T,
        )
        .await
        .expect("telemetry")
        .text();
        let bad = value(
            &tel,
            "kubestate_watch_undecodable_events_total",
            &["resource=\"pods\""],
        )
        .unwrap_or(0.0);
        assert!(bad >= 1.0, "{content_type}: bad events not counted:\n{tel}");
        // Streams clean again: changes flow and the body converges.
        sim.faults().poison_next_watches(0);
        change_world(&sim, &format!("poison-{content_type}"), 5);
        let source = Source::Http(format!("http://{}/metrics", exporter.metrics_addr));
        let took = converge(&source, &sim, &args, CONVERGE)
            .await
            .unwrap_or_else(|e| panic!("{content_type}: {e}"));
        eprintln!("{content_type}: converged in {took:?} after the poison stopped");
        exporter.stop().await;
        sim.shutdown().await;
    }
}

/// Out of file descriptors, accept errors back off and are logged once per interval (the
/// server used to log every 50 ms: 721 lines in 13 s), and serving resumes once descriptors
/// are free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_errors_back_off_and_are_logged_once_per_interval() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        kubestate_testkit::tools::skip("prlimit", "apt-get install util-linux");
        return;
    }
    init();
    let sim = start_sim(SimConfig::default()).await;
    let mut args = exporter_base_args(&sim.base_url());
    args.push("--resources=configmaps".into());
    let exporter = ExporterProc::spawn(args).await.expect("exporter starts");
    exporter
        .wait_ready(Duration::from_secs(30))
        .await
        .expect("ready");
    let pid = exporter.pid();
    let open = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    let limit = open + 4;
    let status = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            // The soft limit only, so it can be raised back.
            &format!("--nofile={limit}:"),
        ])
        .status()
        .expect("prlimit runs");
    assert!(status.success(), "prlimit failed");
    let addr: std::net::SocketAddr = exporter.metrics.parse().expect("address");
    let mut held = Vec::new();
    let flood = std::time::Instant::now();
    while flood.elapsed() < Duration::from_secs(4) {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            held.push(s);
        }
        if held.len() > 200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let lines = log_lines(&exporter.log());
    let accept: Vec<_> = lines
        .iter()
        .filter(|(_, m)| m.starts_with("accepting a connection failed"))
        .collect();
    eprintln!(
        "{} connections attempted in 4 s at a limit of {limit} descriptors: {} accept error lines",
        held.len(),
        accept.len()
    );
    assert!(!accept.is_empty(), "accept errors not logged at all");
    assert!(accept.len() <= 2, "{} accept error lines", accept.len());
    assert!(accept.iter().all(|(l, _)| l == "ERROR"));
    drop(held);
    let status = std::process::Command::new("prlimit")
        .args(["--pid", &pid.to_string(), "--nofile=1024:"])
        .status()
        .expect("prlimit runs");
    assert!(status.success(), "raising the limit back failed");
    wait_for("serving again", Duration::from_secs(20), || {
        let url = exporter.url("/healthz");
        async move {
            get(&url, &[], Duration::from_secs(2))
                .await
                .is_ok_and(|r| r.status == 200)
        }
    })
    .await
    .expect("serving resumed");
    sim.shutdown().await;
}

/// Transient API failures (every request answered 500 for a while) are logged as WARN, once a
/// minute per resource with a count, not as one line per failed request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_api_errors_are_summarized() {
    init();
    let sim = start_sim(SimConfig::default()).await;
    let mut args = exporter_base_args(&sim.base_url());
    args.push("--resources=configmaps,secrets".into());
    let exporter = ExporterProc::spawn(args).await.expect("exporter starts");
    exporter
        .wait_ready(Duration::from_secs(30))
        .await
        .expect("ready");
    sim.faults().error_fraction(1.0);
    sim.faults().drop_all_watches();
    tokio::time::sleep(Duration::from_secs(6)).await;
    sim.faults().error_fraction(0.0);
    let requests_failed = sim.stats().watches;
    let lines = log_lines(&exporter.log());
    let failures: Vec<_> = lines
        .iter()
        .filter(|(_, m)| m.starts_with("list/watch failed"))
        .collect();
    eprintln!(
        "{} failure lines for 6 s of 500s ({requests_failed} watch requests in all)",
        failures.len()
    );
    assert!(!failures.is_empty(), "500s not logged:\n{}", exporter.log());
    assert!(
        failures.len() <= 2,
        "one line per resource per minute expected:\n{}",
        exporter.log()
    );
    assert!(failures.iter().all(|(l, _)| l == "WARN"));
    assert!(
        lines.iter().all(|(l, _)| l != "ERROR"),
        "{}",
        exporter.log()
    );
    sim.shutdown().await;
}
