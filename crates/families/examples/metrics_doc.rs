//! Generates `docs/metrics.md` from the family tables.
//!
//! `cargo run -p kubestate-families --example metrics_doc > docs/metrics.md`
//!
//! Label names are the ones kubestate actually emits for the conformance worlds (identity
//! labels first, in output order), so the page can never drift from the code.

use std::collections::BTreeMap;

use kubestate_families::catalog::catalog;
use kubestate_families::{resources, Allowlist, FamilyFilter, Selection};
use kubestate_metric::ObjectMetrics;

/// Label names seen per family over every object of every conformance world, in first-seen
/// order; dynamic `label_*`/`annotation_*`/`nodeselector_*`… names are folded into one pattern.
fn observed_labels() -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let all = FamilyFilter::new(&[], &[], &[".*".to_string()]).unwrap_or_default();
    let allow = Allowlist::parse("doc", "*=[*]").unwrap_or_default();
    let mut m = ObjectMetrics::new();
    for case in kubestate_testkit::cases() {
        for obj in case.objects() {
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

fn main() {
    let labels = observed_labels();
    let entries = catalog();
    println!("# Metrics\n");
    println!("Generated from the family tables by `cargo run -p kubestate-families --example metrics_doc`; do not edit.\n");
    println!("Every family of kube-state-metrics v2.20 is here, with the same name, type, stability and labels.");
    println!("Labels are listed in output order (identity labels first); `<key>` stands for one label per allowlisted key.");
    println!("*Default* says whether a plain command line produces samples: `opt-in` families need `--metric-opt-in-list`,");
    println!("`allowlist` families need `--metric-labels-allowlist`/`--metric-annotations-allowlist` to name the resource,");
    println!("`resource off` families need the resource in `--resources`.\n");
    let mut current = "";
    for e in &entries {
        if e.resource != current {
            current = e.resource;
            println!(
                "\n## {}{}\n",
                e.resource,
                if e.resource_default {
                    ""
                } else {
                    " (off by default)"
                }
            );
            println!("| family | type | stability | labels | default | description |\n|---|---|---|---|---|---|");
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
        println!(
            "| `{}` | {} | {} | {} | {} | {} |",
            e.desc.name,
            e.desc.ty.as_str(),
            stability,
            l,
            default,
            e.desc.help.replace('|', "\\|")
        );
    }
}
