//! One check run: a consistent snapshot → join index → family rules and aggregations →
//! output series (check-semantics.md §3 step 4–5, §4).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ahash::RandomState;
use kubestate_store::structured::{Object, SeriesView, Snapshot, Sym, Symbols};

use crate::config::{AggregationKind, CheckConfig, ConfigError, ValueOp};
use crate::plan::{Action, DropReason, FamilyPlan, Get, KeyId, NamePart, Plan, UNSET};
use crate::series::{Emit, OutSeries};

/// Figures of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    /// The run's timestamp (milliseconds since the Unix epoch), stamped on every series.
    pub timestamp_ms: i64,
    /// Wall time of the whole run (index, rules, aggregations, emission into outputs).
    pub duration: Duration,
    /// Of which building the join index.
    pub index_duration: Duration,
    /// Objects in the snapshot.
    pub objects: u64,
    /// Series read from the snapshot.
    pub series_in: u64,
    /// Series emitted (including aggregation rows).
    pub series_out: u64,
    /// Series of families that emit nothing (drop rules, unmatched, metadata).
    pub series_dropped: u64,
    /// Series left out by a transform's filter (`only_value`, `only_labels`, `value_as_label`).
    pub series_filtered: u64,
    /// Families dropped as unknown (no rule and `unmatched: drop`, not metadata).
    pub unknown_families: u64,
    /// Distinct match-value tuples in the join index.
    pub join_keys: u64,
    /// (key, value) pairs held by the join index.
    pub join_pairs: u64,
    /// Rows emitted by aggregations.
    pub aggregation_rows: u64,
    /// Service-check series emitted (`service_checks`; included in `series_out`).
    pub service_checks: u64,
}

/// The in-process check: a compiled plan, run over snapshots.
pub struct Check {
    plan: Plan,
    symbols: Arc<Symbols>,
}

impl Check {
    /// Compiles `config` against `symbols`, the name table of the snapshots it will read (the
    /// structured store factory's, or a scrape source's).
    ///
    /// # Errors
    /// An invalid combination of settings.
    pub fn new<S>(config: &CheckConfig<S>, symbols: Arc<Symbols>) -> Result<Check, ConfigError> {
        let plan = Plan::compile(config, &symbols)?;
        Ok(Check { plan, symbols })
    }

    /// The name table snapshots must use.
    pub fn symbols(&self) -> &Arc<Symbols> {
        &self.symbols
    }

