//! Prometheus remote-write 2.0 messages (`io.prometheus.write.v2.Request`,
//! `prompb/io/prometheus/write/v2/types.proto`), the part this sink writes, as hand-written
//! prost structs, and a direct [`Encoder`]: every string of a request (label names and
//! values) is written once into its symbol table and series refer to it by index. Tests
//! decode what the encoder writes with the structs and compare it with prost's encoding.

use std::collections::HashMap;

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};

/// `io.prometheus.write.v2.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Request {
    /// Every string the series refer to; the first is always empty.
    #[prost(string, repeated, tag = "4")]
    pub symbols: Vec<String>,
    /// The series.
    #[prost(message, repeated, tag = "5")]
    pub timeseries: Vec<TimeSeries>,
}

/// `io.prometheus.write.v2.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Label name and value pairs as symbol indexes, sorted by name, `__name__` included.
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// Samples.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// The metric's type.
    #[prost(message, optional, tag = "5")]
    pub metadata: Option<Metadata>,
}

/// `io.prometheus.write.v2.Sample`: fields 1 and 2 are 1.0's (its `start_timestamp`, 3, is
/// not written).
pub use super::proto::Sample;

/// `io.prometheus.write.v2.Metadata`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Metadata {
    /// `MetricType`: 1 counter, 2 gauge.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
}

/// `METRIC_TYPE_COUNTER`.
pub const COUNTER: i32 = 1;
/// `METRIC_TYPE_GAUGE`.
pub const GAUGE: i32 = 2;

/// Builds one `Request`: a symbol table and the series referring to it.
#[derive(Debug, Default)]
pub struct Encoder {
    symbols: HashMap<String, u32>,
    /// The symbol table, encoded as field 4 entries, `""` first.
    table: Vec<u8>,
    /// The series, encoded as field 5 entries.
    series_buf: Vec<u8>,
    refs: Vec<u32>,
    series: usize,
}

impl Encoder {
    /// An empty request.
    pub fn new() -> Encoder {
        let mut e = Encoder::default();
        e.reset();
        e
    }

    fn reset(&mut self) {
        self.symbols.clear();
        self.table.clear();
        self.series_buf.clear();
        self.series = 0;
        self.symbol("");
    }

    fn symbol(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.symbols.get(s) {
            return i;
        }
        let i = self.symbols.len() as u32;
        self.symbols.insert(s.to_string(), i);
        // A repeated string writes every element, empty ones included.
        encode_key(4, WireType::LengthDelimited, &mut self.table);
        encode_varint(s.len() as u64, &mut self.table);
        self.table.extend_from_slice(s.as_bytes());
        i
    }

    /// Series in the request so far.
    pub fn series(&self) -> usize {
        self.series
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.series == 0
    }

    /// Adds one series with one sample, typed counter or gauge. `labels` must be sorted by
    /// name, `__name__` included, without duplicates; labels with an empty value are left
    /// out.
    pub fn push<'a, I>(&mut self, labels: I, counter: bool, value: f64, timestamp_ms: i64)
    where
        I: Iterator<Item = (&'a str, &'a str)>,
    {
        let mut refs = std::mem::take(&mut self.refs);
        refs.clear();
        for (n, v) in labels.filter(|l| !l.1.is_empty()) {
            refs.push(self.symbol(n));
            refs.push(self.symbol(v));
        }
        let packed: usize = refs.iter().map(|r| encoded_len_varint(u64::from(*r))).sum();
        let sample_len = if value != 0.0 { 9 } else { 0 }
            + if timestamp_ms != 0 {
                1 + encoded_len_varint(timestamp_ms as u64)
            } else {
                0
            };
        let mut ts_len = 1 + encoded_len_varint(sample_len as u64) + sample_len + 4;
        if !refs.is_empty() {
            ts_len += 1 + encoded_len_varint(packed as u64) + packed;
        }
        let buf = &mut self.series_buf;
        encode_key(5, WireType::LengthDelimited, buf);
        encode_varint(ts_len as u64, buf);
        if !refs.is_empty() {
            encode_key(1, WireType::LengthDelimited, buf);
            encode_varint(packed as u64, buf);
            for r in &refs {
                encode_varint(u64::from(*r), buf);
            }
        }
        encode_key(2, WireType::LengthDelimited, buf);
        encode_varint(sample_len as u64, buf);
        if value != 0.0 {
            encode_key(1, WireType::SixtyFourBit, buf);
            buf.extend_from_slice(&value.to_le_bytes());
        }
        if timestamp_ms != 0 {
            encode_key(2, WireType::Varint, buf);
            encode_varint(timestamp_ms as u64, buf);
        }
        // Metadata { type }: always written (2 bytes of body).
        encode_key(5, WireType::LengthDelimited, buf);
        encode_varint(2, buf);
        encode_key(1, WireType::Varint, buf);
        encode_varint(if counter { COUNTER } else { GAUGE } as u64, buf);
        self.refs = refs;
        self.series += 1;
    }

