//! Evaluating one configured metric against one object: the samples of Gauge, StateSet and
//! Info metrics, their labels and their order (ksm-behaviour.md §8.2).

use std::borrow::Cow;
use std::cmp::Ordering;

use kubestate_metric::sanitize_name;
use serde_json::Value;

use super::path::ValuePath;
use super::value::{label_text, to_float};

/// A label set under construction: a small map where a later `set` replaces.
#[derive(Debug, Default)]
pub(crate) struct Labels<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Labels<'a> {
    /// Sets `name`, replacing an earlier value.
    pub(crate) fn set(&mut self, name: Cow<'a, str>, value: Cow<'a, str>) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// Sets `name` only when it is not set yet.
    pub(crate) fn set_default(&mut self, label: &(Cow<'a, str>, Cow<'a, str>)) {
        if !self.contains(&label.0) {
            self.0.push(label.clone());
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The labels sorted by name (the order they are written in).
    pub(crate) fn into_sorted(mut self) -> Vec<(Cow<'a, str>, Cow<'a, str>)> {
        self.0.sort_by(|a, b| a.0.cmp(&b.0));
        self.0
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (&**n, &**v))
    }
}

/// KSM's order of samples within one object: label sets compared name by name, value by
/// value in name order, shorter first on a tie.
fn compare_labels(a: &Labels<'_>, b: &Labels<'_>) -> Ordering {
    let mut ak: Vec<(&str, &str)> = a.iter().collect();
    let mut bk: Vec<(&str, &str)> = b.iter().collect();
    ak.sort_by(|x, y| x.0.cmp(y.0));
    bk.sort_by(|x, y| x.0.cmp(y.0));
    for (x, y) in ak.iter().zip(&bk) {
        let c = x.0.cmp(y.0).then_with(|| x.1.cmp(y.1));
        if c != Ordering::Equal {
            return c;
        }
    }
    ak.len().cmp(&bk.len())
}

/// `labelsFromPath` of one level, compiled: `*`-keys (whole maps copied) and plain ones.
#[derive(Clone, Debug, Default)]
pub(crate) struct LabelPaths {
    /// Keys starting or ending with `*`, sorted, applied first.
    stars: Vec<(String, ValuePath)>,
    /// Other keys (already sanitised), applied after the stars so they win.
    plain: Vec<(String, ValuePath)>,
}

impl LabelPaths {
    /// Compiles `label → path` entries (in the given order; later entries win on equal
    /// sanitised names).
    pub(crate) fn compile<'k>(
        entries: impl IntoIterator<Item = (&'k String, &'k Vec<String>)>,
    ) -> Result<LabelPaths, String> {
        let mut out = LabelPaths::default();
        for (key, segments) in entries {
            let path = ValuePath::compile(segments).map_err(|e| format!("{key}: {e}"))?;
            if key.starts_with('*') || key.ends_with('*') {
                out.stars.push((key.clone(), path));
            } else {
                out.plain.push((sanitize(key), path));
            }
        }
        out.stars.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.stars.is_empty() && self.plain.is_empty()
    }

    /// Adds the labels these paths resolve to from `obj`. Unresolved plain paths add
    /// nothing; a `*` key copies every entry of the map it resolves to (`prefix_*` prepends
    /// `prefix_` to each key).
    pub(crate) fn apply<'a>(&'a self, obj: Option<&'a Value>, out: &mut Labels<'a>) {
        for (star, path) in &self.stars {
            if let Some(Value::Object(map)) = path.get(obj) {
                let prefix = star.strip_suffix('*');
                for (k, v) in map {
                    let name = match prefix {
                        Some(p) => sanitize(&format!("{p}{k}")),
                        None => sanitize(k),
                    };
                    out.set(Cow::Owned(name), label_text(v));
                }
            }
        }
        for (name, path) in &self.plain {
            if let Some(v) = path.get(obj) {
                out.set(Cow::Borrowed(name), label_text(v));
            }
        }
    }
}

