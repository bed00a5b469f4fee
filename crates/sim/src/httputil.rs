//! HTTP plumbing: body types, `Status` error bodies, query strings, content negotiation.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Response, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::object::{Encoding, ObjRef};

/// The response body type of every handler.
pub(crate) type Body = BoxBody<Bytes, std::io::Error>;

/// A complete body.
pub(crate) fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|e| match e {}).boxed()
}

/// A JSON response.
pub(crate) fn json_response(code: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = code;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A plain-text response.
pub(crate) fn text_response(code: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(full(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = code;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A `Status` object as the API server writes it.
pub(crate) fn status_value(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<Value>,
) -> Value {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let (Some(d), Some(m)) = (details, v.as_object_mut()) {
        m.insert("details".into(), d);
    }
    v
}

/// A `Status` error response.
pub(crate) fn status_response(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<Value>,
) -> Response<Body> {
    let v = status_value(code, reason, message, details);
    json_response(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        crate::store::to_bytes(&v),
    )
}

/// 400 BadRequest.
pub(crate) fn bad_request(message: &str) -> Response<Body> {
    status_response(400, "BadRequest", message, None)
}

/// 404 NotFound for an unknown path.
pub(crate) fn not_found_path() -> Response<Body> {
    status_response(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(
            json!({"causes":[{"reason":"UnexpectedServerResponse","message":"404 page not found"}]}),
        ),
    )
}

/// 422 Invalid for bad list options.
pub(crate) fn invalid_list_options(message: &str) -> Response<Body> {
    status_response(
        422,
        "Invalid",
        &format!("ListOptions.meta.k8s.io \"\" is invalid: {message}"),
        Some(
            json!({"kind":"ListOptions","group":"meta.k8s.io","causes":[{"reason":"FieldValueInvalid","message":message}]}),
        ),
    )
}

/// Decode `%XX` escapes and `+` in a query component.
pub(crate) fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("invalid percent-encoding in {s:?}"))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("query value is not UTF-8: {s:?}"))
}

/// Parse a query string into (key, value) pairs.
pub(crate) fn parse_query(q: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Ok(out)
}

/// Pick the response encoding from `Accept`, as the API server does: the acceptable media
/// range with the highest `q` wins, ties going to the one listed first — so client-go's
/// `application/vnd.kubernetes.protobuf,application/json` gets protobuf when `protobuf` is
/// offered (built-in kinds) and JSON otherwise. `None` (answer 406) when nothing we serve is
/// acceptable.
pub(crate) fn negotiate(accept: Option<&str>, protobuf: bool) -> Option<Encoding> {
    let Some(a) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Encoding::Json);
    };
    let mut best: Option<(f32, Encoding)> = None;
    for range in a.split(',') {
        let mut parts = range.split(';');
        let mt = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        let mut transformed = false;
        for p in parts {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            match k.trim() {
                "q" => q = v.trim().parse().unwrap_or(0.0),
                // `as=Table` and friends: a transformation the sim only offers in JSON.
                "as" => transformed = true,
                _ => {}
            }
        }
        let enc = match mt.as_str() {
            "application/vnd.kubernetes.protobuf" if protobuf && !transformed => Encoding::Protobuf,
            "application/json" | "*/*" | "application/*" | "application/json-patch+json" => {
                Encoding::Json
            }
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, enc));
        }
    }
    best.map(|(_, e)| e)
}

/// Bytes the items of a list body take besides header, footer and `extra_first`: JSON
/// objects joined by commas (`extra` counts as one more item), or protobuf items each with
/// its field key and length (`extra` comes framed already).
pub(crate) fn list_items_len(enc: Encoding, items: &[ObjRef], extra: bool) -> u64 {
    match enc {
        Encoding::Json => {
            let n = items.len() + usize::from(extra);
            items.iter().map(|o| o.json.len() as u64).sum::<u64>() + n.saturating_sub(1) as u64
        }
        Encoding::Protobuf => items
            .iter()
            .map(|o| crate::proto::list_item_len(o.encoded(enc).len()))
            .sum(),
    }
}

/// A list response body: header, items (JSON: joined by commas; protobuf: each framed as a
/// `*List.items` field), footer; written in large chunks copied from the pre-serialized
/// objects. Its exact length is known up front.
pub(crate) struct ListBody {
    header: Option<Bytes>,
    extra_first: Option<Bytes>,
    items: Arc<Vec<ObjRef>>,
    pos: usize,
    end: usize,
    started_items: bool,
    footer: Option<Bytes>,
    len: u64,
    written: u64,
    enc: Encoding,
    /// Stop with an error after this many bytes (fault injection).
    cut_at: Option<u64>,
    /// After the partial write of a cut: wait (so the bytes get flushed), then fail.
    cut_timer: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
}

const CHUNK: usize = 256 * 1024;

