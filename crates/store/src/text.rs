//! The default store: each object's families pre-rendered as exposition lines.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use kubestate_metric::ObjectMetrics;
use parking_lot::Mutex;
use triomphe::ThinArc;

use crate::index::Index;
use crate::{ObjectStore, StoreInfo};

/// One object's rendered lines, held compactly in a single allocation: the reference count,
/// the length and the bytes in one heap block behind a one-word pointer (`ThinArc`), so that
/// reaching an object's lines from the map or the scrape index is one dependent load, and a
/// map slot stays one word (the map's nodes have room for 16 or 32 slots whatever they
/// hold, so a two-word `Arc<[u8]>` cost more in the map than it saved). Cloning shares the
/// block.
///
/// Every sample line of an object is `family name` + `prefix` + `rest`, where the prefix is
/// `{` and the object's identity labels (see [`ObjectMetrics::write_identity_prefix`]). The
/// entry keeps the prefix once and only the rests of each family; family names come from the
/// store's family list when a scrape writes the lines. For a pod this keeps about a quarter of
/// the bytes of its full lines.
///
/// Layout of `bytes`: one byte giving the width `w` (2 or 4) of the offsets, the number of
/// families `n` as four bytes, `n + 1` little-endian offsets of `w` bytes into the payload that
/// follows (the end of the prefix, then the end of each family), then the payload: the prefix
/// and the rests of family 0, 1, …. Each rest is preceded by its length: one byte below 255,
/// else 255 and four bytes, so that a scrape copies lines without searching for their ends.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    block: ThinArc<(), u8>,
}

const HEADER: usize = 5;
/// Length byte announcing a four-byte length.
const LONG: u8 = u8::MAX;

impl Entry {
    fn render(obj: &ObjectMetrics, families: usize, scratch: &mut Vec<u8>) -> Entry {
        scratch.clear();
        obj.write_identity_prefix(scratch);
        let mut ends = Vec::with_capacity(families + 1);
        ends.push(scratch.len());
        for family in (0..families).filter_map(|i| obj.family(i)) {
            for sample in family.samples() {
                // One length byte, patched once the rest is written; a long rest gets the
                // four-byte form (rare: lines of 255 bytes or more).
                let at = scratch.len();
                scratch.push(0);
                sample.write_rest(scratch);
                let len = scratch.len() - at - 1;
                match u8::try_from(len) {
                    Ok(n) if n < LONG => scratch[at] = n,
                    _ => {
                        scratch[at] = LONG;
                        let bytes = (len as u32).to_le_bytes();
                        scratch.splice(at + 1..at + 1, bytes);
                    }
                }
            }
            ends.push(scratch.len());
        }
        // Families the arena does not have (none, when the generator filled them all).
        ends.resize(families + 1, scratch.len());
        Entry::assemble(&ends, scratch)
    }

    /// The same object with only the families `keep` names, in that order (family `i` of
    /// the result is family `keep[i]` of this one): what a configuration change that drops
    /// families leaves, without generating the object again.
    fn project(&self, keep: &[usize], scratch: &mut Vec<u8>) -> Entry {
        scratch.clear();
        let (prefix, _) = self.parts(0);
        scratch.extend_from_slice(prefix);
        let mut ends = Vec::with_capacity(keep.len() + 1);
        ends.push(scratch.len());
        for &i in keep {
            scratch.extend_from_slice(self.parts(i).1 .0);
            ends.push(scratch.len());
        }
        Entry::assemble(&ends, scratch)
    }

    /// The entry of a payload (`prefix`, then each family's length-prefixed rests) in
    /// `scratch` and the offsets `ends` into it (end of the prefix, then the end of each
    /// family). The header is put in front of the payload in `scratch` itself, so that the
    /// entry's block is the only buffer allocated for its bytes (no temporary copy freed
    /// between the blocks of a relist).
    fn assemble(ends: &[usize], scratch: &mut Vec<u8>) -> Entry {
        let families = ends.len() - 1;
        let payload = scratch.len();
        let width: usize = if payload <= usize::from(u16::MAX) {
            2
        } else {
            4
        };
        scratch.reserve(HEADER + ends.len() * width);
        scratch.push(width as u8);
        scratch.extend_from_slice(&(families as u32).to_le_bytes());
        for &e in ends {
            if width == 2 {
                scratch.extend_from_slice(&(e as u16).to_le_bytes());
            } else {
                scratch.extend_from_slice(&(e as u32).to_le_bytes());
            }
        }
        let header = scratch.len() - payload;
        scratch.rotate_right(header);
        Entry {
            block: ThinArc::from_header_and_slice((), scratch),
        }
    }

