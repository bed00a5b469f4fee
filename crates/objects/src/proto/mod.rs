//! Decoding the Kubernetes protobuf encoding into the same slim structs as JSON.
//!
//! [`from_slice`] is a `serde` [`Deserializer`](serde::Deserializer) over protobuf bytes,
//! driven by the schema table of `kubestate-protoschema`: each field number is looked up in the
//! message's schema and presented to `serde` under its JSON name, so every slim struct decodes
//! from protobuf unchanged. (A derived struct lists the JSON names it reads; a field it lists
//! goes to its field visitor as the position in that list, a `visit_u64`, which spares the
//! string match. The position is found once per struct and message.) Values look the way the
//! JSON form presents them:
//!
//! * strings are borrowed from the input; `bytes` become base64 text (as Go's JSON writes
//!   `[]byte`); numbers and booleans are numbers and booleans;
//! * `repeated` fields are sequences and `map<K, V>` fields maps (their entries may be spread
//!   over the message and are gathered, as protobuf allows);
//! * `resource.Quantity` is its string, `meta.v1.Time`/`MicroTime` an RFC 3339 string (the
//!   zero time, an empty message, is Go's zero time; a [`Time`](crate::Time) asks for itself by
//!   a private newtype name and is handed seconds and nanoseconds instead, without the text
//!   round trip), `intstr.IntOrString` a number or a string,
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
//! The parts: `wire` (errors and the field [`Reader`]), `de` (the deserializer) and `text`
//! (base64 and RFC 3339 as the JSON form writes them).
//!
//! [`from_slice_by_name`] presents every field by name and every time as text: the reference
//! the fast path is tested against.
//!
//! [`Reader`] is the low-level field reader, also used to unwrap envelopes, lists and watch
//! frames (`kubestate-watch`).

use kubestate_protoschema::MessageId;

mod de;
mod pod;
mod text;
mod wire;

pub use de::{from_slice, from_slice_by_name};
pub use pod::{decode_meta, decode_pod, decode_pod_strict};
pub use wire::{Error, Reader, WireValue};

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

/// The message of a built-in kind by `apiVersion` and `kind` (`None` for custom resources).
pub fn message_of(api_version: &str, kind: &str) -> Option<MessageId> {
    kubestate_protoschema::kind(api_version, kind)
}
