//! A fast parser of the exposition text formats: Prometheus text 0.0.4 and OpenMetrics 1.0.
//!
//! It is the inverse of this crate's writers and is used by the check's scrape mode to read any
//! KSM-compatible `/metrics` body. It works on a borrowed `&str` and allocates nothing: names
//! and label values are slices of the input, and a label value is only copied when it holds an
//! escape sequence ([`Cow::Owned`]). Each sample's labels are validated once, when the line is
//! parsed; walking them again with [`Sample::labels`] cannot fail.
//!
//! ```
//! use kubestate_metric::parse::{Event, Parser, Syntax};
//!
//! let body = "# TYPE kube_pod_info gauge\nkube_pod_info{namespace=\"a\",pod=\"p\\\"1\"} 1\n";
//! let mut samples = 0;
//! for event in Parser::new(body, Syntax::Text) {
//!     if let Event::Sample(s) = event.unwrap() {
//!         let labels: Vec<_> = s.labels().collect();
//!         assert_eq!(labels[1].1, "p\"1");
//!         assert_eq!(s.value, 1.0);
//!         samples += 1;
//!     }
//! }
//! assert_eq!(samples, 1);
//! ```

use std::borrow::Cow;
use std::fmt;

/// Which of the two text formats a body is in. They differ in the `# EOF` terminator, the
/// unit of timestamps, the escapes allowed in HELP and in exemplars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// Prometheus text format 0.0.4 (timestamps in milliseconds).
    Text,
    /// OpenMetrics 1.0 (timestamps in seconds, `# EOF` ends the body).
    OpenMetrics,
}

impl Syntax {
    /// The syntax announced by a `Content-Type` header value (OpenMetrics when it says so,
    /// text otherwise).
    pub fn from_content_type(content_type: &str) -> Syntax {
        if content_type
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/openmetrics-text")
        {
            Syntax::OpenMetrics
        } else {
            Syntax::Text
        }
    }
}

/// The type named on a `# TYPE` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParsedType {
    /// `counter`
    Counter,
    /// `gauge`
    Gauge,
    /// `info` (OpenMetrics)
    Info,
    /// `stateset` (OpenMetrics)
    StateSet,
    /// `histogram`
    Histogram,
    /// `gaugehistogram` (OpenMetrics)
    GaugeHistogram,
    /// `summary`
    Summary,
    /// `untyped` (text) or `unknown` (OpenMetrics)
    Unknown,
}

impl ParsedType {
    fn parse(word: &str) -> Option<ParsedType> {
        Some(match word {
            "counter" => ParsedType::Counter,
            "gauge" => ParsedType::Gauge,
            "info" => ParsedType::Info,
            "stateset" => ParsedType::StateSet,
            "histogram" => ParsedType::Histogram,
            "gaugehistogram" => ParsedType::GaugeHistogram,
            "summary" => ParsedType::Summary,
            "untyped" | "unknown" => ParsedType::Unknown,
            _ => return None,
        })
    }
}

/// One meaningful line of a body.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<'a> {
    /// `# HELP name text`
    Help {
        /// Family name.
        name: &'a str,
        /// Help text, unescaped.
        help: Cow<'a, str>,
    },
    /// `# TYPE name type`
    Type {
        /// Family name.
        name: &'a str,
        /// The type.
        ty: ParsedType,
    },
    /// `# UNIT name unit` (OpenMetrics)
    Unit {
        /// Family name.
        name: &'a str,
        /// The unit.
        unit: &'a str,
    },
    /// A sample line.
    Sample(Sample<'a>),
    /// `# EOF` (OpenMetrics); nothing may follow it.
    Eof,
}

/// One sample line: name, labels, value and optional timestamp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample<'a> {
    /// Metric name (including any `_total`/`_bucket` suffix).
    pub name: &'a str,
    /// The text between `{` and `}` (validated), empty when there are no labels.
    labels: &'a str,
    /// The value.
    pub value: f64,
    /// The timestamp in milliseconds since the epoch, if the line has one.
    pub timestamp_ms: Option<i64>,
}

