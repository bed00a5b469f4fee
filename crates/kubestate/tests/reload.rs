//! The web configuration (`--tls-config`) and its certificate files are reloaded while the
//! exporter runs: certificate rotation without a restart, user changes, and a broken change
//! that keeps the previous configuration.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{init, start_sim, wait_for};
use kubestate::options::ExporterOptions;
use kubestate_sim::SimConfig;
use kubestate_testkit::http::basic_auth;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Cert {
    der: Vec<u8>,
    pem: String,
    key: String,
}

fn cert() -> Cert {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    Cert {
        der: c.cert.der().to_vec(),
        pem: c.cert.pem(),
        key: c.key_pair.serialize_pem(),
    }
}

/// Handshakes with `addr` trusting both certificates; the certificate the server presented
/// and the status line of `GET /healthz` with `auth`.
async fn probe(addr: std::net::SocketAddr, trust: &[&Cert], auth: &str) -> (Vec<u8>, String) {
    let mut roots = rustls::RootCertStore::empty();
    for c in trust {
        roots
            .add(rustls::pki_types::CertificateDer::from(c.der.clone()))
            .expect("root");
    }
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("handshake");
    let presented = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .unwrap_or_default();
    tls.write_all(
        format!("GET /healthz HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut out)).await;
    let status = String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    (presented, status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_config_and_certificates_reload_without_a_restart() {
    init();
    let sim = start_sim(SimConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (cert(), cert());
    std::fs::write(dir.path().join("c.pem"), &a.pem).expect("write");
    std::fs::write(dir.path().join("k.pem"), &a.key).expect("write");
    let web = dir.path().join("web.yml");
    let users = |name: &str| {
        let hash = bcrypt::hash("pw", 4).expect("hash");
        format!("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\nbasic_auth_users:\n  {name}: '{hash}'\n")
    };
    std::fs::write(&web, users("alice")).expect("write");

    let args = [format!("--tls-config={}", web.display())];
    let mut opts = ExporterOptions::parse_args(args.iter()).expect("flags");
    opts.host = "127.0.0.1".into();
    opts.port = 0;
    opts.telemetry_host = "127.0.0.1".into();
    opts.telemetry_port = 0;
    let client =
        kube::Client::try_from(kube::Config::new(sim.base_url().parse().expect("sim URL")))
            .expect("client");
    let exporter = kubestate::exporter::start(&opts, client)
        .await
        .expect("exporter starts");
    let addr = exporter.metrics_addr;
    let (presented, status) = probe(addr, &[&a, &b], &basic_auth("alice", "pw")).await;
    assert_eq!(presented, a.der);
    assert!(status.contains("200"), "{status}");

    // Rotation: key first, then certificate (the pair is briefly mismatched).
    std::fs::write(dir.path().join("k.pem"), &b.key).expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(dir.path().join("c.pem"), &b.pem).expect("write");
    let rotated = wait_for("the new certificate", Duration::from_secs(15), || async {
        probe(addr, &[&a, &b], &basic_auth("alice", "pw")).await.0 == b.der
    })
    .await;
    rotated.expect("new handshakes use the rotated certificate");

    // Users change.
    std::fs::write(&web, users("bob")).expect("write");
    wait_for("bob allowed", Duration::from_secs(15), || async {
        probe(addr, &[&a, &b], &basic_auth("bob", "pw"))
            .await
            .1
            .contains("200")
    })
    .await
    .expect("new users apply");
    let (_, status) = probe(addr, &[&a, &b], &basic_auth("alice", "pw")).await;
    assert!(status.contains("401"), "{status}");

    // A broken change is not applied: the previous configuration stays.
    std::fs::write(&web, "tls_server_config: [unclosed\n").expect("write");
    tokio::time::sleep(kubestate::reload::POLL * 2).await;
    let (presented, status) = probe(addr, &[&a, &b], &basic_auth("bob", "pw")).await;
    assert_eq!(presented, b.der);
    assert!(status.contains("200"), "{status}");
    exporter.stop().await;
    sim.shutdown().await;
}
