//! Which series a reader asks for.

/// Which series [`Snapshot::select`](super::Snapshot::select) returns: families by name, resources, and label
/// equalities (all must hold). An empty selector admits everything.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    pub(super) families: Option<Vec<String>>,
    pub(super) resources: Option<Vec<String>>,
    pub(super) labels: Vec<(String, String)>,
}

impl Selector {
    /// Admits every series.
    pub fn new() -> Selector {
        Selector::default()
    }

    /// Also admit family `name` (the first call restricts the selection to named families).
    pub fn family(mut self, name: impl Into<String>) -> Selector {
        self.families.get_or_insert_with(Vec::new).push(name.into());
        self
    }

    /// Also admit resource `name` (`pods`); the first call restricts to named resources.
    pub fn resource(mut self, name: impl Into<String>) -> Selector {
        self.resources
            .get_or_insert_with(Vec::new)
            .push(name.into());
        self
    }

    /// Only series whose label `name` equals `value`.
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Selector {
        self.labels.push((name.into(), value.into()));
        self
    }
}
