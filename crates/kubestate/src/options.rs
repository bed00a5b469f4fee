//! KSM's command-line flags and `--config` file, with KSM's names and defaults
//! (ksm-behaviour.md §2, §3), turned into the engine's and servers' settings.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use kubestate_customstate::CustomConfig;
use kubestate_engine::Config;
use kubestate_families::Allowlist;

use crate::flags::{Bool, Float, GoDuration, Int, KeyAllowlist, List, Set, Text};

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

/// Trimmed, non-empty entries of a list flag.
fn clean(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Checks every occurrence of an allowlist flag (each must be valid, as with KSM's flag type).
fn check_allowlist(flag: &'static str, values: &[String]) -> Result<(), String> {
    for v in values {
        Allowlist::parse(flag, v).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The allowlist a repeated flag leaves: the last occurrence replaces the earlier ones.
fn last_allowlist(flag: &'static str, values: &[String]) -> Allowlist {
    values
        .last()
        .and_then(|v| Allowlist::parse(flag, v).ok())
        .unwrap_or_default()
}

fn non_negative<T: PartialOrd + Default + std::fmt::Display>(v: &T) -> Result<(), String> {
    if *v < T::default() {
        return Err(format!("must not be negative (got {v})"));
    }
    Ok(())
}

fn one_of(allowed: &'static [&'static str]) -> impl Fn(&String) -> Result<(), String> {
    move |v| {
        if allowed.contains(&v.as_str()) {
            Ok(())
        } else {
            Err(format!("{v:?} is not one of {}", allowed.join(", ")))
        }
    }
}

/// klog's severities, by name (any case) or number; empty means "not set".
fn severity(v: &String) -> Result<(), String> {
    if v.is_empty() || crate::logging::parse_severity(v).is_some() {
        Ok(())
    } else {
        Err(format!(
            "{v:?} is not a severity (INFO, WARNING, ERROR, FATAL or 0-3)"
        ))
    }
}

crate::flags! {
    /// The exporter's flags: every flag of kube-state-metrics v2.20 (klog's included), so a KSM
    /// command line runs unchanged, plus kubestate's own (`--api-content-type`,
    /// `--log-format`, `--explorer`). Each is declared once, in this table: its field, flag,
    /// `--config` keys, default, check and engine mapping (see [`mod@crate::flags`]).
    pub struct ExporterOptions {
        /// URL of the Kubernetes API server; overrides the kubeconfig's server.
        apiserver: String = String::new() => flag("apiserver"), Text, key("apiserver");
        /// Path to a kubeconfig file; empty means in-cluster configuration (or $KUBECONFIG).
        kubeconfig: String = String::new() => flag("kubeconfig"), Text, key("kubeconfig");
        /// Address the metrics server listens on: an IP address or a host name (resolved at
        /// startup; the first address, IPv4 first, as Go does).
        host: String = "::".into() => flag("host"), Text, key("host");
        /// Port the metrics server listens on.
        port: u16 = 8080 => flag("port"), Int, key("port");
        /// Address the self-metrics server listens on (an IP address or a host name).
        telemetry_host: String = "::".into() => flag("telemetry-host"), Text, key("telemetry_host");
        /// Port the self-metrics server listens on.
        telemetry_port: u16 = 8081 => flag("telemetry-port"), Int, key("telemetry_port");
        /// Path to a Prometheus exporter-toolkit web configuration (TLS, basic auth) for both
        /// servers; checked at startup.
        tls_config: String = String::new() => flag("tls-config"), Text, key("tls_config");
        /// Require a bearer token validated by the API server on /metrics.
        auth_filter: bool = false => flag("auth-filter"), Bool, key("auth_filter");
        /// Serve the live explorer on the main port (`/`, `/explorer/`, `/api/v1/explorer/`).
        explorer: bool = true => flag("explorer"), Bool;
        /// Comma-separated resources to expose (default: KSM's default set).
        resources: Vec<String> = Vec::new() => flag("resources"), Set, key("resources"),
            engine = |v, c| c.resources = clean(v);
        /// Comma-separated namespaces to watch (default: all).
        namespaces: Vec<String> = Vec::new() => flag("namespaces"), List, key("namespaces"),
            engine = |v, c| c.namespaces = clean(v);
        /// Comma-separated namespaces to leave out.
        namespaces_denylist: Vec<String> = Vec::new() =>
            flag("namespaces-denylist"), List, key("namespaces_denylist"),
            engine = |v, c| c.namespaces_denylist = clean(v);
        /// Comma-separated regular expressions of families to keep (unanchored).
        metric_allowlist: Vec<String> = Vec::new() =>
            flag("metric-allowlist"), Set, key("metric_allowlist"),
            engine = |v, c| c.metric_allowlist = clean(v);
        /// Comma-separated regular expressions of families to drop (unanchored).
        metric_denylist: Vec<String> = Vec::new() =>
            flag("metric-denylist"), Set, key("metric_denylist"),
            engine = |v, c| c.metric_denylist = clean(v);
        /// Comma-separated regular expressions of opt-in families to enable.
        metric_opt_in_list: Vec<String> = Vec::new() =>
            flag("metric-opt-in-list"), Set, key("metric_opt_in_list"),
            engine = |v, c| c.metric_opt_in_list = clean(v);
        /// Kubernetes labels to expose per resource: `pods=[app,team],nodes=[*],*=[*]`.
        metric_labels_allowlist: Vec<String> = Vec::new() =>
            flag("metric-labels-allowlist"), KeyAllowlist, key("labels_allow_list"),
            check = |v| check_allowlist("--metric-labels-allowlist", v),
            engine = |v, c| c.labels_allowlist = last_allowlist("--metric-labels-allowlist", v);
        /// Kubernetes annotations to expose per resource, same syntax.
        metric_annotations_allowlist: Vec<String> = Vec::new() =>
            flag("metric-annotations-allowlist"), KeyAllowlist, key("annotations_allow_list"),
            check = |v| check_allowlist("--metric-annotations-allowlist", v),
            engine = |v, c| {
                c.annotations_allowlist = last_allowlist("--metric-annotations-allowlist", v)
            };
        /// This instance's shard index (0-based).
        shard: i32 = 0 => flag("shard"), Int, key("shard"),
            check = non_negative,
            engine = |v, c| c.sharding.shard = u32::try_from(*v).unwrap_or_default();
        /// Number of shards; 1 disables sharding.
        total_shards: i64 = 1 => flag("total-shards"), Int, key("total_shards"),
            check = |v| {
                if (1..=i64::from(u32::MAX)).contains(v) {
                    Ok(())
                } else {
                    Err(format!("must be at least 1 (got {v})"))
                }
            },
            engine = |v, c| c.sharding.total = u32::try_from(*v).unwrap_or(1);
        /// Pod name for automatic sharding from the owning StatefulSet (with --pod-namespace).
        pod: String = String::new() => flag("pod"), Text, key("pod");
        /// Namespace of --pod.
        pod_namespace: String = String::new() => flag("pod-namespace"), Text, key("namespace");
        /// Only export pods on this node (DaemonSet sharding).
        node: String = String::new() => flag("node"), Text, key("node"),
            engine = |v, c| c.node = (!v.is_empty()).then(|| v.clone());
        /// Only export pods not scheduled to a node.
        track_unscheduled_pods: bool = false =>
            flag("track-unscheduled-pods"), Bool, key("track_unscheduled_pods"),
            engine = |v, c| c.track_unscheduled_pods = *v;
        /// List from the API server's watch cache (resourceVersion=0).
        use_apiserver_cache: bool = false =>
            flag("use-apiserver-cache"), Bool, key("use_api_server_cache"),
            engine = |v, c| c.use_apiserver_cache = *v;
        /// List at most this many objects per resource (0: no limit).
        object_limit: i64 = 0 => flag("object-limit"), Int, key("object_limit"),
            check = non_negative,
            engine = |v, c| c.object_limit = u64::try_from(*v).unwrap_or_default();
        /// Encoding asked of the API server for built-in kinds: `protobuf` (as KSM does; JSON
        /// is accepted when the server answers it) or `json`. Custom resources are always JSON.
        api_content_type: String = "protobuf".into() => flag("api-content-type"), Text,
            check = one_of(&["protobuf", "json"]),
            engine = |v, c| c.protobuf = v != "json";
        /// Inline custom-resource-state configuration (YAML).
        custom_resource_state_config: String = String::new() =>
            flag("custom-resource-state-config"), Text, key("custom_resource_config");
        /// Path to a custom-resource-state configuration file.
        custom_resource_state_config_file: String = String::new() =>
            flag("custom-resource-state-config-file"),
            Text, key("custom_resource_state_config_file", "custom_resource_config_file");
        /// Keep running when the custom-resource-state file is missing.
        continue_without_custom_resource_state_config_file: bool = false =>
            flag("continue-without-custom-resource-state-config-file"),
            Bool, key("continue_without_custom_resource_state_config_file");
        /// Expose only custom resources.
        custom_resource_state_only: bool = false =>
            flag("custom-resource-state-only"), Bool, key("custom_resources_only"),
            engine = |v, c| c.custom_resources_only = *v;
        /// Path to an options file (YAML, KSM's keys); its values override flags.
        config: String = String::new() => flag("config"), Text;
        /// Keep running when --config cannot be read.
        continue_without_config: bool = false =>
            flag("continue-without-config"), Bool, key("continue_without_config");
        /// Gzip /metrics for clients that accept it.
        enable_gzip_encoding: bool = false =>
            flag("enable-gzip-encoding"), Bool, key("enable_gzip_encoding");
        /// Maximum time to read a request.
        server_read_timeout: Duration = Duration::from_secs(60) =>
            flag("server-read-timeout"), GoDuration, key("server_read_timeout");
        /// Maximum time to write a response; a longer scrape is cut.
        server_write_timeout: Duration = Duration::from_secs(60) =>
            flag("server-write-timeout"), GoDuration, key("server_write_timeout");
        /// Keep-alive idle timeout.
        server_idle_timeout: Duration = Duration::from_secs(300) =>
            flag("server-idle-timeout"), GoDuration, key("server_idle_timeout");
        /// Maximum time to read request headers.
        server_read_header_timeout: Duration = Duration::from_secs(5) =>
            flag("server-read-header-timeout"), GoDuration, key("server_read_header_timeout");
        /// Go runtime only: no effect in kubestate (a warning says so when set).
        auto_gomemlimit: bool = false =>
            flag("auto-gomemlimit"), Bool, key("auto-gomemlimit");
        /// Go runtime only: no effect in kubestate (checked as KSM does: 0 < ratio <= 1).
        auto_gomemlimit_ratio: f64 = 0.9 =>
            flag("auto-gomemlimit-ratio"), Float, key("auto-gomemlimit-ratio"),
            check = |v| {
                if *v > 0.0 && *v <= 1.0 {
                    Ok(())
                } else {
                    Err(format!("must be in (0, 1] (got {v})"))
                }
            };
        /// Log verbosity (klog's -v): 0-1 info; 2-3 kubestate's debug logs; 4-5 kubestate's
        /// trace logs; 6-7 also the HTTP/Kubernetes client libraries' debug logs; 8+ everything.
        /// RUST_LOG (tracing's filter syntax) replaces this mapping when set.
        verbosity: u8 = 0 => flag("v", short = 'v'), Int;
        /// Log format: `text` or `json`. Text carries colours only when written to a terminal.
        log_format: String = "text".into() => flag("log-format"), Text,
            check = one_of(&["text", "json"]);
        /// klog: log to standard error instead of files (set false with --log_file or
        /// --log_dir to log to the file only).
        logtostderr: bool = true => flag("logtostderr"), Bool;
        /// klog: with --logtostderr=false, also log to standard error.
        alsologtostderr: bool = false => flag("alsologtostderr"), Bool;
        /// klog: with --alsologtostderr, the lowest severity copied to standard error
        /// (default INFO).
        alsologtostderrthreshold: String = String::new() =>
            flag("alsologtostderrthreshold"), Text, check = severity;
        /// klog: when true, --stderrthreshold is ignored while --logtostderr=true.
        legacy_stderr_threshold_behavior: bool = false =>
            flag("legacy_stderr_threshold_behavior"), Bool;
        /// klog: the lowest severity written to standard error (default INFO while logging to
        /// standard error as KSM sets it; ERROR with --logtostderr=false and a log file).
        stderrthreshold: String = String::new() => flag("stderrthreshold"), Text,
            check = severity;
        /// klog: write logs to this file (standard error too unless --logtostderr=false).
        log_file: String = String::new() => flag("log_file"), Text;
        /// klog: write logs to kubestate.log in this directory (when --log_file is not given).
        log_dir: String = String::new() => flag("log_dir"), Text;
        /// klog: the log file is rotated (to NAME.1) when it reaches this many megabytes;
        /// 0 means no limit.
        log_file_max_size: u64 = 1800 => flag("log_file_max_size"), Int;
        /// klog: leave out the header (time, level, target) of each log line.
        skip_headers: bool = false => flag("skip_headers"), Bool;
        /// klog: add the source file and line to each log line.
        add_dir_header: bool = false => flag("add_dir_header"), Bool;
        /// klog: no effect in kubestate, which writes no log-file headers (warned when set).
        skip_log_headers: bool = false => flag("skip_log_headers"), Bool;
        /// klog: no effect in kubestate, which writes one log file (warned when set).
        one_output: bool = false => flag("one_output"), Bool;
        /// klog: no effect in kubestate, which has no Go stack traces (warned when set).
        log_backtrace_at: String = ":0".into() => flag("log_backtrace_at"), Text;
        /// klog: no effect in kubestate; use RUST_LOG for per-module levels (warned when set).
        vmodule: String = String::new() => flag("vmodule"), Text;
    }
}

impl ExporterOptions {
    /// Options with every default, as if no flag were given.
    pub fn defaults() -> ExporterOptions {
        ExporterOptions::default()
    }

    /// Parses a KSM argument list (without the program name).
    ///
    /// # Errors
    /// An unknown flag or a bad value.
    pub fn parse_args<I: IntoIterator<Item = S>, S: Into<std::ffi::OsString> + Clone>(
        args: I,
    ) -> Result<ExporterOptions, clap::Error> {
        #[derive(clap::Parser)]
        #[command(args_override_self = true)]
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

    /// Applies the keys of a `--config` document: KSM's keys, as the table declares them.
    ///
    /// # Errors
    /// Invalid YAML or a value of the wrong type, naming the key and what was expected.
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
            // KSM's options struct has a `help` key; it means nothing in a file.
            if key == "help" {
                continue;
            }
            match self.set_key(&key, &v) {
                Ok(true) => {}
                Ok(false) => tracing::warn!(key = %key, "ignoring unknown --config key"),
                Err(e) => bail!("key {key:?}: {e}"),
            }
        }
        Ok(())
    }

    /// The `--config` keys the table declares (KSM's, aliases included), plus `help`.
    pub fn config_keys() -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = ExporterOptions::FLAGS
            .iter()
            .flat_map(|f| f.keys.iter().copied())
            .collect();
        keys.push("help");
        keys
    }

    /// The per-flag checks of the table, on the current values (they also run while parsing
    /// the command line and `--config`; this catches values set by code).
    ///
    /// # Errors
    /// The first flag whose value is invalid, named, with what to fix.
    pub fn check_supported(&self) -> anyhow::Result<()> {
        self.check_each().map_err(anyhow::Error::msg)
    }

    /// Everything that can be checked before the API server is contacted, in one place: each
    /// flag's own check, the checks across flags (`--pod` with `--pod-namespace`, shards,
    /// resources, allowlists: the engine's plan), the custom-resource-state configuration,
    /// the listen addresses (host names resolved), the `--tls-config` file and its
    /// certificates, and the log options.
    ///
    /// # Errors
    /// The first problem, naming the flag (or file) and what to fix.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.engine_config()?;
        crate::exporter::listen_addr("--host", &self.host, self.port)?;
        crate::exporter::listen_addr(
            "--telemetry-host",
            &self.telemetry_host,
            self.telemetry_port,
        )?;
        // Its errors name `--tls-config`, the file and the key or certificate at fault, and
        // already include their cause: keep them one message, not a chain that repeats it.
        self.web_security()
            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
        crate::logging::LogSettings::from_options(self).map_err(anyhow::Error::msg)?;
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

    /// The engine configuration these options describe: each flag's `engine` mapping from
    /// the table, then the custom-resource-state configuration, validated by the engine's
    /// plan.
    ///
    /// # Errors
    /// Invalid values (negative shard or limit, malformed allowlists…), with what to fix.
    pub fn engine_config(&self) -> anyhow::Result<Config> {
        self.check_supported()?;
        if self.pod.is_empty() != self.pod_namespace.is_empty() {
            bail!("automatic sharding needs both --pod and --pod-namespace (got only one of them)");
        }
        let mut config = Config::default();
        self.map_to_engine(&mut config);
        (config.custom_resources, config.custom_resources_file) = self.custom_resource_config()?;
        // Validate everything now, before any port is bound.
        config.plan()?;
        Ok(config)
    }

    /// The HTTP servers' settings.
    pub fn http_settings(&self) -> kubestate_http::Settings {
        kubestate_http::Settings {
            enable_gzip: self.enable_gzip_encoding,
            read_header_timeout: self.server_read_header_timeout,
            read_timeout: self.server_read_timeout,
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
    use kubestate_engine::Sharding;

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
    fn repeated_flags_behave_like_ksm() {
        // The image's entrypoint passes --port and --telemetry-port, and a chart may pass them
        // again: the last one wins, as with pflag. List flags accumulate.
        let o = ExporterOptions::parse_args([
            "--port=8080",
            "--telemetry-port=8081",
            "--port=9090",
            "--resources=pods",
            "--resources=nodes,services",
            "--auth-filter",
            "--auth-filter=false",
        ])
        .unwrap();
        assert_eq!((o.port, o.telemetry_port), (9090, 8081));
        assert_eq!(o.resources, vec!["pods", "nodes", "services"]);
        assert!(!o.auth_filter);
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
