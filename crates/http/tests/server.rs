//! The servers at the socket level: routes, negotiation headers, and connection timeouts.

use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{tls_web_config, TestServer};
use kubestate_http::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one HTTP/1.1 request on `s` and reads one response (headers + body by Content-Length
/// or chunked until the terminating chunk).
async fn request(s: &mut TcpStream, path: &str, extra: &str) -> String {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes())
        .await
        .expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .expect("response in time")
            .expect("read");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if n == 0 || text.ends_with("0\r\n\r\n") {
            break;
        }
        if let Some(h) = text.find("\r\n\r\n") {
            if let Some(len) = text[..h].lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            }) {
                if buf.len() >= h + 4 + len {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn routes_of_the_main_server() {
    let addr = TestServer::main().start().await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let r = request(&mut s, "/healthz", "").await;
    assert!(r.starts_with("HTTP/1.1 200") && r.ends_with("OK"), "{r}");
    let r = request(&mut s, "/nope", "").await;
    assert!(
        r.starts_with("HTTP/1.1 404") && r.contains("404 page not found"),
        "{r}"
    );
    let r = request(&mut s, "/", "").await;
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("<a href=\"/metrics\">"),
        "{r}"
    );
    let r = request(
        &mut s,
        "/metrics",
        "Accept: application/openmetrics-text;version=1.0.0\r\n",
    )
    .await;
    assert!(r.contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"), "{r}");
    assert!(r.contains("# EOF"), "{r}");
    let r = request(&mut s, "/metrics", "").await;
    assert!(
        r.contains("content-type: text/plain; version=0.0.4; charset=utf-8")
            && !r.contains("# EOF"),
        "{r}"
    );
}

#[tokio::test]
async fn telemetry_server_has_readyz_and_counters() {
    let addr = TestServer::telemetry().start().await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    // No stores: nothing to wait for.
    let r = request(&mut s, "/readyz", "").await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let r = request(&mut s, "/metrics", "").await;
    assert!(
        r.contains("# TYPE kube_state_metrics_total_shards gauge")
            && r.contains("kube_state_metrics_total_shards 1"),
        "{r}"
    );
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let settings = Settings {
        idle_timeout: Duration::from_millis(300),
        ..Settings::default()
    };
    let addr = TestServer::main().settings(settings).start().await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let r = request(&mut s, "/healthz", "").await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let started = Instant::now();
    let mut b = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b))
        .await
        .expect("closed in time")
        .expect("read");
    assert_eq!(n, 0, "server closed the idle connection");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn clients_that_never_send_headers_are_cut() {
    let settings = Settings {
        read_header_timeout: Duration::from_millis(300),
        ..Settings::default()
    };
    let addr = TestServer::main().settings(settings).start().await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /metr").await.expect("write");
    let started = Instant::now();
    // The server may answer 408 before closing; what matters is that it does close.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "connection still open after 5 s");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "closed after {:?}",
        started.elapsed()
    );
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
}

#[tokio::test]
async fn basic_auth_and_configured_headers() {
    let hash = bcrypt::hash("pw", 4).expect("hash");
    let yaml = format!(
        "basic_auth_users:\n  scraper: '{hash}'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n"
    );
    let security =
        kubestate_http::WebSecurity::parse(&yaml, std::path::Path::new("web.yml")).expect("valid");
    let addr = TestServer::main().security(security).start().await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let r = request(&mut s, "/metrics", "").await;
    assert!(
        r.starts_with("HTTP/1.1 401") && r.contains("www-authenticate: Basic"),
        "{r}"
    );
    assert!(r.contains("x-frame-options: deny"), "{r}");
    // "scraper:pw" in base64.
    let r = request(
        &mut s,
        "/healthz",
        "Authorization: Basic c2NyYXBlcjpwdw==\r\n",
    )
    .await;
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("x-frame-options: deny"),
        "{r}"
    );
    let r = request(
        &mut s,
        "/healthz",
        "Authorization: Basic c2NyYXBlcjp3cm9uZw==\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");
}

#[tokio::test]
async fn tls_from_a_web_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, cfg) = tls_web_config(dir.path());
    let addr = TestServer::main()
        .security(kubestate_http::WebSecurity::load(&cfg).expect("valid"))
        .start()
        .await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).expect("root");
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("handshake");
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut out = Vec::new();
    tls.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.starts_with("HTTP/1.1 200") && text.ends_with("OK"),
        "{text}"
    );

    // A plain-text client gets no HTTP answer from a TLS server.
    let mut plain = TcpStream::connect(addr).await.expect("connect");
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut buf)).await;
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
}

#[tokio::test]
async fn auth_filter_guards_metrics_on_both_servers() {
    let authorizer: kubestate_http::Authorizer =
        Arc::new(|token: String, verb: String, _path: String| {
            Box::pin(async move {
                match (token.as_str(), verb.as_str()) {
                    ("good", "get") => kubestate_http::AuthDecision::Allowed,
                    ("good", _) | ("other", _) => kubestate_http::AuthDecision::Forbidden,
                    ("down", _) => {
                        kubestate_http::AuthDecision::Unavailable("api server unreachable".into())
                    }
                    _ => kubestate_http::AuthDecision::Unauthenticated,
                }
            })
        });
    for telemetry in [false, true] {
        let addr = if telemetry {
            TestServer::telemetry()
        } else {
            TestServer::main()
        }
        .authorizer(authorizer.clone())
        .start()
        .await;
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let r = request(&mut s, "/metrics", "").await;
        assert!(r.starts_with("HTTP/1.1 401"), "{r}");
        let r = request(&mut s, "/metrics", "Authorization: Bearer forged\r\n").await;
        assert!(r.starts_with("HTTP/1.1 401"), "{r}");
        let r = request(&mut s, "/metrics", "Authorization: Bearer other\r\n").await;
        assert!(r.starts_with("HTTP/1.1 403"), "{r}");
        let r = request(&mut s, "/metrics", "Authorization: Bearer down\r\n").await;
        assert!(
            r.starts_with("HTTP/1.1 503") && r.contains("auth filter unavailable"),
            "{r}"
        );
        let r = request(&mut s, "/metrics", "Authorization: Bearer good\r\n").await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        // Probes stay open.
        let probe = if telemetry { "/readyz" } else { "/healthz" };
        let r = request(&mut s, probe, "").await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    }
}
