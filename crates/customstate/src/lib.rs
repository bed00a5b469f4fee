//! Custom Resource State: metric families for custom resources, described by a YAML
//! configuration instead of a family table (KSM's `--custom-resource-state-config`,
//! ksm-behaviour.md §8).
//!
//! Place in the data flow: beside `kubestate-families` (whose [`Generator`] seam it
//! implements), before the store. The engine watches CRDs and the configuration file; this
//! crate only reads configurations and objects.
//!
//! Pure, like the kind tables: [`CustomConfig::parse`] reads and validates the YAML
//! (reporting keys KSM would silently ignore as warnings); for each custom resource the
//! engine discovers, [`CustomGenerator::new`] compiles a configured resource against the
//! resolved group/version/kind into a [`Generator`] that turns the resource's JSON objects
//! into samples.
//!
//! # Example
//!
//! ```
//! use kubestate_customstate::{CustomConfig, CustomGenerator, ResolvedResource};
//! use kubestate_families::{FamilyFilter, Generator};
//! use kubestate_metric::ObjectMetrics;
//!
//! let parsed = CustomConfig::parse(r#"
//! spec:
//!   resources:
//!   - groupVersionKind: {group: example.com, version: v1, kind: Widget}
//!     metricNamePrefix: widget
//!     labelsFromPath: {name: [metadata, name]}
//!     metrics:
//!     - name: replicas
//!       help: Desired replicas
//!       each: {type: Gauge, gauge: {path: [spec, replicas]}}
//! "#).unwrap();
//! let target = ResolvedResource::new("example.com", "v1", "Widget", "widgets");
//! let gen = CustomGenerator::new(&parsed.config.resources()[0], &target, &FamilyFilter::default());
//! assert_eq!(gen.resource(), "example.com/v1, Resource=widgets");
//! let mut out = ObjectMetrics::new();
//! gen.generate(br#"{"metadata":{"name":"w1","uid":"u"},"spec":{"replicas":3}}"#, &mut out).unwrap();
//! let mut text = Vec::new();
//! out.write_family_text(0, "widget_replicas", &mut text);
//! assert_eq!(
//!     String::from_utf8(text).unwrap(),
//!     "widget_replicas{customresource_group=\"example.com\",customresource_kind=\"Widget\",\
//!      customresource_version=\"v1\",name=\"w1\"} 3\n"
//! );
//! ```

#![deny(missing_docs)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use kubestate_metric::{FamilyDesc, MetricType, ObjectMetrics, Stability};
use serde_json::Value;

use kubestate_families::{DecodeError, FamilyFilter, Generator, ObjectKey};

mod config;
mod eval;
mod path;
mod value;

pub use config::CustomConfigError;

use config::{line_of, path_map, text, text_map, texts, RawMetric, RawResource};
use eval::{Each, LabelPaths, Labels};
use path::ValuePath;

/// The prefix of metric names when `metricNamePrefix` is not set.
pub const DEFAULT_PREFIX: &str = "kube_customresource";

/// A validated custom-resource-state configuration.
#[derive(Clone, Debug, Default)]
pub struct CustomConfig {
    resources: Vec<CustomResource>,
}

/// A configuration and what is worth telling the user about it.
#[derive(Clone, Debug)]
pub struct ParsedConfig {
    /// The configuration.
    pub config: CustomConfig,
    /// Settings that are accepted but have no effect (unknown keys, blocks of another
    /// metric type, a resource that can never match), one message each.
    pub warnings: Vec<String>,
}

impl CustomConfig {
    /// Reads and validates a configuration (the first YAML document of `text`).
    ///
    /// # Errors
    /// Invalid YAML, a value of the wrong type (with line and column), an empty document,
    /// or a setting KSM could not compile (unknown metric type, missing `each.<type>` block,
    /// a `[key]` list lookup without `=`), with the place and the fix.
    pub fn parse(text: &str) -> Result<ParsedConfig, CustomConfigError> {
        let (raw, tree) = config::decode(text)?;
        let mut warnings = config::unknown_keys(&tree);
        let raw_resources = raw.spec.and_then(|s| s.resources).unwrap_or_default();
        let mut resources = Vec::with_capacity(raw_resources.len());
        for (i, r) in raw_resources.iter().enumerate() {
            let compiled = CustomResource::compile(i, r, text, &mut warnings)
                .map_err(|e| with_related_warnings(e, &warnings))?;
            resources.push(compiled);
        }
        Ok(ParsedConfig {
            config: CustomConfig { resources },
            warnings,
        })
    }

    /// The configured resources, in document order.
    pub fn resources(&self) -> &[CustomResource] {
        &self.resources
    }

