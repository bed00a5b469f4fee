//! Migrating from Datadog's agent checks: the instance options of `kubernetes_state_core`
//! (and of the older `kubernetes_state`) that have an equivalent here are accepted under
//! their own names; those that have none are rejected at start-up, **all at once**, each
//! with its line and what to do instead.
//!
//! | agent option | here |
//! |---|---|
//! | `label_joins`, `labels_as_tags`, `annotations_as_tags`, `labels_mapper` | the same keys, same meaning |
//! | `label_joins.<family>.label_to_match: x` (older check) | `labels_to_match: [x]` |
//! | `join_standard_tags: true` (older check) | joins of `tags.datadoghq.com/{env,service,version}` (always on with the `datadog` preset) |
//! | `tags: [k:v, …]` | `tags:`, labels added to every series |
//! | agent `cluster_name` | `cluster_name:` → `kube_cluster_name` label |
//! | `telemetry: true` | `telemetry: true` → the `kubernetes_state.telemetry.*` series |
//! | `collectors`, `namespaces`, `use_apiserver_cache` | the exporter's `--resources`, `--namespaces`, `--use-apiserver-cache` (embedded mode) |
//! | `pod_collection_mode: default \| cluster_unassigned` | all pods / `--track-unscheduled-pods` |
//! | `min_collection_interval` | `interval` |
//! | `kube_state_url` (older check) | `scrape:` |
//! | `disable_global_tags`, `resync_period`, `skip_leader_election: true` | accepted: the check adds no global tags, needs no resync, has no leader election |
//!
//! Everything else (the hostname options, `custom_resource`, the agent's sharding, the generic
//! OpenMetrics options of the older check, …) is listed in [`UNMAPPED`] with its fix.

use crate::config::{split_tag, CheckConfig, ConfigError, JoinConfig};

/// The labels `join_standard_tags` joins, and the tag each becomes.
pub const STANDARD_TAGS: &[(&str, &str)] = &[
    ("label_tags_datadoghq_com_env", "env"),
    ("label_tags_datadoghq_com_service", "service"),
    ("label_tags_datadoghq_com_version", "version"),
];

/// The kinds whose `kube_<kind>_labels` `join_standard_tags` joins from.
pub const STANDARD_TAG_KINDS: &[&str] = &[
    "pod",
    "deployment",
    "replicaset",
    "daemonset",
    "statefulset",
    "job",
    "cronjob",
];

/// Agent options with no equivalent in `kubestate check`, and what to do instead.
pub const UNMAPPED: &[(&str, &str)] = &[
    ("init_config", "write the keys of your one instance at the top level of the file; init_config has nothing the check uses"),
    ("instances", "write the keys of your one instance at the top level of the file (one kubestate check per instance)"),
    ("custom_resource", "give the same CustomResourceStateMetrics spec to the engine with -- --custom-resource-state-config-file=FILE, and name its families with renames: (the agent emits kubernetes_state_customresource.<metric>)"),
    ("cluster_aggregates_enabled", "there is one instance: it emits the .total aggregates; remove it"),
    ("precompute_series_tags", "a speed switch of the agent with no effect on the output; remove it"),
    ("shard_criteria", "shard by object with the exporter flags -- --shard=N --total-shards=M (or --pod/--pod-namespace)"),
    ("shard_count", "shard with -- --total-shards=M"),
    ("shard_id", "shard with -- --shard=N"),
    ("hostname_override", "series have no host field: the node stays in its node label; remove it"),
    ("label_to_hostname", "series have no host field; remove it"),
    ("label_to_hostname_suffix", "series have no host field; remove it"),
    ("keep_ksm_labels", "own labels are mapped once by labels_mapper; to keep a KSM name, map it to itself (labels_mapper: {namespace: namespace})"),
    ("join_kube_labels", "use labels_as_tags: {pod: {\"*\": \"%%label%%\"}, deployment: {\"*\": \"%%label%%\"}, daemonset: {\"*\": \"%%label%%\"}}"),
    ("experimental_metrics", "name the families you want with renames:"),
    ("send_monotonic_counter", "every output series is a gauge; remove it"),
    ("health_service_check", "the check serves /healthz and /readyz and counts failed scrapes in kubestate_check_run_failures_total; remove it"),
    ("ignore_metrics", "use drop: with anchored regular expressions (kube_pod_.* instead of kube_pod_*)"),
    ("exclude_labels", "leave labels out per family with transforms: {<family>: {name: …, drop_labels: […]}}"),
    ("include_labels", "leave labels out per family with transforms: {<family>: {name: …, drop_labels: […]}}"),
    ("type_overrides", "every output series is a gauge; remove it"),
    ("prometheus_timeout", "scrape mode waits max(interval, 10s); remove it"),
    ("timeout", "scrape mode waits max(interval, 10s); remove it"),
    ("bearer_token_auth", "write scrape: {urls: [...], bearer_token_file: FILE} (https scrapes send the ServiceAccount token by default)"),
    ("bearer_token_path", "write scrape: {urls: [...], bearer_token_file: FILE}"),
    ("tls_verify", "scrape mode always verifies; trust your CA with scrape: {tls: {ca_file: FILE}}"),
    ("tls_ca_cert", "write scrape: {tls: {ca_file: FILE}}"),
    ("tls_cert", "write scrape: {tls: {cert_file: FILE, key_file: FILE}}"),
    ("tls_private_key", "write scrape: {tls: {cert_file: FILE, key_file: FILE}}"),
    ("username", "write scrape: {basic_auth: {username: …, password_file: FILE}}"),
    ("password", "write scrape: {basic_auth: {username: …, password_file: FILE}}"),
    ("leader_election", "the check has no leader election: run one replica, or shard with -- --shard/--total-shards; remove it"),
];

