//! Test helpers for kubestate: the conformance worlds of `../shared/conformance`, family-wise
//! comparison of exposition bodies with readable diffs, lookups of external validators, the
//! simulated API server started on a conformance world, and a real control plane (etcd +
//! kube-apiserver) on loopback.
//!
//! Dev-only; never a dependency of shipped code.
#![deny(missing_docs)]

pub mod control_plane;
pub mod http;
pub mod sim;
pub mod tools;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The shared corpus directory (`../shared` next to the repository), if present.
pub fn shared_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("KUBESTATE_SHARED") {
        return Some(PathBuf::from(p));
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared"))
        .find(|p| p.join("conformance").is_dir())
        .or_else(|| {
            here.ancestors()
                .filter_map(|a| a.parent())
                .map(|a| a.join("shared"))
                .find(|p| p.join("conformance").is_dir())
        })
}

/// One conformance case: a world, KSM flags, and KSM's output for them.
#[derive(Clone, Debug)]
pub struct Case {
    /// Directory name.
    pub name: String,
    /// Directory.
    pub dir: PathBuf,
    /// KSM flags, one argv element each.
    pub args: Vec<String>,
    /// `expected.prom` (text format, HELP lines removed).
    pub expected_prom: String,
    /// `expected.openmetrics`, when the case has one.
    pub expected_openmetrics: Option<String>,
}

impl Case {
    /// The objects of the world, one JSON object each (raw bytes).
    ///
    /// # Panics
    /// If `objects.json` is missing or malformed (test data).
    pub fn objects(&self) -> Vec<serde_json::Value> {
        let raw = std::fs::read(self.dir.join("objects.json")).expect("objects.json");
        let v: serde_json::Value = serde_json::from_slice(&raw).expect("objects.json is JSON");
        v["items"].as_array().cloned().unwrap_or_default()
    }

    /// Path of `objects.json`.
    pub fn objects_path(&self) -> PathBuf {
        self.dir.join("objects.json")
    }

    /// The value of flag `--name` (last occurrence), if given as `--name=value`.
    pub fn flag(&self, name: &str) -> Option<&str> {
        let prefix = format!("--{name}=");
        self.args
            .iter()
            .rev()
            .find_map(|a| a.strip_prefix(prefix.as_str()))
    }
}

/// Every conformance case, sorted by name. Empty (with a message on stderr) when the shared
/// corpus is not next to the repository.
pub fn cases() -> Vec<Case> {
    let Some(shared) = shared_dir() else {
        eprintln!(
            "conformance corpus not found (set KUBESTATE_SHARED or place shared/ beside the repo)"
        );
        return Vec::new();
    };
    cases_in(&shared.join("conformance/cases"))
}

/// Every case in the subdirectories of `dir` (the conformance layout: `objects.json`,
/// `args.txt`, `expected.prom`, optional `expected.openmetrics`), sorted by name.
pub fn cases_in(dir: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let dir = e.path();
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
        let Some(expected_prom) = read("expected.prom") else {
            continue;
        };
        let args = read("args.txt")
            .unwrap_or_default()
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        out.push(Case {
            name: e.file_name().to_string_lossy().into_owned(),
            args,
            expected_prom,
            expected_openmetrics: read("expected.openmetrics"),
            dir,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A body split into families: `# TYPE` line → sorted sample lines. Splits on `\n` only.
pub fn families(body: &str) -> BTreeMap<String, Vec<String>> {
    let mut fams: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in body.split('\n') {
        if line.starts_with("# TYPE ") {
            cur = Some(line.to_string());
            fams.entry(line.to_string()).or_default();
        } else if !line.is_empty() && !line.starts_with('#') {
            let key = cur.clone().unwrap_or_else(|| "(no TYPE line)".to_string());
            fams.entry(key).or_default().push(line.to_string());
        }
    }
    for v in fams.values_mut() {
        v.sort();
    }
    fams
}

/// The `# TYPE` lines of a body, in order.
pub fn type_lines(body: &str) -> Vec<String> {
    body.split('\n')
        .filter(|l| l.starts_with("# TYPE "))
        .map(str::to_string)
        .collect()
}

/// Compares two bodies family by family (TYPE lines as a set, samples as sorted multisets),
/// restricted to families whose metric name satisfies `keep`. Returns a readable report of
/// every difference, or `None` when they agree.
pub fn diff_families(expected: &str, actual: &str, keep: impl Fn(&str) -> bool) -> Option<String> {
    let name_of = |t: &str| t.split(' ').nth(2).unwrap_or("").to_string();
    let e: BTreeMap<_, _> = families(expected)
        .into_iter()
        .filter(|(k, _)| keep(&name_of(k)))
        .collect();
    let a: BTreeMap<_, _> = families(actual)
        .into_iter()
        .filter(|(k, _)| keep(&name_of(k)))
        .collect();
    let mut report = String::new();
    for k in e.keys().filter(|k| !a.contains_key(*k)) {
        report.push_str(&format!("missing family: {k} ({} samples)\n", e[k].len()));
    }
    for k in a.keys().filter(|k| !e.contains_key(*k)) {
        report.push_str(&format!(
            "unexpected family: {k} ({} samples)\n",
            a[k].len()
        ));
    }
    for (k, ev) in &e {
        let Some(av) = a.get(k) else { continue };
        if ev == av {
            continue;
        }
        report.push_str(&format!("family {k} differs:\n"));
        let (mut i, mut j) = (0, 0);
        while i < ev.len() || j < av.len() {
            match (ev.get(i), av.get(j)) {
                (Some(x), Some(y)) if x == y => {
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x < y => {
                    report.push_str(&format!("  - {x}\n"));
                    i += 1;
                }
                (Some(_), Some(y)) => {
                    report.push_str(&format!("  + {y}\n"));
                    j += 1;
                }
                (Some(x), None) => {
                    report.push_str(&format!("  - {x}\n"));
                    i += 1;
                }
                (None, Some(y)) => {
                    report.push_str(&format!("  + {y}\n"));
                    j += 1;
                }
                (None, None) => break,
            }
        }
    }
    (!report.is_empty()).then_some(report)
}

/// Looks for an executable: `$ENV_VAR`, then the given extra directories, then `PATH`.
pub fn find_binary(env_var: &str, name: &str, extra_dirs: &[PathBuf]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env_var) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    extra_dirs
        .iter()
        .cloned()
        .chain(std::env::split_paths(&path))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_split_on_newline_only() {
        let body =
            "# HELP a x\n# TYPE a gauge\na{l=\"x\r\"} 1\na{l=\"b\"} 2\n# TYPE b counter\nb 3\n";
        let f = families(body);
        assert_eq!(f["# TYPE a gauge"], vec!["a{l=\"b\"} 2", "a{l=\"x\r\"} 1"]);
        assert_eq!(f["# TYPE b counter"], vec!["b 3"]);
    }

    #[test]
    fn diff_reports_missing_and_extra_samples() {
        let e = "# TYPE a gauge\na 1\na 2\n";
        let a = "# TYPE a gauge\na 1\na 3\n";
        let d = diff_families(e, a, |_| true).expect("differs");
        assert!(d.contains("  - a 2") && d.contains("  + a 3"), "{d}");
        assert!(diff_families(e, e, |_| true).is_none());
        assert!(diff_families(e, a, |n| n != "a").is_none());
    }
}