    /// The compiled plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Runs once over `snap` (which must use [`Check::symbols`]), stamping series with `now`,
    /// and hands every output series to `out`.
    pub fn run(&mut self, snap: &Snapshot, now: SystemTime, out: &mut dyn Emit) -> RunStats {
        let started = Instant::now();
        self.plan.prepare(snap, &self.symbols);
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let mut stats = RunStats {
            timestamp_ms: since.as_millis() as i64,
            ..RunStats::default()
        };
        let ctx = Ctx {
            plan: &self.plan,
            now_s: since.as_secs_f64(),
            ts: stats.timestamp_ms,
        };
        let index = Index::build(&self.plan, snap);
        stats.index_duration = started.elapsed();
        stats.join_keys = index.groups.iter().map(|g| g.map.len() as u64).sum();
        stats.join_pairs = index.groups.iter().map(|g| g.pairs.len() as u64).sum();
        let plan = &self.plan;
        let mut aggs: Vec<AggAcc<'_>> = plan.aggs.iter().map(|_| AggAcc::default()).collect();
        let mut scratch = Scratch::default();
        let mut unknown: Vec<Sym> = Vec::new();
        for store in snap.stores() {
            let meta = store.meta();
            let fams: Vec<Option<&FamilyPlan>> = meta
                .family_syms
                .iter()
                .map(|s| plan.family(*s).map(|a| &**a))
                .collect();
            for (i, f) in fams.iter().enumerate() {
                if let Some(FamilyPlan {
                    action: Action::Drop(DropReason::Unknown),
                    ..
                }) = f
                {
                    if !store.is_empty() && !unknown.contains(&meta.family_syms[i]) {
                        unknown.push(meta.family_syms[i]);
                    }
                }
            }
            let active = fams.iter().any(|f| {
                f.is_some_and(|f| matches!(f.action, Action::Emit(_)) || !f.aggs.is_empty())
            });
            for (_, obj) in store.objects() {
                stats.objects += 1;
                stats.series_in += obj.series_count() as u64;
                if !active {
                    stats.series_dropped += obj.series_count() as u64;
                    continue;
                }
                index.object_leaves(plan, obj, &mut scratch.obj_leaves);
                for (i, f) in fams.iter().enumerate() {
                    let Some(f) = f else {
                        stats.series_dropped += obj.family(i).len() as u64;
                        continue;
                    };
                    let emit = match &f.action {
                        Action::Emit(t) => Some(t),
                        Action::Drop(_) => {
                            stats.series_dropped += obj.family(i).len() as u64;
                            None
                        }
                    };
                    if emit.is_none() && f.aggs.is_empty() {
                        continue;
                    }
                    for s in obj.family(i) {
                        let mut joined = std::mem::take(&mut scratch.joined);
                        index.series_leaves(plan, &s, &scratch.obj_leaves, &mut joined);
                        for &a in &f.aggs {
                            aggs[a].add(plan, a, &s, &joined);
                        }
                        if let Some(t) = emit {
                            ctx.emit_series(f, t, &s, &joined, &mut scratch, &mut stats, out);
                        }
                        joined.clear();
                        scratch.joined = joined;
                    }
                }
            }
        }
        stats.unknown_families = unknown.len() as u64;
        for (a, acc) in aggs.iter().enumerate() {
            let source = snap.sym(&plan.aggs[a].source).and_then(|s| plan.family(s));
            ctx.flush(
                a,
                acc,
                source.map(|f| &**f),
                &index,
                &mut scratch,
                &mut stats,
                out,
            );
        }
        crate::service_checks::emit(plan, snap, &index, ctx.now_s, ctx.ts, &mut stats, out);
        stats.duration = started.elapsed();
        stats
    }
}

/// Match values of a join group. Up to four values need no allocation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'s> {
    Zero,
    One(&'s str),
    Two(&'s str, &'s str),
    Three(&'s str, &'s str, &'s str),
    Four(&'s str, &'s str, &'s str, &'s str),
    Many(Box<[&'s str]>),
}

impl<'s> Key<'s> {
    fn of(labels: &[Sym], mut get: impl FnMut(Sym) -> Option<&'s str>) -> Option<Key<'s>> {
        Some(match labels {
            [] => Key::Zero,
            [a] => Key::One(get(*a)?),
            [a, b] => Key::Two(get(*a)?, get(*b)?),
            [a, b, c] => Key::Three(get(*a)?, get(*b)?, get(*c)?),
            [a, b, c, d] => Key::Four(get(*a)?, get(*b)?, get(*c)?, get(*d)?),
            many => Key::Many(many.iter().map(|l| get(*l)).collect::<Option<_>>()?),
        })
    }

    fn values(&self, out: &mut Vec<&'s str>) {
        out.clear();
        match self {
            Key::Zero => {}
            Key::One(a) => out.push(a),
            Key::Two(a, b) => out.extend([*a, *b]),
            Key::Three(a, b, c) => out.extend([*a, *b, *c]),
            Key::Four(a, b, c, d) => out.extend([*a, *b, *c, *d]),
            Key::Many(v) => out.extend(v.iter().copied()),
        }
    }
}

pub(crate) type Pairs<'s> = [(KeyId, &'s str)];

/// The join index of one group of joins (same ordered `labels_to_match`).
struct GroupIndex<'s> {
    map: HashMap<Key<'s>, u32, RandomState>,
    /// `ranges[leaf]` in `pairs`.
    ranges: Vec<(u32, u32)>,
    pairs: Vec<(KeyId, &'s str)>,
}

impl<'s> GroupIndex<'s> {
    fn leaf(&self, id: u32) -> &Pairs<'s> {
        match self.ranges.get(id as usize) {
            Some(&(a, b)) => &self.pairs[a as usize..b as usize],
            None => &[],
        }
    }
}

pub(crate) struct Index<'s> {
    groups: Vec<GroupIndex<'s>>,
}