    /// The entry's bytes (see the layout above).
    #[inline]
    fn bytes(&self) -> &[u8] {
        &self.block.slice
    }

    fn families(&self) -> usize {
        let b = self.bytes();
        u32::from_le_bytes([b[1], b[2], b[3], b[4]]) as usize
    }

    fn width(&self) -> usize {
        usize::from(self.bytes()[0])
    }

    /// Offset `k` of the table (0: end of the prefix; `i + 1`: end of family `i`).
    fn offset(&self, k: usize, width: usize) -> usize {
        let at = HEADER + k * width;
        let b = self.bytes();
        if width == 2 {
            usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
        } else {
            u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
        }
    }

    /// The identity prefix (`{namespace="a",pod="p"`, or empty) and the length-prefixed
    /// rests of family `i` (empty past the last family).
    fn parts(&self, i: usize) -> (&[u8], Rests<'_>) {
        let n = self.families();
        let width = self.width();
        let payload = &self.bytes()[HEADER + (n + 1) * width..];
        let prefix = &payload[..self.offset(0, width)];
        if i >= n {
            return (prefix, Rests(&[]));
        }
        let (start, end) = (self.offset(i, width), self.offset(i + 1, width));
        (prefix, Rests(&payload[start..end]))
    }

    /// Where family `i` lies: the start of the payload, the end of the prefix, and the start
    /// and end of the family's rests within the payload; `None` when the family has no line
    /// (most families of most objects), decided from two entries of the offset table.
    ///
    /// The scrape calls this once per object and family: decoding the header through
    /// [`Entry::parts`] took 44 % of a plain scrape's instructions.
    #[inline]
    fn family_span(&self, i: usize) -> Option<(usize, usize, usize, usize)> {
        let b = self.bytes();
        let (&w, rest) = b.split_first()?;
        let n = u32::from_le_bytes(*rest.first_chunk::<4>()?) as usize;
        if i >= n {
            return None;
        }
        let w = usize::from(w);
        let read = |k: usize| -> Option<usize> {
            let at = b.get(HEADER + k * w..)?;
            if w == 2 {
                Some(usize::from(u16::from_le_bytes(*at.first_chunk::<2>()?)))
            } else {
                Some(u32::from_le_bytes(*at.first_chunk::<4>()?) as usize)
            }
        };
        let (start, end) = (read(i)?, read(i + 1)?);
        if start >= end {
            return None;
        }
        Some((HEADER + (n + 1) * w, read(0)?, start, end))
    }

    /// Calls `mark(i)` for each family `i` in which the object has lines: one walk over the
    /// offset table (what [`Index::build`] reads of each entry).
    fn families_with_lines(&self, mark: &mut dyn FnMut(usize)) {
        let (n, w) = (self.families(), self.width());
        let mut prev = self.offset(0, w);
        for i in 0..n {
            let end = self.offset(i + 1, w);
            if end > prev {
                mark(i);
            }
            prev = end;
        }
    }

    /// Appends the sample lines of family `i`, named `name`, to `out`.
    pub(crate) fn write_family(&self, i: usize, name: &[u8], out: &mut Vec<u8>) {
        let Some((base, prefix_end, start, end)) = self.family_span(i) else {
            return;
        };
        let payload = self.bytes().get(base..).unwrap_or_default();
        let (Some(prefix), Some(rests)) = (payload.get(..prefix_end), payload.get(start..end))
        else {
            return;
        };
        let mut rests = Rests(rests);
        let Some(first) = rests.next() else {
            return;
        };
        let head = name.len() + prefix.len();
        out.reserve(head + first.len());
        let at = out.len();
        out.extend_from_slice(name);
        out.extend_from_slice(prefix);
        out.extend_from_slice(first);
        // Further lines repeat the first line's name and prefix: one copy from the output
        // instead of two from the family list and the entry.
        for line in rests {
            out.reserve(head + line.len());
            out.extend_from_within(at..at + head);
            out.extend_from_slice(line);
        }
    }

