//! The check's YAML configuration: what to join, rename, aggregate and drop, how often, and
//! (through the type parameter `S`) where to send it.
//!
//! Every struct denies unknown fields, and every value that can be checked on its own is
//! checked while it is read, so a mistake is reported with its line and column
//! (`check.yaml:7:5: label_joins.kube_pod_info: labels_to_match must name at least one label`).
//! Checks that need the whole file run in [`crate::Plan::compile`] and name the key to fix.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::Deserialize;

/// Why a configuration was rejected. Messages say where and what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The YAML is malformed, has an unknown key, or a value is invalid.
    #[error("{file}:{line}:{column}: {message}")]
    At {
        /// The file (or `<inline>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A problem that involves several keys.
    #[error("{file}: {message}")]
    Invalid {
        /// The file (or `<inline>`).
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read check configuration {file}")]
    Read {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl ConfigError {
    /// An error about the configuration as a whole.
    pub fn invalid(message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: "<config>".into(),
            message: message.into(),
        }
    }

    fn in_file(self, name: &str) -> ConfigError {
        match self {
            ConfigError::Invalid { message, .. } => ConfigError::Invalid {
                file: name.into(),
                message,
            },
            other => other,
        }
    }
}

/// The whole check configuration. `S` is the type of one `sinks:` entry (defined by the
/// `kubestate-sinks` crate; the check itself never looks at it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>"))]
pub struct CheckConfig<S> {
    /// Time between two runs (`15s`, `1m`, `500ms`). Default 15 s.
    #[serde(default = "default_interval", deserialize_with = "duration")]
    pub interval: Duration,
    /// Built-in defaults to start from: `none` (pass everything through) or `datadog` (the
    /// naming, joins and aggregations of Datadog's `kubernetes_state_core`).
    #[serde(default)]
    pub preset: Preset,
    /// Label joins, keyed by source family (see docs/check.md, "Label joins").
    #[serde(default)]
    pub label_joins: BTreeMap<String, JoinConfig>,
    /// `{kind: {kubernetes_label: tag}}`, compiled into joins on `kube_<kind>_labels`.
    /// The key `"*"` takes every label, named by a template with `%%label%%`.
    #[serde(default)]
    pub labels_as_tags: BTreeMap<String, BTreeMap<String, String>>,
    /// Same for annotations, on `kube_<kind>_annotations` (`%%annotation%%`).
    #[serde(default)]
    pub annotations_as_tags: BTreeMap<String, BTreeMap<String, String>>,
    /// Label name → output key, for own and joined labels (overrides the preset's entries).
    #[serde(default)]
    pub labels_mapper: BTreeMap<String, String>,
    /// Family-name prefix → {label → key}: renames that apply only to matching families and
    /// win over `labels_mapper` (Datadog maps `phase` to `pod_phase` on `kube_pod*`).
    #[serde(default)]
    pub label_overrides: BTreeMap<String, BTreeMap<String, String>>,
    /// Family → output metric name, value passed through.
    #[serde(default)]
    pub renames: BTreeMap<String, String>,
    /// Family → transformation (filters, computed values, names from labels).
    #[serde(default)]
    pub transforms: BTreeMap<String, TransformConfig>,
    /// Families never emitted: exact names or regular expressions (anchored).
    #[serde(default, deserialize_with = "patterns")]
    pub drop: Vec<String>,
    /// Computed series: counts or sums of a family's series per group of labels.
    #[serde(default)]
    pub aggregations: Vec<AggregationConfig>,
    /// What happens to a family with no rename, transform or drop rule: `keep` it under its
    /// own name (default without a preset) or `drop` it (default of the `datadog` preset).
    #[serde(default)]
    pub unmatched: Option<Unmatched>,
    /// Turn `created_by_kind`/`created_by_name` and `owner_kind`/`owner_name` into one
    /// `kube_<kind>: <name>` label (plus `kube_deployment` from a ReplicaSet name and
    /// `kube_cronjob` from a Job name). Default: on with the `datadog` preset, off otherwise.
    #[serde(default)]
    pub owner_tags: Option<bool>,
    /// Self-metrics (`{listen: ADDR}`); `true`/`false` is the agent's `telemetry` option:
    /// also emit the `kubernetes_state.telemetry.*` series.
    #[serde(default, deserialize_with = "telemetry")]
    pub telemetry: TelemetryConfig,
    /// Static labels added to every series, written like the agent's instance `tags`
    /// (`key:value`; the key is a label name, the value anything non-empty).
    #[serde(default, deserialize_with = "static_tags")]
    pub tags: Vec<String>,
    /// Adds `kube_cluster_name: <name>` to every series (the agent takes it from its
    /// `cluster_name` setting).
    #[serde(default, deserialize_with = "non_empty")]
    pub cluster_name: Option<String>,
    /// Emit the agent's service checks (node conditions, job and cronjob completion, cronjob
    /// on schedule) as series whose value is the status (0 OK, 1 WARNING, 2 CRITICAL,
    /// 3 UNKNOWN). Default: on with the `datadog` preset, off otherwise.
    #[serde(default)]
    pub service_checks: Option<bool>,
    /// The older `kubernetes_state` check's option: join the `tags.datadoghq.com/{env,
    /// service,version}` labels of pods, deployments, replicasets, daemonsets, statefulsets,
    /// jobs and cronjobs as `env`, `service`, `version` (the `datadog` preset always does).
    #[serde(default)]
    pub join_standard_tags: bool,
    /// The agent's `collectors`: the resources to watch (embedded mode; the exporter's
    /// `--resources`).
    #[serde(default)]
    pub collectors: Vec<String>,
    /// The agent's `namespaces`: the namespaces to watch (embedded mode; `--namespaces`).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// The agent's `use_apiserver_cache` (embedded mode; `--use-apiserver-cache`).
    #[serde(default)]
    pub use_apiserver_cache: bool,
    /// The agent's `min_collection_interval` in seconds: the same as `interval`.
    #[serde(default, deserialize_with = "optional_duration")]
    pub min_collection_interval: Option<Duration>,
    /// The older check's `kube_state_url`: scrape this URL (the same as `scrape: URL`).
    #[serde(default)]
    pub kube_state_url: Option<String>,
    /// The agent's `pod_collection_mode`: `default`, or `cluster_unassigned` (only pods not
    /// scheduled to a node, the exporter's `--track-unscheduled-pods`; embedded mode).
    #[serde(default)]
    pub pod_collection_mode: Option<PodCollectionMode>,
    /// The agent's `disable_global_tags`: accepted either way, the check adds no global
    /// tags (it does not read `DD_TAGS`).
    #[serde(default)]
    pub disable_global_tags: Option<bool>,
    /// The agent's `resync_period`: accepted and unused (the watches need no resync; the
    /// agent's resync does nothing either).
    #[serde(default)]
    pub resync_period: Option<u64>,
    /// The agent's `skip_leader_election`: `true` is what the check does (it has no leader
    /// election); `false` is rejected, see [`crate::compat`].
    #[serde(default)]
    pub skip_leader_election: Option<bool>,
    /// Read these KSM-compatible `/metrics` URLs (a URL, or `urls:` with TLS and
    /// authentication) instead of watching the API server.
    #[serde(default)]
    pub scrape: Option<crate::scrape::ScrapeConfig>,
    /// Where each run's series go; several at once.
    #[serde(default)]
    pub sinks: Vec<S>,
}

fn default_interval() -> Duration {
    Duration::from_secs(15)
}

impl<S: DeserializeOwned> CheckConfig<S> {
    /// Parses a configuration; `file` names it in error messages.
    ///
    /// # Errors
    /// Malformed YAML, unknown keys, invalid values (with line and column).
    pub fn from_yaml(text: &str, file: &str) -> Result<CheckConfig<S>, ConfigError> {
        // An empty file is an empty mapping: every key has a default.
        let text = if text.trim().is_empty() { "{}" } else { text };
        crate::compat::reject_unmapped(text, file)?;
        let mut config: CheckConfig<S> =
            serde_yaml::from_str(text).map_err(|e| yaml_error(&e, file, text))?;
        crate::compat::resolve(&mut config, text).map_err(|e| e.in_file(file))?;
        Ok(config)
    }

    /// Reads and parses a configuration file.
    ///
    /// # Errors
    /// An unreadable file, or see [`CheckConfig::from_yaml`].
    pub fn from_file(path: &Path) -> Result<CheckConfig<S>, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        let config = Self::from_yaml(&text, &file)?;
        crate::Plan::compile(&config, &kubestate_store::structured::Symbols::new())
            .map_err(|e| e.in_file(&file))?;
        Ok(config)
    }
}

/// The first `"…"` of a message (our messages quote the offending value with `{:?}`).
fn quoted(message: &str) -> Option<&str> {
    let start = message.find('"')? + 1;
    let len = message[start..].find('"')?;
    (len > 0).then(|| &message[start..start + len])
}

/// Line and column (1-based) of the first occurrence of `needle` at or after `line`.
fn find_after(text: &str, line: usize, needle: &str) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .skip(line.saturating_sub(1))
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, l[..c].chars().count() + 1)))
}

