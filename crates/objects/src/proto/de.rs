//! The `serde` deserializer over protobuf messages, driven by the schema table.

use kubestate_protoschema::{Cardinality, Field, MessageId, Scalar, Special, Type};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::text::{base64_encode, format_rfc3339};
use super::wire::{read_varint, utf8, Error, Reader, Result, WireValue};

/// Decodes the protobuf message `bytes` of type `msg` into `T` (a slim struct written for the
/// JSON form).
///
/// # Errors
/// The bytes are not a valid message of that type, or do not fit `T`.
///
/// Go writes the elements of a repeated field (and the entries of a map) one after the other,
/// so they are first read as one run, without looking further. Protobuf also allows them to be
/// spread over the message; when that happens the message is decoded again, gathering every
/// occurrence.
pub fn from_slice<'de, T: de::Deserialize<'de>>(bytes: &'de [u8], msg: MessageId) -> Result<T> {
    match T::deserialize(MessageDe {
        buf: bytes,
        msg,
        general: false,
    }) {
        Err(e) if e.split_run => T::deserialize(MessageDe {
            buf: bytes,
            msg,
            general: true,
        }),
        r => r,
    }
}

/// A message-typed value.
pub(super) struct MessageDe<'de> {
    pub(super) buf: &'de [u8],
    pub(super) msg: MessageId,
    /// Gather repeated fields from anywhere in the message (else: one run each).
    pub(super) general: bool,
}

impl<'de> Deserializer<'de> for MessageDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let def = self.msg.def();
        match def.special {
            Special::None => v.visit_map(MessageMap::new(self.buf, self.msg, self.general, None)),
            Special::Quantity => match Reader::find_bytes(self.buf, 1)? {
                Some(s) => v.visit_borrowed_str(utf8(s)?),
                None => v.visit_borrowed_str("0"),
            },
            Special::Time | Special::MicroTime => {
                if self.buf.is_empty() {
                    // Go writes its zero time as an empty message; a present field is still
                    // a set pointer (`startTime: 0001-01-01T00:00:00Z`), which KSM reports.
                    return v.visit_borrowed_str("0001-01-01T00:00:00Z");
                }
                let secs = Reader::find_varint(self.buf, 1)?.unwrap_or(0) as i64;
                let nanos = if def.special == Special::MicroTime {
                    Reader::find_varint(self.buf, 2)?.unwrap_or(0) as i64 as i32
                } else {
                    0
                };
                let mut buf = [0u8; 40];
                let s = format_rfc3339(secs, nanos, def.special == Special::MicroTime, &mut buf)?;
                v.visit_str(s)
            }
            Special::Duration => {
                let n = Reader::find_varint(self.buf, 1)?.unwrap_or(0) as i64;
                v.visit_string(kubestate_gotime::format_duration(n))
            }
            Special::IntOrString => {
                let ty = Reader::find_varint(self.buf, 1)?.unwrap_or(0);
                if ty == 1 {
                    let s = Reader::find_bytes(self.buf, 3)?.unwrap_or(b"");
                    v.visit_borrowed_str(utf8(s)?)
                } else {
                    let n = Reader::find_varint(self.buf, 2)?.unwrap_or(0) as i64 as i32;
                    v.visit_i64(i64::from(n))
                }
            }
            Special::RawExtension | Special::FieldsV1 => match Reader::find_bytes(self.buf, 1)? {
                Some(raw) if !raw.is_empty() => {
                    let mut d = serde_json::Deserializer::from_slice(raw);
                    d.deserialize_any(v).map_err(|e| Error::new(e.to_string()))
                }
                _ => v.visit_unit(),
            },
            Special::ArrayWrapper => v.visit_seq(Repeated {
                reader: Reader::new(self.buf),
                number: 1,
                ty: Type::Scalar(Scalar::String),
                packed: None,
                general: self.general,
            }),
        }
    }

    /// A struct names the fields it reads: the others are skipped without being presented.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        match self.msg.def().special {
            Special::None => v.visit_map(MessageMap::new(
                self.buf,
                self.msg,
                self.general,
                Some(fields),
            )),
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_some(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value> {
        v.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map enum identifier
    }
}

