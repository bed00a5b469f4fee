//! HTTP(S) server: accept loop, optional TLS, and request routing.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::debug;

use crate::api::{self, ListParams};
use crate::httputil::{
    bad_request, json_response, negotiate, not_found_path, parse_query, status_response,
    text_response, Body,
};
use crate::object::Encoding;
use crate::state::Shared;
use crate::store::to_bytes;
use crate::{admin, discovery};

/// TLS material generated at startup.
pub(crate) struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
}

/// A self-signed certificate for `localhost`, `127.0.0.1`, `::1` and `host`.
pub(crate) fn self_signed(host: &str) -> Result<Tls, String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !names.iter().any(|n| n == host) && !host.is_empty() && host != "0.0.0.0" && host != "::" {
        names.push(host.to_string());
    }
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| e.to_string())?;
    let cert = CertificateDer::from(ck.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| e.to_string())?;
    // Like a real API server: HTTP/2 when the client offers it (client-go does), else 1.1.
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(cfg)),
    })
}

/// Accept connections until shutdown; then abort every connection.
pub(crate) async fn serve(listener: TcpListener, tls: Option<Tls>, sh: Arc<Shared>) {
    let mut shutdown = sh.shutdown.subscribe();
    let mut conns = JoinSet::new();
    let tls = tls.map(Arc::new);
    loop {
        // Shutdown may have been requested before this task first ran.
        if *shutdown.borrow_and_update() {
            break;
        }
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                debug!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let sh = sh.clone();
        let tls = tls.clone();
        conns.spawn(async move {
            let svc = service_fn(move |req| {
                let sh = sh.clone();
                async move { Ok::<_, Infallible>(handle(sh, req).await) }
            });
            // HTTP/1.1, or HTTP/2 (ALPN over TLS, prior knowledge in clear text).
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let res = match tls {
                Some(tls) => match tls.acceptor.accept(stream).await {
                    Ok(s) => builder.serve_connection(TokioIo::new(s), svc).await,
                    Err(e) => {
                        debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                },
                None => builder.serve_connection(TokioIo::new(stream), svc).await,
            };
            if let Err(e) = res {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    conns.shutdown().await;
}

fn json_ok(v: &serde_json::Value) -> Response<Body> {
    json_response(StatusCode::OK, to_bytes(v))
}

/// Route one request.
pub(crate) async fn handle(sh: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    sh.counters.requests.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path().to_string();
    if let Some(rest) = path.strip_prefix("/_sim") {
        return admin::handle(&sh, rest, req).await;
    }
    let accept = req
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match path.as_str() {
        "/healthz" | "/livez" | "/readyz" => return text_response(StatusCode::OK, "ok"),
        _ => {}
    }
    if negotiate(accept.as_deref(), false).is_none() && !is_resource_path(&path) {
        return not_acceptable(false);
    }
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => return json_ok(&discovery::version()),
        ["api"] => {
            let host = sh
                .base_url
                .read()
                .split("://")
                .nth(1)
                .unwrap_or("127.0.0.1")
                .to_string();
            return json_ok(&discovery::api_versions(&host));
        }
        ["apis"] => {
            let mut v = discovery::api_group_list(&sh.world.read().registry);
            let faults = crate::faults::Faults { sh: sh.clone() };
            if let Some(groups) = v.get_mut("groups").and_then(|g| g.as_array_mut()) {
                groups.retain(|g| !faults.group_hidden(g["name"].as_str().unwrap_or("")));
            }
            return json_ok(&v);
        }
        ["apis", group, ..] if (crate::faults::Faults { sh: sh.clone() }).group_hidden(group) => {
            return not_found_path()
        }
        ["api", "v1"] => {
            return match discovery::api_resource_list(&sh.world.read().registry, "", "v1") {
                Some(v) => json_ok(&v),
                None => not_found_path(),
            }
        }
        ["apis", group] => {
            return match discovery::api_group(&sh.world.read().registry, group) {
                Some(v) => json_ok(&v),
                None => not_found_path(),
            }
        }
        ["apis", group, version] => {
            return match discovery::api_resource_list(&sh.world.read().registry, group, version) {
                Some(v) => json_ok(&v),
                None => not_found_path(),
            }
        }
        _ => {}
    }
    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (g, v, rest),
        _ => return not_found_path(),
    };
    let (legacy_watch, rest) = match rest {
        ["watch", r @ ..] => (true, r),
        r => (false, r),
    };
    // Resolve the path to (type, namespace, name).
    let reg_lookup = |plural: &str| {
        sh.world
            .read()
            .registry
            .by_path(group, version, plural)
            .cloned()
    };
    let (t, ns, name) = match rest {
        [plural] => match reg_lookup(plural) {
            Some(t) => (t, None, None),
            None => return not_found_path(),
        },
        ["namespaces", ns, plural] => match reg_lookup(plural) {
            Some(t) if t.namespaced => (t, Some(ns.to_string()), None),
            _ => return not_found_path(),
        },
        ["namespaces", ns, plural, name] => match reg_lookup(plural) {
            Some(t) if t.namespaced => (t, Some(ns.to_string()), Some(name.to_string())),
            _ => return not_found_path(),
        },
        [plural, name] => match reg_lookup(plural) {
            Some(t) if !t.namespaced => (t, None, Some(name.to_string())),
            _ => return not_found_path(),
        },
        _ => return not_found_path(),
    };
    // Built-in kinds are offered in protobuf too; custom resources (and CRDs) only in JSON.
    let protobuf = crate::proto::message_of(&t.api_version(), &t.kind).is_some();
    let wants_table = crate::table::wants_table(accept.as_deref());
    let Some(enc) = negotiate(accept.as_deref(), protobuf && !wants_table) else {
        return not_acceptable(protobuf);
    };
    match enc {
        Encoding::Json => sh.counters.json_responses.fetch_add(1, Ordering::Relaxed),
        Encoding::Protobuf => sh
            .counters
            .protobuf_responses
            .fetch_add(1, Ordering::Relaxed),
    };
    let resp = resource(&sh, req, enc, t, ns, name, legacy_watch, wants_table).await;
    match enc {
        Encoding::Protobuf if resp.status() != StatusCode::OK => protobuf_status(resp).await,
        _ => resp,
    }
}

/// Serve GET, LIST or WATCH of a resolved resource path.
#[allow(clippy::too_many_arguments)]
async fn resource(
    sh: &Arc<Shared>,
    req: Request<Incoming>,
    enc: Encoding,
    t: Arc<crate::kinds::ResourceType>,
    ns: Option<String>,
    name: Option<String>,
    legacy_watch: bool,
    table: bool,
) -> Response<Body> {
    if req.method() != Method::GET {
        return status_response(
            405,
            "MethodNotAllowed",
            &format!(
                "the server does not allow this method on the requested resource (kubestate-sim serves get, list and watch; use {}/_sim/apply to change objects)",
                sh.base_url.read()
            ),
            None,
        );
    }
    let query = match parse_query(req.uri().query()) {
        Ok(q) => q,
        Err(e) => return bad_request(&e),
    };
    if let Some(r) = api::request_faults(sh).await {
        return r;
    }
    let faults = crate::faults::Faults { sh: sh.clone() };
    match faults.refusal(&t.group, &t.plural) {
        Some(crate::faults::Refusal::Forbidden) => {
            let verb = if name.is_some() {
                "get"
            } else if query
                .iter()
                .any(|(k, v)| k == "watch" && (v == "1" || v == "true"))
                || legacy_watch
            {
                "watch"
            } else {
                "list"
            };
            let scope = match &ns {
                Some(ns) => format!("in the namespace \"{ns}\""),
                None => "at the cluster scope".to_string(),
            };
            return status_response(
                403,
                "Forbidden",
                &format!(
                    "{} is forbidden: User \"system:serviceaccount:kube-system:kube-state-metrics\" cannot {verb} resource \"{}\" in API group \"{}\" {scope} (injected by kubestate-sim)",
                    t.plural, t.plural, t.group
                ),
                Some(serde_json::json!({"group": t.group, "kind": t.plural})),
            );
        }
        Some(crate::faults::Refusal::NotFound) => return not_found_path(),
        None => {}
    }
    if name.is_none() && faults.take(crate::faults::Counter::Stall) {
        return api::stalled(sh, enc);
    }
    if let Some(name) = name {
        if legacy_watch {
            return not_found_path();
        }
        return api::get(sh, enc, &t, ns.as_deref().unwrap_or(""), &name, table);
    }
    let mut params = match ListParams::parse(&query, &t.kind) {
        Ok(p) => p,
        Err(e) => return bad_request(&e),
    };
    params.watch |= legacy_watch;
    params.table = table;
    if params.watch {
        api::watch(sh, enc, t, ns, params).await
    } else {
        api::list(sh, enc, &t, ns.as_deref(), &params).await
    }
}

/// Whether the path names a resource (`/api/v1/...` or `/apis/g/v/...` beyond discovery).
fn is_resource_path(path: &str) -> bool {
    let segs = path.split('/').filter(|s| !s.is_empty()).count();
    (path.starts_with("/api/") && segs > 2) || (path.starts_with("/apis/") && segs > 3)
}

/// 406 for an `Accept` header naming nothing the sim serves for this path.
fn not_acceptable(protobuf: bool) -> Response<Body> {
    status_response(
        406,
        "NotAcceptable",
        if protobuf {
            "only the following media types are accepted: application/json, application/vnd.kubernetes.protobuf"
        } else {
            "only the following media types are accepted: application/json"
        },
        None,
    )
}

/// An error `Status` (always built as JSON) re-encoded as a protobuf body, as the API server
/// answers clients that negotiated protobuf.
async fn protobuf_status(resp: Response<Body>) -> Response<Body> {
    use http_body_util::BodyExt;
    let is_json = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(collected) = body.collect().await else {
        return Response::from_parts(parts, crate::httputil::full(Bytes::new()));
    };
    let bytes = collected.to_bytes();
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, crate::httputil::full(bytes));
    };
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(crate::proto::CONTENT_TYPE),
    );
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, crate::httputil::full(crate::proto::status_body(&v)))
}
