//! Family-major writing of all text stores (ksm-behaviour.md §5.2).

use std::collections::HashSet;
use std::sync::Arc;

use kubestate_metric::Format;
use parking_lot::RwLock;

use crate::group::{Group, StoreSnap};
use crate::gzip::{GzipCache, GzipScrape};
use crate::text::TextStore;
use crate::{ObjectStore, StoreFactory, StoreInfo};

/// Which resources a scrape writes: `?resources=` and `?exclude_resources=` (exclude wins).
#[derive(Clone, Debug, Default)]
pub struct ResourceFilter {
    /// Only these resources (`None`: all).
    pub include: Option<Vec<String>>,
    /// Never these.
    pub exclude: Vec<String>,
}

impl ResourceFilter {
    /// Whether `resource` is written.
    pub fn admits(&self, resource: &str) -> bool {
        if self.exclude.iter().any(|e| e == resource) {
            return false;
        }
        self.include
            .as_ref()
            .is_none_or(|i| i.iter().any(|r| r == resource))
    }
}

/// All text stores of a running engine, as the HTTP server and other readers see them.
///
/// Gzip scrapes ([`Exposition::scrape_gzip`]) share a cache of compressed segments (one
/// family of one resource each), so an unchanged segment is compressed once; the cache holds
/// about one compressed body per format in use.
#[derive(Default)]
pub struct Exposition {
    stores: RwLock<Vec<Arc<TextStore>>>,
    gzip: Arc<GzipCache>,
}

impl Exposition {
    /// No stores yet.
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Adds a store (called by [`crate::TextStoreFactory`]).
    pub fn register(&self, store: Arc<TextStore>) {
        self.stores.write().push(store);
    }

    /// Forgets the store of `info` (same resource, namespace and index), e.g. when the custom
    /// resource it holds is no longer served. Scrapes already started keep their snapshot.
    /// Returns whether a store was removed.
    pub fn unregister(&self, info: &StoreInfo) -> bool {
        let mut stores = self.stores.write();
        let before = stores.len();
        stores.retain(|s| !same_store(s.info(), info));
        let removed = stores.len() != before;
        if removed {
            self.gzip.retain_resources(|r| r != info.resource);
        }
        removed
    }

    /// Forgets every store (before the engine rebuilds them, e.g. on re-sharding).
    pub fn clear(&self) {
        let mut stores = self.stores.write();
        stores.clear();
        self.gzip.clear();
    }

    /// The registered stores.
    pub fn stores(&self) -> Vec<Arc<TextStore>> {
        self.stores.read().clone()
    }

    /// Starts a scrape: takes a consistent snapshot of every admitted store now and returns a
    /// writer that produces the body in chunks.
    pub fn scrape(&self, format: Format, filter: &ResourceFilter) -> Scrape {
        Scrape {
            groups: self.groups(filter),
            format,
            g: 0,
            f: 0,
            s: 0,
            o: 0,
            header_due: true,
            seen: HashSet::new(),
            done: false,
        }
    }

    /// Starts a gzip scrape: the same snapshot and body as [`Exposition::scrape`], as one gzip
    /// member built from the cached compressed segments. Segments missing from the cache are
    /// compressed as the scrape reaches them and kept for later scrapes; the cached versions of
    /// resources that are no longer registered are dropped.
    pub fn scrape_gzip(&self, format: Format, filter: &ResourceFilter) -> GzipScrape {
        let groups = self.groups(filter);
        {
            let stores = self.stores.read();
            self.gzip
                .retain_resources(|r| stores.iter().any(|s| s.info().resource == r));
        }
        GzipScrape::new(groups, format, self.gzip.clone())
    }

    /// How many segments gzip scrapes have compressed so far (cache misses).
    pub fn segments_compressed(&self) -> u64 {
        self.gzip.compressed()
    }

    /// Bytes of compressed segments held by the gzip cache.
    pub fn gzip_cache_bytes(&self) -> usize {
        self.gzip.bytes()
    }

