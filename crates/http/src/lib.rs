//! The main and telemetry HTTP servers of kubestate (ksm-behaviour.md §4).
//!
//! Place in the data flow: store → **http** → Prometheus and other scrapers. The main server
//! writes the [`Exposition`] of all text stores in the negotiated format, streamed in bounded
//! chunks (optionally gzip), and answers the health probes; the telemetry server exposes the
//! engine's own counters and a `/readyz` that turns 200 once every store finished its initial
//! sync.
//!
//! # Brief overview
//!
//! * [`Settings`]: timeouts, gzip, chunk size, version strings.
//! * [`Shared`]: what the handlers read (exposition, telemetry, the liveness probe).
//! * [`serve_main`] / [`serve_telemetry`]: accept loops on a bound listener until shutdown.
//! * [`main_response`] / [`telemetry_response`]: the routers, usable without sockets.
#![deny(missing_docs)]

mod deadline;
mod histogram;
mod pages;
mod process;
mod server;
mod web_config;

pub use histogram::Histogram;
pub use kubestate_store::Exposition;
pub use pages::{full, Body, Pages};
pub use server::{
    main_response, serve_main, serve_telemetry, telemetry_response, AuthDecision, Authorizer,
    Liveness, Settings, Shared,
};
pub use web_config::{AuthCheck, WebConfigError, WebSecurity};

/// The current web configuration of both servers, replaced whole on reload.
pub type SecuritySlot = arc_swap::ArcSwap<WebSecurity>;
