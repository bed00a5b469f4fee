//! Which families and which label/annotation keys are generated (ksm-behaviour.md §2, §5.5).

use std::collections::BTreeMap;

/// Why a filter flag was rejected. Messages say what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// `--metric-allowlist` and `--metric-denylist` were both given.
    #[error(
        "--metric-allowlist and --metric-denylist are mutually exclusive: use only one of them"
    )]
    AllowAndDeny,
    /// A metric pattern is not a valid regular expression.
    #[error("{flag}: {pattern:?} is not a valid regular expression: {message}")]
    BadPattern {
        /// The flag.
        flag: &'static str,
        /// The pattern.
        pattern: String,
        /// What the regex engine said.
        message: String,
    },
    /// A label/annotation allowlist does not follow `resource=[key,...],...`.
    #[error(
        "{flag}: {value:?} does not follow the form resource=[key,key,...],resource=[*]: {why}"
    )]
    AllowlistSyntax {
        /// The flag.
        flag: &'static str,
        /// The whole value.
        value: String,
        /// What is wrong.
        why: String,
    },
    /// A key pattern has more than one `*`.
    #[error("{flag}: key {key:?} has more than one '*': only one wildcard per key is supported")]
    TooManyWildcards {
        /// The flag.
        flag: &'static str,
        /// The key.
        key: String,
    },
}

/// Family-name filters: `--metric-allowlist`, `--metric-denylist` (unanchored ECMAScript
/// regular expressions) and `--metric-opt-in-list` (unanchored RE2).
#[derive(Clone, Debug, Default)]
pub struct FamilyFilter {
    allow: Vec<fancy_regex::Regex>,
    deny: Vec<fancy_regex::Regex>,
    opt_in: Vec<regex::Regex>,
}

