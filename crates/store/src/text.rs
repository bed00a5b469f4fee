//! The default store: each object's families pre-rendered as exposition lines.

use std::sync::Arc;

use arc_swap::ArcSwap;
use kubestate_metric::{FamilyDesc, ObjectMetrics};
use parking_lot::Mutex;

use crate::exposition::Exposition;
use crate::{ObjectSink, SinkFactory, StoreInfo};

/// One object's rendered lines: all families in one buffer, `offsets[i]..offsets[i + 1]` being
/// family `i`.
#[derive(Debug)]
pub(crate) struct Entry {
    bytes: Box<[u8]>,
    offsets: Box<[u32]>,
}

impl Entry {
    fn render(obj: &ObjectMetrics, families: &[FamilyDesc], scratch: &mut Vec<u8>) -> Entry {
        scratch.clear();
        let mut offsets = Vec::with_capacity(families.len() + 1);
        offsets.push(0u32);
        for (i, f) in families.iter().enumerate() {
            obj.write_family_text(i, &f.name, scratch);
            offsets.push(scratch.len() as u32);
        }
        Entry {
            bytes: scratch.as_slice().into(),
            offsets: offsets.into_boxed_slice(),
        }
    }

    /// The lines of family `i`.
    pub(crate) fn family(&self, i: usize) -> &[u8] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.bytes[a as usize..b as usize],
            _ => &[],
        }
    }

    fn heap_bytes(&self) -> usize {
        self.bytes.len() + self.offsets.len() * 4
    }
}

pub(crate) type Map = imbl::HashMap<Box<str>, Arc<Entry>>;

/// uid → pre-rendered lines of one store.
///
/// Readers take a snapshot with one atomic pointer load (the scrape path); the writer
/// publishes a new version of a persistent map after each change, so neither ever waits on
/// the other. A relist builds the new contents aside and publishes them in one swap, so a
/// scrape sees either the old or the new complete contents, never a half-filled store.
pub struct TextStore {
    info: StoreInfo,
    published: ArcSwap<Map>,
    writer: Mutex<Writer>,
}

struct Writer {
    /// The map being built by a relist, if one is in progress.
    pending: Option<Map>,
    scratch: Vec<u8>,
}

impl TextStore {
    /// An empty store for `info`.
    pub fn new(info: StoreInfo) -> TextStore {
        TextStore {
            info,
            published: ArcSwap::from_pointee(Map::new()),
            writer: Mutex::new(Writer {
                pending: None,
                scratch: Vec::with_capacity(16 * 1024),
            }),
        }
    }

    /// What the store holds.
    pub fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// Number of objects currently published.
    pub fn len(&self) -> usize {
        self.published.load().len()
    }

    /// Whether no object is published.
    pub fn is_empty(&self) -> bool {
        self.published.load().is_empty()
    }

    /// A consistent view of the published contents.
    pub(crate) fn snapshot(&self) -> Arc<Map> {
        self.published.load_full()
    }

    /// Bytes held by rendered lines (excluding map overhead).
    pub fn rendered_bytes(&self) -> usize {
        self.published.load().values().map(|e| e.heap_bytes()).sum()
    }

    fn entry(&self, obj: &ObjectMetrics, scratch: &mut Vec<u8>) -> Arc<Entry> {
        Arc::new(Entry::render(obj, &self.info.families, scratch))
    }
}

impl ObjectSink for TextStore {
    fn apply(&self, uid: &str, obj: &ObjectMetrics) {
        let mut w = self.writer.lock();
        let Writer { pending, scratch } = &mut *w;
        let e = self.entry(obj, scratch);
        match pending {
            Some(p) => {
                p.insert(uid.into(), e);
            }
            None => {
                let mut m = (*self.published.load_full()).clone();
                m.insert(uid.into(), e);
                self.published.store(Arc::new(m));
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
                if cur.contains_key(uid) {
                    let mut m = (*cur).clone();
                    m.remove(uid);
                    self.published.store(Arc::new(m));
                }
            }
        }
    }

    fn relist_started(&self) {
        self.writer.lock().pending = Some(Map::new());
    }

    fn relist_done(&self) {
        if let Some(p) = self.writer.lock().pending.take() {
            self.published.store(Arc::new(p));
        }
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

impl SinkFactory for TextStoreFactory {
    fn create(&self, info: &StoreInfo) -> Arc<dyn ObjectSink> {
        let store = Arc::new(TextStore::new(info.clone()));
        self.exposition.register(store.clone());
        store
    }

    fn remove(&self, info: &StoreInfo) {
        self.exposition.unregister(info);
    }
}
