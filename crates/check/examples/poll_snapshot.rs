//! A reader that polls the structured store every 5 s, without HTTP: pods per phase and the
//! number of series, from one consistent snapshot each time. Runs against a simulated
//! cluster with churn, so the figures move.
//!
//! `cargo run -p kubestate-check --example poll_snapshot -- 3` (number of polls)

use std::collections::BTreeMap;
use std::time::Duration;

use kubestate_engine::{Config, Engine, Selector, StructuredStoreFactory};
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let polls: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    poll(polls, 500, Duration::from_secs(5)).await?;
    Ok(())
}

/// Polls `polls` times, `every` apart, a world of `pods` pods; returns (objects, series) of
/// each poll.
async fn poll(polls: usize, pods: usize, every: Duration) -> anyhow::Result<Vec<(usize, usize)>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        world: WorldSource::Synthesize(SynthSpec::for_pods(pods)),
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

    let mut tick = tokio::time::interval(every);
    let mut seen = Vec::new();
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
        seen.push((snap.object_count(), snap.series_count()));
    }
    running.shutdown();
    sim.shutdown().await;
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// The example runs (`[[example]] test = true`): each poll sees every pod, with series.
    #[tokio::test]
    async fn polls_consistent_snapshots() {
        let seen = super::poll(2, 60, Duration::from_millis(100))
            .await
            .unwrap();
        assert_eq!(seen.len(), 2);
        for (objects, series) in seen {
            assert!(objects >= 50, "{objects} pods");
            assert!(series > objects * 5, "{series} series");
        }
    }
}
