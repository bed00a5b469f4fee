//! Serve a world with the library alone, without the kubestate binary (whose `kubestate sim`
//! has every option): `cargo run -p kubestate-sim --example serve -- [WORLD_FILE]` serves the
//! file (or a synthesized small cluster) on a free loopback port and writes a kubeconfig for
//! it next to the other temporary files.

use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let world = match std::env::args_os().nth(1) {
        Some(path) => WorldSource::File(path.into()),
        None => WorldSource::Synthesize(SynthSpec::preset("small").ok_or("no small preset")?),
    };
    let sim = Sim::start(SimConfig {
        world,
        ..SimConfig::default()
    })
    .await?;
    let kubeconfig = std::env::temp_dir().join("kubestate-sim.kubeconfig");
    sim.write_kubeconfig(&kubeconfig)?;
    println!("serving on {}", sim.base_url());
    println!("kubeconfig written to {}", kubeconfig.display());
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};

    /// The example's steps work (`[[example]] test = true`): a world is served and its
    /// kubeconfig names the server.
    #[tokio::test]
    async fn serves_and_writes_a_kubeconfig() {
        let sim = Sim::start(SimConfig {
            world: WorldSource::Synthesize(SynthSpec::for_pods(30)),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let path = std::env::temp_dir().join(format!(
            "kubestate-sim-example-{}.kubeconfig",
            std::process::id()
        ));
        sim.write_kubeconfig(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(text.contains(&*sim.base_url()), "{text}");
        sim.shutdown().await;
    }
}
