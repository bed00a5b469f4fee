//! Resource endpoints: get, list (with pagination and resourceVersion semantics) and watch.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Response};
use http_body_util::BodyExt;
use serde_json::json;
use tokio::sync::mpsc;

use crate::faults::{malformed_object, Counter, Faults, RequestFault};
use crate::httputil::{
    bad_request, invalid_list_options, json_response, status_response, status_value, Body,
    ChannelBody, ListBody,
};
use crate::kinds::ResourceType;
use crate::object::{Encoding, ObjRef, StoredObject};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::state::{now_secs, ListSnapshot, Shared, WatchGuard};
use crate::store::{to_bytes, EventKind};

/// How long a list or watch waits for a resourceVersion newer than the current one before
/// answering 504 "Too large resource version" (the real server waits about 3 s).
const TOO_LARGE_RV_WAIT: Duration = Duration::from_secs(3);

/// Parsed list/watch query parameters.
#[derive(Debug, Default)]
pub(crate) struct ListParams {
    pub watch: bool,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub rv: Option<String>,
    pub rv_match: Option<String>,
    pub timeout: Option<Duration>,
    pub bookmarks: bool,
    pub send_initial_events: Option<bool>,
    /// Answer with `meta.k8s.io/v1` Tables (kubectl's server-side printing).
    pub table: bool,
}

fn parse_bool(k: &str, v: &str) -> Result<bool, String> {
    match v {
        "" | "1" | "true" | "True" | "TRUE" | "t" => Ok(true),
        "0" | "false" | "False" | "FALSE" | "f" => Ok(false),
        _ => Err(format!("invalid boolean value for {k}: {v:?}")),
    }
}

impl ListParams {
    pub fn parse(q: &[(String, String)], kind: &str) -> Result<ListParams, String> {
        let mut p = ListParams::default();
        for (k, v) in q {
            match k.as_str() {
                "watch" => p.watch = parse_bool(k, v)?,
                "labelSelector" => p.labels = LabelSelector::parse(v)?,
                "fieldSelector" => p.fields = FieldSelector::parse(v, kind)?,
                "limit" => {
                    let n: i64 = v
                        .parse()
                        .map_err(|_| format!("invalid value for limit: {v:?}"))?;
                    p.limit = (n > 0).then_some(n as usize);
                }
                "continue" => p.continue_token = (!v.is_empty()).then(|| v.clone()),
                "resourceVersion" => p.rv = (!v.is_empty()).then(|| v.clone()),
                "resourceVersionMatch" => p.rv_match = (!v.is_empty()).then(|| v.clone()),
                "timeoutSeconds" => {
                    let n: u64 = v
                        .parse()
                        .map_err(|_| format!("invalid value for timeoutSeconds: {v:?}"))?;
                    p.timeout = (n > 0).then(|| Duration::from_secs(n));
                }
                "allowWatchBookmarks" => p.bookmarks = parse_bool(k, v)?,
                "sendInitialEvents" => p.send_initial_events = Some(parse_bool(k, v)?),
                _ => {}
            }
        }
        Ok(p)
    }

    /// resourceVersion as a number (`None` when unset). Errors on a non-numeric value.
    fn rv_number(&self) -> Result<Option<u64>, String> {
        match &self.rv {
            None => Ok(None),
            Some(s) => s.parse::<u64>().map(Some).map_err(|_| {
                format!("resourceVersion: Invalid value: {s:?}: must be a valid resourceVersion")
            }),
        }
    }
}

fn matches(o: &StoredObject, ns: Option<&str>, p: &ListParams) -> bool {
    ns.is_none_or(|n| o.namespace == n) && p.labels.matches(o) && p.fields.matches(o)
}

fn too_old(rv: u64, compacted: u64) -> Response<Body> {
    status_response(
        410,
        "Expired",
        &format!("too old resource version: {rv} ({compacted})"),
        None,
    )
}

fn too_large(rv: u64, current: u64) -> Response<Body> {
    status_response(
        504,
        "Timeout",
        &format!("Timeout: Too large resource version: {rv}, current: {current}"),
        Some(
            json!({"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],
            "retryAfterSeconds":1}),
        ),
    )
}