fn sanitize(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    sanitize_name(&mut s, raw);
    s
}

/// One sample before the family's common labels are added.
#[derive(Debug)]
pub(crate) struct EachValue<'a> {
    pub(crate) labels: Labels<'a>,
    pub(crate) value: f64,
}

/// What one configured metric does with the value its `path` resolves to.
#[derive(Clone, Debug)]
pub(crate) enum Each {
    /// A number per element.
    Gauge {
        path: ValuePath,
        labels: LabelPaths,
        value_from: ValuePath,
        label_from_key: String,
        nil_is_zero: bool,
    },
    /// One sample per listed state, 1 for the current one.
    StateSet {
        path: ValuePath,
        labels: LabelPaths,
        value_from: ValuePath,
        label_name: String,
        list: Vec<String>,
    },
    /// A constant 1 carrying labels.
    Info {
        path: ValuePath,
        labels: LabelPaths,
        label_from_key: String,
    },
}

impl Each {
    /// The samples of this metric for the object `root`, in KSM's order, and the problems
    /// met on the way (KSM logs them; the samples that could be made are kept).
    pub(crate) fn evaluate<'a>(
        &'a self,
        root: &'a Value,
        errors: &mut Vec<String>,
    ) -> Vec<EachValue<'a>> {
        let mut out = Vec::new();
        match self {
            Each::Gauge {
                path,
                labels,
                value_from,
                label_from_key,
                nil_is_zero,
            } => {
                let g = Gauge {
                    labels,
                    value_from,
                    label_from_key,
                    nil_is_zero: *nil_is_zero,
                };
                g.values(path.get(Some(root)), &mut out, &mut |e| {
                    errors.push(format!("{}: {e}", path.text()));
                });
            }
            Each::StateSet {
                path,
                labels,
                value_from,
                label_name,
                list,
            } => {
                let v = path.get(Some(root));
                let s = StateSet {
                    labels,
                    value_from,
                    label_name,
                    list,
                    full_path: || format!("{}{}", path.text(), value_from.text()),
                };
                match v {
                    Some(Value::Array(items)) => {
                        for it in items {
                            s.values(Some(it), &mut out, errors);
                        }
                    }
                    _ => s.values(v, &mut out, errors),
                }
            }
            Each::Info {
                path,
                labels,
                label_from_key,
            } => info_values(path.get(Some(root)), labels, label_from_key, &mut out),
        }
        // Stable, so equal label sets keep the order they were made in.
        out.sort_by(|a, b| compare_labels(&a.labels, &b.labels));
        out
    }
}

struct Gauge<'c> {
    labels: &'c LabelPaths,
    value_from: &'c ValuePath,
    label_from_key: &'c str,
    nil_is_zero: bool,
}

impl<'c> Gauge<'c> {
    fn values(
        &self,
        v: Option<&'c Value>,
        out: &mut Vec<EachValue<'c>>,
        on_error: &mut dyn FnMut(String),
    ) {
        match v {
            Some(parent @ Value::Object(map)) => {
                for (key, it) in map {
                    // A one-segment valueFrom naming this very key reads the entry itself.
                    let mut ev = if self.value_from.single_key() == Some(key.as_str()) {
                        match to_float(Some(it), self.nil_is_zero) {
                            Ok(value) => EachValue {
                                labels: Labels::default(),
                                value,
                            },
                            Err(e) => {
                                on_error(format!("[{key}]: {e}"));
                                continue;
                            }
                        }
                    } else {
                        // KSM drops the errors of map entries silently.
                        match self.value(Some(it)) {
                            Ok(Some(ev)) => ev,
                            Ok(None) | Err(_) => continue,
                        }
                    };
                    if !key.is_empty() && !self.label_from_key.is_empty() {
                        ev.labels
                            .set(Cow::Borrowed(self.label_from_key), Cow::Borrowed(key));
                    }
                    self.labels.apply(Some(it), &mut ev.labels);
                    // Paths are tried against the map itself as well (later, so they win).
                    self.labels.apply(Some(parent), &mut ev.labels);
                    out.push(ev);
                }
            }
            Some(Value::Array(items)) => {
                for (i, it) in items.iter().enumerate() {
                    match self.value(Some(it)) {
                        Ok(Some(mut ev)) => {
                            self.labels.apply(Some(it), &mut ev.labels);
                            out.push(ev);
                        }
                        Ok(None) => {}
                        Err(e) => on_error(format!("[{i}]: {e}")),
                    }
                }
            }
            _ => match self.value(v) {
                Ok(Some(mut ev)) => {
                    self.labels.apply(v, &mut ev.labels);
                    out.push(ev);
                }
                Ok(None) => {}
                Err(e) => on_error(e),
            },
        }
    }

