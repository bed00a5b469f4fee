//! A second, deliberately plain implementation of one run (check-semantics.md §3–4), to hold
//! the optimised [`Check::run`] to exact results: label values copied into `String`s, each
//! join index an ordered map from the match values to the contributed pairs, every join
//! looked up for every series from its labels (nothing cached per object or across runs),
//! aggregations in ordered maps. It reads the compiled [`Plan`] (family rules, key names)
//! but none of the run's join machinery.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use kubestate_store::structured::{SeriesView, Snapshot, Sym};

use crate::config::{AggregationKind, ValueOp};
use crate::plan::{Action, FamilyPlan, Get, KeyId, NamePart, OwnerRole, Plan, UNSET};
use crate::{Check, OwnedSeries};

type Pair = (KeyId, String);

/// Per join group: match values → every pair contributed, in source order.
type Index = Vec<BTreeMap<Vec<String>, Vec<Pair>>>;

fn build_index(plan: &Plan, snap: &Snapshot) -> Index {
    let mut index: Index = plan.groups.iter().map(|_| BTreeMap::new()).collect();
    for (g, group) in plan.groups.iter().enumerate() {
        for &ji in &group.joins {
            let join = &plan.joins[ji];
            for store in snap.stores() {
                let Some(fi) = store
                    .meta()
                    .family_syms
                    .iter()
                    .position(|s| *s == join.source)
                else {
                    continue;
                };
                for (_, obj) in store.objects() {
                    for s in obj.family(fi).filter(|s| s.value() == 1.0) {
                        let Some(key) = key_of(&group.labels, |l| s.get(l)) else {
                            continue;
                        };
                        let leaf = index[g].entry(key).or_default();
                        match &join.get {
                            Get::Listed(list) => {
                                for (src, k) in list {
                                    match s.get(*src) {
                                        Some(v) if !v.is_empty() => leaf.push((*k, v.into())),
                                        _ => {}
                                    }
                                }
                            }
                            Get::All { keys_by_sym, .. } => {
                                for (sym, v) in s.labels() {
                                    let k = keys_by_sym[sym.index()];
                                    if k != UNSET {
                                        leaf.push((k, v.into()));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    index
}

fn key_of<'v>(labels: &[Sym], get: impl Fn(Sym) -> Option<&'v str>) -> Option<Vec<String>> {
    labels.iter().map(|l| get(*l).map(String::from)).collect()
}

/// Every join whose match labels the series carries, in group order (no chaining).
fn joined(plan: &Plan, index: &Index, get: impl Fn(Sym) -> Option<String>) -> Vec<Pair> {
    let mut out = Vec::new();
    for (g, group) in plan.groups.iter().enumerate() {
        let key: Option<Vec<String>> = group.labels.iter().map(|l| get(*l)).collect();
        if let Some(pairs) = key.and_then(|k| index[g].get(&k)) {
            out.extend(pairs.iter().cloned());
        }
    }
    out
}

fn mapped(maps: &[(Sym, ahash::AHashMap<String, String>)], l: Sym, v: &str) -> String {
    maps.iter()
        .find(|(s, _)| *s == l)
        .and_then(|(_, m)| m.get(v))
        .map_or_else(|| v.to_string(), Clone::clone)
}

fn admitted(only: &[(Sym, Vec<String>)], get: impl Fn(Sym) -> String) -> bool {
    only.iter()
        .all(|(l, allowed)| allowed.iter().any(|a| a.eq_ignore_ascii_case(&get(*l))))
}

/// Key names for `pairs`: per-family override, else the mapped name; owner labels last.
fn assemble(
    plan: &Plan,
    fam: &FamilyPlan,
    skip: &[KeyId],
    pairs: &[Pair],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut owner: BTreeMap<u8, &str> = BTreeMap::new();
    for (k, v) in pairs.iter().filter(|(k, _)| !skip.contains(k)) {
        let info = &plan.keys[*k as usize];
        if let Some(role) = info.owner {
            let slot = match role {
                OwnerRole::CreatedByKind => 0,
                OwnerRole::CreatedByName => 1,
                OwnerRole::OwnerKind => 2,
                OwnerRole::OwnerName => 3,
            };
            owner.entry(slot).or_insert(v);
            continue;
        }
        let name = fam
            .overrides
            .iter()
            .find(|(x, _)| x == k)
            .map_or(info.out.to_string(), |(_, o)| o.to_string());
        out.push((name, v.clone()));
    }
    for (kind, name) in [(0, 1), (2, 3)] {
        if let (Some(kind), Some(name)) = (owner.get(&kind), owner.get(&name)) {
            let mut tags = Vec::new();
            crate::run::owner_labels(kind, name, &mut tags);
            out.extend(tags.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        }
    }
    out
}

fn name_of(parts: &[NamePart], get: impl Fn(Sym) -> String) -> String {
    parts
        .iter()
        .map(|p| match p {
            NamePart::Lit(l) => l.clone(),
            NamePart::Label(l) => get(*l),
        })
        .collect()
}

fn emit(
    plan: &Plan,
    fam: &FamilyPlan,
    s: &SeriesView<'_>,
    joins: &[Pair],
    now_s: f64,
) -> Option<OwnedSeries> {
    let Action::Emit(t) = &fam.action else {
        return None;
    };
    let raw = s.value();
    if t.only_value.is_some_and(|v| raw != v) {
        return None;
    }
    let mut value = match t.value {
        ValueOp::Value => raw,
        ValueOp::Age => now_s - raw,
    };
    if t.only_value.is_some() {
        value = 1.0;
    }
    let mut extra = None;
    if let Some((k, table)) = &t.value_as_label {
        let (_, label) = table.iter().find(|(v, _)| *v == raw)?;
        extra = Some((*k, label.clone()));
        value = 1.0;
    }
    let own = |l: Sym| mapped(&t.map_values, l, s.get(l).unwrap_or(""));
    if !admitted(&t.only_labels, own) {
        return None;
    }
    let mut pairs: Vec<Pair> = s
        .labels()
        .filter(|(sym, _)| plan.key_of_sym[sym.index()] != UNSET)
        .map(|(sym, v)| (plan.key_of_sym[sym.index()], mapped(&t.map_values, sym, v)))
        .collect();
    pairs.extend(joins.iter().cloned());
    pairs.extend(extra);
    Some(OwnedSeries {
        name: name_of(&t.name, own),
        labels: assemble(plan, fam, &t.skip, &pairs),
        value,
    })
}

/// What one run of `check` (already run once over `snap`, so that its plan knows every name
/// and family of it) must emit for `snap` at `now`, in order.
pub(super) fn run(check: &Check, snap: &Snapshot, now: SystemTime) -> Vec<OwnedSeries> {
    let plan = check.plan();
    let now_s = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let index = build_index(plan, snap);
    let mut out = Vec::new();
    let mut groups: Vec<BTreeMap<Vec<String>, f64>> =
        plan.aggs.iter().map(|_| BTreeMap::new()).collect();
    for store in snap.stores() {
        for (_, obj) in store.objects() {
            for (i, sym) in store.meta().family_syms.iter().enumerate() {
                let Some(fam) = plan.family(*sym) else {
                    continue;
                };
                for s in obj.family(i) {
                    let joins = joined(plan, &index, |l| s.get(l).map(String::from));
                    for &a in &fam.aggs {
                        let agg = &plan.aggs[a];
                        if agg.only_value.is_some_and(|v| s.value() != v) {
                            continue;
                        }
                        let value_of = |l: Sym| match s.get(l) {
                            Some(v) => mapped(&agg.map_values, l, v),
                            None => {
                                let k = agg.by.iter().find(|(x, _)| *x == l).map(|(_, k)| *k);
                                let v = joins.iter().find(|(x, _)| Some(*x) == k);
                                mapped(&agg.map_values, l, v.map_or("", |(_, v)| v))
                            }
                        };
                        if !admitted(&agg.only_labels, value_of) {
                            continue;
                        }
                        let key: Vec<String> = agg.by_syms.iter().map(|l| value_of(*l)).collect();
                        *groups[a].entry(key).or_insert(0.0) += match agg.kind {
                            AggregationKind::Count => 1.0,
                            AggregationKind::Sum => s.value(),
                        };
                    }
                    out.extend(emit(plan, fam, &s, &joins, now_s));
                }
            }
        }
    }
    let none = Arc::new(FamilyPlan {
        action: Action::Drop(crate::plan::DropReason::Rule),
        aggs: Vec::new(),
        overrides: Vec::new(),
    });
    for (a, rows) in groups.iter().enumerate() {
        let agg = &plan.aggs[a];
        let fam = snap
            .sym(&agg.source)
            .and_then(|s| plan.family(s))
            .unwrap_or(&none);
        for (vals, value) in rows {
            let get = |l: Sym| {
                agg.by
                    .iter()
                    .position(|(s, _)| *s == l)
                    .map(|i| vals[i].clone())
            };
            let mut pairs: Vec<Pair> = agg
                .by
                .iter()
                .zip(vals)
                .filter(|(_, v)| !v.is_empty())
                .map(|((_, k), v)| (*k, v.clone()))
                .collect();
            pairs.extend(joined(plan, &index, |l| get(l).filter(|v| !v.is_empty())));
            out.push(OwnedSeries {
                name: name_of(&agg.name, |l| get(l).unwrap_or_default()),
                labels: assemble(plan, fam, &agg.skip, &pairs),
                value: *value,
            });
        }
    }
    out
}