/// Wait until the world reached `rv`; false on timeout.
async fn wait_for_rv(sh: &Shared, rv: u64) -> bool {
    let mut rx = sh.changed.subscribe();
    let deadline = tokio::time::Instant::now() + TOO_LARGE_RV_WAIT;
    loop {
        if *rx.borrow_and_update() >= rv {
            return true;
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            _ => return *rx.borrow() >= rv,
        }
    }
}

/// Apply latency and random 429/500 faults to a resource request.
pub(crate) async fn request_faults(sh: &Arc<Shared>) -> Option<Response<Body>> {
    let (fault, latency) = Faults { sh: sh.clone() }.request_fault();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        RequestFault::None => None,
        RequestFault::Throttle(secs) => {
            let mut r = status_response(
                429,
                "TooManyRequests",
                "Too many requests, please try again later. (injected by kubestate-sim)",
                Some(json!({"retryAfterSeconds": secs})),
            );
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
            Some(r)
        }
        RequestFault::Error => Some(status_response(
            500,
            "InternalError",
            "Internal error occurred: injected by kubestate-sim",
            None,
        )),
    }
}

/// GET of one object.
pub(crate) fn get(
    sh: &Shared,
    enc: Encoding,
    t: &ResourceType,
    ns: &str,
    name: &str,
    table: bool,
) -> Response<Body> {
    sh.counters.gets.fetch_add(1, Ordering::Relaxed);
    let w = sh.world.read();
    let obj = w
        .stores
        .get(t.store)
        .and_then(|s| s.objects.get(&(ns.to_string(), name.to_string())))
        .cloned();
    drop(w);
    match obj {
        Some(o) if table => {
            let v = crate::table::table(t, &[o], None, None, None, true, now_secs());
            json_response(http::StatusCode::OK, to_bytes(&v))
        }
        Some(o) => {
            let body = match enc {
                Encoding::Json => o.json.clone(),
                Encoding::Protobuf => Bytes::from(crate::proto::envelope(
                    &t.api_version(),
                    &t.kind,
                    o.encoded(enc),
                )),
            };
            let mut r = json_response(http::StatusCode::OK, body);
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static(enc.content_type()),
            );
            r
        }
        None => {
            let mut details = json!({"name": name, "kind": t.plural});
            if !t.group.is_empty() {
                details["group"] = json!(t.group);
            }
            status_response(
                404,
                "NotFound",
                &format!("{} \"{}\" not found", t.qualified_plural(), name),
                Some(details),
            )
        }
    }
}