    /// Number of sample lines over all families: one walk over the rests, which lie one
    /// family after the other from the end of the prefix on.
    fn line_count(&self) -> usize {
        let n = self.families();
        let width = self.width();
        let payload = &self.bytes()[HEADER + (n + 1) * width..];
        let (start, end) = (self.offset(0, width), self.offset(n, width));
        Rests(payload.get(start..end).unwrap_or_default()).count()
    }

    fn heap_bytes(&self) -> usize {
        self.bytes().len()
    }

    /// Tells entries apart while they live (see [`RenderedObject::entry_id`]): the address of
    /// the shared block, which clones of the entry (in later versions of the map, in the
    /// scrape index) have in common.
    fn id(&self) -> usize {
        self.block.ptr() as usize
    }
}

/// The rests of one family of a stored object, each `,label="v"} value\n` (or `} value\n`,
/// `{label="v"} value\n`, ` value\n`: see [`ObjectMetrics::write_identity_prefix`]), in
/// order; ends early on a truncated entry.
#[derive(Clone, Debug)]
pub struct Rests<'a>(&'a [u8]);

impl<'a> Iterator for Rests<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let (&n, rest) = self.0.split_first()?;
        let (len, rest) = if n < LONG {
            (usize::from(n), rest)
        } else {
            let (l, rest) = rest.split_first_chunk::<4>()?;
            (u32::from_le_bytes(*l) as usize, rest)
        };
        match rest.split_at_checked(len) {
            Some((line, next)) => {
                self.0 = next;
                Some(line)
            }
            None => {
                self.0 = &[];
                None
            }
        }
    }
}

/// One object of a [`TextView`], as its rendered lines: readers parse the labels and values
/// they need from these bytes instead of keeping a second copy of the store.
#[derive(Clone, Copy, Debug)]
pub struct RenderedObject<'a> {
    entry: &'a Entry,
}

impl<'a> RenderedObject<'a> {
    /// What every line of the object repeats after the family name: `{` and the identity
    /// labels (`{namespace="a",pod="p",uid="u"`), or nothing for an object without them.
    pub fn identity(&self) -> &'a [u8] {
        self.entry.parts(0).0
    }

    /// The rests of family `i` (the store's [`StoreInfo::families`] order); a line is the
    /// family name, [`RenderedObject::identity`] and one rest.
    pub fn family(&self, i: usize) -> Rests<'a> {
        self.entry.parts(i).1
    }

    /// Number of families the object was rendered with.
    pub fn family_count(&self) -> usize {
        self.entry.families()
    }

    /// Number of sample lines of the object, over all families (the sum of
    /// `family(i).count()`, without decoding the offset table once per family).
    pub fn line_count(&self) -> usize {
        self.entry.line_count()
    }

    /// Tells rendered versions apart, for readers that cache what they derive from objects.
    ///
    /// A stored entry is never changed in place: a change to the object stores a new entry,
    /// and an unchanged object keeps its entry from one store version to the next. So while
    /// a reader holds a [`TextView`] with an entry, no other entry has its id, and an object
    /// of a later view with the same id has the same lines. Once no view holds an entry any
    /// more its id can be reused: a cache keyed by ids must hold the view it was filled from
    /// until it has compared it with the next one.
    pub fn entry_id(&self) -> usize {
        self.entry.id()
    }
}

/// A consistent read-only view of one text store's objects at one moment (one pointer load),
/// for in-process readers such as the explorer. Holding it keeps that version alive.
#[derive(Clone)]
pub struct TextView {
    published: Arc<Published>,
}

impl TextView {
    /// Unique per version of any store: equal generations mean equal contents.
    pub fn generation(&self) -> u64 {
        self.published.generation
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.published.map.len()
    }

    /// Whether the view holds no object.
    pub fn is_empty(&self) -> bool {
        self.published.map.is_empty()
    }

    /// The object with uid `uid`, if the view holds it.
    pub fn get(&self, uid: &str) -> Option<RenderedObject<'_>> {
        self.published
            .map
            .get(uid)
            .map(|e| RenderedObject { entry: e })
    }

    /// The objects with their uids (in no particular order).
    pub fn objects(&self) -> impl Iterator<Item = (&str, RenderedObject<'_>)> + '_ {
        self.published
            .map
            .iter()
            .map(|(k, e)| (&**k, RenderedObject { entry: e }))
    }
}

/// uid → entry. Keys are shared (`Arc<str>`): an update copies the map's path to the changed
/// leaf, and copying a leaf clones its keys, which for `Box<str>` was one allocation each.
pub(crate) type Map = imbl::HashMap<Arc<str>, Entry>;

