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
/// Fields a derived struct lists are handed to its field visitor by their position in that
/// list, which is the field's index only when no field of `T` (or of a struct inside it) has
/// `#[serde(alias)]`: derive `Deserialize` without aliases for types decoded here.
///
/// Go writes the elements of a repeated field (and the entries of a map) one after the other,
/// so they are first read as one run, without looking further. Protobuf also allows them to be
/// spread over the message; when that happens the message is decoded again, gathering every
/// occurrence.
pub fn from_slice<'de, T: de::Deserialize<'de>>(bytes: &'de [u8], msg: MessageId) -> Result<T> {
    decode(bytes, msg, false)
}

/// [`from_slice`] the way it presents values to `serde` when it knows nothing of the struct
/// it fills: every field under its JSON name, every timestamp as RFC 3339 text parsed back.
/// Slower, and the reference the fast path is tested against (every object of the conformance
/// worlds and of synthesized worlds must decode to the same struct both ways).
///
/// # Errors
/// As [`from_slice`].
#[doc(hidden)]
pub fn from_slice_by_name<'de, T: de::Deserialize<'de>>(
    bytes: &'de [u8],
    msg: MessageId,
) -> Result<T> {
    decode(bytes, msg, true)
}

fn decode<'de, T: de::Deserialize<'de>>(
    bytes: &'de [u8],
    msg: MessageId,
    by_name: bool,
) -> Result<T> {
    let mode = Mode {
        general: false,
        by_name,
    };
    match T::deserialize(MessageDe {
        buf: bytes,
        msg,
        mode,
    }) {
        Err(e) if e.split_run => T::deserialize(MessageDe {
            buf: bytes,
            msg,
            mode: Mode {
                general: true,
                ..mode
            },
        }),
        r => r,
    }
}

/// How a decode runs.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mode {
    /// Gather repeated fields from anywhere in the message (else: one run each).
    pub(super) general: bool,
    /// Present every key by its JSON name and every timestamp as text (the reference path).
    pub(super) by_name: bool,
}

/// A message-typed value.
pub(super) struct MessageDe<'de> {
    pub(super) buf: &'de [u8],
    pub(super) msg: MessageId,
    pub(super) mode: Mode,
}

impl<'de> Deserializer<'de> for MessageDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let def = self.msg.def();
        match def.special {
            Special::None => v.visit_map(MessageMap::new(self.buf, self.msg, self.mode, None)),
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
                mode: self.mode,
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
            Special::None => {
                v.visit_map(MessageMap::new(self.buf, self.msg, self.mode, Some(fields)))
            }
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_some(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_unit()
    }

    /// A [`Time`](crate::Time) asks for itself by name: a `meta.v1.Time` or `MicroTime` is
    /// handed over as seconds and nanoseconds, without the RFC 3339 text round trip.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value> {
        if name == crate::time::WIRE_NAME && !self.mode.by_name {
            if let Some(t) = time_of(self.buf, self.msg.def().special)? {
                return v.visit_i128(t.to_wire());
            }
        }
        v.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map enum identifier
    }
}

/// The [`Time`](crate::Time) a `meta.v1.Time` or `MicroTime` message holds, exactly as its RFC
/// 3339 text (what the JSON form and `deserialize_any` present) parses: the empty message is
/// Go's zero time, a `Time` drops its nanoseconds, a `MicroTime` keeps whole microseconds, and
/// a year outside 0–9999 is an error (the text form has four digits). `None` for other
/// messages.
pub(super) fn time_of(buf: &[u8], special: Special) -> Result<Option<crate::Time>> {
    let micro = match special {
        Special::Time => false,
        Special::MicroTime => true,
        _ => return Ok(None),
    };
    if buf.is_empty() {
        return Ok(Some(crate::Time {
            secs: crate::time::GO_ZERO_UNIX,
            nanos: 0,
        }));
    }
    let secs = Reader::find_varint(buf, 1)?.unwrap_or(0) as i64;
    let (y, _, _) = kubestate_gotime::civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&y) {
        return Err(Error::new("timestamp out of range"));
    }
    let nanos = if micro {
        let n = Reader::find_varint(buf, 2)?.unwrap_or(0) as i64 as i32;
        (n.max(0) as u32 / 1000 % 1_000_000) * 1000
    } else {
        0
    };
    Ok(Some(crate::Time { secs, nanos }))
}

