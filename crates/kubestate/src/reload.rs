//! Reloading configuration files while running, with one file watcher ([`watch`]) for all of
//! them:
//!
//! * the web configuration (`--tls-config`, [`WebConfig`]): the file and the certificate, key
//!   and client CA files it names; new TLS handshakes use the new certificate and new
//!   requests the new users and headers (connections already open keep what they
//!   negotiated);
//! * the options file (`--config`, [`OptionsFile`]): each option takes effect in the way it
//!   needs and no more (see [`RELOADABLE`] and `Engine::reconfigure`); options that cannot
//!   change while running are logged as needing a restart and keep their running value.
//!
//! A change that does not load is logged with what to fix, and the running configuration
//! stays in force. (The custom-resource-state file is followed by the engine's custom
//! resources themselves.)

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kubestate_engine::Telemetry;
use kubestate_http::{Shared, WebSecurity};
use tracing::{error, info, warn};

use crate::options::ExporterOptions;
use crate::watches::Control;

/// How often the files are checked.
pub const POLL: Duration = Duration::from_secs(2);

/// A digest of the contents of `files` (a missing file counts as its own state).
fn fingerprint(files: &[PathBuf]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        match std::fs::read(f) {
            Ok(bytes) => bytes.hash(&mut h),
            Err(e) => e.kind().to_string().hash(&mut h),
        }
    }
    h.finish()
}

/// Something loaded from files and applied again when one of them changes.
pub trait Reload: Send + 'static {
    /// The files whose change calls for a reload.
    fn files(&self) -> Vec<PathBuf>;
    /// Loads the files again and applies them. On error (already logged, with what to fix)
    /// the running configuration stays, and the same contents are not tried again.
    fn reload(&mut self) -> impl Future<Output = Result<(), ()>> + Send;
}

/// Polls the files of `target` every `interval` and reloads it when their contents change,
/// until the task is aborted.
pub fn watch(mut target: impl Reload, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut files = target.files();
        let mut seen = fingerprint(&files);
        let mut failed_at: Option<u64> = None;
        loop {
            tokio::time::sleep(interval).await;
            let now = fingerprint(&files);
            if now == seen || failed_at == Some(now) {
                continue;
            }
            match target.reload().await {
                Ok(()) => {
                    // The new configuration may name other files: fingerprint those.
                    files = target.files();
                    seen = fingerprint(&files);
                    failed_at = None;
                }
                // Certificate and key are often written one after the other: a pair that
                // does not match yet is retried at the next change.
                Err(()) => failed_at = Some(now),
            }
        }
    })
}

/// The web configuration (`--tls-config`) of both servers.
pub struct WebConfig {
    path: PathBuf,
    shared: Arc<Shared>,
}

impl WebConfig {
    /// The web configuration at `path`, already loaded into `shared`.
    pub fn new(path: PathBuf, shared: Arc<Shared>) -> WebConfig {
        WebConfig { path, shared }
    }
}

impl Reload for WebConfig {
    fn files(&self) -> Vec<PathBuf> {
        self.shared.security.load().files().to_vec()
    }

    async fn reload(&mut self) -> Result<(), ()> {
        let path = self.path.clone();
        let loaded = tokio::task::spawn_blocking(move || WebSecurity::load(&path))
            .await
            .unwrap_or_else(|e| {
                Err(kubestate_http::WebConfigError::Invalid {
                    path: PathBuf::new(),
                    message: format!("loading panicked: {e}"),
                })
            });
        match loaded {
            Ok(security) => {
                info!(file = %self.path.display(), tls = security.tls.is_some(), basic_auth = security.requires_auth(), "web configuration reloaded; new connections use it");
                self.shared.security.store(Arc::new(security));
                Ok(())
            }
            Err(e) => {
                error!(file = %self.path.display(), error = %e, "web configuration change not applied; keeping the previous one");
                Err(())
            }
        }
    }
}

/// The options (fields of [`ExporterOptions`]) a `--config` change applies while running;
/// any other option that changes keeps its running value and is logged as needing a
/// restart (listen addresses, TLS and auth settings, the API server connection, automatic
/// sharding, HTTP timeouts and gzip).
pub const RELOADABLE: &[&str] = &[
    "resources",
    "namespaces",
    "namespaces_denylist",
    "metric_allowlist",
    "metric_denylist",
    "metric_opt_in_list",
    "metric_labels_allowlist",
    "metric_annotations_allowlist",
    "shard",
    "total_shards",
    "node",
    "track_unscheduled_pods",
    "use_apiserver_cache",
    "object_limit",
    "custom_resource_state_config",
    "custom_resource_state_config_file",
    "continue_without_custom_resource_state_config_file",
    "custom_resource_state_only",
    "continue_without_config",
    // Go runtime settings: accepted, without effect in kubestate either way.
    "auto_gomemlimit",
    "auto_gomemlimit_ratio",
];

/// The `--config` options file, applied to running watches.
pub struct OptionsFile {
    path: PathBuf,
    /// The `filename` label of the reload gauges (the path as Go's `filepath.Clean` leaves it).
    label: String,
    /// The options of the command line, before any `--config` (the file's keys override
    /// them, as at startup).
    command_line: ExporterOptions,
    /// The options in force.
    running: ExporterOptions,
    control: Arc<Control>,
    telemetry: Arc<Telemetry>,
}

/// The `type` label of the reload gauges of `--config`.
pub const CONFIG_KIND: &str = "config";