/// One published version of a store's contents.
pub(crate) struct Published {
    /// Unique among all versions of all stores of the process: equal generations mean equal
    /// contents, so readers can reuse what they derived from a version (e.g. compressed bytes).
    pub(crate) generation: u64,
    /// uid → rendered lines.
    pub(crate) map: Map,
    /// Which objects have lines in each family, built by the first scrape of this version
    /// and reused by later scrapes until the store changes.
    index: OnceLock<Index<Entry>>,
}

static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Published {
    fn new(map: Map) -> Arc<Published> {
        Published::with_generation(next_generation(), map)
    }

    fn with_generation(generation: u64, map: Map) -> Arc<Published> {
        Arc::new(Published {
            generation,
            map,
            index: OnceLock::new(),
        })
    }

    /// The objects in a fixed order and which of them have lines in each of the first
    /// `families` families: built on first use (one read of each entry's offset table),
    /// then kept with this version. Concurrent first uses wait for one build.
    pub(crate) fn index(&self, families: usize) -> &Index<Entry> {
        self.index.get_or_init(|| {
            Index::build(self.map.values().cloned().collect(), families, |e, mark| {
                e.families_with_lines(mark)
            })
        })
    }

    /// Heap bytes of the index, if a scrape has built it.
    fn index_bytes(&self) -> usize {
        self.index.get().map_or(0, Index::heap_bytes)
    }
}

/// The uids changed by the store's recent single-object publishes, so that a reader that
/// derived something from an older version can bring it up to date by looking at those uids
/// only, instead of walking the whole map to find them.
struct ChangeLog {
    /// Every publish with a later generation than this one is in `changes`.
    complete_after: u64,
    /// (generation published, uid changed), oldest first.
    changes: VecDeque<(u64, Arc<str>)>,
}

impl ChangeLog {
    /// Fewest changes kept; a store keeps up to this plus an eighth of its objects.
    const MIN_KEPT: usize = 64;

    fn new(generation: u64) -> ChangeLog {
        ChangeLog {
            complete_after: generation,
            changes: VecDeque::new(),
        }
    }

    fn record(&mut self, generation: u64, uid: Arc<str>, objects: usize) {
        self.changes.push_back((generation, uid));
        while self.changes.len() > Self::MIN_KEPT + objects / 8 {
            if let Some((g, _)) = self.changes.pop_front() {
                self.complete_after = g;
            }
        }
    }

    /// A new version not made of single-object changes (a relist): nothing before it can
    /// be brought forward from the log.
    fn reset(&mut self, generation: u64) {
        self.changes.clear();
        self.complete_after = generation;
    }

    fn between(&self, from: u64, to: u64) -> Option<Vec<Arc<str>>> {
        if from < self.complete_after || to < from {
            return None;
        }
        let start = self.changes.partition_point(|(g, _)| *g <= from);
        Some(
            self.changes
                .range(start..)
                .take_while(|(g, _)| *g <= to)
                .map(|(_, uid)| uid.clone())
                .collect(),
        )
    }
}

/// uid → pre-rendered lines of one store.
///
/// Readers take a snapshot with one atomic pointer load (the scrape path); the writer
/// publishes a new version of a persistent map after each change, so neither ever waits on
/// the other. A relist builds the new contents aside and publishes them in one swap, so a
/// scrape sees either the old or the new complete contents, never a half-filled store.
pub struct TextStore {
    info: StoreInfo,
    published: ArcSwap<Published>,
    writer: Mutex<Writer>,
}

struct Writer {
    /// The map being built by a relist, if one is in progress.
    pending: Option<Map>,
    /// The uids changed by recent publishes, for [`TextStore::changed_between`].
    log: ChangeLog,
}

impl TextStore {
    /// An empty store for `info`.
    pub fn new(info: StoreInfo) -> TextStore {
        TextStore::holding(info, Map::new())
    }

    fn holding(info: StoreInfo, map: Map) -> TextStore {
        let published = Published::new(map);
        TextStore {
            info,
            writer: Mutex::new(Writer {
                pending: None,
                log: ChangeLog::new(published.generation),
            }),
            published: ArcSwap::new(published),
        }
    }

