//! A reader that polls the structured store every 5 s, without HTTP: pods per phase and the
//! number of series, from one consistent snapshot each time. Runs against a simulated
//! cluster with churn, so the figures move.
//!
//! `cargo run -p kubestate-check --example poll_snapshot -- 3` (number of polls)

use std::collections::BTreeMap;
use std::time::Duration;

use kubestate_engine::{Config, Engine};
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
use kubestate_store::structured::Selector;
use kubestate_store::StructuredStoreFactory;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let polls: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        world: WorldSource::Synthesize(SynthSpec::for_pods(500)),
        churn_per_sec: 50.0,
        ..SimConfig::default()
    })
    .await?;
    let client = kube::Client::try_from(kube::Config::new(sim.base_url().parse()?))?;
    let store = StructuredStoreFactory::new();
    let engine = Engine::new(
        &Config {
            resources: vec!["pods".into()],
            ..Config::default()
        },
        &store,
    )?;
    let running = engine.spawn(client);
    tokio::time::timeout(Duration::from_secs(30), engine.telemetry().wait_synced()).await?;

    let mut tick = tokio::time::interval(Duration::from_secs(5));
    for _ in 0..polls {
        tick.tick().await;
        let snap = store.snapshot(); // one atomic load: every store at the same instant
        let mut phases: BTreeMap<String, usize> = BTreeMap::new();
        for s in snap.select(&Selector::new().family("kube_pod_status_phase")) {
            if s.value() == 1.0 {
                *phases
                    .entry(s.label("phase").unwrap_or("?").to_string())
                    .or_default() += 1;
            }
        }
        println!(
            "{} pods, {} series; by phase: {phases:?}",
            snap.object_count(),
            snap.series_count()
        );
    }
    running.shutdown();
    sim.shutdown().await;
    Ok(())
}