fn yaml_error(e: &serde_yaml::Error, file: &str, text: &str) -> ConfigError {
    let mut message = e.to_string();
    match e.location() {
        Some(loc) => {
            // serde_yaml appends " at line L column C"; we print the position up front.
            if let Some(i) = message.rfind(" at line ") {
                message.truncate(i);
            }
            // For a value rejected by our own checks serde_yaml points at the enclosing
            // mapping; when the message quotes the bad value, point at the value itself.
            let (line, column) = quoted(&message)
                .and_then(|q| find_after(text, loc.line(), q))
                .unwrap_or((loc.line(), loc.column()));
            ConfigError::At {
                file: file.into(),
                line,
                column,
                message,
            }
        }
        None => ConfigError::Invalid {
            file: file.into(),
            message,
        },
    }
}

/// The built-in starting points.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Nothing built in: every family passes through with its own name.
    #[default]
    None,
    /// Datadog's `kubernetes_state_core` naming (check-semantics.md §5, §6).
    Datadog,
}

/// The agent's `pod_collection_mode` values that have an equivalent here.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PodCollectionMode {
    /// Pods from the API server (the default).
    Default,
    /// Only pods not yet scheduled to a node (`--track-unscheduled-pods`).
    ClusterUnassigned,
}

/// What to do with a family that no rule names.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unmatched {
    /// Emit it under its own name.
    Keep,
    /// Emit nothing (counted as unknown).
    Drop,
}