    /// Snapshots of the admitted stores, grouped by resource in body order, without resources
    /// that hold no object.
    fn groups(&self, filter: &ResourceFilter) -> Vec<Group> {
        let mut stores: Vec<Arc<TextStore>> = self
            .stores
            .read()
            .iter()
            .filter(|s| filter.admits(&s.info().resource))
            .cloned()
            .collect();
        stores.sort_by(|a, b| {
            a.info()
                .resource
                .cmp(&b.info().resource)
                .then(a.info().index.cmp(&b.info().index))
        });
        let mut groups: Vec<Group> = Vec::new();
        for s in stores {
            let published = s.snapshot();
            let generation = published.generation;
            let snap = StoreSnap::new(published, s.info().families.len());
            match groups.last_mut() {
                Some(g) if *g.resource == *s.info().resource => {
                    g.generations.push(generation);
                    g.store_ids.push(Arc::as_ptr(&s) as usize);
                    g.stores.push(snap);
                }
                _ => groups.push(Group {
                    resource: s.info().resource.as_str().into(),
                    families: s.info().families.clone(),
                    generations: vec![generation],
                    store_ids: vec![Arc::as_ptr(&s) as usize],
                    stores: vec![snap],
                }),
            }
        }
        groups.retain(|g| g.stores.iter().any(|s| s.len() > 0));
        groups
    }

    /// Writes a whole body into `out` (for tests and in-process readers).
    pub fn write_all(&self, format: Format, filter: &ResourceFilter, out: &mut Vec<u8>) {
        let mut s = self.scrape(format, filter);
        while s.fill(out, usize::MAX) {}
    }
}

/// One scrape in progress: a snapshot of every store and a cursor over it, written family by
/// family across objects. Memory is the chunk being filled; the snapshot's versions keep
/// their scrape index (see [`TextStore::index_bytes`]) for later scrapes.
pub struct Scrape {
    groups: Vec<Group>,
    format: Format,
    g: usize,
    f: usize,
    s: usize,
    o: usize,
    header_due: bool,
    seen: HashSet<String>,
    done: bool,
}

impl Scrape {
    /// Appends to `out` until it holds at least `limit` bytes or the body is complete.
    /// Returns `false` once everything (including the OpenMetrics `# EOF`) has been written.
    pub fn fill(&mut self, out: &mut Vec<u8>, limit: usize) -> bool {
        if self.done {
            return false;
        }
        while out.len() < limit {
            let Some(group) = self.groups.get(self.g) else {
                if self.format.is_openmetrics() {
                    out.extend_from_slice(b"# EOF\n");
                }
                self.done = true;
                return false;
            };
            let Some(fam) = group.families.get(self.f) else {
                self.g += 1;
                self.f = 0;
                self.header_due = true;
                continue;
            };
            if self.header_due {
                self.header_due = false;
                if self.seen.insert(fam.name.clone()) {
                    fam.write_header(out, self.format);
                }
            }
            let Some(store) = group.stores.get(self.s) else {
                self.f += 1;
                self.s = 0;
                self.o = 0;
                self.header_due = true;
                continue;
            };
            // The hot loop: this family's lines of the store's objects that have any, until
            // the chunk is full; the index skips the others without reading their entries.
            let name = fam.name.as_bytes();
            let mut stopped = None;
            for (o, e) in store.index().with_lines(self.f, self.o) {
                if out.len() >= limit {
                    stopped = Some(o);
                    break;
                }
                e.write_family(self.f, name, out);
            }
            match stopped {
                Some(o) => self.o = o,
                None => {
                    self.s += 1;
                    self.o = 0;
                }
            }
        }
        true
    }

    /// The next chunk of roughly `size` bytes, or `None` when the body is complete.
    pub fn next_chunk(&mut self, size: usize) -> Option<Vec<u8>> {
        if self.done {
            return None;
        }
        let mut out = Vec::with_capacity(size + 4096);
        self.fill(&mut out, size);
        (!out.is_empty()).then_some(out)
    }

    /// Number of objects in the snapshot.
    pub fn objects(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| g.stores.iter())
            .map(StoreSnap::len)
            .sum()
    }
}

/// Creates a [`TextStore`] per store and publishes it in an [`Exposition`].
pub struct TextStoreFactory {
    exposition: Arc<Exposition>,
}

impl TextStoreFactory {
    /// A factory publishing into `exposition`.
    pub fn new(exposition: Arc<Exposition>) -> TextStoreFactory {
        TextStoreFactory { exposition }
    }
}