    /// Whether no resource is configured.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// Adds the warnings about the same metric (a misspelt key is often why a setting seems
/// missing) to a validation error.
fn with_related_warnings(e: CustomConfigError, warnings: &[String]) -> CustomConfigError {
    match e {
        CustomConfigError::Invalid {
            path,
            line,
            mut message,
        } => {
            let prefix = path.split(" (").next().unwrap_or_default();
            for w in warnings
                .iter()
                .filter(|w| w.starts_with(&format!("{prefix}.")))
            {
                message.push_str("; note: ");
                message.push_str(w);
            }
            CustomConfigError::Invalid {
                path,
                line,
                message,
            }
        }
        other => other,
    }
}

/// A group/version/kind as configured: `version` and `kind` may be `*` or empty (all).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupVersionKind {
    /// API group (required).
    pub group: String,
    /// Version, or `*`/empty for every served version.
    pub version: String,
    /// Kind, or `*`/empty for every kind of the group.
    pub kind: String,
}

impl std::fmt::Display for GroupVersionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}, Kind={}", self.group, self.version, self.kind)
    }
}

/// A custom resource found in the cluster for a configured [`GroupVersionKind`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResolvedResource {
    /// API group.
    pub group: String,
    /// Served version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name from the CRD (`spec.names.plural`).
    pub plural: String,
}

impl ResolvedResource {
    /// A resolved resource.
    pub fn new(group: &str, version: &str, kind: &str, plural: &str) -> ResolvedResource {
        ResolvedResource {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
        }
    }

    /// The name KSM gives its store, and what `?resources=` matches:
    /// `group/version, Resource=plural`.
    pub fn gvr_string(&self) -> String {
        format!("{}/{}, Resource={}", self.group, self.version, self.plural)
    }
}

/// One configured resource, compiled except for the group/version/kind labels.
#[derive(Clone, Debug)]
pub struct CustomResource {
    gvk: GroupVersionKind,
    resource_plural: String,
    prefix: String,
    common: BTreeMap<String, String>,
    families: Arc<[Template]>,
}

/// One configured metric.
#[derive(Clone, Debug)]
struct Template {
    name: String,
    help: String,
    ty: MetricType,
    /// The metric's own `commonLabels` (they win over the resource's and the GVK labels).
    common: BTreeMap<String, String>,
    /// Resource and metric `labelsFromPath`, merged (the metric's win).
    paths: LabelPaths,
    each: Each,
    error_log_v: i32,
}

impl CustomResource {
    fn compile(
        i: usize,
        r: &RawResource,
        source: &str,
        warnings: &mut Vec<String>,
    ) -> Result<CustomResource, CustomConfigError> {
        let at = format!("spec.resources[{i}]");
        let raw_gvk = r.group_version_kind.as_ref();
        let gvk = GroupVersionKind {
            group: raw_gvk.map(|g| text(&g.group)).unwrap_or_default(),
            version: raw_gvk.map(|g| text(&g.version)).unwrap_or_default(),
            kind: raw_gvk.map(|g| text(&g.kind)).unwrap_or_default(),
        };
        if gvk.group.is_empty() || gvk.group == "*" {
            warnings.push(format!(
                "{at}.groupVersionKind.group: a group is required (got {:?}); this resource will never match a custom resource",
                gvk.group
            ));
        }
        let prefix = r
            .metric_name_prefix
            .as_ref()
            .map_or_else(|| DEFAULT_PREFIX.to_string(), |p| p.0.clone());
        let resource_paths = path_map(&r.labels_from_path);
        let metrics = r.metrics.as_deref().unwrap_or_default();
        let mut families = Vec::with_capacity(metrics.len());
        for (j, m) in metrics.iter().enumerate() {
            families.push(Template::compile(
                &format!("{at}.metrics[{j}]"),
                m,
                &prefix,
                &resource_paths,
                r.error_log_v(),
                source,
                warnings,
            )?);
        }
        Ok(CustomResource {
            gvk,
            resource_plural: text(&r.resource_plural),
            prefix,
            common: text_map(&r.common_labels),
            families: families.into(),
        })
    }

    /// The group/version/kind as configured.
    pub fn group_version_kind(&self) -> &GroupVersionKind {
        &self.gvk
    }

    /// `resourcePlural` as configured (KSM replaces it with the CRD's plural).
    pub fn resource_plural(&self) -> &str {
        &self.resource_plural
    }

    /// The metric name prefix in effect (`kube_customresource` when not configured).
    pub fn metric_name_prefix(&self) -> &str {
        &self.prefix
    }

    /// The full names of the configured metrics, in order.
    pub fn family_names(&self) -> impl Iterator<Item = &str> {
        self.families.iter().map(|t| t.name.as_str())
    }
}

