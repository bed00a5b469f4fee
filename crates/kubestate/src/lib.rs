//! The kubestate command line: KSM-compatible flags and the subcommands `sim`, `demo` and
//! `check`.
//!
//! Place in the data flow: wiring only. It parses flags (every kube-state-metrics v2.20 flag,
//! with KSM's names and defaults, plus `--config`; each declared once in [`options`] through
//! the [`flags!`] table), sets up logging ([`logging`]), validates everything before the API
//! server is contacted, builds the Kubernetes client, the engine with the text store, and the
//! two HTTP servers.
//! This is the only crate that picks a Kubernetes API version (through `k8s-openapi`).
#![deny(missing_docs)]

pub mod auth;
pub mod check;
pub mod demo;
pub mod duration;
pub mod exporter;
pub mod flags;
pub mod logging;
pub mod options;
pub mod reload;
pub mod sim;

use clap::{Parser, Subcommand};

/// `kubestate [KSM flags]` or `kubestate <subcommand>`.
#[derive(Parser, Debug)]
#[command(
    name = "kubestate",
    version,
    about = "Kubernetes object state as Prometheus metrics: a fast drop-in kube-state-metrics.",
    args_conflicts_with_subcommands = true,
    // KSM's flags may be given more than once, the last one winning (the kube-state-metrics
    // chart passes --port again after the image's entrypoint has).
    args_override_self = true
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
    Sim(Box<sim::SimArgs>),
    /// Run a synthesized cluster and the exporter against it, and print what to curl.
    Demo(demo::DemoArgs),
    /// Run the in-process check: joins, renames and aggregations sent to sinks every interval.
    Check(check::CheckArgs),
    /// Print the version.
    Version,
}