    /// The uids of the objects added, changed or removed after the version with generation
    /// `from` up to the one with generation `to` (both [`TextView::generation`]s of this
    /// store, `from` the older), possibly with repeats; `None` when the store no longer
    /// knows (a relist came between, or more changes than it keeps: about an eighth of its
    /// objects), in which case the reader compares the two views whole.
    pub fn changed_between(&self, from: u64, to: u64) -> Option<Vec<Arc<str>>> {
        self.writer.lock().log.between(from, to)
    }

    /// Publishes `map` as changed from the current version at `uid` alone (under the writer
    /// lock `log` belongs to).
    fn publish_change(&self, log: &mut ChangeLog, map: Map, uid: Arc<str>) {
        let generation = next_generation();
        let objects = map.len();
        log.record(generation, uid, objects);
        self.published
            .store(Published::with_generation(generation, map));
    }

    /// What the store holds.
    pub fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// Number of objects currently published.
    pub fn len(&self) -> usize {
        self.published.load().map.len()
    }

    /// Whether no object is published.
    pub fn is_empty(&self) -> bool {
        self.published.load().map.is_empty()
    }

    /// A store for `info` holding this store's published objects with only the families
    /// `keep` names (see [`crate::StoreFactory::project`]); `None` while a relist is being
    /// built aside, whose objects could not be carried over.
    pub(crate) fn projected(&self, info: StoreInfo, keep: &[usize]) -> Option<TextStore> {
        let w = self.writer.lock();
        if w.pending.is_some() {
            return None;
        }
        let mut scratch = Vec::new();
        let map: Map = self
            .published
            .load()
            .map
            .iter()
            .map(|(uid, e)| (uid.clone(), e.project(keep, &mut scratch)))
            .collect();
        drop(w);
        Some(TextStore::holding(info, map))
    }

    /// A consistent view of the published contents.
    pub(crate) fn snapshot(&self) -> Arc<Published> {
        self.published.load_full()
    }

    /// A consistent read-only view of the published objects (one pointer load).
    pub fn view(&self) -> TextView {
        TextView {
            published: self.published.load_full(),
        }
    }

    /// Bytes held by rendered lines (excluding map overhead).
    pub fn rendered_bytes(&self) -> usize {
        self.published
            .load()
            .map
            .values()
            .map(|e| e.heap_bytes())
            .sum()
    }

    /// Bytes held by the scrape index of the published version (the order of the objects and
    /// one bit per object and family; see [`Exposition`](crate::Exposition)): 0 until a scrape
    /// has built it, then kept until the store changes.
    pub fn index_bytes(&self) -> usize {
        self.published.load().index_bytes()
    }

    /// Renders outside any lock, so that objects of a relist can be rendered on several
    /// threads at once.
    fn entry(&self, obj: &ObjectMetrics) -> Entry {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> =
                std::cell::RefCell::new(Vec::with_capacity(16 * 1024));
        }
        SCRATCH.with(|s| {
            let mut scratch = s.borrow_mut();
            let e = Entry::render(obj, self.info.families.len(), &mut scratch);
            // Do not keep a huge buffer alive after one very large object.
            if scratch.capacity() > 4 << 20 {
                *scratch = Vec::new();
            }
            e
        })
    }
}

impl ObjectStore for TextStore {
    fn apply(&self, uid: &str, obj: &ObjectMetrics) {
        let e = self.entry(obj);
        let mut w = self.writer.lock();
        match &mut w.pending {
            Some(p) => {
                p.insert(uid.into(), e);
            }
            None => {
                let cur = self.published.load();
                // A change that renders the same lines (only fields no family reads changed,
                // e.g. a node's heartbeat or a resourceVersion) keeps the published version:
                // no copy of the map, no new generation, readers' caches stay valid. An
                // update keeps the key it had.
                let uid: Arc<str> = match cur.map.get_key_value(uid) {
                    Some((_, old)) if old.bytes() == e.bytes() => return,
                    Some((key, _)) => key.clone(),
                    None => uid.into(),
                };
                let mut m = cur.map.clone();
                m.insert(uid.clone(), e);
                self.publish_change(&mut w.log, m, uid);
            }
        }
    }

    fn delete(&self, uid: &str) {
        let mut w = self.writer.lock();
        match &mut w.pending {
            Some(p) => {
                p.remove(uid);
            }
            None => {
                let cur = self.published.load_full();
                if let Some((key, _)) = cur.map.get_key_value(uid) {
                    let key = key.clone();
                    let mut m = cur.map.clone();
                    m.remove(uid);
                    self.publish_change(&mut w.log, m, key);
                }
            }
        }
    }