    /// The serialised request, leaving the encoder empty.
    pub fn take(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.table.len() + self.series_buf.len());
        out.extend_from_slice(&self.table);
        out.extend_from_slice(&self.series_buf);
        self.reset();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn decodes_what_it_encodes_and_matches_prost_byte_for_byte() {
        let mut e = Encoder::new();
        e.push(
            [("__name__", "up"), ("empty", ""), ("job", "a")].into_iter(),
            false,
            1.0,
            1_700_000_000_000,
        );
        e.push(
            [("__name__", "r_total"), ("job", "a")].into_iter(),
            true,
            0.0,
            0,
        );
        e.push(std::iter::empty(), false, f64::NAN, -5);
        assert_eq!(e.series(), 3);
        let bytes = e.take();
        assert!(e.is_empty());
        let want = Request {
            symbols: ["", "__name__", "up", "job", "a", "r_total"]
                .map(String::from)
                .to_vec(),
            timeseries: vec![
                TimeSeries {
                    labels_refs: vec![1, 2, 3, 4],
                    samples: vec![Sample {
                        value: 1.0,
                        timestamp: 1_700_000_000_000,
                    }],
                    metadata: Some(Metadata { r#type: GAUGE }),
                },
                TimeSeries {
                    labels_refs: vec![1, 5, 3, 4],
                    samples: vec![Sample {
                        value: 0.0,
                        timestamp: 0,
                    }],
                    metadata: Some(Metadata { r#type: COUNTER }),
                },
                TimeSeries {
                    labels_refs: vec![],
                    samples: vec![Sample {
                        value: f64::NAN,
                        timestamp: -5,
                    }],
                    metadata: Some(Metadata { r#type: GAUGE }),
                },
            ],
        };
        let got = Request::decode(&bytes[..]).unwrap();
        assert_eq!(got.symbols, want.symbols);
        assert_eq!(got.timeseries[..2], want.timeseries[..2]);
        assert!(got.timeseries[2].samples[0].value.is_nan());
        // NaN is never equal to itself, so compare the bytes of a NaN-free request.
        let mut e = Encoder::new();
        e.push(
            [("__name__", "up"), ("job", "a")].into_iter(),
            false,
            2.5,
            7,
        );
        let mut want = Request {
            symbols: ["", "__name__", "up", "job", "a"]
                .map(String::from)
                .to_vec(),
            timeseries: vec![want.timeseries[0].clone()],
        };
        want.timeseries[0].samples[0] = Sample {
            value: 2.5,
            timestamp: 7,
        };
        assert_eq!(e.take(), want.encode_to_vec(), "same bytes as prost");
        // The encoder starts a fresh symbol table for every request.
        e.push([("__name__", "x")].into_iter(), false, 1.0, 1);
        let again = Request::decode(&e.take()[..]).unwrap();
        assert_eq!(again.symbols, ["", "__name__", "x"]);
    }
}
