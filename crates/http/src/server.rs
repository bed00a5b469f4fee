//! Routing, bodies and the accept loop.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body::{Body as _, Frame};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use kubestate_engine::Telemetry;
use kubestate_metric::Format;
use kubestate_store::{Exposition, ResourceFilter};
use tokio::net::TcpListener;
use tracing::{debug, error, warn};

use crate::deadline::{ConnClock, LogThrottle, Tracked, Watched};
use crate::web_config::AuthCheck;
use crate::Histogram;

/// Server behaviour that flags control.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Gzip `/metrics` when the client accepts it (`--enable-gzip-encoding`).
    pub enable_gzip: bool,
    /// Longest time to read a request's headers (`--server-read-header-timeout`).
    pub read_header_timeout: Duration,
    /// Longest time to read a request, headers and body (`--server-read-timeout`; it also
    /// bounds the header read when shorter than `read_header_timeout`). Zero: no limit.
    pub read_timeout: Duration,
    /// Longest time to write a response (`--server-write-timeout`), from its start to its
    /// last byte taken by the client: a client that stops reading is disconnected at this
    /// deadline and the store snapshot it pinned released. Zero: no limit.
    pub write_timeout: Duration,
    /// A keep-alive connection without a new request for this long is closed
    /// (`--server-idle-timeout`).
    pub idle_timeout: Duration,
    /// Bytes per body chunk.
    pub chunk_size: usize,
    /// Version shown on the landing page.
    pub version: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enable_gzip: false,
            read_header_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(300),
            chunk_size: 256 * 1024,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// Asks the API server whether it is live (`GET /livez`).
pub type Liveness =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// The verdict on a bearer token for one `/metrics` request (`--auth-filter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthDecision {
    /// The token's user may read the path.
    Allowed,
    /// No token, or one the API server does not accept: 401.
    Unauthenticated,
    /// A valid user without permission: 403.
    Forbidden,
    /// The API server could not be asked: 503 with this reason.
    Unavailable(String),
}

/// Decides whether a bearer token may perform `verb` (lower-case HTTP method) on `path`.
pub type Authorizer = Arc<
    dyn Fn(String, String, String) -> Pin<Box<dyn Future<Output = AuthDecision> + Send>>
        + Send
        + Sync,
>;

/// What the handlers read.
pub struct Shared {
    /// All text stores.
    pub exposition: Arc<Exposition>,
    /// The engine's counters.
    pub telemetry: Arc<Telemetry>,
    /// `/livez` of the main server proxies this.
    pub liveness: Option<Liveness>,
    /// Extra telemetry written after the engine's (build info…).
    pub build_info: Vec<u8>,
    /// `/metrics` durations.
    pub histogram: Histogram,
    /// Behaviour.
    pub settings: Settings,
    /// TLS, basic auth and extra headers from `--tls-config`; swapped whole when the file or
    /// its certificates change (new connections and requests use the new one).
    pub security: crate::SecuritySlot,
    /// Token check for `/metrics` on both servers (`--auth-filter`).
    pub authorizer: Option<Authorizer>,
    /// Pages mounted on the main server (the explorer), under the same auth as `/metrics`.
    pub pages: Option<Arc<dyn crate::Pages>>,
}

/// Applies the `--auth-filter` to a `/metrics` request; `None` lets it through.
async fn auth_filter(shared: &Shared, req: &Request<()>) -> Option<Response<Body>> {
    let authorizer = shared.authorizer.as_ref()?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Some(full(
            StatusCode::UNAUTHORIZED,
            "text/plain; charset=utf-8",
            "Unauthorized\n",
        ));
    };
    let verb = req.method().as_str().to_ascii_lowercase();
    match authorizer(token.to_string(), verb, req.uri().path().to_string()).await {
        AuthDecision::Allowed => None,
        AuthDecision::Unauthenticated => Some(full(
            StatusCode::UNAUTHORIZED,
            "text/plain; charset=utf-8",
            "Unauthorized\n",
        )),
        AuthDecision::Forbidden => Some(full(
            StatusCode::FORBIDDEN,
            "text/plain; charset=utf-8",
            "Forbidden\n",
        )),
        AuthDecision::Unavailable(why) => {
            warn!(reason = %why, "auth filter unavailable");
            Some(full(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                "auth filter unavailable\n",
            ))
        }
    }
}

use crate::pages::{full, Body};

fn not_found() -> Response<Body> {
    full(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        "404 page not found\n",
    )
}

