//! Hostile and clumsy clients (issue 12): slow request bodies, plain HTTP on the TLS port,
//! wrong-password floods, unknown users, and the `process_*` self-metrics.

use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{tls_web_config, TestServer};
use kubestate_http::{Settings, WebSecurity};
use kubestate_testkit::http::basic_auth;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes (at most `limit`); the bytes and how long it took.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut out = Vec::new();
    let closed = tokio::time::timeout(limit, s.read_to_end(&mut out)).await;
    (
        String::from_utf8_lossy(&out).into_owned(),
        closed.is_ok().then(|| started.elapsed()),
    )
}

/// One request on a fresh connection: status line and elapsed time.
async fn timed_get(addr: std::net::SocketAddr, path: &str, auth: &str) -> (String, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let (text, _) = read_until_closed(&mut s, Duration::from_secs(30)).await;
    (
        text.lines().next().unwrap_or("").to_string(),
        started.elapsed(),
    )
}

/// `--server-read-timeout` bounds a request: a body sent too slowly gets 408 and the
/// connection closes at the deadline; it also bounds the header read when shorter than
/// `--server-read-header-timeout`.
#[tokio::test]
async fn read_timeout_cuts_slow_requests() {
    let settings = Settings {
        read_timeout: Duration::from_millis(500),
        read_header_timeout: Duration::from_secs(20),
        ..Settings::default()
    };
    let addr = TestServer::main().settings(settings).start().await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .expect("write");
    let (text, took) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    let took = took.expect("closed within 5 s");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(took >= Duration::from_millis(400), "cut after {took:?}");
    // Headers never completed: cut at the read timeout, not the 20 s header timeout.
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /metr").await.expect("write");
    let (text, took) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(took.is_some(), "header read not cut by the read timeout");
    assert!(!text.contains("200 OK"), "{text}");
}

/// Plain HTTP sent to the TLS port is answered 400, as Go's server does.
#[tokio::test]
async fn plain_http_on_the_tls_port_gets_400() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, cfg) = tls_web_config(dir.path());
    let security = WebSecurity::load(&cfg).expect("valid");
    let addr = TestServer::main().security(security).start().await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let (text, took) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(took.is_some(), "connection left open");
    assert!(
        text.starts_with("HTTP/1.0 400 Bad Request")
            && text.contains("Client sent an HTTP request to an HTTPS server."),
        "{text:?}"
    );
}

/// A flood of wrong passwords (each different, so nothing is cached) does not slow down
/// requests with valid credentials: bcrypt runs on the blocking pool with bounded
/// concurrency. Unknown users cost what known users cost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_floods_do_not_starve_valid_clients() {
    let hash = bcrypt::hash("s3cret", 8).expect("hash");
    let yaml = format!("basic_auth_users:\n  scraper: '{hash}'\n");
    let security = WebSecurity::parse(&yaml, std::path::Path::new("web.yml")).expect("valid");
    let addr = TestServer::main().security(security).start().await;
    let good = basic_auth("scraper", "s3cret");
    let (status, first) = timed_get(addr, "/healthz", &good).await;
    assert!(status.contains("200"), "{status}");

    // Timing: a wrong password of a known user vs. an unknown user (median of 3 each).
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..3 {
        let (s, t) = timed_get(addr, "/healthz", &basic_auth("scraper", &format!("bad{i}"))).await;
        assert!(s.contains("401"), "{s}");
        known.push(t);
        let (s, t) = timed_get(addr, "/healthz", &basic_auth(&format!("nobody{i}"), "x")).await;
        assert!(s.contains("401"), "{s}");
        unknown.push(t);
    }
    known.sort();
    unknown.sort();
    eprintln!(
        "first valid check {first:?}; wrong password of a known user {:?}, unknown user {:?} (medians)",
        known[1], unknown[1]
    );
    assert!(
        unknown[1] * 3 > known[1],
        "unknown users answer much faster than known ones: {:?} vs {:?}",
        unknown[1],
        known[1]
    );

    // Flood: 16 clients sending distinct wrong passwords for 4 s.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = Vec::new();
    for c in 0..16 {
        let stop = stop.clone();
        flood.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = timed_get(
                    addr,
                    "/metrics",
                    &basic_auth("scraper", &format!("w{c}-{n}")),
                )
                .await;
                n += 1;
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut lat = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        let (s, t) = timed_get(addr, "/healthz", &good).await;
        assert!(s.contains("200"), "{s}");
        lat.push(t);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut attempts = 0;
    for f in flood {
        attempts += f.await.unwrap_or(0);
    }
    lat.sort();
    let median = lat[lat.len() / 2];
    let p90 = lat[lat.len() * 9 / 10];
    eprintln!(
        "valid /healthz under a flood of {attempts} wrong passwords: median {median:?}, p90 {p90:?} ({} requests)",
        lat.len()
    );
    assert!(
        median < Duration::from_millis(100),
        "valid requests slowed to {median:?}"
    );
}

/// The telemetry port carries the process families every exporter dashboard reads.
#[tokio::test]
async fn telemetry_has_process_metrics() {
    let addr = TestServer::telemetry().start().await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let (text, _) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    for (name, ty) in [
        ("process_cpu_seconds_total", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {ty}\n")),
            "{name} missing:\n{text}"
        );
    }
    let start: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("process_start_time_seconds "))
        .and_then(|v| v.parse().ok())
        .expect("start time");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    assert!(
        start > now - 3600.0 && start <= now + 1.0,
        "start {start}, now {now}"
    );
}
