//! The protobuf encoding of built-in kinds, as a real API server serves it to clients that
//! accept `application/vnd.kubernetes.protobuf` (client-go programs such as kube-state-metrics).
//!
//! * Objects: JSON → protobuf message, driven by the schema table of `kubestate-protoschema`,
//!   with Kubernetes' special types (`Quantity`, `Time`, `MicroTime`, `IntOrString`,
//!   `Duration`, `RawExtension`, `FieldsV1`, slice wrappers) and maps as repeated entry
//!   messages. Fields are written in field-number order and map entries in key order, as Go's
//!   generated marshallers do. The sim keeps this encoding next to the JSON bytes of every
//!   built-in object (see [`crate::object::StoredObject`]).
//! * Bodies (GET, LIST, errors): the magic `k8s\0`, then `runtime.Unknown{typeMeta{apiVersion,
//!   kind}, raw = message, contentEncoding = "", contentType = ""}`.
//! * Watch streams (`application/vnd.kubernetes.protobuf;stream=watch`): frames of a 4-byte
//!   big-endian length and a `meta.v1.WatchEvent{type, object = RawExtension{raw}}` written
//!   without the magic (the apiserver's stream serializer is the "raw" protobuf serializer),
//!   whose `raw` is the object as a full body (magic + `Unknown`), since the apiserver's
//!   embedded encoder is the ordinary protobuf serializer.
//!
//! Custom resources and CRDs have no protobuf form and stay JSON.

use kubestate_protoschema::{Cardinality, MessageId, Scalar, Special, Type, WireType};
use serde_json::Value;

/// The magic that starts every protobuf body.
pub(crate) const MAGIC: &[u8] = b"k8s\0";

/// Content type of protobuf bodies.
pub(crate) const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Content type of protobuf watch streams.
pub(crate) const WATCH_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";

/// Appends a varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes a varint of `v` takes.
pub(crate) fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

fn put_key(out: &mut Vec<u8>, field: u32, wt: WireType) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wt.number()));
}

/// Appends a length-delimited field.
pub(crate) fn put_bytes_field(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    put_key(out, field, WireType::Len);
    put_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn put_varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    put_key(out, field, WireType::Varint);
    put_varint(out, v);
}

/// How strictly JSON that does not fit the schema is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Members without a schema field and values of the wrong JSON type are errors.
    Strict,
    /// They are left out (a real API server could not have stored them either).
    Lenient,
}

/// An encoding error: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodeError(pub String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

struct Encoder {
    mode: Mode,
}

type Res = Result<(), EncodeError>;

impl Encoder {
    fn fail(&self, path: &str, what: &str) -> Res {
        match self.mode {
            Mode::Strict => Err(EncodeError(format!("{path}: {what}"))),
            Mode::Lenient => Ok(()),
        }
    }

    /// Encodes `v` as the fields of message `msg` (no length prefix).
    fn message(&self, v: &Value, msg: MessageId, out: &mut Vec<u8>, path: &str, top: bool) -> Res {
        let def = msg.def();
        match def.special {
            Special::None => {}
            special => return self.special(v, special, out, path),
        }
        let Some(obj) = v.as_object() else {
            return self.fail(path, "expected an object");
        };
        // Embedded structs inlined in JSON: their members are collected into sub-objects.
        let mut inlined: Vec<(
            &kubestate_protoschema::Field,
            serde_json::Map<String, Value>,
        )> = def
            .fields
            .iter()
            .filter(|f| f.inline)
            .map(|f| (f, serde_json::Map::new()))
            .collect();
        let mut fields: Vec<(&kubestate_protoschema::Field, &Value)> =
            Vec::with_capacity(obj.len());
        for (k, val) in obj {
            match def.field_by_json(k) {
                Some(f) if !f.inline => fields.push((f, val)),
                _ => match inline_owner(msg, k) {
                    Some(i) => {
                        if let Some((_, m)) = inlined.iter_mut().find(|(f, _)| f.number == i) {
                            m.insert(k.clone(), val.clone());
                        }
                    }
                    // Objects carry apiVersion/kind in JSON (Go's inline TypeMeta, which has
                    // no protobuf tag); in protobuf they live in the envelope. Objects
                    // embedded in others (StatefulSet volumeClaimTemplates) carry them too.
                    None if (top || def.field_by_json("metadata").is_some())
                        && (k == "apiVersion" || k == "kind") => {}
                    None => self.fail(&format!("{path}.{k}"), "no such field in the schema")?,
                },
            }
        }
        let mut chunks: Vec<(u32, Vec<u8>)> = Vec::with_capacity(fields.len() + inlined.len());
        for (f, val) in fields {
            let mut b = Vec::new();
            self.field(f, val, &mut b, &format!("{path}.{}", f.json_name))?;
            chunks.push((f.number, b));
        }
        for (f, m) in inlined {
            // Embedded structs are values in Go: always written, even when empty.
            let mut b = Vec::new();
            self.value(f.number, f.ty, &Value::Object(m), &mut b, path)?;
            chunks.push((f.number, b));
        }
        chunks.sort_by_key(|(n, _)| *n);
        for (_, b) in chunks {
            out.extend_from_slice(&b);
        }
        Ok(())
    }

