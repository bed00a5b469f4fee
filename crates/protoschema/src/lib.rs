//! The Kubernetes protobuf schema of the kinds kube-state-metrics reads, as a static table.
//!
//! Place in the data flow: a leaf crate of facts. The simulator (`kubestate-sim`) uses it to
//! encode its JSON objects as protobuf; `kubestate-objects` uses it to decode protobuf into the
//! same slim structs it fills from JSON. It holds no code that touches the wire.
//!
//! # Where the facts come from
//!
//! [`table`](crate) is generated from the `generated.proto` files of the Kubernetes Go modules
//! `k8s.io/api@v0.36.3` and `k8s.io/apimachinery@v0.36.3` (the versions kube-state-metrics
//! v2.20 is built with) by our own small proto2 parser ([`gen`]). It keeps every message
//! reachable from the 39 kinds kube-state-metrics lists and watches (at the API versions it
//! uses), their `*List` types, `meta.v1.Status`, `meta.v1.WatchEvent`, `runtime.Unknown`,
//! `runtime.RawExtension` and `meta.v1.ListMeta`: for each message its fields' names, JSON
//! names, numbers, types and cardinality. The `.proto` files themselves are not committed.
//!
//! Regenerate (the modules are in the Go module cache wherever the reference KSM was built):
//!
//! ```sh
//! cargo run -p kubestate-protoschema --example generate -- \
//!     ~/go/pkg/mod/k8s.io/api@v0.36.3 ~/go/pkg/mod/k8s.io/apimachinery@v0.36.3 \
//!     > crates/protoschema/src/table.rs
//! ```
//!
//! A test re-runs the generator when those directories exist and requires the committed
//! table to be identical.
//!
//! # JSON names
//!
//! Kubernetes' `go-to-protobuf` names most proto fields after the Go field's JSON tag
//! (`hostIP`, `podIPs`, `continue`), but not all: `IngressClassParametersReference.apiGroup`
//! is `aPIGroup` in the proto, `OwnerReference.uid` is `uid` while some `uid`s are `uID`. So
//! the JSON names are taken from the `json` tags of the Go structs next to each
//! `generated.proto` (matched by type name and field number); the proto name is the fallback.
//! The messages whose JSON form is not an object are marked with a [`Special`].
//!
//! Embedded Go structs tagged `json:",inline"` are message fields in protobuf but flattened
//! into their parent in JSON; the generator finds them in the Go sources next to each
//! `generated.proto` (`types.go`) and marks them [`Field::inline`].
//!
//! # Example
//!
//! ```
//! use kubestate_protoschema::{kind, Type};
//!
//! let pod = kind("v1", "Pod").unwrap().def();
//! let status = pod.field_by_json("status").unwrap();
//! let Type::Message(status) = status.ty else { panic!() };
//! let host_ip = status.def().field_by_json("hostIP").unwrap();
//! assert_eq!(host_ip.number, 5);
//! ```
#![deny(missing_docs)]

pub mod gen;
#[rustfmt::skip]
mod table;

/// A scalar protobuf type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// `double` (fixed 64-bit).
    Double,
    /// `float` (fixed 32-bit).
    Float,
    /// `int32` (varint, negative values sign-extended to 64 bits).
    Int32,
    /// `int64` (varint).
    Int64,
    /// `uint32` (varint).
    Uint32,
    /// `uint64` (varint).
    Uint64,
    /// `sint32` (zigzag varint).
    Sint32,
    /// `sint64` (zigzag varint).
    Sint64,
    /// `fixed32`.
    Fixed32,
    /// `fixed64`.
    Fixed64,
    /// `sfixed32`.
    Sfixed32,
    /// `sfixed64`.
    Sfixed64,
    /// `bool` (varint).
    Bool,
    /// `string` (length-delimited UTF-8).
    String,
    /// `bytes` (length-delimited; base64 in JSON).
    Bytes,
}

