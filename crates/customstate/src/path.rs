//! Paths into a custom resource (`[status, conditions, "[type=Ready]", status]`): compiled
//! once from the configuration, evaluated against each object's JSON.

use serde_json::Value;

use super::value::{str_to_float, to_float};

/// One step of a path.
#[derive(Clone, Debug)]
enum Step {
    /// A map key, or a list index (`0`, `-1`); `key=value` on a map yields the field only
    /// when it equals `value`.
    Key {
        part: String,
        /// `part` split at its only `=`.
        matching: Option<(String, String)>,
    },
    /// `[key=value]`: the first list element (a map) whose `key` equals `value`.
    Select {
        key: String,
        value: String,
        /// `value` as a number, when it reads as one.
        number: Option<f64>,
        /// `value` as a Go boolean (`1`, `t`, `TRUE`, `False`…), when it reads as one.
        boolean: Option<bool>,
    },
}

/// A compiled path. Evaluating it never fails: anything missing is `None` ("nil").
#[derive(Clone, Debug, Default)]
pub(crate) struct ValuePath {
    steps: Vec<Step>,
    text: String,
}

impl ValuePath {
    /// Compiles the segments of a configured path.
    ///
    /// # Errors
    /// A `[...]` segment without `=`.
    pub(crate) fn compile(segments: &[String]) -> Result<ValuePath, String> {
        let mut steps = Vec::with_capacity(segments.len());
        for part in segments {
            if part.len() >= 2 && part.starts_with('[') && part.ends_with(']') {
                let inner = &part[1..part.len() - 1];
                let Some((key, value)) = inner.split_once('=') else {
                    return Err(format!(
                        "invalid list lookup {part:?}: write it as \"[key=value]\""
                    ));
                };
                steps.push(Step::Select {
                    key: key.to_string(),
                    value: value.to_string(),
                    number: str_to_float(value).ok(),
                    boolean: go_parse_bool(value),
                });
            } else {
                let mut kv = part.split('=');
                let matching = match (kv.next(), kv.next(), kv.next()) {
                    (Some(k), Some(v), None) => Some((k.to_string(), v.to_string())),
                    _ => None,
                };
                steps.push(Step::Key {
                    part: part.clone(),
                    matching,
                });
            }
        }
        Ok(ValuePath {
            steps,
            text: format!("[{}]", segments.join(",")),
        })
    }

    /// The only segment, when there is exactly one non-empty plain key without a comma
    /// (KSM recognises this case by the path's text `[key]`).
    pub(crate) fn single_key(&self) -> Option<&str> {
        match self.steps.as_slice() {
            [Step::Key { part, .. }] if !part.is_empty() && !part.contains(',') => Some(part),
            _ => None,
        }
    }

    /// How the path is written in messages: `[a,b,c]`.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Follows the path from `v`. JSON `null` counts as missing.
    pub(crate) fn get<'a>(&self, v: Option<&'a Value>) -> Option<&'a Value> {
        let mut cur = v.filter(|x| !x.is_null());
        for step in &self.steps {
            let obj = cur?;
            cur = step.apply(obj).filter(|x| !x.is_null());
        }
        cur
    }
}

impl Step {
    fn apply<'a>(&self, obj: &'a Value) -> Option<&'a Value> {
        match self {
            Step::Key { part, matching } => match obj {
                Value::Object(map) => {
                    if let Some((k, want)) = matching {
                        if let Some(found @ Value::String(s)) = map.get(k) {
                            if s == want {
                                return Some(found);
                            }
                        }
                    }
                    map.get(part.as_str())
                }
                Value::Array(list) => {
                    // Go's strconv.Atoi: optional sign, decimal digits.
                    let i: i64 = part.parse().ok()?;
                    let len = list.len() as i64;
                    let i = if i < 0 { i + len } else { i };
                    usize::try_from(i).ok().and_then(|i| list.get(i))
                }
                _ => None,
            },
            Step::Select {
                key,
                value,
                number,
                boolean,
            } => {
                let Value::Array(list) = obj else {
                    return None;
                };
                list.iter().find(|el| {
                    let Value::Object(m) = el else {
                        return false;
                    };
                    let Some(candidate) = m.get(key.as_str()) else {
                        return false;
                    };
                    if candidate.as_str() == Some(value.as_str()) {
                        return true;
                    }
                    if let Some(n) = number {
                        if to_float(Some(candidate), false).is_ok_and(|c| c == *n) {
                            return true;
                        }
                    }
                    matches!((boolean, candidate), (Some(b), Value::Bool(c)) if b == c)
                })
            }
        }
    }
}

/// Go's `strconv.ParseBool`.
fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(p: &[&str]) -> ValuePath {
        ValuePath::compile(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn keys_and_indexes() {
        let v = json!({"a": {"b": [10, 20, 30]}, "n": null});
        assert_eq!(path(&["a", "b", "0"]).get(Some(&v)), Some(&json!(10)));
        assert_eq!(path(&["a", "b", "-1"]).get(Some(&v)), Some(&json!(30)));
        assert_eq!(path(&["a", "b", "+1"]).get(Some(&v)), Some(&json!(20)));
        assert_eq!(path(&["a", "b", "3"]).get(Some(&v)), None);
        assert_eq!(path(&["a", "b", "-4"]).get(Some(&v)), None);
        assert_eq!(path(&["a", "b", "x"]).get(Some(&v)), None);
        assert_eq!(path(&["a", "x"]).get(Some(&v)), None);
        assert_eq!(path(&["n"]).get(Some(&v)), None);
        assert_eq!(path(&["n", "deeper"]).get(Some(&v)), None);
        assert_eq!(path(&[]).get(Some(&v)), Some(&v));
        assert_eq!(path(&[]).get(None), None);
        assert_eq!(path(&["a", "b", "0", "x"]).get(Some(&v)), None);
    }

    #[test]
    fn list_selectors() {
        let v = json!({"c": [
            {"type": "A", "status": "False", "n": 1},
            {"type": "B", "status": "True", "n": 2, "ok": true},
            {"type": "C", "status": "yes", "n": "3"},
            "not a map"
        ]});
        let sel = |s: &str| path(&["c", s, "type"]).get(Some(&v)).cloned();
        assert_eq!(sel("[type=B]"), Some(json!("B")));
        assert_eq!(sel("[status=True]"), Some(json!("B")));
        // Numbers compare as numbers, with KSM's reading of strings.
        assert_eq!(sel("[n=3]"), Some(json!("C")));
        assert_eq!(sel("[n=2.0]"), Some(json!("B")));
        // "true" reads as 1 and so does "yes"; the first match wins.
        assert_eq!(sel("[status=true]"), Some(json!("B")));
        assert_eq!(sel("[ok=t]"), Some(json!("B")));
        assert_eq!(sel("[type=Z]"), None);
        assert_eq!(sel("[missing=1]"), None);
        assert!(ValuePath::compile(&["[type]".to_string()]).is_err());
        // A selector on a map resolves to nothing.
        assert_eq!(path(&["[type=A]"]).get(Some(&v)), None);
    }

    #[test]
    fn key_equals_value_on_maps() {
        let v = json!({"phase": "Ready", "a=b": 5});
        assert_eq!(path(&["phase=Ready"]).get(Some(&v)), Some(&json!("Ready")));
        assert_eq!(path(&["phase=Failed"]).get(Some(&v)), None);
        assert_eq!(path(&["a=b"]).get(Some(&v)), Some(&json!(5)));
        assert_eq!(path(&["a", "b"]).text(), "[a,b]");
        assert_eq!(path(&["x"]).single_key(), Some("x"));
    }
}
