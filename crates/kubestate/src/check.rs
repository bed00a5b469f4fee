//! `kubestate check`: the in-process check (joins, renames, aggregations → sinks) every
//! interval, over the engine's structured stores (embedded mode) or over a KSM-compatible
//! `/metrics` endpoint (`--scrape URL`). Wiring only; the work is in `kubestate-check` and
//! `kubestate-sinks`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _};
use clap::Args;
use kubestate_check::{scrape, Check, ScrapeSource, Telemetry};
use kubestate_engine::Engine;
use kubestate_sinks::{Config, SinkConfig, Sinks, StdoutConfig};
use kubestate_store::structured::Symbols;
use kubestate_store::{Snapshot, StructuredStoreFactory};
use tracing::{error, info};

use crate::options::ExporterOptions;

/// Flags of `kubestate check`.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// The check's YAML configuration (joins, renames, aggregations, sinks; see docs/check.md).
    /// Without it: no joins, every family passed through, JSON lines on stdout.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Read this KSM-compatible /metrics URL every interval instead of watching the API server.
    #[arg(long)]
    pub scrape: Option<String>,
    /// Run once, flush the outputs and exit (non-zero if the run or an output failed).
    #[arg(long)]
    pub once: bool,
    /// Time between runs; overrides `interval:` of the configuration (e.g. 15s, 1m).
    #[arg(long, value_parser = kubestate_check::config::parse_duration)]
    pub interval: Option<Duration>,
    /// Serve the check's self-metrics at http://ADDR/metrics; overrides `telemetry.listen`.
    #[arg(long = "telemetry-listen")]
    pub telemetry_listen: Option<SocketAddr>,
    /// Exporter flags for embedded mode, KSM style, after `--`
    /// (e.g. `-- --kubeconfig=/path --resources=pods,nodes`).
    #[arg(last = true)]
    pub exporter_args: Vec<String>,
}

/// Where each run's snapshot comes from.
enum Source {
    Embedded(StructuredStoreFactory),
    Scrape(ScrapeSource, String),
}

/// The resource whose objects a `labels_as_tags` kind names (`pod` → `pods`).
fn resource_of_kind(kind: &str) -> Option<String> {
    let candidates = [
        format!("{kind}s"),
        format!("{kind}es"),
        kind.strip_suffix('y')
            .map(|k| format!("{k}ies"))
            .unwrap_or_default(),
        kind.to_string(),
    ];
    candidates
        .into_iter()
        .find(|r| !r.is_empty() && kubestate_families::resource(r).is_some())
}

/// Exporter options for embedded mode: the given flags, plus the label and annotation
/// allowlists the configured joins need (KSM exposes none by default, which would leave the
/// `_labels` joins empty — check-semantics.md §9 item 7).
fn engine_options(args: &CheckArgs, config: &Config) -> anyhow::Result<ExporterOptions> {
    let mut opts = ExporterOptions::parse_args(args.exporter_args.iter())
        .context("parsing the exporter flags after --")?;
    opts.apply_config_file()?;
    if opts.metric_labels_allowlist.is_empty() {
        opts.metric_labels_allowlist.push("*=[*]".into());
    }
    if opts.metric_annotations_allowlist.is_empty() && !config.annotations_as_tags.is_empty() {
        let mut parts = Vec::new();
        for (kind, entries) in &config.annotations_as_tags {
            let resource = resource_of_kind(kind)
                .with_context(|| format!("annotations_as_tags: no resource for kind {kind:?}"))?;
            let keys: Vec<&str> = if entries.contains_key("*") {
                vec!["*"]
            } else {
                entries.keys().map(String::as_str).collect()
            };
            parts.push(format!("{resource}=[{}]", keys.join(",")));
        }
        opts.metric_annotations_allowlist.push(parts.join(","));
    }
    opts.check_supported()?;
    Ok(opts)
}