impl Scalar {
    /// The proto type name (`int32`, `string`, …).
    pub fn proto_name(self) -> &'static str {
        match self {
            Scalar::Double => "double",
            Scalar::Float => "float",
            Scalar::Int32 => "int32",
            Scalar::Int64 => "int64",
            Scalar::Uint32 => "uint32",
            Scalar::Uint64 => "uint64",
            Scalar::Sint32 => "sint32",
            Scalar::Sint64 => "sint64",
            Scalar::Fixed32 => "fixed32",
            Scalar::Fixed64 => "fixed64",
            Scalar::Sfixed32 => "sfixed32",
            Scalar::Sfixed64 => "sfixed64",
            Scalar::Bool => "bool",
            Scalar::String => "string",
            Scalar::Bytes => "bytes",
        }
    }

    /// The scalar named `name` in a `.proto` file.
    pub fn from_proto_name(name: &str) -> Option<Scalar> {
        Some(match name {
            "double" => Scalar::Double,
            "float" => Scalar::Float,
            "int32" => Scalar::Int32,
            "int64" => Scalar::Int64,
            "uint32" => Scalar::Uint32,
            "uint64" => Scalar::Uint64,
            "sint32" => Scalar::Sint32,
            "sint64" => Scalar::Sint64,
            "fixed32" => Scalar::Fixed32,
            "fixed64" => Scalar::Fixed64,
            "sfixed32" => Scalar::Sfixed32,
            "sfixed64" => Scalar::Sfixed64,
            "bool" => Scalar::Bool,
            "string" => Scalar::String,
            "bytes" => Scalar::Bytes,
            _ => return None,
        })
    }

    /// The wire type a single (unpacked) value of this scalar is written with.
    pub fn wire_type(self) -> WireType {
        match self {
            Scalar::Double | Scalar::Fixed64 | Scalar::Sfixed64 => WireType::Fixed64,
            Scalar::Float | Scalar::Fixed32 | Scalar::Sfixed32 => WireType::Fixed32,
            Scalar::String | Scalar::Bytes => WireType::Len,
            _ => WireType::Varint,
        }
    }
}

/// Protobuf wire types (the low three bits of a field key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireType {
    /// 0: a varint.
    Varint,
    /// 1: eight bytes, little endian.
    Fixed64,
    /// 2: a varint length, then that many bytes.
    Len,
    /// 5: four bytes, little endian.
    Fixed32,
}

impl WireType {
    /// The wire type's number.
    pub fn number(self) -> u8 {
        match self {
            WireType::Varint => 0,
            WireType::Fixed64 => 1,
            WireType::Len => 2,
            WireType::Fixed32 => 5,
        }
    }
}

/// Index of a message in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u16);

impl MessageId {
    /// The message's definition.
    pub fn def(self) -> &'static MessageDef {
        &table::MESSAGES[usize::from(self.0)]
    }
}

/// The type of a field (for maps: of the values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// A scalar.
    Scalar(Scalar),
    /// A message.
    Message(MessageId),
}

impl Type {
    /// The wire type of one (unpacked) value.
    pub fn wire_type(self) -> WireType {
        match self {
            Type::Scalar(s) => s.wire_type(),
            Type::Message(_) => WireType::Len,
        }
    }
}

/// How many values a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cardinality {
    /// `optional`: at most one (the last occurrence wins).
    Optional,
    /// `repeated`: a list (scalars may also arrive packed).
    Repeated,
    /// `map<key, value>`: repeated entry messages `{key = 1, value = 2}`; the field's
    /// [`Field::ty`] is the value type.
    Map {
        /// The key type.
        key: Scalar,
    },
}

/// Messages whose JSON form is not an object of their fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Special {
    /// An ordinary message: a JSON object of its fields.
    None,
    /// `resource.Quantity` `{string = 1}`: a JSON string (`"250m"`).
    Quantity,
    /// `meta.v1.Time` `{seconds = 1, nanos = 2}`: an RFC 3339 string with seconds, or `null`
    /// (the zero time is written as an empty message).
    Time,
    /// `meta.v1.MicroTime`: an RFC 3339 string with microseconds, or `null`.
    MicroTime,
    /// `meta.v1.Duration` `{duration = 1}` (nanoseconds): a Go duration string (`"1h2m3s"`).
    Duration,
    /// `intstr.IntOrString` `{type = 1, intVal = 2, strVal = 3}`: a JSON number (type 0) or
    /// string (type 1).
    IntOrString,
    /// `runtime.RawExtension` `{raw = 1}`: the raw bytes are the JSON value itself.
    RawExtension,
    /// `meta.v1.FieldsV1` `{Raw = 1}`: the raw bytes are the JSON value itself.
    FieldsV1,
    /// A message marked `+protobuf.nullable=true` wrapping a Go slice (`ExtraValue`): a JSON
    /// array of its single repeated field `items`.
    ArrayWrapper,
}

