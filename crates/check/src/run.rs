//! One check run: a consistent snapshot → join index → family rules and aggregations →
//! output series (check-semantics.md §3 step 4–5, §4).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ahash::RandomState;
use kubestate_store::structured::{SeriesView, Snapshot, Sym, Symbols};

use crate::config::{AggregationKind, CheckConfig, ConfigError, ValueOp};
use crate::index::{own_groups, Index, KeptIndex, ObjLeaves, Pairs};
use crate::plan::{Action, DropReason, FamilyPlan, KeyId, NamePart, Plan, UNSET};
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
    /// Objects of the joins' source stores read to bring the join index up to this run's
    /// snapshot (new, changed or relisted since the last run; all of them on the first run).
    pub index_objects_read: u64,
    /// Rows emitted by aggregations.
    pub aggregation_rows: u64,
    /// Service-check series emitted (`service_checks`; included in `series_out`).
    pub service_checks: u64,
}

/// The in-process check: a compiled plan, run over snapshots.
pub struct Check {
    plan: Plan,
    symbols: Arc<Symbols>,
    /// The join index, kept from one run to the next.
    index: KeptIndex,
}

impl Check {
    /// Compiles `config` against `symbols`, the name table of the snapshots it will read (the
    /// structured store factory's, or a scrape source's).
    ///
    /// # Errors
    /// An invalid combination of settings.
    pub fn new<S>(config: &CheckConfig<S>, symbols: Arc<Symbols>) -> Result<Check, ConfigError> {
        let plan = Plan::compile(config, &symbols)?;
        Ok(Check {
            plan,
            symbols,
            index: KeptIndex::default(),
        })
    }