fn landing(title: &str, settings: &Settings, links: &[(&str, &str)]) -> Response<Body> {
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n<h1>{title}</h1>\n<p>Kubernetes object state as metrics, version {}.</p>\n<ul>\n",
        settings.version
    );
    for (href, text) in links {
        html.push_str(&format!("<li><a href=\"{href}\">{text}</a></li>\n"));
    }
    html.push_str("</ul>\n</body></html>\n");
    full(StatusCode::OK, "text/html; charset=utf-8", html)
}

/// The query parameter `name` as a list (comma-separated values, repeated parameters).
fn query_list(query: Option<&str>, name: &str) -> Option<Vec<String>> {
    let mut out: Option<Vec<String>> = None;
    for pair in query?.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != name {
            continue;
        }
        let v = percent_decode(v);
        let list = out.get_or_insert_with(Vec::new);
        list.extend(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
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
    String::from_utf8_lossy(&out).into_owned()
}

fn accepts_gzip(req: &Request<()>) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|tok| {
                tok.trim()
                    .split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("gzip"))
            })
        })
}

/// Answers one request to the main server.
pub async fn main_response(shared: Arc<Shared>, req: Request<()>) -> Response<Body> {
    if let Some(pages) = shared.pages.as_ref().filter(|p| p.serves(req.uri().path())) {
        return match auth_filter(&shared, &req).await {
            Some(denied) => denied,
            None => pages.respond(req).await,
        };
    }
    match req.uri().path() {
        "/metrics" => match auth_filter(&shared, &req).await {
            Some(denied) => denied,
            None => metrics(shared, &req),
        },
        "/healthz" => full(StatusCode::OK, "text/plain; charset=utf-8", "OK"),
        "/livez" => match &shared.liveness {
            None => full(StatusCode::OK, "text/plain; charset=utf-8", "OK"),
            Some(probe) => match probe().await {
                Ok(()) => full(StatusCode::OK, "text/plain; charset=utf-8", "OK"),
                Err(e) => {
                    debug!(error = %e, "API server liveness probe failed");
                    full(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "text/plain; charset=utf-8",
                        "Service Unavailable",
                    )
                }
            },
        },
        "/" => landing(
            "kubestate",
            &shared.settings,
            &[
                ("/metrics", "Metrics"),
                ("/healthz", "Healthz"),
                ("/livez", "Livez"),
            ],
        ),
        _ => not_found(),
    }
}

fn metrics(shared: Arc<Shared>, req: &Request<()>) -> Response<Body> {
    let started = Instant::now();
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    let query = req.uri().query();
    let filter = ResourceFilter {
        include: query_list(query, "resources"),
        exclude: query_list(query, "exclude_resources").unwrap_or_default(),
    };
    let gzip = shared.settings.enable_gzip && accepts_gzip(req);
    let method = req.method().as_str().to_ascii_lowercase();
    let chunk = shared.settings.chunk_size;
    let deadline = started + shared.settings.write_timeout;
    let timed_out = move || {
        (Instant::now() > deadline).then(|| {
            warn!("scrape exceeded --server-write-timeout, cutting the response");
            std::io::Error::new(std::io::ErrorKind::TimedOut, "write timeout")
        })
    };
    let st = shared.clone();
    let body: Body = if gzip {
        // One gzip member assembled from the exposition's cache of compressed segments.
        let scrape = shared.exposition.scrape_gzip(format, &filter);
        let body = stream::unfold(Some(scrape), move |state| {
            let st = st.clone();
            let method = method.clone();
            async move {
                let scrape = state?;
                if let Some(err) = timed_out() {
                    return Some((Err(err), None));
                }
                // A chunk may need a segment compressed, or wait while another scrape
                // compresses it: both block, so off the async workers.
                let next = tokio::task::spawn_blocking(move || {
                    let mut scrape = scrape;
                    let data = scrape.next_chunk(chunk);
                    (scrape, data)
                })
                .await;
                match next {
                    Ok((scrape, Some(data))) => Some((Ok(Frame::data(data)), Some(scrape))),
                    Ok((_, None)) => {
                        st.histogram.observe(&method, started.elapsed());
                        None
                    }
                    Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
                }
            }
        });
        BodyExt::boxed(StreamBody::new(body))
    } else {
        let scrape = shared.exposition.scrape(format, &filter);
        let body = stream::unfold(Some(scrape), move |state| {
            let st = st.clone();
            let method = method.clone();
            async move {
                let mut scrape = state?;
                if let Some(err) = timed_out() {
                    return Some((Err(err), None));
                }
                match scrape.next_chunk(chunk) {
                    Some(data) => Some((Ok(Frame::data(Bytes::from(data))), Some(scrape))),
                    None => {
                        st.histogram.observe(&method, started.elapsed());
                        None
                    }
                }
            }
        });
        BodyExt::boxed(StreamBody::new(body))
    };
    let mut r = Response::new(body);
    let ct = HeaderValue::from_str(&format.content_type())
        .unwrap_or(HeaderValue::from_static("text/plain"));
    r.headers_mut().insert(header::CONTENT_TYPE, ct);
    if gzip {
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

/// Answers one request to the telemetry server.
pub async fn telemetry_response(shared: Arc<Shared>, req: Request<()>) -> Response<Body> {
    match req.uri().path() {
        "/metrics" => {
            if let Some(denied) = auth_filter(&shared, &req).await {
                return denied;
            }
            let mut out = Vec::with_capacity(16 * 1024);
            shared.telemetry.write_text(&mut out);
            shared.histogram.write_text(&mut out);
            crate::process::write_text(&mut out);
            out.extend_from_slice(&shared.build_info);
            full(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                out,
            )
        }
        "/readyz" => {
            if shared.telemetry.all_synced() {
                full(StatusCode::OK, "text/plain; charset=utf-8", "OK")
            } else {
                full(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain; charset=utf-8",
                    "Service Unavailable",
                )
            }
        }
        "/" => landing(
            "kubestate self-metrics",
            &shared.settings,
            &[("/metrics", "Metrics"), ("/readyz", "Readyz")],
        ),
        _ => not_found(),
    }
}

/// The header read deadline: `--server-read-header-timeout`, or `--server-read-timeout` when
/// that is shorter (as Go's server does); zero means none.
fn header_deadline(settings: &Settings) -> Option<Duration> {
    [settings.read_header_timeout, settings.read_timeout]
        .into_iter()
        .filter(|d| !d.is_zero())
        .min()
}

/// Reads and drops a request body (the handlers use none) within `deadline`; `false` when the
/// client did not send it in time.
async fn drain_body(body: Incoming, deadline: Option<Instant>) -> bool {
    let drain = async {
        let mut body = body;
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                return false;
            }
        }
        true
    };
    match deadline {
        None => drain.await,
        Some(d) => tokio::time::timeout_at(d.into(), drain)
            .await
            .unwrap_or(false),
    }
}

