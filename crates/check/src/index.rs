//! The join index (check-semantics.md §4 "Index build"), kept from one run to the next.
//!
//! A snapshot's objects are shared `Arc`s: an object that did not change since the last run
//! is the very same allocation. The index keeps the last run's snapshot alive (so no address
//! it remembers can be reused by a new object) and, per object of a join's source store, what
//! that object contributed. A run walks the source stores once, looks every object's address
//! up, and reads only the objects it has not seen: new, changed or relisted ones. Objects of
//! the last run that are not in this snapshot are taken out. A leaf (the pairs of one
//! match-value tuple) is rebuilt only when one of its contributors came, went, or changed
//! place in the snapshot's order, so that its pairs are exactly what an index built from
//! scratch gives: in the order of the joins, then of the source objects as the snapshot
//! lists them, then of their series.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use ahash::RandomState;
use kubestate_store::structured::{Object, SeriesView, Snapshot, Sym};

use crate::plan::{group_bit, Get, KeyId, Plan, UNSET};

/// Joined pairs of one leaf: output key and value.
pub(crate) type Pairs = [(KeyId, Arc<str>)];

/// No slot: a label a join does not read.
const NO_SLOT: u16 = u16::MAX;
/// End of a chain of leaves with the same hash.
const NONE: u32 = u32::MAX;

/// What the index build needs of one join: the slot of each label it reads (match labels
/// first, then the listed ones), so that one pass over a source series' labels finds them all.
struct Reader {
    group: usize,
    /// Position of the join in its group.
    rank: u32,
    join: usize,
    slot_of: Vec<u16>,
    slots: u16,
    /// Listed labels: slot and output key, in the configured order.
    listed: Vec<(u16, KeyId)>,
}

impl Reader {
    fn new(plan: &Plan, group: usize, rank: u32, join: usize) -> Reader {
        let mut r = Reader {
            group,
            rank,
            join,
            slot_of: Vec::new(),
            slots: 0,
            listed: Vec::new(),
        };
        let listed: &[(Sym, KeyId)] = match &plan.joins[join].get {
            Get::Listed(list) => list,
            Get::All { .. } => &[],
        };
        for sym in plan.groups[group]
            .labels
            .iter()
            .chain(listed.iter().map(|(s, _)| s))
        {
            if r.slot_of.len() <= sym.index() {
                r.slot_of.resize(sym.index() + 1, NO_SLOT);
            }
            if r.slot_of[sym.index()] == NO_SLOT {
                r.slot_of[sym.index()] = r.slots;
                r.slots += 1;
            }
        }
        r.listed = listed.iter().map(|(s, k)| (r.slot(*s), *k)).collect();
        r
    }

    fn slot(&self, sym: Sym) -> u16 {
        self.slot_of.get(sym.index()).copied().unwrap_or(NO_SLOT)
    }
}

/// One pair an object contributed: group, leaf, rank of the join in its group, key, value.
struct Item {
    group: u32,
    leaf: u32,
    rank: u32,
    key: KeyId,
    value: Arc<str>,
}

/// What one object of a source store contributed in the last run.
#[derive(Default)]
struct Slot {
    /// The object's address (0: a free slot).
    ptr: usize,
    /// The run that last saw it.
    gen: u32,
    /// Its place in the snapshot's order of source objects, in the run that last saw it.
    seq: u64,
    /// The distinct (group, leaf) it contributes to (a leaf may get no pair from it).
    leaves: Vec<(u32, u32)>,
    /// Its pairs, in the order it gave them (join by join, series by series).
    items: Vec<Item>,
}

/// The pairs of one match-value tuple.
#[derive(Default)]
struct Leaf {
    /// The match values (empty with no contributors: a free leaf).
    values: Box<[Box<str>]>,
    /// The next leaf whose values have the same hash.
    next: u32,
    /// The slots contributing, in the snapshot's order.
    contributors: Vec<u32>,
    pairs: Vec<(KeyId, Arc<str>)>,
    /// Its pairs must be rebuilt.
    dirty: bool,
    /// It is in [`KeptIndex::queue`].
    queued: bool,
}

impl Leaf {
    /// Marks the leaf for a rebuild; returns whether it must be queued.
    fn touch(&mut self) -> bool {
        self.dirty = true;
        !std::mem::replace(&mut self.queued, true)
    }
}

