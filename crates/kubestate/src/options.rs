//! KSM's command-line flags and `--config` file, with KSM's names and defaults
//! (ksm-behaviour.md §2, §3), turned into the engine's and servers' settings.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Args;
use kubestate_customstate::CustomConfig;
use kubestate_engine::{Config, Sharding};
use kubestate_families::Allowlist;

use crate::duration::parse_go_duration;

fn go_duration(s: &str) -> Result<Duration, String> {
    parse_go_duration(s)
}

/// Logs each configuration warning once per process (the options are validated more than
/// once on the way to starting).
fn warn_once(source: &str, warnings: &[String]) {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let Ok(mut seen) = SEEN.lock() else {
        return;
    };
    let seen = seen.get_or_insert_with(HashSet::new);
    for w in warnings {
        if seen.insert(format!("{source}\0{w}")) {
            tracing::warn!(source, "custom resource state configuration: {w}");
        }
    }
}

/// The exporter's flags: every flag of kube-state-metrics v2.20, so a KSM command line runs
/// unchanged.
#[derive(Args, Debug, Clone)]
pub struct ExporterOptions {
    /// URL of the Kubernetes API server; overrides the kubeconfig's server.
    #[arg(long, default_value = "")]
    pub apiserver: String,
    /// Path to a kubeconfig file; empty means in-cluster configuration (or $KUBECONFIG).
    #[arg(long, default_value = "")]
    pub kubeconfig: String,
    /// Address the metrics server listens on.
    #[arg(long, default_value = "::")]
    pub host: String,
    /// Port the metrics server listens on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address the self-metrics server listens on.
    #[arg(long = "telemetry-host", default_value = "::")]
    pub telemetry_host: String,
    /// Port the self-metrics server listens on.
    #[arg(long = "telemetry-port", default_value_t = 8081)]
    pub telemetry_port: u16,
    /// Path to a Prometheus exporter-toolkit web configuration (TLS, basic auth) for both servers.
    #[arg(long = "tls-config", default_value = "")]
    pub tls_config: String,
    /// Require a bearer token validated by the API server on /metrics.
    #[arg(long = "auth-filter", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub auth_filter: bool,
    /// Comma-separated resources to expose (default: KSM's default set).
    #[arg(long, value_delimiter = ',')]
    pub resources: Vec<String>,
    /// Comma-separated namespaces to watch (default: all).
    #[arg(long, value_delimiter = ',')]
    pub namespaces: Vec<String>,
    /// Comma-separated namespaces to leave out.
    #[arg(long = "namespaces-denylist", value_delimiter = ',')]
    pub namespaces_denylist: Vec<String>,
    /// Comma-separated regular expressions of families to keep (unanchored).
    #[arg(long = "metric-allowlist", value_delimiter = ',')]
    pub metric_allowlist: Vec<String>,
    /// Comma-separated regular expressions of families to drop (unanchored).
    #[arg(long = "metric-denylist", value_delimiter = ',')]
    pub metric_denylist: Vec<String>,
    /// Comma-separated regular expressions of opt-in families to enable.
    #[arg(long = "metric-opt-in-list", value_delimiter = ',')]
    pub metric_opt_in_list: Vec<String>,
    /// Kubernetes labels to expose per resource: `pods=[app,team],nodes=[*],*=[*]`.
    #[arg(long = "metric-labels-allowlist")]
    pub metric_labels_allowlist: Vec<String>,
    /// Kubernetes annotations to expose per resource, same syntax.
    #[arg(long = "metric-annotations-allowlist")]
    pub metric_annotations_allowlist: Vec<String>,
    /// This instance's shard index (0-based).
    #[arg(long, default_value_t = 0)]
    pub shard: i32,
    /// Number of shards; 1 disables sharding.
    #[arg(long = "total-shards", default_value_t = 1)]
    pub total_shards: i64,
    /// Pod name for automatic sharding from the owning StatefulSet (with --pod-namespace).
    #[arg(long, default_value = "")]
    pub pod: String,
    /// Namespace of --pod.
    #[arg(long = "pod-namespace", default_value = "")]
    pub pod_namespace: String,
    /// Only export pods on this node (DaemonSet sharding).
    #[arg(long, default_value = "")]
    pub node: String,
    /// Only export pods not scheduled to a node.
    #[arg(long = "track-unscheduled-pods", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub track_unscheduled_pods: bool,
    /// List from the API server's watch cache (resourceVersion=0).
    #[arg(long = "use-apiserver-cache", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub use_apiserver_cache: bool,
    /// List at most this many objects per resource (0: no limit).
    #[arg(long = "object-limit", default_value_t = 0)]
    pub object_limit: i64,
    /// Encoding asked of the API server for built-in kinds: `protobuf` (as KSM does; JSON is
    /// accepted when the server answers it) or `json`. Custom resources are always JSON.
    #[arg(long = "api-content-type", default_value = "protobuf", value_parser = ["protobuf", "json"])]
    pub api_content_type: String,
    /// Inline custom-resource-state configuration (YAML).
    #[arg(long = "custom-resource-state-config", default_value = "")]
    pub custom_resource_state_config: String,
    /// Path to a custom-resource-state configuration file.
    #[arg(long = "custom-resource-state-config-file", default_value = "")]
    pub custom_resource_state_config_file: String,
    /// Keep running when the custom-resource-state file is missing.
    #[arg(long = "continue-without-custom-resource-state-config-file", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub continue_without_custom_resource_state_config_file: bool,
    /// Expose only custom resources.
    #[arg(long = "custom-resource-state-only", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub custom_resource_state_only: bool,
    /// Path to an options file (YAML, KSM's keys); its values override flags.
    #[arg(long, default_value = "")]
    pub config: String,
    /// Keep running when --config cannot be read.
    #[arg(long = "continue-without-config", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub continue_without_config: bool,
    /// Gzip /metrics for clients that accept it.
    #[arg(long = "enable-gzip-encoding", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub enable_gzip_encoding: bool,
    /// Maximum time to read a request.
    #[arg(long = "server-read-timeout", default_value = "1m0s", value_parser = go_duration)]
    pub server_read_timeout: Duration,
    /// Maximum time to write a response; a longer scrape is cut.
    #[arg(long = "server-write-timeout", default_value = "1m0s", value_parser = go_duration)]
    pub server_write_timeout: Duration,
    /// Keep-alive idle timeout.
    #[arg(long = "server-idle-timeout", default_value = "5m0s", value_parser = go_duration)]
    pub server_idle_timeout: Duration,
    /// Maximum time to read request headers.
    #[arg(long = "server-read-header-timeout", default_value = "5s", value_parser = go_duration)]
    pub server_read_header_timeout: Duration,
    /// Go runtime only; accepted for compatibility and ignored.
    #[arg(long = "auto-gomemlimit", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub auto_gomemlimit: bool,
    /// Go runtime only; accepted for compatibility and ignored.
    #[arg(long = "auto-gomemlimit-ratio", default_value_t = 0.9)]
    pub auto_gomemlimit_ratio: f64,
    /// Log verbosity (klog's -v): 0-1 info, 2-4 debug, 5+ trace.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
    /// Log format: `text` or `json`.
    #[arg(long = "log-format", default_value = "text")]
    pub log_format: String,
    /// klog flag, accepted for compatibility (logs always go to stderr).
    #[arg(long = "logtostderr", num_args = 0..=1, default_missing_value = "true", default_value = "true")]
    pub logtostderr: bool,
    /// klog flags accepted for compatibility and ignored.
    #[arg(long = "alsologtostderr", num_args = 0..=1, default_missing_value = "true", hide = true)]
    pub alsologtostderr: Option<bool>,
    #[arg(long = "add_dir_header", num_args = 0..=1, default_missing_value = "true", hide = true)]
    #[doc(hidden)]
    pub add_dir_header: Option<bool>,
    #[arg(long = "alsologtostderrthreshold", hide = true)]
    #[doc(hidden)]
    pub alsologtostderrthreshold: Option<String>,
    #[arg(long = "legacy_stderr_threshold_behavior", num_args = 0..=1, default_missing_value = "true", hide = true)]
    #[doc(hidden)]
    pub legacy_stderr_threshold_behavior: Option<bool>,
    #[arg(long = "log_backtrace_at", hide = true)]
    #[doc(hidden)]
    pub log_backtrace_at: Option<String>,
    #[arg(long = "log_dir", hide = true)]
    #[doc(hidden)]
    pub log_dir: Option<String>,
    #[arg(long = "log_file", hide = true)]
    #[doc(hidden)]
    pub log_file: Option<String>,
    #[arg(long = "log_file_max_size", hide = true)]
    #[doc(hidden)]
    pub log_file_max_size: Option<u64>,
    #[arg(long = "one_output", num_args = 0..=1, default_missing_value = "true", hide = true)]
    #[doc(hidden)]
    pub one_output: Option<bool>,
    #[arg(long = "skip_headers", num_args = 0..=1, default_missing_value = "true", hide = true)]
    #[doc(hidden)]
    pub skip_headers: Option<bool>,
    #[arg(long = "skip_log_headers", num_args = 0..=1, default_missing_value = "true", hide = true)]
    #[doc(hidden)]
    pub skip_log_headers: Option<bool>,
    #[arg(long = "stderrthreshold", hide = true)]
    #[doc(hidden)]
    pub stderrthreshold: Option<String>,
    #[arg(long = "vmodule", hide = true)]
    #[doc(hidden)]
    pub vmodule: Option<String>,
}