/// Position inside a message being presented as a map (inline fields push a level).
#[derive(Clone)]
pub(super) struct Level<'de> {
    pub(super) reader: Reader<'de>,
    pub(super) msg: MessageId,
    /// Repeated/map fields (numbers < 64) already presented as a whole.
    pub(super) emitted: u64,
    /// Field numbers worth presenting (bit n for field n); the others are skipped.
    pub(super) wanted: u64,
}

/// The fields of `msg` a struct reading `fields` (its JSON names) wants, as a bit set of field
/// numbers; inline fields are always wanted (their members may be). Cached per struct and
/// message. All bits when a field number does not fit the set.
pub(super) fn wanted(msg: MessageId, fields: Option<&'static [&'static str]>) -> u64 {
    use std::cell::RefCell;
    /// A direct-mapped cache: (fields address, fields length, message) → set.
    type Slot = Option<((usize, usize, u16), u64)>;
    thread_local! {
        static CACHE: RefCell<[Slot; 256]> = const { RefCell::new([None; 256]) };
    }
    let Some(fields) = fields else {
        return u64::MAX;
    };
    let key = (fields.as_ptr() as usize, fields.len(), msg.0);
    let slot = ((key.0 >> 3) ^ (key.0 >> 11) ^ usize::from(key.2).wrapping_mul(31)) & 255;
    if let Some(m) = CACHE.with(|c| match c.borrow()[slot] {
        Some((k, m)) if k == key => Some(m),
        _ => None,
    }) {
        return m;
    }
    let mut m = 0u64;
    for f in msg.def().fields {
        if f.number >= 64 {
            m = u64::MAX;
            break;
        }
        if f.inline || fields.contains(&f.json_name) {
            m |= 1 << f.number;
        }
    }
    CACHE.with(|c| c.borrow_mut()[slot] = Some((key, m)));
    m
}

/// The fields of a message, as a JSON object would present them.
pub(super) struct MessageMap<'de> {
    pub(super) levels: [Option<Level<'de>>; 4],
    pub(super) depth: usize,
    pub(super) pending: Option<ValueDe<'de>>,
    pub(super) general: bool,
    /// The JSON names the struct being filled reads, when it said so.
    pub(super) fields: Option<&'static [&'static str]>,
}

impl<'de> MessageMap<'de> {
    fn new(
        buf: &'de [u8],
        msg: MessageId,
        general: bool,
        fields: Option<&'static [&'static str]>,
    ) -> MessageMap<'de> {
        MessageMap {
            levels: [
                Some(Level {
                    reader: Reader::new(buf),
                    msg,
                    emitted: 0,
                    wanted: wanted(msg, fields),
                }),
                None,
                None,
                None,
            ],
            depth: 0,
            pending: None,
            general,
            fields,
        }
    }
}

/// Whether wire value `v` may carry one value (or, for repeated scalars, a packed run) of
/// field `f`.
pub(super) fn wire_fits(f: &Field, v: &WireValue<'_>) -> bool {
    let expected = match f.card {
        Cardinality::Map { .. } => kubestate_protoschema::WireType::Len,
        _ => f.ty.wire_type(),
    };
    let packed_ok = f.card == Cardinality::Repeated
        && matches!(f.ty, Type::Scalar(s) if !matches!(s, Scalar::String | Scalar::Bytes));
    matches!(
        (expected, v),
        (
            kubestate_protoschema::WireType::Varint,
            WireValue::Varint(_)
        ) | (
            kubestate_protoschema::WireType::Fixed64,
            WireValue::Fixed64(_)
        ) | (
            kubestate_protoschema::WireType::Fixed32,
            WireValue::Fixed32(_)
        ) | (kubestate_protoschema::WireType::Len, WireValue::Len(_))
    ) || (packed_ok && matches!(v, WireValue::Len(_)))
}

