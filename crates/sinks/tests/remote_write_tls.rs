//! Remote-write to an https receiver that trusts only its own CA, requires a client
//! certificate and a bearer token: the sink's `tls` (CA file, client certificate),
//! `bearer_token_file` (read again per request, so rotation works), `basic_auth` and
//! `external_labels`, and the failures when a piece is missing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kubestate_check::{OutSeries, RunStats};
use kubestate_sinks::remote_write::proto::WriteRequest;
use kubestate_sinks::remote_write::{BasicAuth, RemoteWrite, TlsConfig};
use kubestate_sinks::{RemoteWriteConfig, Sink};
use parking_lot::Mutex;
use prost::Message;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

struct Pki {
    dir: tempfile::TempDir,
    ca: rcgen::Certificate,
    server: (rcgen::Certificate, rcgen::KeyPair),
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kubestate test CA");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let signed = |names: Vec<String>, client: bool| {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut p = rcgen::CertificateParams::new(names).expect("params");
        if client {
            p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        }
        let cert = p.signed_by(&key, &ca, &ca_key).expect("signed");
        (cert, key)
    };
    let server = signed(vec!["localhost".into(), "127.0.0.1".into()], false);
    let client = signed(vec!["check".into()], true);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write");
    std::fs::write(dir.path().join("client.pem"), client.0.pem()).expect("write");
    std::fs::write(dir.path().join("client.key"), client.1.serialize_pem()).expect("write");
    std::fs::write(dir.path().join("token"), "s3cret\n").expect("write");
    Pki { dir, ca, server }
}

type Seen = Arc<Mutex<Vec<(String, WriteRequest)>>>;

/// An https receiver requiring a client certificate signed by the CA; it records the
/// Authorization header and body of each request and answers 401 unless `accept` says yes.
async fn receiver(pki: &Pki, accept: fn(&str) -> bool) -> (String, Seen) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.der().clone()).expect("root");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("verifier");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(pki.server.0.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server.1.serialize_der())),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), s2.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let seen = seen.clone();
                    async move {
                        let auth = req
                            .headers()
                            .get(http::header::AUTHORIZATION)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes().to_vec())
                            .unwrap_or_default();
                        let ok = accept(&auth);
                        if ok {
                            let raw = snap::raw::Decoder::new()
                                .decompress_vec(&body)
                                .expect("snappy");
                            let wr = WriteRequest::decode(&raw[..]).expect("WriteRequest");
                            seen.lock().push((auth, wr));
                        }
                        Ok::<_, std::convert::Infallible>(
                            http::Response::builder()
                                .status(if ok { 204 } else { 401 })
                                .body(Full::new(Bytes::new()))
                                .expect("response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (
        format!("https://127.0.0.1:{}/api/v1/write", addr.port()),
        seen,
    )
}

fn config(endpoint: &str, pki: &Pki) -> RemoteWriteConfig {
    let mut c = RemoteWriteConfig::new(endpoint);
    c.min_backoff = Duration::from_millis(10);
    c.max_backoff = Duration::from_millis(50);
    c.max_retries = 2;
    c.timeout = Duration::from_secs(5);
    let p = |f: &str| Some(pki.dir.path().join(f));
    c.tls = Some(TlsConfig {
        ca_file: p("ca.pem"),
        cert_file: p("client.pem"),
        key_file: p("client.key"),
    });
    c.bearer_token_file = p("token");
    c
}

fn run(out: &mut RemoteWrite, n: usize) {
    out.begin(1_700_000_000_000);
    for i in 0..n {
        let v = i.to_string();
        out.series(&OutSeries {
            name: "kubernetes_state.test",
            labels: &[("cluster", "own"), ("i", &v)],
            value: 1.0,
            timestamp_ms: 1_700_000_000_000,
        });
    }
    out.finish(&RunStats::default()).expect("finish");
}