impl Template {
    fn compile(
        at: &str,
        m: &RawMetric,
        prefix: &str,
        resource_paths: &BTreeMap<String, Vec<String>>,
        resource_log_v: i32,
        source: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Template, CustomConfigError> {
        let name = text(&m.name);
        let here = format!("{at} ({name:?})");
        let invalid = |message: String, anchor: &str| CustomConfigError::Invalid {
            path: here.clone(),
            line: line_of(source, &[&name, anchor]),
            message,
        };
        let each = m.each.as_ref();
        let ty_text = each.map(|e| text(&e.ty)).unwrap_or_default();
        let lower = ty_text.to_lowercase();
        let compile_path = |what: &str, segs: &Option<Vec<config::Text>>| {
            let segs = texts(segs);
            ValuePath::compile(&segs).map_err(|e| {
                let anchor = segs
                    .iter()
                    .find(|s| s.starts_with('['))
                    .cloned()
                    .unwrap_or_default();
                invalid(format!("{what}: {e}"), &anchor)
            })
        };
        let compile_labels = |what: &str, map: &BTreeMap<String, Vec<String>>| {
            LabelPaths::compile(map.iter()).map_err(|e| {
                let anchor = map
                    .values()
                    .flatten()
                    .find(|s| s.starts_with('[') && !s.contains('='))
                    .cloned()
                    .unwrap_or_default();
                invalid(format!("{what}.{e}"), &anchor)
            })
        };
        let missing = |block: &str| {
            invalid(
                format!("each.type is {ty_text:?} but there is no each.{block} block; add `{block}: {{path: [...]}}` under each"),
                "type",
            )
        };
        let (ty, compiled) = match lower.as_str() {
            "gauge" => {
                let g = each
                    .and_then(|e| e.gauge.as_ref())
                    .ok_or_else(|| missing("gauge"))?;
                let e = Each::Gauge {
                    path: compile_path("each.gauge.path", &g.path)?,
                    labels: compile_labels(
                        "each.gauge.labelsFromPath",
                        &path_map(&g.labels_from_path),
                    )?,
                    value_from: compile_path("each.gauge.valueFrom", &g.value_from)?,
                    label_from_key: text(&g.label_from_key),
                    nil_is_zero: g.nil_is_zero(),
                };
                (MetricType::Gauge, e)
            }
            "stateset" => {
                let s = each
                    .and_then(|e| e.state_set.as_ref())
                    .ok_or_else(|| missing("stateSet"))?;
                let e = Each::StateSet {
                    path: compile_path("each.stateSet.path", &s.path)?,
                    labels: compile_labels(
                        "each.stateSet.labelsFromPath",
                        &path_map(&s.labels_from_path),
                    )?,
                    value_from: compile_path("each.stateSet.valueFrom", &s.value_from)?,
                    label_name: text(&s.label_name),
                    list: texts(&s.list),
                };
                (MetricType::StateSet, e)
            }
            "info" => {
                let inf = each
                    .and_then(|e| e.info.as_ref())
                    .ok_or_else(|| missing("info"))?;
                let e = Each::Info {
                    path: compile_path("each.info.path", &inf.path)?,
                    labels: compile_labels(
                        "each.info.labelsFromPath",
                        &path_map(&inf.labels_from_path),
                    )?,
                    label_from_key: text(&inf.label_from_key),
                };
                if let Each::Info {
                    labels,
                    label_from_key,
                    ..
                } = &e
                {
                    if labels.is_empty() && label_from_key.is_empty() {
                        warnings.push(format!(
                            "{here}: an Info metric without each.info.labelsFromPath or labelFromKey never produces a sample"
                        ));
                    }
                }
                (MetricType::Info, e)
            }
            _ => {
                let message = if ty_text.is_empty() {
                    "each.type is missing; set it to Gauge, StateSet or Info".to_string()
                } else {
                    format!(
                        "each.type {ty_text:?} is not a metric type; use Gauge, StateSet or Info"
                    )
                };
                return Err(invalid(message, &ty_text));
            }
        };
        if let Some(e) = each {
            for (present, block, t) in [
                (e.gauge.is_some(), "gauge", "gauge"),
                (e.state_set.is_some(), "stateSet", "stateset"),
                (e.info.is_some(), "info", "info"),
            ] {
                if present && lower != t {
                    warnings.push(format!(
                        "{here}: each.{block} is ignored because each.type is {ty_text:?}"
                    ));
                }
            }
        }
        let mut paths = resource_paths.clone();
        paths.extend(path_map(&m.labels_from_path));
        let full = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}_{name}")
        };
        let log_v = match m.error_log_v() {
            0 => resource_log_v,
            v => v,
        };
        Ok(Template {
            name: full,
            help: text(&m.help),
            ty,
            common: text_map(&m.common_labels),
            paths: compile_labels("labelsFromPath", &paths)?,
            each: compiled,
            error_log_v: log_v,
        })
    }
}

