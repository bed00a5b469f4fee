//! The list/watch loop of one resource.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::value::RawValue;
use tracing::{debug, info, warn};

use kubestate_objects::Encoding;

use crate::protocol::{
    api_error, is_protobuf, proto_from, proto_list, proto_resource_version, proto_watch_event,
    HeadMeta, ListPage, ObjectHead, Query, WatchLine, ACCEPT_PROTOBUF, INITIAL_EVENTS_END,
};
use crate::{Backoff, Error};

/// What to list and watch.
#[derive(Clone, Debug)]
pub struct Target {
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Resource plural (`pods`).
    pub plural: String,
    /// Limit to one namespace.
    pub namespace: Option<String>,
    /// Server-side field selector.
    pub field_selector: Option<String>,
    /// Server-side label selector.
    pub label_selector: Option<String>,
}

impl Target {
    /// The collection path, e.g. `/api/v1/namespaces/ns/pods` or `/apis/apps/v1/deployments`.
    pub fn path(&self) -> String {
        let mut p = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if let Some(ns) = &self.namespace {
            p.push_str("/namespaces/");
            p.push_str(ns);
        }
        p.push('/');
        p.push_str(&self.plural);
        p
    }

    fn selectors(&self, q: &mut Query) {
        if let Some(f) = self.field_selector.as_deref().filter(|f| !f.is_empty()) {
            q.add("fieldSelector", f);
        }
        if let Some(l) = self.label_selector.as_deref().filter(|l| !l.is_empty()) {
            q.add("labelSelector", l);
        }
    }
}

/// How to list and watch.
#[derive(Clone, Debug)]
pub struct Options {
    /// Objects per list page (client-go's pager uses 500).
    pub page_size: u32,
    /// List with `resourceVersion=0` (served from the API server's watch cache).
    pub use_apiserver_cache: bool,
    /// List at most this many objects (one page, continuation dropped); disables watch-list.
    pub object_limit: Option<u64>,
    /// Try a streaming watch-list (`sendInitialEvents=true`) for the initial sync, falling back
    /// to paginated lists when the server does not support it.
    pub watch_list: bool,
    /// Server-side watch timeout; each watch asks for a random value between this and twice it.
    pub watch_timeout: Duration,
    /// Retry delays.
    pub backoff: Backoff,
    /// Ask for protobuf (`Accept: application/vnd.kubernetes.protobuf, application/json`),
    /// taking whichever the server answers. Only for built-in kinds: custom resources have no
    /// protobuf form (and some aggregated APIs do not fall back), so the default is JSON only.
    pub protobuf: bool,
    /// Longest wait for response headers, for the next bytes of a list body, or for the next
    /// initial event of a watch-list, before the request is abandoned and retried (a stalled
    /// connection). Established watches wait for their server-side timeout plus 30 s.
    pub stall_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            page_size: 500,
            use_apiserver_cache: false,
            object_limit: None,
            watch_list: true,
            watch_timeout: Duration::from_secs(300),
            backoff: Backoff::default(),
            protobuf: false,
            stall_timeout: Duration::from_secs(60),
        }
    }
}

/// One object as received: its bytes, borrowed from the response buffer, and their encoding.
#[derive(Clone, Copy, Debug)]
pub struct Object<'a> {
    /// A JSON object, or the object's protobuf message (envelope removed).
    pub bytes: &'a [u8],
    /// Which of the two `bytes` is.
    pub encoding: Encoding,
}

impl<'a> Object<'a> {
    /// A JSON object.
    pub fn json(raw: &'a RawValue) -> Object<'a> {
        Object {
            bytes: raw.get().as_bytes(),
            encoding: Encoding::Json,
        }
    }

    /// The JSON text, when the object came as JSON.
    pub fn as_json(&self) -> Option<&'a str> {
        match self.encoding {
            Encoding::Json => std::str::from_utf8(self.bytes).ok(),
            Encoding::Protobuf => None,
        }
    }
}

