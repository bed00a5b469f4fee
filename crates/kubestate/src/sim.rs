//! `kubestate sim`: the command line of the simulated API server. The simulator itself is the
//! `kubestate-sim` library ([`kubestate_sim::Sim::start`] with a [`SimConfig`]); this module
//! only turns flags into that configuration and serves until stopped.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use kubestate_sim::{FaultConfig, Sim, SimConfig, SynthSpec, WorldSource};
use tracing::info;

/// A duration such as `500ms`, `5s`, `2m`, `1h` (Go syntax), or a plain number of seconds.
///
/// # Errors
/// Anything else, with an example of what is accepted.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    kubestate_gotime::parse_std_duration(s, kubestate_gotime::BareNumber::Seconds)
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|_| format!("invalid fraction {s:?}"))?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("fraction {s:?} is not between 0 and 1"))
    }
}

/// Command line of `kubestate sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Listen port (6443 like a real API server; 0 picks a free port, printed at startup).
    #[arg(long, default_value_t = 6443)]
    pub port: u16,
    /// Serve HTTPS with a self-signed certificate generated at startup.
    #[arg(long)]
    pub tls: bool,
    /// Serve the objects of this file (`{"items":[...]}`, like conformance objects.json).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["synthesize", "preset", "nodes", "namespaces", "pods"])]
    pub world: Option<PathBuf>,
    /// Synthesize a cluster (size from --preset or --nodes/--namespaces/--pods; default small).
    #[arg(long)]
    pub synthesize: bool,
    /// Size preset of the synthesized cluster: small (1k pods), medium (10k), large (50k), xl (150k).
    #[arg(long, value_parser = ["small", "medium", "large", "xl"])]
    pub preset: Option<String>,
    /// Nodes of the synthesized cluster (default: pods / 30).
    #[arg(long)]
    pub nodes: Option<usize>,
    /// Workload namespaces of the synthesized cluster (default: pods / 250, 4..=600).
    #[arg(long)]
    pub namespaces: Option<usize>,
    /// Pods of the synthesized cluster.
    #[arg(long)]
    pub pods: Option<usize>,
    /// Seed of every random choice (world, churn, faults).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Changes per second (pod replacements, restarts, rollouts, node flips).
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub churn: f64,
    /// Events retained per resource for resuming watches.
    #[arg(long, default_value_t = 10_000)]
    pub watch_window: usize,
    /// Interval of watch BOOKMARK events.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub bookmark_interval: Duration,
    /// Lifetime of list continue tokens.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub continue_ttl: Duration,
    /// Write a kubeconfig pointing at the sim to this path.
    #[arg(long, value_name = "PATH")]
    pub write_kubeconfig: Option<PathBuf>,
    /// Fault: drop this many random watch connections per second.
    #[arg(long, value_name = "PER_SEC", default_value_t = 0.0)]
    pub fault_watch_drop_rate: f64,
    /// Fault: answer this fraction of resource requests with 429 + Retry-After.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = parse_fraction)]
    pub fault_throttle: f64,
    /// Retry-After seconds of 429 answers.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    pub fault_retry_after: u32,
    /// Fault: answer this fraction of resource requests with 500.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = parse_fraction)]
    pub fault_error_rate: f64,
    /// Fault: latency added to every resource request.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub fault_latency: Duration,
    /// Fault: answer the next N watches with a 410 ERROR event.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_gone_next_watches: u64,
    /// Fault: cut the next N list/watch responses in the middle of an object.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_cut_next_streams: u64,
    /// Fault: add a malformed object to the next N list responses / watch streams.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_malformed_next: u64,
    /// Fault: answer requests for these resources (plural names, comma-separated) 403.
    #[arg(long, value_name = "RESOURCES", value_delimiter = ',')]
    pub fault_forbidden: Vec<String>,
    /// Fault: answer requests for these resources 404.
    #[arg(long, value_name = "RESOURCES", value_delimiter = ',')]
    pub fault_not_found: Vec<String>,
    /// Fault: leave these API groups out of discovery (their resources answer 404).
    #[arg(long, value_name = "GROUPS", value_delimiter = ',')]
    pub fault_hide_groups: Vec<String>,
    /// Fault: the next N list/watch responses stall after their headers.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_stall_next: u64,
    /// Fault: the next N watch streams carry one undecodable event.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_poison_next_watches: u64,
}