/// The index of one group of joins (same ordered `labels_to_match`).
#[derive(Default)]
struct Group {
    /// Hash of the match values → first leaf of the chain with that hash.
    map: HashMap<u64, u32, RandomState>,
    leaves: Vec<Leaf>,
    free: Vec<u32>,
    live: usize,
    pairs: usize,
}

/// The join index of every group, kept across runs.
#[derive(Default)]
pub(crate) struct KeptIndex {
    /// The last run's snapshot: keeps every object whose address is remembered alive.
    prev: Option<Snapshot>,
    /// The store descriptions of that snapshot (a store re-created or removed starts over).
    metas: Vec<usize>,
    gen: u32,
    hasher: RandomState,
    by_ptr: HashMap<usize, u32, RandomState>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    groups: Vec<Group>,
    /// Leaves to rebuild, and those with more than one contributor (their order is
    /// checked on every run).
    queue: Vec<(u32, u32)>,
    /// Objects read (not found unchanged) in the last update.
    pub(crate) read: u64,
}

fn hash_values<'a>(h: &RandomState, values: impl Iterator<Item = &'a str>) -> u64 {
    let mut s = h.build_hasher();
    for v in values {
        v.hash(&mut s);
    }
    s.finish()
}

/// Match values read from `labels` with `get`; `None` when one is missing.
fn with_values<'v, R>(
    labels: &[Sym],
    mut get: impl FnMut(Sym) -> Option<&'v str>,
    f: impl FnOnce(&[&'v str]) -> R,
) -> Option<R> {
    let mut buf: [&str; 8] = [""; 8];
    if labels.len() <= buf.len() {
        for (at, l) in buf.iter_mut().zip(labels) {
            *at = get(*l)?;
        }
        Some(f(&buf[..labels.len()]))
    } else {
        let v: Vec<&str> = labels.iter().map(|l| get(*l)).collect::<Option<_>>()?;
        Some(f(&v))
    }
}

impl Group {
    fn find(&self, h: &RandomState, values: &[&str]) -> Option<u32> {
        let mut at = *self.map.get(&hash_values(h, values.iter().copied()))?;
        while at != NONE {
            let leaf = &self.leaves[at as usize];
            if leaf.values.len() == values.len()
                && leaf.values.iter().zip(values).all(|(a, b)| **a == **b)
            {
                return Some(at);
            }
            at = leaf.next;
        }
        None
    }

    fn find_or_insert(&mut self, h: &RandomState, values: &[&str]) -> u32 {
        if let Some(l) = self.find(h, values) {
            return l;
        }
        let hash = hash_values(h, values.iter().copied());
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.leaves.push(Leaf::default());
                self.leaves.len() as u32 - 1
            }
        };
        let next = self.map.insert(hash, id).unwrap_or(NONE);
        let leaf = &mut self.leaves[id as usize];
        leaf.values = values.iter().map(|v| Box::from(*v)).collect();
        leaf.next = next;
        self.live += 1;
        id
    }

    fn remove(&mut self, h: &RandomState, id: u32) {
        let hash = hash_values(h, self.leaves[id as usize].values.iter().map(|v| &**v));
        let next = self.leaves[id as usize].next;
        match self.map.get(&hash).copied() {
            Some(first) if first == id => {
                if next == NONE {
                    self.map.remove(&hash);
                } else {
                    self.map.insert(hash, next);
                }
            }
            Some(mut at) => {
                while at != NONE {
                    let n = self.leaves[at as usize].next;
                    if n == id {
                        self.leaves[at as usize].next = next;
                        break;
                    }
                    at = n;
                }
            }
            None => {}
        }
        self.pairs -= self.leaves[id as usize].pairs.len();
        self.leaves[id as usize] = Leaf::default();
        self.free.push(id);
        self.live -= 1;
    }
}