/// Per object: the leaf of each group found from its identity labels alone.
pub(crate) type ObjLeaves = Vec<Option<u32>>;

impl<'s> Index<'s> {
    /// Rebuilt from scratch every run, from the value-1 series of each join's source family
    /// (§4 "Index build").
    fn build(plan: &Plan, snap: &'s Snapshot) -> Index<'s> {
        let mut groups = Vec::with_capacity(plan.groups.len());
        for g in &plan.groups {
            let mut map: HashMap<Key<'s>, u32, RandomState> = HashMap::default();
            let mut contrib: Vec<(u32, KeyId, &'s str)> = Vec::new();
            for &ji in &g.joins {
                let j = &plan.joins[ji];
                for store in snap.stores() {
                    let Some(fi) = store.meta().family_syms.iter().position(|s| *s == j.source)
                    else {
                        continue;
                    };
                    for (_, obj) in store.objects() {
                        for s in obj.family(fi) {
                            if s.value() != 1.0 {
                                continue;
                            }
                            let Some(key) = Key::of(&g.labels, |l| s.get(l)) else {
                                continue;
                            };
                            let next = map.len() as u32;
                            let leaf = *map.entry(key).or_insert(next);
                            match &j.get {
                                Get::Listed(list) => {
                                    for (src, k) in list {
                                        if let Some(v) = s.get(*src) {
                                            if !v.is_empty() {
                                                contrib.push((leaf, *k, v));
                                            }
                                        }
                                    }
                                }
                                Get::All { keys_by_sym, .. } => {
                                    for (sym, v) in s.labels() {
                                        let k = keys_by_sym.get(sym.index()).copied();
                                        if let Some(k) = k.filter(|k| *k != UNSET) {
                                            contrib.push((leaf, k, v));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // Counting sort by leaf, stable: every contribution is kept, in source order.
            let n = map.len();
            let mut starts = vec![0u32; n + 1];
            for c in &contrib {
                starts[c.0 as usize + 1] += 1;
            }
            for i in 0..n {
                starts[i + 1] += starts[i];
            }
            let ranges: Vec<(u32, u32)> = (0..n).map(|i| (starts[i], starts[i + 1])).collect();
            let mut fill = starts;
            let mut pairs = vec![(0, ""); contrib.len()];
            for (leaf, k, v) in contrib {
                let at = &mut fill[leaf as usize];
                pairs[*at as usize] = (k, v);
                *at += 1;
            }
            groups.push(GroupIndex { map, ranges, pairs });
        }
        Index { groups }
    }

    fn lookup(&self, g: usize, key: Option<Key<'_>>) -> Option<u32> {
        self.groups[g].map.get(&key?).copied()
    }

    /// Appends the leaves of every group whose match labels `get` gives values for (the
    /// lookup of rows built from a few labels, like aggregation rows).
    pub(crate) fn leaves_of<'i, 'v>(
        &'i self,
        plan: &Plan,
        get: impl Fn(Sym) -> Option<&'v str>,
        out: &mut Vec<&'i Pairs<'s>>,
    ) {
        for (g, gi) in self.groups.iter().enumerate() {
            let key = Key::of(&plan.groups[g].labels, |l| get(l).filter(|v| !v.is_empty()));
            if let Some(leaf) = self.lookup(g, key) {
                out.push(gi.leaf(leaf));
            }
        }
    }

    /// Leaves found from an object's identity labels, shared by all its series.
    pub(crate) fn object_leaves(&self, plan: &Plan, obj: &Object, out: &mut ObjLeaves) {
        out.clear();
        for (g, group) in plan.groups.iter().enumerate() {
            let key = Key::of(&group.labels, |l| {
                obj.identity().find(|(k, _)| *k == l).map(|(_, v)| v)
            });
            out.push(self.lookup(g, key));
        }
    }

    /// Appends the leaves that apply to series `s`: walked with the series' own labels only
    /// (no chaining), for every group.
    pub(crate) fn series_leaves<'i>(
        &'i self,
        plan: &Plan,
        s: &SeriesView<'s>,
        obj_leaves: &ObjLeaves,
        out: &mut Vec<&'i Pairs<'s>>,
    ) {
        let own_match = s
            .own()
            .any(|(k, _)| plan.is_match_sym.get(k.index()).copied().unwrap_or(false));
        for (g, gi) in self.groups.iter().enumerate() {
            let leaf = if own_match {
                self.lookup(g, Key::of(&plan.groups[g].labels, |l| s.get(l)))
            } else {
                obj_leaves.get(g).copied().flatten()
            };
            if let Some(l) = leaf {
                let p = gi.leaf(l);
                if !p.is_empty() {
                    out.push(p);
                }
            }
        }
    }
}

/// Buffers reused by every series of a run, so that the steady state allocates nothing.
#[derive(Default)]
struct Scratch<'a> {
    obj_leaves: ObjLeaves,
    joined: Vec<&'a Pairs<'a>>,
    pairs: Vec<(KeyId, &'a str)>,
    labels: Vec<(&'a str, &'a str)>,
    name: String,
    values: Vec<&'a str>,
}

#[derive(Default)]
struct AggAcc<'s> {
    groups: HashMap<Key<'s>, f64, RandomState>,
}

fn mapped<'a>(maps: &'a [(Sym, ahash::AHashMap<String, String>)], l: Sym, v: &'a str) -> &'a str {
    for (s, m) in maps {
        if *s == l {
            return m.get(v).map_or(v, String::as_str);
        }
    }
    v
}

fn admitted<'v>(only: &[(Sym, Vec<String>)], mut get: impl FnMut(Sym) -> &'v str) -> bool {
    only.iter().all(|(l, allowed)| {
        let v = get(*l);
        allowed.iter().any(|a| a.eq_ignore_ascii_case(v))
    })
}

impl<'s> AggAcc<'s> {
    fn add(&mut self, plan: &'s Plan, a: usize, s: &SeriesView<'s>, joined: &[&Pairs<'s>]) {
        let agg = &plan.aggs[a];
        if agg.only_value.is_some_and(|v| s.value() != v) {
            return;
        }
        // A group label the series lacks is taken from its joined labels.
        let value_of = |l: Sym| -> &'s str {
            if let Some(v) = s.get(l) {
                return mapped(&agg.map_values, l, v);
            }
            let kid = agg.by.iter().find(|(x, _)| *x == l).map(|(_, k)| *k);
            let v = kid
                .and_then(|k| joined.iter().flat_map(|p| p.iter()).find(|(x, _)| *x == k))
                .map_or("", |(_, v)| *v);
            mapped(&agg.map_values, l, v)
        };
        if !admitted(&agg.only_labels, value_of) {
            return;
        }
        let Some(key) = Key::of(&agg.by_syms, |l| Some(value_of(l))) else {
            return;
        };
        let add = match agg.kind {
            AggregationKind::Count => 1.0,
            AggregationKind::Sum => s.value(),
        };
        *self.groups.entry(key).or_insert(0.0) += add;
    }
}

struct Ctx<'x> {
    plan: &'x Plan,
    now_s: f64,
    ts: i64,
}

impl<'x> Ctx<'x> {
    #[allow(clippy::too_many_arguments)] // the run's context, split for the borrow checker
    fn emit_series(
        &self,
        f: &'x FamilyPlan,
        t: &'x crate::plan::Transform,
        s: &SeriesView<'x>,
        joined: &[&'x Pairs<'x>],
        scratch: &mut Scratch<'x>,
        stats: &mut RunStats,
        out: &mut dyn Emit,
    ) {
        let raw = s.value();
        if t.only_value.is_some_and(|v| raw != v) {
            stats.series_filtered += 1;
            return;
        }
        let mut value = match t.value {
            ValueOp::Value => raw,
            ValueOp::Age => self.now_s - raw,
        };
        if t.only_value.is_some() {
            value = 1.0;
        }
        let mut extra: Option<(KeyId, &str)> = None;
        if let Some((k, table)) = &t.value_as_label {
            match table.iter().find(|(v, _)| *v == raw) {
                Some((_, label)) => {
                    extra = Some((*k, label.as_str()));
                    value = 1.0;
                }
                None => {
                    stats.series_filtered += 1;
                    return;
                }
            }
        }
        if !admitted(&t.only_labels, |l| {
            mapped(&t.map_values, l, s.get(l).unwrap_or(""))
        }) {
            stats.series_filtered += 1;
            return;
        }
        let mut name = std::mem::take(&mut scratch.name);
        name.clear();
        for p in &t.name {
            match p {
                NamePart::Lit(l) => name.push_str(l),
                NamePart::Label(l) => {
                    name.push_str(mapped(&t.map_values, *l, s.get(*l).unwrap_or("")))
                }
            }
        }
        let mut pairs = std::mem::take(&mut scratch.pairs);
        pairs.clear();
        for (sym, v) in s.labels() {
            let k = self
                .plan
                .key_of_sym
                .get(sym.index())
                .copied()
                .unwrap_or(UNSET);
            if k != UNSET {
                pairs.push((k, mapped(&t.map_values, sym, v)));
            }
        }
        for p in joined {
            pairs.extend_from_slice(p);
        }
        if let Some(e) = extra {
            pairs.push(e);
        }
        let mut labels = std::mem::take(&mut scratch.labels);
        labels.clear();
        assemble(self.plan, f, &t.skip, &pairs, &mut labels);
        out.series(&OutSeries {
            name: &name,
            labels: &labels,
            value,
            timestamp_ms: self.ts,
        });
        stats.series_out += 1;
        scratch.name = name;
        scratch.pairs = pairs;
        scratch.labels = labels;
    }

    #[allow(clippy::too_many_arguments)] // the run's context, split for the borrow checker
    fn flush(
        &self,
        a: usize,
        acc: &AggAcc<'x>,
        source: Option<&'x FamilyPlan>,
        index: &'x Index<'x>,
        scratch: &mut Scratch<'x>,
        stats: &mut RunStats,
        out: &mut dyn Emit,
    ) {
        let agg = &self.plan.aggs[a];
        let empty = FamilyPlan {
            action: Action::Drop(DropReason::Rule),
            aggs: Vec::new(),
            overrides: Vec::new(),
        };
        let fam = source.unwrap_or(&empty);
        let mut rows: Vec<(&Key<'x>, f64)> = acc.groups.iter().map(|(k, v)| (k, *v)).collect();
        rows.sort_by(|x, y| x.0.cmp(y.0));
        let mut vals = std::mem::take(&mut scratch.values);
        for (key, value) in rows {
            key.values(&mut vals);
            let get = |l: Sym| -> Option<&str> {
                agg.by
                    .iter()
                    .position(|(s, _)| *s == l)
                    .and_then(|i| vals.get(i).copied())
            };
            let mut name = std::mem::take(&mut scratch.name);
            name.clear();
            for p in &agg.name {
                match p {
                    NamePart::Lit(l) => name.push_str(l),
                    NamePart::Label(l) => name.push_str(get(*l).unwrap_or("")),
                }
            }
            let mut pairs: Vec<(KeyId, &str)> = Vec::new();
            for (i, (_, k)) in agg.by.iter().enumerate() {
                if let Some(v) = vals.get(i).filter(|v| !v.is_empty()) {
                    pairs.push((*k, v));
                }
            }
            // Joins apply to aggregation rows too, on their group labels.
            for (g, gi) in index.groups.iter().enumerate() {
                let key = Key::of(&self.plan.groups[g].labels, |l| {
                    get(l).filter(|v| !v.is_empty())
                });
                if let Some(leaf) = index.lookup(g, key) {
                    pairs.extend_from_slice(gi.leaf(leaf));
                }
            }
            let mut labels: Vec<(&str, &str)> = Vec::new();
            assemble(self.plan, fam, &agg.skip, &pairs, &mut labels);
            out.series(&OutSeries {
                name: &name,
                labels: &labels,
                value,
                timestamp_ms: self.ts,
            });
            stats.series_out += 1;
            stats.aggregation_rows += 1;
            scratch.name = name;
        }
        scratch.values = vals;
    }
}

/// Maps keys (per-family override, then the mapper), handles owner labels (§3), then
/// appends the static tags (`tags`, `cluster_name`).
pub(crate) fn assemble<'a>(
    plan: &'a Plan,
    fam: &'a FamilyPlan,
    skip: &[KeyId],
    pairs: &[(KeyId, &'a str)],
    out: &mut Vec<(&'a str, &'a str)>,
) {
    use crate::plan::OwnerRole;
    let (mut ck, mut cn, mut ok, mut on) = (None, None, None, None);
    for &(k, v) in pairs {
        if skip.contains(&k) {
            continue;
        }
        let Some(info) = plan.keys.get(k as usize) else {
            continue;
        };
        if let Some(role) = info.owner {
            let slot = match role {
                OwnerRole::CreatedByKind => &mut ck,
                OwnerRole::CreatedByName => &mut cn,
                OwnerRole::OwnerKind => &mut ok,
                OwnerRole::OwnerName => &mut on,
            };
            slot.get_or_insert(v);
            continue;
        }
        let key = fam
            .overrides
            .iter()
            .find(|(x, _)| *x == k)
            .map_or(&*info.out, |(_, o)| &**o);
        out.push((key, v));
    }
    for (kind, name) in [(ck, cn), (ok, on)] {
        if let (Some(kind), Some(name)) = (kind, name) {
            owner_labels(kind, name, out);
        }
    }
    out.extend(plan.static_tags.iter().map(|(k, v)| (&**k, &**v)));
}

/// `kube_<kind>:<name>` for an owner, plus the Deployment of a ReplicaSet and the CronJob
/// of a Job derived from their names (§3).
pub(crate) fn owner_labels<'a>(kind: &'a str, name: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
    let key = match kind {
        "ReplicaSet" => "kube_replica_set",
        "Job" => "kube_job",
        "DaemonSet" => "kube_daemon_set",
        "StatefulSet" => "kube_stateful_set",
        "Deployment" => "kube_deployment",
        "CronJob" => "kube_cronjob",
        "ReplicationController" => "kube_replication_controller",
        "Node" => "kube_node",
        _ => return, // `<none>` and kinds without a tag
    };
    out.push((key, name));
    match kind {
        "ReplicaSet" => {
            if let Some(d) = strip_suffix(name, |s| {
                (5..=10).contains(&s.len())
                    && s.bytes()
                        .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
            }) {
                out.push(("kube_deployment", d));
            }
        }
        "Job" => {
            if let Some(c) = strip_suffix(name, |s| {
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
            }) {
                out.push(("kube_cronjob", c));
            }
        }
        _ => {}
    }
}

fn strip_suffix(name: &str, ok: impl Fn(&str) -> bool) -> Option<&str> {
    let (head, tail) = name.rsplit_once('-')?;
    (!head.is_empty() && ok(tail)).then_some(head)
}