impl OptionsFile {
    /// Follows `running.config`, applied to `control`'s watches. `command_line` holds the
    /// options as given on the command line; `running` the options in force (command line
    /// and file). Reports the file as loaded in `telemetry`'s reload gauges.
    pub fn new(
        command_line: ExporterOptions,
        running: ExporterOptions,
        control: Arc<Control>,
        telemetry: Arc<Telemetry>,
    ) -> OptionsFile {
        let path = PathBuf::from(&running.config);
        let label = kubestate_engine::go_clean(&running.config);
        match std::fs::read(&path) {
            Ok(bytes) => telemetry.set_config_status(
                CONFIG_KIND,
                &label,
                Some(kubestate_engine::config_hash(&bytes)),
            ),
            // Started without it (--continue-without-config): not loaded.
            Err(_) => telemetry.set_config_status(CONFIG_KIND, &label, None),
        }
        OptionsFile {
            path,
            label,
            command_line,
            running,
            control,
            telemetry,
        }
    }

    /// The options a new file's `text` asks for, with the options that cannot change while
    /// running kept at their running values (each logged); the next running options.
    fn next(&self, text: &str) -> anyhow::Result<ExporterOptions> {
        let mut next = self.command_line.clone();
        next.apply_config_yaml(text)?;
        let (before, after) = (self.running.values(), next.values());
        for (i, flag) in ExporterOptions::FLAGS.iter().enumerate() {
            if before[i] == after[i] || RELOADABLE.contains(&flag.field) {
                continue;
            }
            warn!(
                file = %self.label,
                option = flag.keys.first().copied().unwrap_or(flag.long),
                flag = %format!("--{}", flag.long),
                running = %before[i].1.join(","),
                requested = %after[i].1.join(","),
                "this option cannot change while running: it needs a restart; keeping the running value"
            );
            next.take_field(&self.running, flag.field);
        }
        Ok(next)
    }

    /// Loads `bytes` and applies them.
    fn apply(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| anyhow::anyhow!("the file is not UTF-8: {e}"))?;
        let next = self.next(text)?;
        let config = next.engine_config()?;
        let custom_source_changed =
            next.custom_resource_state_config != self.running.custom_resource_state_config;
        let applied = self.control.reconfigure(config, custom_source_changed)?;
        info!(
            file = %self.label,
            changed = ?changed_flags(&self.running, &next),
            started = ?applied.built_in.started,
            stopped = ?applied.built_in.stopped,
            trimmed_without_relist = ?applied.built_in.trimmed,
            relisted = ?applied.built_in.regenerated,
            restarted = ?applied.built_in.restarted,
            custom_resources = ?applied.custom,
            "--config reloaded"
        );
        self.running = next;
        Ok(())
    }
}

/// The flags whose values differ between `a` and `b`.
fn changed_flags(a: &ExporterOptions, b: &ExporterOptions) -> Vec<&'static str> {
    a.values()
        .into_iter()
        .zip(b.values())
        .filter(|(x, y)| x != y)
        .map(|(x, _)| x.0)
        .collect()
}

impl Reload for OptionsFile {
    fn files(&self) -> Vec<PathBuf> {
        vec![self.path.clone()]
    }

    async fn reload(&mut self) -> Result<(), ()> {
        let result = match std::fs::read(&self.path) {
            Ok(bytes) => self.apply(&bytes).map(|()| bytes),
            Err(e) => Err(anyhow::anyhow!("cannot read the file: {e}")),
        };
        match result {
            Ok(bytes) => {
                self.telemetry.set_config_status(
                    CONFIG_KIND,
                    &self.label,
                    Some(kubestate_engine::config_hash(&bytes)),
                );
                Ok(())
            }
            Err(e) => {
                error!(
                    file = %self.label,
                    error = %format!("{e:#}"),
                    "--config change not applied; the running configuration stays in force until the file is fixed"
                );
                self.telemetry
                    .set_config_status(CONFIG_KIND, &self.label, None);
                Err(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reloadable option names a field of the table, and every option a `--config`
    /// file can set is either reloadable or one of the few that need a restart.
    #[test]
    fn reloadable_options_are_fields_of_the_table() {
        let fields: Vec<&str> = ExporterOptions::FLAGS.iter().map(|f| f.field).collect();
        for r in RELOADABLE {
            assert!(fields.contains(r), "{r} is not an option");
        }
        let restart = [
            "apiserver",
            "kubeconfig",
            "host",
            "port",
            "telemetry_host",
            "telemetry_port",
            "tls_config",
            "auth_filter",
            "pod",
            "pod_namespace",
            "enable_gzip_encoding",
            "server_read_timeout",
            "server_write_timeout",
            "server_idle_timeout",
            "server_read_header_timeout",
        ];
        for f in ExporterOptions::FLAGS.iter().filter(|f| !f.keys.is_empty()) {
            assert!(
                RELOADABLE.contains(&f.field) || restart.contains(&f.field),
                "--config key {:?}: decide whether it reloads",
                f.keys
            );
        }
    }

    #[test]
    fn fingerprints_follow_contents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("a");
        let files = [f.clone()];
        let missing = fingerprint(&files);
        std::fs::write(&f, "x").expect("write");
        let x = fingerprint(&files);
        std::fs::write(&f, "y").expect("write");
        assert!(missing != x && x != fingerprint(&files));
    }
}
