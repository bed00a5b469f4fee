//! Slim decoded Kubernetes objects: only the fields kubestate's metric families read.
//!
//! Place in the data flow: watch (raw bytes) → **objects** → families. Each kind has one
//! module with one struct that `serde` fills from the API server's JSON; every field is
//! optional (`#[serde(default)]`), unknown fields are skipped without allocation, and strings
//! are `Box<str>`. This crate knows the wire format, not metrics.
//!
//! # Brief overview
//!
//! * [`Meta`]: the metadata every kind shares (name, namespace, uid, labels…).
//! * [`Time`], [`Quantity`]: exact parsing of timestamps and resource quantities.
//! * one module per kind (`pod`, `node`, …) with its slim struct.
//!
//! # Example
//!
//! ```
//! use kubestate_objects::configmap::ConfigMap;
//!
//! let cm: ConfigMap = serde_json::from_str(
//!     r#"{"metadata":{"name":"settings","namespace":"default","uid":"u1"},"data":{"k":"v"}}"#,
//! ).unwrap();
//! assert_eq!(&*cm.metadata.name, "settings");
//! ```
#![deny(missing_docs)]

mod meta;
mod quantity;
mod shared;
mod time;

pub mod intstr;
pub mod nullable;
pub mod proto;

pub use meta::{Meta, MetaHead, ObjectHead, OwnerRef, StrMap};
pub use proto::Encoding;
pub use quantity::Quantity;
pub use shared::{take_malformed_quantities, Condition, LabelSelector, ResourceList};
pub use time::Time;

pub mod certificatesigningrequest;
pub mod clusterrole;
pub mod clusterrolebinding;
pub mod configmap;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod endpoint;
pub mod endpointslice;
pub mod horizontalpodautoscaler;
pub mod ingress;
pub mod ingressclass;
pub mod job;
pub mod lease;
pub mod limitrange;
pub mod mutatingadmissionpolicy;
pub mod mutatingadmissionpolicybinding;
pub mod mutatingwebhookconfiguration;
pub mod namespace;
pub mod networkpolicy;
pub mod node;
pub mod persistentvolume;
pub mod persistentvolumeclaim;
pub mod pod;
pub mod poddisruptionbudget;
pub mod replicaset;
pub mod replicationcontroller;
pub mod resourcequota;
pub mod role;
pub mod rolebinding;
pub mod secret;
pub mod service;
pub mod serviceaccount;
pub mod statefulset;
pub mod storageclass;
pub mod validatingadmissionpolicy;
pub mod validatingadmissionpolicybinding;
pub mod validatingwebhookconfiguration;
pub mod volumeattachment;
