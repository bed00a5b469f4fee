//! The `kubestate` binary: parse, dispatch, report errors once.

use std::process::ExitCode;

use clap::Parser;
use kubestate::logging::LogSettings;
use kubestate::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The log flags are not `--config` keys: the command line alone decides them, before
    // anything else is logged.
    let logged = LogSettings::from_options(&cli.exporter).and_then(|s| s.init());
    if let Err(e) = logged {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    // One TLS provider for the whole process (kube and the simulator both use rustls).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            None => kubestate::exporter::run(cli.exporter).await,
            Some(Command::Sim(args)) => kubestate::sim::run(*args).await,
            Some(Command::Demo(args)) => kubestate::demo::run(args).await,
            Some(Command::Check(args)) => kubestate::check::run(args).await,
            Some(Command::Version) => {
                println!("kubestate v{}", env!("CARGO_PKG_VERSION"));
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
