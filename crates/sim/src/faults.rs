//! Fault injection: the switchable settings ([`FaultConfig`]) and the runtime control handle
//! ([`Faults`]) shared by the CLI flags, the admin endpoint and in-process tests.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::state::Shared;

pub use crate::fault_config::FaultConfig;

/// A request to change faults, as accepted by `POST /_sim/faults`: every field is optional;
/// the `*_now` actions happen once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultUpdate {
    /// See [`FaultConfig::watch_drop_per_sec`].
    pub watch_drop_per_sec: Option<f64>,
    /// See [`FaultConfig::throttle_fraction`].
    pub throttle_fraction: Option<f64>,
    /// See [`FaultConfig::retry_after_secs`].
    pub retry_after_secs: Option<u32>,
    /// See [`FaultConfig::error_fraction`].
    pub error_fraction: Option<f64>,
    /// See [`FaultConfig::latency_ms`].
    pub latency_ms: Option<u64>,
    /// See [`FaultConfig::gone_next_watches`] (replaces the counter).
    pub gone_next_watches: Option<u64>,
    /// See [`FaultConfig::cut_next_streams`] (replaces the counter).
    pub cut_next_streams: Option<u64>,
    /// See [`FaultConfig::malformed_next`] (replaces the counter).
    pub malformed_next: Option<u64>,
    /// See [`FaultConfig::forbidden_resources`] (replaces the list).
    pub forbidden_resources: Option<Vec<String>>,
    /// See [`FaultConfig::not_found_resources`] (replaces the list).
    pub not_found_resources: Option<Vec<String>>,
    /// See [`FaultConfig::hidden_groups`] (replaces the list).
    pub hidden_groups: Option<Vec<String>>,
    /// See [`FaultConfig::stall_next`] (replaces the counter).
    pub stall_next: Option<u64>,
    /// See [`FaultConfig::poison_next_watches`] (replaces the counter).
    pub poison_next_watches: Option<u64>,
    /// Close every open watch now.
    pub drop_watches_now: bool,
    /// Make every continue token issued so far expire (410) now.
    pub expire_continue_tokens_now: bool,
    /// Start a new resourceVersion epoch now (see [`Faults::restart_epoch`]).
    pub restart_epoch: bool,
    /// Reset every fault to off before applying the other fields.
    pub reset: bool,
}

/// What a resource request should suffer, decided once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestFault {
    None,
    Throttle(u32),
    Error,
}

/// Runtime control of the faults of a running sim (cheap to clone).
#[derive(Clone)]
pub struct Faults {
    pub(crate) sh: Arc<Shared>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("config", &self.config())
            .finish()
    }
}

