//! One object's families frozen into a single compact allocation, and its builder.

use std::ops::Range;

use kubestate_metric::ObjectMetrics;

use super::*;

#[derive(Clone, Copy, Debug)]
pub(super) struct Label {
    pub(super) name: Sym,
    pub(super) start: u32,
    pub(super) end: u32,
}

#[derive(Clone, Debug)]
pub(super) struct SampleRec {
    pub(super) labels: Range<u32>,
    pub(super) value: f64,
}

/// One object's families, frozen and compact: one string buffer for all label values, flat
/// arrays of labels and samples, and family offsets. Family `i` is family `i` of the store's
/// [`StoreInfo::families`](crate::StoreInfo::families).
#[derive(Debug)]
pub struct Object {
    pub(super) strings: Box<str>,
    pub(super) labels: Box<[Label]>,
    pub(super) samples: Box<[SampleRec]>,
    /// `families[i]..families[i + 1]` are the samples of family `i`.
    pub(super) families: Box<[u32]>,
    pub(super) identity: u32,
}

impl Object {
    /// Freezes an engine arena, interning label names in `symbols`.
    pub fn from_metrics(m: &ObjectMetrics, symbols: &Symbols) -> Object {
        let mut b = ObjectBuilder::new();
        for (k, v) in m.identity() {
            b.identity_label(symbols.intern(k), v);
        }
        for f in m.families() {
            b.begin_family();
            for s in f.samples() {
                b.begin_sample();
                for (k, v) in s.own_labels() {
                    b.label(symbols.intern(k), v);
                }
                b.finish_sample(s.value());
            }
        }
        b.build()
    }

    fn text(&self, l: &Label) -> &str {
        self.strings
            .get(l.start as usize..l.end as usize)
            .unwrap_or("")
    }

    /// The identity labels (written first on every series of the object).
    pub fn identity(&self) -> impl ExactSizeIterator<Item = (Sym, &str)> + '_ {
        self.labels[..self.identity as usize]
            .iter()
            .map(|l| (l.name, self.text(l)))
    }

    /// Number of families.
    pub fn family_count(&self) -> usize {
        self.families.len().saturating_sub(1)
    }

    /// Number of series over all families.
    pub fn series_count(&self) -> usize {
        self.samples.len()
    }

    /// The series of family `i` (empty if there is no such family).
    pub fn family(&self, i: usize) -> impl ExactSizeIterator<Item = SeriesView<'_>> + '_ {
        let r = match (self.families.get(i), self.families.get(i + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        self.samples[r]
            .iter()
            .map(move |rec| SeriesView { obj: self, rec })
    }

    /// Bytes held on the heap by this object.
    pub fn heap_bytes(&self) -> usize {
        self.strings.len()
            + self.labels.len() * std::mem::size_of::<Label>()
            + self.samples.len() * std::mem::size_of::<SampleRec>()
            + self.families.len() * 4
    }
}

/// One series of an [`Object`]: identity labels, its own labels, a value.
#[derive(Clone, Copy, Debug)]
pub struct SeriesView<'a> {
    pub(super) obj: &'a Object,
    pub(super) rec: &'a SampleRec,
}

impl<'a> SeriesView<'a> {
    /// The value.
    pub fn value(&self) -> f64 {
        self.rec.value
    }

