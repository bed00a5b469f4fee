//! The custom-resource-state YAML (ksm-behaviour.md §8.1): decoding as KSM's YAML library
//! does, warnings for keys KSM would silently ignore, and validation with the place to fix.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_yaml::Value as Yaml;

/// Why a custom-resource-state configuration was rejected. The message names the place
/// (path in the document, line when known) and what to write instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CustomConfigError {
    /// The text is not YAML of the expected shape (message carries path, line and column).
    #[error("{0}")]
    Yaml(String),
    /// The document is empty (KSM fails on it too).
    #[error("the document is empty; it needs at least `spec: {{resources: [...]}}`")]
    Empty,
    /// A value is well-formed YAML but not a usable setting.
    #[error("{path}: {message}{}", line.map(|l| format!(" (near line {l})")).unwrap_or_default())]
    Invalid {
        /// Where in the document, e.g. `spec.resources[0].metrics[2] ("phase")`.
        path: String,
        /// Best-effort line number (1-based).
        line: Option<usize>,
        /// What is wrong and how to fix it.
        message: String,
    },
}

// ---------------------------------------------------------------------------------------
// Lenient scalars, decoded the way yaml.v3 fills Go string, bool and int fields.

/// A string field: any scalar, as written (`0`, `1.10`, `True` stay text).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Text(pub(crate) String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text, E> {
                Ok(Text(s))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Text, E> {
                Ok(Text(b.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text::default())
            }
        }
        d.deserialize_str(V)
    }
}

/// A bool field: `true`/`false` and YAML 1.1's `yes`/`no`/`on`/`off`/`y`/`n`, as yaml.v3
/// accepts for Go bools.
#[derive(Clone, Copy, Debug, Default)]
struct Flag(bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Flag, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Flag, E> {
                Ok(Flag(b))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Flag, E> {
                match s {
                    "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(Flag(true)),
                    "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Ok(Flag(false)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Flag, E> {
                Ok(Flag(false))
            }
        }
        d.deserialize_any(V)
    }
}

/// An int32 field (klog levels): integers, and floats truncated as yaml.v3 does.
#[derive(Clone, Copy, Debug, Default)]
struct Level(i32);

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Level, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Level;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer (a klog verbosity such as 0 or 2)")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Level, E> {
                i32::try_from(n)
                    .map(Level)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Level, E> {
                i32::try_from(n)
                    .map(Level)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Level, E> {
                if n.is_finite()
                    && n.trunc() >= f64::from(i32::MIN)
                    && n.trunc() <= f64::from(i32::MAX)
                {
                    Ok(Level(n.trunc() as i32))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(n), &self))
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Level, E> {
                Ok(Level(0))
            }
        }
        d.deserialize_any(V)
    }
}

type TextMap = BTreeMap<Text, Text>;
type PathMap = BTreeMap<Text, Option<Vec<Text>>>;