    fn field(
        &self,
        f: &kubestate_protoschema::Field,
        v: &Value,
        out: &mut Vec<u8>,
        path: &str,
    ) -> Res {
        if v.is_null() {
            // nil pointers, slices and maps are not written.
            return Ok(());
        }
        match f.card {
            Cardinality::Optional => self.value(f.number, f.ty, v, out, path),
            Cardinality::Repeated => {
                let Some(items) = v.as_array() else {
                    return self.fail(path, "expected an array");
                };
                for (i, item) in items.iter().enumerate() {
                    if item.is_null() {
                        // A null element still occupies its place: an empty value.
                        self.value(f.number, f.ty, &empty_of(f.ty), out, path)?;
                        continue;
                    }
                    self.value(f.number, f.ty, item, out, &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            Cardinality::Map { key } => {
                let Some(m) = v.as_object() else {
                    return self.fail(path, "expected an object (map)");
                };
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let mut entry = Vec::new();
                for (k, val) in entries {
                    entry.clear();
                    let p = format!("{path}[{k:?}]");
                    self.map_key(key, k, &mut entry, &p)?;
                    let val = if val.is_null() {
                        empty_of(f.ty)
                    } else {
                        val.clone()
                    };
                    self.value(2, f.ty, &val, &mut entry, &p)?;
                    put_bytes_field(out, f.number, &entry);
                }
                Ok(())
            }
        }
    }

    fn map_key(&self, key: Scalar, k: &str, out: &mut Vec<u8>, path: &str) -> Res {
        match key {
            Scalar::String => {
                put_bytes_field(out, 1, k.as_bytes());
                Ok(())
            }
            s => match k.parse::<i64>() {
                Ok(n) => self.scalar(1, s, &Value::from(n), out, path),
                Err(_) => self.fail(path, "map key is not a number"),
            },
        }
    }

    /// One value of type `ty` as field `number`.
    fn value(&self, number: u32, ty: Type, v: &Value, out: &mut Vec<u8>, path: &str) -> Res {
        match ty {
            Type::Scalar(s) => self.scalar(number, s, v, out, path),
            Type::Message(m) => {
                let mut sub = Vec::new();
                self.message(v, m, &mut sub, path, false)?;
                put_bytes_field(out, number, &sub);
                Ok(())
            }
        }
    }

    fn scalar(&self, number: u32, s: Scalar, v: &Value, out: &mut Vec<u8>, path: &str) -> Res {
        match s {
            Scalar::String => match v.as_str() {
                Some(t) => put_bytes_field(out, number, t.as_bytes()),
                None => return self.fail(path, "expected a string"),
            },
            Scalar::Bytes => match v.as_str().map(base64_decode) {
                Some(Some(b)) => put_bytes_field(out, number, &b),
                _ => return self.fail(path, "expected a base64 string"),
            },
            Scalar::Bool => match v.as_bool() {
                Some(b) => put_varint_field(out, number, u64::from(b)),
                None => return self.fail(path, "expected a boolean"),
            },
            Scalar::Double => match v.as_f64() {
                Some(x) => {
                    put_key(out, number, WireType::Fixed64);
                    out.extend_from_slice(&x.to_le_bytes());
                }
                None => return self.fail(path, "expected a number"),
            },
            Scalar::Float => match v.as_f64() {
                Some(x) => {
                    put_key(out, number, WireType::Fixed32);
                    out.extend_from_slice(&(x as f32).to_le_bytes());
                }
                None => return self.fail(path, "expected a number"),
            },
            Scalar::Fixed64 | Scalar::Sfixed64 => match int_of(v) {
                Some(x) => {
                    put_key(out, number, WireType::Fixed64);
                    out.extend_from_slice(&(x as u64).to_le_bytes());
                }
                None => return self.fail(path, "expected an integer"),
            },
            Scalar::Fixed32 | Scalar::Sfixed32 => match int_of(v) {
                Some(x) => {
                    put_key(out, number, WireType::Fixed32);
                    out.extend_from_slice(&(x as u32).to_le_bytes());
                }
                None => return self.fail(path, "expected an integer"),
            },
            Scalar::Int32 => match int_of(v).and_then(|x| i32::try_from(x).ok()) {
                // Negative int32 values are sign-extended to ten bytes.
                Some(x) => put_varint_field(out, number, i64::from(x) as u64),
                None => return self.fail(path, "expected a 32-bit integer"),
            },
            Scalar::Int64 => match int_of(v) {
                Some(x) => put_varint_field(out, number, x as u64),
                None => return self.fail(path, "expected an integer"),
            },
            Scalar::Uint32 => match v.as_u64().and_then(|x| u32::try_from(x).ok()) {
                Some(x) => put_varint_field(out, number, u64::from(x)),
                None => return self.fail(path, "expected an unsigned 32-bit integer"),
            },
            Scalar::Uint64 => match v.as_u64() {
                Some(x) => put_varint_field(out, number, x),
                None => return self.fail(path, "expected an unsigned integer"),
            },
            Scalar::Sint32 | Scalar::Sint64 => match int_of(v) {
                Some(x) => put_varint_field(out, number, ((x << 1) ^ (x >> 63)) as u64),
                None => return self.fail(path, "expected an integer"),
            },
        }
        Ok(())
    }

    /// The fields of a message whose JSON form is special.
    fn special(&self, v: &Value, special: Special, out: &mut Vec<u8>, path: &str) -> Res {
        match special {
            Special::None => Ok(()),
            Special::Quantity => {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return self.fail(path, "expected a quantity"),
                };
                put_bytes_field(out, 1, s.as_bytes());
                Ok(())
            }
            Special::Time | Special::MicroTime => {
                let Some(s) = v.as_str() else {
                    return self.fail(path, "expected a timestamp");
                };
                let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) else {
                    return self.fail(path, "invalid RFC 3339 timestamp");
                };
                // Go's zero time is written as an empty message.
                if t.timestamp() == GO_ZERO_UNIX && t.timestamp_subsec_nanos() == 0 {
                    return Ok(());
                }
                put_varint_field(out, 1, t.timestamp() as u64);
                // meta.v1.Time carries seconds only (its JSON has no fraction either).
                let nanos = t.timestamp_subsec_nanos();
                if special == Special::MicroTime && nanos != 0 {
                    put_varint_field(out, 2, u64::from(nanos / 1000 * 1000));
                }
                Ok(())
            }
            Special::Duration => {
                let Some(n) = v.as_str().and_then(kubestate_gotime::parse_duration) else {
                    return self.fail(path, "expected a Go duration string");
                };
                put_varint_field(out, 1, n as u64);
                Ok(())
            }
            Special::IntOrString => {
                // Go writes all three fields (they are not pointers).
                match v {
                    Value::Number(_) => match int_of(v).and_then(|x| i32::try_from(x).ok()) {
                        Some(x) => {
                            put_varint_field(out, 1, 0);
                            put_varint_field(out, 2, i64::from(x) as u64);
                            put_bytes_field(out, 3, b"");
                        }
                        None => return self.fail(path, "expected a 32-bit integer"),
                    },
                    Value::String(s) => {
                        put_varint_field(out, 1, 1);
                        put_varint_field(out, 2, 0);
                        put_bytes_field(out, 3, s.as_bytes());
                    }
                    _ => return self.fail(path, "expected an integer or a string"),
                }
                Ok(())
            }
            Special::RawExtension | Special::FieldsV1 => {
                let raw = serde_json::to_vec(v).unwrap_or_default();
                put_bytes_field(out, 1, &raw);
                Ok(())
            }
            Special::ArrayWrapper => {
                let Some(items) = v.as_array() else {
                    return self.fail(path, "expected an array");
                };
                for item in items {
                    match item.as_str() {
                        Some(s) => put_bytes_field(out, 1, s.as_bytes()),
                        None => self.fail(path, "expected an array of strings")?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// The number of the inline field of `msg` (directly or through nested inline fields) whose
/// message has the JSON member `key`.
fn inline_owner(msg: MessageId, key: &str) -> Option<u32> {
    msg.def()
        .fields
        .iter()
        .filter(|f| f.inline)
        .find_map(|f| match f.ty {
            Type::Message(m) => {
                let direct = m.def().field_by_json(key).is_some_and(|g| !g.inline);
                (direct || inline_owner(m, key).is_some()).then_some(f.number)
            }
            Type::Scalar(_) => None,
        })
}

/// `time.Time{}.Unix()` in Go.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// The value a `null` list element or map value stands for.
fn empty_of(ty: Type) -> Value {
    match ty {
        Type::Scalar(Scalar::String | Scalar::Bytes) => Value::String(String::new()),
        Type::Scalar(Scalar::Bool) => Value::Bool(false),
        Type::Scalar(_) => Value::from(0),
        Type::Message(m) => match m.def().special {
            Special::ArrayWrapper => Value::Array(Vec::new()),
            Special::Quantity => Value::String("0".into()),
            Special::None => Value::Object(serde_json::Map::new()),
            _ => Value::Null,
        },
    }
}

fn int_of(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        let f = v.as_f64()?;
        (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
    })
}

/// Encodes a JSON object as protobuf message `msg` (no envelope).
pub(crate) fn encode(v: &Value, msg: MessageId, mode: Mode) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    Encoder { mode }.message(v, msg, &mut out, "", true)?;
    Ok(out)
}

/// The protobuf message of a built-in kind, or `None` for custom resources.
pub(crate) fn message_of(api_version: &str, kind: &str) -> Option<MessageId> {
    kubestate_protoschema::kind(api_version, kind)
}

/// A complete protobuf body: magic + `runtime.Unknown` around `raw`.
pub(crate) fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + api_version.len() + kind.len() + 24);
    out.extend_from_slice(MAGIC);
    put_type_meta(&mut out, api_version, kind);
    put_bytes_field(&mut out, 2, raw);
    put_bytes_field(&mut out, 3, b"");
    put_bytes_field(&mut out, 4, b"");
    out
}

fn put_type_meta(out: &mut Vec<u8>, api_version: &str, kind: &str) {
    let mut tm = Vec::with_capacity(api_version.len() + kind.len() + 4);
    put_bytes_field(&mut tm, 1, api_version.as_bytes());
    put_bytes_field(&mut tm, 2, kind.as_bytes());
    put_bytes_field(out, 1, &tm);
}

/// A complete protobuf body holding a `meta.v1.Status` (errors, ERROR watch events).
pub(crate) fn status_body(st: &Value) -> Vec<u8> {
    let msg = encode(st, kubestate_protoschema::status(), Mode::Lenient).unwrap_or_default();
    envelope("v1", "Status", &msg)
}

/// A list body is `header`, then per item `0x12 varint(len) item`, then [`LIST_FOOTER`]. The
/// header holds the envelope up to the list's `raw` length, which covers the list metadata
/// and every item, so it is computed from the item sizes.
pub(crate) fn list_header(
    api_version: &str,
    list_kind: &str,
    list_meta: &[u8],
    items_len: u64,
) -> Vec<u8> {
    let mut meta_field = Vec::with_capacity(list_meta.len() + 4);
    put_bytes_field(&mut meta_field, 1, list_meta);
    let raw_len = meta_field.len() as u64 + items_len;
    let mut out = Vec::with_capacity(meta_field.len() + 64);
    out.extend_from_slice(MAGIC);
    put_type_meta(&mut out, api_version, list_kind);
    put_key(&mut out, 2, WireType::Len);
    put_varint(&mut out, raw_len);
    out.extend_from_slice(&meta_field);
    out
}

/// The bytes one list item takes: its key, length and message.
pub(crate) fn list_item_len(item_len: usize) -> u64 {
    1 + varint_len(item_len as u64) as u64 + item_len as u64
}

/// Appends one list item (field 2 of every `*List`).
pub(crate) fn put_list_item(out: &mut bytes::BytesMut, item: &[u8]) {
    let mut head = Vec::with_capacity(6);
    put_key(&mut head, 2, WireType::Len);
    put_varint(&mut head, item.len() as u64);
    out.extend_from_slice(&head);
    out.extend_from_slice(item);
}

/// The end of a list body: the envelope's empty `contentEncoding` and `contentType`.
pub(crate) const LIST_FOOTER: &[u8] = &[0x1a, 0x00, 0x22, 0x00];

/// `meta.v1.ListMeta{resourceVersion, continue, remainingItemCount}`.
pub(crate) fn list_meta(rv: u64, cont: Option<&str>, remaining: Option<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    put_bytes_field(&mut out, 2, rv.to_string().as_bytes());
    if let Some(c) = cont {
        put_bytes_field(&mut out, 3, c.as_bytes());
    }
    if let Some(r) = remaining {
        put_varint_field(&mut out, 4, r as u64);
    }
    out
}

/// Appends one watch frame: length, then `WatchEvent{type, object{raw = body}}` where `body`
/// is a complete protobuf body (magic + envelope).
pub(crate) fn put_watch_frame(out: &mut bytes::BytesMut, ty: &str, body: &[u8]) {
    let mut raw_ext = Vec::with_capacity(body.len() + 6);
    put_bytes_field(&mut raw_ext, 1, body);
    let mut ev = Vec::with_capacity(raw_ext.len() + ty.len() + 8);
    put_bytes_field(&mut ev, 1, ty.as_bytes());
    put_bytes_field(&mut ev, 2, &raw_ext);
    out.extend_from_slice(&(ev.len() as u32).to_be_bytes());
    out.extend_from_slice(&ev);
}

/// A message of a built-in kind that no decoder can accept: `metadata` (field 1, a message)
/// and `spec` (field 2) written as varints — the protobuf twin of the JSON fault object.
pub(crate) const MALFORMED_MESSAGE: &[u8] = &[0x08, 0x2a, 0x10, 0x2a];

/// Decodes standard base64 (padding optional); `None` when invalid.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut pad = 0;
    for &c in s.as_bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    (pad <= 2 && bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn varints() {
        let mut v = Vec::new();
        put_varint(&mut v, 300);
        assert_eq!(v, [0xac, 0x02]);
        for x in [0u64, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, x);
            assert_eq!(b.len(), varint_len(x), "{x}");
        }
    }

    #[test]
    fn base64_and_durations() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("a$==").is_none());
        assert_eq!(
            kubestate_gotime::parse_duration("1h2m3s"),
            Some(3_723_000_000_000)
        );
        assert_eq!(kubestate_gotime::parse_duration("300ms"), Some(300_000_000));
        assert_eq!(
            kubestate_gotime::parse_duration("-1.5h"),
            Some(-5_400_000_000_000)
        );
        assert_eq!(kubestate_gotime::parse_duration("0"), Some(0));
        assert_eq!(kubestate_gotime::parse_duration("5x"), None);
    }

