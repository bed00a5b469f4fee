//! Label and field selectors with the API server's syntax.

use crate::object::{supported_fields, StoredObject};

/// One label selector requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector (AND of requirements). Empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    reqs: Vec<LabelReq>,
}

/// One field selector requirement: field, wanted value, negated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldReq {
    field: String,
    value: String,
    negated: bool,
}

/// A parsed field selector (AND of requirements). Empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    reqs: Vec<FieldReq>,
}

/// Split on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 316
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_set(s: &str) -> Result<Vec<String>, String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesized set, found {s:?}"))?;
    let vals: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
    for v in &vals {
        if !valid_value(v) {
            return Err(format!("invalid label value: {v:?}"));
        }
    }
    Ok(vals)
}

impl LabelSelector {
    /// Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(LabelSelector { reqs });
        }
        for part in split_top_level(s) {
            let p = part.trim();
            if p.is_empty() {
                return Err(format!("unable to parse requirement: empty term in {s:?}"));
            }
            let req = if let Some(k) = p.strip_prefix('!') {
                let k = k.trim();
                if !valid_key(k) {
                    return Err(format!("invalid label key: {k:?}"));
                }
                LabelReq::NotExists(k.to_string())
            } else if let Some((k, v)) = p.split_once("!=") {
                LabelReq::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = p.split_once("==") {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = p.split_once('=') {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some(idx) = p.find(" notin ").or_else(|| p.find(" notin(")) {
                let (k, rest) = p.split_at(idx);
                LabelReq::NotIn(k.trim().to_string(), parse_set(&rest[6..])?)
            } else if let Some(idx) = p.find(" in ").or_else(|| p.find(" in(")) {
                let (k, rest) = p.split_at(idx);
                LabelReq::In(k.trim().to_string(), parse_set(&rest[3..])?)
            } else {
                if !valid_key(p) {
                    return Err(format!("unable to parse requirement: {p:?}"));
                }
                LabelReq::Exists(p.to_string())
            };
            match &req {
                LabelReq::Eq(k, v) | LabelReq::NotEq(k, v) => {
                    if !valid_key(k) {
                        return Err(format!("invalid label key: {k:?}"));
                    }
                    if !valid_value(v) {
                        return Err(format!("invalid label value: {v:?}"));
                    }
                }
                LabelReq::In(k, _) | LabelReq::NotIn(k, _) if !valid_key(k) => {
                    return Err(format!("invalid label key: {k:?}"));
                }
                _ => {}
            }
            reqs.push(req);
        }
        Ok(LabelSelector { reqs })
    }

    /// Whether the selector has no requirement.
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Whether an object's labels satisfy every requirement.
    pub fn matches(&self, o: &StoredObject) -> bool {
        self.reqs.iter().all(|r| match r {
            LabelReq::Eq(k, v) => o.label(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => o.label(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => o.label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelReq::NotIn(k, vs) => o.label(k).is_none_or(|l| !vs.iter().any(|v| v == l)),
            LabelReq::Exists(k) => o.label(k).is_some(),
            LabelReq::NotExists(k) => o.label(k).is_none(),
        })
    }
}

impl FieldSelector {
    /// Parse `metadata.namespace!=a,spec.nodeName=n` for objects of `kind`; unknown
    /// fields are an error like on the real server (`field label not supported: x`).
    pub fn parse(s: &str, kind: &str) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(FieldSelector { reqs });
        }
        for part in s.split(',') {
            let p = part.trim();
            let (field, value, negated) = if let Some((k, v)) = p.split_once("!=") {
                (k, v, true)
            } else if let Some((k, v)) = p.split_once("==") {
                (k, v, false)
            } else if let Some((k, v)) = p.split_once('=') {
                (k, v, false)
            } else {
                return Err(format!("invalid selector: '{s}'; can't understand '{p}'"));
            };
            let field = field.trim();
            if field != "metadata.name"
                && field != "metadata.namespace"
                && !supported_fields(kind).contains(&field)
            {
                return Err(format!("field label not supported: {field}"));
            }
            reqs.push(FieldReq {
                field: field.to_string(),
                value: value.trim().to_string(),
                negated,
            });
        }
        Ok(FieldSelector { reqs })
    }

    /// Whether the selector has no requirement.
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Whether the object's fields satisfy every requirement.
    pub fn matches(&self, o: &StoredObject) -> bool {
        self.reqs.iter().all(|r| {
            let v = o.field(&r.field).unwrap_or("");
            (v == r.value) != r.negated
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn pod(ns: &str, node: &str, labels: serde_json::Value) -> StoredObject {
        let v = serde_json::json!({"metadata":{"name":"p","namespace":ns,"labels":labels},
            "spec":{"nodeName":node}});
        StoredObject::from_value(&v, "Pod", Bytes::new())
    }

    #[test]
    fn label_selector_operators() {
        let o = pod("a", "", serde_json::json!({"app":"web","tier":"fe"}));
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(&o);
        assert!(m("app=web"));
        assert!(m("app==web"));
        assert!(!m("app!=web"));
        assert!(m("app in (web, api)"));
        assert!(!m("app notin (web,api)"));
        assert!(m("tier notin (be)"));
        assert!(m("app"));
        assert!(!m("!app"));
        assert!(m("!missing"));
        assert!(m("app=web,tier in (fe)"));
        assert!(!m("app=web,tier in (be)"));
        assert!(m("missing notin (x)"));
        assert!(LabelSelector::parse("a=b=c").is_err());
        assert!(LabelSelector::parse("a in x").is_err());
        assert!(LabelSelector::parse("a,,b").is_err());
    }

    #[test]
    fn field_selector_operators() {
        let o = pod("team-a", "node-1", serde_json::json!({}));
        let m = |s: &str| FieldSelector::parse(s, "Pod").unwrap().matches(&o);
        assert!(m("metadata.namespace=team-a"));
        assert!(m("metadata.namespace==team-a"));
        assert!(m(
            "metadata.namespace!=team-b,metadata.namespace!=kube-system"
        ));
        assert!(!m("metadata.namespace!=team-a,metadata.namespace!=b"));
        assert!(m("spec.nodeName=node-1"));
        assert!(!m("spec.nodeName="));
        assert!(FieldSelector::parse("spec.nodeName=x", "Secret").is_err());
        assert!(FieldSelector::parse("bogus", "Pod").is_err());
        let unscheduled = pod("a", "", serde_json::json!({}));
        assert!(FieldSelector::parse("spec.nodeName=", "Pod")
            .unwrap()
            .matches(&unscheduled));
    }
}