/// One field of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The proto field name.
    pub name: &'static str,
    /// The JSON member name (from the Go `json` tag; see the crate doc).
    pub json_name: &'static str,
    /// The field number.
    pub number: u32,
    /// The field's type (for maps: the value type).
    pub ty: Type,
    /// Optional, repeated or map.
    pub card: Cardinality,
    /// An embedded Go struct tagged `json:",inline"` (`Probe.handler`, `Volume.volumeSource`):
    /// a message field in protobuf whose fields appear directly in the parent's JSON object.
    pub inline: bool,
}

/// One message.
#[derive(Debug)]
pub struct MessageDef {
    /// Fully qualified name without the leading dot (`k8s.io.api.core.v1.Pod`).
    pub name: &'static str,
    /// How the message looks in JSON.
    pub special: Special,
    /// Fields sorted by number.
    pub fields: &'static [Field],
    /// Indexes into `fields`, sorted by JSON name.
    pub by_json: &'static [u16],
    /// Dense lookup by field number: `by_number[n]` is the index into `fields` plus one, or 0
    /// when the message has no field `n` (its length is the largest number plus one).
    pub by_number: &'static [u8],
}

impl MessageDef {
    /// The field with this number.
    #[inline]
    pub fn field(&self, number: u32) -> Option<&'static Field> {
        let fields: &'static [Field] = self.fields;
        match self.by_number.get(number as usize) {
            Some(&i) if i > 0 => fields.get(usize::from(i) - 1),
            Some(_) => None,
            // Beyond the dense table (never generated that way): search.
            None => fields
                .binary_search_by_key(&number, |f| f.number)
                .ok()
                .map(|i| &fields[i]),
        }
    }

    /// The field with this JSON name.
    pub fn field_by_json(&self, json_name: &str) -> Option<&'static Field> {
        let fields: &'static [Field] = self.fields;
        self.by_json
            .binary_search_by(|&i| fields[usize::from(i)].json_name.cmp(json_name))
            .ok()
            .map(|i| &fields[usize::from(self.by_json[i])])
    }

    /// The short name (`Pod`).
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('.').next().unwrap_or(self.name)
    }
}

/// The message with this fully qualified name (`k8s.io.api.core.v1.Pod`, no leading dot).
pub fn message(name: &str) -> Option<MessageId> {
    table::MESSAGES
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .and_then(|i| u16::try_from(i).ok())
        .map(MessageId)
}

/// Every message of the table, sorted by name.
pub fn messages() -> impl ExactSizeIterator<Item = (MessageId, &'static MessageDef)> {
    table::MESSAGES
        .iter()
        .enumerate()
        .map(|(i, m)| (MessageId(i as u16), m))
}

/// The message of a served kind by `apiVersion` and `kind` (`("apps/v1", "Deployment")`),
/// including the `*List` kinds and `("v1", "Status")`. Custom resources have none.
pub fn kind(api_version: &str, kind: &str) -> Option<MessageId> {
    table::KINDS
        .binary_search_by(|(v, k, _)| (*v, *k).cmp(&(api_version, kind)))
        .ok()
        .map(|i| table::KINDS[i].2)
}

/// Every served kind: `(apiVersion, kind, message)`, sorted.
pub fn kinds() -> &'static [(&'static str, &'static str, MessageId)] {
    &table::KINDS
}

/// `runtime.Unknown`, the envelope of protobuf bodies.
pub fn unknown() -> MessageId {
    table::UNKNOWN
}

/// `meta.v1.WatchEvent`, the body of one watch frame.
pub fn watch_event() -> MessageId {
    table::WATCH_EVENT
}

/// `meta.v1.ListMeta`.
pub fn list_meta() -> MessageId {
    table::LIST_META
}

/// `meta.v1.Status`.
pub fn status() -> MessageId {
    table::STATUS
}