impl ListBody {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        enc: Encoding,
        header: Bytes,
        extra_first: Option<Bytes>,
        items: Arc<Vec<ObjRef>>,
        range: std::ops::Range<usize>,
        footer: Bytes,
        cut: bool,
    ) -> ListBody {
        let mut len = (header.len() + footer.len()) as u64;
        len += extra_first.as_ref().map_or(0, |b| b.len() as u64);
        len += list_items_len(enc, &items[range.clone()], extra_first.is_some());
        ListBody {
            header: Some(header),
            extra_first,
            items,
            pos: range.start,
            end: range.end,
            started_items: false,
            footer: Some(footer),
            len,
            written: 0,
            enc,
            cut_at: cut.then_some(len / 2),
            cut_timer: None,
            done: false,
        }
    }

    fn fill(&mut self) -> Option<Bytes> {
        let mut buf = BytesMut::with_capacity(CHUNK + 4096);
        if let Some(h) = self.header.take() {
            buf.extend_from_slice(&h);
        }
        if let Some(x) = self.extra_first.take() {
            buf.extend_from_slice(&x);
            self.started_items = true;
        }
        while self.pos < self.end && buf.len() < CHUNK {
            let item = self.items[self.pos].encoded(self.enc);
            match self.enc {
                Encoding::Json => {
                    if self.started_items {
                        buf.extend_from_slice(b",");
                    }
                    buf.extend_from_slice(item);
                }
                Encoding::Protobuf => crate::proto::put_list_item(&mut buf, item),
            }
            self.started_items = true;
            self.pos += 1;
        }
        if self.pos >= self.end {
            if let Some(f) = self.footer.take() {
                buf.extend_from_slice(&f);
            }
        }
        if buf.is_empty() {
            None
        } else {
            Some(buf.freeze())
        }
    }
}

impl HttpBody for ListBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(t) = self.cut_timer.as_mut() {
            if t.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.cut_timer = None;
            self.done = true;
            return Poll::Ready(Some(Err(std::io::Error::other(
                "stream cut by fault injection",
            ))));
        }
        if self.done {
            return Poll::Ready(None);
        }
        let Some(mut chunk) = self.fill() else {
            self.done = true;
            return Poll::Ready(None);
        };
        if let Some(cut) = self.cut_at {
            let remaining = cut.saturating_sub(self.written);
            if (chunk.len() as u64) >= remaining {
                if remaining == 0 {
                    self.done = true;
                    return Poll::Ready(Some(Err(std::io::Error::other(
                        "stream cut by fault injection",
                    ))));
                }
                chunk.truncate(remaining as usize);
                self.written += chunk.len() as u64;
                self.header = None;
                self.footer = None;
                self.pos = self.end;
                self.cut_timer = Some(Box::pin(tokio::time::sleep(
                    std::time::Duration::from_millis(50),
                )));
                return Poll::Ready(Some(Ok(Frame::data(chunk))));
            }
        }
        self.written += chunk.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        // Also with a cut: the full length is announced and the client sees a short body.
        SizeHint::with_exact(self.len)
    }
}

/// A streaming body fed by a task through a channel; an `Err` item aborts the connection.
pub(crate) struct ChannelBody {
    pub rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = parse_query(Some(
            "fieldSelector=metadata.namespace%21%3Da%2Cmetadata.namespace%21%3Db&limit=5&watch",
        ))
        .unwrap();
        assert_eq!(
            q[0],
            (
                "fieldSelector".to_string(),
                "metadata.namespace!=a,metadata.namespace!=b".to_string()
            )
        );
        assert_eq!(q[1].1, "5");
        assert_eq!(q[2], ("watch".to_string(), String::new()));
        assert!(parse_query(Some("a=%zz")).is_err());
    }

    #[test]
    fn accept_negotiation() {
        use Encoding::{Json, Protobuf};
        let client_go = Some("application/vnd.kubernetes.protobuf,application/json");
        assert_eq!(negotiate(None, true), Some(Json));
        assert_eq!(negotiate(client_go, true), Some(Protobuf));
        assert_eq!(negotiate(client_go, false), Some(Json));
        assert_eq!(
            negotiate(
                Some("application/json, application/vnd.kubernetes.protobuf"),
                true
            ),
            Some(Json)
        );
        assert_eq!(
            negotiate(
                Some("application/json;q=0.5, application/vnd.kubernetes.protobuf"),
                true
            ),
            Some(Protobuf)
        );
        assert_eq!(
            negotiate(
                Some("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"),
                true
            ),
            Some(Json)
        );
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf"), false),
            None
        );
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf"), true),
            Some(Protobuf)
        );
        assert_eq!(negotiate(Some("*/*"), true), Some(Json));
        assert_eq!(negotiate(Some("text/html"), true), None);
    }
}