/// One label join: take labels from the value-1 series of a source family and add them to
/// every series that carries the same values for `labels_to_match`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct JoinConfig {
    /// Labels whose values must be equal, in order (e.g. `[pod, namespace]`).
    #[serde(default, deserialize_with = "non_empty_labels")]
    pub labels_to_match: Vec<String>,
    /// The older check's single-label form: `label_to_match: pod` is
    /// `labels_to_match: [pod]`. Give one of the two.
    #[serde(default, deserialize_with = "optional_label")]
    pub label_to_match: Option<String>,
    /// Labels to copy; `"*"` copies every label (like `get_all_labels`).
    #[serde(default, deserialize_with = "labels")]
    pub labels_to_get: Vec<String>,
    /// Copy every label of the source series except the match labels, empty values included.
    #[serde(default)]
    pub get_all_labels: bool,
}

/// How a family's series are turned into output series.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TransformConfig {
    /// Output name; `{label}` is replaced by that label's value (after `map_values`), and the
    /// label is then not emitted (`kubernetes_state.node.{resource}_capacity`).
    #[serde(deserialize_with = "template")]
    pub name: String,
    /// How the value is computed.
    #[serde(default)]
    pub value: ValueOp,
    /// Emit only series with exactly this value (and emit them as 1).
    #[serde(default)]
    pub only_value: Option<f64>,
    /// Emit only series whose label has one of the listed values (compared in lower case).
    #[serde(default)]
    pub only_labels: BTreeMap<String, Vec<String>>,
    /// Per label, value replacements applied before templating and output.
    #[serde(default)]
    pub map_values: BTreeMap<String, BTreeMap<String, String>>,
    /// Labels not to emit.
    #[serde(default, deserialize_with = "labels")]
    pub drop_labels: Vec<String>,
    /// Turn the value into a label: `{label: status, values: {"0": schedulable, "1":
    /// unschedulable}}`; the series is then emitted with value 1.
    #[serde(default)]
    pub value_as_label: Option<ValueAsLabel>,
}