impl<'a> Sample<'a> {
    /// The labels in written order: name and unescaped value.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            raw: self.labels.as_bytes(),
            text: self.labels,
            pos: 0,
        }
    }

    /// The raw text between the braces, as written (escapes not resolved).
    pub fn labels_raw(&self) -> &'a str {
        self.labels
    }
}

/// Iterator over a sample's labels (see [`Sample::labels`]).
#[derive(Clone, Debug)]
pub struct Labels<'a> {
    raw: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        // The labels were validated when the sample was parsed, so an error cannot happen
        // here; should it ever, iteration simply ends.
        let (name, (vs, ve), escaped) = next_label(self.raw, &mut self.pos).ok().flatten()?;
        let raw = &self.text[vs..ve];
        let value = if escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        };
        Some((&self.text[name.0..name.1], value))
    }
}

/// Why a line could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// The kinds of [`ParseError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A metric or label name was expected.
    ExpectedName,
    /// A specific character was expected.
    Expected(char),
    /// A label value has an escape other than `\\`, `\"` or `\n`.
    InvalidEscape,
    /// A label value is not closed before the end of the line.
    UnterminatedValue,
    /// The value is not a number.
    InvalidValue(String),
    /// The timestamp is not a number.
    InvalidTimestamp(String),
    /// A `# TYPE` line names an unknown type.
    UnknownType(String),
    /// A `# HELP`/`# TYPE`/`# UNIT` line is incomplete.
    BadDescriptor,
    /// Something follows `# EOF`.
    AfterEof,
    /// An OpenMetrics body does not end with `# EOF`.
    MissingEof,
    /// Unexpected text after the value.
    TrailingText,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match &self.kind {
            ParseErrorKind::ExpectedName => write!(f, "expected a metric or label name"),
            ParseErrorKind::Expected(c) => write!(f, "expected {c:?}"),
            ParseErrorKind::InvalidEscape => {
                write!(
                    f,
                    "invalid escape in a label value (only \\\\, \\\" and \\n)"
                )
            }
            ParseErrorKind::UnterminatedValue => write!(f, "label value is not closed"),
            ParseErrorKind::InvalidValue(v) => write!(f, "value {v:?} is not a number"),
            ParseErrorKind::InvalidTimestamp(v) => write!(f, "timestamp {v:?} is not a number"),
            ParseErrorKind::UnknownType(t) => write!(f, "unknown metric type {t:?}"),
            ParseErrorKind::BadDescriptor => write!(f, "incomplete # HELP, # TYPE or # UNIT line"),
            ParseErrorKind::AfterEof => write!(f, "text after # EOF"),
            ParseErrorKind::MissingEof => write!(f, "OpenMetrics body does not end with # EOF"),
            ParseErrorKind::TrailingText => write!(f, "unexpected text after the sample value"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Iterator over the events of a body. Blank lines and other comments are skipped. After an
/// error the iterator ends.
pub struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    syntax: Syntax,
    eof_seen: bool,
    finished: bool,
}

impl<'a> Parser<'a> {
    /// A parser over `text` in `syntax`.
    pub fn new(text: &'a str, syntax: Syntax) -> Parser<'a> {
        Parser {
            text,
            pos: 0,
            line: 0,
            syntax,
            eof_seen: false,
            finished: false,
        }
    }

    /// The 1-based number of the line last returned.
    pub fn line(&self) -> usize {
        self.line
    }

    fn err(&mut self, kind: ParseErrorKind) -> Option<Result<Event<'a>, ParseError>> {
        self.finished = true;
        Some(Err(ParseError {
            line: self.line,
            kind,
        }))
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Event<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return None;
            }
            if self.pos >= self.text.len() {
                self.finished = true;
                if self.syntax == Syntax::OpenMetrics && !self.eof_seen {
                    self.line += 1;
                    return self.err(ParseErrorKind::MissingEof);
                }
                return None;
            }
            let rest = &self.text[self.pos..];
            let end = rest.find('\n').unwrap_or(rest.len());
            let mut line = &rest[..end];
            self.pos += end + 1;
            self.line += 1;
            if let Some(l) = line.strip_suffix('\r') {
                line = l;
            }
            if self.eof_seen {
                if line.trim().is_empty() {
                    continue;
                }
                return self.err(ParseErrorKind::AfterEof);
            }
            if line.trim().is_empty() {
                continue;
            }
            let result = if let Some(comment) = line.strip_prefix('#') {
                match parse_comment(comment, self.syntax) {
                    Ok(None) => continue,
                    Ok(Some(Event::Eof)) => {
                        self.eof_seen = true;
                        Ok(Event::Eof)
                    }
                    Ok(Some(e)) => Ok(e),
                    Err(k) => Err(k),
                }
            } else {
                parse_sample(line, self.syntax).map(Event::Sample)
            };
            return match result {
                Ok(e) => Some(Ok(e)),
                Err(k) => self.err(k),
            };
        }
    }
}