/// Runs the check until Ctrl-C or SIGTERM (or once with `--once`).
///
/// # Errors
/// A bad configuration, an unreachable API server at start-up, a port that cannot be bound,
/// or with `--once` a failed run or output.
pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::from_yaml("", "<defaults>")?,
    };
    if config.sinks.is_empty() {
        config
            .sinks
            .push(SinkConfig::Stdout(StdoutConfig::default()));
    }
    if let Some(i) = args.interval {
        config.interval = i;
    }
    let scrape_url = args.scrape.clone().or_else(|| config.scrape.clone());
    let (source, symbols) = match &scrape_url {
        Some(url) => {
            let symbols = Arc::new(Symbols::new());
            (
                Source::Scrape(ScrapeSource::new(symbols.clone()), url.clone()),
                symbols,
            )
        }
        None => {
            let f = StructuredStoreFactory::new();
            let s = f.symbols().clone();
            (Source::Embedded(f), s)
        }
    };
    let mut check = Check::new(&config, symbols)?;
    let telemetry = Arc::new(Telemetry::new());
    let mut outputs = kubestate_sinks::build(&config.sinks, &telemetry)?;
    let listen = args.telemetry_listen.or(config.telemetry.listen);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if let Some(addr) = listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the check telemetry server to {addr}"))?;
        info!(addr = %listener.local_addr()?, "serving check self-metrics on /metrics");
        let mut rx = stop_rx.clone();
        tokio::spawn(kubestate_check::telemetry::serve(
            listener,
            telemetry.clone(),
            async move {
                let _ = rx.wait_for(|s| *s).await;
            },
        ));
    }
    // Embedded mode: the engine's watches feed the structured store.
    let mut _running = None;
    if let Source::Embedded(factory) = &source {
        let opts = engine_options(&args, &config)?;
        let engine = Engine::new(&opts.engine_config()?, factory)?;
        let client = crate::exporter::client(&opts).await?;
        _running = Some(engine.spawn(client));
        info!(
            stores = engine.stores().count(),
            "waiting for the initial sync"
        );
        // A resource that cannot sync (RBAC, a missing API) must not stop the check: after
        // a while it runs on what is there, and the engine keeps retrying.
        let limit = Duration::from_secs(120);
        if tokio::time::timeout(limit, engine.telemetry().wait_synced())
            .await
            .is_err()
        {
            tracing::warn!(waited = ?limit, "not every resource synced; running on what is available");
        }
    }
    info!(interval = ?config.interval, sinks = outputs.len(), joins = check.plan().join_count(),
        mode = if scrape_url.is_some() { "scrape" } else { "embedded" }, "check started");
    let mut ticker = tokio::time::interval(config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let shutdown = crate::exporter::shutdown_signal();
    tokio::pin!(shutdown);
    let mut failed = false;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = &mut shutdown => break,
        }
        let snapshot: Snapshot = match &source {
            Source::Embedded(f) => f.snapshot(),
            Source::Scrape(src, url) => {
                match scrape::scrape(src, url, config.interval.max(Duration::from_secs(10))).await {
                    Ok(s) => s,
                    Err(e) => {
                        telemetry.record_failure(&anyhow::Error::from(e));
                        failed = true;
                        if args.once {
                            break;
                        }
                        continue;
                    }
                }
            }
        };
        // The run is CPU work: do it on a blocking thread, handing the state over and back.
        let (c, o, ok) = tokio::task::spawn_blocking(move || run_once(check, outputs, &snapshot))
            .await
            .context("the check run panicked")?;
        check = c;
        outputs = o;
        if let Some(stats) = ok.0 {
            telemetry.record(&stats);
        }
        failed |= !ok.1;
        if args.once {
            break;
        }
    }
    let _ = stop_tx.send(true);
    let deliveries = outputs.close(Duration::from_secs(30)).await;
    if args.once {
        // Remote-write sends in the background: only now is it known whether it delivered.
        let lost: Vec<String> = deliveries
            .iter()
            .filter(|d| d.failed())
            .map(ToString::to_string)
            .collect();
        if !lost.is_empty() {
            bail!("{}", lost.join("; "));
        }
        if failed {
            bail!("the check run or one of its outputs failed (see the log)");
        }
    }
    Ok(())
}

