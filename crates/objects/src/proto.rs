//! Decoding the Kubernetes protobuf encoding into the same slim structs as JSON.
//!
//! [`from_slice`] is a `serde` [`Deserializer`] over protobuf bytes,
//! driven by the schema table of `kubestate-protoschema`: each field number is looked up in the
//! message's schema and presented to `serde` under its JSON name, so every slim struct decodes
//! from protobuf unchanged. Values look the way the JSON form presents them:
//!
//! * strings are borrowed from the input; `bytes` become base64 text (as Go's JSON writes
//!   `[]byte`); numbers and booleans are numbers and booleans;
//! * `repeated` fields are sequences and `map<K, V>` fields maps (their entries may be spread
//!   over the message and are gathered, as protobuf allows);
//! * `resource.Quantity` is its string, `meta.v1.Time`/`MicroTime` an RFC 3339 string (the
//!   zero time, an empty message, is `null`), `intstr.IntOrString` a number or a string,
//!   `meta.v1.Duration` a Go duration string, `RawExtension`/`FieldsV1` the JSON they carry,
//!   slice wrappers (`ExtraValue`) arrays;
//! * embedded structs inlined in JSON (`Probe.handler`, `Volume.volumeSource`) are flattened
//!   into their parent.
//!
//! Fields the struct does not read are skipped by their length without allocating; fields
//! the schema does not know (a newer server) are skipped too. Malformed input — a truncated
//! varint or length, a wire type that does not fit the schema, invalid UTF-8 — is an
//! [`Error`], never a panic.
//!
//! [`Reader`] is the low-level field reader, also used to unwrap envelopes, lists and watch
//! frames (`kubestate-watch`).

use std::fmt;

use kubestate_protoschema::{Cardinality, Field, MessageId, Scalar, Special, Type};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

/// The wire encoding of an object handed to a decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// `application/json`: a JSON object (with `apiVersion`/`kind`).
    #[default]
    Json,
    /// `application/vnd.kubernetes.protobuf`: the object's protobuf message, without the
    /// `k8s\0` magic and `runtime.Unknown` envelope.
    Protobuf,
}

/// Why protobuf bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    msg: Box<str>,
    /// A repeated field came in more than one run: decode again in the general mode.
    split_run: bool,
}

