//! One object's generated families in structured form, held in a reusable arena.
//!
//! Family generators write into an [`ObjectMetrics`]; sinks read it. All label strings of an
//! object live in one `String` and all samples in flat vectors, so generating an object's
//! families allocates nothing once the arena has warmed up. The text store renders the arena
//! into bytes ([`ObjectMetrics::write_family_text`]); other sinks walk it with
//! [`ObjectMetrics::families`].

use std::ops::Range;

use crate::escape::write_label_value;
use crate::float::write_float;

#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    end: u32,
}

#[derive(Clone, Copy, Debug)]
struct LabelRec {
    name: Span,
    value: Span,
}

#[derive(Clone, Debug)]
struct SampleRec {
    labels: Range<u32>,
    value: f64,
}

/// The generated families of one object: identity labels once, then for each enabled family
/// of its resource (in table order) zero or more samples.
#[derive(Default, Debug)]
pub struct ObjectMetrics {
    strings: String,
    labels: Vec<LabelRec>,
    samples: Vec<SampleRec>,
    /// `families[i]` is the sample range of the i-th enabled family.
    families: Vec<Range<u32>>,
    identity: Range<u32>,
    open_sample: Option<u32>,
}

impl ObjectMetrics {
    /// An empty arena.
    pub fn new() -> ObjectMetrics {
        ObjectMetrics::default()
    }

    /// Forgets everything, keeping the allocations.
    pub fn clear(&mut self) {
        self.strings.clear();
        self.labels.clear();
        self.samples.clear();
        self.families.clear();
        self.identity = 0..0;
        self.open_sample = None;
    }

    fn push_str(&mut self, s: &str) -> Span {
        let start = self.strings.len() as u32;
        self.strings.push_str(s);
        Span {
            start,
            end: self.strings.len() as u32,
        }
    }

    fn push_label(&mut self, name: &str, value: &str) {
        let name = self.push_str(name);
        let value = self.push_str(value);
        self.labels.push(LabelRec { name, value });
    }

    /// Adds an identity label (written first on every sample of the object). Call before any
    /// family is begun.
    pub fn identity_label(&mut self, name: &str, value: &str) {
        debug_assert!(
            self.families.is_empty(),
            "identity labels come before families"
        );
        self.push_label(name, value);
        self.identity.end = self.labels.len() as u32;
    }

    /// Starts the next family. Samples added until the next call belong to it.
    pub fn begin_family(&mut self) {
        let at = self.samples.len() as u32;
        self.families.push(at..at);
    }

