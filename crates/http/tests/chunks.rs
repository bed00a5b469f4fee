//! A plain `/metrics` body of many chunks arrives byte for byte as the exposition writes it,
//! whether the client reads quickly or slowly (so that hyper holds chunks while the next ones
//! are rendered).

use std::sync::Arc;
use std::time::Duration;

mod common;

use common::TestServer;
use kubestate_http::Settings;
use kubestate_metric::{FamilyDesc, Format, MetricType, ObjectMetrics, Stability};
use kubestate_store::{Exposition, ResourceFilter, StoreFactory, StoreInfo, TextStoreFactory};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn desc(name: &str) -> FamilyDesc {
    FamilyDesc {
        name: name.into(),
        help: "h".into(),
        ty: MetricType::Gauge,
        stability: Stability::Alpha,
        deprecated_since: None,
    }
}

/// An exposition of 3,000 objects with families of one and of several lines.
fn exposition() -> Arc<Exposition> {
    let e = Arc::new(Exposition::new());
    let store = TextStoreFactory::new(e.clone()).create(&StoreInfo {
        resource: "things".into(),
        namespace: None,
        index: 0,
        families: vec![desc("kube_thing_info"), desc("kube_thing_state")].into(),
    });
    for i in 0..3000 {
        let mut m = ObjectMetrics::new();
        m.identity_label("namespace", &format!("ns-{}", i % 7));
        m.identity_label("thing", &format!("thing-{i:05}"));
        m.begin_family();
        m.sample(&[("node", &format!("node-{}", i % 13))], 1.0);
        m.begin_family();
        for state in ["a", "b", "c"] {
            m.sample(&[("state", state)], f64::from(i % 3));
        }
        store.apply(&format!("uid-{i}"), &m);
    }
    e
}

/// The decoded body of one `GET /metrics` answered with chunked transfer encoding, read
/// `step` bytes at a time with `pause` between reads.
async fn scrape(addr: std::net::SocketAddr, step: usize, pause: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    let mut buf = vec![0u8; step];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf))
            .await
            .expect("response in time")
            .expect("read");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    let head = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let headers = String::from_utf8_lossy(&raw[..head]).to_ascii_lowercase();
    assert!(
        headers.starts_with("http/1.1 200") && headers.contains("transfer-encoding: chunked"),
        "{headers}"
    );
    let mut rest = &raw[head + 4..];
    let mut body = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).expect("hex"), 16)
            .expect("chunk size");
        rest = &rest[eol + 2..];
        if size == 0 {
            break;
        }
        body.extend_from_slice(&rest[..size]);
        assert_eq!(&rest[size..size + 2], b"\r\n", "chunk terminator");
        rest = &rest[size + 2..];
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_bodies_match_the_exposition_for_fast_and_slow_readers() {
    let e = exposition();
    let mut want = Vec::new();
    e.write_all(Format::Text, &ResourceFilter::default(), &mut want);
    assert!(want.len() > 500_000, "a body of many chunks");
    let addr = TestServer::main()
        .exposition(e)
        .settings(Settings {
            chunk_size: 4096,
            ..Settings::default()
        })
        .start()
        .await;
    let fast = scrape(addr, 1 << 16, Duration::ZERO).await;
    assert!(
        fast == want,
        "fast reader: {} of {} bytes",
        fast.len(),
        want.len()
    );
    let slow = scrape(addr, 1500, Duration::from_micros(200)).await;
    assert!(
        slow == want,
        "slow reader: {} of {} bytes",
        slow.len(),
        want.len()
    );
}