fn parse_comment(c: &str, syntax: Syntax) -> Result<Option<Event<'_>>, ParseErrorKind> {
    let c = c.trim_start_matches([' ', '\t']);
    let (word, rest) = split_token(c);
    match word {
        "EOF" if rest.trim().is_empty() => Ok(Some(Event::Eof)),
        "HELP" => {
            let (name, help) = split_token(rest);
            if name.is_empty() {
                return Err(ParseErrorKind::BadDescriptor);
            }
            let help = if help.contains('\\') {
                Cow::Owned(unescape_help(help, syntax))
            } else {
                Cow::Borrowed(help)
            };
            Ok(Some(Event::Help { name, help }))
        }
        "TYPE" => {
            let (name, ty) = split_token(rest);
            let ty = ty.trim();
            if name.is_empty() || ty.is_empty() {
                return Err(ParseErrorKind::BadDescriptor);
            }
            let ty = ParsedType::parse(ty).ok_or_else(|| ParseErrorKind::UnknownType(ty.into()))?;
            Ok(Some(Event::Type { name, ty }))
        }
        "UNIT" => {
            let (name, unit) = split_token(rest);
            if name.is_empty() {
                return Err(ParseErrorKind::BadDescriptor);
            }
            Ok(Some(Event::Unit {
                name,
                unit: unit.trim(),
            }))
        }
        _ => Ok(None),
    }
}

/// The first blank-separated token and the text after the single separator that follows it.
fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches([' ', '\t']);
    match s.find([' ', '\t']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

fn is_name_start(b: u8, metric: bool) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || (metric && b == b':')
}

fn is_name_char(b: u8, metric: bool) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || (metric && b == b':')
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