    /// The sample of one element: `valueFrom` under it (the element itself when empty).
    /// `Ok(None)`: nothing to report (the value is missing under a present element).
    fn value(&self, it: Option<&'c Value>) -> Result<Option<EachValue<'c>>, String> {
        let it = it.filter(|x| !x.is_null());
        let Some(got) = self.value_from.get(it) else {
            if self.nil_is_zero {
                return Ok(Some(EachValue {
                    labels: Labels::default(),
                    value: 0.0,
                }));
            }
            if it.is_none() {
                return Err("got nil while resolving path".into());
            }
            return Ok(None);
        };
        let value = to_float(Some(got), self.nil_is_zero)
            .map_err(|e| format!("{}: {e}", self.value_from.text()))?;
        Ok(Some(EachValue {
            labels: Labels::default(),
            value,
        }))
    }
}

struct StateSet<'c, P: Fn() -> String> {
    labels: &'c LabelPaths,
    value_from: &'c ValuePath,
    label_name: &'c str,
    list: &'c [String],
    full_path: P,
}

impl<'c, P: Fn() -> String> StateSet<'c, P> {
    fn values(&self, v: Option<&'c Value>, out: &mut Vec<EachValue<'c>>, errors: &mut Vec<String>) {
        // A missing value (a status not written yet) is no sample and no error.
        let Some(current) = self.value_from.get(v) else {
            return;
        };
        let Value::String(current) = current else {
            errors.push(format!(
                "{}: expected value for path to be string, got {}",
                (self.full_path)(),
                go_type_name(current)
            ));
            return;
        };
        for entry in self.list {
            let mut labels = Labels::default();
            labels.set(Cow::Borrowed(self.label_name), Cow::Borrowed(entry));
            self.labels.apply(v, &mut labels);
            out.push(EachValue {
                labels,
                value: if current == entry { 1.0 } else { 0.0 },
            });
        }
    }
}

fn info_values<'c>(
    v: Option<&'c Value>,
    labels: &'c LabelPaths,
    label_from_key: &'c str,
    out: &mut Vec<EachValue<'c>>,
) {
    // An info sample exists only if an each-level label resolved.
    let one = |obj: Option<&'c Value>, out: &mut Vec<EachValue<'c>>| {
        if obj.is_none_or(Value::is_null) {
            return;
        }
        let mut l = Labels::default();
        labels.apply(obj, &mut l);
        if !l.is_empty() {
            out.push(EachValue {
                labels: l,
                value: 1.0,
            });
        }
    };
    match v {
        Some(Value::Array(items)) => {
            for it in items {
                one(Some(it), out);
            }
        }
        Some(Value::Object(map)) => {
            for (key, it) in map {
                let mut l = Labels::default();
                if !key.is_empty() && !label_from_key.is_empty() {
                    l.set(Cow::Borrowed(label_from_key), Cow::Borrowed(key));
                }
                labels.apply(Some(it), &mut l);
                if !l.is_empty() {
                    out.push(EachValue {
                        labels: l,
                        value: 1.0,
                    });
                }
            }
            one(v, out);
        }
        _ => one(v, out),
    }
}