/// A plain-text refusal with one extra header.
fn refusal(
    status: StatusCode,
    body: &'static str,
    (name, value): (header::HeaderName, &'static str),
) -> Response<Body> {
    let mut r = full(status, "text/plain; charset=utf-8", body);
    r.headers_mut()
        .insert(name, HeaderValue::from_static(value));
    r
}

/// Clients cut for not reading their response in time, logged once a minute.
static WRITE_CUTS: LogThrottle = LogThrottle::new(Duration::from_secs(60));

/// Serves one connection: basic auth and configured headers around `handler`, the header and
/// request read deadlines, the write deadline of each response, and the idle timeout.
async fn connection<I>(io: I, peer: std::net::SocketAddr, shared: Arc<Shared>, handler: Handler)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let idle = shared.settings.idle_timeout;
    let write_timeout = shared.settings.write_timeout;
    let read_timeout = shared.settings.read_timeout;
    let header_timeout = header_deadline(&shared.settings);
    let clock = Arc::new(ConnClock::default());
    let last_request = Arc::new(parking_lot::Mutex::new(Instant::now()));
    let seen = last_request.clone();
    let svc_clock = clock.clone();
    let svc = service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        let started = Instant::now();
        *seen.lock() = started;
        let in_flight = (!write_timeout.is_zero()).then(|| svc_clock.response_started());
        // Like Go's ServeMux, every method is accepted.
        async move {
            let (parts, body) = req.into_parts();
            let read_deadline = (!read_timeout.is_zero()).then(|| started + read_timeout);
            if !body.is_end_stream() && !drain_body(body, read_deadline).await {
                let r = refusal(
                    StatusCode::REQUEST_TIMEOUT,
                    "request body not received within --server-read-timeout\n",
                    (header::CONNECTION, "close"),
                );
                return Ok::<_, Infallible>(r.map(|b| Tracked {
                    inner: b,
                    guard: in_flight,
                }));
            }
            let req = Request::from_parts(parts, ());
            let security = shared.security.load_full();
            let auth = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            let mut resp = match security.check(auth).await {
                AuthCheck::Allowed => handler(shared, req).await,
                AuthCheck::Denied => refusal(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized\n",
                    (header::WWW_AUTHENTICATE, "Basic"),
                ),
                AuthCheck::Busy => refusal(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many password checks in progress; retry later\n",
                    (header::RETRY_AFTER, "1"),
                ),
            };
            for (k, v) in security.headers() {
                resp.headers_mut().insert(k.clone(), v.clone());
            }
            Ok::<_, Infallible>(resp.map(|b| Tracked {
                inner: b,
                guard: in_flight,
            }))
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let mut http1 = builder.http1();
    http1.timer(TokioTimer::new());
    if let Some(t) = header_timeout {
        http1.header_read_timeout(t);
    }
    let io = Watched {
        io,
        clock: clock.clone(),
    };
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    // hyper has no keep-alive idle timer: close a connection that has not started a request
    // for `idle` (a response in flight still completes). The write deadline is checked a few
    // times per timeout: a client that stops reading is dropped with its response.
    let mut closing = false;
    let tick = (write_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut deadline_check = tokio::time::interval(tick);
    deadline_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let wake = *last_request.lock() + idle;
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep_until(wake.into()), if !closing => {
                if last_request.lock().elapsed() >= idle {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
            _ = deadline_check.tick(), if !write_timeout.is_zero() => {
                if clock.overdue(write_timeout) {
                    if let Some(not_logged) = WRITE_CUTS.pass() {
                        warn!(%peer, not_logged, timeout = ?write_timeout, "client did not take its response within --server-write-timeout; connection closed");
                    }
                    return;
                }
            }
        }
    }
}

type Handler = fn(Arc<Shared>, Request<()>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    handler: Handler,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    // Accept errors (EMFILE when out of file descriptors) repeat as fast as the loop spins:
    // back off from 5 ms to 1 s, as Go's server does, and log once per interval.
    static ACCEPT_ERRORS: LogThrottle = LogThrottle::new(Duration::from_secs(10));
    let mut delay = Duration::ZERO;
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok(x) => {
                    delay = Duration::ZERO;
                    x
                }
                Err(e) => {
                    delay = (delay * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                    if let Some(not_logged) = ACCEPT_ERRORS.pass() {
                        error!(error = %e, not_logged, retry_in = ?delay, "accepting a connection failed (out of file descriptors? raise the limit or reduce clients)");
                    }
                    tokio::select! {
                        _ = &mut shutdown => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            match shared.security.load().tls.clone() {
                None => connection(stream, peer, shared, handler).await,
                Some(cfg) => {
                    let limit =
                        header_deadline(&shared.settings).unwrap_or(Duration::from_secs(60));
                    let handshake = async {
                        if !starts_tls(&stream).await? {
                            reject_plain_http(stream).await;
                            return None;
                        }
                        Some(tokio_rustls::TlsAcceptor::from(cfg).accept(stream).await)
                    };
                    match tokio::time::timeout(limit, handshake).await {
                        Ok(Some(Ok(tls))) => connection(tls, peer, shared, handler).await,
                        Ok(Some(Err(e))) => debug!(%peer, error = %e, "TLS handshake failed"),
                        Ok(None) => debug!(%peer, "plain HTTP on the TLS port answered 400"),
                        Err(_) => debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

/// Whether the first byte the client sent opens a TLS record (a handshake, 0x16); `None`
/// when the client closed or failed before sending anything.
async fn starts_tls(stream: &tokio::net::TcpStream) -> Option<bool> {
    let mut first = [0u8; 1];
    match stream.peek(&mut first).await {
        Ok(1) => Some(first[0] == 0x16),
        _ => None,
    }
}

/// Answers plain HTTP sent to the TLS port with a 400, as Go's server does, and closes.
async fn reject_plain_http(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let _ = stream
        .write_all(b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
        .await;
    let _ = stream.shutdown().await;
}

/// Serves the main server (`/metrics`, `/healthz`, `/livez`, `/`) on `listener` until
/// `shutdown` completes.
pub async fn serve_main(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) {
    serve(
        listener,
        shared,
        |s, r| Box::pin(main_response(s, r)),
        shutdown,
    )
    .await;
}

/// Serves the telemetry server (`/metrics`, `/readyz`, `/`) until `shutdown` completes.
pub async fn serve_telemetry(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) {
    serve(
        listener,
        shared,
        |s, r| Box::pin(telemetry_response(s, r)),
        shutdown,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_lists_merge_commas_and_repeats() {
        assert_eq!(
            query_list(Some("resources=pods,nodes&resources=services"), "resources"),
            Some(vec!["pods".into(), "nodes".into(), "services".into()])
        );
        assert_eq!(query_list(Some("x=1"), "resources"), None);
        assert_eq!(query_list(None, "resources"), None);
        assert_eq!(
            query_list(Some("exclude_resources=a%2Cb"), "exclude_resources"),
            Some(vec!["a".into(), "b".into()])
        );
    }
}
