//! Interned label and family names, shared by all stores of a factory.

use std::sync::Arc;

use ahash::AHashMap;
use arc_swap::ArcSwap;
use parking_lot::RwLock;

/// An interned name (label or family name) in a [`Symbols`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

impl Sym {
    /// The symbol's position in its table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An append-only table of interned names. Readers resolve symbols through a lock-free
/// [`SymbolTable`] snapshot; interning takes a lock only when the name is new.
#[derive(Default)]
pub struct Symbols {
    pub(super) map: RwLock<AHashMap<Arc<str>, Sym>>,
    pub(super) names: ArcSwap<Vec<Arc<str>>>,
}

/// The names of a [`Symbols`] table at one moment; index it with a [`Sym`].
pub type SymbolTable = Arc<Vec<Arc<str>>>;

impl Symbols {
    /// An empty table.
    pub fn new() -> Symbols {
        Symbols::default()
    }

    /// The symbol of `name`, interning it if new.
    pub fn intern(&self, name: &str) -> Sym {
        if let Some(s) = self.map.read().get(name) {
            return *s;
        }
        let mut map = self.map.write();
        if let Some(s) = map.get(name) {
            return *s;
        }
        let names = self.names.load_full();
        let sym = Sym(names.len() as u32);
        let name: Arc<str> = name.into();
        let mut next = Vec::with_capacity(names.len() + 1);
        next.extend(names.iter().cloned());
        next.push(name.clone());
        self.names.store(Arc::new(next));
        map.insert(name, sym);
        sym
    }

    /// The symbol of `name`, if it was ever interned.
    pub fn get(&self, name: &str) -> Option<Sym> {
        self.map.read().get(name).copied()
    }

    /// The current names (lock-free; every symbol handed out so far resolves in it).
    pub fn table(&self) -> SymbolTable {
        self.names.load_full()
    }

    /// Number of names interned.
    pub fn len(&self) -> usize {
        self.names.load().len()
    }

    /// Whether nothing was interned yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
