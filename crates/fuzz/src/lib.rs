//! Differential fuzzing of kubestate against the reference kube-state-metrics (KSM) v2.20.
//!
//! Its one job: find, by machine, every world on which kubestate's `/metrics` differs from
//! KSM's, and turn each into a small regression case.
//!
//! * [`gen`]: a seeded, reproducible generator of adversarial worlds over all 39 kinds, built
//!   by mutating the object shapes of the conformance corpus (`templates.json`), and of
//!   randomized KSM flags.
//! * [`pack`]: many worlds served as one (each renamed into its own namespaces and name
//!   prefix), and each difference attributed back to the world it came from.
//! * [`run`]: one packed world served by the simulator to KSM (a child process) and kubestate
//!   (in-process), both scraped in text and OpenMetrics and compared family by family.
//! * [`shrink`]: delta debugging of a failing world (objects, then fields) to a minimal one.
//! * [`regress`]: saved regression cases (world, flags, KSM's output) and their replay, which
//!   needs no KSM.
//!
//! Dev-only: nothing ships it.

pub mod campaign;
pub mod gen;
pub mod pack;
pub mod regress;
pub mod run;
pub mod shrink;
