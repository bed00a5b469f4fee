//! `--server-write-timeout` as a real deadline: clients that stop reading a large `/metrics`
//! body are disconnected at the deadline (their descriptor and the store snapshot they pin
//! released), not kept until they read again. Alone in its test binary because it counts
//! this process's open file descriptors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kubestate_engine::{Config, Engine};
mod common;

use common::TestServer;
use kubestate_http::Settings;
use kubestate_store::{Exposition, TextStoreFactory};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// About 20 MB of `/metrics`: far more than loopback socket buffers hold.
fn big_exposition() -> Arc<Exposition> {
    let exposition = Arc::new(Exposition::new());
    let config = Config {
        resources: vec!["configmaps".into()],
        ..Config::default()
    };
    let engine = Engine::new(&config, &TextStoreFactory::new(exposition.clone())).expect("engine");
    let long = "x".repeat(120);
    let objects: Vec<String> = (0..40_000)
        .map(|i| {
            format!(
                r#"{{"kind":"ConfigMap","apiVersion":"v1","metadata":{{"name":"cm-{i}-{long}","namespace":"ns-{long}","uid":"u{i}","resourceVersion":"{i}","creationTimestamp":"2026-01-01T00:00:00Z"}}}}"#
            )
        })
        .collect();
    engine.replace_all(objects.iter().map(|o| o.as_bytes()));
    exposition
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_stop_reading_are_cut_at_the_write_timeout() {
    let exposition = big_exposition();
    let mut body = Vec::new();
    exposition.write_all(
        kubestate_metric::Format::Text,
        &kubestate_store::ResourceFilter::default(),
        &mut body,
    );
    assert!(body.len() > 15 << 20, "body of {} bytes", body.len());
    let addr = TestServer::main()
        .exposition(exposition)
        .settings(Settings {
            // Long enough that all clients are seen connected before the first deadline passes,
            // even on a loaded machine (with 1 s, slow accepts let early sockets close first).
            write_timeout: Duration::from_secs(4),
            ..Settings::default()
        })
        .start()
        .await;

    const CLIENTS: usize = 6;
    let before = open_fds();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("request");
        clients.push(s);
    }
    // Server side: one socket per client, plus ours.
    let mut during = open_fds();
    for _ in 0..60 {
        if during >= before + 2 * CLIENTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        during = open_fds();
    }
    assert!(
        during >= before + 2 * CLIENTS,
        "before {before}, during {during}"
    );
    // Nobody reads. Past the deadline the server has dropped its sockets.
    let started = Instant::now();
    let mut after = during;
    while started.elapsed() < Duration::from_secs(15) {
        after = open_fds();
        if after <= before + CLIENTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "open fds: before {before}, with {CLIENTS} stalled clients {during}, after the deadline {after} ({:?})",
        started.elapsed()
    );
    assert!(
        after <= before + CLIENTS,
        "server sockets of stalled clients still open: before {before}, during {during}, after {after}"
    );
    // What a client gets: part of the body, then the end of the connection.
    let mut s = clients.pop().expect("a client");
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got))
        .await
        .expect("connection closed")
        .ok();
    assert!(got.len() < body.len(), "the whole body arrived");
    assert!(!got.ends_with(b"0\r\n\r\n"), "the body was completed");
}
