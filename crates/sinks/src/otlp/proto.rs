//! OTLP metrics messages (`opentelemetry/proto/collector/metrics/v1/metrics_service.proto`,
//! `metrics/v1/metrics.proto`, `common/v1/common.proto`, `resource/v1/resource.proto`),
//! the part this sink writes, as hand-written prost structs with the published field
//! numbers, and a direct [`Encoder`] that appends the same bytes without building the structs.
//! Tests decode what the encoder writes with the structs and compare it with prost's own
//! encoding.

use std::collections::HashMap;

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
use prost::Message as _;

/// `ExportMetricsServiceRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsServiceRequest {
    /// One entry per resource.
    #[prost(message, repeated, tag = "1")]
    pub resource_metrics: Vec<ResourceMetrics>,
}

/// `ExportMetricsServiceResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsServiceResponse {
    /// Set when the receiver refused part of the request.
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportMetricsPartialSuccess>,
}

/// `ExportMetricsPartialSuccess`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsPartialSuccess {
    /// Data points the receiver refused.
    #[prost(int64, tag = "1")]
    pub rejected_data_points: i64,
    /// Why.
    #[prost(string, tag = "2")]
    pub error_message: String,
}

/// `ResourceMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceMetrics {
    /// The resource.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// Metrics by instrumentation scope.
    #[prost(message, repeated, tag = "2")]
    pub scope_metrics: Vec<ScopeMetrics>,
}

/// `Resource`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Resource {
    /// Attributes (`service.name`, `k8s.cluster.name`, …).
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

/// `ScopeMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeMetrics {
    /// Who produced the metrics.
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    /// The metrics.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
}

/// `InstrumentationScope`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InstrumentationScope {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Version.
    #[prost(string, tag = "2")]
    pub version: String,
}

/// `Metric`, with the two kinds of data this sink writes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Gauge or Sum.
    #[prost(oneof = "Data", tags = "5, 7")]
    pub data: Option<Data>,
}

/// `Metric.data`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Data {
    /// `Gauge`.
    #[prost(message, tag = "5")]
    Gauge(Gauge),
    /// `Sum`.
    #[prost(message, tag = "7")]
    Sum(Sum),
}

/// `Gauge`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Gauge {
    /// Points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
}

/// `Sum`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sum {
    /// Points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
    /// `AggregationTemporality`: 1 delta, 2 cumulative.
    #[prost(int32, tag = "2")]
    pub aggregation_temporality: i32,
    /// Whether the sum only grows.
    #[prost(bool, tag = "3")]
    pub is_monotonic: bool,
}

/// `AGGREGATION_TEMPORALITY_CUMULATIVE`.
pub const CUMULATIVE: i32 = 2;

/// `NumberDataPoint`, with a double value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NumberDataPoint {
    /// Start of the cumulative interval (Sums), nanoseconds since the Unix epoch.
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    /// Time of the point, nanoseconds since the Unix epoch.
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// The value (`as_double`).
    #[prost(oneof = "Value", tags = "4")]
    pub value: Option<Value>,
    /// Attributes (the series' labels).
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
}

/// `NumberDataPoint.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Value {
    /// `as_double`.
    #[prost(double, tag = "4")]
    AsDouble(f64),
}

/// `KeyValue` with a string value.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct KeyValue {
    /// Key.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Value.
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

/// `AnyValue`, the string case.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct AnyValue {
    /// `string_value`.
    #[prost(oneof = "AnyValueKind", tags = "1")]
    pub value: Option<AnyValueKind>,
}

/// `AnyValue.value`.
#[derive(Clone, PartialEq, Eq, prost::Oneof)]
pub enum AnyValueKind {
    /// `string_value`.
    #[prost(string, tag = "1")]
    StringValue(String),
}

/// Data points an OTLP/HTTP answer says were refused, and why: `(0, "")` for an empty or
/// undecodable body (a plain success).
pub fn partial_success(body: &[u8]) -> (u64, String) {
    match ExportMetricsServiceResponse::decode(body) {
        Ok(ExportMetricsServiceResponse {
            partial_success: Some(p),
        }) => (
            p.rejected_data_points.max(0) as u64,
            format!("partial success: {}", p.error_message),
        ),
        _ => (0, String::new()),
    }
}

fn len_field(n: usize) -> usize {
    1 + encoded_len_varint(n as u64) + n
}

fn put_len(buf: &mut Vec<u8>, tag: u32, n: usize) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(n as u64, buf);
}

fn put_str(buf: &mut Vec<u8>, tag: u32, s: &str) {
    if !s.is_empty() {
        put_len(buf, tag, s.len());
        buf.extend_from_slice(s.as_bytes());
    }
}