fn parse_sample(line: &str, syntax: Syntax) -> Result<Sample<'_>, ParseErrorKind> {
    let b = line.as_bytes();
    let mut i = skip_blanks(b, 0);
    let start = i;
    if i >= b.len() || !is_name_start(b[i], true) {
        return Err(ParseErrorKind::ExpectedName);
    }
    while i < b.len() && is_name_char(b[i], true) {
        i += 1;
    }
    let name = &line[start..i];
    let brace = skip_blanks(b, i);
    let mut labels = "";
    if brace < b.len() && b[brace] == b'{' {
        let inner_start = brace + 1;
        let close = find_labels_end(b, inner_start)?;
        labels = &line[inner_start..close];
        // Validate every label now so that later iteration cannot fail.
        let lb = labels.as_bytes();
        let mut p = 0;
        while next_label(lb, &mut p)?.is_some() {}
        i = close + 1;
    }
    let after = skip_blanks(b, i);
    if after == i && i < b.len() {
        return Err(ParseErrorKind::Expected(' '));
    }
    let (value_tok, rest) = split_token(&line[after..]);
    if value_tok.is_empty() {
        return Err(ParseErrorKind::InvalidValue(String::new()));
    }
    let value = parse_value(value_tok)?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let (ts_tok, rest) = if rest.starts_with('#') {
        ("", rest)
    } else {
        split_token(rest)
    };
    let timestamp_ms = if ts_tok.is_empty() {
        None
    } else {
        Some(parse_timestamp(ts_tok, syntax)?)
    };
    let rest = rest.trim();
    if !rest.is_empty() {
        // OpenMetrics exemplar: ` # {labels} value [timestamp]`.
        let ex = rest
            .strip_prefix('#')
            .map(|r| r.trim_start_matches([' ', '\t']));
        match ex {
            Some(ex) if syntax == Syntax::OpenMetrics && ex.starts_with('{') => {
                let eb = ex.as_bytes();
                let close = find_labels_end(eb, 1)?;
                let mut p = 0;
                let inner = &eb[1..close];
                while next_label(inner, &mut p)?.is_some() {}
                let (v, t) = split_token(&ex[close + 1..]);
                parse_value(v)?;
                let t = t.trim();
                if !t.is_empty() {
                    parse_timestamp(t, syntax)?;
                }
            }
            _ => return Err(ParseErrorKind::TrailingText),
        }
    }
    Ok(Sample {
        name,
        labels,
        value,
        timestamp_ms,
    })
}

/// Index of the `}` closing a label set whose content starts at `i`, honouring quotes.
fn find_labels_end(b: &[u8], mut i: usize) -> Result<usize, ParseErrorKind> {
    let mut in_quotes = false;
    while i < b.len() {
        match b[i] {
            b'\\' if in_quotes => i += 1,
            b'"' => in_quotes = !in_quotes,
            b'}' if !in_quotes => return Ok(i),
            _ => {}
        }
        i += 1;
    }
    Err(if in_quotes {
        ParseErrorKind::UnterminatedValue
    } else {
        ParseErrorKind::Expected('}')
    })
}

type Span = (usize, usize);

/// Parses the next `name="value"` of a label set body starting at `*pos`; returns the name
/// span, the raw value span and whether the value has escapes. Accepts blanks around tokens
/// and a trailing comma, as Prometheus' text parser does.
fn next_label(b: &[u8], pos: &mut usize) -> Result<Option<(Span, Span, bool)>, ParseErrorKind> {
    let mut i = skip_blanks(b, *pos);
    if i >= b.len() {
        *pos = i;
        return Ok(None);
    }
    if !is_name_start(b[i], false) {
        return Err(ParseErrorKind::ExpectedName);
    }
    let ns = i;
    while i < b.len() && is_name_char(b[i], false) {
        i += 1;
    }
    let name = (ns, i);
    i = skip_blanks(b, i);
    if i >= b.len() || b[i] != b'=' {
        return Err(ParseErrorKind::Expected('='));
    }
    i = skip_blanks(b, i + 1);
    if i >= b.len() || b[i] != b'"' {
        return Err(ParseErrorKind::Expected('"'));
    }
    i += 1;
    let vs = i;
    let mut escaped = false;
    loop {
        match b.get(i) {
            None => return Err(ParseErrorKind::UnterminatedValue),
            Some(b'"') => break,
            Some(b'\\') => {
                escaped = true;
                match b.get(i + 1) {
                    Some(b'\\' | b'"' | b'n') => i += 2,
                    _ => return Err(ParseErrorKind::InvalidEscape),
                }
            }
            Some(_) => i += 1,
        }
    }
    let value = (vs, i);
    i = skip_blanks(b, i + 1);
    if i < b.len() {
        if b[i] != b',' {
            return Err(ParseErrorKind::Expected(','));
        }
        i += 1;
    }
    *pos = i;
    Ok(Some((name, value, escaped)))
}

