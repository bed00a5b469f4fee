//! `kubestate check`: the in-process check (joins, renames, aggregations → sinks) every
//! interval, over the engine's structured stores (embedded mode) or over a KSM-compatible
//! `/metrics` endpoint (`--scrape URL`). Embedded mode runs the exporter's watches
//! ([`crate::watches`]): the same sharding (`--shard/--total-shards`, `--pod/--pod-namespace`),
//! the same custom resources; with `--serve-metrics` the exporter's `/metrics` server runs in
//! the same process on the same watches. Wiring only; the work is in `kubestate-check` and
//! `kubestate-sinks`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _};
use clap::Args;
use kubestate_check::telemetry::WriteMetrics;
use kubestate_check::{Check, ScrapeSource, Telemetry};
use kubestate_sinks::{Config, SinkConfig, Sinks, StdoutConfig};
use kubestate_store::structured::Symbols;
use kubestate_store::{Snapshot, StructuredStoreFactory};
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::options::ExporterOptions;

/// Flags of `kubestate check`; the default is the command given no flags.
#[derive(Args, Debug, Clone, Default)]
pub struct CheckArgs {
    /// The check's YAML configuration (joins, renames, aggregations, sinks; see docs/check.md).
    /// Without it: no joins, every family passed through, JSON lines on stdout.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Read this KSM-compatible /metrics URL every interval instead of watching the API
    /// server; repeat it to merge several (the shards of a sharded KSM). Replaces the URLs
    /// of `scrape:` in the configuration, keeping its TLS and authentication settings.
    #[arg(long)]
    pub scrape: Vec<String>,
    /// Run once, flush the outputs and exit (non-zero if the run or an output failed).
    #[arg(long)]
    pub once: bool,
    /// Time between runs; overrides `interval:` of the configuration (e.g. 15s, 1m).
    #[arg(long, value_parser = kubestate_check::config::parse_duration)]
    pub interval: Option<Duration>,
    /// Serve the check's self-metrics at http://ADDR/metrics, with /healthz and /readyz;
    /// overrides `telemetry.listen`.
    #[arg(long = "telemetry-listen")]
    pub telemetry_listen: Option<SocketAddr>,
    /// Embedded mode: also serve the exporter's /metrics (and its telemetry server) from the
    /// same watches, on the exporter flags' --host/--port and --telemetry-host/--telemetry-port.
    #[arg(long = "serve-metrics")]
    pub serve_metrics: bool,
    /// Exporter flags for embedded mode, KSM style, after `--`
    /// (e.g. `-- --kubeconfig=/path --resources=pods,nodes`).
    #[arg(last = true)]
    pub exporter_args: Vec<String>,
}

/// Where each run's snapshot comes from.
enum Source {
    Embedded(StructuredStoreFactory),
    Scrape(ScrapeSource, Box<kubestate_check::Scraper>),
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
    apply_agent_options(&mut opts, config)?;
    if args.serve_metrics {
        // One set of stores serves /metrics too: widening the allowlists would change what
        // the exporter exposes, so the user's flags stand.
        if opts.metric_labels_allowlist.is_empty() {
            warn!("--serve-metrics: no --metric-labels-allowlist, so joins on kube_*_labels see no Kubernetes labels");
        }
        // Everything the exporter checks before it starts (ports, --tls-config, logging).
        opts.validate()?;
        return Ok(opts);
    }
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

/// The agent's instance options that are exporter flags: `collectors` (`--resources`),
/// `namespaces` (`--namespaces`), `use_apiserver_cache`, `pod_collection_mode:
/// cluster_unassigned` (`--track-unscheduled-pods`). A flag given after `--` too must agree.
fn apply_agent_options(opts: &mut ExporterOptions, config: &Config) -> anyhow::Result<()> {
    if !config.collectors.is_empty() {
        let unknown: Vec<&str> = config
            .collectors
            .iter()
            .map(String::as_str)
            .filter(|c| kubestate_families::resource(c).is_none())
            .collect();
        if !unknown.is_empty() {
            // These three come from stores of the agent's own, not from KSM.
            let agent_own: Vec<&str> = unknown
                .iter()
                .copied()
                .filter(|c| {
                    [
                        "apiservices",
                        "customresourcedefinitions",
                        "verticalpodautoscalers",
                    ]
                    .contains(c)
                })
                .collect();
            let hint = if agent_own.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} {} collected by the agent's own stores, not by KSM: remove {} or \
                     describe the objects with --custom-resource-state-config",
                    agent_own.join(", "),
                    if agent_own.len() == 1 { "is" } else { "are" },
                    if agent_own.len() == 1 { "it" } else { "them" },
                )
            };
            bail!(
                "collectors: {} {} not a resource kubestate watches (those are: {}; custom \
                 resources come from --custom-resource-state-config){hint}",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                kubestate_families::resources()
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !opts.resources.is_empty() && opts.resources != config.collectors {
            bail!("collectors and --resources disagree: keep one of them");
        }
        opts.resources = config.collectors.clone();
    }
    if !config.namespaces.is_empty() {
        if !opts.namespaces.is_empty() && opts.namespaces != config.namespaces {
            bail!("namespaces and --namespaces disagree: keep one of them");
        }
        opts.namespaces = config.namespaces.clone();
    }
    opts.use_apiserver_cache |= config.use_apiserver_cache;
    if config.pod_collection_mode
        == Some(kubestate_check::config::PodCollectionMode::ClusterUnassigned)
    {
        opts.track_unscheduled_pods = true;
    }
    Ok(())
}

