//! Wire details: request URLs, `Status` bodies, list envelopes, watch event lines.

use std::time::Duration;

use kubestate_objects::proto::{Reader, WireValue};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Error;

/// Appends `v` percent-encoded for a query value.
pub(crate) fn push_query_value(out: &mut String, v: &str) {
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// A query string builder.
#[derive(Default)]
pub(crate) struct Query(String);

impl Query {
    pub(crate) fn add(&mut self, k: &str, v: &str) -> &mut Self {
        self.0.push(if self.0.is_empty() { '?' } else { '&' });
        self.0.push_str(k);
        self.0.push('=');
        push_query_value(&mut self.0, v);
        self
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusBody {
    code: u16,
    reason: String,
    message: String,
}

/// Turns a failed response into an [`Error::Api`], using its `Status` body (JSON or protobuf)
/// when it has one.
pub(crate) fn api_error(code: u16, body: &[u8], retry_after: Option<Duration>) -> Error {
    let s: StatusBody = match envelope(body) {
        Ok(env) => proto_from(&env).unwrap_or_default(),
        Err(_) => serde_json::from_slice(body).unwrap_or_default(),
    };
    Error::Api {
        code: if s.code != 0 { s.code } else { code },
        reason: s.reason,
        message: if s.message.is_empty() {
            String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned()
        } else {
            s.message
        },
        retry_after,
    }
}

/// A list response with its items left as raw JSON.
#[derive(Deserialize)]
pub(crate) struct ListPage<'a> {
    #[serde(default)]
    pub(crate) metadata: ListMeta,
    #[serde(borrow, default)]
    pub(crate) items: Vec<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ListMeta {
    pub(crate) resource_version: String,
    #[serde(rename = "continue")]
    pub(crate) continue_: String,
}

/// One line of a watch stream.
#[derive(Deserialize)]
pub(crate) struct WatchLine<'a> {
    #[serde(rename = "type")]
    pub(crate) type_: &'a str,
    #[serde(borrow)]
    pub(crate) object: &'a RawValue,
}

/// The parts of an object's metadata the watcher needs.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ObjectHead {
    pub(crate) metadata: HeadMeta,
    // Status objects of ERROR events.
    pub(crate) code: u16,
    pub(crate) reason: String,
    pub(crate) message: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct HeadMeta {
    pub(crate) resource_version: String,
    pub(crate) annotations: Option<std::collections::HashMap<String, String>>,
}

/// The protobuf media type.
pub(crate) const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// `Accept` of requests for built-in kinds: protobuf preferred, JSON as the fallback (what
/// client-go sends); the response's `Content-Type` says which one came.
pub(crate) const ACCEPT_PROTOBUF: &str = "application/vnd.kubernetes.protobuf, application/json";

/// Whether a `Content-Type` is protobuf (`;stream=watch` included).
pub(crate) fn is_protobuf(content_type: Option<&http::HeaderValue>) -> bool {
    content_type.is_some_and(|v| v.as_bytes().starts_with(PROTOBUF.as_bytes()))
}

/// A protobuf body: `k8s\0` + `runtime.Unknown{typeMeta{apiVersion, kind}, raw}`.
pub(crate) struct Envelope<'a> {
    pub(crate) api_version: &'a str,
    pub(crate) kind: &'a str,
    /// The message (object, list or Status).
    pub(crate) raw: &'a [u8],
}

fn proto_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Protocol(format!("{what}: {e}"))
}

/// Unwraps a protobuf body.
pub(crate) fn envelope(body: &[u8]) -> Result<Envelope<'_>, Error> {
    let rest = body
        .strip_prefix(b"k8s\0")
        .ok_or_else(|| Error::Protocol("protobuf body without the k8s magic".into()))?;
    let tm = Reader::find_bytes(rest, 1)
        .map_err(|e| proto_err("envelope", e))?
        .unwrap_or_default();
    let s = |n| -> Result<&str, Error> {
        let b = Reader::find_bytes(tm, n)
            .map_err(|e| proto_err("envelope type", e))?
            .unwrap_or_default();
        std::str::from_utf8(b).map_err(|e| proto_err("envelope type", e))
    };
    Ok(Envelope {
        api_version: s(1)?,
        kind: s(2)?,
        raw: Reader::find_bytes(rest, 2)
            .map_err(|e| proto_err("envelope", e))?
            .unwrap_or_default(),
    })
}