    /// The object this series belongs to.
    pub fn object(&self) -> &'a Object {
        self.obj
    }

    /// The family's own labels (without the identity labels).
    pub fn own(&self) -> impl ExactSizeIterator<Item = (Sym, &'a str)> + 'a {
        let obj = self.obj;
        obj.labels[self.rec.labels.start as usize..self.rec.labels.end as usize]
            .iter()
            .map(move |l| (l.name, obj.text(l)))
    }

    /// All labels: identity first, then the family's own, in KSM's order.
    pub fn labels(&self) -> impl Iterator<Item = (Sym, &'a str)> + 'a {
        self.obj.identity().chain(self.own())
    }

    /// The value of label `name`, if the series has it (own labels are searched first, so a
    /// family label shadows an identity label of the same name, as in the text).
    pub fn get(&self, name: Sym) -> Option<&'a str> {
        // Names first, and only the value found sliced out of the buffer.
        let obj = self.obj;
        let own = obj
            .labels
            .get(self.rec.labels.start as usize..self.rec.labels.end as usize)
            .unwrap_or(&[]);
        let identity = obj.labels.get(..obj.identity as usize).unwrap_or(&[]);
        own.iter()
            .find(|l| l.name == name)
            .or_else(|| identity.iter().find(|l| l.name == name))
            .map(|l| obj.text(l))
    }
}

/// Builds an [`Object`] label by label: for scrape mode and tests, where there is no engine
/// arena. Values can be copied in ([`ObjectBuilder::label`]) or refer to text already in the
/// buffer ([`ObjectBuilder::label_at`], used to keep a scraped body without copying it).
#[derive(Default, Debug)]
pub struct ObjectBuilder {
    pub(super) strings: String,
    pub(super) labels: Vec<Label>,
    pub(super) samples: Vec<SampleRec>,
    pub(super) families: Vec<u32>,
    pub(super) identity: u32,
    pub(super) open: Option<u32>,
}

impl ObjectBuilder {
    /// An empty builder.
    pub fn new() -> ObjectBuilder {
        ObjectBuilder::default()
    }

    /// A builder whose string buffer starts as `text`, so that values can point into it with
    /// [`ObjectBuilder::label_at`].
    pub fn with_text(text: String) -> ObjectBuilder {
        ObjectBuilder {
            strings: text,
            ..ObjectBuilder::default()
        }
    }

    /// The buffer so far.
    pub fn text(&self) -> &str {
        &self.strings
    }

    fn push(&mut self, name: Sym, v: &str) {
        let start = self.strings.len() as u32;
        self.strings.push_str(v);
        self.labels.push(Label {
            name,
            start,
            end: self.strings.len() as u32,
        });
    }

    /// Adds an identity label. Call before the first family.
    pub fn identity_label(&mut self, name: Sym, value: &str) {
        self.push(name, value);
        self.identity = self.labels.len() as u32;
    }

    /// Starts the next family.
    pub fn begin_family(&mut self) {
        if self.families.is_empty() {
            self.families.push(self.samples.len() as u32);
        }
        self.families.push(self.samples.len() as u32);
    }

    /// Starts a sample of the current family.
    pub fn begin_sample(&mut self) {
        self.open = Some(self.labels.len() as u32);
    }

    /// Adds a label (value copied) to the open sample.
    pub fn label(&mut self, name: Sym, value: &str) {
        self.push(name, value);
    }

    /// Adds a label whose value is `range` of the buffer. Returns `false` (and adds nothing)
    /// when `range` is not a valid part of the buffer.
    pub fn label_at(&mut self, name: Sym, range: Range<usize>) -> bool {
        if self.strings.get(range.clone()).is_none() {
            return false;
        }
        self.labels.push(Label {
            name,
            start: range.start as u32,
            end: range.end as u32,
        });
        true
    }

    /// Finishes the open sample.
    pub fn finish_sample(&mut self, value: f64) {
        let start = self.open.take().unwrap_or(self.labels.len() as u32);
        self.samples.push(SampleRec {
            labels: start..self.labels.len() as u32,
            value,
        });
        if let Some(last) = self.families.last_mut() {
            *last = self.samples.len() as u32;
        }
    }

    /// Freezes the object.
    pub fn build(self) -> Object {
        let mut families = self.families;
        if families.is_empty() {
            families.push(0);
        }
        Object {
            strings: self.strings.into_boxed_str(),
            labels: self.labels.into_boxed_slice(),
            samples: self.samples.into_boxed_slice(),
            families: families.into_boxed_slice(),
            identity: self.identity,
        }
    }
}