/// Position inside a message being presented as a map (inline fields push a level).
#[derive(Clone)]
pub(super) struct Level<'de> {
    pub(super) reader: Reader<'de>,
    pub(super) msg: MessageId,
    /// Repeated/map fields (numbers < 64) already presented as a whole.
    pub(super) emitted: u64,
    /// What the struct being filled does with each field of `msg`.
    pub(super) plan: &'static Plan,
}

/// What a struct reading `fields` (its JSON names) does with each field of a message, by
/// field number: skips it, reads it at a position of `fields` (presented to the derived field
/// visitor by that position, as `visit_u64`, instead of by name), or, for an inline field,
/// reads some of its members. Computed once per struct and message.
pub(super) struct Plan {
    slots: Box<[u8]>,
}

impl Plan {
    /// The field is not read.
    pub(super) const SKIP: u8 = 0xff;
    /// An inline field: its members are read.
    pub(super) const INLINE: u8 = 0xfe;
    /// Presented by name only (the struct gave no field list, or a position too large).
    pub(super) const BY_NAME: u8 = 0xfd;

    fn new(msg: MessageId, fields: Option<&'static [&'static str]>) -> Plan {
        let def = msg.def();
        let len = def
            .fields
            .iter()
            .map(|f| f.number as usize + 1)
            .max()
            .unwrap_or(0);
        let mut slots = vec![Plan::SKIP; len];
        for f in def.fields {
            slots[f.number as usize] = if f.inline {
                Plan::INLINE
            } else {
                match fields.map(|names| names.iter().position(|n| *n == f.json_name)) {
                    None => Plan::BY_NAME,
                    Some(None) => Plan::SKIP,
                    Some(Some(i)) => u8::try_from(i)
                        .ok()
                        .filter(|&i| i < Plan::BY_NAME)
                        .unwrap_or(Plan::BY_NAME),
                }
            };
        }
        Plan {
            slots: slots.into_boxed_slice(),
        }
    }

    /// The slot of field `number` (a field the schema does not know is skipped).
    #[inline]
    pub(super) fn slot(&self, number: u32) -> u8 {
        self.slots
            .get(number as usize)
            .copied()
            .unwrap_or(Plan::SKIP)
    }
}

/// The plan of a struct reading `fields` from `msg`. Plans live for the whole process: there is
/// one per (struct, message) pair the decoder meets, a bounded set. A direct-mapped
/// per-thread cache in front of a shared table keeps the lookup to a few instructions.
pub(super) fn plan(msg: MessageId, fields: Option<&'static [&'static str]>) -> &'static Plan {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    /// (fields address, fields length, message); (0, 0, message) when no list was given.
    type Key = (usize, usize, u16);
    type Slot = Option<(Key, &'static Plan)>;
    thread_local! {
        static CACHE: RefCell<[Slot; 256]> = const { RefCell::new([None; 256]) };
    }
    static PLANS: OnceLock<Mutex<HashMap<Key, &'static Plan>>> = OnceLock::new();
    let key = match fields {
        Some(f) => (f.as_ptr() as usize, f.len(), msg.0),
        None => (0, 0, msg.0),
    };
    let slot = ((key.0 >> 3) ^ (key.0 >> 11) ^ usize::from(key.2).wrapping_mul(31)) & 255;
    if let Some(p) = CACHE.with(|c| match c.borrow()[slot] {
        Some((k, p)) if k == key => Some(p),
        _ => None,
    }) {
        return p;
    }
    let plans = PLANS.get_or_init(Mutex::default);
    let p = {
        let mut plans = plans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *plans
            .entry(key)
            .or_insert_with(|| Box::leak(Box::new(Plan::new(msg, fields))))
    };
    CACHE.with(|c| c.borrow_mut()[slot] = Some((key, p)));
    p
}

