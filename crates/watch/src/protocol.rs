//! Wire details: request URLs, `Status` bodies, list envelopes, watch event lines.

use std::time::Duration;

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

/// Turns a failed response into an [`Error::Api`], using its `Status` body when it has one.
pub(crate) fn api_error(code: u16, body: &[u8], retry_after: Option<Duration>) -> Error {
    let s: StatusBody = serde_json::from_slice(body).unwrap_or_default();
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
