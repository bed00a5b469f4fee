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

/// Label names for dynamic keys: `prefix_` + snake_case(sanitised key), keys taken in the
/// given (sorted) order, as KSM names them: the first time a name is produced twice, the
/// label already holding it becomes `<name>_conflict1` and the new one `<name>_conflict2`;
/// later keys with that name take the next suffix. Every suffix skips names already in use,
/// including names that other keys produced directly (`a_b_conflict1` is a key too), and a
/// key whose name equals an earlier `_conflictN` name renames that label in turn, so
/// collisions resolve over several levels (`label_a_b_conflict1_conflict1`).
pub fn dynamic_label_names<'k>(prefix: &str, keys: impl Iterator<Item = &'k str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    // Name → index in `names`, and base name → suffixes handed out so far.
    let mut used: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut conflicts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for key in keys {
        let mut base = String::with_capacity(prefix.len() + 1 + key.len());
        base.push_str(prefix);
        base.push('_');
        snake_case_name(&mut base, key);
        let name = if let Some(count) = conflicts.get_mut(&base) {
            next_free(&used, &base, count)
        } else if let Some(idx) = used.remove(&base) {
            let mut count = 0;
            let renamed = next_free(&used, &base, &mut count);
            used.insert(renamed.clone(), idx);
            names[idx] = renamed;
            let name = next_free(&used, &base, &mut count);
            conflicts.insert(base, count);
            name
        } else {
            base
        };
        used.insert(name.clone(), names.len());
        names.push(name);
    }
    names
}

/// The first `<base>_conflict<n>` with `n` above `*count` that no label uses yet; `*count`
/// becomes that `n`.
fn next_free(
    used: &std::collections::HashMap<String, usize>,
    base: &str,
    count: &mut usize,
) -> String {
    loop {
        *count += 1;
        let cand = format!("{base}_conflict{count}");
        if !used.contains_key(&cand) {
            return cand;
        }
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
        // A key that is itself a `_conflictN` name renames the label holding that name.
        let n = dynamic_label_names("label", ["a.b", "a/b", "a_b_conflict1"].into_iter());
        assert_eq!(
            n,
            vec![
                "label_a_b_conflict1_conflict1",
                "label_a_b_conflict2",
                "label_a_b_conflict1_conflict2"
            ]
        );
        // A suffix skips a name some key produced directly.
        let n = dynamic_label_names("label", ["X", "X_conflict1", "x"].into_iter());
        assert_eq!(
            n,
            [
                "label_x_conflict2",
                "label_x_conflict1",
                "label_x_conflict3"
            ]
        );
    }

    #[test]
    fn go_floats() {
        assert_eq!(parse_go_float("123"), Some(123.0));
        assert_eq!(parse_go_float("abc"), None);
        assert_eq!(parse_go_float(""), None);
    }
}
