//! Escaping rules of the exposition formats (ksm-behaviour.md §5.3, §5.4).

/// Appends a label value, escaping only backslash, double quote and newline, as KSM does.
/// Everything else (tabs, carriage returns, NUL, any UTF-8) is written raw.
pub fn write_label_value(out: &mut Vec<u8>, v: &str) {
    let bytes = v.as_bytes();
    let mut start = 0;
    // Most values need no escape: one vectorised search, then one copy.
    while let Some(off) = memchr::memchr3(b'\\', b'"', b'\n', &bytes[start..]) {
        let i = start + off;
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(match bytes[i] {
            b'\\' => b"\\\\",
            b'"' => b"\\\"",
            _ => b"\\n",
        });
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends a HELP text: backslash and newline are escaped, nothing else.
pub fn write_help(out: &mut Vec<u8>, v: &str) {
    for &b in v.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
}

/// Replaces every character outside `[a-zA-Z0-9_]` by `_` (KSM's label-name sanitising).
pub fn sanitize_name(out: &mut String, raw: &str) {
    out.extend(raw.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
}

/// The label name KSM derives from a Kubernetes label or annotation key: sanitise, then insert
/// `_` between a lower-case letter or digit and a following upper-case letter, then lower-case
/// everything (`app.kubernetes.io/name` → `app_kubernetes_io_name`, `myLabel` → `my_label`).
pub fn snake_case_name(out: &mut String, raw: &str) {
    let mut prev: Option<char> = None;
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        };
        if c.is_ascii_uppercase() {
            if let Some(p) = prev {
                if p.is_ascii_lowercase() || p.is_ascii_digit() {
                    out.push('_');
                }
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(v: &str) -> String {
        let mut o = Vec::new();
        write_label_value(&mut o, v);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn label_values_escape_three_characters_only() {
        assert_eq!(lv(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(lv("line1\nline2"), "line1\\nline2");
        assert_eq!(lv("tab\there\r\0 ü\u{2028}"), "tab\there\r\0 ü\u{2028}");
        assert_eq!(lv(""), "");
    }

    #[test]
    fn help_escapes_backslash_and_newline() {
        let mut o = Vec::new();
        write_help(&mut o, "a\\b\n\"c\"");
        assert_eq!(o, b"a\\\\b\\n\"c\"");
    }

    #[test]
    fn snake_case_follows_ksm() {
        let s = |r: &str| {
            let mut o = String::new();
            snake_case_name(&mut o, r);
            o
        };
        assert_eq!(s("app.kubernetes.io/name"), "app_kubernetes_io_name");
        assert_eq!(s("myLabel"), "my_label");
        assert_eq!(s("ABC"), "abc");
        assert_eq!(s("a1B"), "a1_b");
        assert_eq!(s("x-Y"), "x_y");
        assert_eq!(s("aBcD"), "a_bc_d");
        assert_eq!(s("ünïcode"), "_n_code");
    }
}