async fn wait_for(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_certificate_token_file_and_external_labels() {
    let pki = pki();
    let (url, seen) = receiver(&pki, |auth| auth.starts_with("Bearer ")).await;
    let mut c = config(&url, &pki);
    c.external_labels = [("cluster", "prod-eu"), ("replica", "a")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (mut out, senders) = RemoteWrite::start(&c).expect("start");
    let stats = senders.stats();
    run(&mut out, 3);
    wait_for("delivery", || stats.samples_sent() == 3).await;
    // The token file is read again for each request: a rotated token is used.
    std::fs::write(pki.dir.path().join("token"), "rotated").expect("rotate");
    run(&mut out, 1);
    wait_for("delivery after rotation", || stats.samples_sent() == 4).await;
    let seen = seen.lock();
    assert_eq!(seen[0].0, "Bearer s3cret");
    assert_eq!(seen.last().expect("request").0, "Bearer rotated");
    let labels: Vec<(&str, &str)> = seen[0].1.timeseries[0]
        .labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect();
    assert_eq!(
        labels,
        vec![
            ("__name__", "kubernetes_state_test"),
            ("cluster", "own"),
            ("i", "0"),
            ("replica", "a")
        ],
        "external labels are added, and never replace the series' own"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_with_a_password_file() {
    let pki = pki();
    // "check:pw" in base64.
    let (url, seen) = receiver(&pki, |auth| auth == "Basic Y2hlY2s6cHc=").await;
    std::fs::write(pki.dir.path().join("pw"), "pw\n").expect("write");
    let mut c = config(&url, &pki);
    c.bearer_token_file = None;
    c.basic_auth = Some(BasicAuth {
        username: "check".into(),
        password: None,
        password_file: Some(pki.dir.path().join("pw")),
    });
    let (mut out, senders) = RemoteWrite::start(&c).expect("start");
    let stats = senders.stats();
    run(&mut out, 2);
    wait_for("delivery", || stats.samples_sent() == 2).await;
    assert_eq!(seen.lock().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_client_certificate_or_token_is_not_delivered() {
    let pki = pki();
    let (url, seen) = receiver(&pki, |auth| auth == "Bearer s3cret").await;
    // No client certificate: the handshake fails, retried, then dropped.
    let mut c = config(&url, &pki);
    if let Some(t) = c.tls.as_mut() {
        t.cert_file = None;
        t.key_file = None;
    }
    let (mut out, senders) = RemoteWrite::start(&c).expect("start");
    let stats = senders.stats();
    run(&mut out, 2);
    wait_for("the drop", || {
        stats.samples_dropped("retries_exhausted") == 2
    })
    .await;
    // A wrong token: 401 is a rejection, not retried.
    let mut c = config(&url, &pki);
    c.bearer_token_file = None;
    c.bearer_token = Some("wrong".into());
    let (mut out, senders) = RemoteWrite::start(&c).expect("start");
    let stats = senders.stats();
    run(&mut out, 2);
    wait_for("the rejection", || stats.samples_dropped("rejected") == 2).await;
    assert!(seen.lock().is_empty());
    // The system roots do not know the test CA.
    let mut c = config(&url, &pki);
    if let Some(t) = c.tls.as_mut() {
        t.ca_file = None;
    }
    let (mut out, senders) = RemoteWrite::start(&c).expect("start");
    let stats = senders.stats();
    run(&mut out, 1);
    wait_for("the drop", || {
        stats.samples_dropped("retries_exhausted") == 1
    })
    .await;
    // A CA file that holds no certificate fails at start-up, naming the file.
    std::fs::write(pki.dir.path().join("empty.pem"), "").expect("write");
    let mut c = config(&url, &pki);
    if let Some(t) = c.tls.as_mut() {
        t.ca_file = Some(pki.dir.path().join("empty.pem"));
    }
    let e = RemoteWrite::start(&c).err().expect("an error").to_string();
    assert!(e.contains("empty.pem"), "{e}");
}