/// What happened to the watched collection.
#[derive(Debug)]
pub enum Event<'a> {
    /// A full (re)list begins; objects until [`Event::RelistDone`] are the complete contents.
    RelistStarted,
    /// One object of the (re)list.
    Listed(Object<'a>),
    /// The (re)list is complete.
    RelistDone,
    /// An object was added or changed.
    Applied(Object<'a>),
    /// An object was deleted (its last state).
    Deleted(Object<'a>),
}

/// Which request a [`Handler::request`] outcome is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// One list page.
    List,
    /// One watch request.
    Watch,
}

/// Receives the events of one watched collection.
pub trait Handler: Send {
    /// Reacts to one event.
    fn event(&mut self, ev: Event<'_>);
    /// Outcome of one request (for telemetry).
    fn request(&mut self, _kind: RequestKind, _result: Result<(), &Error>) {}
    /// A list or watch failed; the loop retries after `delay`. 403 and 404 mean a missing
    /// permission or an unserved resource (see [`Error::is_forbidden`],
    /// [`Error::is_not_found`]).
    fn retrying(&mut self, _error: &Error, _delay: Duration) {}
    /// An event of a watch stream could not be decoded; the stream was abandoned and the
    /// resource is relisted.
    fn undecodable(&mut self, _error: &Error) {}
}

enum State {
    Relist,
    Watch { rv: String },
}

/// How one round of the loop ended.
enum Outcome {
    /// Progress. A watch that ran its course resets the backoff; a list alone does not (a
    /// resource whose watches keep failing right after a good list still backs off, and the
    /// backoff forgets failures after two quiet minutes, as client-go's does).
    Ok { reset: bool },
    /// Go on at once without touching the backoff (a fallback to another request form).
    Again,
    /// The watch stream was abandoned for a relist: wait the backoff, without logging it as
    /// a failure (it was logged already).
    Relist,
    /// A failure: wait, then retry.
    Retry(Error),
}

/// Lists and watches `target` until the task is dropped, feeding `handler`.
///
/// Failures never end the loop: each is retried after a backoff (or the server's
/// `Retry-After`), reported to [`Handler::retrying`] and logged at most once a minute per
/// kind of failure (403 names the missing RBAC rule, 404 the unserved resource). A watch-list
/// that fails falls back to a paginated list for that sync, and a watch event that cannot be
/// decoded abandons the stream for a relist, as client-go's reflector does.
pub async fn run(
    client: &kube::Client,
    target: &Target,
    opts: &Options,
    handler: &mut impl Handler,
) {
    let path = target.path();
    let mut backoff = opts.backoff.clone();
    let mut watch_list = opts.watch_list && opts.object_limit.is_none();
    // The next sync uses a paginated list even though watch-list is on (after it failed).
    let mut list_next = false;
    let mut log = FailureLog::default();
    let mut state = State::Relist;
    loop {
        let (next, outcome) = match state {
            State::Relist if watch_list && !list_next => {
                let mut rv = String::new();
                match watch(client, target, opts, &mut rv, true, handler).await {
                    Ok(()) => (State::Watch { rv }, Outcome::Ok { reset: true }),
                    Err(e) if unsupported(&e) => {
                        info!(resource = %path, error = %e, "watch-list not supported, falling back to paginated lists");
                        watch_list = false;
                        (State::Relist, Outcome::Again)
                    }
                    Err(e @ Error::Undecodable(_)) => {
                        handler.undecodable(&e);
                        log.undecodable(target, &e, "watch-list");
                        list_next = true;
                        (State::Relist, Outcome::Again)
                    }
                    // The initial events completed (rv set) before the stream failed: resume.
                    Err(e) if !rv.is_empty() && !e.is_gone() => {
                        (State::Watch { rv }, Outcome::Retry(e))
                    }
                    // The API refused (403, 429, 500…): a list would be refused too.
                    Err(e @ Error::Api { .. }) => (State::Relist, Outcome::Retry(e)),
                    // The stream broke during the initial events: making progress with a
                    // paginated list beats retrying the same stream (client-go does the same).
                    Err(e) => {
                        debug!(resource = %path, error = %e, "watch-list failed, falling back to a paginated list");
                        list_next = true;
                        (State::Relist, Outcome::Again)
                    }
                }
            }
            State::Relist => {
                list_next = false;
                match list(client, target, opts, handler).await {
                    Ok(rv) => {
                        info!(resource = %path, "initial list complete");
                        (State::Watch { rv }, Outcome::Ok { reset: false })
                    }
                    Err(e) => (State::Relist, Outcome::Retry(e)),
                }
            }
            State::Watch { mut rv } => {
                match watch(client, target, opts, &mut rv, false, handler).await {
                    Ok(()) => (State::Watch { rv }, Outcome::Ok { reset: true }),
                    Err(e) if e.is_gone() => {
                        info!(resource = %path, "resourceVersion expired, relisting");
                        (State::Relist, Outcome::Again)
                    }
                    // Resuming would replay the same event: relist and watch from there.
                    Err(e @ Error::Undecodable(_)) => {
                        handler.undecodable(&e);
                        log.undecodable(target, &e, "watch");
                        list_next = true;
                        (State::Relist, Outcome::Relist)
                    }
                    Err(e) => (State::Watch { rv }, Outcome::Retry(e)),
                }
            }
        };
        state = next;
        match outcome {
            Outcome::Ok { reset } => {
                if reset {
                    backoff.reset();
                }
                log.recovered(target);
            }
            Outcome::Again => {}
            Outcome::Relist => tokio::time::sleep(backoff.next_delay()).await,
            Outcome::Retry(e) => {
                let delay = match &e {
                    Error::Api {
                        retry_after: Some(d),
                        ..
                    } => *d,
                    _ => backoff.next_delay(),
                };
                handler.retrying(&e, delay);
                log.failed(target, &e, delay);
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// How often the same kind of failure of one resource is logged again.
const LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Kinds of failure, logged each on its own schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FailureClass {
    Forbidden,
    NotFound,
    /// Any other API answer or a connection failure: worth a warning.
    Api,
    /// A watch stream that broke (API server restart, load balancer): normal, debug only.
    Disruption,
}

/// Rate-limits failure logs of one resource: the first failure of a kind is logged at once,
/// repeats at most every [`LOG_INTERVAL`] with how many were not logged.
#[derive(Default)]
struct FailureLog {
    class: Option<FailureClass>,
    last: Option<Instant>,
    suppressed: u64,
    warned: bool,
    last_undecodable: Option<Instant>,
    undecodable_suppressed: u64,
}

impl FailureLog {
    fn failed(&mut self, t: &Target, e: &Error, delay: Duration) {
        let class = if e.is_forbidden() {
            FailureClass::Forbidden
        } else if e.is_not_found() {
            FailureClass::NotFound
        } else if matches!(e, Error::Body(_)) {
            FailureClass::Disruption
        } else {
            FailureClass::Api
        };
        let now = Instant::now();
        if self.class == Some(class)
            && self
                .last
                .is_some_and(|l| now.duration_since(l) < LOG_INTERVAL)
        {
            self.suppressed += 1;
            return;
        }
        let not_logged = std::mem::take(&mut self.suppressed);
        self.class = Some(class);
        self.last = Some(now);
        let (plural, group, gv) = (&t.plural, &t.group, api_version(t));
        match class {
            FailureClass::Forbidden => warn!(
                resource = %plural, error = %e, retry_in = ?delay, not_logged,
                "missing RBAC rule: list and watch on resource \"{plural}\" in API group \"{group}\" (the exporter is ready without it and keeps retrying)"
            ),
            FailureClass::NotFound => warn!(
                resource = %plural, error = %e, retry_in = ?delay, not_logged,
                "the API server does not serve resource \"{plural}\" of {gv} (404); the exporter is ready without it and keeps retrying"
            ),
            FailureClass::Api => warn!(
                resource = %plural, error = %e, retry_in = ?delay, not_logged,
                "list/watch failed; retrying"
            ),
            FailureClass::Disruption => {
                debug!(resource = %plural, error = %e, retry_in = ?delay, "watch interrupted");
            }
        }
        self.warned |= class != FailureClass::Disruption;
    }

    fn undecodable(&mut self, t: &Target, e: &Error, request: &str) {
        let now = Instant::now();
        if self
            .last_undecodable
            .is_some_and(|l| now.duration_since(l) < LOG_INTERVAL)
        {
            self.undecodable_suppressed += 1;
            return;
        }
        warn!(
            resource = %t.plural, error = %e,
            not_logged = std::mem::take(&mut self.undecodable_suppressed),
            "skipped an undecodable {request} event; relisting with a paginated list"
        );
        self.last_undecodable = Some(now);
    }

    fn recovered(&mut self, t: &Target) {
        if std::mem::take(&mut self.warned) {
            info!(resource = %t.plural, "list/watch working again");
        }
        if self.class.is_some() {
            self.class = None;
            self.last = None;
            self.suppressed = 0;
        }
    }
}

/// `group/version`, or `version` for the core group.
fn api_version(t: &Target) -> String {
    if t.group.is_empty() {
        t.version.clone()
    } else {
        format!("{}/{}", t.group, t.version)
    }
}

fn unsupported(e: &Error) -> bool {
    matches!(e.code(), Some(400 | 405 | 406 | 415 | 422 | 501))
}

async fn send(
    client: &kube::Client,
    uri: String,
    opts: &Options,
) -> Result<http::Response<Body>, Error> {
    let accept = if opts.protobuf {
        ACCEPT_PROTOBUF
    } else {
        "application/json"
    };
    let req = Request::get(uri)
        .header(http::header::ACCEPT, accept)
        .body(Body::empty())
        .map_err(|e| Error::Protocol(e.to_string()))?;
    let resp = tokio::time::timeout(opts.stall_timeout, client.send(req))
        .await
        .map_err(|_| {
            Error::Body(format!(
                "no response headers within {:?}",
                opts.stall_timeout
            ))
        })?
        .map_err(Error::Transport)?;
    if resp.status() == StatusCode::OK {
        return Ok(resp);
    }
    let code = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Err(api_error(code, &body, retry_after))
}

/// Paginated list; returns the list's resourceVersion.
async fn list(
    client: &kube::Client,
    target: &Target,
    opts: &Options,
    handler: &mut impl Handler,
) -> Result<String, Error> {
    let path = target.path();
    let mut cont = String::new();
    let mut started = false;
    let limit = opts
        .object_limit
        .map_or(opts.page_size as u64, |l| l.min(u64::from(u32::MAX)));
    let mut listed: u64 = 0;
    loop {
        let mut q = Query::default();
        target.selectors(&mut q);
        q.add("limit", &limit.to_string());
        if cont.is_empty() {
            if opts.use_apiserver_cache {
                q.add("resourceVersion", "0");
            }
        } else {
            q.add("continue", &cont);
        }
        let result = fetch_page(client, format!("{path}{}", q.as_str()), opts).await;
        handler.request(RequestKind::List, result.as_ref().map(|_| ()));
        let (body, protobuf) = result?;
        // Items stay borrowed from the body, in either encoding.
        let (metadata, items): (_, Vec<Object<'_>>) = if protobuf {
            let page = proto_list(&body)?;
            let items = page
                .items
                .iter()
                .map(|b| Object {
                    bytes: b,
                    encoding: Encoding::Protobuf,
                })
                .collect();
            (page.metadata, items)
        } else {
            let page: ListPage<'_> = serde_json::from_slice(&body)
                .map_err(|e| Error::Protocol(format!("list body: {e}")))?;
            let items = page.items.iter().map(|r| Object::json(r)).collect();
            (page.metadata, items)
        };
        if !started {
            handler.event(Event::RelistStarted);
            started = true;
        }
        for item in items {
            if opts.object_limit.is_some_and(|l| listed >= l) {
                break;
            }
            handler.event(Event::Listed(item));
            listed += 1;
        }
        cont = metadata.continue_;
        if cont.is_empty() || opts.object_limit.is_some() {
            handler.event(Event::RelistDone);
            return Ok(metadata.resource_version);
        }
    }
}

/// One list page's body, and whether it is protobuf.
async fn fetch_page(
    client: &kube::Client,
    uri: String,
    opts: &Options,
) -> Result<(bytes::Bytes, bool), Error> {
    let resp = send(client, uri, opts).await?;
    let protobuf = is_protobuf(resp.headers().get(http::header::CONTENT_TYPE));
    let mut body = resp.into_body();
    let mut buf = BytesMut::new();
    loop {
        match tokio::time::timeout(opts.stall_timeout, body.frame()).await {
            Err(_) => {
                return Err(Error::Body(format!(
                    "list body stalled: no data for {:?}",
                    opts.stall_timeout
                )))
            }
            Ok(None) => return Ok((buf.freeze(), protobuf)),
            Ok(Some(Err(e))) => return Err(Error::Body(e.to_string())),
            Ok(Some(Ok(f))) => {
                if let Ok(data) = f.into_data() {
                    buf.extend_from_slice(&data);
                }
            }
        }
    }
}

/// A watch from `rv` (or, with `initial`, a watch-list that first streams every object).
/// Returns `Ok` when the server ended the stream normally; `rv` always holds the last
/// resourceVersion seen (empty while the initial events of a watch-list are incomplete).
async fn watch(
    client: &kube::Client,
    target: &Target,
    opts: &Options,
    rv: &mut String,
    initial: bool,
    handler: &mut impl Handler,
) -> Result<(), Error> {
    let mut q = Query::default();
    target.selectors(&mut q);
    q.add("watch", "1").add("allowWatchBookmarks", "true");
    if initial {
        q.add("sendInitialEvents", "true")
            .add("resourceVersionMatch", "NotOlderThan");
    } else {
        q.add("resourceVersion", rv);
    }
    let secs = opts.watch_timeout.as_secs().max(1);
    let timeout = secs + rand::random::<u64>() % secs;
    q.add("timeoutSeconds", &timeout.to_string());
    let result = send(client, format!("{}{}", target.path(), q.as_str()), opts).await;
    handler.request(RequestKind::Watch, result.as_ref().map(|_| ()));
    let resp = result?;
    // Protobuf streams are length-prefixed frames; JSON streams are lines.
    let protobuf = is_protobuf(resp.headers().get(http::header::CONTENT_TYPE));
    let mut body = resp.into_body();
    // A dead or stalled connection shows as silence. API servers send a bookmark about every
    // minute on these watches (allowWatchBookmarks), so two stall timeouts without a byte
    // mean the stream is stuck: resume from the last resourceVersion (cheap, no relist).
    let idle = Duration::from_secs(timeout + 30).min(opts.stall_timeout * 2);
    let mut in_initial = initial;
    if initial {
        rv.clear();
        handler.event(Event::RelistStarted);
    }
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let started = Instant::now();
    loop {
        // The initial events of a watch-list stream without pause: silence there is a stall.
        let wait = if in_initial {
            idle.min(opts.stall_timeout)
        } else {
            idle
        };
        let frame = match tokio::time::timeout(wait, body.frame()).await {
            Err(_) => return Err(Error::Body(format!("no data for {wait:?}"))),
            Ok(None) => {
                let partial = if protobuf {
                    !buf.is_empty()
                } else {
                    !buf.iter().all(u8::is_ascii_whitespace)
                };
                if partial {
                    return Err(Error::Protocol("watch stream ended inside an event".into()));
                }
                if in_initial {
                    return Err(Error::Protocol(
                        "watch-list ended before its initial events".into(),
                    ));
                }
                debug!(path = %target.path(), lasted = ?started.elapsed(), "watch ended");
                return Ok(());
            }
            Ok(Some(Err(e))) => return Err(Error::Body(e.to_string())),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buf.extend_from_slice(&data);
        while protobuf && buf.len() >= 4 {
            let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
            if len > MAX_FRAME {
                return Err(Error::Undecodable(format!(
                    "watch frame of {len} bytes exceeds {MAX_FRAME}"
                )));
            }
            if buf.len() < 4 + len {
                break;
            }
            let frame = buf.split_to(4 + len);
            handle_frame(&frame[4..], rv, &mut in_initial, handler)?;
        }
        while let Some(nl) = (!protobuf)
            .then(|| buf.iter().position(|&b| b == b'\n'))
            .flatten()
        {
            let line = buf.split_to(nl + 1);
            let line = &line[..nl];
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            handle_line(line, rv, &mut in_initial, handler)?;
        }
        // Do not keep a huge buffer alive after one very large object went through.
        if buf.is_empty() && buf.capacity() > 4 << 20 {
            buf = BytesMut::with_capacity(64 * 1024);
        }
    }
}

/// Largest protobuf watch frame accepted (a guard against a corrupt length prefix).
const MAX_FRAME: usize = 256 << 20;

fn handle_line(
    line: &[u8],
    rv: &mut String,
    in_initial: &mut bool,
    handler: &mut impl Handler,
) -> Result<(), Error> {
    let ev: WatchLine<'_> = serde_json::from_slice(line).map_err(|e| {
        let shown = String::from_utf8_lossy(&line[..line.len().min(120)]);
        Error::Undecodable(format!("{e} in {shown:?}"))
    })?;
    // An object whose metadata is unreadable is still handed on (the engine counts it as
    // malformed); it just cannot advance the resume point.
    let head: ObjectHead = if needs_head(ev.type_, *in_initial) {
        serde_json::from_str(ev.object.get()).unwrap_or_default()
    } else {
        ObjectHead::default()
    };
    handle_event(
        ev.type_,
        Object::json(ev.object),
        head,
        rv,
        in_initial,
        handler,
    )
}

/// One protobuf watch frame (length prefix removed).
fn handle_frame(
    frame: &[u8],
    rv: &mut String,
    in_initial: &mut bool,
    handler: &mut impl Handler,
) -> Result<(), Error> {
    let (ty, env) =
        proto_watch_event(frame).map_err(|e| Error::Undecodable(format!("protobuf frame: {e}")))?;
    let head: ObjectHead = match ty {
        // Objects: only the resume point is needed, read straight from the message.
        "ADDED" | "MODIFIED" | "DELETED" => ObjectHead {
            metadata: HeadMeta {
                resource_version: if *in_initial {
                    String::new()
                } else {
                    proto_resource_version(env.raw).to_owned()
                },
                annotations: None,
            },
            ..ObjectHead::default()
        },
        // Bookmarks (annotations) and errors (a Status): decode the head.
        _ => proto_from(&env).unwrap_or_default(),
    };
    let obj = Object {
        bytes: env.raw,
        encoding: Encoding::Protobuf,
    };
    handle_event(ty, obj, head, rv, in_initial, handler)
}

/// Whether an event's object head must be decoded: always, except for objects during the
/// initial events of a watch-list, whose resourceVersion is not a resume point.
fn needs_head(ty: &str, in_initial: bool) -> bool {
    !(in_initial && matches!(ty, "ADDED" | "MODIFIED" | "DELETED"))
}

fn handle_event(
    ty: &str,
    obj: Object<'_>,
    head: ObjectHead,
    rv: &mut String,
    in_initial: &mut bool,
    handler: &mut impl Handler,
) -> Result<(), Error> {
    match ty {
        "ADDED" | "MODIFIED" => {
            handler.event(if *in_initial {
                Event::Listed(obj)
            } else {
                Event::Applied(obj)
            });
        }
        "DELETED" => handler.event(Event::Deleted(obj)),
        "BOOKMARK" => {
            if *in_initial && is_initial_end(&head.metadata) {
                *in_initial = false;
                handler.event(Event::RelistDone);
            }
        }
        "ERROR" => {
            return Err(Error::Api {
                code: if head.code == 0 { 500 } else { head.code },
                reason: head.reason,
                message: head.message,
                retry_after: None,
            })
        }
        other => {
            return Err(Error::Undecodable(format!(
                "unknown watch event type {other:?}"
            )))
        }
    }
    if !head.metadata.resource_version.is_empty() && !*in_initial {
        rv.clear();
        rv.push_str(&head.metadata.resource_version);
    }
    Ok(())
}

fn is_initial_end(m: &HeadMeta) -> bool {
    m.annotations
        .as_ref()
        .and_then(|a| a.get(INITIAL_EVENTS_END))
        .is_some_and(|v| v == "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Rec(Vec<String>);
    impl Handler for Rec {
        fn event(&mut self, ev: Event<'_>) {
            self.0.push(match ev {
                Event::RelistStarted => "start".into(),
                Event::Listed(o) => format!("list {}", o.as_json().unwrap_or("<protobuf>")),
                Event::RelistDone => "done".into(),
                Event::Applied(o) => format!("apply {}", o.as_json().unwrap_or("<protobuf>")),
                Event::Deleted(o) => format!("delete {}", o.as_json().unwrap_or("<protobuf>")),
            });
        }
    }

    #[test]
    fn watch_lines_drive_events_and_resume_point() {
        let mut h = Rec::default();
        let mut rv = String::new();
        let mut initial = true;
        let lines: &[&[u8]] = &[
            br#"{"type":"ADDED","object":{"metadata":{"resourceVersion":"5"}}}"#,
            br#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}"#,
            br#"{"type":"MODIFIED","object":{"metadata":{"resourceVersion":"10"}}}"#,
            br#"{"type":"DELETED","object":{"metadata":{"resourceVersion":"11"}}}"#,
            br#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}}"#,
            br#"{"type":"MODIFIED","object":{"metadata":"broken"}}"#,
        ];
        for l in lines {
            handle_line(l, &mut rv, &mut initial, &mut h).unwrap();
        }
        assert_eq!(rv, "12");
        assert!(!initial);
        assert_eq!(h.0[0], r#"list {"metadata":{"resourceVersion":"5"}}"#);
        assert_eq!(h.0[1], "done");
        assert!(
            h.0[2].starts_with("apply")
                && h.0[3].starts_with("delete")
                && h.0[4].starts_with("apply")
        );
        let err = handle_line(
            br#"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}"#,
            &mut rv,
            &mut initial,
            &mut h,
        )
        .unwrap_err();
        assert!(err.is_gone());
        assert!(handle_line(b"{not json", &mut rv, &mut initial, &mut h).is_err());
    }

    /// A length-delimited protobuf field.
    fn field(n: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![(n << 3) | 2, data.len() as u8];
        v.extend_from_slice(data);
        v
    }

    /// A watch frame body: WatchEvent{type, object{raw = magic + Unknown{typeMeta, raw}}}.
    fn frame(ty: &str, api_version: &str, kind: &str, msg: &[u8]) -> Vec<u8> {
        let tm = [field(1, api_version.as_bytes()), field(2, kind.as_bytes())].concat();
        let body = [b"k8s\0".to_vec(), field(1, &tm), field(2, msg)].concat();
        [field(1, ty.as_bytes()), field(2, &field(1, &body))].concat()
    }

    #[test]
    fn protobuf_frames_drive_events_and_resume_point() {
        let mut h = Rec::default();
        let mut rv = String::new();
        let mut initial = true;
        // Pod metadata: name (1), resourceVersion (6), annotations (12, map entries).
        let pod = field(1, &[field(1, b"p"), field(6, b"5")].concat());
        let ann = field(
            12,
            &[field(1, b"k8s.io/initial-events-end"), field(2, b"true")].concat(),
        );
        let bookmark = field(1, &[field(6, b"9"), ann].concat());
        handle_frame(
            &frame("ADDED", "v1", "Pod", &pod),
            &mut rv,
            &mut initial,
            &mut h,
        )
        .unwrap();
        handle_frame(
            &frame("BOOKMARK", "v1", "Pod", &bookmark),
            &mut rv,
            &mut initial,
            &mut h,
        )
        .unwrap();
        assert!(!initial);
        assert_eq!(rv, "9");
        handle_frame(
            &frame("MODIFIED", "v1", "Pod", &pod),
            &mut rv,
            &mut initial,
            &mut h,
        )
        .unwrap();
        assert_eq!(rv, "5");
        // An object whose metadata cannot be read is handed on but moves no resume point.
        handle_frame(
            &frame("MODIFIED", "v1", "Pod", &[0x0a, 0x7f]),
            &mut rv,
            &mut initial,
            &mut h,
        )
        .unwrap();
        assert_eq!(rv, "5");
        assert_eq!(
            h.0,
            [
                "list <protobuf>",
                "done",
                "apply <protobuf>",
                "apply <protobuf>"
            ]
        );
        // ERROR with a protobuf Status: code (6) 410.
        let status = [field(4, b"Expired"), vec![6 << 3, 0x9a, 0x03]].concat();
        let err = handle_frame(
            &frame("ERROR", "v1", "Status", &status),
            &mut rv,
            &mut initial,
            &mut h,
        )
        .unwrap_err();
        assert!(err.is_gone(), "{err}");
        // Garbage is a protocol error, not a panic.
        assert!(handle_frame(b"\x0a\x05AD", &mut rv, &mut initial, &mut h).is_err());
        assert!(handle_frame(&field(2, b"\x0a\x01x"), &mut rv, &mut initial, &mut h).is_err());
    }

    #[test]
    fn protobuf_list_pages_and_status_bodies() {
        let meta = field(1, &[field(2, b"7"), field(3, b"c1")].concat());
        let items = [field(2, b"\x0a\x00"), field(2, b"\x0a\x02\x0a\x00")].concat();
        let tm = [field(1, b"v1"), field(2, b"PodList")].concat();
        let body = [
            b"k8s\0".to_vec(),
            field(1, &tm),
            field(2, &[meta, items].concat()),
        ]
        .concat();
        let page = crate::protocol::proto_list(&body).unwrap();
        assert_eq!(page.metadata.resource_version, "7");
        assert_eq!(page.metadata.continue_, "c1");
        assert_eq!(page.items, [&b"\x0a\x00"[..], b"\x0a\x02\x0a\x00"]);
        assert!(crate::protocol::proto_list(b"k8s").is_err());
        let tm = [field(1, b"v1"), field(2, b"Status")].concat();
        let st = [field(3, b"gone away"), vec![6 << 3, 0x9a, 0x03]].concat();
        let body = [b"k8s\0".to_vec(), field(1, &tm), field(2, &st)].concat();
        let e = crate::protocol::api_error(500, &body, None);
        assert!(e.is_gone());
        assert!(e.to_string().contains("gone away"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Bytes from the network never panic the protobuf unwrapping: random frames, list
        /// bodies and error bodies are errors or events, nothing else.
        #[test]
        fn random_protobuf_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            magic in proptest::prelude::any::<bool>(),
        ) {
            let body = if magic { [b"k8s\0".as_slice(), &bytes].concat() } else { bytes.clone() };
            let mut h = Rec::default();
            let (mut rv, mut initial) = (String::new(), false);
            let _ = handle_frame(&bytes, &mut rv, &mut initial, &mut h);
            let _ = crate::protocol::proto_list(&body);
            let _ = crate::protocol::api_error(500, &body, None);
            let framed = [field(1, b"ADDED"), field(2, &field(1, &body))].concat();
            let _ = handle_frame(&framed, &mut rv, &mut initial, &mut h);
        }
    }

    #[test]
    fn paths() {
        let t = Target {
            group: "apps".into(),
            version: "v1".into(),
            plural: "deployments".into(),
            namespace: Some("ns".into()),
            field_selector: None,
            label_selector: None,
        };
        assert_eq!(t.path(), "/apis/apps/v1/namespaces/ns/deployments");
        let t = Target {
            group: String::new(),
            version: "v1".into(),
            plural: "nodes".into(),
            namespace: None,
            ..t
        };
        assert_eq!(t.path(), "/api/v1/nodes");
    }
}
