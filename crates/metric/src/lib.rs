//! The metric model and exposition encoders of kubestate.
//!
//! Place in the data flow: family generators write each object's samples into an
//! [`ObjectMetrics`] arena; stores and sinks read it; the HTTP server writes headers and stored
//! lines in the negotiated [`Format`]. This crate knows nothing about Kubernetes and does no I/O.
//!
//! # Brief overview
//!
//! * [`FamilyDesc`], [`MetricType`], [`Stability`]: what a family is, and its `# HELP`/`# TYPE`
//!   header in each format (`[STABLE] ` and deprecation prefixes, `info`/`stateset` written as
//!   `gauge` in text).
//! * [`write_float`]: Go's shortest `%g` layout, byte-for-byte what KSM prints.
//! * [`write_label_value`], [`snake_case_name`]: escaping and KSM's label-name derivation.
//! * [`write_header`], [`write_sample`]: hand-written self-metrics lines (telemetry, build
//!   info, outputs' counters), the one writer every crate uses for them.
//! * [`Format::negotiate`]: KSM's `Accept` negotiation and `Content-Type` values.
//! * [`ObjectMetrics`]: one object's families in structured form, renderable to text.
//!
//! # Example
//!
//! ```
//! use kubestate_metric::{ObjectMetrics, format_float};
//!
//! let mut m = ObjectMetrics::new();
//! m.identity_label("namespace", "default");
//! m.identity_label("configmap", "settings");
//! m.begin_family();
//! m.sample(&[], 1_700_000_000.0);
//! let mut out = Vec::new();
//! m.write_family_text(0, "kube_configmap_created", &mut out);
//! assert_eq!(
//!     String::from_utf8(out).unwrap(),
//!     "kube_configmap_created{namespace=\"default\",configmap=\"settings\"} 1.7e+09\n"
//! );
//! assert_eq!(format_float(0.00001), "1e-05");
//! ```
#![deny(missing_docs)]

mod escape;
mod family;
mod float;
mod format;
mod lines;
mod object;
pub mod parse;

pub use escape::{sanitize_name, snake_case_name, write_help, write_label_value};
pub use family::{FamilyDesc, MetricType, Stability};
pub use float::{format_float, write_float};
pub use format::{Escaping, Format, OmVersion};
pub use lines::{write_header, write_sample, write_single};
pub use object::{FamilyView, ObjectMetrics, SampleView};
pub use parse::{Event, ParseError, Parser, Sample, Syntax};