/// Decodes an envelope's message into `T` by its kind's schema.
pub(crate) fn proto_from<'a, T: Deserialize<'a>>(env: &Envelope<'a>) -> Result<T, Error> {
    let msg = kubestate_objects::proto::message_of(env.api_version, env.kind).ok_or_else(|| {
        Error::Protocol(format!(
            "no protobuf schema for {} {}",
            env.api_version, env.kind
        ))
    })?;
    kubestate_objects::proto::from_slice(env.raw, msg).map_err(|e| proto_err(env.kind, e))
}

/// A protobuf list page: its metadata and its items' messages.
pub(crate) struct ProtoPage<'a> {
    pub(crate) metadata: ListMeta,
    pub(crate) items: Vec<&'a [u8]>,
}

/// Parses a protobuf list body (`*List{metadata = 1, items = 2}` in an envelope).
pub(crate) fn proto_list(body: &[u8]) -> Result<ProtoPage<'_>, Error> {
    let env = envelope(body)?;
    let mut r = Reader::new(env.raw);
    let mut page = ProtoPage {
        metadata: ListMeta::default(),
        items: Vec::new(),
    };
    while let Some((n, v)) = r.next_field().map_err(|e| proto_err("list", e))? {
        match (n, v) {
            (1, WireValue::Len(m)) => {
                page.metadata =
                    kubestate_objects::proto::from_slice(m, kubestate_protoschema::list_meta())
                        .map_err(|e| proto_err("list metadata", e))?;
            }
            (2, WireValue::Len(item)) => page.items.push(item),
            (1 | 2, _) => return Err(Error::Protocol("list field of the wrong wire type".into())),
            _ => {}
        }
    }
    Ok(page)
}

/// Parses one protobuf watch frame (`meta.v1.WatchEvent{type, object{raw}}`, the length
/// prefix already removed): the event type and the object's envelope.
pub(crate) fn proto_watch_event(frame: &[u8]) -> Result<(&str, Envelope<'_>), Error> {
    let ty = Reader::find_bytes(frame, 1)
        .map_err(|e| proto_err("watch event", e))?
        .unwrap_or_default();
    let ty = std::str::from_utf8(ty).map_err(|e| proto_err("watch event type", e))?;
    let obj = Reader::find_bytes(frame, 2)
        .map_err(|e| proto_err("watch event", e))?
        .unwrap_or_default();
    let raw = Reader::find_bytes(obj, 1)
        .map_err(|e| proto_err("watch event object", e))?
        .unwrap_or_default();
    Ok((ty, envelope(raw)?))
}

/// The `metadata.resourceVersion` of an object message (`ObjectMeta` is field 1 of every
/// kind, `resourceVersion` field 6 of it), or `""` when it cannot be read: such an object is
/// still handed on, it just does not advance the resume point.
pub(crate) fn proto_resource_version(msg: &[u8]) -> &str {
    Reader::find_bytes(msg, 1)
        .ok()
        .flatten()
        .and_then(|meta| Reader::find_bytes(meta, 6).ok().flatten())
        .and_then(|rv| std::str::from_utf8(rv).ok())
        .unwrap_or_default()
}

/// The annotation that marks the end of the initial events of a watch-list.
pub(crate) const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        let mut q = Query::default();
        q.add("fieldSelector", "metadata.namespace!=a,spec.nodeName=")
            .add("limit", "500");
        assert_eq!(
            q.as_str(),
            "?fieldSelector=metadata.namespace%21%3Da%2Cspec.nodeName%3D&limit=500"
        );
    }

    #[test]
    fn status_bodies_become_api_errors() {
        let e = api_error(
            410,
            br#"{"kind":"Status","code":410,"reason":"Expired","message":"too old"}"#,
            None,
        );
        assert!(e.is_gone());
        let e = api_error(500, b"plain text", None);
        assert_eq!(e.code(), Some(500));
        assert!(e.to_string().contains("plain text"));
    }

    #[test]
    fn list_pages_borrow_items() {
        let body = br#"{"kind":"PodList","metadata":{"resourceVersion":"7","continue":"c1"},"items":[{"a":1},{"b":[2]}]}"#;
        let p: ListPage<'_> = serde_json::from_slice(body).unwrap();
        assert_eq!(p.metadata.resource_version, "7");
        assert_eq!(p.metadata.continue_, "c1");
        assert_eq!(
            p.items.iter().map(|i| i.get()).collect::<Vec<_>>(),
            vec![r#"{"a":1}"#, r#"{"b":[2]}"#]
        );
    }
}