impl ExporterOptions {
    /// Options with every default, as if no flag were given.
    pub fn defaults() -> ExporterOptions {
        #[derive(clap::Parser)]
        struct P {
            #[command(flatten)]
            o: ExporterOptions,
        }
        <P as clap::Parser>::parse_from(["kubestate"]).o
    }

    /// Parses a KSM argument list (without the program name).
    ///
    /// # Errors
    /// An unknown flag or a bad value.
    pub fn parse_args<I: IntoIterator<Item = S>, S: Into<std::ffi::OsString> + Clone>(
        args: I,
    ) -> Result<ExporterOptions, clap::Error> {
        #[derive(clap::Parser)]
        struct P {
            #[command(flatten)]
            o: ExporterOptions,
        }
        let argv = std::iter::once(std::ffi::OsString::from("kubestate"))
            .chain(args.into_iter().map(Into::into));
        <P as clap::Parser>::try_parse_from(argv).map(|p| p.o)
    }

    /// Reads `--config` (if given) and lets its keys override the flags (KSM's precedence).
    ///
    /// # Errors
    /// An unreadable file (unless --continue-without-config), invalid YAML or a value of the
    /// wrong type, with the key and what was expected.
    pub fn apply_config_file(&mut self) -> anyhow::Result<()> {
        if self.config.is_empty() {
            return Ok(());
        }
        let path = self.config.clone();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if self.continue_without_config => {
                tracing::warn!(path = %path, error = %e, "--config unreadable, continuing without it");
                return Ok(());
            }
            Err(e) => return Err(e).with_context(|| format!("reading --config {path}")),
        };
        self.apply_config_yaml(&text)
            .with_context(|| format!("in --config {path}"))
    }

    /// Applies the keys of a `--config` document.
    ///
    /// # Errors
    /// Invalid YAML or a value of the wrong type.
    pub fn apply_config_yaml(&mut self, text: &str) -> anyhow::Result<()> {
        let doc: serde_yaml::Value = serde_yaml::from_str(text).context("invalid YAML")?;
        let serde_yaml::Value::Mapping(map) = doc else {
            if doc.is_null() {
                return Ok(());
            }
            bail!("the document must be a mapping of option keys");
        };
        for (k, v) in map {
            let key = k
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{k:?}"));
            self.apply_key(&key, &v)
                .with_context(|| format!("key {key:?}"))?;
        }
        Ok(())
    }

    fn apply_key(&mut self, key: &str, v: &serde_yaml::Value) -> anyhow::Result<()> {
        use serde_yaml::Value as V;
        let s = |v: &V| -> anyhow::Result<String> {
            match v {
                V::String(s) => Ok(s.clone()),
                V::Number(n) => Ok(n.to_string()),
                V::Bool(b) => Ok(b.to_string()),
                V::Null => Ok(String::new()),
                _ => bail!("expected a string"),
            }
        };
        let b = |v: &V| {
            v.as_bool()
                .ok_or_else(|| anyhow::anyhow!("expected true or false"))
        };
        let i = |v: &V| {
            v.as_i64()
                .ok_or_else(|| anyhow::anyhow!("expected an integer"))
        };
        let d = |v: &V| -> anyhow::Result<Duration> {
            match v {
                V::String(x) => parse_go_duration(x).map_err(anyhow::Error::msg),
                // yaml.v3 decodes a number into a Go duration as nanoseconds.
                V::Number(n) => Ok(Duration::from_nanos(n.as_u64().unwrap_or(0))),
                _ => bail!("expected a duration such as 1m0s"),
            }
        };
        // `resources`, `metric_*list` are sets written as maps with empty values.
        let set = |v: &V| -> anyhow::Result<Vec<String>> {
            match v {
                V::Mapping(m) => Ok(m
                    .keys()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()),
                V::Sequence(s) => s
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| anyhow::anyhow!("expected strings"))
                    })
                    .collect(),
                V::Null => Ok(Vec::new()),
                _ => bail!("expected a map such as {{pods: {{}}, nodes: {{}}}}"),
            }
        };
        let list = |v: &V| -> anyhow::Result<Vec<String>> {
            match v {
                V::Sequence(s) => s
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| anyhow::anyhow!("expected a list of strings"))
                    })
                    .collect(),
                V::Null => Ok(Vec::new()),
                _ => bail!("expected a list of strings"),
            }
        };
        // `labels_allow_list` / `annotations_allow_list`: resource → list of keys.
        let allow = |v: &V| -> anyhow::Result<Vec<String>> {
            let V::Mapping(m) = v else {
                if v.is_null() {
                    return Ok(Vec::new());
                }
                bail!("expected a map of resource to a list of keys");
            };
            let mut parts = Vec::new();
            for (r, keys) in m {
                let r = r
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("resource names must be strings"))?;
                let keys = list(keys)?;
                parts.push(format!("{r}=[{}]", keys.join(",")));
            }
            Ok(vec![parts.join(",")])
        };
        match key {
            "resources" => self.resources = set(v)?,
            "metric_allowlist" => self.metric_allowlist = set(v)?,
            "metric_denylist" => self.metric_denylist = set(v)?,
            "metric_opt_in_list" => self.metric_opt_in_list = set(v)?,
            "labels_allow_list" => self.metric_labels_allowlist = allow(v)?,
            "annotations_allow_list" => self.metric_annotations_allowlist = allow(v)?,
            "namespaces" => self.namespaces = list(v)?,
            "namespaces_denylist" => self.namespaces_denylist = list(v)?,
            "apiserver" => self.apiserver = s(v)?,
            "kubeconfig" => self.kubeconfig = s(v)?,
            "host" => self.host = s(v)?,
            "port" => self.port = u16::try_from(i(v)?).context("port out of range")?,
            "telemetry_host" => self.telemetry_host = s(v)?,
            "telemetry_port" => {
                self.telemetry_port = u16::try_from(i(v)?).context("port out of range")?
            }
            "tls_config" => self.tls_config = s(v)?,
            "shard" => self.shard = i32::try_from(i(v)?).context("shard out of range")?,
            "total_shards" => self.total_shards = i(v)?,
            "pod" => self.pod = s(v)?,
            "namespace" => self.pod_namespace = s(v)?,
            "node" => self.node = s(v)?,
            "custom_resource_config" => self.custom_resource_state_config = s(v)?,
            "custom_resource_state_config_file" | "custom_resource_config_file" => {
                self.custom_resource_state_config_file = s(v)?
            }
            "continue_without_custom_resource_state_config_file" => {
                self.continue_without_custom_resource_state_config_file = b(v)?
            }
            "continue_without_config" => self.continue_without_config = b(v)?,
            "custom_resources_only" => self.custom_resource_state_only = b(v)?,
            "enable_gzip_encoding" => self.enable_gzip_encoding = b(v)?,
            "track_unscheduled_pods" => self.track_unscheduled_pods = b(v)?,
            "use_api_server_cache" => self.use_apiserver_cache = b(v)?,
            "object_limit" => self.object_limit = i(v)?,
            "auth_filter" => self.auth_filter = b(v)?,
            "server_read_timeout" => self.server_read_timeout = d(v)?,
            "server_write_timeout" => self.server_write_timeout = d(v)?,
            "server_idle_timeout" => self.server_idle_timeout = d(v)?,
            "server_read_header_timeout" => self.server_read_header_timeout = d(v)?,
            "auto-gomemlimit" => self.auto_gomemlimit = b(v)?,
            "auto-gomemlimit-ratio" => {
                self.auto_gomemlimit_ratio = v
                    .as_f64()
                    .ok_or_else(|| anyhow::anyhow!("expected a number"))?
            }
            "help" => {}
            other => tracing::warn!(key = other, "ignoring unknown --config key"),
        }
        Ok(())
    }

    /// Fails on features kubestate does not provide yet, naming the flag, instead of silently
    /// running without them. Every kube-state-metrics v2.20 flag is provided now; this stays
    /// the one place such a refusal belongs.
    ///
    /// # Errors
    /// One of those flags is set (none currently).
    pub fn check_supported(&self) -> anyhow::Result<()> {
        Ok(())
    }

    /// The Custom Resource State configuration of `--custom-resource-state-config` (wins) or
    /// `--custom-resource-state-config-file`, and the file to watch. Warnings about settings
    /// that have no effect are logged (once per process).
    ///
    /// # Errors
    /// Invalid YAML or settings (with the file, line and fix), or a file that cannot be read
    /// (a missing one only without --continue-without-custom-resource-state-config-file).
    pub fn custom_resource_config(
        &self,
    ) -> anyhow::Result<(Option<Arc<CustomConfig>>, Option<PathBuf>)> {
        if !self.custom_resource_state_config.is_empty() {
            let parsed = CustomConfig::parse(&self.custom_resource_state_config)
                .map_err(|e| anyhow::anyhow!("--custom-resource-state-config: {e}"))?;
            warn_once("--custom-resource-state-config", &parsed.warnings);
            return Ok((Some(Arc::new(parsed.config)), None));
        }
        if self.custom_resource_state_config_file.is_empty() {
            return Ok((None, None));
        }
        let path = PathBuf::from(&self.custom_resource_state_config_file);
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && self.continue_without_custom_resource_state_config_file =>
            {
                warn_once(
                    "--custom-resource-state-config-file",
                    &[format!(
                        "{} does not exist; starting without custom resource metrics and loading it when it appears",
                        path.display()
                    )],
                );
                return Ok((None, Some(path)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "--custom-resource-state-config-file {}: no such file (create it, or add --continue-without-custom-resource-state-config-file to start without it and load it when it appears)",
                path.display()
            ),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("reading --custom-resource-state-config-file {}", path.display())
                })
            }
        };
        let parsed = CustomConfig::parse(&text).map_err(|e| {
            anyhow::anyhow!(
                "--custom-resource-state-config-file {}: {e}",
                path.display()
            )
        })?;
        warn_once(&path.display().to_string(), &parsed.warnings);
        Ok((Some(Arc::new(parsed.config)), Some(path)))
    }

    /// The engine configuration these options describe.
    ///
    /// # Errors
    /// Invalid values (negative shard or limit, malformed allowlists…), with what to fix.
    pub fn engine_config(&self) -> anyhow::Result<Config> {
        if self.pod.is_empty() != self.pod_namespace.is_empty() {
            bail!("automatic sharding needs both --pod and --pod-namespace (got only one of them)");
        }
        if self.shard < 0 {
            bail!("--shard must not be negative (got {})", self.shard);
        }
        if self.total_shards < 1 || self.total_shards > i64::from(u32::MAX) {
            bail!(
                "--total-shards must be at least 1 (got {})",
                self.total_shards
            );
        }
        if self.object_limit < 0 {
            bail!(
                "--object-limit must not be negative (got {})",
                self.object_limit
            );
        }
        if !(self.auto_gomemlimit_ratio > 0.0 && self.auto_gomemlimit_ratio <= 1.0) {
            bail!(
                "--auto-gomemlimit-ratio must be in (0, 1] (got {})",
                self.auto_gomemlimit_ratio
            );
        }
        // Every occurrence of the flag must be valid; as with KSM's flag type, the last one
        // replaces the earlier ones.
        let merge = |flag: &'static str, values: &[String]| -> anyhow::Result<Allowlist> {
            let mut out = Allowlist::default();
            for v in values {
                out = Allowlist::parse(flag, v)?;
            }
            Ok(out)
        };
        let clean = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (custom_resources, custom_resources_file) = self.custom_resource_config()?;
        let config = Config {
            resources: clean(&self.resources),
            namespaces: clean(&self.namespaces),
            namespaces_denylist: clean(&self.namespaces_denylist),
            node: (!self.node.is_empty()).then(|| self.node.clone()),
            track_unscheduled_pods: self.track_unscheduled_pods,
            metric_allowlist: clean(&self.metric_allowlist),
            metric_denylist: clean(&self.metric_denylist),
            metric_opt_in_list: clean(&self.metric_opt_in_list),
            labels_allowlist: merge("--metric-labels-allowlist", &self.metric_labels_allowlist)?,
            annotations_allowlist: merge(
                "--metric-annotations-allowlist",
                &self.metric_annotations_allowlist,
            )?,
            sharding: Sharding {
                shard: self.shard as u32,
                total: self.total_shards as u32,
            },
            use_apiserver_cache: self.use_apiserver_cache,
            object_limit: self.object_limit as u64,
            protobuf: self.api_content_type != "json",
            custom_resources,
            custom_resources_file,
            custom_resources_only: self.custom_resource_state_only,
            ..Config::default()
        };
        // Validate everything now, before any port is bound.
        config.plan()?;
        Ok(config)
    }

    /// The HTTP servers' settings.
    pub fn http_settings(&self) -> kubestate_http::Settings {
        kubestate_http::Settings {
            enable_gzip: self.enable_gzip_encoding,
            read_header_timeout: self.server_read_header_timeout,
            write_timeout: self.server_write_timeout,
            idle_timeout: self.server_idle_timeout,
            ..kubestate_http::Settings::default()
        }
    }

    /// TLS, basic auth and headers from `--tls-config` (none when the flag is empty).
    ///
    /// # Errors
    /// The file is unreadable or invalid; the message names the key and the fix.
    pub fn web_security(
        &self,
    ) -> Result<kubestate_http::WebSecurity, kubestate_http::WebConfigError> {
        if self.tls_config.is_empty() {
            return Ok(kubestate_http::WebSecurity::default());
        }
        kubestate_http::WebSecurity::load(Path::new(&self.tls_config))
    }

    /// Whether `path` is the kubeconfig in use.
    pub fn uses_kubeconfig(&self, path: &Path) -> bool {
        Path::new(&self.kubeconfig) == path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ksm_command_lines_parse() {
        let o = ExporterOptions::parse_args([
            "--resources=pods,nodes",
            "--resources",
            "services",
            "--metric-labels-allowlist=pods=[app,team],nodes=[*]",
            "--enable-gzip-encoding",
            "--use-apiserver-cache=false",
            "--server-write-timeout=30s",
            "-v=2",
            "--shard=1",
            "--total-shards=3",
            "--logtostderr=true",
        ])
        .unwrap();
        assert_eq!(o.resources, vec!["pods", "nodes", "services"]);
        assert!(o.enable_gzip_encoding && !o.use_apiserver_cache);
        assert_eq!(o.server_write_timeout, Duration::from_secs(30));
        assert_eq!(o.verbosity, 2);
        let c = o.engine_config().unwrap();
        assert_eq!(c.sharding, Sharding { shard: 1, total: 3 });
        assert!(c.labels_allowlist.0.contains_key("nodes"));
    }

    #[test]
    fn defaults_match_ksm() {
        let o = ExporterOptions::defaults();
        assert_eq!(
            (o.host.as_str(), o.port, o.telemetry_port),
            ("::", 8080, 8081)
        );
        assert_eq!(o.server_idle_timeout, Duration::from_secs(300));
        assert_eq!(o.server_read_header_timeout, Duration::from_secs(5));
        assert_eq!(o.total_shards, 1);
    }

    #[test]
    fn bad_values_fail_with_what_to_fix() {
        let e = ExporterOptions::parse_args(["--resources=pods,podz"])
            .unwrap()
            .engine_config()
            .unwrap_err();
        assert!(format!("{e:#}").contains("podz"));
        let e = ExporterOptions::parse_args(["--metric-allowlist=a", "--metric-denylist=b"])
            .unwrap()
            .engine_config()
            .unwrap_err();
        assert!(format!("{e:#}").contains("mutually exclusive"));
        let e = ExporterOptions::parse_args(["--metric-labels-allowlist=pods=app"])
            .unwrap()
            .engine_config()
            .unwrap_err();
        assert!(format!("{e:#}").contains("resource=[key"), "{e:#}");
        assert!(ExporterOptions::parse_args(["--server-write-timeout=30"]).is_err());
        assert!(ExporterOptions::parse_args(["--no-such-flag"]).is_err());
        let e = ExporterOptions::parse_args(["--shard=3", "--total-shards=2"])
            .unwrap()
            .engine_config()
            .unwrap_err();
        assert!(format!("{e:#}").contains("--shard=3"));
    }

    #[test]
    fn custom_resource_state_flags() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("crs.yaml");
        std::fs::write(
            &good,
            "spec:\n  resources:\n  - groupVersionKind: {group: a.io, version: v1, kind: W}\n    metrics:\n    - name: m\n      each: {type: Gauge, gauge: {path: [spec, n]}}\n",
        )
        .unwrap();
        let file_flag = format!("--custom-resource-state-config-file={}", good.display());
        let c = ExporterOptions::parse_args([file_flag.as_str(), "--custom-resource-state-only"])
            .unwrap()
            .engine_config()
            .unwrap();
        assert_eq!(
            c.custom_resources.as_ref().map(|c| c.resources().len()),
            Some(1)
        );
        assert_eq!(c.custom_resources_file.as_deref(), Some(good.as_path()));
        assert!(c.custom_resources_only && c.plan().unwrap().is_empty());
        // Inline wins over the file, and is not watched.
        let c = ExporterOptions::parse_args([
            file_flag.as_str(),
            "--custom-resource-state-config=spec: {resources: []}",
        ])
        .unwrap()
        .engine_config()
        .unwrap();
        assert!(c.custom_resources.unwrap().is_empty() && c.custom_resources_file.is_none());
        // A bad file names the file, the line and the fix.
        let bad = dir.path().join("bad.yaml");
        std::fs::write(
            &bad,
            "spec:\n  resources:\n  - groupVersionKind: {group: a.io, version: v1, kind: W}\n    metrics:\n    - name: m\n      each:\n        type: Gage\n",
        )
        .unwrap();
        let e = ExporterOptions::parse_args([format!(
            "--custom-resource-state-config-file={}",
            bad.display()
        )])
        .unwrap()
        .engine_config()
        .unwrap_err();
        let e = format!("{e:#}");
        assert!(
            e.contains("bad.yaml") && e.contains("line 7") && e.contains("Gauge"),
            "{e}"
        );
        // A missing file fails, unless told to continue (then it is watched for).
        let missing = dir.path().join("later.yaml");
        let flag = format!("--custom-resource-state-config-file={}", missing.display());
        let e = ExporterOptions::parse_args([flag.as_str()])
            .unwrap()
            .engine_config()
            .unwrap_err();
        assert!(format!("{e:#}").contains("--continue-without-custom-resource-state-config-file"));
        let c = ExporterOptions::parse_args([
            flag.as_str(),
            "--continue-without-custom-resource-state-config-file",
        ])
        .unwrap()
        .engine_config()
        .unwrap();
        assert!(c.custom_resources.is_none());
        assert_eq!(c.custom_resources_file.as_deref(), Some(missing.as_path()));
        // The --config keys.
        let mut o = ExporterOptions::defaults();
        o.apply_config_yaml(
            "custom_resource_config: 'spec: {}'\ncustom_resources_only: true\ncustom_resource_config_file: x.yaml\ncontinue_without_custom_resource_state_config_file: true\n",
        )
        .unwrap();
        assert_eq!(o.custom_resource_state_config, "spec: {}");
        assert!(
            o.custom_resource_state_only && o.continue_without_custom_resource_state_config_file
        );
        assert_eq!(o.custom_resource_state_config_file, "x.yaml");
    }

    #[test]
    fn config_file_keys_override_flags() {
        let mut o = ExporterOptions::parse_args(["--port=1234", "--resources=pods"]).unwrap();
        o.apply_config_yaml(
            "resources: {nodes: {}, services: {}}\nport: 9999\nlabels_allow_list:\n  pods: [app]\nserver_write_timeout: 10s\nenable_gzip_encoding: true\nauto-gomemlimit-ratio: 0.5\n",
        )
        .unwrap();
        assert_eq!(o.port, 9999);
        let mut r = o.resources.clone();
        r.sort();
        assert_eq!(r, vec!["nodes", "services"]);
        assert_eq!(o.metric_labels_allowlist, vec!["pods=[app]"]);
        assert!(o.enable_gzip_encoding);
        assert_eq!(o.server_write_timeout, Duration::from_secs(10));
        let e = o.apply_config_yaml("port: eighty").unwrap_err();
        assert!(format!("{e:#}").contains("port"), "{e:#}");
        assert!(o.apply_config_yaml("port: [").is_err());
    }
}
