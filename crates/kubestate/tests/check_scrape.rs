//! Scrape mode against kube-state-metrics itself, sharded in two and served behind TLS with a
//! required client certificate and basic auth (KSM's `--tls-config` web configuration): the
//! check merges both shards over https with its CA, client certificate, a password file and
//! gzip, and emits exactly the series an unsharded embedded check emits for the same world.
//! Skipped (or failed with `KUBESTATE_REQUIRE_TOOLS=1`) without the reference binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use kubestate_check::scrape::ScrapeError;
use kubestate_check::{ScrapeConfig, ScrapeSource, Scraper};
use kubestate_sinks::Config;
use kubestate_store::structured::Symbols;
use kubestate_testkit::sim::conformance_sim;
use kubestate_testkit::tools::free_port;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ksm_binary() -> Option<PathBuf> {
    let home = std::env::var("HOME").map(PathBuf::from).unwrap_or_default();
    let gopath = std::env::var("GOPATH")
        .map(PathBuf::from)
        .unwrap_or_else(|_| home.join("go"));
    kubestate_testkit::find_binary("KSM_BIN", "kube-state-metrics", &[gopath.join("bin")])
}

/// CA, server certificate, client certificate and the web configuration, in `dir`.
fn pki(dir: &Path) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let signed = |names: Vec<String>, client: bool| {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut p = rcgen::CertificateParams::new(names).expect("params");
        if client {
            p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        }
        (p.signed_by(&key, &ca, &ca_key).expect("signed"), key)
    };
    let (server, server_key) = signed(vec!["127.0.0.1".into(), "localhost".into()], false);
    let (client, client_key) = signed(vec!["check".into()], true);
    let w = |name: &str, text: String| std::fs::write(dir.join(name), text).expect("write");
    w("ca.pem", ca.pem());
    w("server.pem", server.pem());
    w("server.key", server_key.serialize_pem());
    w("client.pem", client.pem());
    w("client.key", client_key.serialize_pem());
    w("password", "s3cret\n".into());
    let hash = bcrypt::hash("s3cret", 4).expect("bcrypt");
    w(
        "web.yml",
        format!(
            "tls_server_config:\n  cert_file: {d}/server.pem\n  key_file: {d}/server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {d}/ca.pem\nbasic_auth_users:\n  check: {hash}\n",
            d = dir.display()
        ),
    );
}

/// The check's scrape settings for `urls`, with everything `pki` wrote.
fn scrape_yaml(dir: &Path, urls: &[String]) -> String {
    format!(
        "scrape:\n  urls: [{}]\n  tls: {{ca_file: {d}/ca.pem, cert_file: {d}/client.pem, key_file: {d}/client.key}}\n  basic_auth: {{username: check, password_file: {d}/password}}\n  gzip: true\n",
        urls.join(", "),
        d = dir.display()
    )
}

fn series_of(dir: &Path) -> Vec<String> {
    let mut lines = common::check::newest_series(dir).expect("an output file");
    lines.sort();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_mode_merges_a_sharded_ksm_behind_tls_client_certs_and_basic_auth() {
    kubestate_testkit::sim::install_crypto();
    let Some(ksm) = ksm_binary() else {
        kubestate_testkit::tools::skip(
            "kube-state-metrics",
            "go install k8s.io/kube-state-metrics/v2@v2.20.0, or set KSM_BIN",
        );
        return;
    };
    let Some(sim) = conformance_sim("flags-defaults").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    pki(d);
    let kubeconfig = d.join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let mut urls = Vec::new();
    let mut shards = Vec::new();
    for shard in 0..2 {
        let port = free_port();
        urls.push(format!("https://127.0.0.1:{port}/metrics"));
        let child = Command::new(&ksm)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .args(["--host=127.0.0.1", &format!("--port={port}")])
            .args([
                "--telemetry-host=127.0.0.1".to_string(),
                format!("--telemetry-port={}", free_port()),
                format!("--shard={shard}"),
                "--total-shards=2".to_string(),
                format!("--tls-config={}", d.join("web.yml").display()),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting kube-state-metrics");
        shards.push(Killed(child));
    }
    // What an unsharded embedded check (default exporter flags) emits for the same world.
    let want = common::check::oracle(&sim, &kubestate_engine::Config::default());
    assert!(want.len() > 100);

    // Wait until both shards serve the whole world (a scrape equal twice in a row).
    let config: Config = Config::from_yaml(&scrape_yaml(d, &urls), "scrape.yaml").expect("config");
    let scraper = Scraper::new(config.scrape.clone().expect("scrape")).expect("scraper");
    let source = ScrapeSource::new(std::sync::Arc::new(Symbols::new()));
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = 0;
    loop {
        let n = match scraper.scrape(&source, Duration::from_secs(10)).await {
            Ok(s) => s.series_count(),
            Err(_) => 0,
        };
        if n > 0 && n == last {
            break;
        }
        last = n;
        assert!(Instant::now() < deadline, "KSM shards not serving");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The check, once, through its command-line entry point.
    let out = d.join("out");
    let cfg = d.join("check.yaml");
    std::fs::write(
        &cfg,
        format!(
            "{}sinks:\n  - {{type: file, directory: {}, keep: 1}}\n",
            scrape_yaml(d, &urls),
            out.display()
        ),
    )
    .expect("config");
    kubestate::check::run(kubestate::check::CheckArgs {
        config: Some(cfg),
        once: true,
        ..kubestate::check::CheckArgs::default()
    })
    .await
    .expect("check --once");
    let got = series_of(&out);
    if got != want {
        let missing: Vec<_> = want
            .iter()
            .filter(|l| got.binary_search(l).is_err())
            .take(5)
            .collect();
        let extra: Vec<_> = got
            .iter()
            .filter(|l| want.binary_search(l).is_err())
            .take(5)
            .collect();
        panic!(
            "merged shards differ from the unsharded check: {} vs {} series; missing {missing:?}; extra {extra:?}",
            got.len(),
            want.len()
        );
    }

    // Each piece of the security is needed.
    let attempt = |edit: fn(&mut ScrapeConfig)| {
        let mut c = config.scrape.clone().expect("scrape");
        edit(&mut c);
        c
    };
    let no_cert = attempt(|c| {
        if let Some(t) = c.tls.as_mut() {
            t.cert_file = None;
            t.key_file = None;
        }
    });
    let e = Scraper::new(no_cert)
        .expect("scraper")
        .scrape(&source, Duration::from_secs(10))
        .await
        .err()
        .expect("no client certificate");
    assert!(matches!(e, ScrapeError::Request { .. }), "{e}");
    let wrong_password = attempt(|c| {
        c.basic_auth = Some(kubestate_check::client::BasicAuth {
            username: "check".into(),
            password: Some("nope".into()),
            password_file: None,
        });
    });
    let e = Scraper::new(wrong_password)
        .expect("scraper")
        .scrape(&source, Duration::from_secs(10))
        .await
        .err()
        .expect("wrong password");
    assert!(matches!(e, ScrapeError::Status { status: 401, .. }), "{e}");
    let no_ca = attempt(|c| {
        if let Some(t) = c.tls.as_mut() {
            t.ca_file = None;
        }
    });
    let e = Scraper::new(no_ca)
        .expect("scraper")
        .scrape(&source, Duration::from_secs(10))
        .await
        .err()
        .expect("unknown CA");
    assert!(matches!(e, ScrapeError::Request { .. }), "{e}");
    drop(shards);
    sim.shutdown().await;
}