/// Rejects the agent options that have no equivalent, naming each one with its line and fix.
/// Text that is not a YAML mapping passes: the typed parse reports it.
///
/// # Errors
/// One error listing every option to change.
pub fn reject_unmapped(text: &str, file: &str) -> Result<(), ConfigError> {
    let Ok(serde_yaml::Value::Mapping(map)) = serde_yaml::from_str::<serde_yaml::Value>(text)
    else {
        return Ok(());
    };
    let mut problems: Vec<(usize, String)> = Vec::new();
    let line_of = |key: &str| {
        text.lines()
            .position(|l| {
                l.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
            .map_or(0, |i| i + 1)
    };
    for (k, v) in &map {
        let Some(key) = k.as_str() else { continue };
        let why = if let Some((_, fix)) = UNMAPPED.iter().find(|(name, _)| *name == key) {
            Some(fix.to_string())
        } else if key == "skip_leader_election" && v.as_bool() == Some(false) {
            Some(
                "the check has no leader election (it always runs, as with true): run one \
                 replica, or shard with -- --shard/--total-shards; remove it or write true"
                    .into(),
            )
        } else if key == "pod_collection_mode" {
            match v.as_str() {
                Some("default") | Some("cluster_unassigned") => None,
                Some("node_kubelet") => Some(
                    "pods come from the API server, never from the kubelet: run a DaemonSet \
                     with -- --resources=pods --node=$(NODE_NAME) for per-node pods"
                        .into(),
                ),
                Some("cluster_aggregates_only") => Some(
                    "there is one instance: it emits everything, the .total aggregates \
                     included; remove it"
                        .into(),
                ),
                _ => Some("write default or cluster_unassigned".into()),
            }
        } else {
            None
        };
        if let Some(why) = why {
            problems.push((line_of(key), format!("{key}: {why}")));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "{} option{} of Datadog's kubernetes_state checks ha{} no equivalent in kubestate check \
         (see docs/check.md, \"Migrating from the agent check\"):",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        if problems.len() == 1 { "s" } else { "ve" },
    );
    for (line, p) in problems {
        message.push_str(&format!("\n  line {line}: {p}"));
    }
    Err(ConfigError::Invalid {
        file: file.into(),
        message,
    })
}

/// Applies the options that are other names of ours (`min_collection_interval`,
/// `kube_state_url`), and rejects combinations that contradict each other.
///
/// # Errors
/// Two settings for the same thing.
pub fn resolve<S>(config: &mut CheckConfig<S>, text: &str) -> Result<(), ConfigError> {
    let has_key = |key: &str| {
        matches!(serde_yaml::from_str::<serde_yaml::Value>(text),
            Ok(serde_yaml::Value::Mapping(m)) if m.contains_key(key))
    };
    if let Some(i) = config.min_collection_interval {
        if has_key("interval") && config.interval != i {
            return Err(ConfigError::invalid(
                "interval and min_collection_interval disagree: keep one of them",
            ));
        }
        config.interval = i;
    }
    if let Some(url) = config.kube_state_url.take() {
        if config.scrape.is_some() {
            return Err(ConfigError::invalid(
                "kube_state_url and scrape both name what to read: keep one (kube_state_url: URL \
                 is scrape: URL)",
            ));
        }
        config.scrape = Some(crate::scrape::ScrapeConfig::new(vec![url]));
    }
    Ok(())
}

/// One `label_joins` entry with the older `label_to_match: x` turned into
/// `labels_to_match: [x]`.
///
/// # Errors
/// Both forms, or neither.
pub fn join_config(family: &str, j: &JoinConfig) -> Result<JoinConfig, ConfigError> {
    let mut j = j.clone();
    match (j.label_to_match.take(), j.labels_to_match.is_empty()) {
        (Some(l), true) => j.labels_to_match = vec![l],
        (Some(_), false) => {
            return Err(ConfigError::invalid(format!(
                "label_joins.{family}: give labels_to_match or label_to_match, not both"
            )))
        }
        (None, true) => {
            return Err(ConfigError::invalid(format!(
                "label_joins.{family}: labels_to_match must name at least one label, e.g. \
                 [pod, namespace]"
            )))
        }
        (None, false) => {}
    }
    Ok(j)
}

/// A label added to every series: name and value.
pub type StaticTag = (std::sync::Arc<str>, std::sync::Arc<str>);

/// The labels added to every series: `tags` in order, then `kube_cluster_name`.
///
/// # Errors
/// A tag that is not `key:value` (also checked while reading the file).
pub fn static_tags<S>(config: &CheckConfig<S>) -> Result<Vec<StaticTag>, ConfigError> {
    let mut out = Vec::new();
    for t in &config.tags {
        let (k, v) = split_tag(t).map_err(|e| ConfigError::invalid(format!("tags: {e}")))?;
        out.push((k.into(), v.into()));
    }
    if let Some(c) = &config.cluster_name {
        out.push(("kube_cluster_name".into(), c.as_str().into()));
    }
    Ok(out)
}
