//! Configuration files are reloaded while the exporter runs:
//!
//! * the web configuration (`--tls-config`) and its certificate files: certificate rotation
//!   without a restart, user changes, and a broken change that keeps the previous one;
//! * the options file (`--config`): a denied family leaves `/metrics` without a relist, an
//!   added resource starts its watch, options that need a restart keep their running value,
//!   and a broken file keeps the running configuration, says what to fix and sets the
//!   reload gauges to failure until it is fixed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{init, small_world, start_sim, wait_for};
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

/// Log lines of the whole test process (a global subscriber, as the exporter's tasks run on
/// every worker thread).
fn captured_logs() -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<&'static std::sync::Mutex<Vec<u8>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf: &'static std::sync::Mutex<Vec<u8>> =
            Box::leak(Box::new(std::sync::Mutex::new(Vec::new())));
        let writer = move || Capture(buf);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
}

struct Capture(&'static std::sync::Mutex<Vec<u8>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> String {
    String::from_utf8_lossy(&captured_logs().lock().expect("log buffer")).into_owned()
}

async fn text(url: &str) -> String {
    kubestate_testkit::http::get(url, &[], Duration::from_secs(10))
        .await
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .unwrap_or_default()
}

/// The value of the sample `line_start` (name and labels) in `body`.
fn sample(body: &str, line_start: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
}

