//! One resource's stores as a scrape sees them: their snapshots, and the writing of one
//! family's segment across them (used by plain and gzip scrapes alike).

use std::sync::Arc;

use kubestate_metric::{FamilyDesc, Format};

use crate::index::Index;
use crate::text::{Entry, Published};

/// The snapshots of one resource's stores.
pub(crate) struct Group {
    pub(crate) resource: Arc<str>,
    pub(crate) families: Arc<[FamilyDesc]>,
    /// The generation of each store's snapshot, in store order.
    pub(crate) generations: Vec<u64>,
    /// Each store's address, which tells stores apart while they live (generations only
    /// order the versions of one store).
    pub(crate) store_ids: Vec<usize>,
    /// Each store's objects.
    pub(crate) stores: Vec<StoreSnap>,
}

/// One store's version as a scrape sees it.
pub(crate) struct StoreSnap {
    published: Arc<Published>,
    /// Number of the store's families.
    families: usize,
}

impl StoreSnap {
    pub(crate) fn new(published: Arc<Published>, families: usize) -> StoreSnap {
        StoreSnap {
            published,
            families,
        }
    }

    /// Number of objects.
    pub(crate) fn len(&self) -> usize {
        self.published.map.len()
    }

    /// The version's objects and which of them have lines in each family (built by the first
    /// scrape that writes a line of this version, then shared by all its scrapes).
    pub(crate) fn index(&self) -> &Index<Entry> {
        self.published.index(self.families)
    }
}

impl Group {
    /// Writes the segment of family `family` (its header if `header`, then its lines of every
    /// object of every store) through `scratch`, handing `emit` pieces of at least `piece`
    /// bytes (but the last), so the whole segment is never rendered at once.
    pub(crate) fn write_segment(
        &self,
        family: usize,
        header: bool,
        format: Format,
        piece: usize,
        scratch: &mut Vec<u8>,
        emit: &mut dyn FnMut(&[u8]),
    ) {
        let Some(fam) = self.families.get(family) else {
            return;
        };
        scratch.clear();
        if header {
            fam.write_header(scratch, format);
        }
        for store in &self.stores {
            for (_, e) in store.index().with_lines(family, 0) {
                e.write_family(family, fam.name.as_bytes(), scratch);
                if scratch.len() >= piece {
                    emit(scratch);
                    scratch.clear();
                }
            }
        }
        if !scratch.is_empty() {
            emit(scratch);
            scratch.clear();
        }
    }
}
