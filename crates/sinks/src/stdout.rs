//! The `stdout` sink: one JSON object per series and line, for piping into other tools.
//!
//! `{"name":"kubernetes_state.pod.count","timestamp":1700000000000,"value":3,"labels":{"kube_namespace":"shop"}}`
//!
//! A key with several values (several join sources) gets an array: `"env":["prod","blue"]`.
//! Values that JSON cannot hold (`NaN`, `±Inf`) are written as strings.

use std::io::{BufWriter, Write};

use kubestate_check::{OutSeries, RunStats};
use serde::Deserialize;

use crate::{Sent, Sink, SinkError};

/// Settings of the `stdout` sink (none yet; unknown keys are rejected).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StdoutConfig {}

/// Writes JSON lines.
pub struct Stdout {
    out: BufWriter<Box<dyn Write + Send>>,
    lines: u64,
    error: Option<std::io::Error>,
    order: Vec<usize>,
    line: Vec<u8>,
}

impl Stdout {
    /// Writes to the process's standard output.
    pub fn new(_config: &StdoutConfig) -> Stdout {
        Stdout::to_writer(Box::new(std::io::stdout()))
    }

    /// Writes to any writer (tests, examples).
    pub fn to_writer(w: Box<dyn Write + Send>) -> Stdout {
        Stdout {
            out: BufWriter::with_capacity(256 * 1024, w),
            lines: 0,
            error: None,
            order: Vec::new(),
            line: Vec::with_capacity(512),
        }
    }

    /// Lines written so far in this run.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Formats one series as a JSON line into `out` (without the newline).
    pub fn format(s: &OutSeries<'_>, order: &mut Vec<usize>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"name\":");
        json_str(out, s.name);
        out.extend_from_slice(b",\"timestamp\":");
        out.extend_from_slice(itoa::Buffer::new().format(s.timestamp_ms).as_bytes());
        out.extend_from_slice(b",\"value\":");
        if s.value.is_finite() {
            kubestate_metric::write_float(out, s.value);
        } else {
            out.push(b'"');
            kubestate_metric::write_float(out, s.value);
            out.push(b'"');
        }
        out.extend_from_slice(b",\"labels\":{");
        // Group the values of each key, keys in first-seen order.
        order.clear();
        order.extend(0..s.labels.len());
        let first = |k: &str| s.labels.iter().position(|(x, _)| *x == k).unwrap_or(0);
        order.sort_by_key(|&i| first(s.labels[i].0));
        let mut i = 0;
        let mut first_key = true;
        while i < order.len() {
            let key = s.labels[order[i]].0;
            let mut j = i;
            while j < order.len() && s.labels[order[j]].0 == key {
                j += 1;
            }
            if !first_key {
                out.push(b',');
            }
            first_key = false;
            json_str(out, key);
            out.push(b':');
            if j - i == 1 {
                json_str(out, s.labels[order[i]].1);
            } else {
                out.push(b'[');
                for (n, &at) in order[i..j].iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    json_str(out, s.labels[at].1);
                }
                out.push(b']');
            }
            i = j;
        }
        out.extend_from_slice(b"}}");
    }
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping, written straight into the line buffer.
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

impl Sink for Stdout {
    fn name(&self) -> &'static str {
        "stdout"
    }

    fn begin(&mut self, _timestamp_ms: i64) {
        self.lines = 0;
    }

    fn series(&mut self, s: &OutSeries<'_>) {
        if self.error.is_some() {
            return;
        }
        self.line.clear();
        Stdout::format(s, &mut self.order, &mut self.line);
        self.line.push(b'\n');
        match self.out.write_all(&self.line) {
            Ok(()) => self.lines += 1,
            Err(e) => self.error = Some(e),
        }
    }

    fn finish(&mut self, _stats: &RunStats) -> Result<Sent, SinkError> {
        let flushed = self.out.flush();
        if let Some(source) = self.error.take().or(flushed.err()) {
            return Err(SinkError::Io {
                path: "<stdout>".into(),
                source,
            });
        }
        Ok(Sent {
            series: self.lines,
            dropped: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_json_object_per_line_with_multi_valued_keys() {
        let mut order = Vec::new();
        let mut out = Vec::new();
        Stdout::format(
            &OutSeries {
                name: "a.b",
                labels: &[("ns", "x\"y"), ("env", "prod"), ("ns", "z")],
                value: f64::NAN,
                timestamp_ms: 5,
            },
            &mut order,
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            r#"{"name":"a.b","timestamp":5,"value":"NaN","labels":{"ns":["x\"y","z"],"env":"prod"}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["labels"]["ns"][1], "z");
    }
}