/// See [`TransformConfig::value_as_label`].
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ValueAsLabel {
    /// The label to add.
    pub label: String,
    /// Value (as written by the exporter: `0`, `1`, `2.5`) → label value; others are dropped.
    pub values: BTreeMap<String, String>,
}

/// How an output value is computed from the series value.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ValueOp {
    /// Unchanged.
    #[default]
    Value,
    /// Seconds since the value (a Unix timestamp): `now - value`.
    Age,
}

/// A computed series: series of `from` counted (or their values summed) per group.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AggregationConfig {
    /// Output name; may use `{label}` of a `by` label.
    #[serde(deserialize_with = "template")]
    pub name: String,
    /// Source family.
    pub from: String,
    /// `count` series or `sum` values.
    pub kind: AggregationKind,
    /// Group labels (at most 4); a label the series lacks is looked up among its joined
    /// labels, so `[namespace, phase]` works on `kube_pod_info` with the phase join.
    #[serde(default, deserialize_with = "group_labels")]
    pub by: Vec<String>,
    /// Only series with exactly this value.
    #[serde(default)]
    pub only_value: Option<f64>,
    /// Only series whose label has one of the listed values (lower case).
    #[serde(default)]
    pub only_labels: BTreeMap<String, Vec<String>>,
    /// Per label, value replacements applied to group values.
    #[serde(default)]
    pub map_values: BTreeMap<String, BTreeMap<String, String>>,
}

/// See [`AggregationConfig::kind`].
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AggregationKind {
    /// Number of series per group.
    Count,
    /// Sum of values per group.
    Sum,
}

/// Self-metrics settings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Serve the check's self-metrics at `http://<listen>/metrics` (e.g. `127.0.0.1:8090`).
    #[serde(default)]
    pub listen: Option<std::net::SocketAddr>,
    /// Emit `kubernetes_state.telemetry.metrics.count.total`,
    /// `kubernetes_state.telemetry.unknown_metrics.count` and
    /// `kubernetes_state.telemetry.metrics.count{resource_name}` every run, as the agent does
    /// with `telemetry: true` (which sets this).
    #[serde(default)]
    pub series: bool,
}

/// Parses `15s`, `1m30s`, `500ms`, `2h` (Go's syntax) or a plain number of seconds.
///
/// # Errors
/// A message naming the input and how to write a duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    kubestate_gotime::parse_std_duration(s, kubestate_gotime::BareNumber::Seconds)
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration like 15s, 500ms or 1m")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse_duration(v).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
            parse_duration(&v.to_string()).map_err(E::custom)
        }
    }
    let d = d.deserialize_any(V)?;
    if d.is_zero() {
        return Err(de::Error::custom("a duration must be greater than zero"));
    }
    Ok(d)
}

/// Deserializes a duration field written like `15s` (for other crates' configs).
///
/// # Errors
/// A value that is not a positive duration.
pub fn deserialize_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    duration(d)
}

fn is_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn labels<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v: Vec<String> = Vec::deserialize(d)?;
    if let Some(bad) = v.iter().find(|l| *l != "*" && !is_label_name(l)) {
        return Err(de::Error::custom(format!(
            "{bad:?} is not a label name (letters, digits and _ only, not starting with a digit)"
        )));
    }
    Ok(v)
}

fn optional_label<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let l = String::deserialize(d)?;
    if !is_label_name(&l) {
        return Err(de::Error::custom(format!(
            "{l:?} is not a label name (letters, digits and _ only, not starting with a digit)"
        )));
    }
    Ok(Some(l))
}

fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Err(de::Error::custom("must not be empty"));
    }
    Ok(Some(s))
}

/// Splits a Datadog tag `key:value` at its first `:`.
pub(crate) fn split_tag(tag: &str) -> Result<(&str, &str), String> {
    match tag.split_once(':') {
        Some((k, v)) if is_label_name(k) && !v.is_empty() => Ok((k, v)),
        Some((k, v)) if !v.is_empty() => {
            let mut fixed = String::new();
            kubestate_metric::snake_case_name(&mut fixed, k);
            Err(format!(
                "tag {tag:?}: {k:?} is not a label name (letters, digits and _ only, not \
                 starting with a digit); write {fixed}:{v}"
            ))
        }
        _ => Err(format!(
            "tag {tag:?} has no value: write key:value (a series label needs a name and a value)"
        )),
    }
}

fn static_tags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v: Vec<String> = Vec::deserialize(d)?;
    for t in &v {
        split_tag(t).map_err(de::Error::custom)?;
    }
    Ok(v)
}

fn optional_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    duration(d).map(Some)
}

fn telemetry<'de, D: Deserializer<'de>>(d: D) -> Result<TelemetryConfig, D::Error> {
    struct V;
    impl<'de> de::Visitor<'de> for V {
        type Value = TelemetryConfig;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("true, false, or a mapping like {listen: 127.0.0.1:8090}")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<TelemetryConfig, E> {
            Ok(TelemetryConfig {
                listen: None,
                series: v,
            })
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<TelemetryConfig, A::Error> {
            TelemetryConfig::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_any(V)
}

fn non_empty_labels<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = labels(d)?;
    if v.is_empty() {
        return Err(de::Error::custom(
            "labels_to_match must name at least one label, e.g. [pod, namespace]",
        ));
    }
    if v.iter().any(|l| l == "*") {
        return Err(de::Error::custom(
            "labels_to_match cannot contain \"*\": name the labels to compare",
        ));
    }
    Ok(v)
}

fn group_labels<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = labels(d)?;
    if v.len() > 4 {
        return Err(de::Error::custom(format!(
            "by has {} labels; an aggregation groups by at most 4",
            v.len()
        )));
    }
    if v.iter().any(|l| l == "*") {
        return Err(de::Error::custom("by cannot contain \"*\""));
    }
    Ok(v)
}

fn template<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Err(de::Error::custom("name must not be empty"));
    }
    let mut rest = s.as_str();
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| de::Error::custom(format!("{s:?} has a '{{' without a closing '}}'")))?;
        let label = &rest[open + 1..open + close];
        if !is_label_name(label) {
            return Err(de::Error::custom(format!(
                "{s:?}: {{{label}}} is not a label name; write {{resource}} to insert a label's value"
            )));
        }
        rest = &rest[open + close + 1..];
    }
    if rest.contains('}') {
        return Err(de::Error::custom(format!(
            "{s:?} has a '}}' without a '{{'"
        )));
    }
    Ok(s)
}

fn patterns<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v: Vec<String> = Vec::deserialize(d)?;
    for p in &v {
        regex::Regex::new(&format!("^(?:{p})$"))
            .map_err(|e| de::Error::custom(format!("drop pattern {p:?} is not a regex: {e}")))?;
    }
    Ok(v)
}

/// Parses the `{label}` placeholders of a name template: literal parts and label names.
pub(crate) fn template_parts(s: &str) -> Vec<TemplatePart> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if open > 0 {
            out.push(TemplatePart::Lit(rest[..open].to_string()));
        }
        out.push(TemplatePart::Label(
            rest[open + 1..open + close].to_string(),
        ));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(TemplatePart::Lit(rest.to_string()));
    }
    out
}

