//! Which served custom resources a configured group/version/kind stands for (KSM's wildcard
//! rules), from the versions the CRDs serve.

use std::collections::BTreeMap;

use kubestate_customstate::GroupVersionKind;

/// One served version of a CRD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Served {
    pub(super) group: String,
    pub(super) version: String,
    pub(super) kind: String,
    pub(super) plural: String,
    pub(super) namespaced: bool,
}

/// group → version → served kinds, in CRD-name order, one entry per kind.
pub(super) type ServedIndex<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Vec<&'a Served>>>;

pub(super) fn served_index(crds: &BTreeMap<String, Vec<Served>>) -> ServedIndex<'_> {
    let mut index: ServedIndex<'_> = BTreeMap::new();
    for s in crds.values().flatten() {
        let kinds = index
            .entry(s.group.as_str())
            .or_default()
            .entry(s.version.as_str())
            .or_default();
        if !kinds.iter().any(|k| k.kind == s.kind) {
            kinds.push(s);
        }
    }
    index
}

/// `*` and the empty string stand for "any".
pub(super) fn is_specific(s: &str) -> bool {
    !s.is_empty() && s != "*"
}

/// The served custom resources a configured GVK stands for (KSM's rules: the group is
/// required; a version or kind of `*`/empty matches all).
pub(super) fn resolve<'a>(gvk: &GroupVersionKind, index: &ServedIndex<'a>) -> Vec<&'a Served> {
    if !is_specific(&gvk.group) {
        return Vec::new();
    }
    let Some(versions) = index.get(gvk.group.as_str()) else {
        return Vec::new();
    };
    versions
        .iter()
        .filter(|(v, _)| !is_specific(&gvk.version) || **v == gvk.version)
        .flat_map(|(_, kinds)| kinds.iter().copied())
        .filter(|s| !is_specific(&gvk.kind) || s.kind == gvk.kind)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(in super::super) fn served(group: &str, version: &str, kind: &str) -> Served {
        Served {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
            namespaced: true,
        }
    }

    fn gvk(g: &str, v: &str, k: &str) -> GroupVersionKind {
        GroupVersionKind {
            group: g.into(),
            version: v.into(),
            kind: k.into(),
        }
    }

    #[test]
    fn resolution_follows_ksm_wildcards() {
        let mut crds = BTreeMap::new();
        crds.insert(
            "widgets.a.io".to_string(),
            vec![
                served("a.io", "v1", "Widget"),
                served("a.io", "v2", "Widget"),
            ],
        );
        crds.insert(
            "gadgets.a.io".to_string(),
            vec![served("a.io", "v1", "Gadget")],
        );
        crds.insert(
            "others.b.io".to_string(),
            vec![served("b.io", "v1", "Other")],
        );
        let index = served_index(&crds);
        let names = |g: GroupVersionKind| -> Vec<String> {
            resolve(&g, &index)
                .iter()
                .map(|s| format!("{}/{}/{}", s.group, s.version, s.kind))
                .collect()
        };
        assert_eq!(names(gvk("a.io", "v1", "Widget")), vec!["a.io/v1/Widget"]);
        assert_eq!(names(gvk("a.io", "v3", "Widget")), Vec::<String>::new());
        assert_eq!(
            names(gvk("a.io", "*", "Widget")),
            vec!["a.io/v1/Widget", "a.io/v2/Widget"]
        );
        assert_eq!(
            names(gvk("a.io", "v1", "")),
            vec!["a.io/v1/Gadget", "a.io/v1/Widget"]
        );
        assert_eq!(names(gvk("a.io", "", "*")).len(), 3);
        assert!(names(gvk("*", "v1", "Other")).is_empty());
        assert!(names(gvk("", "", "")).is_empty());
    }
}
