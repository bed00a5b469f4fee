//! Every family of every resource with the facts documentation needs: whether it is on by
//! default, opt-in, or only filled when an allowlist names its resource.

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
