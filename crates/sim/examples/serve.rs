//! Run the simulator from the command line without the kubestate binary:
//! `cargo run -p kubestate-sim --example serve -- --port 0 --preset small --write-kubeconfig /tmp/sim.kubeconfig`

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: kubestate_sim::SimArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    kubestate_sim::run(Cli::parse().args).await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// The example runs (`[[example]] test = true`): it parses its command line and serves
    /// until stopped.
    #[tokio::test]
    async fn serves_until_stopped() {
        let cli =
            super::Cli::try_parse_from(["serve", "--port", "0", "--preset", "small"]).unwrap();
        let run = kubestate_sim::run(cli.args);
        let r = tokio::time::timeout(std::time::Duration::from_secs(3), run).await;
        assert!(r.is_err(), "the simulator stopped on its own: {r:?}");
    }
}