impl KeptIndex {
    /// Brings the index up to `snap`: reads the objects of the join sources' stores that the
    /// last run did not see, drops those it saw that are gone.
    pub(crate) fn update(&mut self, plan: &Plan, snap: &Snapshot) {
        let metas: Vec<usize> = snap
            .stores()
            .map(|s| s.meta() as *const _ as usize)
            .collect();
        if metas != self.metas || self.groups.len() != plan.groups.len() {
            // Another set of stores (or a first run): start over.
            *self = KeptIndex {
                metas,
                gen: self.gen,
                groups: plan.groups.iter().map(|_| Group::default()).collect(),
                ..KeptIndex::default()
            };
        }
        self.gen = self.gen.wrapping_add(1);
        self.read = 0;
        let readers: Vec<Reader> = plan
            .groups
            .iter()
            .enumerate()
            .flat_map(|(g, group)| {
                group
                    .joins
                    .iter()
                    .enumerate()
                    .map(move |(rank, &ji)| Reader::new(plan, g, rank as u32, ji))
            })
            .collect();
        let mut here: Vec<(&Reader, usize)> = Vec::new();
        let mut vals: Vec<Option<&str>> = Vec::new();
        let mut seq = 0u64;
        let mut seen = 0usize;
        for store in snap.stores() {
            let fams = &store.meta().family_syms;
            here.clear();
            here.extend(readers.iter().filter_map(|r| {
                let source = plan.joins[r.join].source;
                fams.iter().position(|s| *s == source).map(|fi| (r, fi))
            }));
            if here.is_empty() {
                continue;
            }
            for (_, obj) in store.objects() {
                seq += 1;
                let ptr = obj as *const Object as usize;
                if let Some(&slot) = self.by_ptr.get(&ptr) {
                    let s = &mut self.slots[slot as usize];
                    if s.gen != self.gen {
                        s.gen = self.gen;
                        s.seq = seq;
                        seen += 1;
                        continue;
                    }
                }
                self.read += 1;
                let slot = self.read_object(plan, obj, &here, &mut vals, seq);
                self.by_ptr.insert(ptr, slot);
            }
        }
        // What the last run saw and this one did not: gone (or replaced by a new version).
        if seen + self.read as usize != self.by_ptr.len() {
            for slot in 0..self.slots.len() {
                let s = &self.slots[slot];
                if s.ptr != 0 && s.gen != self.gen {
                    self.by_ptr.remove(&s.ptr);
                    self.drop_slot(slot as u32);
                }
            }
        }
        self.settle(plan);
        self.prev = Some(snap.clone());
    }

