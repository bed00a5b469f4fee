//! `http_request_duration_seconds{handler="metrics",method}`: how long `/metrics` took.

use std::collections::BTreeMap;
use std::time::Duration;

use parking_lot::Mutex;

use kubestate_metric::{write_header as header, write_sample as sample};

/// Go client's default buckets, as KSM uses them.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default, Clone)]
struct Series {
    counts: [u64; 11],
    count: u64,
    sum: f64,
}

/// Request durations of the main `/metrics` handler, per lower-case method.
#[derive(Default)]
pub struct Histogram {
    series: Mutex<BTreeMap<String, Series>>,
}

impl Histogram {
    /// Records one request.
    pub fn observe(&self, method: &str, d: Duration) {
        let v = d.as_secs_f64();
        let mut m = self.series.lock();
        let s = m.entry(method.to_ascii_lowercase()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if v <= *b {
                s.counts[i] += 1;
            }
        }
        s.count += 1;
        s.sum += v;
    }

    /// Appends the histogram in text format.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        let name = "http_request_duration_seconds";
        header(
            out,
            name,
            "Time spent answering /metrics requests, in seconds.",
            "histogram",
        );
        for (method, s) in self.series.lock().iter() {
            let bucket = format!("{name}_bucket");
            for (i, b) in BUCKETS.iter().enumerate() {
                let le = kubestate_metric::format_float(*b);
                sample(
                    out,
                    &bucket,
                    &[("handler", "metrics"), ("method", method), ("le", &le)],
                    s.counts[i] as f64,
                );
            }
            sample(
                out,
                &bucket,
                &[("handler", "metrics"), ("method", method), ("le", "+Inf")],
                s.count as f64,
            );
            sample(
                out,
                &format!("{name}_sum"),
                &[("handler", "metrics"), ("method", method)],
                s.sum,
            );
            sample(
                out,
                &format!("{name}_count"),
                &[("handler", "metrics"), ("method", method)],
                s.count as f64,
            );
        }
    }
}
