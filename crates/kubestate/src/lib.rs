//! The kubestate command line: KSM-compatible flags and subcommands.