fn frac(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

impl Faults {
    /// The current settings (counters show what is left).
    pub fn config(&self) -> FaultConfig {
        self.sh.faults.lock().clone()
    }

    /// Replace all settings.
    pub fn set(&self, cfg: FaultConfig) {
        let mut cfg = cfg;
        cfg.throttle_fraction = frac(cfg.throttle_fraction);
        cfg.error_fraction = frac(cfg.error_fraction);
        if !cfg.watch_drop_per_sec.is_finite() || cfg.watch_drop_per_sec < 0.0 {
            cfg.watch_drop_per_sec = 0.0;
        }
        *self.sh.faults.lock() = cfg;
    }

    /// Apply a partial update and run its one-shot actions; returns the new settings.
    pub fn update(&self, u: &FaultUpdate) -> FaultConfig {
        let mut c = if u.reset {
            FaultConfig::default()
        } else {
            self.config()
        };
        if let Some(x) = u.watch_drop_per_sec {
            c.watch_drop_per_sec = x;
        }
        if let Some(x) = u.throttle_fraction {
            c.throttle_fraction = x;
        }
        if let Some(x) = u.retry_after_secs {
            c.retry_after_secs = x;
        }
        if let Some(x) = u.error_fraction {
            c.error_fraction = x;
        }
        if let Some(x) = u.latency_ms {
            c.latency_ms = x;
        }
        if let Some(x) = u.gone_next_watches {
            c.gone_next_watches = x;
        }
        if let Some(x) = u.cut_next_streams {
            c.cut_next_streams = x;
        }
        if let Some(x) = u.malformed_next {
            c.malformed_next = x;
        }
        if let Some(x) = &u.forbidden_resources {
            c.forbidden_resources.clone_from(x);
        }
        if let Some(x) = &u.not_found_resources {
            c.not_found_resources.clone_from(x);
        }
        if let Some(x) = &u.hidden_groups {
            c.hidden_groups.clone_from(x);
        }
        if let Some(x) = u.stall_next {
            c.stall_next = x;
        }
        if let Some(x) = u.poison_next_watches {
            c.poison_next_watches = x;
        }
        self.set(c);
        if u.drop_watches_now {
            self.drop_all_watches();
        }
        if u.expire_continue_tokens_now {
            self.expire_continue_tokens();
        }
        if u.restart_epoch {
            self.restart_epoch();
        }
        self.config()
    }

    /// Close every open watch connection now (cleanly: the HTTP response ends).
    /// Returns how many were open.
    pub fn drop_all_watches(&self) -> usize {
        let watches = self.sh.watches.lock();
        for n in watches.values() {
            n.close();
        }
        watches.len()
    }

    /// Every continue token issued so far answers 410 Expired from now on.
    pub fn expire_continue_tokens(&self) {
        self.sh.token_gen.fetch_add(1, Ordering::SeqCst);
        self.sh.snapshots.lock().clear();
    }

    /// Answer the next `n` watch requests with a 410 ERROR event.
    pub fn gone_next_watches(&self, n: u64) {
        self.sh.faults.lock().gone_next_watches = n;
    }

    /// Cut the next `n` list/watch responses in the middle of an object.
    pub fn cut_next_streams(&self, n: u64) {
        self.sh.faults.lock().cut_next_streams = n;
    }

    /// Inject a malformed object into the next `n` list responses / watch streams.
    pub fn malformed_next(&self, n: u64) {
        self.sh.faults.lock().malformed_next = n;
    }

    /// Answer this fraction of resource requests with 429 (and `Retry-After: secs`).
    pub fn throttle(&self, fraction: f64, retry_after_secs: u32) {
        let mut f = self.sh.faults.lock();
        f.throttle_fraction = frac(fraction);
        f.retry_after_secs = retry_after_secs;
    }

    /// Answer this fraction of resource requests with 500.
    pub fn error_fraction(&self, fraction: f64) {
        self.sh.faults.lock().error_fraction = frac(fraction);
    }

    /// Add this latency to every resource request.
    pub fn latency(&self, d: Duration) {
        self.sh.faults.lock().latency_ms = d.as_millis().try_into().unwrap_or(u64::MAX);
    }

    /// Drop this many random watch connections per second.
    pub fn watch_drop_rate(&self, per_sec: f64) {
        self.sh.faults.lock().watch_drop_per_sec = if per_sec.is_finite() {
            per_sec.max(0.0)
        } else {
            0.0
        };
    }

    /// Start a new resourceVersion epoch, as after an etcd restore: the current
    /// resourceVersion jumps by 1,000,000, every retained event is forgotten (watches and
    /// exact lists at older RVs answer 410), continue tokens expire and all watches close.
    /// Objects keep their own resourceVersions.
    pub fn restart_epoch(&self) {
        self.drop_all_watches();
        {
            let mut w = self.sh.world.write();
            w.new_epoch(1_000_000);
            self.sh.changed.send_replace(w.rv);
        }
        self.expire_continue_tokens();
    }

    /// Answer every request for these resources (plural names) with 403 Forbidden.
    pub fn forbid(&self, resources: &[&str]) {
        self.sh.faults.lock().forbidden_resources =
            resources.iter().map(|r| r.to_string()).collect();
    }

    /// Answer every request for these resources with 404 NotFound.
    pub fn not_found(&self, resources: &[&str]) {
        self.sh.faults.lock().not_found_resources =
            resources.iter().map(|r| r.to_string()).collect();
    }

    /// Leave these API groups out of discovery (and answer their resources 404).
    pub fn hide_groups(&self, groups: &[&str]) {
        self.sh.faults.lock().hidden_groups = groups.iter().map(|g| g.to_string()).collect();
    }

    /// Stall the next `n` list/watch responses after their headers.
    pub fn stall_next(&self, n: u64) {
        self.sh.faults.lock().stall_next = n;
    }

    /// Put one undecodable event into each of the next `n` watch streams.
    pub fn poison_next_watches(&self, n: u64) {
        self.sh.faults.lock().poison_next_watches = n;
    }

    /// Whether discovery hides `group`.
    pub(crate) fn group_hidden(&self, group: &str) -> bool {
        !group.is_empty()
            && self
                .sh
                .faults
                .lock()
                .hidden_groups
                .iter()
                .any(|g| g == group)
    }

    /// The per-resource refusal of a request for `plural` in `group`, if any.
    pub(crate) fn refusal(&self, group: &str, plural: &str) -> Option<Refusal> {
        let f = self.sh.faults.lock();
        if f.forbidden_resources.iter().any(|r| r == plural) {
            Some(Refusal::Forbidden)
        } else if f.not_found_resources.iter().any(|r| r == plural)
            || (!group.is_empty() && f.hidden_groups.iter().any(|g| g == group))
        {
            Some(Refusal::NotFound)
        } else {
            None
        }
    }

    /// Decide the fault of one resource request (consumes randomness).
    pub(crate) fn request_fault(&self) -> (RequestFault, Duration) {
        let f = self.sh.faults.lock();
        let latency = Duration::from_millis(f.latency_ms);
        if f.throttle_fraction <= 0.0 && f.error_fraction <= 0.0 {
            return (RequestFault::None, latency);
        }
        let x: f64 = self.sh.fault_rng.lock().gen();
        let fault = if x < f.throttle_fraction {
            RequestFault::Throttle(f.retry_after_secs)
        } else if x < f.throttle_fraction + f.error_fraction {
            RequestFault::Error
        } else {
            RequestFault::None
        };
        (fault, latency)
    }

    /// Consume one unit of a counter; true when the fault applies.
    pub(crate) fn take(&self, which: Counter) -> bool {
        let mut f = self.sh.faults.lock();
        let c = match which {
            Counter::Gone => &mut f.gone_next_watches,
            Counter::Cut => &mut f.cut_next_streams,
            Counter::Malformed => &mut f.malformed_next,
            Counter::Stall => &mut f.stall_next,
            Counter::Poison => &mut f.poison_next_watches,
        };
        if *c > 0 {
            *c -= 1;
            true
        } else {
            false
        }
    }
}

/// The consumable fault counters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    Gone,
    Cut,
    Malformed,
    Stall,
    Poison,
}

/// The refusal a resource request gets from the per-resource faults, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Forbidden,
    NotFound,
}

/// The undecodable watch event injected by [`FaultConfig::poison_next_watches`]: a JSON line
/// cut off inside its object (then a newline), or a protobuf frame whose event message claims
/// more bytes than it has.
pub(crate) fn poison_event(protobuf: bool) -> &'static [u8] {
    if protobuf {
        b"\x00\x00\x00\x04\x0a\x05AD"
    } else {
        b"{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"injected-by-kubestate-sim\",\"metadata\":{\n"
    }
}

/// The malformed object injected by [`FaultConfig::malformed_next`]: right apiVersion and
/// kind, but `metadata` is a string and `spec` a number.
pub(crate) fn malformed_object(api_version: &str, kind: &str) -> bytes::Bytes {
    let v = serde_json::json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": "injected-by-kubestate-sim",
        "spec": 42,
    });
    crate::store::to_bytes(&v)
}
