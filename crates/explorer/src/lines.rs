//! Reading labels and values straight out of the text store's rendered bytes.
//!
//! A stored line is `name` + identity prefix + rest, e.g. `{namespace="a",pod="p"` and
//! `,phase="Running"} 1\n`. Both parts are well-formed exposition text written by the
//! engine, so the scanner here is small: it walks `name="value"` pairs and the final value.

use std::borrow::Cow;

use kubestate_metric::parse::parse_value;

/// A label value as rendered (escapes not resolved).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raw<'a>(pub &'a str);

impl<'a> Raw<'a> {
    /// The value with `\\`, `\"` and `\n` resolved.
    pub fn unescape(self) -> Cow<'a, str> {
        if !self.0.contains('\\') {
            return Cow::Borrowed(self.0);
        }
        Cow::Owned(kubestate_metric::parse::unescape(self.0))
    }

    /// Whether the value equals `s` once unescaped.
    pub fn is(self, s: &str) -> bool {
        if self.0.len() == s.len() && !self.0.contains('\\') {
            return self.0 == s;
        }
        self.unescape() == s
    }
}

/// The `name="value"` pairs of rendered label text (an identity prefix or a rest), in order.
#[derive(Clone, Debug)]
pub struct Labels<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Labels<'a> {
    /// Labels of `bytes`; iteration stops at the closing brace or the value.
    pub fn new(bytes: &'a [u8]) -> Labels<'a> {
        Labels { b: bytes, pos: 0 }
    }
}

impl<'a> Iterator for Labels<'a> {
    type Item = (&'a str, Raw<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        while let Some(&c) = b.get(self.pos) {
            if c == b'{' || c == b',' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let start = self.pos;
        let eq = start + b.get(start..)?.iter().position(|&c| c == b'=')?;
        // A name never holds `}` or a space: those end the labels.
        if b[start..eq].iter().any(|&c| c == b'}' || c == b' ') || b.get(eq + 1) != Some(&b'"') {
            self.pos = b.len();
            return None;
        }
        let vstart = eq + 2;
        let mut i = vstart;
        while let Some(&c) = b.get(i) {
            match c {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        let vend = i.min(b.len());
        self.pos = vend + 1;
        let name = std::str::from_utf8(&b[start..eq]).ok()?;
        let value = std::str::from_utf8(&b[vstart..vend]).ok()?;
        Some((name, Raw(value)))
    }
}

/// The value at the end of a rest (`… 1\n`); `None` if the rest is malformed.
pub fn value(rest: &[u8]) -> Option<f64> {
    let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
    let at = rest.iter().rposition(|&c| c == b' ')?;
    let tok = std::str::from_utf8(&rest[at + 1..]).ok()?;
    parse_value(tok).ok()
}

/// The value of label `name` among `own` labels first, then `identity` labels.
pub fn get<'a>(own: &'a [u8], identity: &'a [u8], name: &str) -> Option<Raw<'a>> {
    Labels::new(own)
        .chain(Labels::new(identity))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_values_and_escapes() {
        let ident = br#"{namespace="a",pod="p\"q\\r\ns",uid="u"#;
        let got: Vec<_> = Labels::new(ident)
            .map(|(k, v)| (k, v.unescape().into_owned()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("namespace", "a".to_string()),
                ("pod", "p\"q\\r\ns".to_string()),
                ("uid", "u".to_string())
            ]
        );
        let rest = b",phase=\"Running\"} 1\n";
        assert_eq!(Labels::new(rest).count(), 1);
        assert_eq!(value(rest), Some(1.0));
        assert_eq!(Labels::new(b"} 2.5e+06\n").count(), 0);
        assert_eq!(value(b"} 2.5e+06\n"), Some(2.5e6));
        assert_eq!(value(b"{c=\"x y\"} +Inf\n"), Some(f64::INFINITY));
        assert_eq!(Labels::new(b"{c=\"x y\"} +Inf\n").count(), 1);
        assert_eq!(value(b" 7\n"), Some(7.0));
        assert_eq!(value(b"garbage"), None);
        assert!(get(rest, ident, "pod").is_some_and(|v| v.is("p\"q\\r\ns")));
        assert!(get(rest, ident, "phase").is_some_and(|v| v.is("Running")));
        assert!(get(rest, ident, "node").is_none());
    }
}