    /// Heap bytes held by the join index kept between runs (its tables and the label values
    /// it copied out of the source objects; the last run's snapshot, kept alive so that an
    /// unchanged object is recognised by its address, is shared with the stores).
    pub fn index_heap_bytes(&self) -> usize {
        self.index.heap_bytes()
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
        let plan = &self.plan;
        let ctx = Ctx {
            plan,
            now_s: since.as_secs_f64(),
            ts: stats.timestamp_ms,
        };
        self.index.update(&self.plan, snap);
        stats.index_duration = started.elapsed();
        (stats.join_keys, stats.join_pairs) = self.index.sizes();
        stats.index_objects_read = self.index.read;
        let index = self.index.view();
        let mut aggs: Vec<AggAcc<'_>> = plan.aggs.iter().map(|_| AggAcc::default()).collect();
        let mut scratch = Scratch::default();
        scratch.plain.reset(plan);
        let mut unknown: Vec<Sym> = Vec::new();
        let mut tables: Vec<Vec<Act<'_>>> = Vec::new();
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
            for f in fams.iter().flatten() {
                scratch.plain.family(f);
            }
            // Key tables of the emitting families, built on their first series.
            let mut built = std::mem::take(&mut scratch.built);
            built.clear();
            built.resize(fams.len(), false);
            tables.resize_with(tables.len().max(fams.len()), Vec::new);
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
                // The identity labels, read out of the object once for all its series.
                let mut identity = std::mem::take(&mut scratch.identity);
                identity.clear();
                identity.extend(obj.identity());
                index.leaves_of_identity(plan, &identity, &mut scratch.obj_leaves);
                // What a series carrying none of the match labels itself gets: the same for
                // all of the object's series, so gathered once.
                let mut obj_joined = std::mem::take(&mut scratch.obj_joined);
                obj_joined.clear();
                index.leaves_of_object(&scratch.obj_leaves, &mut obj_joined);
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
                    if let Some(t) = emit {
                        if !built[i] && obj.family(i).len() > 0 {
                            key_table(plan, f, &t.skip, &mut tables[i]);
                            built[i] = true;
                        }
                    }
                    for s in obj.family(i) {
                        let mut joined = std::mem::take(&mut scratch.joined);
                        let own = own_groups(plan, &s);
                        let leaves: &[&Pairs] = if own == 0 {
                            &obj_joined
                        } else {
                            index.series_leaves_of(plan, &s, own, &scratch.obj_leaves, &mut joined);
                            &joined
                        };
                        for &a in &f.aggs {
                            aggs[a].add(plan, a, &s, leaves);
                        }
                        if let Some(t) = emit {
                            let table = &tables[i];
                            let own = (&identity[..], &s);
                            ctx.emit_series(t, table, own, leaves, &mut scratch, &mut stats, out);
                        }
                        joined.clear();
                        scratch.joined = joined;
                    }
                }
                scratch.obj_joined = obj_joined;
                scratch.identity = identity;
            }
            scratch.built = built;
        }
        stats.unknown_families = unknown.len() as u64;
        for (a, acc) in aggs.iter().enumerate() {
            let source = snap.sym(&plan.aggs[a].source).and_then(|s| plan.family(s));
            ctx.flush(
                a,
                acc,
                source.map(|f| &**f),
                index,
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

/// Buffers reused by every series of a run, so that the steady state allocates nothing.
#[derive(Default)]
struct Scratch<'a> {
    obj_leaves: ObjLeaves,
    /// The object's joined pairs, for its series without a match label of their own.
    obj_joined: Vec<&'a Pairs>,
    /// The object's identity labels.
    identity: Vec<(Sym, &'a str)>,
    /// Which families of the current store have their key table.
    built: Vec<bool>,
    joined: Vec<&'a Pairs>,
    pairs: Vec<(KeyId, &'a str)>,
    labels: Vec<(&'a str, &'a str)>,
    name: String,
    values: Vec<&'a str>,
    plain: PlainKeys,
    owners: OwnerMemo<'a>,
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
    fn add(&mut self, plan: &'s Plan, a: usize, s: &SeriesView<'s>, joined: &[&'s Pairs]) {
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
                .map_or("", |(_, v)| &**v);
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
        t: &'x crate::plan::Transform,
        table: &[Act<'x>],
        (identity, s): (&[(Sym, &'x str)], &SeriesView<'x>),
        joined: &[&'x Pairs],
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
        // Most names are one literal: no copy then.
        let mut name = std::mem::take(&mut scratch.name);
        let name_str: &str = match &t.name[..] {
            [NamePart::Lit(l)] => l,
            parts => {
                name.clear();
                for p in parts {
                    match p {
                        NamePart::Lit(l) => name.push_str(l),
                        NamePart::Label(l) => {
                            name.push_str(mapped(&t.map_values, *l, s.get(*l).unwrap_or("")))
                        }
                    }
                }
                &name
            }
        };
        let mut labels = std::mem::take(&mut scratch.labels);
        labels.clear();
        let mut asm = Assembler::new(table);
        let key_of_sym = &self.plan.key_of_sym[..];
        if t.map_values.is_empty() {
            for (sym, v) in identity.iter().copied().chain(s.own()) {
                let k = key_of_sym.get(sym.index()).copied().unwrap_or(UNSET);
                if k != UNSET {
                    asm.push(k, v, &mut labels);
                }
            }
        } else {
            for (sym, v) in identity.iter().copied().chain(s.own()) {
                let k = key_of_sym.get(sym.index()).copied().unwrap_or(UNSET);
                if k != UNSET {
                    asm.push(k, mapped(&t.map_values, sym, v), &mut labels);
                }
            }
        }
        for p in joined {
            for (k, v) in p.iter() {
                asm.push(*k, v, &mut labels);
            }
        }
        if let Some((k, v)) = extra {
            asm.push(k, v, &mut labels);
        }
        asm.finish(self.plan, &mut scratch.owners, &mut labels);
        out.series(&OutSeries {
            name: name_str,
            labels: &labels,
            value,
            timestamp_ms: self.ts,
        });
        stats.series_out += 1;
        scratch.name = name;
        scratch.labels = labels;
    }

    #[allow(clippy::too_many_arguments)] // the run's context, split for the borrow checker
    fn flush(
        &self,
        a: usize,
        acc: &AggAcc<'x>,
        source: Option<&'x FamilyPlan>,
        index: Index<'x>,
        scratch: &mut Scratch<'x>,
        stats: &mut RunStats,
        out: &mut dyn Emit,
    ) {
        let agg = &self.plan.aggs[a];
        /// The rule of an aggregation whose source family no store carries.
        static NO_SOURCE: FamilyPlan = FamilyPlan {
            action: Action::Drop(DropReason::Rule),
            aggs: Vec::new(),
            overrides: Vec::new(),
        };
        let fam = source.unwrap_or(&NO_SOURCE);
        // The source family may be in no store of this snapshot.
        scratch.plain.family(fam);
        let mut rows: Vec<(&Key<'x>, f64)> = acc.groups.iter().map(|(k, v)| (k, *v)).collect();
        // Group keys are distinct: an unstable sort gives the same order.
        rows.sort_unstable_by(|x, y| x.0.cmp(y.0));
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
            let mut pairs = std::mem::take(&mut scratch.pairs);
            pairs.clear();
            for (i, (_, k)) in agg.by.iter().enumerate() {
                if let Some(v) = vals.get(i).filter(|v| !v.is_empty()) {
                    pairs.push((*k, v));
                }
            }
            // Joins apply to aggregation rows too, on their group labels.
            for g in 0..self.plan.groups.len() {
                if let Some(leaf) = index.lookup(self.plan, g, |l| get(l).filter(|v| !v.is_empty()))
                {
                    pairs.extend(index.leaf(g, leaf).iter().map(|(k, v)| (*k, &**v)));
                }
            }
            let mut labels = std::mem::take(&mut scratch.labels);
            labels.clear();
            let memo = (&scratch.plain, &mut scratch.owners);
            assemble(self.plan, fam, &agg.skip, &pairs, memo, &mut labels);
            out.series(&OutSeries {
                name: &name,
                labels: &labels,
                value,
                timestamp_ms: self.ts,
            });
            stats.series_out += 1;
            stats.aggregation_rows += 1;
            scratch.name = name;
            scratch.pairs = pairs;
            scratch.labels = labels;
        }
        scratch.values = vals;
    }
}

/// Keys that [`assemble`] can emit under their mapped name without looking further: no owner
/// role, and in no skip list or per-family override of the families seen so far in the run.
#[derive(Default)]
pub(crate) struct PlainKeys(Vec<bool>);

impl PlainKeys {
    pub(crate) fn reset(&mut self, plan: &Plan) {
        self.0.clear();
        self.0.extend(plan.keys.iter().map(|k| k.owner.is_none()));
        for a in &plan.aggs {
            self.not_plain(&a.skip);
        }
    }

    /// Marks what `f` skips or renames (call before assembling its series).
    pub(crate) fn family(&mut self, f: &FamilyPlan) {
        if let Action::Emit(t) = &f.action {
            self.not_plain(&t.skip);
        }
        for (k, _) in &f.overrides {
            self.not_plain(&[*k]);
        }
    }

    pub(crate) fn not_plain(&mut self, keys: &[KeyId]) {
        for k in keys {
            if let Some(p) = self.0.get_mut(*k as usize) {
                *p = false;
            }
        }
    }

    fn get(&self, k: KeyId) -> bool {
        self.0.get(k as usize).copied().unwrap_or(false)
    }
}

type Labels<'a> = Vec<(&'a str, &'a str)>;

/// The owner labels last derived, per owner pair (`created_by_*`, `owner_*`): the series of
/// one object mostly carry the very same owner strings, so they are derived once.
#[derive(Default)]
pub(crate) struct OwnerMemo<'a> {
    last: [Option<(&'a str, &'a str, Labels<'a>)>; 2],
}

impl<'a> OwnerMemo<'a> {
    fn emit(&mut self, i: usize, kind: &'a str, name: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
        let slot = &mut self.last[i];
        match slot {
            Some((k, n, tags)) if std::ptr::eq(*k, kind) && std::ptr::eq(*n, name) => {
                out.extend_from_slice(tags);
            }
            _ => {
                let mut tags = slot.take().map(|(_, _, t)| t).unwrap_or_default();
                tags.clear();
                owner_labels(kind, name, &mut tags);
                out.extend_from_slice(&tags);
                *slot = Some((kind, name, tags));
            }
        }
    }
}

/// Maps keys (per-family override, then the mapper), handles owner labels (§3), then
/// appends the static tags (`tags`, `cluster_name`).
pub(crate) fn assemble<'a>(
    plan: &'a Plan,
    fam: &'a FamilyPlan,
    skip: &[KeyId],
    pairs: &[(KeyId, &'a str)],
    (plain, owners): (&PlainKeys, &mut OwnerMemo<'a>),
    out: &mut Vec<(&'a str, &'a str)>,
) {
    let mut asm = Assembler::new(&[]);
    for &(k, v) in pairs {
        if plain.get(k) {
            if let Some(info) = plan.keys.get(k as usize) {
                out.push((&*info.out, v));
            }
            continue;
        }
        asm.apply(act_of(plan, fam, skip, k), v, out);
    }
    asm.finish(plan, owners, out);
}

/// What [`assemble`] does with one key for one family: emit it under a name, leave it out,
/// or keep it for an owner label (slot in [`Assembler`]'s `owner`).
#[derive(Clone, Copy)]
enum Act<'a> {
    Emit(&'a str),
    Skip,
    Owner(u8),
}

/// The [`Act`] of key `k` for `fam` with `skip` (per-family override, then the mapper).
fn act_of<'a>(plan: &'a Plan, fam: &'a FamilyPlan, skip: &[KeyId], k: KeyId) -> Act<'a> {
    use crate::plan::OwnerRole;
    let Some(info) = plan.keys.get(k as usize) else {
        return Act::Skip;
    };
    if skip.contains(&k) {
        return Act::Skip;
    }
    if let Some(role) = info.owner {
        return Act::Owner(match role {
            OwnerRole::CreatedByKind => 0,
            OwnerRole::CreatedByName => 1,
            OwnerRole::OwnerKind => 2,
            OwnerRole::OwnerName => 3,
        });
    }
    Act::Emit(
        fam.overrides
            .iter()
            .find(|(x, _)| *x == k)
            .map_or(&*info.out, |(_, o)| &**o),
    )
}

/// Every key's [`Act`] for `fam` with `skip`, indexed by [`KeyId`]: built once per family and
/// run, so that a series' labels are mapped by one table read each.
fn key_table<'a>(plan: &'a Plan, fam: &'a FamilyPlan, skip: &[KeyId], out: &mut Vec<Act<'a>>) {
    out.clear();
    out.extend((0..plan.keys.len()).map(|k| act_of(plan, fam, skip, k as KeyId)));
}

/// [`assemble`] one pair at a time, so that a series' labels go straight from the snapshot
/// into the output list without an intermediate list of pairs.
struct Assembler<'a, 't> {
    /// A [`key_table`] (empty when the caller applies [`act_of`] itself).
    table: &'t [Act<'a>],
    /// The first `created_by_kind`, `created_by_name`, `owner_kind`, `owner_name` values.
    owner: [Option<&'a str>; 4],
}

impl<'a, 't> Assembler<'a, 't> {
    fn new(table: &'t [Act<'a>]) -> Self {
        Assembler {
            table,
            owner: [None; 4],
        }
    }

    /// Key `k` with value `v`, by the table.
    #[inline]
    fn push(&mut self, k: KeyId, v: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
        if let Some(act) = self.table.get(k as usize) {
            self.apply(*act, v, out);
        }
    }

    #[inline]
    fn apply(&mut self, act: Act<'a>, v: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
        match act {
            Act::Emit(name) => out.push((name, v)),
            Act::Owner(slot) => {
                if let Some(o) = self.owner.get_mut(slot as usize) {
                    o.get_or_insert(v);
                }
            }
            Act::Skip => {}
        }
    }

    /// Appends the owner labels of the owner values found, then the static tags.
    fn finish(self, plan: &'a Plan, owners: &mut OwnerMemo<'a>, out: &mut Vec<(&'a str, &'a str)>) {
        let [ck, cn, ok, on] = self.owner;
        for (i, (kind, name)) in [(ck, cn), (ok, on)].into_iter().enumerate() {
            if let (Some(kind), Some(name)) = (kind, name) {
                owners.emit(i, kind, name, out);
            }
        }
        out.extend(plan.static_tags.iter().map(|(k, v)| (&**k, &**v)));
    }
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
                (5..=10).contains(&s.len()) && s.bytes().all(is_name_suffix_byte)
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

/// A character of the random suffix Kubernetes gives generated names (`SafeEncodeString`'s
/// alphabet: consonants and digits that cannot spell words). A `match` rather than a search
/// of the alphabet: this runs for every byte of every owner name of every output series.
fn is_name_suffix_byte(b: u8) -> bool {
    matches!(
        b,
        b'b' | b'c'
            | b'd'
            | b'f'
            | b'g'
            | b'h'
            | b'j'
            | b'k'
            | b'l'
            | b'm'
            | b'n'
            | b'p'
            | b'q'
            | b'r'
            | b's'
            | b't'
            | b'v'
            | b'w'
            | b'x'
            | b'z'
            | b'2'
            | b'4'
            | b'5'
            | b'6'
            | b'7'
            | b'8'
            | b'9'
    )
}

fn strip_suffix(name: &str, ok: impl Fn(&str) -> bool) -> Option<&str> {
    let (head, tail) = name.rsplit_once('-')?;
    (!head.is_empty() && ok(tail)).then_some(head)
}
