//! Running the exporter: client, engine, the two servers, shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use kubestate_http::{Liveness, Shared};
use kubestate_store::{Exposition, TextStoreFactory};
use tokio::net::TcpListener;
use tracing::info;

use crate::options::ExporterOptions;

/// Builds the Kubernetes client from `--kubeconfig`/`--apiserver`, else $KUBECONFIG or the
/// in-cluster configuration.
///
/// # Errors
/// No usable configuration.
pub async fn client(opts: &ExporterOptions) -> anyhow::Result<kube::Client> {
    let mut config = if !opts.kubeconfig.is_empty() {
        let kc = kube::config::Kubeconfig::read_from(&opts.kubeconfig)
            .with_context(|| format!("reading --kubeconfig {}", opts.kubeconfig))?;
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .with_context(|| format!("using --kubeconfig {}", opts.kubeconfig))?
    } else if !opts.apiserver.is_empty() {
        kube::Config::new(
            opts.apiserver
                .parse()
                .with_context(|| format!("--apiserver {:?} is not a URL", opts.apiserver))?,
        )
    } else {
        kube::Config::infer().await.context("no kubeconfig given and no in-cluster configuration found (use --kubeconfig or --apiserver)")?
    };
    if !opts.apiserver.is_empty() {
        config.cluster_url = opts
            .apiserver
            .parse()
            .with_context(|| format!("--apiserver {:?} is not a URL", opts.apiserver))?;
    }
    // The watch loop has its own backoff (honouring Retry-After) and counts every failed request;
    // kube's retry layer would hide 429/503s from both and can back off for many minutes.
    config.default_retry = false;
    kube::Client::try_from(config).context("building the Kubernetes client")
}