    /// Reads what `obj` contributes into a new slot and adds it to its leaves.
    fn read_object<'s>(
        &mut self,
        plan: &Plan,
        obj: &'s Object,
        here: &[(&Reader, usize)],
        vals: &mut Vec<Option<&'s str>>,
        seq: u64,
    ) -> u32 {
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.slots.push(Slot::default());
                self.slots.len() as u32 - 1
            }
        };
        let mut slot = std::mem::take(&mut self.slots[id as usize]);
        slot.ptr = obj as *const Object as usize;
        slot.gen = self.gen;
        slot.seq = seq;
        for &(r, fi) in here {
            let labels = &plan.groups[r.group].labels;
            let group = &mut self.groups[r.group];
            for s in obj.family(fi) {
                if s.value() != 1.0 {
                    continue;
                }
                // As `SeriesView::get`: own labels shadow identity labels, and the first of
                // a name wins.
                vals.clear();
                vals.resize(r.slots as usize, None);
                for (sym, v) in s.own().chain(obj.identity()) {
                    if let Some(at) = vals.get_mut(r.slot(sym) as usize) {
                        at.get_or_insert(v);
                    }
                }
                let Some(leaf) = with_values(
                    labels,
                    |l| vals.get(r.slot(l) as usize).copied()?,
                    |v| group.find_or_insert(&self.hasher, v),
                ) else {
                    continue;
                };
                let at = (r.group as u32, leaf);
                if !slot.leaves.contains(&at) {
                    slot.leaves.push(at);
                    let l = &mut group.leaves[leaf as usize];
                    l.contributors.push(id);
                    if l.touch() {
                        self.queue.push(at);
                    }
                }
                let mut push = |key: KeyId, v: &str| {
                    slot.items.push(Item {
                        group: at.0,
                        leaf,
                        rank: r.rank,
                        key,
                        value: Arc::from(v),
                    })
                };
                match &plan.joins[r.join].get {
                    Get::Listed(_) => {
                        for &(at, k) in &r.listed {
                            if let Some(Some(v)) = vals.get(at as usize) {
                                if !v.is_empty() {
                                    push(k, v);
                                }
                            }
                        }
                    }
                    Get::All { keys_by_sym, .. } => {
                        for (sym, v) in s.labels() {
                            let k = keys_by_sym.get(sym.index()).copied();
                            if let Some(k) = k.filter(|k| *k != UNSET) {
                                push(k, v);
                            }
                        }
                    }
                }
            }
        }
        self.slots[id as usize] = slot;
        id
    }

    /// Takes a slot's contributions out of its leaves and frees it.
    fn drop_slot(&mut self, id: u32) {
        let slot = std::mem::take(&mut self.slots[id as usize]);
        for &(g, l) in &slot.leaves {
            let leaf = &mut self.groups[g as usize].leaves[l as usize];
            leaf.contributors.retain(|c| *c != id);
            if leaf.touch() {
                self.queue.push((g, l));
            }
        }
        self.free.push(id);
    }

    /// Rebuilds the leaves whose contributors changed or changed order; frees the empty ones.
    fn settle(&mut self, plan: &Plan) {
        let mut queue = std::mem::take(&mut self.queue);
        let mut keep = 0;
        for i in 0..queue.len() {
            let (g, l) = queue[i];
            let group = &mut self.groups[g as usize];
            let slots = &self.slots;
            let leaf = &mut group.leaves[l as usize];
            let order = |c: &u32| slots[*c as usize].seq;
            let sorted = leaf
                .contributors
                .windows(2)
                .all(|w| order(&w[0]) <= order(&w[1]));
            if leaf.dirty || !sorted {
                leaf.dirty = false;
                if leaf.contributors.is_empty() {
                    group.remove(&self.hasher, l);
                    continue;
                }
                leaf.contributors.sort_by_key(order);
                let before = leaf.pairs.len();
                leaf.pairs.clear();
                for rank in 0..plan.groups[g as usize].joins.len() as u32 {
                    for c in &leaf.contributors {
                        leaf.pairs.extend(
                            slots[*c as usize]
                                .items
                                .iter()
                                .filter(|i| i.group == g && i.leaf == l && i.rank == rank)
                                .map(|i| (i.key, i.value.clone())),
                        );
                    }
                }
                group.pairs = group.pairs + leaf.pairs.len() - before;
            }
            let leaf = &mut group.leaves[l as usize];
            if leaf.contributors.len() > 1 {
                queue[keep] = (g, l);
                keep += 1;
            } else {
                leaf.queued = false;
            }
        }
        queue.truncate(keep);
        self.queue = queue;
    }

    /// The run's view of the index.
    pub(crate) fn view(&self) -> Index<'_> {
        Index { kept: self }
    }

    /// Distinct match-value tuples and pairs held, over all groups.
    pub(crate) fn sizes(&self) -> (u64, u64) {
        self.groups
            .iter()
            .fold((0, 0), |(k, p), g| (k + g.live as u64, p + g.pairs as u64))
    }

    /// Heap bytes the kept index holds (estimate: its tables, leaves, contributions and
    /// copied values; the previous snapshot's objects are shared, not counted).
    pub(crate) fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let map = |n: usize, entry: usize| n * (entry + 1) * 8 / 7;
        let mut b = map(self.by_ptr.capacity(), 16) + self.slots.capacity() * size_of::<Slot>();
        for s in &self.slots {
            b += s.leaves.capacity() * 8 + s.items.capacity() * size_of::<Item>();
            // An `Arc<str>`: two counters and the bytes.
            b += s.items.iter().map(|i| 16 + i.value.len()).sum::<usize>();
        }
        for g in &self.groups {
            b += map(g.map.capacity(), 12) + g.leaves.capacity() * size_of::<Leaf>();
            for l in &g.leaves {
                b += l.values.len() * 16 + l.values.iter().map(|v| v.len()).sum::<usize>();
                b += l.contributors.capacity() * 4;
                b += l.pairs.capacity() * size_of::<(KeyId, Arc<str>)>();
            }
        }
        b
    }
}

/// Per object: the leaf of each group found from its identity labels alone.
pub(crate) type ObjLeaves = Vec<Option<u32>>;

/// One run's read view of the [`KeptIndex`].
#[derive(Clone, Copy)]
pub(crate) struct Index<'k> {
    kept: &'k KeptIndex,
}

