//! Emitters shared by many kinds: the metadata families (`_created`, `_labels`,
//! `_annotations`, `_metadata_resource_version`, `_deletion_timestamp`, `_owner`) and the
//! label-name derivation for dynamic labels (ksm-behaviour.md §5.5, §7).

use kubestate_metric::snake_case_name;
use kubestate_objects::{OwnerRef, StrMap, Time};

use crate::filter::KeySet;
use crate::kind::{Kind, Out};

/// `*_created`: creation time in Unix seconds, omitted when unset or zero.
pub fn created<K: Kind>(o: &K, out: &mut Out<'_>) {
    timestamp(o.meta().creation_timestamp, out);
}

/// `*_deletion_timestamp`: only while the object is being deleted.
pub fn deletion_timestamp<K: Kind>(o: &K, out: &mut Out<'_>) {
    timestamp(o.meta().deletion_timestamp, out);
}

/// One label-less sample with the time in Unix seconds, if the time is set and not zero.
pub fn timestamp(t: Option<Time>, out: &mut Out<'_>) {
    if let Some(t) = t.filter(|t| !t.is_zero()) {
        out.sample(&[], t.unix());
    }
}

/// One label-less sample with `v`, if it is set (KSM omits the sample when the field is nil).
pub fn value_if_set(v: Option<f64>, out: &mut Out<'_>) {
    if let Some(v) = v {
        out.sample(&[], v);
    }
}

/// `*_metadata_resource_version`: the resourceVersion as a number; nothing if not numeric.
pub fn resource_version<K: Kind>(o: &K, out: &mut Out<'_>) {
    if let Some(v) = parse_go_float(&o.meta().resource_version) {
        out.sample(&[], v);
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the inputs that matter here: plain decimal numbers.
pub fn parse_go_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.contains(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    // Rust accepts "inf"/"nan" spellings Go also accepts; both reject the rest alike.
    lower.parse::<f64>().ok()
}

/// `*_labels`: constant 1 with the allowlisted `metadata.labels` as `label_<key>` labels.
/// Nothing at all when the resource has no allowlist entry.
pub fn labels<K: Kind>(o: &K, out: &mut Out<'_>) {
    if let Some(keys) = out.allowed_labels().cloned() {
        allowlisted(&o.meta().labels, &keys, "label", out);
    }
}

/// `*_annotations`: constant 1 with the allowlisted annotations as `annotation_<key>` labels.
pub fn annotations<K: Kind>(o: &K, out: &mut Out<'_>) {
    if let Some(keys) = out.allowed_annotations().cloned() {
        allowlisted(&o.meta().annotations, &keys, "annotation", out);
    }
}

/// One sample of value 1 with every allowlisted entry of `map` as `<prefix>_<key>` labels
/// (always one sample, even if no key matches).
pub fn allowlisted(map: &StrMap, keys: &KeySet, prefix: &str, out: &mut Out<'_>) {
    let entries: Vec<(&str, &str)> = map.iter().filter(|(k, _)| keys.allows(k)).collect();
    map_sample(&entries, prefix, out);
}

/// One sample of value 1 with each `(key, value)` as a `<prefix>_<key>` label, keys in the
/// given (sorted) order, with KSM's `_conflictN` renaming of clashing names.
pub fn map_sample(entries: &[(&str, &str)], prefix: &str, out: &mut Out<'_>) {
    let names = dynamic_label_names(prefix, entries.iter().map(|(k, _)| *k));
    out.begin();
    for (name, (_, v)) in names.iter().zip(entries) {
        out.label(name, v);
    }
    out.finish(1.0);
}

/// Label names for dynamic keys: `prefix_` + snake_case(sanitised key). When two keys map to
/// the same name, the first becomes `<name>_conflict1` and the following ones `_conflict2`,
/// `_conflict3`…, skipping any suffixed name that is already taken.
pub fn dynamic_label_names<'k>(prefix: &str, keys: impl Iterator<Item = &'k str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut bases: Vec<(String, Vec<usize>)> = Vec::new();
    for key in keys {
        let mut base = String::with_capacity(prefix.len() + 1 + key.len());
        base.push_str(prefix);
        base.push('_');
        snake_case_name(&mut base, key);
        match bases.iter_mut().find(|(b, _)| *b == base) {
            None => {
                bases.push((base.clone(), vec![names.len()]));
                names.push(base);
            }
            Some((_, idxs)) => {
                if idxs.len() == 1 {
                    let first = idxs[0];
                    let renamed = next_free(&names, &base, 1);
                    names[first] = renamed;
                }
                let n = idxs.len() + 1;
                let name = next_free(&names, &base, n);
                idxs.push(names.len());
                names.push(name);
            }
        }
    }
    names
}

fn next_free(names: &[String], base: &str, mut n: usize) -> String {
    loop {
        let cand = format!("{base}_conflict{n}");
        if !names.contains(&cand) {
            return cand;
        }
        n += 1;
    }
}

/// `*_owner` with `owner_kind`, `owner_name` and `owner_is_controller`: one sample per
/// ownerReference, or one sample with all three empty when there are none.
pub fn owner<K: Kind>(o: &K, out: &mut Out<'_>) {
    owners(&o.meta().owner_references, out);
}

/// The body of [`owner`], for kinds whose owner list comes from elsewhere.
pub fn owners(refs: &[OwnerRef], out: &mut Out<'_>) {
    if refs.is_empty() {
        out.sample(
            &[
                ("owner_kind", ""),
                ("owner_name", ""),
                ("owner_is_controller", ""),
            ],
            1.0,
        );
    }
    for r in refs {
        let ctl = if r.controller == Some(true) {
            "true"
        } else {
            "false"
        };
        out.sample(
            &[
                ("owner_kind", &r.kind),
                ("owner_name", &r.name),
                ("owner_is_controller", ctl),
            ],
            1.0,
        );
    }
}

/// `"true"` or `"false"`, as Go formats a bool.
pub fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_suffixes() {
        let n = dynamic_label_names("label", ["a.b", "a/b", "a_b", "c"].into_iter());
        assert_eq!(
            n,
            vec![
                "label_a_b_conflict1",
                "label_a_b_conflict2",
                "label_a_b_conflict3",
                "label_c"
            ]
        );
        let n = dynamic_label_names("label", ["x", "Y"].into_iter());
        assert_eq!(n, vec!["label_x", "label_y"]);
    }

    #[test]
    fn go_floats() {
        assert_eq!(parse_go_float("123"), Some(123.0));
        assert_eq!(parse_go_float("abc"), None);
        assert_eq!(parse_go_float(""), None);
    }
}