/// The well-known messages by fully qualified name, as the generator finds them.
pub const WELL_KNOWN: &[(&str, Special)] = &[
    (
        "k8s.io.apimachinery.pkg.api.resource.Quantity",
        Special::Quantity,
    ),
    ("k8s.io.apimachinery.pkg.apis.meta.v1.Time", Special::Time),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
        Special::MicroTime,
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
        Special::Duration,
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
        Special::FieldsV1,
    ),
    (
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
        Special::IntOrString,
    ),
    (
        "k8s.io.apimachinery.pkg.runtime.RawExtension",
        Special::RawExtension,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_list_resolves() {
        assert_eq!(kinds().len(), 39 * 2 + 1);
        for (v, k, id) in kinds() {
            assert_eq!(id.def().short_name(), *k, "{v} {k}");
            assert_eq!(kind(v, k), Some(*id));
            let meta = id.def().field_by_json("metadata").expect("metadata");
            assert_eq!(meta.number, 1);
        }
        for (v, k) in [
            ("v1", "Pod"),
            ("v1", "PodList"),
            ("apps/v1", "Deployment"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            (
                "admissionregistration.k8s.io/v1",
                "MutatingAdmissionPolicyBinding",
            ),
            ("v1", "Status"),
        ] {
            assert!(kind(v, k).is_some(), "{v} {k}");
        }
        assert!(kind("example.com/v1", "Widget").is_none());
    }

    #[test]
    fn tables_are_sorted_and_consistent() {
        for (id, m) in messages() {
            assert_eq!(message(m.name), Some(id));
            assert!(
                m.fields.windows(2).all(|w| w[0].number < w[1].number),
                "{}",
                m.name
            );
            assert_eq!(m.by_json.len(), m.fields.len());
            assert_eq!(
                m.by_number.len(),
                m.fields.last().map_or(0, |f| f.number as usize + 1)
            );
            assert_eq!(m.field(10_000), None);
            for f in m.fields {
                assert_eq!(m.field(f.number), Some(f));
                assert_eq!(
                    m.field_by_json(f.json_name),
                    Some(f),
                    "{}.{}",
                    m.name,
                    f.name
                );
            }
        }
        for (name, special) in WELL_KNOWN {
            // meta.v1.Duration is not reachable from the served kinds.
            match message(name) {
                Some(m) => assert_eq!(m.def().special, *special),
                None => assert_eq!(*special, Special::Duration, "{name} missing"),
            }
        }
    }

    #[test]
    fn envelope_and_watch_facts() {
        let u = unknown().def();
        let n = |m: &MessageDef, f: &str| m.field_by_json(f).map(|f| f.number);
        assert_eq!(n(u, "typeMeta"), Some(1));
        assert_eq!(n(u, "raw"), Some(2));
        assert_eq!(n(u, "contentEncoding"), Some(3));
        assert_eq!(n(u, "contentType"), Some(4));
        let w = watch_event().def();
        assert_eq!(n(w, "type"), Some(1));
        assert_eq!(n(w, "object"), Some(2));
        let l = list_meta().def();
        assert_eq!(n(l, "resourceVersion"), Some(2));
        assert_eq!(n(l, "continue"), Some(3));
        let meta = message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")
            .unwrap()
            .def();
        let labels = meta.field_by_json("labels").unwrap();
        assert_eq!(labels.number, 11);
        assert_eq!(
            labels.card,
            Cardinality::Map {
                key: Scalar::String
            }
        );
        let extra = message("k8s.io.api.certificates.v1.ExtraValue").unwrap();
        assert_eq!(extra.def().special, Special::ArrayWrapper);
        let inline = |m: &str, f: &str| {
            message(m)
                .and_then(|m| m.def().field_by_json(f))
                .map(|f| f.inline)
        };
        assert_eq!(inline("k8s.io.api.core.v1.Probe", "handler"), Some(true));
        assert_eq!(
            inline("k8s.io.api.core.v1.Volume", "volumeSource"),
            Some(true)
        );
        assert_eq!(
            inline(
                "k8s.io.api.core.v1.EphemeralContainer",
                "ephemeralContainerCommon"
            ),
            Some(true)
        );
        assert_eq!(inline("k8s.io.api.core.v1.Volume", "name"), Some(false));
        let params = message("k8s.io.api.networking.v1.IngressClassParametersReference")
            .unwrap()
            .def();
        let api_group = params.field_by_json("apiGroup").unwrap();
        assert_eq!((api_group.name, api_group.number), ("aPIGroup", 1));
        let inlined = messages()
            .flat_map(|(_, m)| m.fields.iter())
            .filter(|f| f.inline)
            .count();
        assert!(inlined >= 15, "{inlined}");
    }
}
