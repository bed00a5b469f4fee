//! The servers at the socket level: routes, negotiation headers, and connection timeouts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kubestate_http::{serve_main, serve_telemetry, Histogram, Settings, Shared};
use kubestate_store::Exposition;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn start(settings: Settings, telemetry: bool) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shared = Arc::new(Shared {
        exposition: Arc::new(Exposition::new()),
        telemetry: Arc::default(),
        liveness: None,
        build_info: Vec::new(),
        histogram: Histogram::default(),
        settings,
    });
    let never = std::future::pending::<()>();
    if telemetry {
        tokio::spawn(serve_telemetry(listener, shared, never));
    } else {
        tokio::spawn(serve_main(listener, shared, never));
    }
    addr
}

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
    let addr = start(Settings::default(), false).await;
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
    let addr = start(Settings::default(), true).await;
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
    let addr = start(settings, false).await;
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
    let addr = start(settings, false).await;
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
