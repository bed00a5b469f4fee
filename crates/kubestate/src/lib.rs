//! The kubestate command line: KSM-compatible flags (the exporter, without a subcommand) and
//! the subcommands `sim` (a simulated API server), `demo` (a simulated cluster with the
//! exporter in front), `check` (the in-process check and its sinks) and `version`.
//!
//! Place in the data flow: wiring only. It parses flags (every kube-state-metrics v2.20 flag,
//! with KSM's names and defaults, plus `--config`), validates them before binding any port,
//! builds the Kubernetes client, the engine with the text store, and the two HTTP servers.
//! This is the only crate that picks a Kubernetes API version (through `k8s-openapi`).
#![deny(missing_docs)]

pub mod auth;
pub mod check;
pub mod demo;
pub mod duration;
pub mod exporter;
pub mod options;

use clap::{Parser, Subcommand};

/// `kubestate [KSM flags]` or `kubestate <subcommand>`.
#[derive(Parser, Debug)]
#[command(
    name = "kubestate",
    version,
    about = "Kubernetes object state as Prometheus metrics: a fast drop-in kube-state-metrics.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// A subcommand; without one, kubestate runs the exporter.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Exporter flags (kube-state-metrics compatible).
    #[command(flatten)]
    pub exporter: options::ExporterOptions,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a simulated Kubernetes API server (a world file or a synthesized cluster).
    Sim(kubestate_sim::SimArgs),
    /// Run a synthesized cluster and the exporter against it, and print what to curl.
    Demo(demo::DemoArgs),
    /// Run the in-process check: joins, renames and aggregations sent to sinks every interval.
    Check(check::CheckArgs),
    /// Print the version.
    Version,
}

/// Sets up logging for verbosity `v` (klog's -v) in `format` (`text` or `json`); `RUST_LOG`
/// overrides the level.
pub fn init_logging(v: u8, format: &str) {
    let level = match v {
        0 | 1 => "info",
        2..=4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "{level},hyper=info,kube=info,rustls=info,h2=info,tower=info"
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
