//! Stored objects: pre-serialized JSON bytes plus the few metadata fields the server needs
//! for routing, ordering and selectors.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

/// An object as kept by the simulator. Besides the JSON bytes it keeps only what routing,
/// ordering and selectors need, packed into few allocations (labels and selectable fields
/// are each one `\0`-separated string) so memory stays close to the serialized size.
#[derive(Debug)]
pub(crate) struct StoredObject {
    /// Namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Numeric resourceVersion (0 when the object carried none or a non-numeric one).
    pub rv: u64,
    /// Labels as `key\0value\0key\0value` (label keys and values cannot contain NUL).
    labels: Box<str>,
    /// Values of [`supported_fields`] of the kind, in order, `\0`-separated.
    fields: Box<str>,
    /// Names of the selectable fields of this object's kind.
    field_names: &'static [&'static str],
    /// The object serialized as compact JSON (one line, no trailing newline).
    pub json: Bytes,
    /// The object's protobuf message (no envelope), for built-in kinds; `None` for custom
    /// resources and CRDs, which are served as JSON only.
    pub proto: Option<Bytes>,
}

/// Shared handle to a stored object.
pub(crate) type ObjRef = Arc<StoredObject>;

/// Wire encodings the sim can answer with. Objects are kept pre-serialized per encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `application/json`.
    Json,
    /// `application/vnd.kubernetes.protobuf` (built-in kinds only).
    Protobuf,
}

impl Encoding {
    /// The `Content-Type` of responses in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Protobuf => crate::proto::CONTENT_TYPE,
        }
    }

    /// The `Content-Type` of watch streams in this encoding.
    pub fn watch_content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Protobuf => crate::proto::WATCH_CONTENT_TYPE,
        }
    }
}

impl StoredObject {
    /// Build from a parsed object and its compact JSON bytes; built-in kinds also get their
    /// protobuf encoding (members the schema does not know are left out of it, as a real
    /// API server could not have stored them).
    pub fn from_value(v: &Value, kind: &str, json: Bytes) -> StoredObject {
        let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let proto = crate::proto::message_of(api_version, kind).map(|m| {
            let b = crate::proto::encode(v, m, crate::proto::Mode::Lenient).unwrap_or_default();
            Bytes::from(b.into_boxed_slice())
        });
        let meta = v.get("metadata");
        let s = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let mut labels = String::new();
        if let Some(m) = meta
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
        {
            for (k, val) in m {
                if !labels.is_empty() {
                    labels.push('\0');
                }
                labels.push_str(k);
                labels.push('\0');
                labels.push_str(val.as_str().unwrap_or(""));
            }
        }
        let rv = s("resourceVersion").parse().unwrap_or(0);
        let field_names = supported_fields(kind);
        StoredObject {
            namespace: s("namespace"),
            name: s("name"),
            rv,
            labels: labels.into_boxed_str(),
            fields: extract_fields(v, field_names).into_boxed_str(),
            field_names,
            json,
            proto,
        }
    }

    /// The object serialized in `enc` (for protobuf: the message without its envelope; empty
    /// for kinds without a protobuf form, which are never served as protobuf).
    pub fn encoded(&self, enc: Encoding) -> &Bytes {
        static EMPTY: Bytes = Bytes::from_static(b"");
        match enc {
            Encoding::Json => &self.json,
            Encoding::Protobuf => self.proto.as_ref().unwrap_or(&EMPTY),
        }
    }

    /// Value of a selectable field, `None` when the field is not supported for this kind.
    pub fn field(&self, name: &str) -> Option<&str> {
        match name {
            "metadata.name" => Some(&self.name),
            "metadata.namespace" => Some(&self.namespace),
            _ => {
                let i = self.field_names.iter().position(|f| *f == name)?;
                self.fields.split('\0').nth(i)
            }
        }
    }

    /// Value of a label.
    pub fn label(&self, key: &str) -> Option<&str> {
        if self.labels.is_empty() {
            return None;
        }
        let mut it = self.labels.split('\0');
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            if k == key {
                return Some(v);
            }
        }
        None
    }
}

/// Field selectors supported per kind (beyond `metadata.name` / `metadata.namespace`),
/// mirroring the real API server's field label conversion functions.
pub(crate) fn supported_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Secret" => &["type"],
        "Node" => &["spec.unschedulable"],
        "Namespace" => &["status.phase"],
        "ReplicaSet" | "ReplicationController" => &["status.replicas"],
        "Job" => &["status.successful"],
        "CertificateSigningRequest" => &["spec.signerName"],
        _ => &[],
    }
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, seg| cur.get(seg))
}

fn scalar(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn extract_fields(v: &Value, names: &[&str]) -> String {
    let mut out = String::new();
    for (i, f) in names.iter().enumerate() {
        if i > 0 {
            out.push('\0');
        }
        let raw = lookup(v, f);
        let val = match (*f, raw) {
            // Unset booleans select as "false", unset counters as "0", like the server.
            ("spec.hostNetwork" | "spec.unschedulable", None) => "false".to_string(),
            ("status.replicas" | "status.successful", None) => "0".to_string(),
            _ => scalar(raw),
        };
        out.push_str(&val);
    }
    out
}

/// Remove insignificant whitespace from JSON text, keeping key order and string contents.
pub(crate) fn minify_json(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut in_str = false;
    let mut escaped = false;
    for &b in s.as_bytes() {
        if in_str {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
            out.push(b);
        } else if !b.is_ascii_whitespace() {
            out.push(b);
        }
    }
    out
}

/// Format seconds since the Unix epoch as RFC 3339 (`2026-01-01T00:00:00Z`).
pub(crate) fn rfc3339(secs: i64) -> String {
    use chrono::{Datelike, Timelike};
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => "1970-01-01T00:00:00Z".to_string(),
    }
}

/// A UUID-shaped string (version 4 layout) from 128 random bits.
pub(crate) fn uuid_from(hi: u64, lo: u64) -> String {
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_strings() {
        let s = "{ \"a\" : \"x y\\\" z\",\n \"b\": [1, 2] }";
        assert_eq!(
            String::from_utf8(minify_json(s)).unwrap(),
            "{\"a\":\"x y\\\" z\",\"b\":[1,2]}"
        );
    }

    #[test]
    fn fields_and_labels_are_extracted() {
        let v = serde_json::json!({"metadata":{"name":"p","namespace":"n","resourceVersion":"42",
            "labels":{"app":"x"}},"spec":{"nodeName":"node-1"},"status":{"phase":"Running"}});
        let o = StoredObject::from_value(&v, "Pod", Bytes::new());
        assert_eq!(o.rv, 42);
        assert_eq!(o.field("spec.nodeName"), Some("node-1"));
        assert_eq!(o.field("spec.hostNetwork"), Some("false"));
        assert_eq!(o.field("status.phase"), Some("Running"));
        assert_eq!(o.field("metadata.namespace"), Some("n"));
        assert_eq!(o.field("spec.bogus"), None);
        assert_eq!(o.label("app"), Some("x"));
    }

    #[test]
    fn uuid_and_time_format() {
        let u = uuid_from(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
        assert_eq!(u, "01234567-89ab-4def-bedc-ba9876543210");
        assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
    }
}