    /// Adds a complete sample with `labels` (after the identity labels) to the current family.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) {
        self.begin_sample();
        for (k, v) in labels {
            self.label(k, v);
        }
        self.finish_sample(value);
    }

    /// Starts a sample whose labels are added one by one with [`ObjectMetrics::label`].
    pub fn begin_sample(&mut self) {
        debug_assert!(self.open_sample.is_none(), "previous sample not finished");
        self.open_sample = Some(self.labels.len() as u32);
    }

    /// Adds a label to the sample begun with [`ObjectMetrics::begin_sample`].
    pub fn label(&mut self, name: &str, value: &str) {
        debug_assert!(self.open_sample.is_some(), "label outside a sample");
        self.push_label(name, value);
    }

    /// Finishes the open sample with its value.
    pub fn finish_sample(&mut self, value: f64) {
        let start = self.open_sample.take().unwrap_or(self.labels.len() as u32);
        self.samples.push(SampleRec {
            labels: start..self.labels.len() as u32,
            value,
        });
        if let Some(f) = self.families.last_mut() {
            f.end = self.samples.len() as u32;
        }
    }

    /// Drops the open sample (its labels stay in the arena but are never referenced).
    pub fn abandon_sample(&mut self) {
        self.open_sample = None;
    }

    /// Number of families recorded.
    pub fn family_count(&self) -> usize {
        self.families.len()
    }

    /// Total number of samples over all families.
    pub fn sample_count(&self) -> usize {
        self.samples.len()
    }

    fn text(&self, s: Span) -> &str {
        &self.strings[s.start as usize..s.end as usize]
    }

    /// The identity labels, in order.
    pub fn identity(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.labels[self.identity.start as usize..self.identity.end as usize]
            .iter()
            .map(|l| (self.text(l.name), self.text(l.value)))
    }

    /// The families, in the order of the resource's enabled family list.
    pub fn families(&self) -> impl ExactSizeIterator<Item = FamilyView<'_>> + '_ {
        self.families.iter().map(move |r| FamilyView {
            obj: self,
            range: r.clone(),
        })
    }

    /// One family by its position in the enabled family list.
    pub fn family(&self, i: usize) -> Option<FamilyView<'_>> {
        self.families.get(i).map(|r| FamilyView {
            obj: self,
            range: r.clone(),
        })
    }

    fn identity_labels(&self) -> &[LabelRec] {
        &self.labels[self.identity.start as usize..self.identity.end as usize]
    }

    fn write_label_list(&self, labels: &[LabelRec], out: &mut Vec<u8>) {
        for (n, l) in labels.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(self.text(l.name).as_bytes());
            out.extend_from_slice(b"=\"");
            write_label_value(out, self.text(l.value));
            out.push(b'"');
        }
    }

    /// Writes `{` and the identity labels, or nothing when the object has none: what every
    /// sample line of the object repeats right after the family name.
    pub fn write_identity_prefix(&self, out: &mut Vec<u8>) {
        let ident = self.identity_labels();
        if !ident.is_empty() {
            out.push(b'{');
            self.write_label_list(ident, out);
        }
    }

    /// Writes what follows the name and the identity prefix on one sample line: the sample's
    /// own labels, the closing brace, the value and the newline (`,container="c"} 1\n`,
    /// `} 1\n`, or without identity labels `{container="c"} 1\n` / ` 1\n`).
    fn write_rest(&self, s: &SampleRec, has_identity: bool, out: &mut Vec<u8>) {
        let own = &self.labels[s.labels.start as usize..s.labels.end as usize];
        match (has_identity, own.is_empty()) {
            (true, true) => out.push(b'}'),
            (true, false) => {
                out.push(b',');
                self.write_label_list(own, out);
                out.push(b'}');
            }
            (false, false) => {
                out.push(b'{');
                self.write_label_list(own, out);
                out.push(b'}');
            }
            (false, true) => {}
        }
        out.push(b' ');
        write_float(out, s.value);
        out.push(b'\n');
    }

    /// Writes the rest of every sample line of family `i` (see
    /// [`ObjectMetrics::write_identity_prefix`]): each line of the family is the family name,
    /// the identity prefix and one rest. Each rest ends with a `\n`, the only one it holds
    /// (label values are escaped), so the rests can be told apart by their newlines.
    pub fn write_family_rests(&self, i: usize, out: &mut Vec<u8>) {
        let Some(r) = self.families.get(i) else {
            return;
        };
        let has_identity = !self.identity_labels().is_empty();
        for s in &self.samples[r.start as usize..r.end as usize] {
            self.write_rest(s, has_identity, out);
        }
    }

    /// Renders family `i` as text lines `name{labels} value\n` (identical in text 0.0.4 and
    /// OpenMetrics). A sample with no labels at all is written `name value`.
    pub fn write_family_text(&self, i: usize, name: &str, out: &mut Vec<u8>) {
        let Some(r) = self.families.get(i) else {
            return;
        };
        let has_identity = !self.identity_labels().is_empty();
        for s in &self.samples[r.start as usize..r.end as usize] {
            out.extend_from_slice(name.as_bytes());
            self.write_identity_prefix(out);
            self.write_rest(s, has_identity, out);
        }
    }
}

/// A view of one family of one object.
#[derive(Clone)]
pub struct FamilyView<'a> {
    obj: &'a ObjectMetrics,
    range: Range<u32>,
}

impl<'a> FamilyView<'a> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        (self.range.end - self.range.start) as usize
    }

    /// Whether the family has no samples for this object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples of this family.
    pub fn samples(&self) -> impl ExactSizeIterator<Item = SampleView<'a>> + 'a {
        let obj = self.obj;
        obj.samples[self.range.start as usize..self.range.end as usize]
            .iter()
            .map(move |s| SampleView { obj, rec: s })
    }
}