    #[test]
    fn pod_fields_and_special_types() {
        let pod = message_of("v1", "Pod").unwrap();
        let v = json!({"apiVersion":"v1","kind":"Pod",
            "metadata":{"name":"p","creationTimestamp":"1970-01-01T00:00:10Z","labels":{"b":"2","a":"1"}},
            "spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"250m"}},
                "ports":[{"containerPort":80}],
                "livenessProbe":{"httpGet":{"port":"http"}}}]}});
        let b = encode(&v, pod, Mode::Strict).unwrap();
        // metadata: name, creationTimestamp{seconds=10}, labels sorted a, b.
        let meta = [
            0x0a, 1, b'p', // name
            0x42, 2, 0x08, 10, // creationTimestamp
            0x5a, 6, 0x0a, 1, b'a', 0x12, 1, b'1', // labels a=1
            0x5a, 6, 0x0a, 1, b'b', 0x12, 1, b'2', // labels b=2
        ];
        assert_eq!(&b[..2], &[0x0a, meta.len() as u8]);
        assert_eq!(&b[2..2 + meta.len()], &meta);
        assert!(encode(&json!({"metadata":{"bogus":1}}), pod, Mode::Strict).is_err());
        assert!(encode(&json!({"metadata":{"bogus":1}}), pod, Mode::Lenient).is_ok());
    }

    #[test]
    fn envelopes_and_frames() {
        let e = envelope("v1", "Pod", b"\x0a\x00");
        assert_eq!(&e[..4], MAGIC);
        assert_eq!(
            &e[4..],
            b"\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x02\x0a\x00\x1a\x00\x22\x00"
        );
        let mut f = bytes::BytesMut::new();
        put_watch_frame(&mut f, "ADDED", b"xy");
        assert_eq!(&f[..4], &[0, 0, 0, 13]);
        assert_eq!(&f[4..], b"\x0a\x05ADDED\x12\x04\x0a\x02xy");
        let meta = list_meta(7, None, None);
        let item = b"\x0a\x00";
        let h = list_header("v1", "PodList", &meta, list_item_len(item.len()));
        let mut body = bytes::BytesMut::from(&h[..]);
        put_list_item(&mut body, item);
        body.extend_from_slice(LIST_FOOTER);
        // The raw field's length covers exactly the list metadata and the item.
        let raw_start = 4 + 2 + 13 + 2; // magic, typeMeta key+len, typeMeta, raw key+len
        assert_eq!(usize::from(body[raw_start - 1]), body.len() - raw_start - 4);
    }
}