impl FamilyFilter {
    /// Compiles the three lists.
    ///
    /// # Errors
    /// Both allow and deny given, or a pattern that does not compile.
    pub fn new(allow: &[String], deny: &[String], opt_in: &[String]) -> Result<Self, FilterError> {
        if !allow.is_empty() && !deny.is_empty() {
            return Err(FilterError::AllowAndDeny);
        }
        let ecma = |flag: &'static str, list: &[String]| {
            list.iter()
                .map(|p| {
                    fancy_regex::Regex::new(p).map_err(|e| FilterError::BadPattern {
                        flag,
                        pattern: p.clone(),
                        message: e.to_string(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let opt_in = opt_in
            .iter()
            .map(|p| {
                regex::Regex::new(p).map_err(|e| FilterError::BadPattern {
                    flag: "--metric-opt-in-list",
                    pattern: p.clone(),
                    message: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FamilyFilter {
            allow: ecma("--metric-allowlist", allow)?,
            deny: ecma("--metric-denylist", deny)?,
            opt_in,
        })
    }

    /// Whether the family `name` is generated.
    pub fn keeps(&self, name: &str, opt_in: bool) -> bool {
        if opt_in && !self.opt_in.iter().any(|r| r.is_match(name)) {
            return false;
        }
        let hit = |rs: &[fancy_regex::Regex]| rs.iter().any(|r| r.is_match(name).unwrap_or(false));
        if !self.allow.is_empty() {
            return hit(&self.allow);
        }
        !hit(&self.deny)
    }
}

/// The allowlisted keys of one resource.
#[derive(Clone, Debug, PartialEq)]
pub enum KeySet {
    /// Every key (`[*]`).
    All,
    /// Exact keys and one-`*` globs.
    Some(Vec<KeyPattern>),
}

/// One allowlist entry.
#[derive(Clone, Debug)]
pub enum KeyPattern {
    /// The key itself.
    Exact(String),
    /// `prefix*suffix`.
    Glob {
        /// Text before the `*`.
        prefix: String,
        /// Text after the `*`.
        suffix: String,
    },
}

impl PartialEq for KeyPattern {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (KeyPattern::Exact(a), KeyPattern::Exact(b)) => a == b,
            (
                KeyPattern::Glob {
                    prefix: a,
                    suffix: b,
                },
                KeyPattern::Glob {
                    prefix: c,
                    suffix: d,
                },
            ) => a == c && b == d,
            _ => false,
        }
    }
}

impl KeySet {
    /// Whether `key` is allowlisted.
    pub fn allows(&self, key: &str) -> bool {
        match self {
            KeySet::All => true,
            KeySet::Some(ps) => ps.iter().any(|p| match p {
                KeyPattern::Exact(k) => k == key,
                KeyPattern::Glob { prefix, suffix } => {
                    key.len() >= prefix.len() + suffix.len()
                        && key.starts_with(prefix.as_str())
                        && key.ends_with(suffix.as_str())
                }
            }),
        }
    }

    fn from_keys(flag: &'static str, keys: &[String]) -> Result<KeySet, FilterError> {
        if keys.first().map(String::as_str) == Some("*") {
            return Ok(KeySet::All);
        }
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if k == "*" {
                // A full wildcard only counts as the first entry; elsewhere KSM skips it.
                continue;
            }
            match k.matches('*').count() {
                0 => out.push(KeyPattern::Exact(k.clone())),
                1 => {
                    let (p, s) = k.split_once('*').unwrap_or((k, ""));
                    out.push(KeyPattern::Glob {
                        prefix: p.to_string(),
                        suffix: s.to_string(),
                    });
                }
                _ => {
                    return Err(FilterError::TooManyWildcards {
                        flag,
                        key: k.clone(),
                    })
                }
            }
        }
        Ok(KeySet::Some(out))
    }
}

/// A parsed `--metric-labels-allowlist` / `--metric-annotations-allowlist`: resource name (or
/// `*` for every enabled resource) → keys, in the raw form the flag gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowlist(pub BTreeMap<String, Vec<String>>);

impl Allowlist {
    /// Parses `res=[k1,k2],res2=[*]`. Repeated flags are merged by the caller.
    ///
    /// # Errors
    /// The value does not follow the grammar.
    pub fn parse(flag: &'static str, value: &str) -> Result<Allowlist, FilterError> {
        let err = |why: &str| FilterError::AllowlistSyntax {
            flag,
            value: value.to_string(),
            why: why.to_string(),
        };
        let mut map = BTreeMap::new();
        let mut rest = value.trim();
        while !rest.is_empty() {
            let eq = rest
                .find('=')
                .ok_or_else(|| err("missing '=' after a resource name"))?;
            let name = rest[..eq].trim();
            if name.is_empty() || name.contains([',', '[', ']']) {
                return Err(err("expected a resource name before '='"));
            }
            let after = &rest[eq + 1..];
            let inner = after
                .strip_prefix('[')
                .ok_or_else(|| err("expected '[' after '='"))?;
            let close = inner.find(']').ok_or_else(|| err("missing ']'"))?;
            let list = &inner[..close];
            if list.contains(['=', '[']) {
                return Err(err("keys cannot contain '=' or '['"));
            }
            if list.contains(",,")
                || list.trim_end().ends_with(',')
                || list.trim_start().starts_with(',')
            {
                return Err(err("empty key between commas"));
            }
            let keys: Vec<String> = inner[..close]
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect();
            map.insert(name.to_string(), keys);
            rest = &inner[close + 1..];
            if let Some(r) = rest.strip_prefix(',') {
                rest = r.trim_start();
                if rest.is_empty() {
                    return Err(err("trailing ','"));
                }
            } else if !rest.is_empty() {
                return Err(err("expected ',' after ']'"));
            }
        }
        Ok(Allowlist(map))
    }

    /// Resource names mentioned (excluding `*`), for validation against known resources.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str).filter(|k| *k != "*")
    }

    /// The compiled keys for `resource`. A `*` entry, when present, applies to every resource
    /// and takes precedence over the resource's own entry (as in KSM).
    ///
    /// # Errors
    /// A key with more than one `*`.
    pub fn for_resource(
        &self,
        flag: &'static str,
        resource: &str,
    ) -> Result<Option<KeySet>, FilterError> {
        match self.0.get("*").or_else(|| self.0.get(resource)) {
            None => Ok(None),
            Some(keys) => KeySet::from_keys(flag, keys).map(Some),
        }
    }
}

/// Everything a generator needs to know about what to emit for one resource.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Family-name filter.
    pub families: FamilyFilter,
    /// Allowlisted label keys of this resource (`None`: no entry, `*_labels` stays empty).
    pub labels: Option<KeySet>,
    /// Allowlisted annotation keys of this resource.
    pub annotations: Option<KeySet>,
}

impl Selection {
    /// Whether the family `name` is generated.
    pub fn keeps(&self, name: &str, opt_in: bool) -> bool {
        self.families.keeps(name, opt_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_grammar() {
        let a = Allowlist::parse("--x", "pods=[app.kubernetes.io/*,team],nodes=[*],ns=[]").unwrap();
        assert_eq!(a.0["pods"], vec!["app.kubernetes.io/*", "team"]);
        assert_eq!(a.0["nodes"], vec!["*"]);
        assert!(a.0["ns"].is_empty());
        for bad in [
            "pods",
            "pods=app",
            "pods=[a",
            "pods=[a]x",
            "pods=[a],",
            "=[a]",
            "pods=[a,,b]",
            "pods=[a,]",
            "pods=[a=b]",
        ] {
            assert!(Allowlist::parse("--x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_sets() {
        let a = Allowlist::parse("--x", "pods=[app.kubernetes.io/*,team,*-tier]").unwrap();
        let k = a.for_resource("--x", "pods").unwrap().unwrap();
        assert!(k.allows("app.kubernetes.io/name"));
        assert!(k.allows("team"));
        assert!(k.allows("front-tier"));
        assert!(!k.allows("teams"));
        assert!(a.for_resource("--x", "nodes").unwrap().is_none());
        let bad = Allowlist::parse("--x", "pods=[a*b*]").unwrap();
        assert!(bad.for_resource("--x", "pods").is_err());
    }

    #[test]
    fn star_resource_takes_precedence() {
        let a = Allowlist::parse("--x", "pods=[team],*=[extra]").unwrap();
        let k = a.for_resource("--x", "pods").unwrap().unwrap();
        assert!(k.allows("extra") && !k.allows("team"));
        assert!(a.for_resource("--x", "nodes").unwrap().is_some());
    }

    /// KSM v2.20's flag parser mixes byte and character offsets and garbles or rejects
    /// non-ASCII keys (docs/migration.md, "Differential fuzzing"); kubestate reads them as
    /// written.
    #[test]
    fn non_ascii_keys_are_read_as_written() {
        let a = Allowlist::parse("--x", "pods=[héllo,日本*],nodes=[ü]").unwrap();
        let k = a.for_resource("--x", "pods").unwrap().unwrap();
        assert!(k.allows("héllo") && k.allows("日本語") && !k.allows("hello"));
        let k = a.for_resource("--x", "nodes").unwrap().unwrap();
        assert!(k.allows("ü"));
    }

    #[test]
    fn full_wildcard_counts_only_first() {
        let a = Allowlist::parse("--x", "pods=[team,*]").unwrap();
        let k = a.for_resource("--x", "pods").unwrap().unwrap();
        assert!(k.allows("team") && !k.allows("other"));
        let a = Allowlist::parse("--x", "pods=[*,team]").unwrap();
        assert_eq!(a.for_resource("--x", "pods").unwrap(), Some(KeySet::All));
    }

    #[test]
    fn family_filters() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let f = FamilyFilter::new(&s(&["kube_pod_status_ready"]), &[], &[]).unwrap();
        assert!(f.keeps("kube_pod_status_ready_time", false)); // unanchored
        assert!(!f.keeps("kube_pod_info", false));
        let f =
            FamilyFilter::new(&[], &s(&["^kube_pod_.*"]), &s(&["kube_pod_nodeselectors"])).unwrap();
        assert!(!f.keeps("kube_pod_info", false));
        assert!(f.keeps("kube_node_info", false));
        let f = FamilyFilter::new(&[], &[], &s(&["kube_pod_nodeselectors"])).unwrap();
        assert!(f.keeps("kube_pod_nodeselectors", true));
        assert!(!f.keeps("kube_persistentvolume_csi_attributes", true));
        assert!(FamilyFilter::new(&s(&["a"]), &s(&["b"]), &[]).is_err());
        assert!(FamilyFilter::new(&s(&["("]), &[], &[]).is_err());
    }
}
