//! The query language: a Prometheus-style selector with an optional value filter and an
//! optional aggregation, evaluated over the current state only (no ranges, no functions).
//!
//! ```text
//! query    := agg | vector
//! agg      := OP [grouping] "(" vector ")" [grouping] [cmp]
//! OP       := sum | count | min | max | avg
//! grouping := (by | without) "(" [label {"," label}] ")"
//! vector   := [family] ["{" [matcher {"," matcher}] [","] "}"] [cmp]
//! matcher  := label ("=" | "!=" | "=~" | "!~") "string"
//! cmp      := ("==" | "!=" | ">" | "<" | ">=" | "<=") number
//! ```
//!
//! Regular expressions are anchored at both ends, as in Prometheus. A query must name its
//! family, or match `__name__`.

use std::fmt;

use regex::Regex;

/// Why a query was rejected: what is wrong and the byte offset where it was noticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// Byte offset into the query.
    pub pos: usize,
    /// What is wrong, and how to fix it.
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.pos, self.message)
    }
}

impl std::error::Error for QueryError {}

/// How a label is matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~`
    Re,
    /// `!~`
    NotRe,
}

/// One label matcher. A missing label matches as the empty string, as in Prometheus.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// Label name (`__name__` matches the family name).
    pub name: String,
    /// The operator.
    pub op: MatchOp,
    /// The value or pattern, unescaped.
    pub value: String,
    re: Option<Regex>,
}

impl Matcher {
    /// Whether a label value (`""` when the series has no such label) is admitted.
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::Ne => v != self.value,
            MatchOp::Re => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRe => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

/// A value comparison that keeps only the series (or groups) it holds for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Filter {
    /// The comparison.
    pub op: CmpOp,
    /// The right-hand number.
    pub value: f64,
}

/// Comparison operators of a [`Filter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `<=`
    Le,
}

impl Filter {
    /// Whether `v` passes.
    pub fn admits(&self, v: f64) -> bool {
        match self.op {
            CmpOp::Eq => v == self.value,
            CmpOp::Ne => v != self.value,
            CmpOp::Gt => v > self.value,
            CmpOp::Lt => v < self.value,
            CmpOp::Ge => v >= self.value,
            CmpOp::Le => v <= self.value,
        }
    }
}

/// Aggregation operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggOp {
    /// Sum of values.
    Sum,
    /// Number of series.
    Count,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Mean value.
    Avg,
}

impl AggOp {
    /// The operator's keyword.
    pub fn name(self) -> &'static str {
        match self {
            AggOp::Sum => "sum",
            AggOp::Count => "count",
            AggOp::Min => "min",
            AggOp::Max => "max",
            AggOp::Avg => "avg",
        }
    }
}

/// Which labels make a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// Only these labels (`by (a, b)`; `by ()` or no clause: one group).
    By(Vec<String>),
    /// Every label but these (and the family name).
    Without(Vec<String>),
}

/// An aggregation over the selected series.
#[derive(Clone, Debug)]
pub struct Aggregation {
    /// The operator.
    pub op: AggOp,
    /// The grouping.
    pub grouping: Grouping,
    /// Filter applied to the groups' results.
    pub filter: Option<Filter>,
}

/// Which series a query reads.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    /// The family named before the braces, if any.
    pub family: Option<String>,
    /// Label matchers; `__name__` matchers apply to the family name.
    pub matchers: Vec<Matcher>,
    /// Filter applied to each series' value.
    pub filter: Option<Filter>,
}

impl Selector {
    /// Whether a family called `name` can hold selected series.
    pub fn admits_family(&self, name: &str) -> bool {
        self.family.as_deref().is_none_or(|f| f == name)
            && self
                .matchers
                .iter()
                .filter(|m| m.name == "__name__")
                .all(|m| m.matches(name))
    }

    /// The matchers on labels (not `__name__`).
    pub fn label_matchers(&self) -> impl Iterator<Item = &Matcher> + '_ {
        self.matchers.iter().filter(|m| m.name != "__name__")
    }
}

/// A parsed query.
#[derive(Clone, Debug)]
pub struct Query {
    /// The series read.
    pub selector: Selector,
    /// How they are combined, if at all.
    pub aggregation: Option<Aggregation>,
}

const MAX_QUERY: usize = 4096;

impl Query {
    /// Parses `text`.
    ///
    /// # Errors
    /// The query is malformed, names no family, or holds an invalid regular expression.
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        if text.len() > MAX_QUERY {
            return Err(QueryError {
                pos: MAX_QUERY,
                message: format!("the query is longer than {MAX_QUERY} bytes"),
            });
        }
        let mut p = P { s: text, pos: 0 };
        let q = p.query()?;
        p.ws();
        if p.pos < text.len() {
            return Err(p.err("unexpected text after the query"));
        }
        if q.selector.family.is_none() && !q.selector.matchers.iter().any(|m| m.name == "__name__")
        {
            return Err(QueryError {
                pos: 0,
                message: "name a family, e.g. kube_pod_info{namespace=\"x\"}, or match __name__"
                    .into(),
            });
        }
        Ok(q)
    }
}

