//! What a run produces: output series, handed one at a time to an [`Emit`].

/// One output series. Valid only during the [`Emit::series`] call (everything is borrowed
/// from the snapshot, the plan and the run's scratch buffers).
#[derive(Clone, Copy, Debug)]
pub struct OutSeries<'a> {
    /// Output metric name (after renames/templates; may contain dots, e.g.
    /// `kubernetes_state.pod.count`).
    pub name: &'a str,
    /// Labels: the series' own labels first, then joined labels, after key mapping. A key
    /// may appear more than once (several join sources, or an own and a joined label with
    /// the same key), as Datadog's multi-valued tags; see [`OutSeries::unique_labels`].
    pub labels: &'a [(&'a str, &'a str)],
    /// Value.
    pub value: f64,
    /// The run's timestamp, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

impl<'a> OutSeries<'a> {
    /// The labels as a Prometheus-model sink needs them: one value per key (the first one,
    /// so a series' own label wins over a joined one), sorted by key. Returns how many
    /// extra values were left out.
    pub fn unique_labels(&self, out: &mut Vec<(&'a str, &'a str)>) -> usize {
        out.clear();
        out.extend_from_slice(self.labels);
        // Stable sort keeps the first value of each key first.
        out.sort_by(|a, b| a.0.cmp(b.0));
        let before = out.len();
        out.dedup_by(|b, a| a.0 == b.0);
        before - out.len()
    }
}

/// Receives the output series of a run, in order.
pub trait Emit {
    /// One series.
    fn series(&mut self, s: &OutSeries<'_>);
}

impl<F: FnMut(&OutSeries<'_>)> Emit for F {
    fn series(&mut self, s: &OutSeries<'_>) {
        self(s)
    }
}

/// An owned copy of an output series (for tests, examples and small outputs).
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedSeries {
    /// Name.
    pub name: String,
    /// Labels, in emitted order.
    pub labels: Vec<(String, String)>,
    /// Value.
    pub value: f64,
}

impl OwnedSeries {
    /// The values of key `k`, in order.
    pub fn values(&self, k: &str) -> Vec<&str> {
        self.labels
            .iter()
            .filter(|(x, _)| x == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// An [`Emit`] that keeps everything.
#[derive(Debug, Default)]
pub struct Collect(pub Vec<OwnedSeries>);

impl Emit for Collect {
    fn series(&mut self, s: &OutSeries<'_>) {
        self.0.push(OwnedSeries {
            name: s.name.to_string(),
            labels: s
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value: s.value,
        });
    }
}

impl Collect {
    /// The series called `name`.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a OwnedSeries> + 'a {
        self.0.iter().filter(move |s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_labels_keep_the_first_value_and_sort() {
        let labels = [("b", "own"), ("a", "1"), ("b", "joined"), ("a", "1")];
        let s = OutSeries {
            name: "x",
            labels: &labels,
            value: 1.0,
            timestamp_ms: 0,
        };
        let mut out = Vec::new();
        assert_eq!(s.unique_labels(&mut out), 2);
        assert_eq!(out, vec![("a", "1"), ("b", "own")]);
    }
}
