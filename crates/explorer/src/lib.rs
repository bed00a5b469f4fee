//! The live explorer: the cluster's state in the browser, read straight from the exporter's
//! in-process text stores, on the main port next to `/metrics`.
//!
//! Place in the data flow: store → **explorer** (a reader, like the HTTP exposition). It keeps
//! no copy of the objects: every answer parses the rendered lines of a consistent snapshot of
//! the text stores ([`Snapshot`]). What it adds is a small ring buffer of cluster aggregates
//! ([`History`], one row every 5 s for an hour) filled by one sampling thread, and the pages.
//!
//! * [`Explorer`]: starts the sampler and answers the pages and the JSON API (it implements
//!   [`kubestate_http::Pages`], so the main server mounts it behind its TLS, basic auth and
//!   `--auth-filter`).
//! * [`Query`] / [`evaluate`]: the selector language (`sum by (phase) (kube_pod_status_phase
//!   == 1)`) over the current state, bounded in rows, groups and time.
//! * [`overview::Tally`]: objects and series per resource and the problems at a glance, kept
//!   up to date by re-reading only the objects that changed since the previous sample.
//!
//! The JSON API is documented in `docs/explorer.md`.
#![deny(missing_docs)]

mod api;
mod assets;
pub mod eval;
pub mod history;
pub mod lines;
pub mod object;
pub mod overview;
pub mod query;
mod sampler;
pub mod snapshot;
#[cfg(test)]
mod testing;

use std::sync::Arc;
use std::time::Duration;

use kubestate_engine::Telemetry;
use kubestate_store::Exposition;

pub use assets::UPLOT_VERSION;
pub use eval::{evaluate, Answer, Limits, Row};
pub use history::History;
pub use query::{Query, QueryError};
pub use snapshot::Snapshot;

/// How the explorer samples and answers.
#[derive(Clone, Debug)]
pub struct Config {
    /// Time between two samples of the graphs.
    pub interval: Duration,
    /// How far back the graphs go (the ring buffer holds `window / interval` samples).
    pub window: Duration,
    /// Longest a query may run before it is abandoned.
    pub query_timeout: Duration,
    /// Rows (series or groups) a query keeps; further matches are counted only.
    pub max_rows: usize,
    /// Pinned queries at most, and series per pinned query.
    pub max_pins: usize,
    /// Series kept per pinned query.
    pub max_pin_series: usize,
    /// Version shown in the page header.
    pub version: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            interval: Duration::from_secs(5),
            window: Duration::from_secs(3600),
            query_timeout: Duration::from_secs(10),
            max_rows: 10_000,
            max_pins: 8,
            max_pin_series: 20,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// The running explorer: a sampling thread and the pages. Dropping it stops the thread.
pub struct Explorer {
    inner: Arc<sampler::Inner>,
    _stop: std::sync::mpsc::Sender<()>,
}

impl Explorer {
    /// Starts sampling the stores of `exposition` (and the counters of `telemetry`).
    pub fn start(
        exposition: Arc<Exposition>,
        telemetry: Arc<Telemetry>,
        config: Config,
    ) -> Explorer {
        let (inner, stop) = sampler::start(exposition, telemetry, config);
        Explorer { inner, _stop: stop }
    }

    /// Bytes held by the graphs' ring buffer.
    pub fn history_bytes(&self) -> usize {
        self.inner.history.lock().heap_bytes()
    }

    /// Samples taken so far that are still in the buffer.
    pub fn history_len(&self) -> usize {
        self.inner.history.lock().len()
    }
}