/// Resolves the escapes of a label value as exposition text writes it (`\\`, `\"`, `\n`).
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn unescape_help(raw: &str, syntax: Syntax) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') if syntax == Syntax::OpenMetrics => out.push('"'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Parses a sample value as Go's `strconv.ParseFloat` would for exposition text.
pub fn parse_value(tok: &str) -> Result<f64, ParseErrorKind> {
    match tok {
        "+Inf" | "Inf" => return Ok(f64::INFINITY),
        "-Inf" => return Ok(f64::NEG_INFINITY),
        "NaN" => return Ok(f64::NAN),
        _ => {}
    }
    tok.parse::<f64>()
        .map_err(|_| ParseErrorKind::InvalidValue(tok.to_string()))
}

fn parse_timestamp(tok: &str, syntax: Syntax) -> Result<i64, ParseErrorKind> {
    let bad = || ParseErrorKind::InvalidTimestamp(tok.to_string());
    match syntax {
        Syntax::Text => tok.parse::<i64>().map_err(|_| bad()),
        Syntax::OpenMetrics => {
            let secs: f64 = tok.parse().map_err(|_| bad())?;
            if !secs.is_finite() {
                return Err(bad());
            }
            Ok((secs * 1000.0).round() as i64)
        }
    }
}

/// One family of a parsed body: its descriptor lines and its samples.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedFamily<'a> {
    /// Name from `# TYPE`/`# HELP`, or the sample name when there was no descriptor.
    pub name: &'a str,
    /// HELP text, if given.
    pub help: Option<Cow<'a, str>>,
    /// TYPE, if given.
    pub ty: Option<ParsedType>,
    /// The samples, in order.
    pub samples: Vec<Sample<'a>>,
}

/// Parses a whole body into families (consecutive samples with the descriptor before them).
/// Convenience for tests and small bodies; the check's scrape mode uses [`Parser`] directly.
///
/// # Errors
/// The first malformed line.
pub fn parse_families(text: &str, syntax: Syntax) -> Result<Vec<ParsedFamily<'_>>, ParseError> {
    let mut out: Vec<ParsedFamily<'_>> = Vec::new();
    for ev in Parser::new(text, syntax) {
        match ev? {
            Event::Help { name, help } => match out.last_mut() {
                Some(f) if f.name == name && f.help.is_none() => f.help = Some(help),
                _ => out.push(ParsedFamily {
                    name,
                    help: Some(help),
                    ty: None,
                    samples: Vec::new(),
                }),
            },
            Event::Type { name, ty } => match out.last_mut() {
                Some(f) if f.name == name && f.ty.is_none() => f.ty = Some(ty),
                _ => out.push(ParsedFamily {
                    name,
                    help: None,
                    ty: Some(ty),
                    samples: Vec::new(),
                }),
            },
            Event::Unit { .. } | Event::Eof => {}
            Event::Sample(s) => match out.last_mut() {
                Some(f) if belongs(f.name, s.name) => f.samples.push(s),
                _ => out.push(ParsedFamily {
                    name: s.name,
                    help: None,
                    ty: None,
                    samples: vec![s],
                }),
            },
        }
    }
    Ok(out)
}

