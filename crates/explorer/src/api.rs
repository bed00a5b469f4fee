//! Routing of the pages and the JSON API (`/api/v1/explorer/...`, see docs/explorer.md).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin as StdPin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use kubestate_http::{Body, Pages};
use serde::Serialize;
use serde_json::json;

use crate::eval::{evaluate, Limits};
use crate::object;
use crate::sampler::{pin_series_id, rss_bytes, Inner};
use crate::snapshot::Snapshot;
use crate::{assets, Explorer};

const API: &str = "/api/v1/explorer";

fn full(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = kubestate_http::full(status, content_type, body);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn json_response(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(b) => full(status, "application/json", b),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, &json!({ "error": message }))
}

/// Query parameters, last value wins.
fn params(req: &Request<()>) -> BTreeMap<String, String> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Parameter `key` as a non-negative integer, `default` when absent; the error says why not.
fn num(p: &BTreeMap<String, String>, key: &str, default: usize) -> Result<usize, String> {
    match p.get(key).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("`{key}` must be a non-negative integer, not {v:?}")),
    }
}

impl Pages for Explorer {
    fn serves(&self, path: &str) -> bool {
        path == "/"
            || path == "/explorer"
            || path.starts_with("/explorer/")
            || path == API
            || path.starts_with("/api/v1/explorer/")
    }

    fn respond(&self, req: Request<()>) -> StdPin<Box<dyn Future<Output = Response<Body>> + Send>> {
        let inner = self.inner.clone();
        Box::pin(async move { route(inner, req).await })
    }
}

async fn route(inner: Arc<Inner>, req: Request<()>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let read = method == Method::GET || method == Method::HEAD;
    if path == "/" || path == "/explorer" || path == "/explorer/" {
        if !read {
            return error(StatusCode::METHOD_NOT_ALLOWED, "use GET");
        }
        return full(StatusCode::OK, "text/html; charset=utf-8", assets::INDEX);
    }
    if let Some(name) = path.strip_prefix("/explorer/assets/") {
        return match assets::get(name) {
            Some(a) if read => full(StatusCode::OK, a.content_type, a.bytes),
            Some(_) => error(StatusCode::METHOD_NOT_ALLOWED, "use GET"),
            None => error(StatusCode::NOT_FOUND, "no such asset"),
        };
    }
    let Some(rest) = path.strip_prefix(API) else {
        return error(StatusCode::NOT_FOUND, "no such page");
    };
    let p = params(&req);
    match (method.as_str(), rest.trim_end_matches('/')) {
        ("GET", "/overview") => overview(&inner),
        ("GET", r) if r.starts_with("/problems/") => problem(&inner, &r["/problems/".len()..]),
        ("GET", "/history") => {
            let since = p.get("since").and_then(|s| s.parse().ok()).unwrap_or(0.0);
            let prefix = p.get("prefix").map_or("", |s| s.as_str());
            json_response(StatusCode::OK, &inner.history.lock().dump(since, prefix))
        }
        ("GET", "/events") => events(&inner),
        ("GET", "/query") => query(&inner, &p).await,
        ("GET", "/pins") => pins(&inner),
        ("POST", "/pins") => match inner.pin(p.get("q").map_or("", |s| s.as_str())) {
            Ok(pin) => json_response(StatusCode::CREATED, &pin),
            Err(e) => error(StatusCode::BAD_REQUEST, &e),
        },
        ("DELETE", r) if r.starts_with("/pins/") => match r["/pins/".len()..].parse() {
            Ok(id) if inner.unpin(id) => json_response(StatusCode::OK, &json!({ "unpinned": id })),
            _ => error(StatusCode::NOT_FOUND, "no such pin"),
        },
        ("GET", "/object") => {
            let (resource, namespace, name) = (
                p.get("resource").cloned().unwrap_or_default(),
                p.get("namespace").cloned().unwrap_or_default(),
                p.get("name").cloned().unwrap_or_default(),
            );
            if resource.is_empty() || name.is_empty() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "give `resource` and `name` (and `namespace` for namespaced kinds)",
                );
            }
            blocking(&inner, move |snap| {
                match object::detail(snap, &resource, &namespace, &name) {
                    Some(d) => json_response(StatusCode::OK, &d),
                    None => error(
                        StatusCode::NOT_FOUND,
                        &format!("no {resource} {namespace}/{name} in the exporter's stores"),
                    ),
                }
            })
            .await
        }
        ("GET", "/objects") => {
            let resource = p.get("resource").cloned().unwrap_or_default();
            let needle = p.get("q").cloned().unwrap_or_default();
            let limit = match num(&p, "limit", 50) {
                Ok(l) => l.min(1000),
                Err(e) => return error(StatusCode::BAD_REQUEST, &e),
            };
            blocking(&inner, move |snap| {
                let (items, total) = object::search(snap, &resource, &needle, limit);
                let items: Vec<_> = items
                    .into_iter()
                    .map(|(namespace, name)| json!({ "namespace": namespace, "name": name }))
                    .collect();
                json_response(
                    StatusCode::OK,
                    &json!({ "resource": resource, "total": total, "objects": items }),
                )
            })
            .await
        }
        ("GET", "/families") => {
            let snap = Snapshot::take(&inner.exposition);
            let mut fams: BTreeMap<&str, (&str, &str, &str)> = BTreeMap::new();
            for s in &snap.stores {
                for f in s.families.iter() {
                    fams.entry(&f.name)
                        .or_insert((&s.resource, &f.help, f.ty.as_str()));
                }
            }
            let list: Vec<_> = fams
                .into_iter()
                .map(|(n, (r, h, t))| json!({ "name": n, "resource": r, "help": h, "type": t }))
                .collect();
            json_response(StatusCode::OK, &list)
        }
        (_, r)
            if [
                "/overview",
                "/history",
                "/events",
                "/query",
                "/object",
                "/objects",
                "/families",
            ]
            .contains(&r) =>
        {
            error(StatusCode::METHOD_NOT_ALLOWED, "use GET")
        }
        _ => error(StatusCode::NOT_FOUND, "no such API path"),
    }
}

