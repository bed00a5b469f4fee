//! Prometheus remote-write 1.0 messages (`prometheus/prompb/remote.proto`, `types.proto`),
//! written by hand as prost structs, and a direct encoder that appends the same bytes without
//! building the structs (no allocation per label). Tests decode what the encoder writes with
//! the structs and compare it with prost's own encoding.

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Labels, sorted by name, `__name__` included.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Label {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// Value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

fn string_field_len(tag_len: usize, s: &str) -> usize {
    if s.is_empty() {
        0 // proto3: default values are not written
    } else {
        tag_len + encoded_len_varint(s.len() as u64) + s.len()
    }
}

fn put_string(buf: &mut Vec<u8>, tag: u32, s: &str) {
    if !s.is_empty() {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(s.len() as u64, buf);
        buf.extend_from_slice(s.as_bytes());
    }
}

/// Appends `WriteRequest` field 1 entries (one `TimeSeries` per call) to a buffer; the
/// buffer is then a complete, serialised `WriteRequest`.
#[derive(Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
    series: usize,
}

impl Encoder {
    /// An empty request.
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Series in the request so far.
    pub fn series(&self) -> usize {
        self.series
    }

    /// Bytes so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.series == 0
    }

    /// Adds one series with one sample. `labels` must be sorted by name, `__name__` included,
    /// without duplicates; labels with an empty value are not written (Prometheus treats an
    /// empty value as an absent label).
    pub fn push<'a, I>(&mut self, labels: I, value: f64, timestamp_ms: i64)
    where
        I: Iterator<Item = (&'a str, &'a str)> + Clone,
    {
        let label_len = |(n, v): &(&str, &str)| string_field_len(1, n) + string_field_len(1, v);
        let mut ts_len = 0;
        for l in labels.clone().filter(|l| !l.1.is_empty()) {
            let m = label_len(&l);
            ts_len += 1 + encoded_len_varint(m as u64) + m;
        }
        let sample_len = if value != 0.0 { 9 } else { 0 }
            + if timestamp_ms != 0 {
                1 + encoded_len_varint(timestamp_ms as u64)
            } else {
                0
            };
        ts_len += 1 + encoded_len_varint(sample_len as u64) + sample_len;
        let buf = &mut self.buf;
        encode_key(1, WireType::LengthDelimited, buf);
        encode_varint(ts_len as u64, buf);
        for l in labels.filter(|l| !l.1.is_empty()) {
            encode_key(1, WireType::LengthDelimited, buf);
            encode_varint(label_len(&l) as u64, buf);
            put_string(buf, 1, l.0);
            put_string(buf, 2, l.1);
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
        self.series += 1;
    }

    /// The serialised request, leaving the encoder empty (its buffer keeps its capacity).
    pub fn take(&mut self) -> Vec<u8> {
        self.series = 0;
        let out = self.buf.clone();
        self.buf.clear();
        out
    }
}

/// Snappy block compression, as remote-write requires (not the framed format).
pub fn compress(raw: &[u8]) -> Result<Vec<u8>, snap::Error> {
    snap::raw::Encoder::new().compress_vec(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// Labels, value and timestamp of one test series.
    type Case<'a> = (Vec<(&'a str, &'a str)>, f64, i64);

    fn structs(series: &[Case<'_>]) -> WriteRequest {
        WriteRequest {
            timeseries: series
                .iter()
                .map(|(labels, v, t)| TimeSeries {
                    labels: labels
                        .iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(n, v)| Label {
                            name: n.to_string(),
                            value: v.to_string(),
                        })
                        .collect(),
                    samples: vec![Sample {
                        value: *v,
                        timestamp: *t,
                    }],
                })
                .collect(),
        }
    }

    #[test]
    fn decodes_what_it_encodes_and_matches_prost_byte_for_byte() {
        let long = "x".repeat(300);
        let cases: Vec<Case<'_>> = vec![
            (
                vec![("__name__", "up"), ("job", "a")],
                1.0,
                1_700_000_000_000,
            ),
            (
                vec![("__name__", "zero"), ("empty", ""), ("k", &long)],
                0.0,
                0,
            ),
            (vec![("__name__", "neg")], -2.5e-300, -5),
            (vec![("__name__", "nan")], f64::NAN, 1),
            (vec![("__name__", "ü"), ("é", "∞")], f64::INFINITY, i64::MAX),
        ];
        let mut e = Encoder::new();
        for (l, v, t) in &cases {
            e.push(l.iter().copied(), *v, *t);
        }
        assert_eq!(e.series(), cases.len());
        let bytes = e.take();
        assert!(e.is_empty());
        assert_eq!(e.len(), 0);
        let want = structs(&cases);
        assert_eq!(bytes, want.encode_to_vec(), "same bytes as prost");
        let got = WriteRequest::decode(&bytes[..]).unwrap();
        assert_eq!(got.timeseries.len(), 5);
        assert_eq!(got.timeseries[1].labels.len(), 2, "empty value left out");
        assert_eq!(got.timeseries[1].labels[1].value.len(), 300);
        assert_eq!(got.timeseries[2].samples[0].value, -2.5e-300);
        assert!(got.timeseries[3].samples[0].value.is_nan());
        assert_eq!(got.timeseries[4].samples[0].timestamp, i64::MAX);
        // Snappy block format round trip.
        let c = compress(&bytes).unwrap();
        assert_eq!(snap::raw::Decoder::new().decompress_vec(&c).unwrap(), bytes);
    }
}
