//! Family descriptors: what a metric family is, independent of any object.

use crate::escape::write_help;
use crate::format::Format;

/// The type of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A value that goes up and down.
    Gauge,
    /// A monotonically increasing count.
    Counter,
    /// An OpenMetrics info family (written as `gauge` in the text format).
    Info,
    /// An OpenMetrics stateset family (written as `gauge` in the text format).
    StateSet,
}

impl MetricType {
    /// The word used on the `# TYPE` line for the given format. `info` and `stateset` are
    /// written as `gauge` in text 0.0.4 (ksm-behaviour.md §5.3).
    pub fn type_word(self, format: Format) -> &'static str {
        match (self, format) {
            (MetricType::Gauge, _) => "gauge",
            (MetricType::Counter, _) => "counter",
            (MetricType::Info, Format::OpenMetrics { .. }) => "info",
            (MetricType::StateSet, Format::OpenMetrics { .. }) => "stateset",
            (MetricType::Info | MetricType::StateSet, Format::Text) => "gauge",
        }
    }

    /// The lower-case name of the type, as documentation and structured sinks spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Counter => "counter",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
        }
    }
}

/// Stability level of a family, as KSM classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stability {
    /// Experimental: may change without notice. No HELP prefix.
    Alpha,
    /// Stable: HELP is prefixed with `[STABLE] `.
    Stable,
}

impl Stability {
    /// `STABLE` or `ALPHA`, as in KSM's metric tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::Alpha => "ALPHA",
            Stability::Stable => "STABLE",
        }
    }
}

/// Everything about a family except its samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyDesc {
    /// Metric name, e.g. `kube_pod_info`.
    pub name: String,
    /// HELP text (our own words), without the stability or deprecation prefix.
    pub help: String,
    /// Metric type.
    pub ty: MetricType,
    /// Stability level.
    pub stability: Stability,
    /// Version the family was deprecated in (`v2.14.0`), if any.
    pub deprecated_since: Option<String>,
}

impl FamilyDesc {
    /// Appends the `# HELP` and `# TYPE` lines of this family for `format`.
    pub fn write_header(&self, out: &mut Vec<u8>, format: Format) {
        out.extend_from_slice(b"# HELP ");
        out.extend_from_slice(self.name.as_bytes());
        out.push(b' ');
        if self.stability == Stability::Stable {
            out.extend_from_slice(b"[STABLE] ");
        }
        if let Some(v) = &self.deprecated_since {
            out.extend_from_slice(b"(Deprecated since ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b") ");
        }
        write_help(out, &self.help);
        out.extend_from_slice(b"\n# TYPE ");
        out.extend_from_slice(self.name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.ty.type_word(format).as_bytes());
        out.push(b'\n');
    }

    /// The header pre-rendered for both formats: `[text, openmetrics]`.
    pub fn headers(&self) -> [Box<[u8]>; 2] {
        let mut t = Vec::new();
        self.write_header(&mut t, Format::Text);
        let mut o = Vec::new();
        self.write_header(&mut o, Format::OPENMETRICS_1);
        [t.into_boxed_slice(), o.into_boxed_slice()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(stability: Stability, dep: Option<&str>, ty: MetricType) -> FamilyDesc {
        FamilyDesc {
            name: "kube_x".into(),
            help: "Some help.".into(),
            ty,
            stability,
            deprecated_since: dep.map(Into::into),
        }
    }

    #[test]
    fn stable_and_deprecated_prefixes() {
        let mut o = Vec::new();
        desc(Stability::Stable, Some("v2.14.0"), MetricType::Gauge)
            .write_header(&mut o, Format::Text);
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "# HELP kube_x [STABLE] (Deprecated since v2.14.0) Some help.\n# TYPE kube_x gauge\n"
        );
        let mut o = Vec::new();
        desc(Stability::Alpha, None, MetricType::Counter).write_header(&mut o, Format::Text);
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "# HELP kube_x Some help.\n# TYPE kube_x counter\n"
        );
    }

    #[test]
    fn info_and_stateset_are_gauges_in_text() {
        for (ty, om) in [
            (MetricType::Info, "info"),
            (MetricType::StateSet, "stateset"),
        ] {
            let [t, o] = desc(Stability::Alpha, None, ty).headers();
            assert!(String::from_utf8_lossy(&t).ends_with("# TYPE kube_x gauge\n"));
            assert!(String::from_utf8_lossy(&o).ends_with(&format!("# TYPE kube_x {om}\n")));
        }
    }
}