/// The exporter on loopback, started as `kubestate --config=FILE` against `sim` and
/// following the file, once synced.
async fn start_following(
    sim: &kubestate_sim::SimHandle,
    file: &std::path::Path,
) -> kubestate::exporter::Exporter {
    let args = [format!("--config={}", file.display())];
    let mut command_line = ExporterOptions::parse_args(args.iter()).expect("flags");
    command_line.host = "127.0.0.1".into();
    command_line.port = 0;
    command_line.telemetry_host = "127.0.0.1".into();
    command_line.telemetry_port = 0;
    let mut opts = command_line.clone();
    opts.apply_config_file().expect("--config");
    let client =
        kube::Client::try_from(kube::Config::new(sim.base_url().parse().expect("sim URL")))
            .expect("client");
    let mut exporter = kubestate::exporter::start(&opts, client)
        .await
        .expect("exporter starts");
    exporter.follow_config(command_line, opts);
    exporter.wait_synced().await;
    exporter
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_changes_apply_without_a_restart() {
    init();
    captured_logs();
    let sim = start_sim(small_world()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("options.yaml");
    let label = kubestate_engine::go_clean(&file.to_string_lossy());
    let write = |text: &str| std::fs::write(&file, text).expect("write --config");
    write("resources: {configmaps: {}, namespaces: {}}\n");

    let exporter = start_following(&sim, &file).await;
    let metrics = format!("http://{}/metrics", exporter.metrics_addr);
    let telemetry = format!("http://{}/metrics", exporter.telemetry_addr);
    let gauge = |name: &str| format!("{name}{{filename=\"{label}\",type=\"config\"}}");
    let status = |t: &str| {
        sample(
            t,
            &gauge("kube_state_metrics_last_config_reload_successful"),
        )
    };
    let hash = |t: &str| sample(t, &gauge("kube_state_metrics_config_hash"));
    let t = text(&telemetry).await;
    assert_eq!(status(&t), Some(1.0), "{t}");
    let first = std::fs::read(&file).expect("read");
    assert_eq!(hash(&t), Some(kubestate_engine::config_hash(&first)));
    let body = text(&metrics).await;
    assert!(
        body.contains("\nkube_configmap_info{"),
        "no configmaps served"
    );
    assert!(!body.contains("kube_secret_info"));
    let configmaps_created = |b: &str| {
        b.lines()
            .filter(|l| l.starts_with("kube_configmap_created{"))
            .count()
    };
    let created = configmaps_created(&body);
    assert!(created > 0);

    // A family denied: gone from /metrics, with no list or watch request made for it.
    let requests = |s: kubestate_sim::SimStats| (s.lists, s.watches);
    let before = requests(sim.stats());
    let denied =
        "resources: {configmaps: {}, namespaces: {}}\nmetric_denylist: {kube_configmap_info: {}}\n";
    write(denied);
    wait_for(
        "kube_configmap_info to leave /metrics",
        Duration::from_secs(20),
        || async {
            let b = text(&metrics).await;
            !b.contains("kube_configmap_info") && b.contains("kube_namespace_created{")
        },
    )
    .await
    .expect("the denied family disappears");
    assert_eq!(
        requests(sim.stats()),
        before,
        "a denied family needs no list or watch"
    );
    // The other families of the resource are all still there.
    assert_eq!(configmaps_created(&text(&metrics).await), created);
    let t = text(&telemetry).await;
    assert_eq!(status(&t), Some(1.0));
    assert_eq!(
        hash(&t),
        Some(kubestate_engine::config_hash(denied.as_bytes()))
    );

    // A resource added: its watch starts, nothing else relists.
    let added = "resources: {configmaps: {}, namespaces: {}, secrets: {}}\nmetric_denylist: {kube_configmap_info: {}}\n# a port needs a restart\nport: 1\n";
    write(added);
    wait_for(
        "kube_secret_info on /metrics",
        Duration::from_secs(30),
        || async { text(&metrics).await.contains("\nkube_secret_info{") },
    )
    .await
    .expect("the added resource is watched");
    // One list and one watch (or one watch-list) for secrets; no other resource relists.
    let after = requests(sim.stats());
    let (was, now) = (before.0 + before.1, after.0 + after.1);
    assert!(now > was && now <= was + 2, "{after:?} after {before:?}");
    let log = logs();
    assert!(
        log.contains("needs a restart") && log.contains("--port"),
        "no restart notice for port:\n{log}"
    );
    // Still served where it was.
    assert!(text(&metrics).await.contains("kube_secret_info"));

    // A broken file: rejected with what to fix, the gauge says failure, the running
    // configuration stays.
    write("resources: {configmaps: {}, namespaces: {}, secrets: {}}\nmetric_denylist: [unclosed\n");
    wait_for("the failed reload", Duration::from_secs(20), || async {
        status(&text(&telemetry).await) == Some(0.0)
    })
    .await
    .expect("the gauge reports the failure");
    let log = logs();
    assert!(
        log.contains("--config change not applied") && log.contains("invalid YAML"),
        "{log}"
    );
    // The hash stays the one of the configuration in force.
    assert_eq!(
        hash(&text(&telemetry).await),
        Some(kubestate_engine::config_hash(added.as_bytes()))
    );
    let body = text(&metrics).await;
    assert!(body.contains("kube_secret_info") && !body.contains("kube_configmap_info"));

    // Valid YAML, invalid options: rejected too, naming the flags.
    write("resources: {configmaps: {}}\nmetric_allowlist: {a: {}}\nmetric_denylist: {b: {}}\n");
    wait_for(
        "the second failed reload",
        Duration::from_secs(20),
        || async { logs().contains("mutually exclusive") },
    )
    .await
    .expect("conflicting lists are rejected");
    assert_eq!(status(&text(&telemetry).await), Some(0.0));
    assert!(text(&metrics).await.contains("kube_secret_info"));

    // Fixed: applied, and the gauge says success again.
    let fixed = "resources: {configmaps: {}, namespaces: {}}\n";
    write(fixed);
    wait_for("the fixed file", Duration::from_secs(30), || async {
        let b = text(&metrics).await;
        b.contains("\nkube_configmap_info{") && !b.contains("kube_secret_info")
    })
    .await
    .expect("the fixed file applies");
    let t = text(&telemetry).await;
    assert_eq!(status(&t), Some(1.0));
    assert_eq!(
        hash(&t),
        Some(kubestate_engine::config_hash(fixed.as_bytes()))
    );
    exporter.stop().await;
    sim.shutdown().await;
}

/// The custom resource state of a `--config` file (`custom_resource_config`) follows the
/// file: added, changed and removed while running; built-in stores are not relisted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resource_config_in_the_options_file_follows_it() {
    init();
    let sim = start_sim(kubestate_sim::SimConfig::default()).await;
    let apply = |v: serde_json::Value| {
        sim.apply(v).expect("sim accepts the object");
    };
    apply(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
    );
    apply(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }));
    apply(serde_json::json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default"}, "spec": {"replicas": 3}
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("options.yaml");
    let write = |text: &str| std::fs::write(&file, text).expect("write --config");
    let with_prefix = |prefix: &str| {
        format!(
            "resources: {{namespaces: {{}}}}\ncustom_resource_config: |\n  spec:\n    resources:\n    - groupVersionKind: {{group: example.com, version: v1, kind: Widget}}\n      metricNamePrefix: {prefix}\n      metrics:\n      - name: replicas\n        each: {{type: Gauge, gauge: {{path: [spec, replicas]}}}}\n"
        )
    };
    write("resources: {namespaces: {}}\n");
    let exporter = start_following(&sim, &file).await;
    let metrics = format!("http://{}/metrics", exporter.metrics_addr);
    assert!(!text(&metrics).await.contains("widget_replicas"));
    let namespaces_listed = || {
        exporter
            .telemetry
            .stores()
            .iter()
            .find(|s| s.resource == "namespaces")
            .map(|s| {
                let c = s.counts();
                (c.list_ok + c.list_err, c.watch_ok + c.watch_err)
            })
    };
    let before = namespaces_listed();

    for (prefix, gone) in [("widget", None), ("gizmo", Some("widget_replicas"))] {
        write(&with_prefix(prefix));
        let want = format!("{prefix}_replicas");
        wait_for(&want, Duration::from_secs(30), || async {
            let b = text(&metrics).await;
            let found = b.lines().any(|l| l.starts_with(&want) && l.ends_with(" 3"));
            found && gone.is_none_or(|g| !b.contains(g))
        })
        .await
        .expect("custom resource families follow --config");
    }
    write("resources: {namespaces: {}}\n");
    wait_for(
        "no custom resource families",
        Duration::from_secs(30),
        || async {
            let b = text(&metrics).await;
            !b.contains("gizmo_replicas") && b.contains("kube_namespace_created{")
        },
    )
    .await
    .expect("removing the configuration stops the custom resources");
    assert_eq!(
        namespaces_listed(),
        before,
        "built-in stores were not relisted"
    );
    exporter.stop().await;
    sim.shutdown().await;
}