fn encode_token(id: u64, offset: usize, rv: u64, gen: u64, store: usize) -> String {
    let raw = format!("sim1:{id}:{offset}:{rv}:{gen}:{store}");
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(s: &str) -> Option<(u64, usize, u64, u64, usize)> {
    if s.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    let raw = String::from_utf8(bytes?).ok()?;
    let mut it = raw.split(':');
    if it.next()? != "sim1" {
        return None;
    }
    let id = it.next()?.parse().ok()?;
    let off = it.next()?.parse().ok()?;
    let rv = it.next()?.parse().ok()?;
    let gen = it.next()?.parse().ok()?;
    let store = it.next()?.parse().ok()?;
    Some((id, off, rv, gen, store))
}

/// LIST.
pub(crate) async fn list(
    sh: &Arc<Shared>,
    enc: Encoding,
    t: &ResourceType,
    ns: Option<&str>,
    p: &ListParams,
) -> Response<Body> {
    sh.counters.lists.fetch_add(1, Ordering::Relaxed);
    if let Some(tok) = &p.continue_token {
        if p.rv.is_some() {
            return bad_request("specifying resource version is not allowed when using continue");
        }
        return list_continue(sh, enc, t, p, tok);
    }
    let rv = match p.rv_number() {
        Ok(rv) => rv,
        Err(e) => return bad_request(&e),
    };
    let exact = match p.rv_match.as_deref() {
        None => false,
        Some("Exact") => true,
        Some("NotOlderThan") => false,
        Some(other) => {
            return invalid_list_options(&format!(
                "resourceVersionMatch: Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\", \"\""
            ))
        }
    };
    if p.rv_match.is_some() && rv.is_none() {
        return invalid_list_options(
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
        );
    }
    if exact && rv == Some(0) {
        return invalid_list_options(
            "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
        );
    }
    if let Some(want) = rv.filter(|&r| r > 0) {
        if !wait_for_rv(sh, want).await {
            let cur = sh.world.read().rv;
            return too_large(want, cur);
        }
    }
    let (items, list_rv) = {
        let w = sh.world.read();
        let Some(store) = w.stores.get(t.store) else {
            return status_response(500, "InternalError", "store missing", None);
        };
        if exact {
            let want = rv.unwrap_or(w.rv);
            match w.objects_at(t.store, want) {
                Some(objs) => (
                    objs.into_values()
                        .filter(|o| matches(o, ns, p))
                        .collect::<Vec<_>>(),
                    want,
                ),
                None => return too_old(want, store.compacted_rv),
            }
        } else {
            let items: Vec<ObjRef> = match ns {
                Some(n) => store
                    .objects
                    .range((n.to_string(), String::new())..)
                    .take_while(|((ons, _), _)| ons == n)
                    .map(|(_, o)| o)
                    .filter(|o| matches(o, None, p))
                    .cloned()
                    .collect(),
                None => store
                    .objects
                    .values()
                    .filter(|o| matches(o, None, p))
                    .cloned()
                    .collect(),
            };
            (items, w.rv)
        }
    };
    let items = Arc::new(items);
    let filtered = !p.labels.is_empty() || !p.fields.is_empty();
    match p.limit {
        Some(limit) if items.len() > limit => {
            let id = sh.next_id();
            let gen = sh.token_gen.load(Ordering::SeqCst);
            {
                let mut snaps = sh.snapshots.lock();
                let ttl = sh.continue_ttl;
                snaps.retain(|_, s| s.created.elapsed() < ttl);
                snaps.insert(
                    id,
                    ListSnapshot {
                        items: items.clone(),
                        rv: list_rv,
                        store: t.store,
                        created: Instant::now(),
                    },
                );
            }
            let tok = encode_token(id, limit, list_rv, gen, t.store);
            let remaining = (!filtered).then_some(items.len() - limit);
            list_response(
                sh,
                enc,
                t,
                items,
                0..limit,
                list_rv,
                Some(&tok),
                remaining,
                p.table,
            )
        }
        _ => {
            let n = items.len();
            list_response(sh, enc, t, items, 0..n, list_rv, None, None, p.table)
        }
    }
}

fn expired_continue() -> Response<Body> {
    status_response(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
        None,
    )
}

fn list_continue(
    sh: &Arc<Shared>,
    enc: Encoding,
    t: &ResourceType,
    p: &ListParams,
    tok: &str,
) -> Response<Body> {
    let Some((id, offset, rv, gen, store)) = decode_token(tok) else {
        return bad_request("continue key is not valid: illegal base64 data");
    };
    if store != t.store {
        return bad_request("continue key is not valid: it was issued for another resource");
    }
    if gen != sh.token_gen.load(Ordering::SeqCst) {
        return expired_continue();
    }
    let snap = {
        let mut snaps = sh.snapshots.lock();
        match snaps.get(&id) {
            Some(s) if s.created.elapsed() < sh.continue_ttl && s.rv == rv && s.store == store => {
                Some(s.items.clone())
            }
            Some(_) => {
                snaps.remove(&id);
                None
            }
            None => None,
        }
    };
    let Some(items) = snap else {
        return expired_continue();
    };
    let offset = offset.min(items.len());
    let limit = p.limit.unwrap_or(usize::MAX);
    let end = offset.saturating_add(limit).min(items.len());
    let filtered = !p.labels.is_empty() || !p.fields.is_empty();
    if end < items.len() {
        let tok = encode_token(id, end, rv, gen, store);
        let remaining = (!filtered).then_some(items.len() - end);
        list_response(
            sh,
            enc,
            t,
            items,
            offset..end,
            rv,
            Some(&tok),
            remaining,
            p.table,
        )
    } else {
        sh.snapshots.lock().remove(&id);
        list_response(sh, enc, t, items, offset..end, rv, None, None, p.table)
    }
}

#[allow(clippy::too_many_arguments)]
fn list_response(
    sh: &Arc<Shared>,
    enc: Encoding,
    t: &ResourceType,
    items: Arc<Vec<ObjRef>>,
    range: std::ops::Range<usize>,
    rv: u64,
    cont: Option<&str>,
    remaining: Option<usize>,
    table: bool,
) -> Response<Body> {
    if table {
        let v = crate::table::table(
            t,
            &items[range],
            Some(rv),
            cont,
            remaining,
            true,
            now_secs(),
        );
        return json_response(http::StatusCode::OK, to_bytes(&v));
    }
    let faults = Faults { sh: sh.clone() };
    if enc == Encoding::Protobuf {
        let malformed = faults.take(Counter::Malformed).then(|| {
            let mut b = BytesMut::new();
            crate::proto::put_list_item(&mut b, crate::proto::MALFORMED_MESSAGE);
            b.freeze()
        });
        let items_len = crate::httputil::list_items_len(enc, &items[range.clone()], false)
            + malformed.as_ref().map_or(0, |m| m.len() as u64);
        let header = crate::proto::list_header(
            &t.api_version(),
            &t.list_kind,
            &crate::proto::list_meta(rv, cont, remaining),
            items_len,
        );
        let cut = faults.take(Counter::Cut);
        let body = ListBody::new(
            enc,
            Bytes::from(header),
            malformed,
            items,
            range,
            Bytes::from_static(crate::proto::LIST_FOOTER),
            cut,
        );
        let mut r = Response::new(body.boxed());
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(enc.content_type()),
        );
        return r;
    }
    let mut meta = format!("{{\"resourceVersion\":\"{rv}\"");
    if let Some(c) = cont {
        meta.push_str(&format!(",\"continue\":\"{c}\""));
    }
    if let Some(r) = remaining {
        meta.push_str(&format!(",\"remainingItemCount\":{r}"));
    }
    meta.push('}');
    let header = format!(
        "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
        t.list_kind,
        t.api_version(),
        meta
    );
    let malformed = faults
        .take(Counter::Malformed)
        .then(|| malformed_object(&t.api_version(), &t.kind));
    let cut = faults.take(Counter::Cut);
    let body = ListBody::new(
        enc,
        Bytes::from(header),
        malformed,
        items,
        range,
        Bytes::from_static(b"]}"),
        cut,
    );
    let mut r = Response::new(body.boxed());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(enc.content_type()),
    );
    r
}