fn str_len(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        len_field(s.len())
    }
}

/// Length of a `KeyValue` with a string value.
fn kv_len(k: &str, v: &str) -> usize {
    str_len(k) + len_field(len_field(v.len()))
}

/// Appends a `KeyValue` as field `tag` of the enclosing message.
fn put_kv(buf: &mut Vec<u8>, tag: u32, k: &str, v: &str) {
    put_len(buf, tag, kv_len(k, v));
    put_str(buf, 1, k);
    // AnyValue, always present; its string case is written even when empty (a oneof).
    put_len(buf, 2, len_field(v.len()));
    put_len(buf, 1, v.len());
    buf.extend_from_slice(v.as_bytes());
}

/// One metric of the request being built: its name, kind and encoded data points.
#[derive(Debug, Default)]
struct MetricBuf {
    name: String,
    sum: bool,
    points: Vec<u8>,
}

/// Builds one `ExportMetricsServiceRequest` (one resource, one scope), grouping data points
/// by metric name as they come.
#[derive(Debug)]
pub struct Encoder {
    /// The encoded `Resource` message.
    resource: Vec<u8>,
    /// The encoded `InstrumentationScope` message.
    scope: Vec<u8>,
    /// Metrics of the request; only the first `used` are live (the rest keep their buffers).
    metrics: Vec<MetricBuf>,
    used: usize,
    index: HashMap<String, usize>,
    points: usize,
}

