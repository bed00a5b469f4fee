//! Differential test: kubestate and the reference kube-state-metrics v2.20.0 run against the
//! same synthesized worlds (several seeds and sizes, churn stopped) and must print the same
//! samples, family by family. Skips with a message when the reference binary is not installed
//! (`go install k8s.io/kube-state-metrics/v2@v2.20.0`, or set KSM_BIN).
//!
//! `KUBESTATE_DIFF_WORLDS=large:1` compares other synthesized worlds (`preset:seed`, comma
//! separated); with a release build this is how a large world is checked.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kubestate::options::ExporterOptions;
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
use kubestate_testkit::http::get;
use kubestate_testkit::{diff_families, families, find_binary};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Scrapes `url` until two consecutive bodies agree after sorting (KSM has no readiness
/// signal tied to its sync) and the body has `min_pods` pod series.
async fn stable_body(url: &str, min_pods: usize) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut last: Option<std::collections::BTreeMap<String, Vec<String>>> = None;
    loop {
        if Instant::now() > deadline {
            return Err(format!("{url} did not settle within 600 s"));
        }
        if let Ok(r) = get(url, &[("Accept", "text/plain")], Duration::from_secs(30)).await {
            let body = r.text();
            let f = families(&body);
            let pods = f.get("# TYPE kube_pod_info gauge").map_or(0, Vec::len);
            if pods >= min_pods && last.as_ref() == Some(&f) {
                return Ok(body);
            }
            last = Some(f);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn compare(ksm: &PathBuf, preset: &str, seed: u64) -> Result<(), String> {
    let spec = SynthSpec::preset(preset).ok_or("unknown preset")?;
    let pods = spec.pods;
    let sim = Sim::start(SimConfig {
        port: 0,
        world: WorldSource::Synthesize(spec),
        seed,
        ..SimConfig::default()
    })
    .await
    .map_err(|e| format!("sim: {e:#}"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig)
        .map_err(|e| e.to_string())?;

    let port = free_port();
    let mut cmd = Command::new(ksm);
    cmd.arg(format!("--kubeconfig={}", kubeconfig.display()))
        .args([
            "--host=127.0.0.1",
            &format!("--port={port}"),
            "--telemetry-host=127.0.0.1",
        ])
        .arg(format!("--telemetry-port={}", free_port()))
        .args(common::all_flags())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _ksm = Killed(cmd.spawn().map_err(|e| format!("starting KSM: {e}"))?);

    let mut opts = ExporterOptions::parse_args(common::all_flags()).map_err(|e| e.to_string())?;
    opts.host = "127.0.0.1".into();
    opts.port = 0;
    opts.telemetry_host = "127.0.0.1".into();
    opts.telemetry_port = 0;
    let client = kube::Client::try_from(kube::Config::new(
        sim.base_url().parse().map_err(|e| format!("{e}"))?,
    ))
    .map_err(|e| e.to_string())?;
    let ours = kubestate::exporter::start(&opts, client)
        .await
        .map_err(|e| format!("{e:#}"))?;
    tokio::time::timeout(Duration::from_secs(600), ours.wait_synced())
        .await
        .map_err(|_| "kubestate did not sync")?;

    let theirs = stable_body(&format!("http://127.0.0.1:{port}/metrics"), pods).await?;
    let mine = get(
        &format!("http://{}/metrics", ours.metrics_addr),
        &[],
        Duration::from_secs(60),
    )
    .await?
    .text();
    ours.stop().await;
    sim.shutdown().await;
    match diff_families(&theirs, &mine, |_| true) {
        None => Ok(()),
        Some(d) => {
            // Sample-level differences first: they are more telling than whole missing families.
            let mut lines: Vec<&str> = d.lines().collect();
            lines.sort_by_key(|l| {
                l.starts_with("missing family") || l.starts_with("unexpected family")
            });
            let shown = lines
                .iter()
                .take(60)
                .copied()
                .collect::<Vec<_>>()
                .join("\n");
            Err(format!(
                "{} differing lines; first ones:\n{shown}",
                lines.len()
            ))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_samples_as_reference_ksm_on_synthesized_worlds() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let home = std::env::var("HOME").map(PathBuf::from).unwrap_or_default();
    let gopath = std::env::var("GOPATH")
        .map(PathBuf::from)
        .unwrap_or_else(|_| home.join("go"));
    let Some(ksm) = find_binary("KSM_BIN", "kube-state-metrics", &[gopath.join("bin")]) else {
        eprintln!("SKIP: reference kube-state-metrics not found (go install k8s.io/kube-state-metrics/v2@v2.20.0, or set KSM_BIN)");
        return;
    };
    let mut failures = Vec::new();
    // KUBESTATE_DIFF_WORLDS=large:1,medium:3 compares bigger worlds (use a release build).
    let worlds: Vec<(String, u64)> = match std::env::var("KUBESTATE_DIFF_WORLDS") {
        Ok(v) => v
            .split(',')
            .filter_map(|w| {
                let (p, s) = w.trim().split_once(':')?;
                Some((p.to_string(), s.parse().ok()?))
            })
            .collect(),
        Err(_) => vec![
            ("small".into(), 1),
            ("small".into(), 7),
            ("small".into(), 42),
        ],
    };
    for (preset, seed) in worlds.iter().map(|(p, s)| (p.as_str(), *s)) {
        if let Err(e) = compare(&ksm, preset, seed).await {
            failures.push(format!("== preset {preset}, seed {seed} ==\n{e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
