//! The `kubestate` binary: parse, dispatch, report errors once.

use std::process::ExitCode;

use clap::Parser;
use kubestate::{init_logging, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (verbosity, format) = (cli.exporter.verbosity, cli.exporter.log_format.clone());
    init_logging(verbosity, &format);
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
            Some(Command::Sim(args)) => kubestate_sim::run(*args).await,
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
