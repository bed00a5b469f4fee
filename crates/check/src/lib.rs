//! The in-process check: every interval, one consistent snapshot of the engine's stores (or of
//! a scraped `/metrics` body) is joined, renamed, aggregated and handed to outputs — what
//! Datadog's `kubernetes_state_core` does over KSM's stores, without text in between.
//!
//! Place in the data flow: engine → structured store → **check** → sinks
//! (`kubestate-sinks`). Scrape mode feeds the same pipeline from parsed text.
//!
//! # Brief overview
//!
//! * [`CheckConfig`]: the YAML configuration (`label_joins`, `labels_as_tags`, `labels_mapper`,
//!   `renames`, `transforms`, `drop`, `aggregations`, `preset`, `interval`, `sinks`), read with
//!   line-and-column errors.
//! * [`Plan`]: the configuration compiled once into ids (label names as store symbols, output
//!   keys, join groups); family rules compiled the first time a family is seen.
//! * [`Check::run`]: snapshot → join index (value-1 series of each source family, check-semantics.md
//!   §4) → per family: aggregations, transform or rename, or drop → [`Emit`]; returns
//!   [`RunStats`].
//! * [`ScrapeSource`] / [`scrape::fetch`]: scrape mode.
//! * [`Telemetry`]: self-metrics of the runs and of the outputs, served by [`telemetry::serve`].
//! * [`preset`]: the Datadog naming tables; [`service_checks`]: the agent's service checks as
//!   series; [`compat`]: the agent's instance options (which map, which do not).
//!
//! # Example: a label join and a count, over an in-memory store
//!
//! ```
//! use std::sync::Arc;
//! use std::time::SystemTime;
//! use kubestate_check::{Check, CheckConfig, Collect};
//! use kubestate_metric::{FamilyDesc, MetricType, ObjectMetrics, Stability};
//! use kubestate_store::{StoreFactory, StoreInfo, StructuredStoreFactory};
//!
//! let config: CheckConfig<serde_yaml::Value> = CheckConfig::from_yaml(r#"
//! label_joins:
//!   kube_pod_status_phase: {labels_to_match: [pod, namespace], labels_to_get: [phase]}
//! aggregations:
//!   - {name: kubernetes_state.pod.count, from: kube_pod_info, kind: count, by: [namespace, phase]}
//! "#, "example.yaml").unwrap();
//!
//! let factory = StructuredStoreFactory::new();
//! let mut check = Check::new(&config, factory.symbols().clone()).unwrap();
//! let fam = |name: &str| FamilyDesc { name: name.into(), help: String::new(),
//!     ty: MetricType::Gauge, stability: Stability::Stable, deprecated_since: None };
//! let pods = factory.create(&StoreInfo { resource: "pods".into(), namespace: None, index: 0,
//!     families: vec![fam("kube_pod_info"), fam("kube_pod_status_phase")].into() });
//! for (uid, name, phase) in [("u1", "web-0", "Running"), ("u2", "web-1", "Running")] {
//!     let mut m = ObjectMetrics::new();
//!     m.identity_label("namespace", "shop");
//!     m.identity_label("pod", name);
//!     m.begin_family();
//!     m.sample(&[("node", "n1")], 1.0);
//!     m.begin_family();
//!     for p in ["Pending", "Running"] {
//!         m.sample(&[("phase", p)], if p == phase { 1.0 } else { 0.0 });
//!     }
//!     pods.apply(uid, &m);
//! }
//!
//! let mut out = Collect::default();
//! let stats = check.run(&factory.snapshot(), SystemTime::now(), &mut out);
//! let count: Vec<_> = out.named("kubernetes_state.pod.count").collect();
//! assert_eq!(count[0].value, 2.0);
//! assert_eq!(count[0].labels, vec![("namespace".into(), "shop".into()), ("phase".into(), "Running".into())]);
//! // kube_pod_info got the joined phase of its pod.
//! let info = out.named("kube_pod_info").next().unwrap();
//! assert_eq!(info.values("phase"), vec!["Running"]);
//! assert_eq!(stats.series_in, 6);
//! ```
#![deny(missing_docs)]

pub mod client;
pub mod compat;
pub mod config;
mod index;
mod plan;
pub mod preset;
mod run;
pub mod scrape;
mod series;
pub mod service_checks;
pub mod telemetry;

pub use config::{CheckConfig, ConfigError, Preset};
pub use plan::{labels_to_match_for_kind, Plan};
pub use run::{Check, RunStats};
pub use scrape::{ScrapeConfig, ScrapeSource, Scraper};
pub use series::{Collect, Emit, OutSeries, OwnedSeries};
pub use telemetry::Telemetry;

#[cfg(test)]
mod migration_tests;
#[cfg(test)]
mod tests;