    fn concurrent_relist(&self) -> bool {
        true
    }

    fn relist_started(&self) {
        self.writer.lock().pending = Some(Map::new());
    }

    fn relist_done(&self) {
        let mut w = self.writer.lock();
        if let Some(p) = w.pending.take() {
            let published = Published::new(p);
            w.log.reset(published.generation);
            self.published.store(published);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(obj: &ObjectMetrics, names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, n) in names.iter().enumerate() {
            obj.write_family_text(i, n, &mut out);
        }
        out
    }

    fn from_entry(e: &Entry, names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, n) in names.iter().enumerate() {
            e.write_family(i, n.as_bytes(), &mut out);
        }
        out
    }

    fn pod(restarts: f64) -> ObjectMetrics {
        let mut m = ObjectMetrics::new();
        m.identity_label("namespace", "default");
        m.identity_label("pod", "web-0");
        m.begin_family();
        m.sample(&[("container", "app")], restarts);
        m
    }

    /// An update that renders the same lines keeps the published version (same generation,
    /// same entry); one that changes a line publishes a new version; both during a relist
    /// and outside it the store ends up holding the latest lines.
    #[test]
    fn unchanged_lines_keep_the_published_version() {
        use kubestate_metric::{FamilyDesc, MetricType, Stability};
        let store = TextStore::new(StoreInfo {
            resource: "pods".into(),
            namespace: None,
            index: 0,
            families: vec![FamilyDesc {
                name: "kube_pod_restarts".into(),
                help: "h".into(),
                ty: MetricType::Gauge,
                stability: Stability::Alpha,
                deprecated_since: None,
            }]
            .into(),
        });
        let lines = |s: &TextStore| {
            let mut out = Vec::new();
            for (_, e) in s.snapshot().map.iter() {
                e.write_family(0, b"kube_pod_restarts", &mut out);
            }
            String::from_utf8(out).unwrap()
        };
        store.apply("u1", &pod(0.0));
        let g1 = store.view().generation();
        let e1 = store.view().objects().next().map(|(_, o)| o.entry_id());
        store.apply("u1", &pod(0.0));
        assert_eq!(store.view().generation(), g1);
        let e2 = store.view().objects().next().map(|(_, o)| o.entry_id());
        assert_eq!(e1, e2);
        store.apply("u1", &pod(1.0));
        assert_ne!(store.view().generation(), g1);
        assert_eq!(
            lines(&store),
            "kube_pod_restarts{namespace=\"default\",pod=\"web-0\",container=\"app\"} 1\n"
        );
        // During a relist the new contents are built aside and published whole.
        store.relist_started();
        store.apply("u1", &pod(1.0));
        store.relist_done();
        assert_eq!(store.len(), 1);
        assert_eq!(
            lines(&store),
            "kube_pod_restarts{namespace=\"default\",pod=\"web-0\",container=\"app\"} 1\n"
        );
    }

    /// The compact entry gives back exactly the full lines, for small entries (2-byte
    /// offsets), large ones (4-byte offsets), objects without identity labels, and family
    /// indexes past the end.
    #[test]
    fn entries_give_back_the_full_lines() {
        let names = ["kube_a", "kube_b", "kube_c"];
        for (ident, samples) in [(true, 3usize), (false, 3), (true, 4000), (false, 4000)] {
            let mut m = ObjectMetrics::new();
            if ident {
                m.identity_label("namespace", "default");
                m.identity_label("pod", "web-0");
            }
            m.begin_family();
            for s in 0..samples {
                m.sample(&[("container", &format!("c{s}"))], s as f64);
            }
            m.begin_family();
            m.begin_family();
            m.sample(&[], 0.5);
            // A line longer than a one-byte length.
            m.sample(&[("long", &"x".repeat(300))], 1.0);
            let mut scratch = Vec::new();
            let e = Entry::render(&m, names.len(), &mut scratch);
            assert_eq!(e.width(), if samples > 1000 { 4 } else { 2 });
            assert_eq!(from_entry(&e, &names), full(&m, &names));
            let lines = (0..names.len())
                .map(|i| e.parts(i).1.count())
                .sum::<usize>();
            assert_eq!(e.line_count(), lines);
            assert_eq!(lines, samples + 2);
            let mut none = Vec::new();
            e.write_family(7, b"kube_z", &mut none);
            assert!(none.is_empty());
            // The stored bytes are smaller than the lines they stand for.
            assert!(e.heap_bytes() < full(&m, &names).len() || !ident);
        }
    }

