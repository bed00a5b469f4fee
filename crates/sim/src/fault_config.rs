//! The switchable fault settings, as data: what the shared state holds and the control
//! handle ([`crate::Faults`]) changes.

use serde::{Deserialize, Serialize};

/// Fault settings. Rates and fractions are continuous; the `*_next_*` counters are consumed
/// one per affected request. All random choices come from an RNG seeded with the sim's seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    /// Watch connections dropped per second (a random open watch is closed cleanly, as an
    /// API server restart or a load balancer would do). 0 = never.
    pub watch_drop_per_sec: f64,
    /// Fraction (0..=1) of resource requests (get/list/watch) answered `429 TooManyRequests`
    /// with a `Retry-After` header.
    pub throttle_fraction: f64,
    /// `Retry-After` seconds sent with 429 answers.
    pub retry_after_secs: u32,
    /// Fraction (0..=1) of resource requests answered `500 InternalError`.
    pub error_fraction: f64,
    /// Latency added before answering every resource request, in milliseconds.
    pub latency_ms: u64,
    /// The next N watch requests get one `ERROR` event with a 410 `Status` (reason `Gone`)
    /// and are closed.
    pub gone_next_watches: u64,
    /// The next N list or watch responses are cut in the middle of an object: the connection
    /// is closed after writing part of a JSON object.
    pub cut_next_streams: u64,
    /// The next N list responses / watch streams carry one extra malformed object
    /// (`metadata` is a string), which a robust client must skip.
    pub malformed_next: u64,
    /// Resources (plural names, e.g. `pods`) whose requests are answered
    /// `403 Forbidden`, as when RBAC lacks a rule.
    pub forbidden_resources: Vec<String>,
    /// Resources whose requests are answered `404 NotFound` although discovery lists them.
    pub not_found_resources: Vec<String>,
    /// API groups (e.g. `batch`) left out of discovery (`/apis` omits them, `/apis/<group>`
    /// and everything below answer 404), as on a cluster that does not serve them.
    pub hidden_groups: Vec<String>,
    /// The next N list or watch requests get `200` headers and then no byte at all (a
    /// stalled connection), until the client gives up or the sim stops.
    pub stall_next: u64,
    /// The next N watch streams carry one event that cannot be decoded (a line that is not
    /// JSON, or a corrupt protobuf frame), after which the stream goes on normally.
    pub poison_next_watches: u64,
}