// ---------------------------------------------------------------------------------------
// The document as written. Every field is optional: yaml.v3 leaves absent ones at Go's zero
// value, and so do we.

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RawDoc {
    pub(crate) spec: Option<RawSpec>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RawSpec {
    pub(crate) resources: Option<Vec<RawResource>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct RawResource {
    pub(crate) group_version_kind: Option<RawGvk>,
    pub(crate) resource_plural: Option<Text>,
    pub(crate) metric_name_prefix: Option<Text>,
    pub(crate) common_labels: Option<TextMap>,
    pub(crate) labels_from_path: Option<PathMap>,
    pub(crate) metrics: Option<Vec<RawMetric>>,
    #[serde(rename = "errorLogV")]
    error_log_v: Option<Level>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RawGvk {
    pub(crate) group: Option<Text>,
    pub(crate) version: Option<Text>,
    pub(crate) kind: Option<Text>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct RawMetric {
    pub(crate) name: Option<Text>,
    pub(crate) help: Option<Text>,
    pub(crate) common_labels: Option<TextMap>,
    pub(crate) labels_from_path: Option<PathMap>,
    #[serde(rename = "errorLogV")]
    error_log_v: Option<Level>,
    pub(crate) each: Option<RawEach>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct RawEach {
    #[serde(rename = "type")]
    pub(crate) ty: Option<Text>,
    pub(crate) gauge: Option<RawGauge>,
    pub(crate) state_set: Option<RawStateSet>,
    pub(crate) info: Option<RawInfo>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct RawGauge {
    pub(crate) path: Option<Vec<Text>>,
    pub(crate) labels_from_path: Option<PathMap>,
    pub(crate) label_from_key: Option<Text>,
    pub(crate) value_from: Option<Vec<Text>>,
    nil_is_zero: Option<Flag>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct RawStateSet {
    pub(crate) path: Option<Vec<Text>>,
    pub(crate) labels_from_path: Option<PathMap>,
    pub(crate) list: Option<Vec<Text>>,
    pub(crate) label_name: Option<Text>,
    pub(crate) value_from: Option<Vec<Text>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct RawInfo {
    pub(crate) path: Option<Vec<Text>>,
    pub(crate) labels_from_path: Option<PathMap>,
    pub(crate) label_from_key: Option<Text>,
}

impl RawResource {
    pub(crate) fn error_log_v(&self) -> i32 {
        self.error_log_v.map_or(0, |l| l.0)
    }
}

impl RawMetric {
    pub(crate) fn error_log_v(&self) -> i32 {
        self.error_log_v.map_or(0, |l| l.0)
    }
}

impl RawGauge {
    pub(crate) fn nil_is_zero(&self) -> bool {
        self.nil_is_zero.is_some_and(|f| f.0)
    }
}

/// A text field's value, `""` when absent.
pub(crate) fn text(t: &Option<Text>) -> String {
    t.as_ref().map(|t| t.0.clone()).unwrap_or_default()
}

/// A list field's values, empty when absent.
pub(crate) fn texts(t: &Option<Vec<Text>>) -> Vec<String> {
    t.as_ref()
        .map(|v| v.iter().map(|t| t.0.clone()).collect())
        .unwrap_or_default()
}

/// A `commonLabels` map.
pub(crate) fn text_map(m: &Option<TextMap>) -> BTreeMap<String, String> {
    m.iter()
        .flatten()
        .map(|(k, v)| (k.0.clone(), v.0.clone()))
        .collect()
}

/// A `labelsFromPath` map (a `null` path is the empty path).
pub(crate) fn path_map(m: &Option<PathMap>) -> BTreeMap<String, Vec<String>> {
    m.iter()
        .flatten()
        .map(|(k, v)| (k.0.clone(), texts(v)))
        .collect()
}

fn first_document(text: &str) -> Option<serde_yaml::Deserializer<'_>> {
    serde_yaml::Deserializer::from_str(text).next()
}

/// Decodes the first YAML document of `text` (KSM's decoder reads only the first).
pub(crate) fn decode(text: &str) -> Result<(RawDoc, Yaml), CustomConfigError> {
    let yaml_err = |e: serde_yaml::Error| CustomConfigError::Yaml(e.to_string());
    let Some(doc) = first_document(text) else {
        return Err(CustomConfigError::Empty);
    };
    let tree = Yaml::deserialize(doc).map_err(yaml_err)?;
    if tree.is_null() {
        return Err(CustomConfigError::Empty);
    }
    let raw = if text.contains("<<") {
        // Merge keys need the tree (locations are lost on this path).
        let mut merged = tree.clone();
        merged.apply_merge().map_err(yaml_err)?;
        serde_yaml::from_value(merged).map_err(yaml_err)?
    } else {
        match first_document(text) {
            Some(doc) => RawDoc::deserialize(doc).map_err(yaml_err)?,
            None => return Err(CustomConfigError::Empty),
        }
    };
    Ok((raw, tree))
}

// ---------------------------------------------------------------------------------------
// Keys KSM would ignore without a word.

#[derive(Clone, Copy)]
enum Child {
    /// A scalar or list of scalars.
    Leaf,
    /// A user-keyed map (labels): not checked.
    Free,
    /// A map with known keys.
    Map(&'static [(&'static str, Child)]),
    /// A list of maps with known keys.
    Seq(&'static [(&'static str, Child)]),
}

const GVK: &[(&str, Child)] = &[
    ("group", Child::Leaf),
    ("version", Child::Leaf),
    ("kind", Child::Leaf),
];
const GAUGE: &[(&str, Child)] = &[
    ("path", Child::Leaf),
    ("labelsFromPath", Child::Free),
    ("labelFromKey", Child::Leaf),
    ("valueFrom", Child::Leaf),
    ("nilIsZero", Child::Leaf),
];
const STATESET: &[(&str, Child)] = &[
    ("path", Child::Leaf),
    ("labelsFromPath", Child::Free),
    ("list", Child::Leaf),
    ("labelName", Child::Leaf),
    ("valueFrom", Child::Leaf),
];
const INFO: &[(&str, Child)] = &[
    ("path", Child::Leaf),
    ("labelsFromPath", Child::Free),
    ("labelFromKey", Child::Leaf),
];
const EACH: &[(&str, Child)] = &[
    ("type", Child::Leaf),
    ("gauge", Child::Map(GAUGE)),
    ("stateSet", Child::Map(STATESET)),
    ("info", Child::Map(INFO)),
];
const METRIC: &[(&str, Child)] = &[
    ("name", Child::Leaf),
    ("help", Child::Leaf),
    ("commonLabels", Child::Free),
    ("labelsFromPath", Child::Free),
    ("errorLogV", Child::Leaf),
    ("each", Child::Map(EACH)),
];
const RESOURCE: &[(&str, Child)] = &[
    ("groupVersionKind", Child::Map(GVK)),
    ("resourcePlural", Child::Leaf),
    ("metricNamePrefix", Child::Leaf),
    ("commonLabels", Child::Free),
    ("labelsFromPath", Child::Free),
    ("metrics", Child::Seq(METRIC)),
    ("errorLogV", Child::Leaf),
];
const SPEC: &[(&str, Child)] = &[("resources", Child::Seq(RESOURCE))];
/// `kind` and `apiVersion` are customary at the top and carry no meaning: not reported.
const TOP: &[(&str, Child)] = &[
    ("spec", Child::Map(SPEC)),
    ("kind", Child::Leaf),
    ("apiVersion", Child::Leaf),
];

/// Every key of `tree` the schema does not know, as `path: message` lines.
pub(crate) fn unknown_keys(tree: &Yaml) -> Vec<String> {
    let mut out = Vec::new();
    walk(tree, "", TOP, &mut out);
    out
}

fn walk(v: &Yaml, path: &str, schema: &[(&str, Child)], out: &mut Vec<String>) {
    let Yaml::Mapping(map) = v else {
        return;
    };
    for (k, child) in map {
        let key = match k {
            Yaml::String(s) => s.clone(),
            other => serde_yaml::to_string(other)
                .map(|s| s.trim_end().to_string())
                .unwrap_or_default(),
        };
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match schema.iter().find(|(name, _)| *name == key) {
            None => out.push(format!(
                "{here}: unknown key, ignored (as kube-state-metrics ignores it){}",
                suggestion(&key, schema)
            )),
            Some((_, Child::Map(inner))) => walk(child, &here, inner, out),
            Some((_, Child::Seq(inner))) => {
                if let Yaml::Sequence(items) = child {
                    for (i, item) in items.iter().enumerate() {
                        walk(item, &format!("{here}[{i}]"), inner, out);
                    }
                }
            }
            Some((_, Child::Leaf | Child::Free)) => {}
        }
    }
}

fn suggestion(key: &str, schema: &[(&str, Child)]) -> String {
    let best = schema
        .iter()
        .map(|(name, _)| (*name, distance(&key.to_lowercase(), &name.to_lowercase())))
        .filter(|(_, d)| *d <= 2)
        .min_by_key(|(_, d)| *d);
    match best {
        Some((name, _)) => format!("; did you mean `{name}`?"),
        None => format!(
            "; known keys here: {}",
            schema
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| !(std::ptr::eq(schema, TOP) && matches!(*n, "kind" | "apiVersion")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Levenshtein distance (keys are short).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The line (1-based) where `anchors` occur in order in `text`, each searched after the
/// previous one: a good guess at where a validation problem sits.
pub(crate) fn line_of(text: &str, anchors: &[&str]) -> Option<usize> {
    let mut at = 0;
    let mut found = None;
    for a in anchors.iter().filter(|a| !a.is_empty()) {
        let i = text[at..].find(a)? + at;
        found = Some(i);
        at = i + a.len();
    }
    found.map(|i| text[..i].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_decode_like_yaml_v3() {
        let (raw, _) = decode(
            "spec:\n  resources:\n  - groupVersionKind: {group: g, version: 1, kind: K}\n    metrics:\n    - name: m\n      errorLogV: 2.0\n      each:\n        type: Gauge\n        gauge: {path: [a, 0, -1, 1.10, True], nilIsZero: yes}\n",
        )
        .unwrap();
        let r = &raw.spec.unwrap().resources.unwrap()[0];
        assert_eq!(text(&r.group_version_kind.as_ref().unwrap().version), "1");
        let m = &r.metrics.as_ref().unwrap()[0];
        assert_eq!(m.error_log_v(), 2);
        let g = m.each.as_ref().unwrap().gauge.as_ref().unwrap();
        assert_eq!(texts(&g.path), vec!["a", "0", "-1", "1.10", "True"]);
        assert!(g.nil_is_zero());
    }

    #[test]
    fn wrong_types_fail_with_line_and_column() {
        let e = decode(
            "spec:\n  resources:\n  - metrics:\n    - each:\n        gauge: {nilIsZero: maybe}\n",
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("nilIsZero") && e.contains("line 5"), "{e}");
        let e = decode("spec:\n  resources:\n  - labelsFromPath: {name: metadata.name}\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("labelsFromPath") && e.contains("line 3"), "{e}");
        assert!(matches!(decode(""), Err(CustomConfigError::Empty)));
        assert!(matches!(
            decode("# nothing\n"),
            Err(CustomConfigError::Empty)
        ));
    }

    #[test]
    fn only_the_first_document_counts_and_merge_keys_work() {
        let (raw, _) = decode("spec: {resources: []}\n---\nspec: 3\n").unwrap();
        assert!(raw.spec.unwrap().resources.unwrap().is_empty());
        let (raw, _) = decode(
            "base: &b {commonLabels: {team: x}}\nspec:\n  resources:\n  - <<: *b\n    metricNamePrefix: p\n",
        )
        .unwrap();
        let r = &raw.spec.unwrap().resources.unwrap()[0];
        assert_eq!(
            text_map(&r.common_labels).get("team").map(String::as_str),
            Some("x")
        );
    }

    #[test]
    fn unknown_keys_are_reported_with_a_suggestion() {
        let (_, tree) = decode(
            "kind: CustomResourceStateMetrics\nspec:\n  resources:\n  - groupVersionKind: {group: g, kind: K}\n    metric:\n    - {}\n    metrics:\n    - name: m\n      each:\n        type: StateSet\n        stateset: {list: [a]}\n        gauge: {pathh: [x]}\n",
        )
        .unwrap();
        let w = unknown_keys(&tree);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(
            w[0].starts_with("spec.resources[0].metric: ") && w[0].contains("`metrics`"),
            "{w:?}"
        );
        assert!(
            w[1].starts_with("spec.resources[0].metrics[0].each.stateset: ")
                && w[1].contains("`stateSet`")
        );
        assert!(w[2].contains("each.gauge.pathh") && w[2].contains("`path`"));
    }

    #[test]
    fn lines_of_anchors() {
        let t = "a\nname: x\nb: y\nname: z\nb: y\n";
        assert_eq!(line_of(t, &["name: z", "y"]), Some(5));
        assert_eq!(line_of(t, &["nope"]), None);
    }
}
