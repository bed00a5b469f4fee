//! Every family of every resource with the facts documentation needs: whether it is on by
//! default, opt-in, or only filled when an allowlist names its resource.

use std::collections::BTreeMap;

use kubestate_metric::{FamilyDesc, ObjectMetrics};

use crate::filter::{Allowlist, FamilyFilter, Selection};
use crate::{resources, Resource};

/// One family as users see it.
#[derive(Clone, Debug)]
pub struct CatalogEntry {
    /// The resource (`pods`).
    pub resource: &'static str,
    /// Whether the resource is enabled without `--resources`.
    pub resource_default: bool,
    /// Name, help, type, stability, deprecation.
    pub desc: FamilyDesc,
    /// Only generated when named by `--metric-opt-in-list`.
    pub opt_in: bool,
    /// Only carries samples when `--metric-labels-allowlist`/`--metric-annotations-allowlist`
    /// names the resource.
    pub allowlist_gated: bool,
}

impl CatalogEntry {
    /// Whether a default KSM command line produces samples of this family.
    pub fn on_by_default(&self) -> bool {
        self.resource_default && !self.opt_in && !self.allowlist_gated
    }
}

/// Every family of every resource, in output order.
pub fn catalog() -> Vec<CatalogEntry> {
    resources().iter().flat_map(|r| entries(*r)).collect()
}

fn entries(r: &'static dyn Resource) -> Vec<CatalogEntry> {
    // Gating is observed, not declared: a family that stays empty for an object carrying a
    // label and an annotation unless an allowlist names the resource is allowlist-gated.
    let probe = br#"{"metadata":{"name":"probe","namespace":"probe","uid":"probe","resourceVersion":"1","labels":{"probe":"x"},"annotations":{"probe":"x"}}}"#;
    let all = FamilyFilter::new(&[], &[], &[".*".to_string()]).unwrap_or_default();
    let counts = |allow: &str| -> Vec<usize> {
        let list = Allowlist::parse("probe", allow).unwrap_or_default();
        let sel = Selection {
            families: all.clone(),
            labels: list.for_resource("probe", r.name()).ok().flatten(),
            annotations: list.for_resource("probe", r.name()).ok().flatten(),
        };
        let g = r.generator(sel);
        let mut m = ObjectMetrics::new();
        if g.generate(probe, &mut m).is_err() {
            return vec![0; g.families().len()];
        }
        m.families().map(|f| f.len()).collect()
    };
    let without = counts("");
    let with = counts("*=[*]");
    r.families()
        .into_iter()
        .enumerate()
        .map(|(i, f)| CatalogEntry {
            resource: r.name(),
            resource_default: r.default_enabled(),
            allowlist_gated: without.get(i) == Some(&0) && with.get(i).is_some_and(|n| *n > 0),
            desc: f.desc,
            opt_in: f.opt_in,
        })
        .collect()
}

/// Label names each family emits over `objects` (JSON objects with `kind`), in first-seen order,
/// with every allowlist and opt-in family enabled; dynamic `label_*`/`annotation_*`/
/// `nodeselector_*`/`metadata_*` names are folded into one `<prefix>_<key>` pattern.
pub fn observed_labels(
    objects: impl IntoIterator<Item = serde_json::Value>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let all = FamilyFilter::new(&[], &[], &[".*".to_string()]).unwrap_or_default();
    let allow = Allowlist::parse("doc", "*=[*]").unwrap_or_default();
    let mut m = ObjectMetrics::new();
    for obj in objects {
        let Some(r) = resources().iter().find(|r| obj["kind"] == r.kind()) else {
            continue;
        };
        let sel = Selection {
            families: all.clone(),
            labels: allow.for_resource("doc", r.name()).ok().flatten(),
            annotations: allow.for_resource("doc", r.name()).ok().flatten(),
        };
        let g = r.generator(sel);
        let Ok(bytes) = serde_json::to_vec(&obj) else {
            continue;
        };
        if g.generate(&bytes, &mut m).is_err() {
            continue;
        }
        for (i, f) in m.families().enumerate() {
            let names = out.entry(g.families()[i].name.clone()).or_default();
            for s in f.samples() {
                for (k, _) in s.labels() {
                    let k = fold(k);
                    if !names.contains(&k) {
                        names.push(k);
                    }
                }
            }
        }
    }
    out
}

fn fold(label: &str) -> String {
    for prefix in ["label_", "annotation_", "nodeselector_", "metadata_"] {
        if label.starts_with(prefix) {
            return format!("{prefix}<key>");
        }
    }
    label.to_string()
}

/// `docs/metrics.md`: every family per resource with type, stability, labels (from
/// [`observed_labels`]), whether it is on by default, and its description.
pub fn markdown(labels: &BTreeMap<String, Vec<String>>) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let entries = catalog();
    o.push_str("# Metrics\n\n");
    o.push_str("Generated from the family tables by `cargo run -p kubestate-families --example metrics_doc > docs/metrics.md`; do not edit.\n\n");
    o.push_str("Every family of kube-state-metrics v2.20 is here, with the same name, type, stability and labels.\n");
    o.push_str("Labels are listed in output order (identity labels first); `<key>` stands for one label per allowlisted key.\n");
    o.push_str("*Default* says whether a plain command line produces samples: `opt-in` families need `--metric-opt-in-list`,\n");
    o.push_str("`allowlist` families need `--metric-labels-allowlist`/`--metric-annotations-allowlist` to name the resource,\n");
    o.push_str("`resource off` families need the resource in `--resources`.\n");
    let mut current = "";
    for e in &entries {
        if e.resource != current {
            current = e.resource;
            let _ = write!(
                o,
                "\n## {}{}\n\n",
                e.resource,
                if e.resource_default {
                    ""
                } else {
                    " (off by default)"
                }
            );
            o.push_str("| family | type | stability | labels | default | description |\n|---|---|---|---|---|---|\n");
        }
        let default = if e.opt_in {
            "opt-in"
        } else if e.allowlist_gated {
            "allowlist"
        } else if !e.resource_default {
            "resource off"
        } else {
            "yes"
        };
        let stability = match &e.desc.deprecated_since {
            Some(v) => format!("{} (deprecated since {v})", e.desc.stability.as_str()),
            None => e.desc.stability.as_str().to_string(),
        };
        let l = labels
            .get(&e.desc.name)
            .map(|v| v.join(", "))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} | {} | {} |",
            e.desc.name,
            e.desc.ty.as_str(),
            stability,
            l,
            default,
            e.desc.help.replace('|', "\\|")
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gating_is_detected_from_behaviour() {
        let c = catalog();
        let find = |n: &str| {
            c.iter()
                .find(|e| e.desc.name == n)
                .unwrap_or_else(|| panic!("{n} missing"))
        };
        assert!(find("kube_configmap_labels").allowlist_gated);
        assert!(find("kube_configmap_annotations").allowlist_gated);
        assert!(!find("kube_configmap_info").allowlist_gated);
        assert!(find("kube_configmap_info").on_by_default());
    }
}
