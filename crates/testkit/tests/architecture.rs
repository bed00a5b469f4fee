//! ARCHITECTURE.md stays true: its crate table lists every workspace crate with its path, its
//! one job and exactly its workspace dependencies, and no crate depends on one below it in the
//! table (the table is the one definition of the flow order).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One workspace crate as its `Cargo.toml` declares it.
#[derive(Debug)]
struct Crate {
    name: String,
    /// Directory relative to the workspace root (`crates/metric`).
    path: String,
    /// Workspace crates in `[dependencies]` (dev- and build-dependencies are not counted).
    deps: BTreeSet<String>,
}

/// One row of the table.
#[derive(Debug)]
struct Row {
    name: String,
    path: String,
    job: String,
    deps: BTreeSet<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `members = [...]` of the workspace manifest.
fn members(manifest: &str) -> Vec<String> {
    let start = manifest.find("members").expect("a members list");
    let list = &manifest[start..];
    let list = &list[list.find('[').expect("[") + 1..list.find(']').expect("]")];
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

/// The package name and the workspace crates in `[dependencies]` of a crate manifest.
fn manifest(text: &str, workspace: &BTreeSet<String>) -> (String, BTreeSet<String>) {
    let mut name = String::new();
    let mut deps = BTreeSet::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        let key = line
            .split(['=', '.', ' '])
            .next()
            .unwrap_or("")
            .trim_matches('"');
        if section == "[package]" && key == "name" && name.is_empty() {
            name = line.split('"').nth(1).unwrap_or("").to_string();
        }
        if section == "[dependencies]" && workspace.contains(key) {
            deps.insert(key.to_string());
        }
    }
    (name, deps)
}

fn workspace() -> Vec<Crate> {
    let root = root();
    let top = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let paths = members(&top);
    let texts: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            let t = std::fs::read_to_string(root.join(p).join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("{p}/Cargo.toml: {e}"));
            (p.clone(), t)
        })
        .collect();
    let names: BTreeSet<String> = texts
        .iter()
        .map(|(_, t)| manifest(t, &BTreeSet::new()).0)
        .collect();
    texts
        .iter()
        .map(|(p, t)| {
            let (name, deps) = manifest(t, &names);
            Crate {
                name,
                path: p.clone(),
                deps,
            }
        })
        .collect()
}

/// The rows of the table under `## Crates, in flow order`.
fn table(md: &str) -> Result<Vec<Row>, String> {
    let start = md
        .find("## Crates, in flow order")
        .ok_or("no `## Crates, in flow order` section")?;
    let section = &md[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let code = |s: &str| s.trim().trim_matches('`').to_string();
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        let [name, path, job, deps] = cells[..] else {
            return Err(format!("a row needs 4 cells: {line}"));
        };
        let deps = if deps.trim() == "—" {
            BTreeSet::new()
        } else {
            deps.split(',').map(code).collect()
        };
        rows.push(Row {
            name: code(name),
            path: code(path),
            job: job.trim().to_string(),
            deps,
        });
    }
    if rows.is_empty() {
        return Err("the crate table has no rows".into());
    }
    Ok(rows)
}

/// Everything wrong with `md` for these crates.
fn problems(md: &str, crates: &[Crate]) -> Vec<String> {
    let rows = match table(md) {
        Ok(r) => r,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    let position: BTreeMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    if position.len() != rows.len() {
        out.push("a crate is listed twice".into());
    }
    for c in crates {
        let Some(&at) = position.get(c.name.as_str()) else {
            out.push(format!("{} ({}) is missing from the table", c.name, c.path));
            continue;
        };
        let row = &rows[at];
        if row.path != c.path {
            out.push(format!(
                "{}: the table says {}, the workspace {}",
                c.name, row.path, c.path
            ));
        }
        if row.job.is_empty() {
            out.push(format!("{}: its one job is not stated", c.name));
        }
        if row.deps != c.deps {
            out.push(format!(
                "{}: the table lists dependencies {:?}, Cargo.toml has {:?}",
                c.name, row.deps, c.deps
            ));
        }
        for d in &c.deps {
            match position.get(d.as_str()) {
                Some(&i) if i < at => {}
                Some(_) => out.push(format!(
                    "{} depends on {d}, which comes after it in the flow order (upstream)",
                    c.name
                )),
                None => out.push(format!("{} depends on {d}, missing from the table", c.name)),
            }
        }
    }
    for r in &rows {
        if !crates.iter().any(|c| c.name == r.name) {
            out.push(format!(
                "{} is in the table but not in the workspace",
                r.name
            ));
        }
    }
    out
}

#[test]
fn architecture_md_matches_the_workspace() {
    let md = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let crates = workspace();
    assert!(crates.len() >= 10, "read {} crates", crates.len());
    let p = problems(&md, &crates);
    assert!(
        p.is_empty(),
        "ARCHITECTURE.md is out of date:\n{}",
        p.join("\n")
    );
}

#[test]
fn the_check_catches_drift() {
    let c = |name: &str, deps: &[&str]| Crate {
        name: name.into(),
        path: format!("crates/{name}"),
        deps: deps.iter().map(|d| d.to_string()).collect(),
    };
    let md = "## Crates, in flow order\n\n| crate | path | job | depends on |\n|---|---|---|---|\n\
              | `a` | `crates/a` | Does a. | — |\n| `b` | `crates/b` | Does b. | `a` |\n\n## Next\n";
    assert!(problems(md, &[c("a", &[]), c("b", &["a"])]).is_empty());
    // A dependency pointing up the flow.
    let p = problems(md, &[c("a", &["b"]), c("b", &["a"])]);
    assert!(
        p.iter()
            .any(|e| e.contains("a depends on b") && e.contains("upstream")),
        "{p:?}"
    );
    // A crate the table does not know.
    let p = problems(md, &[c("a", &[]), c("b", &["a"]), c("z", &[])]);
    assert!(
        p.iter().any(|e| e.contains("z (crates/z) is missing")),
        "{p:?}"
    );
    // A dependency the table does not list.
    let p = problems(md, &[c("a", &[]), c("b", &[])]);
    assert!(p.iter().any(|e| e.contains("b: the table lists")), "{p:?}");
    // A row for a crate that is gone.
    let p = problems(md, &[c("a", &[])]);
    assert!(
        p.iter().any(|e| e.contains("b is in the table but not")),
        "{p:?}"
    );
    assert!(!problems("# nothing\n", &[]).is_empty());
}

#[test]
fn manifests_are_read_as_cargo_reads_them() {
    let ws: BTreeSet<String> = ["kubestate-metric", "kubestate-store"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (name, deps) = manifest(
        "[package]\nname = \"kubestate-x\"\n\n[dependencies]\nkubestate-metric.workspace = true\n\
         serde.workspace = true\n\n[dev-dependencies]\nkubestate-store.workspace = true\n",
        &ws,
    );
    assert_eq!(name, "kubestate-x");
    assert_eq!(deps, ["kubestate-metric".to_string()].into_iter().collect());
    assert_eq!(
        members("[workspace]\nmembers = [\n    \"crates/a\",\n    \"crates/b\",\n]\n"),
        vec!["crates/a", "crates/b"]
    );
}
