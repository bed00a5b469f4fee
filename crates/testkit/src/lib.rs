//! Test helpers for kubestate: conformance worlds, exposition comparison, external validators.