impl SimArgs {
    /// The [`SimConfig`] these arguments describe.
    ///
    /// # Errors
    /// An unknown preset or a negative churn rate.
    pub fn to_config(&self) -> anyhow::Result<SimConfig> {
        let world = if let Some(p) = &self.world {
            WorldSource::File(p.clone())
        } else if self.synthesize
            || self.preset.is_some()
            || self.pods.is_some()
            || self.nodes.is_some()
            || self.namespaces.is_some()
        {
            let mut spec = match (&self.preset, self.pods) {
                (Some(p), _) => {
                    SynthSpec::preset(p).ok_or_else(|| anyhow::anyhow!("unknown preset {p:?}"))?
                }
                (None, Some(n)) => SynthSpec::for_pods(n),
                (None, None) => SynthSpec::preset("small")
                    .ok_or_else(|| anyhow::anyhow!("missing small preset"))?,
            };
            if let Some(n) = self.pods {
                spec.pods = n;
            }
            if let Some(n) = self.nodes {
                spec.nodes = n.max(1);
            }
            if let Some(n) = self.namespaces {
                spec.namespaces = n.max(1);
            }
            WorldSource::Synthesize(spec)
        } else {
            WorldSource::Empty
        };
        if !self.churn.is_finite() || self.churn < 0.0 {
            anyhow::bail!("--churn must be a non-negative number");
        }
        Ok(SimConfig {
            host: self.host.clone(),
            port: self.port,
            tls: self.tls,
            world,
            churn_per_sec: self.churn,
            seed: self.seed,
            faults: FaultConfig {
                watch_drop_per_sec: self.fault_watch_drop_rate.max(0.0),
                throttle_fraction: self.fault_throttle,
                retry_after_secs: self.fault_retry_after,
                error_fraction: self.fault_error_rate,
                latency_ms: self
                    .fault_latency
                    .as_millis()
                    .try_into()
                    .unwrap_or(u64::MAX),
                gone_next_watches: self.fault_gone_next_watches,
                cut_next_streams: self.fault_cut_next_streams,
                malformed_next: self.fault_malformed_next,
                forbidden_resources: self.fault_forbidden.clone(),
                not_found_resources: self.fault_not_found.clone(),
                hidden_groups: self.fault_hide_groups.clone(),
                stall_next: self.fault_stall_next,
                poison_next_watches: self.fault_poison_next_watches,
            },
            watch_window: self.watch_window,
            bookmark_interval: self.bookmark_interval,
            continue_ttl: self.continue_ttl,
        })
    }
}

/// Runs `kubestate sim`: start, print the address, write the kubeconfig if asked, serve until
/// Ctrl-C (or SIGTERM).
///
/// # Errors
/// Bad arguments, or a simulator that cannot start.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let cfg = args.to_config()?;
    let sim = Sim::start(cfg).await?;
    println!("kubestate sim serving on {}", sim.base_url());
    println!(
        "admin endpoint: {}/faults, /world, /stats, /apply, /delete, /churn",
        sim.admin_url()
    );
    if let Some(p) = &args.write_kubeconfig {
        sim.write_kubeconfig(p)
            .with_context(|| format!("cannot write kubeconfig {}", p.display()))?;
        println!("kubeconfig written to {}", p.display());
    }
    crate::exporter::shutdown_signal().await;
    info!("shutting down");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimArgs,
    }

    fn parse(argv: &[&str]) -> Result<SimConfig, String> {
        use clap::Parser;
        let cli = Cli::try_parse_from(std::iter::once("sim").chain(argv.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.args.to_config().map_err(|e| e.to_string())
    }

    #[test]
    fn cli_flags_build_the_config() {
        let c = parse(&[]).unwrap();
        assert_eq!((c.host.as_str(), c.port, c.tls), ("127.0.0.1", 6443, false));
        assert_eq!(c.world, WorldSource::Empty);
        let c = parse(&[
            "--preset", "large", "--seed", "3", "--churn", "5", "--port", "0", "--tls",
        ])
        .unwrap();
        assert_eq!(
            c.world,
            WorldSource::Synthesize(SynthSpec::preset("large").unwrap())
        );
        assert_eq!((c.seed, c.churn_per_sec, c.port, c.tls), (3, 5.0, 0, true));
        let c = parse(&["--pods", "100", "--nodes", "7"]).unwrap();
        assert_eq!(
            c.world,
            WorldSource::Synthesize(SynthSpec {
                nodes: 7,
                namespaces: 4,
                pods: 100
            })
        );
        let c = parse(&[
            "--world",
            "/x.json",
            "--bookmark-interval",
            "500ms",
            "--continue-ttl",
            "2m",
        ])
        .unwrap();
        assert_eq!(c.world, WorldSource::File("/x.json".into()));
        assert_eq!(c.bookmark_interval, Duration::from_millis(500));
        assert_eq!(c.continue_ttl, Duration::from_secs(120));
        let c = parse(&[
            "--fault-throttle",
            "0.25",
            "--fault-retry-after",
            "4",
            "--fault-error-rate",
            "0.1",
            "--fault-latency",
            "20ms",
            "--fault-gone-next-watches",
            "2",
            "--fault-cut-next-streams",
            "3",
            "--fault-malformed-next",
            "1",
            "--fault-watch-drop-rate",
            "0.5",
            "--fault-forbidden",
            "pods,nodes",
            "--fault-not-found",
            "leases",
            "--fault-hide-groups",
            "batch",
            "--fault-stall-next",
            "2",
            "--fault-poison-next-watches",
            "5",
        ])
        .unwrap();
        assert_eq!(
            c.faults,
            FaultConfig {
                watch_drop_per_sec: 0.5,
                throttle_fraction: 0.25,
                retry_after_secs: 4,
                error_fraction: 0.1,
                latency_ms: 20,
                gone_next_watches: 2,
                cut_next_streams: 3,
                malformed_next: 1,
                forbidden_resources: vec!["pods".into(), "nodes".into()],
                not_found_resources: vec!["leases".into()],
                hidden_groups: vec!["batch".into()],
                stall_next: 2,
                poison_next_watches: 5,
            }
        );
        assert!(parse(&["--fault-throttle", "2"]).is_err());
        assert!(parse(&["--world", "a.json", "--preset", "small"]).is_err());
        assert!(parse(&["--preset", "huge"]).is_err());
        assert!(parse(&["--churn", "-1"]).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("-1").is_err());
    }
}