/// Go's `%T` of a decoded JSON value, for messages.
fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &[&str]) -> ValuePath {
        ValuePath::compile(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn lp(entries: &[(&str, &[&str])]) -> LabelPaths {
        let owned: Vec<(String, Vec<String>)> = entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect();
        LabelPaths::compile(owned.iter().map(|(k, v)| (k, v))).unwrap()
    }

    fn gauge(path: &[&str], value_from: &[&str], labels: LabelPaths, key: &str, nz: bool) -> Each {
        Each::Gauge {
            path: p(path),
            labels,
            value_from: p(value_from),
            label_from_key: key.into(),
            nil_is_zero: nz,
        }
    }

    /// `label=value,… value` per sample, in output order.
    fn run(each: &Each, obj: &Value) -> (Vec<String>, Vec<String>) {
        let mut errors = Vec::new();
        let samples = each
            .evaluate(obj, &mut errors)
            .into_iter()
            .map(|ev| {
                let v = ev.value;
                let l: Vec<String> = ev
                    .labels
                    .into_sorted()
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                format!("{} {v}", l.join(","))
            })
            .collect();
        (samples, errors)
    }

    #[test]
    fn gauge_scalar_list_and_nil() {
        let obj = json!({"spec": {"replicas": 3, "items": [{"n": 1, "id": "a"}, {"id": "b"}, {"n": "x", "id": "c"}]}});
        let (s, e) = run(
            &gauge(&["spec", "replicas"], &[], LabelPaths::default(), "", false),
            &obj,
        );
        assert_eq!((s, e.len()), (vec![" 3".to_string()], 0));
        // Missing without nilIsZero: an error and no sample; with it: 0.
        let (s, e) = run(
            &gauge(&["spec", "nope"], &[], LabelPaths::default(), "", false),
            &obj,
        );
        assert!(s.is_empty() && e.len() == 1, "{e:?}");
        let (s, _) = run(
            &gauge(&["spec", "nope"], &[], LabelPaths::default(), "", true),
            &obj,
        );
        assert_eq!(s, vec![" 0"]);
        // A list: one sample per element; missing valueFrom skipped, bad value an error.
        let each = gauge(
            &["spec", "items"],
            &["n"],
            lp(&[("id", &["id"])]),
            "",
            false,
        );
        let (s, e) = run(&each, &obj);
        assert_eq!(s, vec!["id=a 1"]);
        assert_eq!(e.len(), 1, "{e:?}");
    }

    #[test]
    fn gauge_maps_label_from_key_and_value_from_key() {
        let obj = json!({"status": {"cpu": {"used": "250m"}, "mem": {"used": "1Ki"}, "weird": 5}});
        let each = gauge(
            &["status"],
            &["used"],
            LabelPaths::default(),
            "resource",
            false,
        );
        let (s, e) = run(&each, &obj);
        assert_eq!(s, vec!["resource=cpu 0.25", "resource=mem 1024"]);
        assert!(e.is_empty());
        // valueFrom naming one key of the map reads that entry directly.
        let obj = json!({"status": {"ready": 2, "other": {"ready": 7}, "x": "y"}});
        let each = gauge(&["status"], &["ready"], LabelPaths::default(), "k", false);
        let (s, _) = run(&each, &obj);
        assert_eq!(s, vec!["k=other 7", "k=ready 2"]);
        // nilIsZero turns every entry without the value into a 0 sample.
        // (equal label sets keep map order: other, ready, x).
        let each = gauge(&["status"], &["ready"], LabelPaths::default(), "", true);
        let (s, _) = run(&each, &obj);
        assert_eq!(s, vec![" 7", " 2", " 0"]);
    }

    #[test]
    fn stateset_values_and_errors() {
        let each = Each::StateSet {
            path: p(&["status", "phase"]),
            labels: LabelPaths::default(),
            value_from: p(&[]),
            label_name: "phase".into(),
            list: vec!["Ready".into(), "Failed".into(), "Pending".into()],
        };
        let (s, e) = run(&each, &json!({"status": {"phase": "Ready"}}));
        assert_eq!(
            s,
            vec!["phase=Failed 0", "phase=Pending 0", "phase=Ready 1"]
        );
        assert!(e.is_empty());
        let (s, e) = run(&each, &json!({"status": {}}));
        assert!(s.is_empty() && e.is_empty());
        let (s, e) = run(&each, &json!({"status": {"phase": 3}}));
        assert!(s.is_empty());
        assert!(
            e[0].contains("expected value for path to be string, got int64"),
            "{e:?}"
        );
        // Lists: a state set per element.
        let each = Each::StateSet {
            path: p(&["items"]),
            labels: lp(&[("name", &["name"])]),
            value_from: p(&["state"]),
            label_name: "state".into(),
            list: vec!["on".into(), "off".into()],
        };
        let (s, _) = run(
            &each,
            &json!({"items": [{"name": "a", "state": "on"}, {"name": "b", "state": "off"}]}),
        );
        assert_eq!(
            s,
            vec![
                "name=a,state=off 0",
                "name=a,state=on 1",
                "name=b,state=off 1",
                "name=b,state=on 0"
            ]
        );
    }

    #[test]
    fn info_needs_each_level_labels() {
        let each = Each::Info {
            path: p(&["spec"]),
            labels: LabelPaths::default(),
            label_from_key: String::new(),
        };
        assert!(run(&each, &json!({"spec": {"a": 1}})).0.is_empty());
        let each = Each::Info {
            path: p(&["spec"]),
            labels: lp(&[("version", &["version"])]),
            label_from_key: String::new(),
        };
        assert_eq!(
            run(&each, &json!({"spec": {"version": "1.2"}})).0,
            vec!["version=1.2 1"]
        );
        // Maps with labelFromKey: one sample per key, plus the map's own.
        let each = Each::Info {
            path: p(&["spec", "tags"]),
            labels: LabelPaths::default(),
            label_from_key: "tag".into(),
        };
        assert_eq!(
            run(&each, &json!({"spec": {"tags": {"x": 1, "y": 2}}})).0,
            vec!["tag=x 1", "tag=y 1"]
        );
        // Lists: one sample per element that yields labels.
        let each = Each::Info {
            path: p(&["items"]),
            labels: lp(&[("id", &["id"])]),
            label_from_key: String::new(),
        };
        assert_eq!(
            run(
                &each,
                &json!({"items": [{"id": "b"}, {}, null, {"id": "a"}]})
            )
            .0,
            vec!["id=a 1", "id=b 1"]
        );
    }

    #[test]
    fn star_labels_copy_maps_and_lose_to_explicit_ones() {
        let labels = lp(&[
            ("*", &["metadata", "labels"]),
            ("l_*", &["metadata", "labels"]),
            ("app", &["spec", "app"]),
        ]);
        let obj = json!({"metadata": {"labels": {"app": "from-map", "team.io/x": "t"}}, "spec": {"app": "explicit"}});
        let mut l = Labels::default();
        labels.apply(Some(&obj), &mut l);
        let got: Vec<(String, String)> = l
            .into_sorted()
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let want: Vec<(String, String)> = [
            ("app", "explicit"),
            ("l_app", "from-map"),
            ("l_team_io_x", "t"),
            ("team_io_x", "t"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn samples_sort_by_label_sets() {
        let mut a = Labels::default();
        a.set("b".into(), "1".into());
        let mut b = Labels::default();
        b.set("a".into(), "9".into());
        assert_eq!(compare_labels(&a, &b), Ordering::Greater);
        let empty = Labels::default();
        assert_eq!(compare_labels(&empty, &a), Ordering::Less);
        let mut c = Labels::default();
        c.set("b".into(), "1".into());
        c.set("c".into(), "0".into());
        assert_eq!(compare_labels(&a, &c), Ordering::Less);
    }
}