impl<'de> MapAccess<'de> for MessageMap<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        loop {
            let depth = self.depth;
            let Some(level) = self.levels[depth].as_mut() else {
                return Ok(None);
            };
            let start = level.reader.clone();
            let Some((number, value)) = level.reader.next_field()? else {
                if depth == 0 {
                    return Ok(None);
                }
                self.levels[depth] = None;
                self.depth -= 1;
                continue;
            };
            let def = level.msg.def();
            let Some(f) = def.field(number) else {
                continue; // a field this schema does not know
            };
            if number < 64 && level.wanted & (1 << number) == 0 {
                continue; // a field the struct does not read
            }
            if !wire_fits(f, &value) {
                return Err(Error::new(format!(
                    "{}.{}: wire type does not fit the schema",
                    def.short_name(),
                    f.json_name
                )));
            }
            if f.inline {
                let (Type::Message(m), WireValue::Len(b)) = (f.ty, value) else {
                    continue;
                };
                if depth + 1 >= self.levels.len() {
                    return Err(Error::new("inline fields nested too deeply"));
                }
                self.levels[depth + 1] = Some(Level {
                    reader: Reader::new(b),
                    msg: m,
                    emitted: 0,
                    wanted: wanted(m, self.fields),
                });
                self.depth += 1;
                continue;
            }
            let grouped = matches!(f.card, Cardinality::Repeated | Cardinality::Map { .. });
            let general = self.general;
            let mut group_reader = None;
            if grouped {
                if already_emitted(level, &start, number)? {
                    if general {
                        continue;
                    }
                    // A second run of the field: only the general mode gathers it.
                    return Err(Error {
                        msg: "repeated field in more than one run".into(),
                        split_run: true,
                    });
                }
                if number < 64 {
                    level.emitted |= 1 << number;
                }
                group_reader = Some(if general {
                    // The whole rest of the message, from this occurrence on.
                    start
                } else {
                    // This run of occurrences only; the map goes on after it.
                    let mut end = level.reader.clone();
                    loop {
                        let before = end.clone();
                        match end.next_field()? {
                            Some((n, _)) if n == number => {}
                            _ => {
                                end = before;
                                break;
                            }
                        }
                    }
                    level.reader.pos = end.pos;
                    Reader::new(&start.buf[start.pos..end.pos])
                });
            }
            self.pending = Some(match group_reader {
                Some(reader) => ValueDe::Group {
                    field: f,
                    reader,
                    general,
                },
                None => ValueDe::Single {
                    ty: f.ty,
                    value,
                    general,
                },
            });
            return seed
                .deserialize(de::value::BorrowedStrDeserializer::new(f.json_name))
                .map(Some);
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.pending.take() {
            Some(v) => seed.deserialize(v),
            None => Err(Error::new("value requested before its key")),
        }
    }
}