impl<'k> Index<'k> {
    /// The leaf of group `g` for match values `key`.
    pub(crate) fn lookup<'v>(
        &self,
        plan: &Plan,
        g: usize,
        get: impl FnMut(Sym) -> Option<&'v str>,
    ) -> Option<u32> {
        let group = self.kept.groups.get(g)?;
        with_values(&plan.groups[g].labels, get, |v| {
            group.find(&self.kept.hasher, v)
        })?
    }

    /// The pairs of leaf `id` of group `g`.
    pub(crate) fn leaf(&self, g: usize, id: u32) -> &'k Pairs {
        self.kept
            .groups
            .get(g)
            .and_then(|gi| gi.leaves.get(id as usize))
            .map_or(&[], |l| &l.pairs[..])
    }

    fn groups(&self) -> usize {
        self.kept.groups.len()
    }

    /// Appends the leaves of every group whose match labels `get` gives values for (the
    /// lookup of rows built from a few labels, like aggregation rows).
    pub(crate) fn leaves_of<'v>(
        &self,
        plan: &Plan,
        get: impl Fn(Sym) -> Option<&'v str>,
        out: &mut Vec<&'k Pairs>,
    ) {
        for g in 0..self.groups() {
            if let Some(leaf) = self.lookup(plan, g, |l| get(l).filter(|v| !v.is_empty())) {
                out.push(self.leaf(g, leaf));
            }
        }
    }

    /// [`Index::object_leaves`] from the identity labels already read out of the object.
    pub(crate) fn leaves_of_identity(
        &self,
        plan: &Plan,
        identity: &[(Sym, &str)],
        out: &mut ObjLeaves,
    ) {
        out.clear();
        for g in 0..self.groups() {
            out.push(self.lookup(plan, g, |l| {
                identity.iter().find(|(k, _)| *k == l).map(|(_, v)| *v)
            }));
        }
    }

    /// Leaves found from an object's identity labels, shared by all its series.
    pub(crate) fn object_leaves(&self, plan: &Plan, obj: &Object, out: &mut ObjLeaves) {
        out.clear();
        for g in 0..self.groups() {
            out.push(self.lookup(plan, g, |l| {
                obj.identity().find(|(k, _)| *k == l).map(|(_, v)| v)
            }));
        }
    }

    /// Appends the leaves that apply to series `s`: walked with the series' own labels only
    /// (no chaining), for every group. A group none of whose match labels is among the
    /// series' family labels has the object's leaf, found once per object.
    pub(crate) fn series_leaves(
        &self,
        plan: &Plan,
        s: &SeriesView<'_>,
        obj_leaves: &ObjLeaves,
        out: &mut Vec<&'k Pairs>,
    ) {
        self.series_leaves_of(plan, s, own_groups(plan, s), obj_leaves, out);
    }

    /// The non-empty leaves of `obj_leaves` (what [`Index::series_leaves`] gives a series
    /// that carries no match label of its own).
    pub(crate) fn leaves_of_object(&self, obj_leaves: &ObjLeaves, out: &mut Vec<&'k Pairs>) {
        for (g, leaf) in obj_leaves.iter().enumerate() {
            if let Some(l) = *leaf {
                let p = self.leaf(g, l);
                if !p.is_empty() {
                    out.push(p);
                }
            }
        }
    }

    /// [`Index::series_leaves`] with the series' [`own_groups`] already known.
    pub(crate) fn series_leaves_of(
        &self,
        plan: &Plan,
        s: &SeriesView<'_>,
        own: u64,
        obj_leaves: &ObjLeaves,
        out: &mut Vec<&'k Pairs>,
    ) {
        for g in 0..self.groups() {
            let leaf = if own & group_bit(g) != 0 {
                self.lookup(plan, g, |l| s.get(l))
            } else {
                obj_leaves.get(g).copied().flatten()
            };
            if let Some(l) = leaf {
                let p = self.leaf(g, l);
                if !p.is_empty() {
                    out.push(p);
                }
            }
        }
    }
}

/// The join groups among whose match labels are some of the series' own (family) labels, as
/// [`group_bit`]s: the groups that series looks up itself instead of taking the object's leaf.
pub(crate) fn own_groups(plan: &Plan, s: &SeriesView<'_>) -> u64 {
    let mut own = 0u64;
    for (k, _) in s.own() {
        own |= plan.groups_of_sym.get(k.index()).copied().unwrap_or(0);
    }
    own
}