struct P<'a> {
    s: &'a str,
    pos: usize,
}

impl P<'_> {
    fn err(&self, m: impl Into<String>) -> QueryError {
        QueryError {
            pos: self.pos,
            message: m.into(),
        }
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn ws(&mut self) {
        let n = self.rest().len() - self.rest().trim_start().len();
        self.pos += n;
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.ws();
        if self.rest().starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &str) -> Result<(), QueryError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.err(format!("expected `{tok}`")))
        }
    }

    fn ident(&mut self) -> Option<&str> {
        self.ws();
        let r = self.rest();
        let n = r
            .char_indices()
            .take_while(|&(i, c)| {
                c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
            })
            .map(|(i, c)| i + c.len_utf8())
            .last()?;
        let start = self.pos;
        self.pos += n;
        Some(&self.s[start..self.pos])
    }

    fn query(&mut self) -> Result<Query, QueryError> {
        self.ws();
        let save = self.pos;
        if let Some(word) = self.ident() {
            let op = match word {
                "sum" => Some(AggOp::Sum),
                "count" => Some(AggOp::Count),
                "min" => Some(AggOp::Min),
                "max" => Some(AggOp::Max),
                "avg" => Some(AggOp::Avg),
                _ => None,
            };
            // `sum` could also be a family name: it is an aggregation only when a grouping
            // clause or a parenthesis follows.
            let after = self.pos;
            self.ws();
            let next = self.rest();
            if let Some(op) = op.filter(|_| {
                next.starts_with('(') || next.starts_with("by") || next.starts_with("without")
            }) {
                let mut grouping = self.grouping()?;
                self.expect("(")?;
                let selector = self.vector()?;
                self.expect(")")?;
                if let Some(g) = self.grouping()? {
                    if grouping.is_some() {
                        return Err(self.err("only one `by`/`without` clause"));
                    }
                    grouping = Some(g);
                }
                let filter = self.filter()?;
                return Ok(Query {
                    selector,
                    aggregation: Some(Aggregation {
                        op,
                        grouping: grouping.unwrap_or(Grouping::By(Vec::new())),
                        filter,
                    }),
                });
            }
            let _ = after;
            self.pos = save;
        }
        Ok(Query {
            selector: self.vector()?,
            aggregation: None,
        })
    }

    fn grouping(&mut self) -> Result<Option<Grouping>, QueryError> {
        self.ws();
        let save = self.pos;
        let kind = match self.ident() {
            Some("by") => true,
            Some("without") => false,
            _ => {
                self.pos = save;
                return Ok(None);
            }
        };
        self.expect("(")?;
        let mut labels = Vec::new();
        loop {
            if self.eat(")") {
                break;
            }
            let Some(l) = self.ident().map(str::to_string) else {
                return Err(self.err("expected a label name"));
            };
            labels.push(l);
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        Ok(Some(if kind {
            Grouping::By(labels)
        } else {
            Grouping::Without(labels)
        }))
    }

    fn vector(&mut self) -> Result<Selector, QueryError> {
        let mut sel = Selector {
            family: self.ident().map(str::to_string),
            ..Selector::default()
        };
        if self.eat("{") {
            loop {
                if self.eat("}") {
                    break;
                }
                sel.matchers.push(self.matcher()?);
                if !self.eat(",") {
                    self.expect("}")?;
                    break;
                }
            }
        } else if sel.family.is_none() {
            return Err(self.err("expected a family name or `{`"));
        }
        sel.filter = self.filter()?;
        Ok(sel)
    }

    fn matcher(&mut self) -> Result<Matcher, QueryError> {
        let Some(name) = self.ident().map(str::to_string) else {
            return Err(self.err("expected a label name"));
        };
        self.ws();
        let op = if self.eat("=~") {
            MatchOp::Re
        } else if self.eat("!~") {
            MatchOp::NotRe
        } else if self.eat("!=") {
            MatchOp::Ne
        } else if self.eat("=") {
            MatchOp::Eq
        } else {
            return Err(self.err("expected `=`, `!=`, `=~` or `!~`"));
        };
        let at = self.pos;
        let value = self.string()?;
        let re = match op {
            MatchOp::Re | MatchOp::NotRe => Some(
                regex::RegexBuilder::new(&format!("^(?:{value})$"))
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| QueryError {
                        pos: at,
                        message: format!("invalid regular expression: {e}"),
                    })?,
            ),
            _ => None,
        };
        Ok(Matcher {
            name,
            op,
            value,
            re,
        })
    }

    fn string(&mut self) -> Result<String, QueryError> {
        self.ws();
        let quote = match self.rest().chars().next() {
            Some(q @ ('"' | '\'' | '`')) => q,
            _ => return Err(self.err("expected a quoted string")),
        };
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                self.pos += i + 1;
                return Ok(out);
            }
            if c == '\\' && quote != '`' {
                match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, o)) => out.push(o),
                    None => break,
                }
            } else {
                out.push(c);
            }
        }
        self.pos = start;
        Err(self.err("unterminated string"))
    }

    fn filter(&mut self) -> Result<Option<Filter>, QueryError> {
        self.ws();
        let op = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            (">=", CmpOp::Ge),
            ("<=", CmpOp::Le),
            (">", CmpOp::Gt),
            ("<", CmpOp::Lt),
        ]
        .into_iter()
        .find(|(t, _)| self.rest().starts_with(t));
        let Some((tok, op)) = op else {
            return Ok(None);
        };
        self.pos += tok.len();
        self.ws();
        let r = self.rest();
        let n = r
            .find(|c: char| c.is_whitespace() || c == ')')
            .unwrap_or(r.len());
        let value = kubestate_metric::parse::parse_value(&r[..n])
            .map_err(|_| self.err(format!("expected a number after `{tok}`")))?;
        self.pos += n;
        Ok(Some(Filter { op, value }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        let q =
            Query::parse(r#"kube_pod_info{namespace="a", pod=~"web-.*",node!="",x!~'y'}"#).unwrap();
        assert!(q.aggregation.is_none());
        let s = &q.selector;
        assert_eq!(s.family.as_deref(), Some("kube_pod_info"));
        let ops: Vec<_> = s.matchers.iter().map(|m| (m.name.as_str(), m.op)).collect();
        assert_eq!(
            ops,
            vec![
                ("namespace", MatchOp::Eq),
                ("pod", MatchOp::Re),
                ("node", MatchOp::Ne),
                ("x", MatchOp::NotRe)
            ]
        );
        assert!(s.matchers[1].matches("web-1") && !s.matchers[1].matches("xweb-1"));
        assert!(s.matchers[3].matches("yy") && !s.matchers[3].matches("y"));
        assert!(Query::parse("kube_node_info").is_ok());
        assert!(Query::parse("kube_node_info{}").is_ok());
        assert!(Query::parse("kube_node_info{a=\"1\",}").is_ok());
        let q = Query::parse(r#"{__name__=~"kube_pod_.*"}"#).unwrap();
        assert!(q.selector.admits_family("kube_pod_info"));
        assert!(!q.selector.admits_family("kube_node_info"));
    }

    #[test]
    fn aggregations_and_filters_parse() {
        let q = Query::parse("sum by (phase) (kube_pod_status_phase == 1)").unwrap();
        let a = q.aggregation.unwrap();
        assert_eq!(a.op, AggOp::Sum);
        assert_eq!(a.grouping, Grouping::By(vec!["phase".into()]));
        assert_eq!(
            q.selector.filter,
            Some(Filter {
                op: CmpOp::Eq,
                value: 1.0
            })
        );
        let q = Query::parse("count(kube_pod_info) by (namespace, node) > 3").unwrap();
        let a = q.aggregation.unwrap();
        assert_eq!(a.op, AggOp::Count);
        assert_eq!(
            a.grouping,
            Grouping::By(vec!["namespace".into(), "node".into()])
        );
        assert_eq!(a.filter.map(|f| f.op), Some(CmpOp::Gt));
        let q = Query::parse("max without (uid) (kube_pod_created)").unwrap();
        assert_eq!(
            q.aggregation.unwrap().grouping,
            Grouping::Without(vec!["uid".into()])
        );
        let q = Query::parse("min(kube_node_info)").unwrap();
        assert_eq!(q.aggregation.unwrap().grouping, Grouping::By(vec![]));
        // `sum` alone is a family name.
        let q = Query::parse("sum{a=\"b\"}").unwrap();
        assert!(q.aggregation.is_none());
        assert_eq!(q.selector.family.as_deref(), Some("sum"));
        assert!(Query::parse("x >= -Inf").is_ok());
    }

    #[test]
    fn errors_say_where_and_what() {
        for (q, pos, what) in [
            ("", 0, "family name"),
            ("{namespace=\"a\"}", 0, "name a family"),
            ("kube_pod_info{namespace=\"a}", 24, "unterminated"),
            ("kube_pod_info{namespace~\"a\"}", 23, "expected `=`"),
            ("kube_pod_info{pod=~\"(\"}", 19, "regular expression"),
            ("sum by (phase kube_pod_info", 14, "expected `)`"),
            ("kube_pod_info extra", 14, "unexpected text"),
            ("kube_pod_info > x", 16, "expected a number"),
            ("sum by (a) (x) by (b)", 21, "only one"),
        ] {
            let e = Query::parse(q).unwrap_err();
            assert!(e.message.contains(what), "{q}: {e}");
            assert_eq!(e.pos, pos, "{q}: {e}");
        }
        assert!(Query::parse(&"a".repeat(5000)).is_err());
    }
}