    /// The store names the objects changed between two of its versions, as long as only
    /// single-object changes came between and it still keeps them; a relist, or more changes
    /// than it keeps, makes it say it does not know.
    #[test]
    fn changed_between_names_what_changed_or_says_it_cannot() {
        use kubestate_metric::{FamilyDesc, MetricType, Stability};
        let store = TextStore::new(StoreInfo {
            resource: "pods".into(),
            namespace: None,
            index: 0,
            families: vec![FamilyDesc {
                name: "kube_pod_x".into(),
                help: "h".into(),
                ty: MetricType::Gauge,
                stability: Stability::Alpha,
                deprecated_since: None,
            }]
            .into(),
        });
        let obj = |name: &str, v: f64| {
            let mut m = ObjectMetrics::new();
            m.identity_label("pod", name);
            m.begin_family();
            m.sample(&[], v);
            m
        };
        let names = |v: Option<Vec<Arc<str>>>| {
            v.map(|v| v.iter().map(|u| u.to_string()).collect::<Vec<_>>())
        };
        let g0 = store.view().generation();
        store.apply("a", &obj("a", 1.0));
        store.apply("b", &obj("b", 1.0));
        let g1 = store.view().generation();
        store.apply("a", &obj("a", 1.0)); // same lines: no new version, nothing logged
        assert_eq!(store.view().generation(), g1);
        store.apply("a", &obj("a", 2.0));
        store.delete("b");
        store.delete("nothing");
        let g2 = store.view().generation();
        assert_eq!(
            names(store.changed_between(g0, g1)),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            names(store.changed_between(g1, g2)),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(names(store.changed_between(g2, g2)), Some(vec![]));
        assert_eq!(
            names(store.changed_between(g0, g2)).map(|v| v.len()),
            Some(4)
        );
        assert_eq!(store.changed_between(g2, g1), None);
        // A relist: nothing before it can be brought forward; changes after it can.
        store.relist_started();
        store.apply("c", &obj("c", 1.0));
        store.relist_done();
        let g3 = store.view().generation();
        assert_eq!(store.changed_between(g2, g3), None);
        store.apply("d", &obj("d", 1.0));
        let g4 = store.view().generation();
        assert_eq!(names(store.changed_between(g3, g4)), Some(vec!["d".into()]));
        // More changes than kept: the oldest versions can no longer be brought forward.
        for i in 0..ChangeLog::MIN_KEPT + 10 {
            store.apply("d", &obj("d", i as f64 + 2.0));
        }
        let g5 = store.view().generation();
        assert_eq!(store.changed_between(g4, g5), None);
        let kept = store.changed_between(g5 - 1, g5).map(|v| v.len());
        assert!(kept.is_some(), "the latest change is kept");
    }

    /// An unchanged object keeps its entry id from one version to the next; a changed one
    /// gets a new id, and views keep the ids of the entries they hold.
    #[test]
    fn entry_ids_follow_changes() {
        let store = TextStore::new(StoreInfo {
            resource: "pods".into(),
            namespace: None,
            index: 0,
            families: Vec::new().into(),
        });
        let obj = |name: &str| {
            let mut m = ObjectMetrics::new();
            m.identity_label("pod", name);
            m
        };
        let ids = |v: &TextView| {
            let mut ids: Vec<_> = v
                .objects()
                .map(|(uid, o)| (uid.to_string(), o.entry_id()))
                .collect();
            ids.sort();
            ids
        };
        store.apply("a", &obj("a"));
        store.apply("b", &obj("b"));
        let v1 = store.view();
        // Applied again with the same lines: the same entry (no new version is published).
        store.apply("a", &obj("a"));
        assert_eq!(ids(&store.view()), ids(&v1), "a did not change");
        store.apply("a", &obj("a2"));
        let v2 = store.view();
        let (i1, i2) = (ids(&v1), ids(&v2));
        assert_eq!(i1[1], i2[1], "b did not change");
        assert_ne!(i1[0].1, i2[0].1, "a changed");
        assert_ne!(i1[0].1, i1[1].1);
        assert_eq!(ids(&v1), i1, "an older view keeps its entries");
    }
}