/// The agent options that only mean something in embedded mode, when given in scrape mode.
fn embedded_only(config: &Config) -> Vec<&'static str> {
    let mut v = Vec::new();
    if !config.collectors.is_empty() {
        v.push("collectors");
    }
    if !config.namespaces.is_empty() {
        v.push("namespaces");
    }
    if config.use_apiserver_cache {
        v.push("use_apiserver_cache");
    }
    if config.pod_collection_mode
        == Some(kubestate_check::config::PodCollectionMode::ClusterUnassigned)
    {
        v.push("pod_collection_mode");
    }
    v
}

/// The engine's list/watch telemetry as extra lines of the check's self-metrics.
struct EngineMetrics(Arc<kubestate_engine::Telemetry>);

impl WriteMetrics for EngineMetrics {
    fn write_metrics(&self, out: &mut Vec<u8>) {
        self.0.write_text(out);
    }
}

/// What runs beside the check loop in embedded mode, stopped with it.
enum Feeding {
    /// Scrape mode: nothing.
    None,
    /// The engine's watches into the structured store.
    Watches(crate::watches::Watches),
    /// The exporter (its servers and watches), teeing into the structured store.
    Exporter(Box<crate::exporter::Exporter>),
}

/// A started check: its loop, and what feeds it.
pub struct RunningCheck {
    /// Where the check's self-metrics, `/healthz` and `/readyz` are served, if anywhere.
    pub telemetry_addr: Option<SocketAddr>,
    /// With `--serve-metrics`: where the exporter's `/metrics` and its telemetry are served.
    pub exporter_addrs: Option<(SocketAddr, SocketAddr)>,
    /// The check's counters.
    pub telemetry: Arc<Telemetry>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    feeding: Feeding,
}

impl RunningCheck {
    /// Waits until the loop ends by itself (only with `--once`, or when it fails).
    ///
    /// # Errors
    /// With `--once`, a failed run or output.
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        let Some(task) = self.task.as_mut() else {
            return Ok(());
        };
        let r = task.await;
        self.task = None;
        r.context("the check loop panicked")?
    }

    /// Stops the loop (flushing the outputs) and everything feeding it.
    ///
    /// # Errors
    /// With `--once`, a failed run or output.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        let r = self.wait().await;
        match std::mem::replace(&mut self.feeding, Feeding::None) {
            Feeding::None => {}
            Feeding::Watches(w) => w.stop(),
            Feeding::Exporter(e) => e.stop().await,
        }
        r
    }
}

/// Runs the check until Ctrl-C or SIGTERM (or once with `--once`).
///
/// # Errors
/// A bad configuration, an unreachable API server at start-up, a port that cannot be bound,
/// or with `--once` a failed run or output.
pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let mut check = start(args).await?;
    let shutdown = crate::exporter::shutdown_signal();
    tokio::select! {
        r = check.wait() => {
            // The loop ended by itself (--once): stop the rest; the loop's result stands.
            check.stop().await?;
            r
        }
        _ = shutdown => check.stop().await,
    }
}