/// The fields of a message, as a JSON object would present them.
pub(super) struct MessageMap<'de> {
    pub(super) levels: [Option<Level<'de>>; 4],
    pub(super) depth: usize,
    pub(super) pending: Option<ValueDe<'de>>,
    pub(super) mode: Mode,
    /// The JSON names the struct being filled reads, when it said so.
    pub(super) fields: Option<&'static [&'static str]>,
}

impl<'de> MessageMap<'de> {
    fn new(
        buf: &'de [u8],
        msg: MessageId,
        mode: Mode,
        fields: Option<&'static [&'static str]>,
    ) -> MessageMap<'de> {
        MessageMap {
            levels: [
                Some(Level {
                    reader: Reader::new(buf),
                    msg,
                    emitted: 0,
                    plan: plan(msg, fields),
                }),
                None,
                None,
                None,
            ],
            depth: 0,
            pending: None,
            mode,
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
            let slot = level.plan.slot(number);
            if slot == Plan::SKIP {
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
                    plan: plan(m, self.fields),
                });
                self.depth += 1;
                continue;
            }
            let grouped = matches!(f.card, Cardinality::Repeated | Cardinality::Map { .. });
            let mode = self.mode;
            let general = mode.general;
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
                    mode,
                },
                None => ValueDe::Single {
                    ty: f.ty,
                    value,
                    mode,
                },
            });
            if slot < Plan::BY_NAME && !mode.by_name {
                return seed
                    .deserialize(KeyDe {
                        index: slot,
                        name: f.json_name,
                    })
                    .map(Some);
            }
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

/// A key the struct named in its field list: its position there for the derived field
/// visitor (`deserialize_identifier`, which takes `visit_u64` as that position), its JSON
/// name for anything else.
struct KeyDe {
    index: u8,
    name: &'static str,
}

