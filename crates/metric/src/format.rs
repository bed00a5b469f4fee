//! Exposition formats and KSM's `Accept` negotiation (ksm-behaviour.md §5.1).

/// Name-escaping scheme announced in the OpenMetrics `Content-Type` (`escaping=` parameter).
/// KSM only echoes it; names are never re-escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escaping {
    /// `allow-utf-8`
    AllowUtf8,
    /// `underscores` (the default)
    Underscores,
    /// `dots`
    Dots,
    /// `values`
    Values,
}

impl Escaping {
    fn parse(s: &str) -> Option<Escaping> {
        match s {
            "allow-utf-8" => Some(Escaping::AllowUtf8),
            "underscores" => Some(Escaping::Underscores),
            "dots" => Some(Escaping::Dots),
            "values" => Some(Escaping::Values),
            _ => None,
        }
    }

    /// The parameter value as written in the `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Escaping::AllowUtf8 => "allow-utf-8",
            Escaping::Underscores => "underscores",
            Escaping::Dots => "dots",
            Escaping::Values => "values",
        }
    }
}

/// OpenMetrics version negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OmVersion {
    /// `0.0.1`: what a bare `application/openmetrics-text` gets.
    V0_0_1,
    /// `1.0.0`: only when asked for explicitly.
    V1_0_0,
}

/// The body format of a `/metrics` response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics text.
    OpenMetrics {
        /// Negotiated version.
        version: OmVersion,
        /// Escaping scheme echoed in the content type.
        escaping: Escaping,
    },
}

impl Format {
    /// OpenMetrics 1.0.0 with the default escaping.
    pub const OPENMETRICS_1: Format = Format::OpenMetrics {
        version: OmVersion::V1_0_0,
        escaping: Escaping::Underscores,
    };

    /// Whether this is an OpenMetrics format (which ends the body with `# EOF`).
    pub fn is_openmetrics(self) -> bool {
        matches!(self, Format::OpenMetrics { .. })
    }

    /// The `Content-Type` header value KSM sends for this format.
    pub fn content_type(self) -> String {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8".to_string(),
            Format::OpenMetrics { version, escaping } => format!(
                "application/openmetrics-text; version={}; charset=utf-8; escaping={}",
                match version {
                    OmVersion::V0_0_1 => "0.0.1",
                    OmVersion::V1_0_0 => "1.0.0",
                },
                escaping.as_str()
            ),
        }
    }

    /// Chooses the format for an `Accept` header value, as KSM does: clauses are sorted by `q`
    /// (concrete types before wildcards on ties), the first acceptable clause wins, protobuf
    /// requests are answered with text, and anything unknown falls back to text.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let mut clauses: Vec<Clause<'_>> = accept.split(',').filter_map(Clause::parse).collect();
        clauses.sort_by(|a, b| {
            b.q.partial_cmp(&a.q)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.wildcards().cmp(&b.wildcards()))
        });
        let mut escaping = Escaping::Underscores;
        for c in &clauses {
            if let Some(e) = c.param("escaping").and_then(Escaping::parse) {
                escaping = e;
            }
            match (c.ty, c.sub) {
                ("application", "vnd.google.protobuf")
                    if c.param("proto") == Some("io.prometheus.client.MetricFamily")
                        && matches!(
                            c.param("encoding"),
                            Some("delimited" | "text" | "compact-text")
                        ) =>
                {
                    return Format::Text; // KSM has no protobuf output: it answers text
                }
                ("text", "plain") if matches!(c.param("version"), None | Some("0.0.4")) => {
                    return Format::Text;
                }
                ("application", "openmetrics-text") => match c.param("version") {
                    None | Some("0.0.1") => {
                        return Format::OpenMetrics {
                            version: OmVersion::V0_0_1,
                            escaping,
                        }
                    }
                    Some("1.0.0") => {
                        return Format::OpenMetrics {
                            version: OmVersion::V1_0_0,
                            escaping,
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        Format::Text
    }
}

struct Clause<'a> {
    ty: &'a str,
    sub: &'a str,
    q: f64,
    params: Vec<(&'a str, &'a str)>,
}

impl<'a> Clause<'a> {
    fn parse(raw: &'a str) -> Option<Clause<'a>> {
        let mut parts = raw.split(';');
        let media = parts.next()?.trim();
        let (ty, sub) = media.split_once('/').unwrap_or((media, "*"));
        if ty.is_empty() {
            return None;
        }
        let mut q = 1.0;
        let mut params = Vec::new();
        for p in parts {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim(), v.trim().trim_matches('"'));
            if k == "q" {
                q = v.parse().unwrap_or(0.0);
            } else {
                params.push((k, v));
            }
        }
        Some(Clause {
            ty: ty.trim(),
            sub: sub.trim(),
            q,
            params,
        })
    }

    fn param(&self, k: &str) -> Option<&'a str> {
        self.params.iter().find(|(pk, _)| *pk == k).map(|(_, v)| *v)
    }

    fn wildcards(&self) -> u8 {
        u8::from(self.ty == "*") + u8::from(self.sub == "*")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(accept: Option<&str>) -> String {
        Format::negotiate(accept).content_type()
    }

    #[test]
    fn negotiation_matches_ksm() {
        assert_eq!(ct(None), "text/plain; version=0.0.4; charset=utf-8");
        assert_eq!(ct(Some("*/*")), "text/plain; version=0.0.4; charset=utf-8");
        assert_eq!(
            ct(Some("text/plain")),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(
            ct(Some("text/plain;version=1.0.0")),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(
            ct(Some("application/openmetrics-text")),
            "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores"
        );
        assert_eq!(
            ct(Some("application/openmetrics-text;version=1.0.0")),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
        );
        // Prometheus 3's default scrape Accept header.
        let prom3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
        assert_eq!(
            ct(Some(prom3)),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
        );
        // Protobuf is answered with text.
        let proto = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3";
        assert_eq!(ct(Some(proto)), "text/plain; version=0.0.4; charset=utf-8");
        // q ordering decides.
        assert_eq!(
            ct(Some(
                "text/plain;q=0.2,application/openmetrics-text;version=1.0.0;q=0.9"
            )),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
        );
        // Unknown OpenMetrics versions are skipped.
        assert_eq!(
            ct(Some("application/openmetrics-text;version=2.0.0")),
            "text/plain; version=0.0.4; charset=utf-8"
        );
    }
}
