//! Compiling a configuration into ids once: label names become [`Sym`]s of the store's table,
//! output keys become [`KeyId`]s with their mapped names, families get their rule the first time
//! they are seen. A run then compares integers and indexes vectors; it never looks up a
//! configuration string per series.

use std::collections::BTreeMap;
use std::sync::Arc;

use ahash::AHashMap;
use kubestate_metric::snake_case_name;
use kubestate_store::structured::{Snapshot, Sym, Symbols};
use regex::Regex;

use crate::config::{
    template_parts, AggregationConfig, AggregationKind, CheckConfig, ConfigError, JoinConfig,
    Preset, TemplatePart, TransformConfig, Unmatched, ValueOp,
};
use crate::preset;

/// An output key (a label name as the check emits it, before mapping) in the plan's table.
pub(crate) type KeyId = u32;
pub(crate) const UNSET: u32 = u32::MAX;

/// The bit of join group `g` in a group set: its own bit for the first 63 groups, one shared
/// bit for all later ones (a set then over-approximates, which only costs a lookup).
pub(crate) fn group_bit(g: usize) -> u64 {
    1 << g.min(63)
}

/// The role of a label in owner handling (check-semantics.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OwnerRole {
    CreatedByKind,
    CreatedByName,
    OwnerKind,
    OwnerName,
}

/// One output key: its raw name and the name it is emitted under.
#[derive(Debug)]
pub(crate) struct KeyInfo {
    pub out: Arc<str>,
    pub owner: Option<OwnerRole>,
}