/// Whether a sample named `sample` belongs to family `family` (same name, or the family name
/// plus one of the suffixes histograms, summaries and counters add).
pub fn belongs(family: &str, sample: &str) -> bool {
    match sample.strip_prefix(family) {
        Some("") => true,
        Some(suffix) => matches!(
            suffix,
            "_total" | "_created" | "_bucket" | "_count" | "_sum" | "_gcount" | "_gsum" | "_info"
        ),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{write_float, FamilyDesc, Format, MetricType, ObjectMetrics, Stability};
    use proptest::prelude::*;

    /// A parsed sample as owned parts: name, labels, value.
    type Owned = (String, Vec<(String, String)>, f64);

    fn samples(text: &str, syntax: Syntax) -> Vec<Owned> {
        Parser::new(text, syntax)
            .filter_map(|e| match e.expect("parses") {
                Event::Sample(s) => Some((
                    s.name.to_string(),
                    s.labels()
                        .map(|(k, v)| (k.to_string(), v.into_owned()))
                        .collect(),
                    s.value,
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn reads_names_labels_values_and_timestamps() {
        let text = "# HELP a Some \\\\ help\\n.\n# TYPE a counter\na_total{x=\"1\",y=\"q\\\"\\\\\\n\"} 3.5 1700\nb 1e+09\nc{} -Inf\n# random comment\n\nd { k = \"v\" , } NaN\n";
        let evs: Vec<_> = Parser::new(text, Syntax::Text)
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(
            evs[0],
            Event::Help {
                name: "a",
                help: Cow::Owned("Some \\ help\n.".into())
            }
        );
        assert_eq!(
            evs[1],
            Event::Type {
                name: "a",
                ty: ParsedType::Counter
            }
        );
        let Event::Sample(s) = &evs[2] else {
            panic!("sample expected")
        };
        assert_eq!(s.timestamp_ms, Some(1700));
        let l: Vec<_> = s.labels().collect();
        assert_eq!(l[1], ("y", Cow::Owned("q\"\\\n".to_string())));
        assert!(matches!(l[0].1, Cow::Borrowed("1")));
        let all = samples(text, Syntax::Text);
        assert_eq!(all[1], ("b".into(), vec![], 1e9));
        assert_eq!(all[2].2, f64::NEG_INFINITY);
        assert_eq!(all[3].1, vec![("k".to_string(), "v".to_string())]);
        assert!(all[3].2.is_nan());
    }

    #[test]
    fn openmetrics_needs_eof_and_takes_seconds_and_exemplars() {
        let ok =
            "# TYPE a counter\n# UNIT a seconds\na_total 1 1.5 # {trace_id=\"x\"} 2 1.2\n# EOF\n";
        let evs: Vec<_> = Parser::new(ok, Syntax::OpenMetrics)
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(matches!(&evs[2], Event::Sample(s) if s.timestamp_ms == Some(1500)));
        assert_eq!(evs.last(), Some(&Event::Eof));
        let missing: Result<Vec<_>, _> = Parser::new("a 1\n", Syntax::OpenMetrics).collect();
        assert_eq!(missing.unwrap_err().kind, ParseErrorKind::MissingEof);
        let after: Result<Vec<_>, _> = Parser::new("# EOF\na 1\n", Syntax::OpenMetrics).collect();
        assert_eq!(
            after.unwrap_err(),
            ParseError {
                line: 2,
                kind: ParseErrorKind::AfterEof
            }
        );
        assert_eq!(
            Syntax::from_content_type("application/openmetrics-text; version=1.0.0"),
            Syntax::OpenMetrics
        );
        assert_eq!(
            Syntax::from_content_type("text/plain; version=0.0.4"),
            Syntax::Text
        );
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let cases = [
            ("a{x=\"1} 1\n", ParseErrorKind::UnterminatedValue),
            ("a{x=\"1\" 1\n", ParseErrorKind::Expected('}')),
            ("a{x=\"\\t\"} 1\n", ParseErrorKind::InvalidEscape),
            ("a{x 1\n", ParseErrorKind::Expected('}')),
            ("a{x} 1\n", ParseErrorKind::Expected('=')),
            ("a{1=\"\"} 1\n", ParseErrorKind::ExpectedName),
            ("a one\n", ParseErrorKind::InvalidValue("one".into())),
            ("a 1 x\n", ParseErrorKind::InvalidTimestamp("x".into())),
            ("a 1 2 3\n", ParseErrorKind::TrailingText),
            (
                "# TYPE a thing\n",
                ParseErrorKind::UnknownType("thing".into()),
            ),
            ("9a 1\n", ParseErrorKind::ExpectedName),
        ];
        for (text, kind) in cases {
            let body = format!("ok 1\n{text}");
            let err = Parser::new(&body, Syntax::Text)
                .find_map(Result::err)
                .unwrap_or_else(|| panic!("{text:?} should fail"));
            assert_eq!(err, ParseError { line: 2, kind }, "{text:?}");
            assert!(err.to_string().starts_with("line 2: "));
        }
    }

    #[test]
    fn families_group_suffixed_samples() {
        let f = parse_families(
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 2\nh_count 1\nx 1\n",
            Syntax::Text,
        )
        .unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].samples.len(), 3);
        assert_eq!(f[1].name, "x");
    }

    fn desc(name: &str, help: &str) -> FamilyDesc {
        FamilyDesc {
            name: name.into(),
            help: help.into(),
            ty: MetricType::Gauge,
            stability: Stability::Stable,
            deprecated_since: None,
        }
    }

    type Fam = (String, String, Vec<(Vec<(String, String)>, f64)>);

    fn fam_strategy() -> impl Strategy<Value = Fam> {
        let label = ("[a-z_][a-z0-9_]{0,8}", "\\PC{0,12}|[\"\\\\\n\r\t ]{0,4}");
        let sample = (prop::collection::vec(label, 0..4), any::<f64>());
        (
            "[a-zA-Z_:][a-zA-Z0-9_:]{0,16}",
            "\\PC{0,20}|[\\\\\n]{0,3}",
            prop::collection::vec(sample, 0..5),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Whatever the writer writes, the parser reads back: names, unescaped label values,
        /// values (bit for bit, except that -0 is written as 0 and NaN is any NaN) and HELP.
        #[test]
        fn write_then_parse_round_trips(fams in prop::collection::vec(fam_strategy(), 1..4),
                                        om in any::<bool>()) {
            let format = if om { Format::OPENMETRICS_1 } else { Format::Text };
            let syntax = if om { Syntax::OpenMetrics } else { Syntax::Text };
            let fams: Vec<Fam> = fams
                .into_iter()
                .enumerate()
                .map(|(i, (n, h, s))| (format!("{n}_f{i}"), h, s))
                .collect();
            let mut body = Vec::new();
            for (name, help, samples) in &fams {
                desc(name, help).write_header(&mut body, format);
                let mut m = ObjectMetrics::new();
                m.begin_family();
                for (labels, v) in samples {
                    let l: Vec<(&str, &str)> =
                        labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    m.sample(&l, *v);
                }
                m.write_family_text(0, name, &mut body);
            }
            if om {
                body.extend_from_slice(b"# EOF\n");
            }
            let text = String::from_utf8(body).expect("writer emits UTF-8");
            let parsed = parse_families(&text, syntax).expect("round trip parses");
            prop_assert_eq!(parsed.len(), fams.len());
            for (p, (name, help, samples)) in parsed.iter().zip(&fams) {
                prop_assert_eq!(p.name, name.as_str());
                let want_help = if help.is_empty() { "" } else { help.as_str() };
                let got_help = p.help.as_deref().map(|h| h.strip_prefix("[STABLE] ").unwrap_or(h));
                prop_assert_eq!(got_help.unwrap_or("").trim_end(), want_help.trim_end());
                prop_assert_eq!(p.samples.len(), samples.len());
                for (s, (labels, v)) in p.samples.iter().zip(samples) {
                    let got: Vec<(String, String)> =
                        s.labels().map(|(k, v)| (k.to_string(), v.into_owned())).collect();
                    prop_assert_eq!(&got, labels);
                    if v.is_nan() {
                        prop_assert!(s.value.is_nan());
                    } else if *v == 0.0 {
                        prop_assert_eq!(s.value, 0.0);
                    } else {
                        prop_assert_eq!(s.value.to_bits(), v.to_bits());
                    }
                    let mut again = Vec::new();
                    write_float(&mut again, s.value);
                    let mut orig = Vec::new();
                    write_float(&mut orig, *v);
                    prop_assert_eq!(again, orig);
                }
            }
        }
    }
}