/// A piece of a name template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TemplatePart {
    Lit(String),
    Label(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    type Config = CheckConfig<serde_yaml::Value>;

    fn err(yaml: &str) -> String {
        match Config::from_yaml(yaml, "check.yaml") {
            Ok(_) => panic!("should be rejected:\n{yaml}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_of_an_empty_file() {
        let c = Config::from_yaml("", "x").unwrap();
        assert_eq!(c.interval, Duration::from_secs(15));
        assert_eq!(c.preset, Preset::None);
        assert!(c.label_joins.is_empty() && c.sinks.is_empty());
    }

    #[test]
    fn reads_a_full_example() {
        let c = Config::from_yaml(
            r#"
interval: 30s
preset: datadog
label_joins:
  kube_deployment_labels:
    labels_to_match: [deployment, namespace]
    labels_to_get: [label_team]
labels_as_tags:
  pod: {app: app, "*": "pod_%%label%%"}
renames: {kube_pod_info: pods.info}
transforms:
  kube_pod_created: {name: pod.age, value: age}
drop: ["kube_.*_generation"]
aggregations:
  - {name: kubernetes_state.pod.count, from: kube_pod_info, kind: count, by: [namespace, phase]}
unmatched: keep
sinks: [{type: stdout}]
"#,
            "x",
        )
        .unwrap();
        assert_eq!(c.interval, Duration::from_secs(30));
        assert_eq!(c.preset, Preset::Datadog);
        assert_eq!(
            c.label_joins["kube_deployment_labels"].labels_to_match,
            ["deployment", "namespace"]
        );
        assert_eq!(c.transforms["kube_pod_created"].value, ValueOp::Age);
        assert_eq!(c.aggregations[0].by, ["namespace", "phase"]);
        assert_eq!(c.sinks.len(), 1);
    }

    #[test]
    fn unknown_keys_name_the_line_and_the_expected_keys() {
        let e = err("interval: 15s\nlabel_joins:\n  kube_pod_info:\n    labels_to_mtch: [pod]\n");
        assert!(e.starts_with("check.yaml:4:5: "), "{e}");
        assert!(e.contains("unknown field `labels_to_mtch`"), "{e}");
        assert!(e.contains("labels_to_match"), "{e}");
        let e = err("intervall: 15s\n");
        assert!(e.starts_with("check.yaml:1:1: "), "{e}");
    }

    #[test]
    fn invalid_values_name_the_line_and_the_fix() {
        let e = err("interval: 15 seconds\n");
        assert!(e.starts_with("check.yaml:1:"), "{e}");
        assert!(e.contains("like 15s"), "{e}");
        let e = err("label_joins:\n  kube_pod_info:\n    labels_to_match: []\n");
        assert!(e.starts_with("check.yaml:3:"), "{e}");
        assert!(e.contains("at least one label"), "{e}");
        let e = err("preset: prometheus\n");
        assert!(e.starts_with("check.yaml:1:9: "), "{e}");
        assert!(e.contains("datadog"), "{e}");
        let e = err("aggregations:\n  - {name: x, from: y, kind: count, by: [a, b, c, d, e]}\n");
        assert!(e.starts_with("check.yaml:2:"), "{e}");
        assert!(e.contains("at most 4"), "{e}");
        let e = err("transforms:\n  kube_x:\n    name: \"a.{res ource}\"\n");
        assert!(e.starts_with("check.yaml:3:"), "{e}");
        let e = err("drop: [\"(\"]\n");
        assert!(e.contains("not a regex"), "{e}");
        let e = err("label_joins:\n  kube_pod_info:\n    labels_to_match: [pod]\n    labels_to_get: [\"a-b\"]\n");
        assert!(e.starts_with("check.yaml:4:22: "), "{e}");
        let e = err("interval: [1\n");
        assert!(e.starts_with("check.yaml:"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("").is_err());
        assert!(err("interval: 0s\n").contains("greater than zero"));
    }

    #[test]
    fn templates_split_into_parts() {
        assert_eq!(
            template_parts("a.{resource}_x"),
            vec![
                TemplatePart::Lit("a.".into()),
                TemplatePart::Label("resource".into()),
                TemplatePart::Lit("_x".into())
            ]
        );
    }
}