impl StoreFactory for TextStoreFactory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectStore> {
        let store = Arc::new(TextStore::new(info.clone()));
        self.exposition.register(store.clone());
        store
    }

    fn remove(&self, info: &StoreInfo) {
        self.exposition.unregister(info);
    }

    fn can_project(&self) -> bool {
        true
    }

    fn project(
        &self,
        from: &StoreInfo,
        to: &StoreInfo,
        keep: &[usize],
    ) -> Option<Arc<dyn ObjectStore>> {
        let mut stores = self.exposition.stores.write();
        let at = stores.iter().position(|s| same_store(s.info(), from))?;
        let store = Arc::new(stores[at].projected(to.clone(), keep)?);
        stores[at] = store.clone();
        Some(store)
    }
}

/// Whether two infos name the same store (resource, namespace and position).
fn same_store(a: &StoreInfo, b: &StoreInfo) -> bool {
    a.resource == b.resource && a.namespace == b.namespace && a.index == b.index
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubestate_metric::FamilyDesc;
    use kubestate_metric::{MetricType, ObjectMetrics, Stability};

    fn desc(name: &str) -> FamilyDesc {
        FamilyDesc {
            name: name.into(),
            help: "h".into(),
            ty: MetricType::Gauge,
            stability: Stability::Alpha,
            deprecated_since: None,
        }
    }

    fn obj(name: &str, v: f64) -> ObjectMetrics {
        let mut m = ObjectMetrics::new();
        m.identity_label("x", name);
        m.begin_family();
        m.sample(&[], v);
        m.begin_family();
        m
    }

    fn setup() -> (Arc<Exposition>, Arc<dyn ObjectStore>, Arc<dyn ObjectStore>) {
        let e = Arc::new(Exposition::new());
        let f = TextStoreFactory::new(e.clone());
        let fams: Arc<[FamilyDesc]> = vec![desc("b_one"), desc("b_two")].into();
        let b = f.create(&StoreInfo {
            resource: "bs".into(),
            namespace: None,
            index: 0,
            families: fams,
        });
        let a = f.create(&StoreInfo {
            resource: "as".into(),
            namespace: None,
            index: 0,
            families: vec![desc("a_one")].into(),
        });
        (e, a, b)
    }

    fn body(e: &Exposition, format: Format) -> String {
        let mut out = Vec::new();
        e.write_all(format, &ResourceFilter::default(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn empty_resources_write_nothing_and_families_are_major() {
        let (e, _a, b) = setup();
        assert_eq!(body(&e, Format::Text), "");
        b.apply("u1", &obj("p", 1.0));
        b.apply("u2", &obj("q", 2.0));
        let text = body(&e, Format::Text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "# HELP b_one h");
        assert_eq!(lines[1], "# TYPE b_one gauge");
        let mut samples = lines[2..4].to_vec();
        samples.sort();
        assert_eq!(samples, vec!["b_one{x=\"p\"} 1", "b_one{x=\"q\"} 2"]);
        assert_eq!(&lines[4..], &["# HELP b_two h", "# TYPE b_two gauge"]);
        assert!(body(&e, Format::OPENMETRICS_1).ends_with("# TYPE b_two gauge\n# EOF\n"));
    }

    #[test]
    fn updates_deletes_and_relists() {
        let (e, a, b) = setup();
        a.apply("u1", &obj("p", 1.0));
        a.apply("u1", &obj("p", 5.0));
        assert!(body(&e, Format::Text).contains("a_one{x=\"p\"} 5\n"));
        b.apply("u9", &obj("z", 1.0));
        a.relist_started();
        a.apply("u2", &obj("r", 3.0));
        // Mid-relist, scrapes still see the old complete contents.
        let mid = body(&e, Format::Text);
        assert!(mid.contains("a_one{x=\"p\"} 5\n") && !mid.contains("x=\"r\""));
        a.relist_done();
        let after = body(&e, Format::Text);
        assert!(!after.contains("x=\"p\"") && after.contains("a_one{x=\"r\"} 3\n"));
        a.delete("u2");
        assert!(!body(&e, Format::Text).contains("a_one"));
        // Resources are written in name order.
        a.apply("u3", &obj("s", 1.0));
        let t = body(&e, Format::Text);
        assert!(t.find("a_one").unwrap() < t.find("b_one").unwrap());
        // Filters.
        let mut out = Vec::new();
        let f = ResourceFilter {
            include: Some(vec!["bs".into()]),
            exclude: vec![],
        };
        e.write_all(Format::Text, &f, &mut out);
        assert!(!String::from_utf8_lossy(&out).contains("a_one"));
    }

    /// A store whose families shrink keeps its objects: the projected store writes exactly
    /// what a store made for the kept families would, and replaces the old one in place.
    #[test]
    fn projection_keeps_objects_and_drops_families() {
        let three = |m: &mut ObjectMetrics, v: f64| {
            m.begin_family();
            m.sample(&[("k", "a")], v);
            m.sample(&[("k", "b")], v + 1.0);
            m.begin_family();
            m.sample(&[], v * 10.0);
            m.begin_family();
            m.sample(&[("long", &"x".repeat(300))], v);
        };
        let info = |names: &[&str]| StoreInfo {
            resource: "cs".into(),
            namespace: None,
            index: 0,
            families: names.iter().map(|n| desc(n)).collect::<Vec<_>>().into(),
        };
        let (e, a, _b) = setup();
        a.apply("u1", &obj("p", 1.0));
        let f = TextStoreFactory::new(e.clone());
        let full = info(&["c_one", "c_two", "c_three"]);
        let c = f.create(&full);
        for (uid, v) in [("u1", 1.0), ("u2", 2.0)] {
            let mut m = ObjectMetrics::new();
            m.identity_label("x", uid);
            three(&mut m, v);
            c.apply(uid, &m);
        }
        let kept = info(&["c_one", "c_three"]);
        let p = f.project(&full, &kept, &[0, 2]).expect("projects");
        let projected = body(&e, Format::Text);
        // The same objects generated for the kept families only.
        let (e2, a2, _b2) = setup();
        a2.apply("u1", &obj("p", 1.0));
        let direct = TextStoreFactory::new(e2.clone()).create(&kept);
        for (uid, v) in [("u1", 1.0), ("u2", 2.0)] {
            let mut m = ObjectMetrics::new();
            m.identity_label("x", uid);
            m.begin_family();
            m.sample(&[("k", "a")], v);
            m.sample(&[("k", "b")], v + 1.0);
            m.begin_family();
            m.sample(&[("long", &"x".repeat(300))], v);
            direct.apply(uid, &m);
        }
        // Objects within a family come in map order, which differs between maps.
        let sorted = |b: &str| {
            let mut l: Vec<String> = b.lines().map(String::from).collect();
            l.sort();
            l
        };
        assert_eq!(sorted(&projected), sorted(&body(&e2, Format::Text)));
        let family_order = |b: &str| {
            let mut names: Vec<String> = b
                .lines()
                .filter_map(|l| l.strip_prefix("# TYPE ").map(String::from))
                .collect();
            names.dedup();
            names
        };
        assert_eq!(
            family_order(&projected),
            ["a_one gauge", "c_one gauge", "c_three gauge"]
        );
        assert!(!projected.contains("c_two") && projected.contains("a_one"));
        assert_eq!(e.stores().len(), 3, "replaced in place, not added");
        // The new store takes later changes; the old one is no longer read.
        p.delete("u2");
        c.delete("u1");
        let after = body(&e, Format::Text);
        assert!(after.contains("x=\"u1\"") && !after.contains("x=\"u2\""));
        // Not during a relist: its objects are being built aside.
        p.relist_started();
        assert!(f.project(&kept, &info(&["c_one"]), &[0]).is_none());
    }

    #[test]
    fn unregistered_stores_leave_the_body() {
        let (e, a, b) = setup();
        a.apply("u1", &obj("p", 1.0));
        b.apply("u2", &obj("q", 2.0));
        let mut before = e.scrape(Format::Text, &ResourceFilter::default());
        let info = |resource: &str| StoreInfo {
            resource: resource.into(),
            namespace: None,
            index: 0,
            families: vec![].into(),
        };
        assert!(e.unregister(&info("bs")));
        assert!(!e.unregister(&info("bs")));
        assert!(!e.unregister(&StoreInfo {
            index: 1,
            ..info("as")
        }));
        let t = body(&e, Format::Text);
        assert!(
            t.contains("a_one{") && !t.contains("b_one") && !t.contains("b_two"),
            "{t}"
        );
        assert_eq!(e.stores().len(), 1);
        // A scrape that started before still writes what it saw.
        let mut out = Vec::new();
        while before.fill(&mut out, usize::MAX) {}
        assert!(String::from_utf8(out).unwrap().contains("b_one{x=\"q\"} 2"));
    }

    /// The whole gzip body of a scrape, taken in chunks of `chunk` bytes.
    fn gzip(e: &Exposition, format: Format, filter: &ResourceFilter, chunk: usize) -> Vec<u8> {
        let mut s = e.scrape_gzip(format, filter);
        let mut out = Vec::new();
        while let Some(c) = s.next_chunk(chunk) {
            assert!(
                !c.is_empty() && c.len() <= chunk,
                "chunk of {} bytes",
                c.len()
            );
            out.extend_from_slice(&c);
        }
        assert!(s.next_chunk(chunk).is_none());
        out
    }

    /// Decodes `gz` as the first gzip member only and as all members: both must give the
    /// whole body, i.e. the body is one member.
    fn gunzip(gz: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut first = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut first)
            .expect("valid gzip");
        let mut all = Vec::new();
        flate2::read::MultiGzDecoder::new(gz)
            .read_to_end(&mut all)
            .expect("valid gzip");
        assert_eq!(first, all, "more than one gzip member");
        let isize = u32::from_le_bytes(gz[gz.len() - 4..].try_into().unwrap());
        assert_eq!(isize as usize, first.len());
        first
    }

    fn plain(e: &Exposition, format: Format, filter: &ResourceFilter) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = e.scrape(format, filter);
        while s.fill(&mut out, usize::MAX) {}
        out
    }

    /// Stores of three resources: `bs` in two stores, and `cs`, whose family shares its name
    /// with the one of `as` (so its header depends on whether `as` is in the body), with a
    /// segment of several pieces.
    fn world() -> (Arc<Exposition>, Vec<Arc<dyn ObjectStore>>) {
        let (e, a, b) = setup();
        let f = TextStoreFactory::new(e.clone());
        let b2 = f.create(&StoreInfo {
            resource: "bs".into(),
            namespace: Some("ns2".into()),
            index: 1,
            families: vec![desc("b_one"), desc("b_two")].into(),
        });
        let c = f.create(&StoreInfo {
            resource: "cs".into(),
            namespace: None,
            index: 0,
            families: vec![desc("a_one"), desc("c_two")].into(),
        });
        for i in 0..6000 {
            let pad = "x".repeat(40);
            c.apply(
                &format!("c{i}"),
                &obj(&format!("object-{i:05}-{pad}"), f64::from(i)),
            );
        }
        for i in 0..50 {
            a.apply(&format!("a{i}"), &obj(&format!("a{i}"), 0.5));
            b.apply(&format!("b{i}"), &obj(&format!("b{i}"), 1.5));
            b2.apply(&format!("d{i}"), &obj(&format!("d{i}"), 2.5));
        }
        (e, vec![a, b, b2, c])
    }

    fn filters() -> Vec<ResourceFilter> {
        vec![
            ResourceFilter::default(),
            ResourceFilter {
                include: None,
                exclude: vec!["as".into()],
            },
            ResourceFilter {
                include: Some(vec!["bs".into(), "cs".into()]),
                exclude: vec!["bs".into()],
            },
            ResourceFilter {
                include: Some(vec!["none".into()]),
                exclude: vec![],
            },
        ]
    }

    const OM_0_0_1: Format = Format::OpenMetrics {
        version: kubestate_metric::OmVersion::V0_0_1,
        escaping: kubestate_metric::Escaping::AllowUtf8,
    };

    #[test]
    fn gzip_bodies_are_one_member_holding_the_plain_body() {
        // Empty exposition, and stores without objects: still a valid (tiny) gzip stream.
        let empty = Exposition::new();
        for format in [Format::Text, Format::OPENMETRICS_1] {
            let gz = gzip(&empty, format, &ResourceFilter::default(), 1 << 16);
            assert_eq!(gz[..3], [0x1f, 0x8b, 8]);
            assert_eq!(
                gunzip(&gz),
                plain(&empty, format, &ResourceFilter::default())
            );
        }
        let (e, _a, _b) = setup();
        assert_eq!(gunzip(&gzip(&e, Format::Text, &Default::default(), 7)), b"");
        assert_eq!(
            gunzip(&gzip(&e, Format::OPENMETRICS_1, &Default::default(), 7)),
            b"# EOF\n"
        );

        let (e, _stores) = world();
        for format in [Format::Text, Format::OPENMETRICS_1, OM_0_0_1] {
            for filter in filters() {
                let want = plain(&e, format, &filter);
                for chunk in [1, 1000, 256 * 1024, usize::MAX] {
                    let got = gunzip(&gzip(&e, format, &filter, chunk));
                    assert!(got == want, "{format:?} {filter:?} in chunks of {chunk}");
                }
            }
        }
        let body = String::from_utf8(plain(&e, Format::Text, &Default::default())).unwrap();
        assert!(body.len() > 400_000, "a segment of several pieces");
        // The body compresses, and the cache holds about one compressed body per key set.
        let gz = gzip(&e, Format::Text, &ResourceFilter::default(), 1 << 16);
        assert!(gz.len() * 5 < body.len(), "{} of {}", gz.len(), body.len());
        assert!(e.gzip_cache_bytes() > 0);
    }

    #[test]
    fn unchanged_segments_are_compressed_once_and_changes_are_seen() {
        let (e, stores) = world();
        let all = ResourceFilter::default();
        let first = gzip(&e, Format::Text, &all, 1 << 16);
        // 1 family of `as`, 2 of `bs`, 2 of `cs`.
        assert_eq!(e.segments_compressed(), 5);
        assert_eq!(gzip(&e, Format::Text, &all, 1 << 16), first);
        assert_eq!(e.segments_compressed(), 5, "nothing new to compress");
        // OpenMetrics 0.0.1 and 1.0.0 bodies are the same bytes: they share segments.
        gzip(&e, Format::OPENMETRICS_1, &all, 1 << 16);
        assert_eq!(e.segments_compressed(), 10);
        gzip(&e, OM_0_0_1, &all, 1 << 16);
        assert_eq!(e.segments_compressed(), 10);

        // A change to one store of `bs` recompresses the segments of `bs` only.
        stores[2].apply("d0", &obj("changed", 42.0));
        let gz = gzip(&e, Format::Text, &all, 1 << 16);
        assert_eq!(e.segments_compressed(), 12);
        let text = String::from_utf8(gunzip(&gz)).unwrap();
        assert!(text.contains("b_one{x=\"changed\"} 42\n") && !text.contains("x=\"d0\""));
        assert_eq!(gunzip(&gz), plain(&e, Format::Text, &all));
        stores[2].delete("d0");
        stores[0].delete("a0");
        let gz = gzip(&e, Format::Text, &all, 1 << 16);
        assert_eq!(e.segments_compressed(), 15);
        let text = String::from_utf8(gunzip(&gz)).unwrap();
        assert!(!text.contains("changed") && !text.contains("x=\"a0\""));
        assert_eq!(gunzip(&gz), plain(&e, Format::Text, &all));

        // Without `as`, the header of `cs`'s `a_one` is written: another segment.
        let no_a = ResourceFilter {
            include: None,
            exclude: vec!["as".into()],
        };
        assert_eq!(
            gunzip(&gzip(&e, Format::Text, &no_a, 1 << 16)),
            plain(&e, Format::Text, &no_a)
        );
        assert_eq!(e.segments_compressed(), 16);
        // Both versions of that segment stay cached.
        gzip(&e, Format::Text, &all, 1 << 16);
        gzip(&e, Format::Text, &no_a, 1 << 16);
        assert_eq!(e.segments_compressed(), 16);
    }

    #[test]
    fn a_scrape_from_an_older_snapshot_does_not_evict_newer_segments() {
        let (e, stores) = world();
        let all = ResourceFilter::default();
        let old_plain = plain(&e, Format::Text, &all);
        let mut old = e.scrape_gzip(Format::Text, &all);
        stores[1].apply("b0", &obj("new", 7.0));
        let new = gzip(&e, Format::Text, &all, 1 << 16);
        assert_eq!(e.segments_compressed(), 5);
        let mut old_gz = Vec::new();
        while let Some(c) = old.next_chunk(1 << 16) {
            old_gz.extend_from_slice(&c);
        }
        assert_eq!(gunzip(&old_gz), old_plain);
        // The old scrape shared the unchanged segments and compressed its own `bs` ones.
        assert_eq!(e.segments_compressed(), 7);
        assert_eq!(gzip(&e, Format::Text, &all, 1 << 16), new);
        assert_eq!(e.segments_compressed(), 7);
    }

    #[test]
    fn concurrent_scrapes_compress_each_segment_once() {
        let (e, _stores) = world();
        let all = ResourceFilter::default();
        let want = plain(&e, Format::OPENMETRICS_1, &all);
        let start = std::sync::Barrier::new(8);
        let bodies: Vec<Vec<u8>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        gzip(&e, Format::OPENMETRICS_1, &all, 4096)
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert_eq!(e.segments_compressed(), 5);
        for b in &bodies {
            assert!(*b == bodies[0]);
        }
        assert_eq!(gunzip(&bodies[0]), want);
    }

    #[test]
    fn unregistered_and_cleared_stores_leave_the_gzip_cache() {
        let (e, _stores) = world();
        let all = ResourceFilter::default();
        gzip(&e, Format::Text, &all, 1 << 16);
        let full = e.gzip_cache_bytes();
        assert!(e.unregister(&StoreInfo {
            resource: "cs".into(),
            namespace: None,
            index: 0,
            families: vec![].into(),
        }));
        assert!(
            e.gzip_cache_bytes() * 4 < full,
            "the big `cs` segment is dropped"
        );
        assert_eq!(
            gunzip(&gzip(&e, Format::Text, &all, 1 << 16)),
            plain(&e, Format::Text, &all)
        );
        assert!(e.gzip_cache_bytes() > 0);
        e.clear();
        assert_eq!(e.gzip_cache_bytes(), 0);
        assert_eq!(gunzip(&gzip(&e, Format::Text, &all, 1 << 16)), b"");
    }

    /// Segments are keyed by text vs OpenMetrics only: every OpenMetrics version and escaping
    /// must write the same header bytes.
    #[test]
    fn openmetrics_variants_write_the_same_headers() {
        use kubestate_metric::{Escaping, OmVersion};
        for ty in [
            MetricType::Gauge,
            MetricType::Counter,
            MetricType::Info,
            MetricType::StateSet,
        ] {
            let fam = FamilyDesc {
                ty,
                stability: Stability::Stable,
                deprecated_since: Some("2.0".into()),
                ..desc("kube_x")
            };
            let mut want = Vec::new();
            fam.write_header(&mut want, Format::OPENMETRICS_1);
            for version in [OmVersion::V0_0_1, OmVersion::V1_0_0] {
                for escaping in [
                    Escaping::AllowUtf8,
                    Escaping::Underscores,
                    Escaping::Dots,
                    Escaping::Values,
                ] {
                    let mut got = Vec::new();
                    fam.write_header(&mut got, Format::OpenMetrics { version, escaping });
                    assert_eq!(got, want);
                }
            }
        }
    }

    /// The body as it was written before the scrape index: every object of every store
    /// visited for every family (headers as the scrape writes them).
    fn visiting_every_object(e: &Exposition) -> Vec<u8> {
        let mut stores = e.stores();
        stores.sort_by(|a, b| {
            (&a.info().resource, a.info().index).cmp(&(&b.info().resource, b.info().index))
        });
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut at = 0;
        while let Some(first) = stores.get(at) {
            let resource = first.info().resource.clone();
            let group: Vec<_> = stores[at..]
                .iter()
                .take_while(|s| s.info().resource == resource)
                .map(|s| s.snapshot())
                .collect();
            at += group.len();
            if group.iter().all(|p| p.map.is_empty()) {
                continue;
            }
            for (f, fam) in first.info().families.iter().enumerate() {
                if seen.insert(fam.name.clone()) {
                    fam.write_header(&mut out, Format::Text);
                }
                for p in &group {
                    for entry in p.map.values() {
                        entry.write_family(f, fam.name.as_bytes(), &mut out);
                    }
                }
            }
        }
        out
    }

    /// Objects with lines in some families only: the index lets a scrape skip the others,
    /// and the body (plain in any chunk size, and gzip) is byte for byte the one that visits
    /// every object, through empty stores, changes between scrapes, a relist and an empty
    /// store; an unchanged store keeps its index from one scrape to the next.
    #[test]
    fn the_scrape_index_skips_objects_without_lines_and_changes_no_byte() {
        let e = Arc::new(Exposition::new());
        let f = TextStoreFactory::new(e.clone());
        let info = |resource: &str, index: usize, families: &[&str]| StoreInfo {
            resource: resource.into(),
            namespace: (index > 0).then(|| format!("ns{index}")),
            index,
            families: families.iter().map(|n| desc(n)).collect::<Vec<_>>().into(),
        };
        let families = ["p_a", "p_b", "p_c", "p_d"];
        let p0 = f.create(&info("ps", 0, &families));
        let p1 = f.create(&info("ps", 1, &families));
        let empty = f.create(&info("qs", 0, &["q_a"]));
        // Object `i` has lines in family `f` when `i % (f + 2) == 0` (none in `p_d` but for
        // multiples of 5), some with two lines; identity labels only for odd `i`.
        let object = |i: usize, round: usize| {
            let mut m = ObjectMetrics::new();
            if i % 2 == 1 {
                m.identity_label("x", &format!("o{i}"));
            }
            for f in 0..families.len() {
                m.begin_family();
                if i % (f + 2) == 0 && (f < 3 || i % 5 == 0) {
                    m.sample(&[("r", &round.to_string())], i as f64);
                    if i % 3 == 0 {
                        m.sample(&[("k", "second")], 1.0);
                    }
                }
            }
            m
        };
        let check = |why: &str| {
            let want = visiting_every_object(&e);
            let all = ResourceFilter::default();
            assert_eq!(
                String::from_utf8_lossy(&plain(&e, Format::Text, &all)),
                String::from_utf8_lossy(&want),
                "{why}"
            );
            for chunk in [1, 7, 100, 4096] {
                let mut s = e.scrape(Format::Text, &all);
                let mut got = Vec::new();
                while let Some(c) = s.next_chunk(chunk) {
                    got.extend_from_slice(&c);
                }
                assert!(got == want, "{why}: chunks of {chunk}");
            }
            assert!(
                gunzip(&gzip(&e, Format::Text, &all, 1000)) == want,
                "{why}: gzip"
            );
            want
        };
        assert!(check("no objects").is_empty());
        for i in 0..300 {
            p0.apply(&format!("a{i}"), &object(i, 0));
        }
        for i in 0..70 {
            p1.apply(&format!("b{i}"), &object(i * 7, 0));
        }
        let body = String::from_utf8(check("filled")).unwrap();
        // Multiples of 5, a second line for multiples of 15: 60 + 20 of `a`, 14 + 5 of `b`.
        assert_eq!(body.matches("p_d{").count(), 99);
        assert!(!body.contains("q_a"), "an empty resource writes nothing");
        let stores = e.stores();
        let bytes = |i: usize| stores[i].index_bytes();
        assert!(bytes(0) >= 300 * 8 + 4 * 8 * 300_usize.div_ceil(64));
        assert!(bytes(1) > 0);
        assert_eq!(bytes(2), 0, "an empty store writes no line: no index");
        // A change gives a new version: its index is built by the next scrape, which sees
        // the change (an object losing and gaining lines, a new object, a deleted one).
        let mut old = e.scrape(Format::Text, &ResourceFilter::default());
        p0.apply("a0", &object(1, 1));
        p0.apply("a1", &object(0, 1));
        p0.apply("new", &object(30, 1));
        p0.delete("a2");
        assert_eq!(bytes(0), 0);
        let after = String::from_utf8(check("changed")).unwrap();
        assert!(after.contains("p_a{r=\"1\"} 0\n") && !after.contains("x=\"o1\",r=\"0\""));
        let mut before = Vec::new();
        while old.fill(&mut before, usize::MAX) {}
        assert!(
            before == body.as_bytes(),
            "a scrape started before keeps its version"
        );
        // A relist replaces the version whole; a store emptied by one leaves the body.
        p1.relist_started();
        for i in 0..5 {
            p1.apply(&format!("c{i}"), &object(i * 10, 2));
        }
        p1.relist_done();
        check("relisted");
        p0.relist_started();
        p0.relist_done();
        p1.relist_started();
        p1.relist_done();
        assert!(check("emptied").is_empty());
        empty.apply("q", &object(0, 0));
        assert!(check("another resource").starts_with(b"# HELP q_a"));
    }

    #[test]
    fn a_snapshot_is_unaffected_by_later_writes_and_chunks_are_bounded() {
        let (e, a, _b) = setup();
        for i in 0..1000 {
            a.apply(&format!("u{i}"), &obj(&format!("o{i}"), f64::from(i)));
        }
        let mut s = e.scrape(Format::Text, &ResourceFilter::default());
        for i in 0..1000 {
            a.delete(&format!("u{i}"));
        }
        let mut total = Vec::new();
        let mut chunks = 0;
        while let Some(c) = s.next_chunk(1024) {
            assert!(c.len() < 1024 + 64, "chunk of {} bytes", c.len());
            total.extend_from_slice(&c);
            chunks += 1;
        }
        assert!(chunks > 10);
        assert_eq!(
            String::from_utf8(total).unwrap().matches("a_one{").count(),
            1000
        );
    }
}