/// One sample: identity labels, its own labels, a value.
#[derive(Clone, Copy)]
pub struct SampleView<'a> {
    obj: &'a ObjectMetrics,
    rec: &'a SampleRec,
}

impl<'a> SampleView<'a> {
    /// The value.
    pub fn value(&self) -> f64 {
        self.rec.value
    }

    /// All labels: identity labels first, then the family's own, in KSM's order.
    pub fn labels(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let obj = self.obj;
        obj.identity().chain(self.own_labels())
    }

    /// Writes what follows the family name and the identity prefix on this sample's line
    /// (one rest of [`ObjectMetrics::write_family_rests`]).
    pub fn write_rest(&self, out: &mut Vec<u8>) {
        let has_identity = !self.obj.identity_labels().is_empty();
        self.obj.write_rest(self.rec, has_identity, out);
    }

    /// Only the family's own labels (without the identity labels).
    pub fn own_labels(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let obj = self.obj;
        obj.labels[self.rec.labels.start as usize..self.rec.labels.end as usize]
            .iter()
            .map(move |l| (obj.text(l.name), obj.text(l.value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_identity_first_and_escapes() {
        let mut m = ObjectMetrics::new();
        m.identity_label("namespace", "ns");
        m.identity_label("pod", "p\"1");
        m.begin_family();
        m.sample(&[("container", "c")], 1.5e9);
        m.sample(&[], 1.0);
        m.begin_family();
        let mut out = Vec::new();
        m.write_family_text(0, "kube_x", &mut out);
        m.write_family_text(1, "kube_y", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "kube_x{namespace=\"ns\",pod=\"p\\\"1\",container=\"c\"} 1.5e+09\nkube_x{namespace=\"ns\",pod=\"p\\\"1\"} 1\n"
        );
        assert_eq!(m.family(1).map(|f| f.len()), Some(0));
        let labels: Vec<_> = m
            .family(0)
            .unwrap()
            .samples()
            .next()
            .unwrap()
            .labels()
            .collect();
        assert_eq!(
            labels,
            vec![("namespace", "ns"), ("pod", "p\"1"), ("container", "c")]
        );
    }

    #[test]
    fn no_labels_no_braces() {
        let mut m = ObjectMetrics::new();
        m.begin_family();
        m.sample(&[], 0.25);
        let mut out = Vec::new();
        m.write_family_text(0, "x", &mut out);
        assert_eq!(out, b"x 0.25\n");
    }

    /// Name + identity prefix + rest, line by line, is exactly the full rendering, with and
    /// without identity labels and own labels.
    #[test]
    fn prefix_and_rests_rebuild_the_full_lines() {
        for ident in [&[][..], &[("namespace", "n\\s"), ("pod", "p")][..]] {
            let mut m = ObjectMetrics::new();
            for (k, v) in ident {
                m.identity_label(k, v);
            }
            m.begin_family();
            m.sample(&[("container", "c\nd")], 2.5);
            m.sample(&[], f64::NAN);
            m.sample(&[("a", "1"), ("b", "")], -0.0);
            let mut full = Vec::new();
            m.write_family_text(0, "kube_x", &mut full);
            let mut prefix = Vec::new();
            m.write_identity_prefix(&mut prefix);
            let mut rests = Vec::new();
            m.write_family_rests(0, &mut rests);
            let mut rebuilt = Vec::new();
            for rest in rests.split_inclusive(|b| *b == b'\n') {
                rebuilt.extend_from_slice(b"kube_x");
                rebuilt.extend_from_slice(&prefix);
                rebuilt.extend_from_slice(rest);
            }
            assert_eq!(
                String::from_utf8(rebuilt).unwrap(),
                String::from_utf8(full).unwrap()
            );
            assert_eq!(rests.iter().filter(|b| **b == b'\n').count(), 3);
        }
    }

    #[test]
    fn clear_reuses() {
        let mut m = ObjectMetrics::new();
        m.identity_label("a", "b");
        m.begin_family();
        m.sample(&[("c", "d")], 2.0);
        m.clear();
        assert_eq!(m.family_count(), 0);
        assert_eq!(m.identity().count(), 0);
    }
}
