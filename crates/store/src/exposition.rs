//! Family-major writing of all text stores (ksm-behaviour.md §5.2).

use std::collections::HashSet;
use std::sync::Arc;

use kubestate_metric::{FamilyDesc, Format};
use parking_lot::RwLock;

use crate::text::{Entry, TextStore};
use crate::StoreInfo;

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
#[derive(Default)]
pub struct Exposition {
    stores: RwLock<Vec<Arc<TextStore>>>,
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
        stores.retain(|s| {
            let i = s.info();
            !(i.resource == info.resource && i.namespace == info.namespace && i.index == info.index)
        });
        stores.len() != before
    }

    /// Forgets every store (before the engine rebuilds them, e.g. on re-sharding).
    pub fn clear(&self) {
        self.stores.write().clear();
    }

    /// The registered stores.
    pub fn stores(&self) -> Vec<Arc<TextStore>> {
        self.stores.read().clone()
    }

    /// Starts a scrape: takes a consistent snapshot of every admitted store now and returns a
    /// writer that produces the body in chunks.
    pub fn scrape(&self, format: Format, filter: &ResourceFilter) -> Scrape {
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
            let entries: Vec<Arc<Entry>> = s.snapshot().map.values().cloned().collect();
            match groups.last_mut() {
                Some(g) if g.resource == s.info().resource => g.stores.push(entries),
                _ => groups.push(Group {
                    resource: s.info().resource.clone(),
                    families: s.info().families.clone(),
                    stores: vec![entries],
                }),
            }
        }
        groups.retain(|g| g.stores.iter().any(|s| !s.is_empty()));
        Scrape {
            groups,
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

    /// Writes a whole body into `out` (for tests and in-process readers).
    pub fn write_all(&self, format: Format, filter: &ResourceFilter, out: &mut Vec<u8>) {
        let mut s = self.scrape(format, filter);
        while s.fill(out, usize::MAX) {}
    }
}

struct Group {
    resource: String,
    families: Arc<[FamilyDesc]>,
    stores: Vec<Vec<Arc<Entry>>>,
}

/// One scrape in progress: a snapshot of every store and a cursor over it, written family by
/// family across objects. Memory is one pointer per object plus the chunk being filled.
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
            match group.stores.get(self.s) {
                None => {
                    self.f += 1;
                    self.s = 0;
                    self.o = 0;
                    self.header_due = true;
                }
                Some(entries) => match entries.get(self.o) {
                    None => {
                        self.s += 1;
                        self.o = 0;
                    }
                    Some(e) => {
                        e.write_family(self.f, fam.name.as_bytes(), out);
                        self.o += 1;
                    }
                },
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
            .map(Vec::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ObjectSink, SinkFactory, StoreInfo, TextStoreFactory};
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

    fn setup() -> (Arc<Exposition>, Arc<dyn ObjectSink>, Arc<dyn ObjectSink>) {
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