/// Runs `f` on a fresh snapshot off the async workers, one of a bounded number at a time.
async fn blocking(
    inner: &Arc<Inner>,
    f: impl FnOnce(&Snapshot) -> Response<Body> + Send + 'static,
) -> Response<Body> {
    let permit = match tokio::time::timeout(
        Duration::from_secs(5),
        inner.queries.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(p)) => p,
        _ => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the explorer is busy with other queries; retry in a moment",
            )
        }
    };
    let exp = inner.exposition.clone();
    let r = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f(&Snapshot::take(&exp))
    })
    .await;
    r.unwrap_or_else(|e| error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))
}

fn overview(inner: &Inner) -> Response<Body> {
    let latest = inner.latest.lock().clone();
    let st = &latest.state;
    let resources: Vec<_> = st
        .resources
        .iter()
        .map(|r| {
            let h = latest.health.get(&r.resource).cloned().unwrap_or_default();
            json!({
                "resource": r.resource, "objects": r.objects, "series": r.series,
                "stores": h.stores, "synced": h.synced, "sync_seconds": h.sync_seconds,
                "list_errors": h.list_errors, "watch_errors": h.watch_errors,
                "watches": h.watches, "malformed": h.malformed,
                "events": h.events, "events_per_second": h.events_per_second,
            })
        })
        .collect();
    let problems: Vec<_> = st
        .problems
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "title": p.title, "count": p.count, "by": p.by,
                "query": p.query, "available": p.available,
            })
        })
        .collect();
    let history = inner.history.lock().heap_bytes();
    json_response(
        StatusCode::OK,
        &json!({
            "version": inner.config.version,
            "time": latest.time,
            "sampled": latest.time > 0.0,
            "sample_ms": latest.sample_ms,
            "sample_read": latest.sample_read,
            "interval_seconds": inner.config.interval.as_secs_f64(),
            "objects": st.resources.iter().map(|r| r.objects).sum::<u64>(),
            "series": st.resources.iter().map(|r| r.series).sum::<u64>(),
            "synced": inner.telemetry.all_synced(),
            "events_per_second": latest.events_per_second,
            "memory": { "rss_bytes": rss_bytes().or(latest.rss_bytes), "history_bytes": history },
            "pods_by_phase": st.pods_by_phase,
            "resources": resources,
            "problems": problems,
        }),
    )
}

fn problem(inner: &Inner, id: &str) -> Response<Body> {
    let latest = inner.latest.lock().clone();
    match latest.state.problems.iter().find(|p| p.id == id) {
        Some(p) => json_response(StatusCode::OK, p),
        None => error(StatusCode::NOT_FOUND, "no such problem list"),
    }
}

fn pins(inner: &Inner) -> Response<Body> {
    let pins = inner.pins.lock().clone();
    json_response(StatusCode::OK, &pins)
}

async fn query(inner: &Arc<Inner>, p: &BTreeMap<String, String>) -> Response<Body> {
    let text = p.get("q").cloned().unwrap_or_default();
    let (offset, limit) = match (num(p, "offset", 0), num(p, "limit", 100)) {
        (Ok(o), Ok(l)) => (o, l.clamp(1, 1000)),
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let q = match crate::Query::parse(&text) {
        Ok(q) => q,
        Err(e) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({ "error": e.message, "pos": e.pos }),
            )
        }
    };
    let limits = Limits {
        max_rows: inner.config.max_rows,
        max_groups: inner.config.max_rows,
        deadline: Some(Instant::now() + inner.config.query_timeout),
    };
    let timeout = inner.config.query_timeout;
    blocking(inner, move |snap| {
        let started = Instant::now();
        match evaluate(&q, snap, &limits) {
            Ok(a) => {
                let total = a.rows.len();
                let rows: Vec<_> = a
                    .rows
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|r| {
                        json!({ "family": r.family, "labels": r.labels, "value": r.value,
                        "id": pin_series_id(0, r)["pin.0.".len()..] })
                    })
                    .collect();
                json_response(
                    StatusCode::OK,
                    &json!({
                        "query": text,
                        "kind": if q.aggregation.is_some() { "groups" } else { "series" },
                        "rows": rows,
                        "total_rows": total,
                        "offset": offset,
                        "limit": limit,
                        "matched": a.matched,
                        "scanned": a.scanned,
                        "truncated": a.truncated,
                        "max_rows": limits.max_rows,
                        "elapsed_ms": started.elapsed().as_secs_f64() * 1000.0,
                    }),
                )
            }
            Err(t) => error(
                StatusCode::GATEWAY_TIMEOUT,
                &format!(
                    "the query ran longer than {timeout:?} (read {} series); narrow the selector",
                    t.scanned
                ),
            ),
        }
    })
    .await
}

/// Server-sent events: one `tick` per sample with every graphed value.
fn events(inner: &Inner) -> Response<Body> {
    let rx = inner.ticks.subscribe();
    let hello = Bytes::from_static(b"retry: 3000\n: kubestate explorer ticks\n\n");
    let s = stream::unfold((Some(hello), rx), |(first, mut rx)| async move {
        if let Some(h) = first {
            return Some((Ok(Frame::data(h)), (None, rx)));
        }
        loop {
            match rx.recv().await {
                Ok(b) => return Some((Ok(Frame::data(b)), (None, rx))),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let body: Body = BodyExt::boxed(StreamBody::new(s));
    let mut r = Response::new(body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
