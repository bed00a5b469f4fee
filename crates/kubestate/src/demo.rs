//! `kubestate demo`: a synthesized cluster and the exporter against it, in one process.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};

use crate::options::ExporterOptions;

/// Flags of `kubestate demo`.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Size of the synthesized cluster: small, medium, large or xl.
    #[arg(long, default_value = "medium")]
    pub preset: String,
    /// Changes per second in the simulated cluster.
    #[arg(long, default_value_t = 5.0)]
    pub churn: f64,
    /// Seed of the synthesized cluster.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Metrics port of the exporter.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Self-metrics port of the exporter.
    #[arg(long = "telemetry-port", default_value_t = 8081)]
    pub telemetry_port: u16,
    /// Extra exporter flags, KSM style, after `--` (e.g. `-- --resources=pods,nodes`).
    #[arg(last = true)]
    pub exporter_args: Vec<String>,
}

/// Starts the simulator and the exporter and serves until Ctrl-C.
///
/// # Errors
/// Bad flags, or a port already in use.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let spec = SynthSpec::preset(&args.preset).with_context(|| {
        format!(
            "unknown --preset {:?}: use small, medium, large or xl",
            args.preset
        )
    })?;
    let sim = Sim::start(SimConfig {
        port: 0,
        world: WorldSource::Synthesize(spec),
        churn_per_sec: args.churn,
        seed: args.seed,
        ..SimConfig::default()
    })
    .await
    .context("starting the simulated cluster")?;
    let kubeconfig: PathBuf =
        std::env::temp_dir().join(format!("kubestate-demo-{}.kubeconfig", std::process::id()));
    sim.write_kubeconfig(&kubeconfig)
        .context("writing the demo kubeconfig")?;
    let mut opts = ExporterOptions::parse_args(args.exporter_args.iter())?;
    opts.kubeconfig = kubeconfig.display().to_string();
    opts.host = "127.0.0.1".into();
    opts.telemetry_host = "127.0.0.1".into();
    opts.port = args.port;
    opts.telemetry_port = args.telemetry_port;
    if opts.explorer {
        println!(
            "kubestate demo: open the live explorer at http://127.0.0.1:{}/",
            args.port
        );
    }
    println!(
        "kubestate demo: a simulated {} cluster at {}",
        args.preset,
        sim.base_url()
    );
    println!(
        "  kubectl --kubeconfig {} get pods -A | head",
        kubeconfig.display()
    );
    println!(
        "  curl -s http://127.0.0.1:{}/metrics | head -50",
        args.port
    );
    println!(
        "  curl -s http://127.0.0.1:{}/readyz; curl -s http://127.0.0.1:{}/metrics",
        args.telemetry_port, args.telemetry_port
    );
    println!("Press Ctrl-C to stop.");
    let result = crate::exporter::run(opts).await;
    sim.shutdown().await;
    let _ = std::fs::remove_file(&kubeconfig);
    result
}
