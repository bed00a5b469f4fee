//! Delta debugging of a failing world: first over its objects, then over the fields of what
//! is left, to a world where removing any one more object or field makes the difference go.
//!
//! A candidate "still fails" when one of the families of the original difference still
//! differs. Candidates are evaluated many at a time, packed into one served world
//! ([`crate::pack`]), so a shrinking round costs one KSM start whatever its size.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::gen::World;
use crate::pack;
use crate::run::{by_world, scrape_both, signature};

/// At most this many candidates are served together.
const MAX_PACK: usize = 120;

/// Which of `cands` still show a difference in one of the `target` families, under `flags`.
///
/// # Errors
/// A run failed.
pub async fn still_failing(
    ksm: &Path,
    cands: &[World],
    flags: &[String],
    target: &BTreeSet<String>,
) -> Result<Vec<bool>, String> {
    let mut out = Vec::with_capacity(cands.len());
    for chunk in cands.chunks(MAX_PACK) {
        let scrapes =
            scrape_both(ksm, &pack::pack(chunk), &pack::flags(flags, chunk.len())).await?;
        let diffs = by_world(scrapes.differences());
        for i in 0..chunk.len() {
            let fails = diffs
                .get(&Some(i))
                .is_some_and(|d| !signature(d).is_disjoint(target));
            out.push(fails);
        }
    }
    Ok(out)
}

/// Shrinks `world`, which differs in the `target` families under `flags`, within `rounds`
/// evaluation rounds. Returns the smallest world found that still differs.
///
/// # Errors
/// A run failed.
pub async fn shrink(
    ksm: &Path,
    world: &World,
    flags: &[String],
    target: &BTreeSet<String>,
    rounds: usize,
) -> Result<World, String> {
    let mut best = world.clone();
    best.seed = None;
    let mut budget = rounds;
    // Objects: remove every object whose removal alone keeps the failure, all at once if
    // that still fails, else the first such one.
    while budget > 0 && best.objects.len() > 1 {
        budget -= 1;
        let cands: Vec<World> = (0..best.objects.len())
            .map(|i| without(&best, |j| j == i))
            .collect();
        let ok = still_failing(ksm, &cands, flags, target).await?;
        let removable: BTreeSet<usize> = (0..ok.len()).filter(|i| ok[*i]).collect();
        if removable.is_empty() {
            break;
        }
        let all = without(&best, |j| removable.contains(&j));
        if removable.len() > 1 && budget > 0 {
            budget -= 1;
            if still_failing(ksm, std::slice::from_ref(&all), flags, target).await?[0] {
                best = all;
                continue;
            }
        } else if removable.len() == 1 {
            best = all;
            continue;
        }
        let first = *removable.iter().next().unwrap_or(&0);
        best = without(&best, |j| j == first);
    }
    // Fields: the same over every removable member of every object (identity kept).
    while budget > 0 {
        budget -= 1;
        let paths = removable_paths(&best);
        if paths.is_empty() {
            break;
        }
        let cands: Vec<World> = paths.iter().map(|p| remove_path(&best, p)).collect();
        let ok = still_failing(ksm, &cands, flags, target).await?;
        let good: Vec<&Path_> = paths
            .iter()
            .zip(&ok)
            .filter(|(_, o)| **o)
            .map(|(p, _)| p)
            .collect();
        if good.is_empty() {
            break;
        }
        // Removing a member also removes its children: keep only outermost paths, and
        // remove deepest-first array indices so earlier removals do not shift later ones.
        let mut all = best.clone();
        let mut outer: Vec<&Path_> = good
            .iter()
            .copied()
            .filter(|p| !good.iter().any(|q| q.len() < p.len() && p.starts_with(q)))
            .collect();
        outer.sort_by(|a, b| b.cmp(a));
        for p in &outer {
            all = remove_path(&all, p);
        }
        if outer.len() > 1 && budget > 0 {
            budget -= 1;
            if still_failing(ksm, std::slice::from_ref(&all), flags, target).await?[0] {
                best = all;
                continue;
            }
        } else if outer.len() == 1 {
            best = all;
            continue;
        }
        best = remove_path(&best, good[0]);
    }
    Ok(best)
}

/// A path to a JSON member: object index, then keys or array indices.
type Path_ = Vec<Step>;

/// One step of a [`Path_`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Object(usize),
    Key(String),
    Index(usize),
}

fn without(w: &World, drop: impl Fn(usize) -> bool) -> World {
    World {
        seed: None,
        objects: w
            .objects
            .iter()
            .enumerate()
            .filter(|(i, _)| !drop(*i))
            .map(|(_, o)| o.clone())
            .collect(),
    }
}

/// Members that may go: everything but `apiVersion`, `kind` and the object's identity
/// (`metadata.name`, `.namespace`, `.uid`, `.resourceVersion`).
fn removable_paths(w: &World) -> Vec<Path_> {
    let mut out = Vec::new();
    for (i, o) in w.objects.iter().enumerate() {
        walk(o, &mut vec![Step::Object(i)], &mut out);
    }
    out
}

fn walk(v: &Value, path: &mut Path_, out: &mut Vec<Path_>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let protected = match path.len() {
                    1 => k == "apiVersion" || k == "kind" || k == "metadata",
                    2 => {
                        path[1] == Step::Key("metadata".into())
                            && matches!(
                                k.as_str(),
                                "name" | "namespace" | "uid" | "resourceVersion"
                            )
                    }
                    _ => false,
                };
                path.push(Step::Key(k.clone()));
                if !protected {
                    out.push(path.clone());
                }
                walk(x, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(Step::Index(i));
                out.push(path.clone());
                walk(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn remove_path(w: &World, p: &Path_) -> World {
    let mut w = w.clone();
    w.seed = None;
    let Some(Step::Object(i)) = p.first() else {
        return w;
    };
    let Some(mut cur) = w.objects.get_mut(*i) else {
        return w;
    };
    for (n, step) in p[1..].iter().enumerate() {
        let last = n == p.len() - 2;
        match (step, cur) {
            (Step::Key(k), Value::Object(m)) => {
                if last {
                    m.remove(k);
                    return w;
                }
                match m.get_mut(k) {
                    Some(next) => cur = next,
                    None => return w,
                }
            }
            (Step::Index(j), Value::Array(a)) => {
                if last {
                    if *j < a.len() {
                        a.remove(*j);
                    }
                    return w;
                }
                match a.get_mut(*j) {
                    Some(next) => cur = next,
                    None => return w,
                }
            }
            _ => return w,
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_keep_identity_and_remove_members() {
        let w = World {
            seed: None,
            objects: vec![json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "fz-p", "labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c"}, {"name": "d"}]}})],
        };
        let paths = removable_paths(&w);
        let spec_c1 = vec![
            Step::Object(0),
            Step::Key("spec".into()),
            Step::Key("containers".into()),
            Step::Index(1),
        ];
        assert!(paths.contains(&spec_c1));
        let w2 = remove_path(&w, &spec_c1);
        assert_eq!(w2.objects[0]["spec"]["containers"], json!([{"name": "c"}]));
        let labels = vec![
            Step::Object(0),
            Step::Key("metadata".into()),
            Step::Key("labels".into()),
        ];
        assert!(paths.contains(&labels));
        assert!(remove_path(&w, &labels).objects[0]["metadata"]
            .get("labels")
            .is_none());
        assert!(!paths.contains(&vec![
            Step::Object(0),
            Step::Key("metadata".into()),
            Step::Key("name".into())
        ]));
    }
}