/// Whether repeated field `number` was already presented from an earlier occurrence.
pub(super) fn already_emitted(level: &Level<'_>, start: &Reader<'_>, number: u32) -> Result<bool> {
    if number < 64 {
        return Ok(level.emitted & (1 << number) != 0);
    }
    // Rare: scan the message up to this occurrence.
    let mut r = Reader::new(&start.buf[..start.pos]);
    while let Some((n, _)) = r.next_field()? {
        if n == number {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A field's value.
pub(super) enum ValueDe<'de> {
    /// One value of an optional field (or one element of a repeated field).
    Single {
        ty: Type,
        value: WireValue<'de>,
        general: bool,
    },
    /// A repeated or map field: every occurrence in `reader`.
    Group {
        field: &'static Field,
        reader: Reader<'de>,
        general: bool,
    },
}

pub(super) fn scalar<'de, V: Visitor<'de>>(
    s: Scalar,
    value: WireValue<'de>,
    v: V,
) -> Result<V::Value> {
    match (s, value) {
        (Scalar::String, WireValue::Len(b)) => v.visit_borrowed_str(utf8(b)?),
        (Scalar::Bytes, WireValue::Len(b)) => v.visit_string(base64_encode(b)),
        (Scalar::Bool, WireValue::Varint(x)) => v.visit_bool(x != 0),
        (Scalar::Int32, WireValue::Varint(x)) => v.visit_i64(i64::from(x as i64 as i32)),
        (Scalar::Int64, WireValue::Varint(x)) => v.visit_i64(x as i64),
        (Scalar::Uint32, WireValue::Varint(x)) => v.visit_u64(u64::from(x as u32)),
        (Scalar::Uint64, WireValue::Varint(x)) => v.visit_u64(x),
        (Scalar::Sint32 | Scalar::Sint64, WireValue::Varint(x)) => {
            v.visit_i64((x >> 1) as i64 ^ -((x & 1) as i64))
        }
        (Scalar::Double, WireValue::Fixed64(x)) => v.visit_f64(f64::from_bits(x)),
        (Scalar::Fixed64, WireValue::Fixed64(x)) => v.visit_u64(x),
        (Scalar::Sfixed64, WireValue::Fixed64(x)) => v.visit_i64(x as i64),
        (Scalar::Float, WireValue::Fixed32(x)) => v.visit_f64(f64::from(f32::from_bits(x))),
        (Scalar::Fixed32, WireValue::Fixed32(x)) => v.visit_u64(u64::from(x)),
        (Scalar::Sfixed32, WireValue::Fixed32(x)) => v.visit_i64(i64::from(x as i32)),
        (s, _) => Err(Error::new(format!(
            "wire type does not fit a {}",
            s.proto_name()
        ))),
    }
}

impl<'de> Deserializer<'de> for ValueDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self {
            ValueDe::Single { ty, value, general } => match (ty, value) {
                (Type::Scalar(s), value) => scalar(s, value, v),
                (Type::Message(msg), WireValue::Len(buf)) => {
                    MessageDe { buf, msg, general }.deserialize_any(v)
                }
                (Type::Message(_), _) => Err(Error::new("message field is not length-delimited")),
            },
            ValueDe::Group {
                field,
                reader,
                general,
            } => match field.card {
                Cardinality::Map { key } => v.visit_map(MapEntries {
                    reader,
                    number: field.number,
                    key,
                    value_ty: field.ty,
                    value: None,
                    general,
                }),
                _ => v.visit_seq(Repeated {
                    reader,
                    number: field.number,
                    ty: field.ty,
                    packed: None,
                    general,
                }),
            },
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self {
            ValueDe::Single {
                ty: Type::Message(msg),
                value: WireValue::Len(buf),
                general,
            } => MessageDe { buf, msg, general }.deserialize_option(v),
            other => v.visit_some(other),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        match self {
            ValueDe::Single {
                ty: Type::Message(msg),
                value: WireValue::Len(buf),
                general,
            } => MessageDe { buf, msg, general }.deserialize_struct(name, fields, v),
            other => other.deserialize_any(v),
        }
    }

    /// Strings name unit variants, as JSON strings do.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        match self {
            ValueDe::Single {
                ty: Type::Scalar(Scalar::String),
                value: WireValue::Len(b),
                ..
            } => v.visit_enum(de::value::BorrowedStrDeserializer::new(utf8(b)?)),
            other => other.deserialize_any(v),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map identifier
    }
}

/// The elements of a repeated field: every occurrence of `number` from the reader on
/// (scalars may come packed).
pub(super) struct Repeated<'de> {
    pub(super) reader: Reader<'de>,
    pub(super) number: u32,
    pub(super) ty: Type,
    /// The rest of a packed run being read.
    pub(super) packed: Option<Reader<'de>>,
    pub(super) general: bool,
}

impl<'de> Repeated<'de> {
    fn next_value(&mut self) -> Result<Option<WireValue<'de>>> {
        loop {
            if let (Some(p), Type::Scalar(s)) = (self.packed.as_mut(), self.ty) {
                if p.pos < p.buf.len() {
                    let v = match s.wire_type() {
                        kubestate_protoschema::WireType::Varint => {
                            WireValue::Varint(read_varint(p.buf, &mut p.pos)?)
                        }
                        kubestate_protoschema::WireType::Fixed64 => {
                            let b = p
                                .buf
                                .get(p.pos..p.pos + 8)
                                .ok_or_else(|| Error::new("truncated packed fixed64"))?;
                            p.pos += 8;
                            WireValue::Fixed64(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                        }
                        kubestate_protoschema::WireType::Fixed32 => {
                            let b = p
                                .buf
                                .get(p.pos..p.pos + 4)
                                .ok_or_else(|| Error::new("truncated packed fixed32"))?;
                            p.pos += 4;
                            WireValue::Fixed32(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
                        }
                        kubestate_protoschema::WireType::Len => {
                            return Err(Error::new("packed strings are not protobuf"))
                        }
                    };
                    return Ok(Some(v));
                }
                self.packed = None;
            }
            let Some((n, v)) = self.reader.next_field()? else {
                return Ok(None);
            };
            if n != self.number {
                continue;
            }
            let packable =
                matches!(self.ty, Type::Scalar(s) if !matches!(s, Scalar::String | Scalar::Bytes));
            match v {
                WireValue::Len(b) if packable => self.packed = Some(Reader::new(b)),
                v => return Ok(Some(v)),
            }
        }
    }
}

impl<'de> SeqAccess<'de> for Repeated<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.next_value()? {
            None => Ok(None),
            Some(value) => seed
                .deserialize(ValueDe::Single {
                    ty: self.ty,
                    value,
                    general: self.general,
                })
                .map(Some),
        }
    }
}

