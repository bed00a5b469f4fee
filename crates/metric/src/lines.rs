//! Exposition lines written by hand: the few self-metrics (telemetry, build info, outputs'
//! counters) that do not come from a family table. Every crate writes them through these two
//! functions, so escaping and float layout are the same everywhere.

use crate::{write_float, write_help, write_label_value};

/// Appends the `# HELP` and `# TYPE` lines of `name` (Prometheus text 0.0.4); `ty` is the type
/// word (`gauge`, `counter`, `histogram`, …).
pub fn write_header(out: &mut Vec<u8>, name: &str, help: &str, ty: &str) {
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    write_help(out, help);
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(ty.as_bytes());
    out.push(b'\n');
}

/// Appends one sample line: `name{k="v",…} value` (no braces without labels), label values
/// escaped and the value in Go's float layout.
pub fn write_sample(out: &mut Vec<u8>, name: &str, labels: &[(&str, &str)], value: f64) {
    out.extend_from_slice(name.as_bytes());
    if !labels.is_empty() {
        out.push(b'{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b"=\"");
            write_label_value(out, v);
            out.push(b'"');
        }
        out.push(b'}');
    }
    out.push(b' ');
    write_float(out, value);
    out.push(b'\n');
}

/// [`write_header`] followed by one [`write_sample`]: a family of a single series.
pub fn write_single(
    out: &mut Vec<u8>,
    name: &str,
    help: &str,
    ty: &str,
    labels: &[(&str, &str)],
    value: f64,
) {
    write_header(out, name, help, ty);
    write_sample(out, name, labels, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_samples() {
        let mut out = Vec::new();
        write_header(&mut out, "x_total", "Things\\counted\nhere.", "counter");
        write_sample(&mut out, "x_total", &[], 3.0);
        write_sample(&mut out, "x_total", &[("a", "q\"\\\n"), ("b", "")], 1e-5);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# HELP x_total Things\\\\counted\\nhere.\n# TYPE x_total counter\nx_total 3\n\
             x_total{a=\"q\\\"\\\\\\n\",b=\"\"} 1e-05\n"
        );
        let mut one = Vec::new();
        write_single(&mut one, "g", "G.", "gauge", &[("k", "v")], 0.5);
        assert_eq!(one, b"# HELP g G.\n# TYPE g gauge\ng{k=\"v\"} 0.5\n");
    }
}