/// One problem met while evaluating a configured metric on an object (a value that is not
/// a number, a state that is not a string…). KSM logs these at the metric's `errorLogV`.
#[derive(Debug)]
pub struct EvalProblem<'a> {
    /// The family (full metric name).
    pub family: &'a str,
    /// The configured `errorLogV` (klog verbosity) of the metric.
    pub error_log_v: i32,
    /// `metadata.namespace` of the object.
    pub namespace: &'a str,
    /// `metadata.name` of the object.
    pub name: &'a str,
    /// What went wrong, with the path.
    pub message: &'a str,
}

/// Receives evaluation problems (the engine logs them).
pub type ProblemHook = Arc<dyn Fn(&EvalProblem<'_>) + Send + Sync>;

struct Compiled {
    template: usize,
    /// Resource `commonLabels`, the GVK labels, then the metric's `commonLabels`.
    common: Vec<(String, String)>,
}

/// The [`Generator`] of one resolved custom resource: its enabled families, in configured
/// order, each sample's labels sorted, the samples of an object in KSM's order.
pub struct CustomGenerator {
    name: String,
    resource: CustomResource,
    enabled: Vec<Compiled>,
    descs: Vec<FamilyDesc>,
    hook: Option<ProblemHook>,
}

impl CustomGenerator {
    /// Compiles `resource` for the custom resource `target`, keeping the families `filter`
    /// keeps (custom families are never opt-in).
    pub fn new(
        resource: &CustomResource,
        target: &ResolvedResource,
        filter: &FamilyFilter,
    ) -> CustomGenerator {
        let mut enabled = Vec::new();
        let mut descs = Vec::new();
        for (i, t) in resource.families.iter().enumerate() {
            if !filter.keeps(&t.name, false) {
                continue;
            }
            let mut common = resource.common.clone();
            common.insert("customresource_group".into(), target.group.clone());
            common.insert("customresource_version".into(), target.version.clone());
            common.insert("customresource_kind".into(), target.kind.clone());
            common.extend(t.common.iter().map(|(k, v)| (k.clone(), v.clone())));
            enabled.push(Compiled {
                template: i,
                common: common.into_iter().collect(),
            });
            descs.push(FamilyDesc {
                name: t.name.clone(),
                help: t.help.clone(),
                ty: t.ty,
                stability: Stability::Alpha,
                deprecated_since: None,
            });
        }
        CustomGenerator {
            name: target.gvr_string(),
            resource: resource.clone(),
            enabled,
            descs,
            hook: None,
        }
    }

    /// The same generator, reporting evaluation problems to `hook`.
    pub fn with_problem_hook(mut self, hook: ProblemHook) -> CustomGenerator {
        self.hook = Some(hook);
        self
    }
}

impl Generator for CustomGenerator {
    fn resource(&self) -> &str {
        &self.name
    }

    fn families(&self) -> &[FamilyDesc] {
        &self.descs
    }

    fn peek(&self, json: &[u8]) -> Result<ObjectKey, DecodeError> {
        kubestate_families::peek_key("custom resource", json)
    }

    fn generate(&self, json: &[u8], out: &mut ObjectMetrics) -> Result<ObjectKey, DecodeError> {
        let obj: serde_json::Map<String, Value> =
            serde_json::from_slice(json).map_err(|source| DecodeError::Json {
                resource: "custom resource",
                source,
            })?;
        let root = Value::Object(obj);
        let key = object_key(&root);
        out.clear();
        let mut problems = Vec::new();
        for c in &self.enabled {
            let t = &self.resource.families[c.template];
            out.begin_family();
            let mut base = Labels::default();
            for (k, v) in &c.common {
                base.set(Cow::Borrowed(k), Cow::Borrowed(v));
            }
            t.paths.apply(Some(&root), &mut base);
            let base: Vec<_> = base.into_sorted();
            for mut ev in t.each.evaluate(&root, &mut problems) {
                for label in &base {
                    ev.labels.set_default(label);
                }
                out.begin_sample();
                for (k, v) in ev.labels.into_sorted() {
                    out.label(&k, &v);
                }
                out.finish_sample(ev.value);
            }
            if !problems.is_empty() {
                if let Some(hook) = &self.hook {
                    for message in &problems {
                        hook(&EvalProblem {
                            family: &t.name,
                            error_log_v: t.error_log_v,
                            namespace: &key.namespace,
                            name: &key.name,
                            message,
                        });
                    }
                }
                problems.clear();
            }
        }
        Ok(key)
    }
}

fn object_key(root: &Value) -> ObjectKey {
    let meta = root.get("metadata");
    let field = |k: &str| -> Box<str> {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .into()
    };
    ObjectKey {
        uid: field("uid"),
        namespace: field("namespace"),
        name: field("name"),
        resource_version: field("resourceVersion"),
    }
}

#[cfg(test)]
mod tests;