/// One run into every output; returns the state, the run's figures and whether every
/// output succeeded.
fn run_once(
    mut check: Check,
    mut outputs: Sinks,
    snapshot: &Snapshot,
) -> (Check, Sinks, (Option<kubestate_check::RunStats>, bool)) {
    let now = SystemTime::now();
    let ts = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    outputs.begin(ts);
    let stats = check.run(snapshot, now, &mut outputs);
    let mut ok = true;
    for (name, result) in outputs.finish(&stats) {
        if let Err(e) = result {
            ok = false;
            error!(sink = name, error = %format!("{e:#}"), "check output failed");
        }
    }
    (check, outputs, (Some(stats), ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_resources() {
        assert_eq!(resource_of_kind("pod").as_deref(), Some("pods"));
        assert_eq!(resource_of_kind("ingress").as_deref(), Some("ingresses"));
        assert_eq!(
            resource_of_kind("networkpolicy").as_deref(),
            Some("networkpolicies")
        );
        assert_eq!(resource_of_kind("nosuchkind"), None);
    }

    #[tokio::test]
    async fn once_in_scrape_mode_reads_an_endpoint_and_writes_a_file() {
        // A tiny /metrics endpoint.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let body = "# TYPE kube_pod_info gauge\nkube_pod_info{namespace=\"a\",pod=\"p\",node=\"n\"} 1\n";
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("check.yaml");
        std::fs::write(
            &cfg,
            format!(
                "aggregations:\n  - {{name: pods.by_node, from: kube_pod_info, kind: count, by: [node]}}\nsinks:\n  - {{type: file, directory: {}, keep: 1}}\n",
                dir.path().join("out").display()
            ),
        )
        .unwrap();
        run(CheckArgs {
            config: Some(cfg),
            scrape: Some(format!("http://{addr}/metrics")),
            once: true,
            interval: None,
            telemetry_listen: None,
            exporter_args: Vec::new(),
        })
        .await
        .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].path()).unwrap();
        assert!(text.contains("pods_by_node{node=\"n\"} 1 "), "{text}");
        assert!(
            text.contains("kube_pod_info{namespace=\"a\",node=\"n\",pod=\"p\"} 1 "),
            "{text}"
        );
    }

    /// Serves `status` with `body` to every request on a free port.
    async fn tiny_server(status: &'static str, body: &'static str) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 1 << 16];
                    let _ = s.read(&mut buf).await;
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        addr
    }

    /// `--once` fails when remote-write delivered nothing (refused connection, 4xx),
    /// naming the endpoint, the counts and the last reason; it succeeds on a 2xx.
    #[tokio::test]
    async fn once_fails_when_remote_write_delivers_nothing() {
        let metrics = tiny_server(
            "200 OK",
            "# TYPE kube_pod_info gauge\nkube_pod_info{namespace=\"a\",pod=\"p\",node=\"n\"} 1\n",
        )
        .await;
        let refused = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let rejecting = tiny_server("400 Bad Request", "out of order sample").await;
        let accepting = tiny_server("204 No Content", "").await;
        let dir = tempfile::tempdir().unwrap();
        let once = |endpoint: String| {
            let cfg = dir.path().join(format!("check-{}.yaml", endpoint.len()));
            std::fs::write(
                &cfg,
                format!("sinks:\n  - {{type: remote_write, endpoint: \"{endpoint}\", max_retries: 1, min_backoff: 10ms, max_backoff: 20ms, timeout: 2s}}\n"),
            )
            .unwrap();
            run(CheckArgs {
                config: Some(cfg),
                scrape: Some(format!("http://{metrics}/metrics")),
                once: true,
                interval: None,
                telemetry_listen: None,
                exporter_args: Vec::new(),
            })
        };
        let url = format!("http://{refused}/api/v1/write");
        let e = format!("{:#}", once(url.clone()).await.unwrap_err());
        assert!(
            e.contains(&format!("remote-write to {url} delivered 0 of"))
                && e.contains("retries_exhausted"),
            "{e}"
        );
        let url = format!("http://{rejecting}/push");
        let e = format!("{:#}", once(url).await.unwrap_err());
        assert!(e.contains("rejected: HTTP 400: out of order sample"), "{e}");
        once(format!("http://{accepting}/write/ok")).await.unwrap();
    }

    #[tokio::test]
    async fn a_bad_config_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("check.yaml");
        std::fs::write(&cfg, "interval: 15s\nlabel_join: {}\n").unwrap();
        let e = run(CheckArgs {
            config: Some(cfg.clone()),
            scrape: Some("http://127.0.0.1:1/metrics".into()),
            once: true,
            interval: None,
            telemetry_listen: None,
            exporter_args: Vec::new(),
        })
        .await
        .unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains(&format!("{}:2:1", cfg.display())) && msg.contains("label_join"),
            "{msg}"
        );
    }
}
