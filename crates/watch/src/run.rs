//! The list/watch loop of one resource.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::value::RawValue;
use tracing::{debug, info, warn};

use crate::protocol::{
    api_error, HeadMeta, ListPage, ObjectHead, Query, WatchLine, INITIAL_EVENTS_END,
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
        }
    }
}

/// What happened to the watched collection.
#[derive(Debug)]
pub enum Event<'a> {
    /// A full (re)list begins; objects until [`Event::RelistDone`] are the complete contents.
    RelistStarted,
    /// One object of the (re)list.
    Listed(&'a RawValue),
    /// The (re)list is complete.
    RelistDone,
    /// An object was added or changed.
    Applied(&'a RawValue),
    /// An object was deleted (its last state).
    Deleted(&'a RawValue),
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
}

enum State {
    Relist,
    Watch { rv: String },
}

/// Lists and watches `target` until the task is dropped, feeding `handler`.
pub async fn run(
    client: &kube::Client,
    target: &Target,
    opts: &Options,
    handler: &mut impl Handler,
) {
    let path = target.path();
    let mut backoff = opts.backoff.clone();
    let mut watch_list = opts.watch_list && opts.object_limit.is_none();
    let mut state = State::Relist;
    loop {
        let (next, failure) = match state {
            State::Relist if watch_list => {
                let mut rv = String::new();
                match watch(client, target, opts, &mut rv, true, handler).await {
                    Ok(()) => (State::Watch { rv }, None),
                    Err(e) if unsupported(&e) => {
                        info!(resource = %path, error = %e, "watch-list not supported, falling back to paginated lists");
                        watch_list = false;
                        (State::Relist, None)
                    }
                    // The initial events completed (rv set) before the stream failed: resume.
                    Err(e) if !rv.is_empty() && !e.is_gone() => (State::Watch { rv }, Some(e)),
                    Err(e) => (State::Relist, Some(e)),
                }
            }
            State::Relist => match list(client, target, opts, handler).await {
                Ok(rv) => {
                    info!(resource = %path, "initial list complete");
                    (State::Watch { rv }, None)
                }
                Err(e) => (State::Relist, Some(e)),
            },
            State::Watch { mut rv } => {
                match watch(client, target, opts, &mut rv, false, handler).await {
                    Ok(()) => (State::Watch { rv }, None),
                    Err(e) if e.is_gone() => {
                        info!(resource = %path, "resourceVersion expired, relisting");
                        (State::Relist, None)
                    }
                    Err(e) => (State::Watch { rv }, Some(e)),
                }
            }
        };
        state = next;
        match failure {
            None => backoff.reset(),
            Some(e) => {
                let delay = match &e {
                    Error::Api {
                        retry_after: Some(d),
                        ..
                    } => *d,
                    _ => backoff.next_delay(),
                };
                if matches!(e.code(), Some(401 | 403)) {
                    warn!(resource = %path, error = %e, retry_in = ?delay, "access denied");
                } else {
                    debug!(resource = %path, error = %e, retry_in = ?delay, "list/watch failed");
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}

fn unsupported(e: &Error) -> bool {
    matches!(e.code(), Some(400 | 405 | 406 | 415 | 422 | 501))
}

async fn send(client: &kube::Client, uri: String) -> Result<http::Response<Body>, Error> {
    let req = Request::get(uri)
        .header(http::header::ACCEPT, "application/json")
        .body(Body::empty())
        .map_err(|e| Error::Protocol(e.to_string()))?;
    let resp = client.send(req).await.map_err(Error::Transport)?;
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
        let result = fetch_page(client, format!("{path}{}", q.as_str())).await;
        handler.request(RequestKind::List, result.as_ref().map(|_| ()));
        let body = result?;
        let page: ListPage<'_> = serde_json::from_slice(&body)
            .map_err(|e| Error::Protocol(format!("list body: {e}")))?;
        if !started {
            handler.event(Event::RelistStarted);
            started = true;
        }
        for item in &page.items {
            if opts.object_limit.is_some_and(|l| listed >= l) {
                break;
            }
            handler.event(Event::Listed(item));
            listed += 1;
        }
        cont = page.metadata.continue_;
        if cont.is_empty() || opts.object_limit.is_some() {
            handler.event(Event::RelistDone);
            return Ok(page.metadata.resource_version);
        }
    }
}

async fn fetch_page(client: &kube::Client, uri: String) -> Result<bytes::Bytes, Error> {
    let resp = send(client, uri).await?;
    resp.into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| Error::Body(e.to_string()))
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
    let result = send(client, format!("{}{}", target.path(), q.as_str())).await;
    handler.request(RequestKind::Watch, result.as_ref().map(|_| ()));
    let mut body = result?.into_body();
    // A dead connection shows as silence: allow the server's timeout plus a margin.
    let idle = Duration::from_secs(timeout + 30);
    let mut in_initial = initial;
    if initial {
        rv.clear();
        handler.event(Event::RelistStarted);
    }
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let started = Instant::now();
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(Error::Body(format!("no data for {idle:?}"))),
            Ok(None) => {
                if !buf.iter().all(u8::is_ascii_whitespace) {
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
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
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

fn handle_line(
    line: &[u8],
    rv: &mut String,
    in_initial: &mut bool,
    handler: &mut impl Handler,
) -> Result<(), Error> {
    let ev: WatchLine<'_> =
        serde_json::from_slice(line).map_err(|e| Error::Protocol(format!("watch event: {e}")))?;
    // An object whose metadata is unreadable is still handed on (the engine counts it as
    // malformed); it just cannot advance the resume point.
    let head: ObjectHead = serde_json::from_str(ev.object.get()).unwrap_or_default();
    match ev.type_ {
        "ADDED" | "MODIFIED" => {
            handler.event(if *in_initial {
                Event::Listed(ev.object)
            } else {
                Event::Applied(ev.object)
            });
        }
        "DELETED" => handler.event(Event::Deleted(ev.object)),
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
            return Err(Error::Protocol(format!(
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
                Event::Listed(o) => format!("list {}", o.get()),
                Event::RelistDone => "done".into(),
                Event::Applied(o) => format!("apply {}", o.get()),
                Event::Deleted(o) => format!("delete {}", o.get()),
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