impl Error {
    fn new(msg: impl Into<Box<str>>) -> Error {
        Error {
            msg: msg.into(),
            split_run: false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, Error>;

/// One field value as it appears on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: the bytes after the length.
    Len(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

/// Reads the fields of one message in order.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(&b) = buf.get(*pos) else {
            return Err(Error::new("truncated varint"));
        };
        *pos += 1;
        if i == 9 && b > 1 {
            return Err(Error::new("varint overflows 64 bits"));
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(Error::new("varint longer than 10 bytes"))
}

impl<'a> Reader<'a> {
    /// A reader over the fields of the message `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Byte offset of the next field.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next field: its number and value; `None` at the end of the message.
    ///
    /// # Errors
    /// Truncated input, field number 0, or a wire type protobuf does not define (groups
    /// included).
    pub fn next_field(&mut self) -> Result<Option<(u32, WireValue<'a>)>> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = read_varint(self.buf, &mut self.pos)?;
        let number = u32::try_from(key >> 3).map_err(|_| Error::new("field number too large"))?;
        if number == 0 {
            return Err(Error::new("field number 0"));
        }
        let v = match key & 7 {
            0 => WireValue::Varint(read_varint(self.buf, &mut self.pos)?),
            1 => {
                let b = self
                    .buf
                    .get(self.pos..self.pos + 8)
                    .ok_or_else(|| Error::new("truncated fixed64"))?;
                self.pos += 8;
                WireValue::Fixed64(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            }
            2 => {
                let len = read_varint(self.buf, &mut self.pos)?;
                let len = usize::try_from(len).map_err(|_| Error::new("length too large"))?;
                let end = self
                    .pos
                    .checked_add(len)
                    .filter(|&e| e <= self.buf.len())
                    .ok_or_else(|| Error::new("length beyond the end of the message"))?;
                let b = &self.buf[self.pos..end];
                self.pos = end;
                WireValue::Len(b)
            }
            5 => {
                let b = self
                    .buf
                    .get(self.pos..self.pos + 4)
                    .ok_or_else(|| Error::new("truncated fixed32"))?;
                self.pos += 4;
                WireValue::Fixed32(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
            }
            w => return Err(Error::new(format!("unsupported wire type {w}"))),
        };
        Ok(Some((number, v)))
    }

    /// The last occurrence of field `number` as length-delimited bytes (skipping the others).
    ///
    /// # Errors
    /// Malformed input, or the field is present with another wire type.
    pub fn find_bytes(buf: &'a [u8], number: u32) -> Result<Option<&'a [u8]>> {
        Reader::find_last(buf, number, "length-delimited", |v| match v {
            WireValue::Len(b) => Some(b),
            _ => None,
        })
    }

    /// The last occurrence of varint field `number`.
    ///
    /// # Errors
    /// Malformed input, or the field is present with another wire type.
    pub fn find_varint(buf: &'a [u8], number: u32) -> Result<Option<u64>> {
        Reader::find_last(buf, number, "a varint", |v| match v {
            WireValue::Varint(x) => Some(x),
            _ => None,
        })
    }

    /// The last occurrence of field `number`, taken by `pick`; a field of another wire type
    /// (for which `pick` gives `None`) is an error naming `kind`.
    fn find_last<T>(
        buf: &'a [u8],
        number: u32,
        kind: &str,
        pick: impl Fn(WireValue<'a>) -> Option<T>,
    ) -> Result<Option<T>> {
        let mut r = Reader::new(buf);
        let mut found = None;
        while let Some((n, v)) = r.next_field()? {
            if n == number {
                match pick(v) {
                    Some(x) => found = Some(x),
                    None => return Err(Error::new(format!("field {n} is not {kind}"))),
                }
            }
        }
        Ok(found)
    }
}

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

/// The message of a built-in kind by `apiVersion` and `kind` (`None` for custom resources).
pub fn message_of(api_version: &str, kind: &str) -> Option<MessageId> {
    kubestate_protoschema::kind(api_version, kind)
}

fn utf8(b: &[u8]) -> Result<&str> {
    std::str::from_utf8(b).map_err(|_| Error::new("string field is not UTF-8"))
}

/// A message-typed value.
struct MessageDe<'de> {
    buf: &'de [u8],
    msg: MessageId,
    /// Gather repeated fields from anywhere in the message (else: one run each).
    general: bool,
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
                v.visit_string(format_go_duration(n))
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
struct Level<'de> {
    reader: Reader<'de>,
    msg: MessageId,
    /// Repeated/map fields (numbers < 64) already presented as a whole.
    emitted: u64,
    /// Field numbers worth presenting (bit n for field n); the others are skipped.
    wanted: u64,
}

/// The fields of `msg` a struct reading `fields` (its JSON names) wants, as a bit set of field
/// numbers; inline fields are always wanted (their members may be). Cached per struct and
/// message. All bits when a field number does not fit the set.
fn wanted(msg: MessageId, fields: Option<&'static [&'static str]>) -> u64 {
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
struct MessageMap<'de> {
    levels: [Option<Level<'de>>; 4],
    depth: usize,
    pending: Option<ValueDe<'de>>,
    general: bool,
    /// The JSON names the struct being filled reads, when it said so.
    fields: Option<&'static [&'static str]>,
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
fn wire_fits(f: &Field, v: &WireValue<'_>) -> bool {
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
fn already_emitted(level: &Level<'_>, start: &Reader<'_>, number: u32) -> Result<bool> {
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
enum ValueDe<'de> {
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

fn scalar<'de, V: Visitor<'de>>(s: Scalar, value: WireValue<'de>, v: V) -> Result<V::Value> {
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
struct Repeated<'de> {
    reader: Reader<'de>,
    number: u32,
    ty: Type,
    /// The rest of a packed run being read.
    packed: Option<Reader<'de>>,
    general: bool,
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
struct MapEntries<'de> {
    reader: Reader<'de>,
    number: u32,
    key: Scalar,
    value_ty: Type,
    value: Option<WireValue<'de>>,
    general: bool,
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

/// Standard base64 with padding (Go's JSON form of `[]byte`).
fn base64_encode(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2006-01-02T15:04:05Z` (or with `.000000` microseconds) into `buf`, without allocating.
fn format_rfc3339(secs: i64, nanos: i32, micro: bool, buf: &mut [u8; 40]) -> Result<&str> {
    fn digits(out: &mut [u8], mut v: u64) {
        for b in out.iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u64;
    let (y, mo, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return Err(Error::new("timestamp out of range"));
    }
    buf[..20].copy_from_slice(b"0000-00-00T00:00:00Z");
    digits(&mut buf[0..4], y as u64);
    digits(&mut buf[5..7], u64::from(mo));
    digits(&mut buf[8..10], u64::from(d));
    digits(&mut buf[11..13], rem / 3600);
    digits(&mut buf[14..16], rem / 60 % 60);
    digits(&mut buf[17..19], rem % 60);
    let n = if micro {
        buf[19] = b'.';
        digits(&mut buf[20..26], (nanos.max(0) as u64 / 1000) % 1_000_000);
        buf[26] = b'Z';
        27
    } else {
        20
    };
    utf8(&buf[..n])
}

/// Go's `time.Duration.String()` of `n` nanoseconds (`1h2m3s`, `1.5s`, `300ms`, `0s`).
fn format_go_duration(n: i64) -> String {
    if n == 0 {
        return "0s".into();
    }
    let neg = n < 0;
    let u = n.unsigned_abs();
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let frac = |v: u64, digits: u32| -> String {
        let p = 10u64.pow(digits);
        let (whole, f) = (v / p, v % p);
        if f == 0 {
            whole.to_string()
        } else {
            let fs = format!("{f:0width$}", width = digits as usize);
            format!("{whole}.{}", fs.trim_end_matches('0'))
        }
    };
    if u < 1_000 {
        s.push_str(&format!("{u}ns"));
    } else if u < 1_000_000 {
        s.push_str(&frac(u, 3));
        s.push_str("µs");
    } else if u < 1_000_000_000 {
        s.push_str(&frac(u, 6));
        s.push_str("ms");
    } else {
        let total_secs = u / 1_000_000_000;
        let h = total_secs / 3600;
        let m = total_secs / 60 % 60;
        let sec_ns = u - (h * 3600 + m * 60) * 1_000_000_000;
        if h > 0 {
            s.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            s.push_str(&format!("{m}m"));
        }
        s.push_str(&frac(sec_ns, 9));
        s.push('s');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_fields() {
        let mut r = Reader::new(&[0x08, 0xac, 0x02, 0x12, 0x02, b'h', b'i', 0x1d, 1, 0, 0, 0]);
        assert_eq!(r.next_field().unwrap(), Some((1, WireValue::Varint(300))));
        assert_eq!(r.next_field().unwrap(), Some((2, WireValue::Len(b"hi"))));
        assert_eq!(r.next_field().unwrap(), Some((3, WireValue::Fixed32(1))));
        assert_eq!(r.next_field().unwrap(), None);
        for bad in [
            &[0x08][..],
            &[0x12, 0x05, 1],
            &[0x0b],
            &[0x00, 0x00],
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
        ] {
            let mut r = Reader::new(bad);
            assert!(r.next_field().is_err(), "{bad:?}");
        }
    }

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

    #[test]
    fn times_and_durations() {
        let mut b = [0u8; 40];
        assert_eq!(
            format_rfc3339(0, 0, false, &mut b).unwrap(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            format_rfc3339(1_795_238_620, 0, false, &mut b).unwrap(),
            "2026-11-21T05:23:40Z"
        );
        assert_eq!(
            format_rfc3339(1_795_238_620, 123_456_000, true, &mut b).unwrap(),
            "2026-11-21T05:23:40.123456Z"
        );
        assert_eq!(
            format_rfc3339(-62_135_596_800, 0, false, &mut b).unwrap(),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(format_go_duration(3_723_000_000_000), "1h2m3s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(300_000_000), "300ms");
        assert_eq!(format_go_duration(60_000_000_000), "1m0s");
        assert_eq!(format_go_duration(-5), "-5ns");
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"ab"), "YWI=");
    }
}
