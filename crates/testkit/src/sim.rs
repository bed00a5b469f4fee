//! The simulated API server as tests start it: on a free loopback port, serving a conformance
//! world or nothing, with rustls' crypto provider installed for the clients that talk to it.

use kubestate_sim::{Sim, SimConfig, SimHandle, WorldSource};

/// Installs rustls' `ring` provider for this process (kube's client and the simulator's TLS
/// need one); later calls do nothing.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Starts a simulator serving the world of conformance case `case` (its `objects.json`).
/// `None`, with a SKIP line on stderr, when the shared corpus or the case is not there.
///
/// # Panics
/// If the simulator cannot start or the world file is malformed.
pub async fn conformance_sim(case: &str) -> Option<SimHandle> {
    install_crypto();
    let Some(found) = crate::cases().into_iter().find(|c| c.name == case) else {
        eprintln!("SKIP: conformance case {case} not present");
        return None;
    };
    Some(start(WorldSource::File(found.objects_path())).await)
}

/// Starts a simulator with an empty world, for a test to fill with `apply`.
///
/// # Panics
/// If the simulator cannot start.
pub async fn empty_sim() -> SimHandle {
    install_crypto();
    start(WorldSource::Empty).await
}

async fn start(world: WorldSource) -> SimHandle {
    Sim::start(SimConfig {
        port: 0,
        world,
        ..SimConfig::default()
    })
    .await
    .expect("the simulator starts")
}

/// Every object of the world the simulator synthesizes for `preset` (`small`, `medium`,
/// `large`, …; seed 1), as (resource, JSON), for benchmarks that feed a world in process.
///
/// # Panics
/// If `preset` is unknown or the simulator cannot start.
pub fn synthesized_world(preset: &str) -> Vec<(String, Vec<u8>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the simulator");
    rt.block_on(async {
        let spec = kubestate_sim::SynthSpec::preset(preset).expect("a known preset");
        let sim = start(WorldSource::Synthesize(spec)).await;
        let snap = sim.snapshot();
        sim.shutdown().await;
        snap.objects
            .into_iter()
            .map(|o| (o.resource, o.json.to_vec()))
            .collect()
    })
}