impl<'de> Deserializer<'de> for KeyDe {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_borrowed_str(self.name)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_u64(u64::from(self.index))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum ignored_any
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
        mode: Mode,
    },
    /// A repeated or map field: every occurrence in `reader`.
    Group {
        field: &'static Field,
        reader: Reader<'de>,
        mode: Mode,
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
            ValueDe::Single { ty, value, mode } => match (ty, value) {
                (Type::Scalar(s), value) => scalar(s, value, v),
                (Type::Message(msg), WireValue::Len(buf)) => {
                    MessageDe { buf, msg, mode }.deserialize_any(v)
                }
                (Type::Message(_), _) => Err(Error::new("message field is not length-delimited")),
            },
            ValueDe::Group {
                field,
                reader,
                mode,
            } => match field.card {
                Cardinality::Map { key } => v.visit_map(MapEntries {
                    reader,
                    number: field.number,
                    key,
                    value_ty: field.ty,
                    value: None,
                    mode,
                }),
                _ => v.visit_seq(Repeated {
                    reader,
                    number: field.number,
                    ty: field.ty,
                    packed: None,
                    mode,
                }),
            },
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self {
            ValueDe::Single {
                ty: Type::Message(msg),
                value: WireValue::Len(buf),
                mode,
            } => MessageDe { buf, msg, mode }.deserialize_option(v),
            other => v.visit_some(other),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value> {
        match self {
            ValueDe::Single {
                ty: Type::Message(msg),
                value: WireValue::Len(buf),
                mode,
            } => MessageDe { buf, msg, mode }.deserialize_newtype_struct(name, v),
            other => v.visit_newtype_struct(other),
        }
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
                mode,
            } => MessageDe { buf, msg, mode }.deserialize_struct(name, fields, v),
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
    pub(super) mode: Mode,
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
                    mode: self.mode,
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
    pub(super) mode: Mode,
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
                mode: self.mode,
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
    fn varint(mut x: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (x & 0x7f) as u8;
            x >>= 7;
            if x == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    fn len_field(n: u32, data: &[u8]) -> Vec<u8> {
        [
            varint(u64::from(n << 3 | 2)),
            varint(data.len() as u64),
            data.to_vec(),
        ]
        .concat()
    }

    /// Timestamps handed over as numbers are exactly what their RFC 3339 text parses to, for
    /// `Time` (seconds only) and `MicroTime` (whole microseconds), across the years the text
    /// form allows and beyond (errors both ways), negative and oversized nanoseconds, the
    /// year 0 and days past the 28th (which the text path leaves to chrono) and the empty
    /// message (Go's zero time).
    #[test]
    fn timestamps_by_number_match_the_text_round_trip() {
        let meta =
            kubestate_protoschema::message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")
                .unwrap();
        let lease = kubestate_protoschema::message("k8s.io.api.coordination.v1.Lease").unwrap();
        let spec = kubestate_protoschema::message("k8s.io.api.coordination.v1.LeaseSpec").unwrap();
        let created = meta
            .def()
            .field_by_json("creationTimestamp")
            .unwrap()
            .number;
        let renew = spec.def().field_by_json("renewTime").unwrap().number;
        let lease_spec = lease.def().field_by_json("spec").unwrap().number;
        let day = 86_400i64;
        let year0 = -62_167_219_200i64; // 0000-01-01T00:00:00Z
        let mut secs = vec![
            0,
            1,
            -1,
            59,
            1_795_238_620,
            i64::MAX,
            i64::MIN,
            -62_135_596_800,
        ];
        for base in [year0, year0 + 29 * day, -62_135_596_800, 0, 253_402_300_799] {
            for d in [-400, -1, 0, 1, 27, 28, 29, 30, 31, 59, 60, 365, 366] {
                for s in [-1, 0, 1, 3599, 86_399] {
                    secs.push(base + d * day + s);
                }
            }
        }
        let mut n = 0;
        for &s in &secs {
            for nanos in [
                None,
                Some(0i64),
                Some(999),
                Some(1_000),
                Some(123_456_789),
                Some(-5),
            ] {
                let mut t = varint(s as u64);
                t.insert(0, 0x08);
                if let Some(ns) = nanos {
                    t.push(0x10);
                    t.extend(varint(ns as i32 as i64 as u64));
                }
                let m = len_field(created, &t);
                let fast = format!("{:?}", from_slice::<crate::Meta>(&m, meta));
                let slow = format!("{:?}", from_slice_by_name::<crate::Meta>(&m, meta));
                assert_eq!(fast, slow, "Time secs {s} nanos {nanos:?}");
                let l = len_field(lease_spec, &len_field(renew, &t));
                let fast = format!("{:?}", from_slice::<crate::lease::Lease>(&l, lease));
                let slow = format!("{:?}", from_slice_by_name::<crate::lease::Lease>(&l, lease));
                assert_eq!(fast, slow, "MicroTime secs {s} nanos {nanos:?}");
                n += usize::from(!fast.starts_with("Err"));
            }
        }
        assert!(n > 500, "only {n} valid timestamps");
        // The empty message, and a wrong wire type inside the time.
        for t in [&[][..], &[0x09, 0, 0, 0, 0, 0, 0, 0, 0], &[0x08]] {
            let m = len_field(created, t);
            assert_eq!(
                format!("{:?}", from_slice::<crate::Meta>(&m, meta)),
                format!("{:?}", from_slice_by_name::<crate::Meta>(&m, meta)),
            );
        }
    }

    /// Keys go to the derived field visitors by position in the struct's field list, which is
    /// the field's index only while no field has a `#[serde(alias)]` (aliases are listed too)
    /// and none is skipped. No struct of this crate may use either.
    #[test]
    fn no_struct_uses_serde_alias_or_skip() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut checked = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for bad in ["alias", "skip_deserializing", "serde(skip", ", skip"] {
                    assert!(!text.contains(bad), "{} uses `{bad}`", p.display());
                }
                checked += 1;
            }
        }
        assert!(checked > 30, "only {checked} files checked");
    }
}