/// The address to listen on for `host` (an IP address, possibly in brackets, or a host name
/// such as `localhost`) and `port`. A host name is resolved as Go's `net.Listen` does: the
/// first IPv4 address if there is one, else the first address. An empty host means every
/// interface (`::`).
///
/// # Errors
/// A host name that does not resolve, naming `flag`.
pub fn listen_addr(flag: &str, host: &str, port: u16) -> anyhow::Result<SocketAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Ok(SocketAddr::new(
            std::net::Ipv6Addr::UNSPECIFIED.into(),
            port,
        ));
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .with_context(|| {
            format!("{flag}={host}: not an IP address, and the host name does not resolve")
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .with_context(|| format!("{flag}={host}: the host name has no address"))
}

async fn bind(flag: &str, host: &str, port: u16, what: &str) -> anyhow::Result<TcpListener> {
    let addr = listen_addr(flag, host, port)?;
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the {what} server to {addr}"))
}

/// The `kube_state_metrics_build_info` line, filled with what applies to this build (the
/// `revision` is the git commit it was built from, see `build.rs`).
pub fn build_info() -> Vec<u8> {
    let mut out = Vec::new();
    kubestate_metric::write_header(
        &mut out,
        "kube_state_metrics_build_info",
        "Build of the running exporter (always 1).",
        "gauge",
    );
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    let version = concat!("v", env!("CARGO_PKG_VERSION"));
    kubestate_metric::write_sample(
        &mut out,
        "kube_state_metrics_build_info",
        &[
            ("branch", ""),
            ("client_go_version", ""),
            ("goarch", arch),
            ("goos", std::env::consts::OS),
            ("goversion", ""),
            ("revision", env!("KUBESTATE_REVISION")),
            ("tags", "kubestate"),
            ("version", version),
        ],
        1.0,
    );
    out
}

/// A running exporter: the engine's watches and both HTTP servers.
pub struct Exporter {
    /// Where `/metrics` is served.
    pub metrics_addr: SocketAddr,
    /// Where the self-metrics are served.
    pub telemetry_addr: SocketAddr,
    /// The engine's counters and readiness.
    pub telemetry: Arc<kubestate_engine::Telemetry>,
    /// The text stores.
    pub exposition: Arc<Exposition>,
    watches: crate::watches::Watches,
    stop: tokio::sync::watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Exporter {
    /// Waits until every store finished its initial sync.
    pub async fn wait_synced(&self) {
        self.telemetry.wait_synced().await;
    }

    /// Follows `running.config` (when set): each change of the file is applied to the
    /// running watches (see [`crate::reload::OptionsFile`]). `command_line` holds the options
    /// as given on the command line, before the file's keys overrode them; `running` the
    /// options the exporter was started with.
    pub fn follow_config(&mut self, command_line: ExporterOptions, running: ExporterOptions) {
        if running.config.is_empty() {
            return;
        }
        let file = crate::reload::OptionsFile::new(
            command_line,
            running,
            self.watches.control(),
            self.telemetry.clone(),
        );
        self.servers
            .push(crate::reload::watch(file, crate::reload::POLL));
    }

    /// Stops the watches and the servers.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        self.watches.stop();
        for s in self.servers {
            // The servers end with the stop signal; the reload watcher is stopped here.
            s.abort();
            let _ = s.await;
        }
    }
}

/// Starts the exporter for already validated `opts` on `client`: binds both servers, then
/// starts the watches.
///
/// # Errors
/// Invalid options or a port that cannot be bound.
pub async fn start(opts: &ExporterOptions, client: kube::Client) -> anyhow::Result<Exporter> {
    let exposition = Arc::new(Exposition::new());
    start_with(opts, client, exposition, None).await
}

/// [`start`] serving `exposition`, whose text stores are fed together with `also` (for
/// example the structured store of a check running in the same process) when given.
///
/// # Errors
/// Invalid options or a port that cannot be bound.
pub async fn start_with(
    opts: &ExporterOptions,
    client: kube::Client,
    exposition: Arc<Exposition>,
    also: Option<Arc<dyn kubestate_store::StoreFactory>>,
) -> anyhow::Result<Exporter> {
    let text: Arc<dyn kubestate_store::StoreFactory> =
        Arc::new(TextStoreFactory::new(exposition.clone()));
    let sinks = match also {
        None => text,
        Some(other) => Arc::new(kubestate_store::TeeFactory(text, other)),
    };
    let engine = crate::watches::prepare(opts, &client, sinks).await?;
    let main_listener = bind("--host", &opts.host, opts.port, "metrics").await?;
    let telemetry_listener = bind(
        "--telemetry-host",
        &opts.telemetry_host,
        opts.telemetry_port,
        "telemetry",
    )
    .await?;
    let probe_client = client.clone();
    let liveness: Liveness = Arc::new(move || {
        let c = probe_client.clone();
        Box::pin(async move {
            let req = http::Request::get("/livez")
                .body(kube::client::Body::empty())
                .map_err(|e| e.to_string())?;
            let resp = c.send(req).await.map_err(|e| e.to_string())?;
            if resp.status().is_success() {
                Ok(())
            } else {
                Err(format!("API server /livez answered {}", resp.status()))
            }
        })
    });
    let shared = Arc::new(Shared {
        exposition: exposition.clone(),
        telemetry: engine.telemetry().clone(),
        liveness: Some(liveness),
        build_info: build_info(),
        histogram: kubestate_http::Histogram::default(),
        settings: opts.http_settings(),
        security: kubestate_http::SecuritySlot::from_pointee(opts.web_security()?),
        authorizer: opts
            .auth_filter
            .then(|| crate::auth::kubernetes_authorizer(client.clone())),
        pages: opts.explorer.then(|| {
            let explorer = kubestate_explorer::Explorer::start(
                exposition.clone(),
                engine.telemetry().clone(),
                kubestate_explorer::Config::default(),
            );
            Arc::new(explorer) as Arc<dyn kubestate_http::Pages>
        }),
    });
    let metrics_addr = main_listener.local_addr()?;
    let telemetry_addr = telemetry_listener.local_addr()?;
    info!(metrics = %metrics_addr, telemetry = %telemetry_addr, stores = engine.store_count(), "serving");
    let (stop, rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let mut servers = Vec::new();
    if !opts.tls_config.is_empty() {
        let web = crate::reload::WebConfig::new(
            std::path::PathBuf::from(&opts.tls_config),
            shared.clone(),
        );
        servers.push(crate::reload::watch(web, crate::reload::POLL));
    }
    servers.extend([
        tokio::spawn(kubestate_http::serve_main(
            main_listener,
            shared.clone(),
            stopped(rx.clone()),
        )),
        tokio::spawn(kubestate_http::serve_telemetry(
            telemetry_listener,
            shared,
            stopped(rx),
        )),
    ]);
    let telemetry = engine.telemetry().clone();
    let watches = engine.start(client)?;
    Ok(Exporter {
        metrics_addr,
        telemetry_addr,
        telemetry,
        exposition,
        watches,
        stop,
        servers,
    })
}

/// Runs the exporter until Ctrl-C or SIGTERM.
///
/// # Errors
/// Invalid options, an unreachable API server at startup, or a port that cannot be bound.
pub async fn run(mut opts: ExporterOptions) -> anyhow::Result<()> {
    let command_line = opts.clone();
    opts.apply_config_file()?;
    // Every flag, key and file is checked before the API server is contacted.
    opts.validate()?;
    crate::logging::warn_ineffective(&opts);
    tracing::debug!(changed = ?opts.changed(), "options that differ from the defaults");
    let client = client(&opts).await?;
    let version = client.apiserver_version().await.map_err(|e| {
        anyhow::anyhow!(
            "asking the API server for /version: {}",
            kubestate_watch::readable(&e)
        )
    })?;
    info!(server = %version.git_version, "connected to the API server");
    let mut exporter = start(&opts, client).await?;
    exporter.follow_config(command_line, opts);
    shutdown_signal().await;
    exporter.stop().await;
    info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_info_names_the_revision() {
        let text = String::from_utf8(build_info()).unwrap();
        let rev = env!("KUBESTATE_REVISION");
        assert!(text.contains(&format!("revision=\"{rev}\"")), "{text}");
        // Built from this repository's checkout: a full commit hash.
        if std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            assert_eq!(rev.len(), 40, "{rev:?}");
            assert!(rev.chars().all(|c| c.is_ascii_hexdigit()), "{rev:?}");
        }
    }

    #[test]
    fn listen_addresses() {
        let a = |h: &str, p| listen_addr("--host", h, p).map(|a| a.to_string());
        assert_eq!(a("::", 8080).unwrap(), "[::]:8080");
        assert_eq!(a("127.0.0.1", 1).unwrap(), "127.0.0.1:1");
        assert_eq!(a("[::1]", 2).unwrap(), "[::1]:2");
        assert_eq!(a("", 3).unwrap(), "[::]:3");
        // Host names resolve, as in KSM (Go's net.Listen): IPv4 first.
        assert_eq!(a("localhost", 4).unwrap(), "127.0.0.1:4");
        let e = format!(
            "{:#}",
            listen_addr("--host", "no-such-host.invalid", 5).unwrap_err()
        );
        assert!(e.contains("--host=no-such-host.invalid"), "{e}");
    }
}