/// Joins sharing the same ordered `labels_to_match` share one index.
#[derive(Debug)]
pub(crate) struct Group {
    pub labels: Vec<Sym>,
    pub joins: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct Join {
    pub source: Sym,
    pub group: usize,
    pub get: Get,
}

#[derive(Debug)]
pub(crate) enum Get {
    /// Normal mode: these labels (source label, output key), non-empty values only.
    Listed(Vec<(Sym, KeyId)>),
    /// Get-all mode: every label but the match labels, empty values included; the key of a
    /// source label is `keys_by_sym[sym]` (explicit rename, template, or the raw name).
    All {
        renames: AHashMap<Sym, KeyId>,
        template: Option<(&'static str, String)>,
        keys_by_sym: Vec<KeyId>,
    },
}

/// A piece of an output name.
#[derive(Debug)]
pub(crate) enum NamePart {
    Lit(String),
    Label(Sym),
}

/// How one family's series become output series.
#[derive(Debug)]
pub(crate) struct Transform {
    pub name: Vec<NamePart>,
    pub value: ValueOp,
    pub only_value: Option<f64>,
    pub only_labels: Vec<(Sym, Vec<String>)>,
    pub map_values: Vec<(Sym, AHashMap<String, String>)>,
    /// Keys not emitted (template labels, `drop_labels`).
    pub skip: Vec<KeyId>,
    pub value_as_label: Option<(KeyId, Vec<(f64, String)>)>,
}

impl Transform {
    fn plain(name: &str) -> Transform {
        Transform {
            name: vec![NamePart::Lit(name.to_string())],
            value: ValueOp::Value,
            only_value: None,
            only_labels: Vec::new(),
            map_values: Vec::new(),
            skip: Vec::new(),
            value_as_label: None,
        }
    }
}

/// Why a family emits nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// A `drop` pattern.
    Rule,
    /// Unmatched and `unmatched: drop`; `_info`/`_labels`/`_annotations`/`_status_reason`
    /// families are expected to be dropped and are not counted as unknown.
    Unknown,
    Metadata,
    /// Unmatched but aggregated: consumed by its aggregations.
    Aggregated,
}

#[derive(Debug)]
pub(crate) enum Action {
    Emit(Transform),
    Drop(DropReason),
}

/// The compiled rule of one family.
#[derive(Debug)]
pub(crate) struct FamilyPlan {
    pub action: Action,
    pub aggs: Vec<usize>,
    /// Per-family key renames (win over the mapper).
    pub overrides: Vec<(KeyId, Arc<str>)>,
}

#[derive(Debug)]
pub(crate) struct Agg {
    pub name: Vec<NamePart>,
    pub kind: AggregationKind,
    /// Group labels: source label and key.
    pub by: Vec<(Sym, KeyId)>,
    /// The source labels of `by`, in order.
    pub by_syms: Vec<Sym>,
    pub only_value: Option<f64>,
    pub only_labels: Vec<(Sym, Vec<String>)>,
    pub map_values: Vec<(Sym, AHashMap<String, String>)>,
    /// Template labels (not emitted as labels).
    pub skip: Vec<KeyId>,
    pub source: String,
}

/// A compiled configuration. Build it with [`Plan::compile`]; [`crate::Check`] owns one.
pub struct Plan {
    pub(crate) keys: Vec<KeyInfo>,
    key_by_name: AHashMap<String, KeyId>,
    mapper: AHashMap<String, String>,
    pub(crate) key_of_sym: Vec<KeyId>,
    pub(crate) groups: Vec<Group>,
    pub(crate) joins: Vec<Join>,
    /// Per symbol: the join groups it is a match label of, as [`group_bit`]s.
    pub(crate) groups_of_sym: Vec<u64>,
    pub(crate) aggs: Vec<Agg>,
    pub(crate) owner_tags: bool,
    families: Vec<Option<Arc<FamilyPlan>>>,
    // Inputs of the lazy family compilation.
    drop: Vec<Regex>,
    renames: AHashMap<String, String>,
    transforms: BTreeMap<String, TransformConfig>,
    unmatched: Unmatched,
    overrides: Vec<(String, Vec<(String, String)>)>,
    aggs_by_source: AHashMap<String, Vec<usize>>,
    pending_syms: Vec<(Sym, String)>,
}

/// Maps a kind name of `labels_as_tags` to the labels KSM identifies it by
/// (`getLabelToMatchForKind`, check-semantics.md §4).
pub fn labels_to_match_for_kind(kind: &str) -> Vec<String> {
    match kind {
        "job" => vec!["job_name".into(), "namespace".into()],
        "node" | "persistentvolume" | "namespace" | "apiservice" | "customresourcedefinition" => {
            vec![kind.into()]
        }
        _ => vec![kind.into(), "namespace".into()],
    }
}

fn owner_role(name: &str) -> Option<OwnerRole> {
    Some(match name {
        "created_by_kind" => OwnerRole::CreatedByKind,
        "created_by_name" => OwnerRole::CreatedByName,
        "owner_kind" => OwnerRole::OwnerKind,
        "owner_name" => OwnerRole::OwnerName,
        _ => return None,
    })
}

/// A join being assembled from `label_joins`, `labels_as_tags` and `annotations_as_tags`.
#[derive(Default)]
struct JoinDraft {
    labels_to_match: Vec<String>,
    get: Vec<String>,
    all: bool,
    renames: BTreeMap<String, String>,
    template: Option<(&'static str, String)>,
}

impl Plan {
    /// Compiles `config` (merged over its preset), interning label and family names in
    /// `symbols` (pass the store factory's table in embedded mode).
    ///
    /// # Errors
    /// A combination of settings that cannot work, with the key to fix.
    pub fn compile<S>(config: &CheckConfig<S>, symbols: &Symbols) -> Result<Plan, ConfigError> {
        let datadog = config.preset == Preset::Datadog;
        let mut mapper: AHashMap<String, String> = AHashMap::new();
        let mut renames: AHashMap<String, String> = AHashMap::new();
        let mut transforms: BTreeMap<String, TransformConfig> = BTreeMap::new();
        let mut joins: BTreeMap<String, JoinConfig> = BTreeMap::new();
        let mut aggs: Vec<AggregationConfig> = Vec::new();
        let mut drop: Vec<String> = Vec::new();
        let mut overrides: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        if datadog {
            mapper.extend(
                preset::LABELS_MAPPER
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string())),
            );
            renames.extend(
                preset::RENAMES
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string())),
            );
            transforms = preset::transforms();
            joins = preset::joins();
            aggs = preset::aggregations();
            drop.extend(preset::DENY.iter().map(|s| s.to_string()));
            for (prefix, label, key) in preset::LABEL_OVERRIDES {
                overrides
                    .entry(prefix.to_string())
                    .or_default()
                    .push((label.to_string(), key.to_string()));
            }
        }
        // User entries override the preset's, key by key; a user join replaces the preset's
        // join on the same source family entirely (§4, "Merging of configs").
        mapper.extend(config.labels_mapper.clone());
        for (family, name) in &config.renames {
            transforms.remove(family);
            renames.insert(family.clone(), name.clone());
        }
        for (family, t) in &config.transforms {
            renames.remove(family);
            transforms.insert(family.clone(), t.clone());
        }
        joins.extend(config.label_joins.clone());
        for a in &config.aggregations {
            aggs.retain(|x| x.name != a.name);
            aggs.push(a.clone());
        }
        drop.extend(config.drop.iter().cloned());
        for (prefix, m) in &config.label_overrides {
            let e = overrides.entry(prefix.clone()).or_default();
            for (label, key) in m {
                e.retain(|(l, _)| l != label);
                e.push((label.clone(), key.clone()));
            }
        }

        let mut drafts: BTreeMap<String, JoinDraft> = joins
            .into_iter()
            .map(|(family, j)| {
                let all = j.get_all_labels || j.labels_to_get.iter().any(|l| l == "*");
                let get = j.labels_to_get.into_iter().filter(|l| l != "*").collect();
                (
                    family,
                    JoinDraft {
                        labels_to_match: j.labels_to_match,
                        get,
                        all,
                        ..JoinDraft::default()
                    },
                )
            })
            .collect();
        for (what, table, prefix, placeholder) in [
            ("labels", &config.labels_as_tags, "label_", "%%label%%"),
            (
                "annotations",
                &config.annotations_as_tags,
                "annotation_",
                "%%annotation%%",
            ),
        ] {
            for (kind, entries) in table {
                if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase()) {
                    return Err(ConfigError::invalid(format!(
                        "{what}_as_tags: {kind:?} is not a kind; use the lower-case singular \
                         kind name, e.g. pod, deployment, node"
                    )));
                }
                let family = format!("kube_{kind}_{what}");
                let d = drafts.entry(family).or_insert_with(|| JoinDraft {
                    labels_to_match: labels_to_match_for_kind(kind),
                    ..JoinDraft::default()
                });
                for (k8s_label, tag) in entries {
                    if k8s_label == "*" {
                        d.all = true;
                        d.template = Some((prefix, tag.replace(placeholder, "%%name%%")));
                        continue;
                    }
                    let mut ksm = String::from(prefix);
                    snake_case_name(&mut ksm, k8s_label);
                    if !d.get.contains(&ksm) {
                        d.get.push(ksm.clone());
                    }
                    d.renames.insert(ksm, tag.clone());
                }
            }
        }

        let mut plan = Plan {
            keys: Vec::new(),
            key_by_name: AHashMap::new(),
            mapper,
            key_of_sym: Vec::new(),
            groups: Vec::new(),
            joins: Vec::new(),
            groups_of_sym: Vec::new(),
            aggs: Vec::new(),
            owner_tags: config.owner_tags.unwrap_or(datadog),
            families: Vec::new(),
            drop: Vec::new(),
            renames,
            transforms,
            unmatched: config.unmatched.unwrap_or(if datadog {
                Unmatched::Drop
            } else {
                Unmatched::Keep
            }),
            overrides: overrides.into_iter().collect(),
            aggs_by_source: AHashMap::new(),
            pending_syms: Vec::new(),
        };
        for p in drop {
            let re = Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                ConfigError::invalid(format!("drop: pattern {p:?} is not a regex: {e}"))
            })?;
            plan.drop.push(re);
        }
        for (family, d) in drafts {
            let labels: Vec<Sym> = d
                .labels_to_match
                .iter()
                .map(|l| symbols.intern(l))
                .collect();
            let group = match plan.groups.iter().position(|g| g.labels == labels) {
                Some(g) => g,
                None => {
                    plan.groups.push(Group {
                        labels: labels.clone(),
                        joins: Vec::new(),
                    });
                    plan.groups.len() - 1
                }
            };
            let get = if d.all {
                let renames = d
                    .renames
                    .iter()
                    .map(|(from, to)| (symbols.intern(from), plan.key(to)))
                    .collect();
                Get::All {
                    renames,
                    template: d.template,
                    keys_by_sym: Vec::new(),
                }
            } else {
                let listed = d
                    .get
                    .iter()
                    .map(|l| {
                        let to = d.renames.get(l).unwrap_or(l).clone();
                        (symbols.intern(l), plan.key(&to))
                    })
                    .collect();
                Get::Listed(listed)
            };
            plan.groups[group].joins.push(plan.joins.len());
            plan.joins.push(Join {
                source: symbols.intern(&family),
                group,
                get,
            });
        }
        for a in aggs {
            let (name, skip) = plan.name_parts(&a.name, symbols);
            for part in &name {
                if let NamePart::Label(s) = part {
                    if !a.by.iter().any(|b| symbols.intern(b) == *s) {
                        return Err(ConfigError::invalid(format!(
                            "aggregations: {:?} uses a label in its name that is not in `by`; \
                             add it to by",
                            a.name
                        )));
                    }
                }
            }
            let by =
                a.by.iter()
                    .map(|b| (symbols.intern(b), plan.key(b)))
                    .collect();
            let by_syms = a.by.iter().map(|b| symbols.intern(b)).collect();
            let agg = Agg {
                name,
                kind: a.kind,
                by,
                by_syms,
                only_value: a.only_value,
                only_labels: only_labels(&a.only_labels, symbols),
                map_values: map_values(&a.map_values, symbols),
                skip,
                source: a.from.clone(),
            };
            plan.aggs_by_source
                .entry(a.from.clone())
                .or_default()
                .push(plan.aggs.len());
            plan.aggs.push(agg);
        }
        // Validate every transform now, so that mistakes show at start-up.
        let names: Vec<String> = plan.transforms.keys().cloned().collect();
        for family in names {
            plan.compile_family(&family, symbols)?;
        }
        Ok(plan)
    }

    /// The key id of an output key name, created on first use.
    pub(crate) fn key(&mut self, name: &str) -> KeyId {
        if let Some(k) = self.key_by_name.get(name) {
            return *k;
        }
        let out: Arc<str> = self.mapper.get(name).map_or(name, |s| s.as_str()).into();
        let owner = if self.owner_tags {
            owner_role(name)
        } else {
            None
        };
        let id = self.keys.len() as KeyId;
        self.keys.push(KeyInfo { out, owner });
        self.key_by_name.insert(name.to_string(), id);
        id
    }

    fn name_parts(&mut self, template: &str, symbols: &Symbols) -> (Vec<NamePart>, Vec<KeyId>) {
        let mut skip = Vec::new();
        let parts = template_parts(template)
            .into_iter()
            .map(|p| match p {
                TemplatePart::Lit(s) => NamePart::Lit(s),
                TemplatePart::Label(l) => {
                    skip.push(self.key(&l));
                    NamePart::Label(symbols.intern(&l))
                }
            })
            .collect();
        (parts, skip)
    }

    fn compile_family(
        &mut self,
        family: &str,
        symbols: &Symbols,
    ) -> Result<FamilyPlan, ConfigError> {
        let aggs = self.aggs_by_source.get(family).cloned().unwrap_or_default();
        let action = if let Some(t) = self.transforms.get(family).cloned() {
            let (name, mut skip) = self.name_parts(&t.name, symbols);
            for l in &t.drop_labels {
                skip.push(self.key(l));
            }
            let value_as_label = match &t.value_as_label {
                None => None,
                Some(v) => {
                    let mut values = Vec::new();
                    for (k, out) in &v.values {
                        let f = kubestate_metric::parse::parse_value(k).map_err(|_| {
                            ConfigError::invalid(format!(
                                "transforms.{family}.value_as_label: {k:?} is not a number"
                            ))
                        })?;
                        values.push((f, out.clone()));
                    }
                    Some((self.key(&v.label), values))
                }
            };
            Action::Emit(Transform {
                name,
                value: t.value,
                only_value: t.only_value,
                only_labels: only_labels(&t.only_labels, symbols),
                map_values: map_values(&t.map_values, symbols),
                skip,
                value_as_label,
            })
        } else if let Some(n) = self.renames.get(family) {
            Action::Emit(Transform::plain(n))
        } else if self.drop.iter().any(|r| r.is_match(family)) {
            Action::Drop(DropReason::Rule)
        } else if self.unmatched == Unmatched::Keep {
            Action::Emit(Transform::plain(family))
        } else if !aggs.is_empty() {
            Action::Drop(DropReason::Aggregated)
        } else if ["_info", "_labels", "_annotations", "_status_reason"]
            .iter()
            .any(|s| family.ends_with(s))
        {
            Action::Drop(DropReason::Metadata)
        } else {
            Action::Drop(DropReason::Unknown)
        };
        let mut overrides: Vec<(KeyId, Arc<str>)> = Vec::new();
        let rules: Vec<(String, String)> = self
            .overrides
            .iter()
            .filter(|(prefix, _)| family.starts_with(prefix.as_str()))
            .flat_map(|(_, r)| r.iter().cloned())
            .collect();
        for (label, key) in rules {
            let k = self.key(&label);
            overrides.retain(|(x, _)| *x != k);
            overrides.push((k, key.into()));
        }
        Ok(FamilyPlan {
            action,
            aggs,
            overrides,
        })
    }

    /// Extends the per-symbol tables to every name of `snap` and compiles the rule of every
    /// family it holds. Called at the start of each run; cheap when nothing is new.
    pub(crate) fn prepare(&mut self, snap: &Snapshot, symbols: &Symbols) {
        let names = snap.names().clone();
        let n = names.len();
        if self.key_of_sym.len() < n {
            for i in self.key_of_sym.len()..n {
                let k = self.key(&names[i]);
                self.key_of_sym.push(k);
            }
        }
        if self.groups_of_sym.len() < n {
            self.groups_of_sym.resize(n, 0);
            for (g, group) in self.groups.iter().enumerate() {
                for s in &group.labels {
                    if let Some(m) = self.groups_of_sym.get_mut(s.index()) {
                        *m |= group_bit(g);
                    }
                }
            }
        }
        for j in 0..self.joins.len() {
            let (renames, template, have) = match &self.joins[j].get {
                Get::All {
                    renames,
                    template,
                    keys_by_sym,
                } if keys_by_sym.len() < n => {
                    (renames.clone(), template.clone(), keys_by_sym.len())
                }
                _ => continue,
            };
            let group_labels = self.groups[self.joins[j].group].labels.clone();
            let mut add = Vec::with_capacity(n - have);
            for (i, name) in names.iter().enumerate().skip(have) {
                let sym = Sym(i as u32);
                let k = if group_labels.contains(&sym) {
                    UNSET
                } else if let Some(k) = renames.get(&sym) {
                    *k
                } else {
                    let templated = template.as_ref().and_then(|(prefix, t)| {
                        name.strip_prefix(prefix)
                            .map(|rest| t.replace("%%name%%", rest))
                    });
                    match templated {
                        Some(t) => self.key(&t),
                        None => self.key(name),
                    }
                };
                add.push(k);
            }
            if let Get::All { keys_by_sym, .. } = &mut self.joins[j].get {
                keys_by_sym.extend(add);
            }
        }
        // Family rules, for every family a store of this snapshot carries.
        self.pending_syms.clear();
        for s in snap.stores() {
            let meta = s.meta();
            for (i, sym) in meta.family_syms.iter().enumerate() {
                let known = self.families.get(sym.index()).is_some_and(Option::is_some);
                if !known {
                    self.pending_syms
                        .push((*sym, meta.info.families[i].name.clone()));
                }
            }
        }
        let pending = std::mem::take(&mut self.pending_syms);
        for (sym, name) in &pending {
            // Transforms were validated at compile time, so this cannot fail; a family that
            // somehow does is dropped rather than aborting the run.
            let fp = self.compile_family(name, symbols).unwrap_or(FamilyPlan {
                action: Action::Drop(DropReason::Rule),
                aggs: Vec::new(),
                overrides: Vec::new(),
            });
            if self.families.len() <= sym.index() {
                self.families.resize(sym.index() + 1, None);
            }
            self.families[sym.index()] = Some(Arc::new(fp));
        }
        self.pending_syms = pending;
    }

    /// The rule of a family (after [`Plan::prepare`]).
    pub(crate) fn family(&self, sym: Sym) -> Option<&Arc<FamilyPlan>> {
        self.families.get(sym.index()).and_then(Option::as_ref)
    }

    /// Number of label joins after merging the preset, the user's joins and the
    /// `*_as_tags` settings.
    pub fn join_count(&self) -> usize {
        self.joins.len()
    }

    /// Number of aggregations.
    pub fn aggregation_count(&self) -> usize {
        self.aggs.len()
    }
}

fn only_labels(m: &BTreeMap<String, Vec<String>>, symbols: &Symbols) -> Vec<(Sym, Vec<String>)> {
    m.iter()
        .map(|(l, vs)| {
            (
                symbols.intern(l),
                vs.iter().map(|v| v.to_ascii_lowercase()).collect(),
            )
        })
        .collect()
}

fn map_values(
    m: &BTreeMap<String, BTreeMap<String, String>>,
    symbols: &Symbols,
) -> Vec<(Sym, AHashMap<String, String>)> {
    m.iter()
        .map(|(l, vs)| {
            (
                symbols.intern(l),
                vs.iter().map(|(a, b)| (a.clone(), b.clone())).collect(),
            )
        })
        .collect()
}