/// The entries of a map field: every occurrence of `number` from the reader on.
pub(super) struct MapEntries<'de> {
    pub(super) reader: Reader<'de>,
    pub(super) number: u32,
    pub(super) key: Scalar,
    pub(super) value_ty: Type,
    pub(super) value: Option<WireValue<'de>>,
    pub(super) general: bool,
}

impl<'de> MapAccess<'de> for MapEntries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        loop {
            let Some((n, v)) = self.reader.next_field()? else {
                return Ok(None);
            };
            if n != self.number {
                continue;
            }
            let WireValue::Len(entry) = v else {
                return Err(Error::new("map entry is not length-delimited"));
            };
            let mut key: Option<WireValue<'de>> = None;
            let mut value: Option<WireValue<'de>> = None;
            let mut r = Reader::new(entry);
            while let Some((n, v)) = r.next_field()? {
                match n {
                    1 => key = Some(v),
                    2 => value = Some(v),
                    _ => {}
                }
            }
            self.value = Some(value.unwrap_or(match self.value_ty {
                Type::Scalar(s) if s.wire_type() == kubestate_protoschema::WireType::Varint => {
                    WireValue::Varint(0)
                }
                Type::Scalar(s) if s.wire_type() == kubestate_protoschema::WireType::Fixed64 => {
                    WireValue::Fixed64(0)
                }
                Type::Scalar(s) if s.wire_type() == kubestate_protoschema::WireType::Fixed32 => {
                    WireValue::Fixed32(0)
                }
                _ => WireValue::Len(b""),
            }));
            return match (self.key, key) {
                (Scalar::String, None) => {
                    seed.deserialize(de::value::BorrowedStrDeserializer::new(""))
                }
                (Scalar::String, Some(WireValue::Len(b))) => {
                    seed.deserialize(de::value::BorrowedStrDeserializer::new(utf8(b)?))
                }
                // JSON object keys are strings: present numeric keys as their decimal text.
                (_, Some(WireValue::Varint(x))) => {
                    seed.deserialize(de::value::StringDeserializer::new((x as i64).to_string()))
                }
                (_, None) => seed.deserialize(de::value::StringDeserializer::new("0".to_string())),
                _ => Err(Error::new("map key has the wrong wire type")),
            }
            .map(Some);
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some(value) => seed.deserialize(ValueDe::Single {
                ty: self.value_ty,
                value,
                general: self.general,
            }),
            None => Err(Error::new("map value requested before its key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![(n << 3) | 2, data.len() as u8];
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn metadata_with_runs_split_or_not() {
        let meta =
            kubestate_protoschema::message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")
                .unwrap();
        let label = |k: &[u8], v: &[u8]| field(11, &[field(1, k), field(2, v)].concat());
        let ts = [0x42, 2, 0x08, 10]; // creationTimestamp{seconds: 10}
                                      // Go's order: labels in one run.
        let contiguous = [
            field(1, b"p"),
            ts.to_vec(),
            label(b"a", b"1"),
            label(b"b", b"2"),
        ]
        .concat();
        // Legal protobuf: the map's entries spread over the message.
        let split = [
            label(b"b", b"2"),
            field(1, b"p"),
            ts.to_vec(),
            label(b"a", b"1"),
        ]
        .concat();
        for b in [contiguous, split] {
            let m: crate::Meta = from_slice(&b, meta).unwrap();
            assert_eq!(&*m.name, "p");
            assert_eq!(m.labels.get("a"), Some("1"));
            assert_eq!(m.labels.get("b"), Some("2"));
            assert_eq!(m.creation_timestamp.map(|t| t.secs), Some(10));
        }
        // The zero time (an empty message) is a set zero time, as for Go's pointer fields;
        // a wrong wire type is an error.
        let m: crate::Meta = from_slice(&[0x42, 0], meta).unwrap();
        assert!(m.creation_timestamp.is_some_and(crate::Time::is_zero));
        assert!(from_slice::<crate::Meta>(&[0x08, 1], meta).is_err());
        assert!(from_slice::<crate::Meta>(&field(1, &[0xff]), meta).is_err());
    }
}