/// Where a watch starts.
enum Start {
    /// Send ADDED for every current object first; with `end_bookmark`, then a BOOKMARK
    /// carrying `k8s.io/initial-events-end`.
    Initial { end_bookmark: bool },
    /// Replay retained events after this RV.
    From(u64),
}

fn event_line(buf: &mut BytesMut, ty: &str, obj: &[u8]) {
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(ty.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    buf.extend_from_slice(obj);
    buf.extend_from_slice(b"}\n");
}

/// Appends one event about an object of type `t` (`obj` in the watch's encoding: JSON, or
/// the protobuf message, which gets its envelope and frame here).
fn push_event(buf: &mut BytesMut, enc: Encoding, t: &ResourceType, ty: &str, obj: &[u8]) {
    match enc {
        Encoding::Json => event_line(buf, ty, obj),
        Encoding::Protobuf => {
            let body = crate::proto::envelope(&t.api_version(), &t.kind, obj);
            crate::proto::put_watch_frame(buf, ty, &body);
        }
    }
}

/// Appends an ERROR event carrying a `Status`.
fn push_status(buf: &mut BytesMut, enc: Encoding, st: &serde_json::Value) {
    match enc {
        Encoding::Json => event_line(buf, "ERROR", &to_bytes(st)),
        Encoding::Protobuf => {
            let body = crate::proto::status_body(st);
            crate::proto::put_watch_frame(buf, "ERROR", &body);
        }
    }
}

/// The object of a BOOKMARK event, in `enc`.
fn bookmark_object(enc: Encoding, t: &ResourceType, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let v = json!({"kind": t.kind, "apiVersion": t.api_version(), "metadata": meta});
    match (enc, crate::proto::message_of(&t.api_version(), &t.kind)) {
        (Encoding::Protobuf, Some(m)) => Bytes::from(
            crate::proto::encode(&v, m, crate::proto::Mode::Lenient).unwrap_or_default(),
        ),
        _ => to_bytes(&v),
    }
}

/// The object of the malformed-object fault, in `enc`.
fn malformed_in(enc: Encoding, t: &ResourceType) -> Bytes {
    match enc {
        Encoding::Json => malformed_object(&t.api_version(), &t.kind),
        Encoding::Protobuf => Bytes::from_static(crate::proto::MALFORMED_MESSAGE),
    }
}

fn watch_response(
    enc: Encoding,
    rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> Response<Body> {
    let mut r = Response::new(ChannelBody { rx }.boxed());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(enc.watch_content_type()),
    );
    r
}

/// A `200` whose body never sends a byte: a stalled connection (fault). It ends when the
/// client goes away, the sim stops, or after ten minutes.
pub(crate) fn stalled(sh: &Arc<Shared>, enc: Encoding) -> Response<Body> {
    let (tx, rx) = mpsc::channel(1);
    let mut shutdown = sh.shutdown.subscribe();
    tokio::spawn(async move {
        tokio::select! {
            _ = tx.closed() => {}
            _ = shutdown.wait_for(|s| *s) => {}
            _ = tokio::time::sleep(Duration::from_secs(600)) => {}
        }
    });
    watch_response(enc, rx)
}

/// WATCH.
pub(crate) async fn watch(
    sh: &Arc<Shared>,
    enc: Encoding,
    t: Arc<ResourceType>,
    ns: Option<String>,
    p: ListParams,
) -> Response<Body> {
    sh.counters.watches.fetch_add(1, Ordering::Relaxed);
    let rv = match p.rv_number() {
        Ok(rv) => rv,
        Err(e) => return bad_request(&e),
    };
    match (p.send_initial_events, p.rv_match.as_deref()) {
        (Some(true), Some("NotOlderThan")) => {
            if !p.bookmarks {
                return invalid_list_options(
                    "allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
                );
            }
        }
        (Some(true), _) => {
            return invalid_list_options(
                "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan",
            )
        }
        (Some(false), Some("NotOlderThan")) | (Some(false), None) | (None, None) => {}
        (_, Some(m)) => {
            return invalid_list_options(&format!(
                "resourceVersionMatch: Forbidden: resourceVersionMatch {m:?} is forbidden for watch unless sendInitialEvents is provided"
            ))
        }
    }
    let faults = Faults { sh: sh.clone() };
    let (tx, rx) = mpsc::channel(64);
    if faults.take(Counter::Gone) {
        let st = status_value(
            410,
            "Gone",
            "too old resource version (watch answered 410 by fault injection)",
            None,
        );
        let mut buf = BytesMut::new();
        push_status(&mut buf, enc, &st);
        let _ = tx.try_send(Ok(buf.freeze()));
        return watch_response(enc, rx);
    }
    let start = match (p.send_initial_events, rv) {
        (Some(true), _) => Start::Initial { end_bookmark: true },
        (Some(false), Some(n)) if n > 0 => Start::From(n),
        (Some(false), _) => Start::From(sh.world.read().rv),
        (None, None) | (None, Some(0)) => Start::Initial {
            end_bookmark: false,
        },
        (None, Some(n)) => Start::From(n),
    };
    if let (Start::Initial { .. }, Some(want)) = (&start, rv) {
        if want > 0 && !wait_for_rv(sh, want).await {
            let cur = sh.world.read().rv;
            return too_large(want, cur);
        }
    }
    if let Start::From(n) = start {
        let compacted = sh
            .world
            .read()
            .stores
            .get(t.store)
            .map_or(0, |s| s.compacted_rv);
        if n < compacted {
            let st = status_value(
                410,
                "Expired",
                &format!("too old resource version: {n} ({compacted})"),
                None,
            );
            let mut buf = BytesMut::new();
            push_status(&mut buf, enc, &st);
            let _ = tx.try_send(Ok(buf.freeze()));
            return watch_response(enc, rx);
        }
    }
    let malformed = faults.take(Counter::Malformed);
    let cut = faults.take(Counter::Cut);
    let poison = faults.take(Counter::Poison);
    let task = WatchTask {
        poison,
        sh: sh.clone(),
        enc,
        table_columns_sent: false,
        t,
        ns,
        p,
        tx,
        cut,
    };
    tokio::spawn(task.run(start, malformed));
    watch_response(enc, rx)
}

struct WatchTask {
    sh: Arc<Shared>,
    enc: Encoding,
    table_columns_sent: bool,
    t: Arc<ResourceType>,
    ns: Option<String>,
    p: ListParams,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    cut: bool,
    /// Send one undecodable event first (fault).
    poison: bool,
}

const WATCH_CHUNK: usize = 256 * 1024;

impl WatchTask {
    fn visible(&self, o: &StoredObject) -> bool {
        matches(o, self.ns.as_deref(), &self.p)
    }

    /// The bytes of an event's object: the stored encoding, or a one-row Table (with the
    /// column definitions only in the first one, like the real server).
    fn event_object(&mut self, o: &ObjRef) -> Bytes {
        if !self.p.table {
            return o.encoded(self.enc).clone();
        }
        let first = !self.table_columns_sent;
        self.table_columns_sent = true;
        let v = crate::table::table(
            &self.t,
            std::slice::from_ref(o),
            None,
            None,
            None,
            first,
            now_secs(),
        );
        to_bytes(&v)
    }

    /// Send a buffer; with a pending cut fault, send half of it and abort the connection.
    /// Returns false when the stream is over.
    async fn send(&mut self, buf: BytesMut) -> bool {
        if buf.is_empty() {
            return true;
        }
        if self.cut {
            let mut b = buf.freeze();
            // Cut inside the first event, after its first half.
            let first = match self.enc {
                Encoding::Json => b.iter().position(|&c| c == b'\n').unwrap_or(b.len()),
                Encoding::Protobuf => b
                    .get(..4)
                    .map_or(b.len(), |h| {
                        4 + u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize
                    })
                    .min(b.len()),
            };
            b.truncate((first / 2).max(1));
            let _ = self.tx.send(Ok(b)).await;
            // Let the partial line reach the socket before the connection is aborted.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = self
                .tx
                .send(Err(std::io::Error::other("stream cut by fault injection")))
                .await;
            return false;
        }
        self.tx.send(Ok(buf.freeze())).await.is_ok()
    }

    async fn run(mut self, start: Start, malformed: bool) {
        let guard = WatchGuard::register(&self.sh);
        let mut changed = self.sh.changed.subscribe();
        let mut shutdown = self.sh.shutdown.subscribe();
        if *shutdown.borrow() {
            return;
        }
        let deadline = self.p.timeout.map(|d| tokio::time::Instant::now() + d);
        let mut buf = BytesMut::new();
        if malformed {
            let obj = malformed_in(self.enc, &self.t);
            push_event(&mut buf, self.enc, &self.t, "MODIFIED", &obj);
        }
        if self.poison {
            buf.extend_from_slice(crate::faults::poison_event(self.enc == Encoding::Protobuf));
        }
        let mut last = match start {
            Start::From(n) => n,
            Start::Initial { end_bookmark } => {
                let (items, rv) = {
                    let w = self.sh.world.read();
                    let items: Vec<ObjRef> = w
                        .stores
                        .get(self.t.store)
                        .map(|s| s.objects.values().cloned().collect())
                        .unwrap_or_default();
                    (items, w.rv)
                };
                for o in &items {
                    if !self.visible(o) {
                        continue;
                    }
                    let obj = self.event_object(o);
                    push_event(&mut buf, self.enc, &self.t, "ADDED", &obj);
                    if buf.len() >= WATCH_CHUNK && !self.send(std::mem::take(&mut buf)).await {
                        return;
                    }
                }
                if end_bookmark {
                    let b = bookmark_object(self.enc, &self.t, rv, true);
                    push_event(&mut buf, self.enc, &self.t, "BOOKMARK", &b);
                }
                rv
            }
        };
        if !self.send(std::mem::take(&mut buf)).await {
            return;
        }
        let mut bookmark_timer = tokio::time::interval_at(
            tokio::time::Instant::now() + self.sh.bookmark_interval,
            self.sh.bookmark_interval,
        );
        let mut bookmark_due = false;
        loop {
            if guard.ctl.is_closed() {
                return;
            }
            // Pull everything after `last`, and the global RV under the same lock.
            let (events, current, expired) = {
                let w = self.sh.world.read();
                match w.stores.get(self.t.store) {
                    Some(s) if last < s.compacted_rv => (Vec::new(), w.rv, Some(s.compacted_rv)),
                    Some(s) => {
                        let from = s.events.partition_point(|e| e.rv <= last);
                        (
                            s.events.range(from..).cloned().collect::<Vec<_>>(),
                            w.rv,
                            None,
                        )
                    }
                    None => (Vec::new(), w.rv, None),
                }
            };
            if let Some(compacted) = expired {
                let st = status_value(
                    410,
                    "Expired",
                    &format!("too old resource version: {last} ({compacted})"),
                    None,
                );
                push_status(&mut buf, self.enc, &st);
                let _ = self.send(std::mem::take(&mut buf)).await;
                return;
            }
            for ev in &events {
                let now = self.visible(&ev.obj);
                let before = ev.prev.as_ref().is_some_and(|p| self.visible(p));
                let ty = match ev.kind {
                    EventKind::Added if now => Some("ADDED"),
                    EventKind::Modified if now && before => Some("MODIFIED"),
                    EventKind::Modified if now => Some("ADDED"),
                    EventKind::Modified if before => Some("DELETED"),
                    EventKind::Deleted if before || now => Some("DELETED"),
                    _ => None,
                };
                if let Some(ty) = ty {
                    let obj = self.event_object(&ev.obj);
                    push_event(&mut buf, self.enc, &self.t, ty, &obj);
                }
                if buf.len() >= WATCH_CHUNK && !self.send(std::mem::take(&mut buf)).await {
                    return;
                }
            }
            last = last.max(current);
            if bookmark_due {
                bookmark_due = false;
                let b = bookmark_object(self.enc, &self.t, last, false);
                push_event(&mut buf, self.enc, &self.t, "BOOKMARK", &b);
            }
            if !self.send(std::mem::take(&mut buf)).await {
                return;
            }
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = changed.changed() => if r.is_err() { return },
                _ = bookmark_timer.tick(), if self.p.bookmarks => bookmark_due = true,
                _ = sleep => return,
                _ = guard.ctl.notify.notified() => return,
                _ = shutdown.changed() => return,
                _ = self.tx.closed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let t = encode_token(7, 500, 1234, 3, 9);
        assert_eq!(decode_token(&t), Some((7, 500, 1234, 3, 9)));
        assert_eq!(decode_token("zz"), None);
        assert_eq!(decode_token("abc"), None);
        assert_eq!(decode_token(&"41".repeat(4)), None);
    }

    #[test]
    fn params_validation() {
        let q = |s: &str| crate::httputil::parse_query(Some(s)).unwrap();
        assert!(ListParams::parse(&q("limit=abc"), "Pod").is_err());
        assert!(ListParams::parse(&q("fieldSelector=spec.foo%3Dx"), "Pod").is_err());
        let p = ListParams::parse(
            &q("watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=5"),
            "Pod",
        )
        .unwrap();
        assert!(p.watch && p.bookmarks);
        assert_eq!(p.send_initial_events, Some(true));
        assert_eq!(p.timeout, Some(Duration::from_secs(5)));
        let p = ListParams::parse(&q("resourceVersion=abc"), "Pod").unwrap();
        assert!(p.rv_number().is_err());
    }
}
