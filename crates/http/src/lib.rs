//! The main and telemetry HTTP servers of kubestate.