/// Starts the check: validates the configuration, binds the servers, starts the watches (or
/// scrape source) and the loop.
///
/// # Errors
/// A bad configuration, an unreachable API server, or a port that cannot be bound.
pub async fn start(args: CheckArgs) -> anyhow::Result<RunningCheck> {
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
    let mut scrape_config = config.scrape.clone();
    if !args.scrape.is_empty() {
        let mut c = scrape_config.unwrap_or_else(|| kubestate_check::ScrapeConfig::new(Vec::new()));
        c.urls = args.scrape.clone();
        scrape_config = Some(c);
    }
    if scrape_config.is_some() && args.serve_metrics {
        bail!("--serve-metrics needs embedded mode (the exporter's watches); it cannot be used with --scrape");
    }
    let scrape_mode = scrape_config.is_some();
    let only_embedded = embedded_only(&config);
    if scrape_mode && !only_embedded.is_empty() {
        bail!(
            "{}: only in embedded mode (they choose what the watches read); in scrape mode the \
             scraped endpoint decides, so remove them or drop scrape:/--scrape",
            only_embedded.join(", ")
        );
    }
    let (source, symbols) = match scrape_config {
        Some(sc) => {
            let symbols = Arc::new(Symbols::new());
            let scraper = kubestate_check::Scraper::new(sc).context("scrape:")?;
            (
                Source::Scrape(ScrapeSource::new(symbols.clone()), Box::new(scraper)),
                symbols,
            )
        }
        None => {
            let f = StructuredStoreFactory::new();
            let s = f.symbols().clone();
            (Source::Embedded(f), s)
        }
    };
    let check = Check::new(&config, symbols)?;
    let telemetry = Arc::new(Telemetry::new());
    let opts = match &source {
        Source::Embedded(_) => Some(engine_options(&args, &config)?),
        Source::Scrape(..) => None,
    };
    let outputs = kubestate_sinks::build(&config.sinks, &telemetry)?;
    let listen = args.telemetry_listen.or(config.telemetry.listen);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut telemetry_addr = None;
    if let Some(addr) = listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the check telemetry server to {addr}"))?;
        let bound = listener.local_addr()?;
        info!(addr = %bound, "serving check self-metrics on /metrics, /healthz, /readyz");
        telemetry_addr = Some(bound);
        let mut rx = stop_rx.clone();
        tokio::spawn(kubestate_check::telemetry::serve(
            listener,
            telemetry.clone(),
            async move {
                let _ = rx.wait_for(|s| *s).await;
            },
        ));
    }
    // Embedded mode: the exporter's watches feed the structured store.
    let mut feeding = Feeding::None;
    let mut exporter_addrs = None;
    let mut sync = None;
    if let (Source::Embedded(factory), Some(opts)) = (&source, &opts) {
        let client = crate::exporter::client(opts).await?;
        let structured: Arc<dyn kubestate_store::StoreFactory> = Arc::new(factory.clone());
        let engine_telemetry = if args.serve_metrics {
            let exporter = crate::exporter::start_with(
                opts,
                client,
                Arc::new(kubestate_store::Exposition::new()),
                Some(structured),
            )
            .await?;
            exporter_addrs = Some((exporter.metrics_addr, exporter.telemetry_addr));
            let t = exporter.telemetry.clone();
            feeding = Feeding::Exporter(Box::new(exporter));
            t
        } else {
            let prepared = crate::watches::prepare(opts, &client, structured).await?;
            info!(stores = prepared.store_count(), "starting the watches");
            let watches = prepared.start(client)?;
            let t = watches.telemetry().clone();
            feeding = Feeding::Watches(watches);
            t
        };
        telemetry.add(Arc::new(EngineMetrics(engine_telemetry.clone())));
        let t = engine_telemetry.clone();
        telemetry.set_readiness(Arc::new(move || t.all_synced()));
        sync = Some(engine_telemetry);
    }
    info!(interval = ?config.interval, sinks = outputs.len(), joins = check.plan().join_count(),
        mode = if scrape_mode { "scrape" } else { "embedded" }, "check started");
    let (interval, once, t) = (config.interval, args.once, telemetry.clone());
    let task = tokio::spawn(async move {
        let mut stop = stop_rx;
        if let Some(engine) = sync {
            if !synced_or_stopped(&engine, &mut stop).await {
                outputs.close(Duration::from_secs(30)).await;
                return Ok(());
            }
        }
        check_loop(check, outputs, source, interval, once, t, stop).await
    });
    Ok(RunningCheck {
        telemetry_addr,
        exporter_addrs,
        telemetry,
        stop: stop_tx,
        task: Some(task),
        feeding,
    })
}

/// Waits for the engine's initial sync, at most two minutes: a resource that cannot sync
/// (RBAC, a missing API) must not stop the check, which then runs on what is there while the
/// engine keeps retrying. `false` when `stop` turned true first.
async fn synced_or_stopped(
    engine: &kubestate_engine::Telemetry,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    info!("waiting for the initial sync");
    let limit = Duration::from_secs(120);
    tokio::select! {
        r = tokio::time::timeout(limit, engine.wait_synced()) => {
            if r.is_err() {
                warn!(waited = ?limit, "not every resource synced; running on what is available");
            }
            true
        }
        _ = stop.wait_for(|s| *s) => false,
    }
}