impl Encoder {
    /// An empty request for a resource with `attributes`, from scope `scope` (name, version).
    pub fn new<'a>(
        attributes: impl Iterator<Item = (&'a str, &'a str)>,
        scope: (&str, &str),
    ) -> Encoder {
        let mut resource = Vec::new();
        for (k, v) in attributes {
            put_kv(&mut resource, 1, k, v);
        }
        let mut s = Vec::new();
        put_str(&mut s, 1, scope.0);
        put_str(&mut s, 2, scope.1);
        Encoder {
            resource,
            scope: s,
            metrics: Vec::new(),
            used: 0,
            index: HashMap::new(),
            points: 0,
        }
    }

    /// Data points so far.
    pub fn points(&self) -> usize {
        self.points
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    /// Adds one data point to metric `name`; `is_sum` decides, the first time `name` is seen
    /// in this request, whether it is a cumulative monotonic Sum (starting at `start_ns`) or
    /// a Gauge. `attributes` are written as given (empty values too).
    pub fn push<'a, I>(
        &mut self,
        name: &str,
        is_sum: impl FnOnce(&str) -> bool,
        attributes: I,
        value: f64,
        time_ns: u64,
        start_ns: u64,
    ) where
        I: Iterator<Item = (&'a str, &'a str)> + Clone,
    {
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                if self.used == self.metrics.len() {
                    self.metrics.push(MetricBuf::default());
                }
                let m = &mut self.metrics[self.used];
                m.name.clear();
                m.name.push_str(name);
                m.sum = is_sum(name);
                m.points.clear();
                self.index.insert(name.to_string(), self.used);
                self.used += 1;
                self.used - 1
            }
        };
        let m = &mut self.metrics[i];
        let start = if m.sum { start_ns.min(time_ns) } else { 0 };
        let mut len = 9; // as_double, a oneof: always written
        if start != 0 {
            len += 9;
        }
        if time_ns != 0 {
            len += 9;
        }
        for (k, v) in attributes.clone() {
            len += len_field(kv_len(k, v));
        }
        let buf = &mut m.points;
        put_len(buf, 1, len);
        if start != 0 {
            encode_key(2, WireType::SixtyFourBit, buf);
            buf.extend_from_slice(&start.to_le_bytes());
        }
        if time_ns != 0 {
            encode_key(3, WireType::SixtyFourBit, buf);
            buf.extend_from_slice(&time_ns.to_le_bytes());
        }
        encode_key(4, WireType::SixtyFourBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
        for (k, v) in attributes {
            put_kv(buf, 7, k, v);
        }
        self.points += 1;
    }

    /// The serialised request, leaving the encoder empty (buffers keep their capacity).
    pub fn take(&mut self) -> Vec<u8> {
        let live = &self.metrics[..self.used];
        // `Gauge`/`Sum` bodies: the points, plus temporality (2) and is_monotonic (3).
        let data_len = |m: &MetricBuf| m.points.len() + if m.sum { 4 } else { 0 };
        let metric_len = |m: &MetricBuf| str_len(&m.name) + len_field(data_len(m));
        let scope_metrics: usize = len_field(self.scope.len())
            + live.iter().map(|m| len_field(metric_len(m))).sum::<usize>();
        let resource_metrics = len_field(self.resource.len()) + len_field(scope_metrics);
        let mut out = Vec::with_capacity(len_field(resource_metrics));
        put_len(&mut out, 1, resource_metrics);
        put_len(&mut out, 1, self.resource.len());
        out.extend_from_slice(&self.resource);
        put_len(&mut out, 2, scope_metrics);
        put_len(&mut out, 1, self.scope.len());
        out.extend_from_slice(&self.scope);
        for m in live {
            put_len(&mut out, 2, metric_len(m));
            put_str(&mut out, 1, &m.name);
            put_len(&mut out, if m.sum { 7 } else { 5 }, data_len(m));
            out.extend_from_slice(&m.points);
            if m.sum {
                encode_key(2, WireType::Varint, &mut out);
                encode_varint(CUMULATIVE as u64, &mut out);
                encode_key(3, WireType::Varint, &mut out);
                encode_varint(1, &mut out);
            }
        }
        self.used = 0;
        self.points = 0;
        self.index.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(AnyValueKind::StringValue(v.into())),
            }),
        }
    }

    fn point(attrs: &[(&str, &str)], v: f64, t: u64, start: u64) -> NumberDataPoint {
        NumberDataPoint {
            start_time_unix_nano: start,
            time_unix_nano: t,
            value: Some(Value::AsDouble(v)),
            attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(),
        }
    }

    #[test]
    fn decodes_what_it_encodes_and_matches_prost_byte_for_byte() {
        let resource = [
            ("service.name", "kubestate-check"),
            ("k8s.cluster.name", ""),
        ];
        let mut e = Encoder::new(resource.iter().copied(), ("kubestate", "1.2.3"));
        let t = 1_700_000_000_000_000_000u64;
        let long = "ü".repeat(200);
        let sum = |n: &str| n.ends_with("_total");
        e.push(
            "a.gauge",
            sum,
            [("ns", "x"), ("k", "")].into_iter(),
            0.0,
            t,
            5,
        );
        e.push(
            "r_total",
            sum,
            [("pod", long.as_str())].into_iter(),
            3.0,
            t,
            t - 10,
        );
        e.push("a.gauge", sum, std::iter::empty(), f64::NAN, 0, 5);
        // A start after the point's time is clamped to it.
        e.push("r_total", sum, std::iter::empty(), -1.5, t, t + 1);
        assert_eq!(e.points(), 4);
        let bytes = e.take();
        assert!(e.is_empty());
        let want = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: resource.iter().map(|(k, v)| kv(k, v)).collect(),
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "kubestate".into(),
                        version: "1.2.3".into(),
                    }),
                    metrics: vec![
                        Metric {
                            name: "a.gauge".into(),
                            data: Some(Data::Gauge(Gauge {
                                data_points: vec![
                                    point(&[("ns", "x"), ("k", "")], 0.0, t, 0),
                                    point(&[], f64::NAN, 0, 0),
                                ],
                            })),
                        },
                        Metric {
                            name: "r_total".into(),
                            data: Some(Data::Sum(Sum {
                                data_points: vec![
                                    point(&[("pod", &long)], 3.0, t, t - 10),
                                    point(&[], -1.5, t, t),
                                ],
                                aggregation_temporality: CUMULATIVE,
                                is_monotonic: true,
                            })),
                        },
                    ],
                }],
            }],
        };
        assert_eq!(bytes, want.encode_to_vec(), "same bytes as prost");
        let got = ExportMetricsServiceRequest::decode(&bytes[..]).unwrap();
        let m = &got.resource_metrics[0].scope_metrics[0].metrics;
        assert_eq!(m.len(), 2);
        let Some(Data::Gauge(g)) = &m[0].data else {
            panic!("gauge")
        };
        assert!(matches!(g.data_points[1].value, Some(Value::AsDouble(v)) if v.is_nan()));
        // The encoder is reusable: a second request holds only its own points.
        e.push("only", sum, std::iter::empty(), 1.0, t, 0);
        let again = ExportMetricsServiceRequest::decode(&e.take()[..]).unwrap();
        assert_eq!(again.resource_metrics[0].scope_metrics[0].metrics.len(), 1);
    }

    #[test]
    fn partial_success_is_read_from_the_answer() {
        assert_eq!(partial_success(b""), (0, String::new()));
        assert_eq!(partial_success(b"\xff\xff"), (0, String::new()));
        let body = ExportMetricsServiceResponse {
            partial_success: Some(ExportMetricsPartialSuccess {
                rejected_data_points: 7,
                error_message: "bad name".into(),
            }),
        }
        .encode_to_vec();
        let (n, why) = partial_success(&body);
        assert_eq!(n, 7);
        assert!(why.contains("bad name"));
    }
}