/// Runs every `interval` (once with `once`) until `stop` turns true, then flushes the
/// outputs.
async fn check_loop(
    mut check: Check,
    mut outputs: Sinks,
    source: Source,
    interval: Duration,
    once: bool,
    telemetry: Arc<Telemetry>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut failed = false;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let snapshot: Snapshot = match &source {
            Source::Embedded(f) => f.snapshot(),
            Source::Scrape(src, scraper) => {
                match scraper
                    .scrape(src, interval.max(Duration::from_secs(10)))
                    .await
                {
                    Ok(s) => s,
                    Err(e) => {
                        telemetry.record_failure(&anyhow::Error::from(e));
                        failed = true;
                        if once {
                            break;
                        }
                        continue;
                    }
                }
            }
        };
        // The run is CPU work: do it on a blocking thread, handing the state over and back.
        let t = telemetry.clone();
        let (c, o, ok) =
            tokio::task::spawn_blocking(move || run_once(check, outputs, &snapshot, &t))
                .await
                .context("the check run panicked")?;
        check = c;
        outputs = o;
        failed |= !ok;
        if once {
            break;
        }
    }
    let deliveries = outputs.close(Duration::from_secs(30)).await;
    if once {
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

/// One run into every output, recorded in `telemetry`; returns the state and whether every
/// output succeeded.
fn run_once(
    mut check: Check,
    mut outputs: Sinks,
    snapshot: &Snapshot,
    telemetry: &Telemetry,
) -> (Check, Sinks, bool) {
    let now = SystemTime::now();
    let ts = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    outputs.begin(ts);
    let stats = check.run(snapshot, now, &mut outputs);
    telemetry.record(&stats);
    let mut ok = true;
    for (name, result) in outputs.finish_recorded(&stats, telemetry) {
        if let Err(e) = result {
            ok = false;
            error!(sink = name, error = %format!("{e:#}"), "check output failed");
        }
    }
    (check, outputs, ok)
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

    fn agent(yaml: &str, flags: &[&str]) -> anyhow::Result<ExporterOptions> {
        let config = Config::from_yaml(yaml, "dd.yaml")?;
        let mut opts = ExporterOptions::parse_args(flags.iter())?;
        apply_agent_options(&mut opts, &config)?;
        Ok(opts)
    }

    #[test]
    fn agent_options_become_exporter_flags() {
        let o = agent(
            "collectors: [pods, nodes]\nnamespaces: [prod, kube-system]\nuse_apiserver_cache: true\npod_collection_mode: cluster_unassigned\n",
            &[],
        )
        .unwrap();
        assert_eq!(o.resources, ["pods", "nodes"]);
        assert_eq!(o.namespaces, ["prod", "kube-system"]);
        assert!(o.use_apiserver_cache && o.track_unscheduled_pods);
        let o = agent("pod_collection_mode: default\n", &[]).unwrap();
        assert!(!o.track_unscheduled_pods && o.resources.is_empty());
        // The same value given twice is fine; two different ones are not.
        agent("collectors: [pods]\n", &["--resources=pods"]).unwrap();
        let e = agent("collectors: [pods]\n", &["--resources=nodes"]).unwrap_err();
        assert!(
            format!("{e:#}").contains("collectors and --resources disagree"),
            "{e:#}"
        );
        let e = agent("namespaces: [a]\n", &["--namespaces=b"]).unwrap_err();
        assert!(
            format!("{e:#}").contains("namespaces and --namespaces disagree"),
            "{e:#}"
        );
        let e = agent("collectors: [pods, apiservices, widgets]\n", &[]).unwrap_err();
        assert!(
            format!("{e:#}").contains("collectors: apiservices, widgets are not a resource")
                && format!("{e:#}").contains("apiservices is collected by the agent's own stores")
                && format!("{e:#}").contains("those are: certificatesigningrequests, "),
            "{e:#}"
        );
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
            scrape: vec![format!("http://{addr}/metrics")],
            once: true,
            interval: None,
            telemetry_listen: None,
            serve_metrics: false,
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
                scrape: vec![format!("http://{metrics}/metrics")],
                once: true,
                interval: None,
                telemetry_listen: None,
                serve_metrics: false,
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
            scrape: vec!["http://127.0.0.1:1/metrics".into()],
            once: true,
            interval: None,
            telemetry_listen: None,
            serve_metrics: false,
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
