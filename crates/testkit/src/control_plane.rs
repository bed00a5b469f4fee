//! A real Kubernetes control plane for tests: etcd and kube-apiserver (and, when asked,
//! kube-controller-manager), the binaries `../shared/tools/k8s-control-plane/build.sh` builds,
//! started on free loopback ports with their own data directory, PKI and admin token, and
//! stopped when the [`ControlPlane`] is dropped. Several control planes can run at once (tests
//! of other binaries may run theirs): nothing is shared but the binaries.
//!
//! * [`binaries`]: where the binaries are (`$KUBESTATE_CONTROL_PLANE_BIN`, `$PEERS/bin`, or
//!   `$HOME/.cache/k8s-control-plane/bin`); missing ones print `SKIP` (or fail under
//!   `KUBESTATE_REQUIRE_TOOLS=1`, see [`crate::tools::skip`]).
//! * [`ControlPlane::start`]: starts and waits for `/readyz`; [`ControlPlane::kubeconfig`],
//!   [`ControlPlane::token`], [`ControlPlane::ca_file`] are what clients need.
//! * Objects: [`ControlPlane::create`], [`ControlPlane::update`],
//!   [`ControlPlane::update_status`], [`ControlPlane::delete`], [`ControlPlane::list`] (paths
//!   found by discovery, so custom resources work too), [`ControlPlane::api`] for anything
//!   else, and [`ControlPlane::kubectl`] with the admin kubeconfig.
//! * Faults: [`ControlPlane::stop_apiserver`] / [`ControlPlane::start_apiserver`] (same port,
//!   same etcd), [`ControlPlane::compact_etcd`], [`ControlPlane::start_controller_manager`] /
//!   [`ControlPlane::stop_controller_manager`].
//! * Identities: [`ControlPlane::create_token`] (TokenRequest API) and
//!   [`ControlPlane::write_kubeconfig`] for any bearer token.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use crate::find_binary;
use crate::http::Reply;
use crate::tools::{free_port, skip, ChildGuard, TempDir};

/// How to get the binaries, for SKIP messages.
pub const BUILD_HINT: &str = "build them with ../shared/tools/k8s-control-plane/build.sh \
     (BUILD_KCM=1 adds kube-controller-manager), or set KUBESTATE_CONTROL_PLANE_BIN to a folder \
     holding etcd and kube-apiserver";

/// The service CIDR of every control plane (its first address is the `kubernetes` Service).
pub const SERVICE_CIDR: &str = "10.96.0.0/12";

/// How long a component may take to become healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The control-plane executables.
#[derive(Clone, Debug)]
pub struct Binaries {
    /// `etcd`.
    pub etcd: PathBuf,
    /// `kube-apiserver`.
    pub kube_apiserver: PathBuf,
    /// `kube-controller-manager`, when it was built.
    pub kube_controller_manager: Option<PathBuf>,
}

impl Binaries {
    /// Looks for the binaries without reporting anything.
    pub fn find() -> Option<Binaries> {
        let dir = bin_dir()?;
        let etcd = dir.join("etcd");
        let kube_apiserver = dir.join("kube-apiserver");
        if !etcd.is_file() || !kube_apiserver.is_file() {
            return None;
        }
        let kcm = dir.join("kube-controller-manager");
        Some(Binaries {
            etcd,
            kube_apiserver,
            kube_controller_manager: kcm.is_file().then_some(kcm),
        })
    }
}

/// The folder the binaries are looked for in.
pub fn bin_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("KUBESTATE_CONTROL_PLANE_BIN") {
        return Some(PathBuf::from(d));
    }
    if let Ok(p) = std::env::var("PEERS") {
        return Some(PathBuf::from(p).join("bin"));
    }
    let home = std::env::var_os("HOME")?;
    Some(PathBuf::from(home).join(".cache/k8s-control-plane/bin"))
}

/// The binaries, or `None` after the SKIP line (a failure under `KUBESTATE_REQUIRE_TOOLS`).
pub fn binaries() -> Option<Binaries> {
    let b = Binaries::find();
    if b.is_none() {
        skip("kube-apiserver and etcd", BUILD_HINT);
    }
    b
}

/// `kubectl` (`$KUBECTL`, the control-plane folder, `/usr/bin`, `PATH`), or `None` after the
/// SKIP line.
pub fn kubectl() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = bin_dir().into_iter().collect();
    dirs.extend([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")]);
    let k = find_binary("KUBECTL", "kubectl", &dirs);
    if k.is_none() {
        skip(
            "kubectl",
            "apt-get install kubectl, or build k8s.io/kubernetes/cmd/kubectl like kube-apiserver",
        );
    }
    k
}

/// What to start, and with which extra settings.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Also start kube-controller-manager (fails when it was not built).
    pub controller_manager: bool,
    /// kube-apiserver's `--etcd-compaction-interval` (its default is 5 minutes).
    pub etcd_compaction_interval: Option<Duration>,
    /// More kube-apiserver flags (`--watch-cache=false`, `--feature-gates=…`).
    pub apiserver_args: Vec<String>,
}

/// An error answer of the API server.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// HTTP status (0 when the request did not get an answer).
    pub code: u16,
    /// The `Status` reason (`AlreadyExists`, `NotFound`, `Forbidden`…), or the transport error.
    pub reason: String,
    /// The `Status` message, or the body.
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    fn transport(e: String) -> ApiError {
        ApiError {
            code: 0,
            reason: "Transport".into(),
            message: e,
        }
    }

    fn from_reply(r: &Reply) -> ApiError {
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        ApiError {
            code: r.status,
            reason: v["reason"].as_str().unwrap_or_default().to_string(),
            message: v["message"]
                .as_str()
                .map_or_else(|| r.text(), str::to_string),
        }
    }
}

/// One API resource as discovery describes it.
#[derive(Clone, Debug)]
pub struct ApiResource {
    /// `group/version`, or `v1` for the core group.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Subresources (`status`, `approval`, `scale`…).
    pub subresources: Vec<String>,
}

impl ApiResource {
    /// The collection path, in `namespace` for namespaced resources.
    pub fn collection(&self, namespace: Option<&str>) -> String {
        let base = if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        };
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<bytes::Bytes>>;

/// Files of the generated PKI.
#[derive(Debug)]
struct Pki {
    ca_crt: PathBuf,
    ca_key: PathBuf,
    apiserver_crt: PathBuf,
    apiserver_key: PathBuf,
    kcm_crt: PathBuf,
    kcm_key: PathBuf,
    sa_key: PathBuf,
    sa_pub: PathBuf,
    tokens: PathBuf,
    token: String,
}

/// A running control plane; everything is stopped and its folder removed on drop.
pub struct ControlPlane {
    dir: TempDir,
    bins: Binaries,
    opts: Options,
    pki: Pki,
    etcd: Option<ChildGuard>,
    apiserver: Option<ChildGuard>,
    controller_manager: Option<ChildGuard>,
    etcd_port: u16,
    apiserver_port: u16,
    kcm_port: u16,
    kubeconfig: PathBuf,
    client: HttpsClient,
    discovery: Mutex<HashMap<String, Arc<Vec<ApiResource>>>>,
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("dir", &self.dir.path())
            .field("url", &self.url())
            .field("etcd", &self.etcd_url())
            .finish()
    }
}

impl ControlPlane {
    /// Starts a control plane when the binaries exist; `None` after the SKIP line otherwise.
    ///
    /// # Panics
    /// The binaries exist but the control plane does not come up (with the logs).
    pub async fn start_or_skip(opts: Options) -> Option<ControlPlane> {
        let bins = binaries()?;
        if opts.controller_manager && bins.kube_controller_manager.is_none() {
            skip("kube-controller-manager", BUILD_HINT);
            return None;
        }
        match ControlPlane::start(bins, opts).await {
            Ok(cp) => Some(cp),
            Err(e) => panic!("the control plane did not start: {e}"),
        }
    }

    /// Generates a PKI and starts etcd, kube-apiserver (and kube-controller-manager) on free
    /// loopback ports, waiting until each is healthy. A start that loses a port race to
    /// another process is retried with new ports.
    ///
    /// # Errors
    /// A component exited or did not become healthy in time (with its log's tail).
    pub async fn start(bins: Binaries, opts: Options) -> Result<ControlPlane, String> {
        let mut last = String::new();
        for _ in 0..3 {
            let dir = TempDir::new("control-plane").map_err(|e| e.to_string())?;
            let pki = write_pki(dir.path()).map_err(|e| format!("generating the PKI: {e}"))?;
            let client = https_client(&pki.ca_crt)?;
            let mut cp = ControlPlane {
                kubeconfig: dir.path().join("kubeconfig"),
                dir,
                bins: bins.clone(),
                opts: opts.clone(),
                pki,
                etcd: None,
                apiserver: None,
                controller_manager: None,
                etcd_port: free_port(),
                apiserver_port: free_port(),
                kcm_port: free_port(),
                client,
                discovery: Mutex::default(),
            };
            let token = cp.pki.token.clone();
            cp.write_kubeconfig(&cp.kubeconfig, &token)
                .map_err(|e| e.to_string())?;
            match cp.start_all().await {
                Ok(()) => return Ok(cp),
                Err(e) if e.contains("address already in use") => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(format!("ports kept being taken: {last}"))
    }

    async fn start_all(&mut self) -> Result<(), String> {
        self.start_etcd().await?;
        self.start_apiserver().await?;
        if self.opts.controller_manager {
            self.start_controller_manager().await?;
        }
        Ok(())
    }

    /// The API server's URL (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.apiserver_port)
    }

    /// etcd's client URL.
    pub fn etcd_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.etcd_port)
    }

    /// A kubeconfig with the admin token (group `system:masters`) and the CA.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The admin bearer token.
    pub fn token(&self) -> &str {
        &self.pki.token
    }

    /// The CA certificate (PEM) that signed the API server's serving certificate.
    pub fn ca_file(&self) -> &Path {
        &self.pki.ca_crt
    }

    /// The control plane's own folder (logs, PKI, data), removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a kubeconfig for this API server that authenticates with `token`.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write_kubeconfig(&self, path: &Path, token: &str) -> std::io::Result<()> {
        let kc = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: user\n  user:\n    token: {token}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: user\ncurrent-context: test\n",
            self.url(),
            self.pki.ca_crt.display()
        );
        std::fs::write(path, kc)
    }

    /// A component's log (`etcd`, `kube-apiserver`, `kube-controller-manager`).
    pub fn log(&self, component: &str) -> String {
        std::fs::read_to_string(self.log_path(component)).unwrap_or_default()
    }

    fn log_path(&self, component: &str) -> PathBuf {
        self.dir.path().join(format!("{component}.log"))
    }

    fn tail(&self, component: &str, lines: usize) -> String {
        let log = self.log(component);
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn spawn(&self, component: &str, binary: &Path, args: &[String]) -> Result<ChildGuard, String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(component))
            .map_err(|e| format!("{component} log: {e}"))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        Command::new(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map(ChildGuard)
            .map_err(|e| format!("starting {}: {e}", binary.display()))
    }

    /// Polls `probe` until it answers `true`, failing early when the process exits.
    async fn wait_healthy<F, Fut>(
        &mut self,
        component: &str,
        mut probe: F,
    ) -> Result<Duration, String>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        let url = match component {
            "etcd" => format!("{}/health", self.etcd_url()),
            "kube-apiserver" => format!("{}/readyz", self.url()),
            _ => format!("https://127.0.0.1:{}/healthz", self.kcm_port),
        };
        loop {
            let child = match component {
                "etcd" => self.etcd.as_mut(),
                "kube-apiserver" => self.apiserver.as_mut(),
                _ => self.controller_manager.as_mut(),
            };
            if let Some(st) = child.and_then(ChildGuard::try_exit) {
                return Err(format!(
                    "{component} exited ({st}); its log ends with:\n{}",
                    self.tail(component, 30)
                ));
            }
            if probe(url.clone()).await {
                return Ok(started.elapsed());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "{component} not healthy after {READY_TIMEOUT:?}; its log ends with:\n{}",
                    self.tail(component, 30)
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn start_etcd(&mut self) -> Result<(), String> {
        let data = self.dir.path().join("etcd");
        let peer = free_port();
        let client_url = self.etcd_url();
        let peer_url = format!("http://127.0.0.1:{peer}");
        let args: Vec<String> = vec![
            "--name=test".into(),
            format!("--data-dir={}", data.display()),
            format!("--listen-client-urls={client_url}"),
            format!("--advertise-client-urls={client_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=test={peer_url}"),
            "--initial-cluster-state=new".into(),
            // Test data need not survive a power cut; fsync would dominate on a busy machine.
            "--unsafe-no-fsync".into(),
            "--logger=zap".into(),
            "--log-level=warn".into(),
        ];
        self.etcd = Some(self.spawn("etcd", &self.bins.etcd.clone(), &args)?);
        self.wait_healthy("etcd", |url| async move {
            crate::http::get(&url, &[], Duration::from_secs(2))
                .await
                .is_ok_and(|r| r.text().contains("\"health\":\"true\""))
        })
        .await?;
        Ok(())
    }

    fn apiserver_args(&self) -> Vec<String> {
        let p = &self.pki;
        let mut args: Vec<String> = vec![
            format!("--etcd-servers={}", self.etcd_url()),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={}", self.apiserver_port),
            format!("--cert-dir={}", self.dir.path().join("serving").display()),
            format!("--tls-cert-file={}", p.apiserver_crt.display()),
            format!("--tls-private-key-file={}", p.apiserver_key.display()),
            format!("--client-ca-file={}", p.ca_crt.display()),
            format!("--token-auth-file={}", p.tokens.display()),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            format!("--service-account-key-file={}", p.sa_pub.display()),
            format!("--service-account-signing-key-file={}", p.sa_key.display()),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            "--authorization-mode=Node,RBAC".into(),
            "--allow-privileged=true".into(),
            // Endpoints may not hold a loopback address: no reconciler for `kubernetes`.
            "--endpoint-reconciler-type=none".into(),
            "--enable-priority-and-fairness=false".into(),
            "--profiling=false".into(),
            "--v=1".into(),
        ];
        if let Some(i) = self.opts.etcd_compaction_interval {
            args.push(format!("--etcd-compaction-interval={}ms", i.as_millis()));
        }
        args.extend(self.opts.apiserver_args.iter().cloned());
        args
    }

    /// Starts kube-apiserver (again, after [`ControlPlane::stop_apiserver`]) on the same port
    /// and etcd, and waits for `/readyz`. Returns how long it took to become ready.
    ///
    /// # Errors
    /// It exited or did not become ready in time.
    pub async fn start_apiserver(&mut self) -> Result<Duration, String> {
        if self.apiserver.is_some() {
            return Ok(Duration::ZERO);
        }
        let args = self.apiserver_args();
        self.apiserver =
            Some(self.spawn("kube-apiserver", &self.bins.kube_apiserver.clone(), &args)?);
        let client = self.client.clone();
        let token = self.pki.token.clone();
        let took = self
            .wait_healthy("kube-apiserver", |url| {
                let client = client.clone();
                let auth = format!("Bearer {token}");
                async move {
                    crate::http::send(
                        &client,
                        "GET",
                        &url,
                        &[("Authorization", &auth)],
                        Vec::new(),
                        Duration::from_secs(5),
                    )
                    .await
                    .is_ok_and(|r| r.status == 200 && r.text() == "ok")
                }
            })
            .await?;
        self.discovery.lock().expect("discovery lock").clear();
        Ok(took)
    }

    /// Stops kube-apiserver (SIGTERM, so open watches end as in a rolling restart; SIGKILL
    /// after 20 s). etcd keeps running and its data stays.
    pub fn stop_apiserver(&mut self) {
        if let Some(c) = self.apiserver.take() {
            terminate(c, Duration::from_secs(20));
        }
    }

    /// Restarts kube-apiserver on the same port; returns how long it took to become ready.
    ///
    /// # Errors
    /// As [`ControlPlane::start_apiserver`].
    pub async fn restart_apiserver(&mut self) -> Result<Duration, String> {
        self.stop_apiserver();
        self.start_apiserver().await
    }

    /// Starts kube-controller-manager (again) and waits until it is healthy.
    ///
    /// # Errors
    /// It was not built, exited, or did not become healthy in time.
    pub async fn start_controller_manager(&mut self) -> Result<(), String> {
        if self.controller_manager.is_some() {
            return Ok(());
        }
        let kcm = self
            .bins
            .kube_controller_manager
            .clone()
            .ok_or_else(|| format!("kube-controller-manager is not built: {BUILD_HINT}"))?;
        let p = &self.pki;
        let kc = self.kubeconfig.display().to_string();
        let args: Vec<String> = vec![
            format!("--kubeconfig={kc}"),
            format!("--authentication-kubeconfig={kc}"),
            format!("--authorization-kubeconfig={kc}"),
            "--bind-address=127.0.0.1".into(),
            format!("--secure-port={}", self.kcm_port),
            format!("--tls-cert-file={}", p.kcm_crt.display()),
            format!("--tls-private-key-file={}", p.kcm_key.display()),
            "--leader-elect=false".into(),
            "--use-service-account-credentials=false".into(),
            format!("--service-account-private-key-file={}", p.sa_key.display()),
            format!("--root-ca-file={}", p.ca_crt.display()),
            format!("--cluster-signing-cert-file={}", p.ca_crt.display()),
            format!("--cluster-signing-key-file={}", p.ca_key.display()),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            "--profiling=false".into(),
            "--v=1".into(),
        ];
        self.controller_manager = Some(self.spawn("kube-controller-manager", &kcm, &args)?);
        let client = self.client.clone();
        self.wait_healthy("kube-controller-manager", |url| {
            let client = client.clone();
            async move {
                crate::http::send(
                    &client,
                    "GET",
                    &url,
                    &[],
                    Vec::new(),
                    Duration::from_secs(5),
                )
                .await
                .is_ok_and(|r| r.status == 200)
            }
        })
        .await?;
        Ok(())
    }

    /// Stops kube-controller-manager, so the world stops moving on its own.
    pub fn stop_controller_manager(&mut self) {
        if let Some(c) = self.controller_manager.take() {
            terminate(c, Duration::from_secs(10));
        }
    }

    /// Compacts etcd's history up to its current revision (as kube-apiserver does every
    /// `--etcd-compaction-interval`), so a watch or list from an older resourceVersion that
    /// reaches etcd gets `410 Gone`. Returns the revision compacted to.
    ///
    /// # Errors
    /// etcd did not answer as expected.
    pub async fn compact_etcd(&self) -> Result<i64, String> {
        let url = self.etcd_url();
        let range = crate::http::request(
            "POST",
            &format!("{url}/v3/kv/range"),
            &[("Content-Type", "application/json")],
            br#"{"key":"Lw==","limit":1}"#.to_vec(),
            Duration::from_secs(10),
        )
        .await?;
        let v: Value = serde_json::from_slice(&range.body)
            .map_err(|e| format!("etcd range answer: {e}: {}", range.text()))?;
        let rev: i64 = v["header"]["revision"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no revision in {v}"))?;
        let compact = crate::http::request(
            "POST",
            &format!("{url}/v3/kv/compaction"),
            &[("Content-Type", "application/json")],
            json!({"revision": rev.to_string(), "physical": true})
                .to_string()
                .into_bytes(),
            Duration::from_secs(30),
        )
        .await?;
        if compact.status != 200 {
            return Err(format!("etcd compaction: {}", compact.text()));
        }
        Ok(rev)
    }

    /// A request to the API server as `token` (the admin when `None`).
    ///
    /// # Errors
    /// No answer (transport error or timeout).
    pub async fn api_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Reply, String> {
        let auth = format!("Bearer {}", token.unwrap_or(&self.pki.token));
        let url = format!("{}{path}", self.url());
        crate::http::send(
            &self.client,
            method,
            &url,
            &[
                ("Authorization", &auth),
                ("Content-Type", content_type),
                ("Accept", "application/json"),
            ],
            body,
            Duration::from_secs(60),
        )
        .await
    }

    /// A JSON request as the admin; the answer's JSON, or the API error.
    ///
    /// # Errors
    /// A non-2xx answer or no answer.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let ct = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let r = self
            .api_as(None, method, path, ct, bytes)
            .await
            .map_err(ApiError::transport)?;
        if !(200..300).contains(&r.status) {
            return Err(ApiError::from_reply(&r));
        }
        serde_json::from_slice(&r.body).map_err(|e| ApiError {
            code: r.status,
            reason: "BadJSON".into(),
            message: format!("{e}: {}", r.text()),
        })
    }

    /// The resources of `api_version` (`v1`, `apps/v1`…), by discovery (cached until the
    /// API server restarts; [`ControlPlane::forget_discovery`] after adding a CRD).
    ///
    /// # Errors
    /// The group/version is not served.
    pub async fn resources(&self, api_version: &str) -> Result<Arc<Vec<ApiResource>>, ApiError> {
        if let Some(r) = self
            .discovery
            .lock()
            .expect("discovery lock")
            .get(api_version)
        {
            return Ok(r.clone());
        }
        let path = if api_version.contains('/') {
            format!("/apis/{api_version}")
        } else {
            format!("/api/{api_version}")
        };
        let v = self.api("GET", &path, None).await?;
        let entries = v["resources"].as_array().cloned().unwrap_or_default();
        let mut out: Vec<ApiResource> = Vec::new();
        for e in &entries {
            let name = e["name"].as_str().unwrap_or_default();
            if name.contains('/') {
                continue;
            }
            let prefix = format!("{name}/");
            out.push(ApiResource {
                api_version: api_version.to_string(),
                kind: e["kind"].as_str().unwrap_or_default().to_string(),
                plural: name.to_string(),
                namespaced: e["namespaced"].as_bool().unwrap_or(false),
                subresources: entries
                    .iter()
                    .filter_map(|s| s["name"].as_str()?.strip_prefix(&prefix))
                    .map(str::to_string)
                    .collect(),
            });
        }
        let out = Arc::new(out);
        self.discovery
            .lock()
            .expect("discovery lock")
            .insert(api_version.to_string(), out.clone());
        Ok(out)
    }

    /// Drops cached discovery (after installing or removing a CRD).
    pub fn forget_discovery(&self) {
        self.discovery.lock().expect("discovery lock").clear();
    }

    /// The resource serving `kind` in `api_version`.
    ///
    /// # Errors
    /// Not served.
    pub async fn resource(&self, api_version: &str, kind: &str) -> Result<ApiResource, ApiError> {
        self.resources(api_version)
            .await?
            .iter()
            .find(|r| r.kind == kind)
            .cloned()
            .ok_or_else(|| ApiError {
                code: 404,
                reason: "NotServed".into(),
                message: format!("{kind} is not served in {api_version}"),
            })
    }

    async fn object_path(&self, obj: &Value) -> Result<(ApiResource, String), ApiError> {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default();
        let kind = obj["kind"].as_str().unwrap_or_default();
        let r = self.resource(api_version, kind).await?;
        let ns = obj["metadata"]["namespace"].as_str().or(Some("default"));
        let path = r.collection(ns);
        Ok((r, path))
    }

    /// Creates `obj` (its `apiVersion`, `kind` and `metadata.namespace` say where).
    ///
    /// # Errors
    /// The API server refused it.
    pub async fn create(&self, obj: &Value) -> Result<Value, ApiError> {
        let (_, path) = self.object_path(obj).await?;
        self.api("POST", &path, Some(obj)).await
    }

    /// Replaces `obj` (a `PUT`; set `metadata.resourceVersion` for an optimistic update).
    ///
    /// # Errors
    /// The API server refused it.
    pub async fn update(&self, obj: &Value) -> Result<Value, ApiError> {
        let (_, path) = self.object_path(obj).await?;
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        self.api("PUT", &format!("{path}/{name}"), Some(obj)).await
    }

    /// Replaces `obj`'s status through its `status` subresource (and first its approval
    /// conditions through `approval`, for certificate signing requests).
    ///
    /// # Errors
    /// The API server refused it, or the resource has no status subresource.
    pub async fn update_status(&self, obj: &Value) -> Result<Value, ApiError> {
        let (r, path) = self.object_path(obj).await?;
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let mut obj = obj.clone();
        if r.subresources.iter().any(|s| s == "approval") {
            let approved = self
                .api("PUT", &format!("{path}/{name}/approval"), Some(&obj))
                .await?;
            obj["metadata"]["resourceVersion"] = approved["metadata"]["resourceVersion"].clone();
        }
        if !r.subresources.iter().any(|s| s == "status") {
            return Err(ApiError {
                code: 404,
                reason: "NoStatus".into(),
                message: format!("{} has no status subresource", r.plural),
            });
        }
        self.api("PUT", &format!("{path}/{name}/status"), Some(&obj))
            .await
    }

    /// Merge-patches the object `api_version`/`kind` `namespace`/`name`.
    ///
    /// # Errors
    /// The API server refused it.
    pub async fn patch(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        patch: &Value,
    ) -> Result<Value, ApiError> {
        let r = self.resource(api_version, kind).await?;
        self.api(
            "PATCH",
            &format!("{}/{name}", r.collection(namespace)),
            Some(patch),
        )
        .await
    }

    /// Deletes an object at once (`gracePeriodSeconds=0`: without a kubelet, a pod bound to
    /// a node would otherwise wait for one forever).
    ///
    /// # Errors
    /// The API server refused it.
    pub async fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let r = self.resource(api_version, kind).await?;
        self.api(
            "DELETE",
            &format!("{}/{name}?gracePeriodSeconds=0", r.collection(namespace)),
            None,
        )
        .await
    }

    /// Every object of `kind` in `api_version`, across namespaces.
    ///
    /// # Errors
    /// The API server refused the list.
    pub async fn list(&self, api_version: &str, kind: &str) -> Result<Vec<Value>, ApiError> {
        let r = self.resource(api_version, kind).await?;
        let v = self.api("GET", &r.collection(None), None).await?;
        Ok(v["items"].as_array().cloned().unwrap_or_default())
    }

    /// Creates namespace `name` and its `default` ServiceAccount (which the controller
    /// manager would create, and pods need), ignoring what already exists.
    ///
    /// # Errors
    /// The API server refused one of them for another reason.
    pub async fn ensure_namespace(&self, name: &str) -> Result<(), ApiError> {
        let objs = [
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "default", "namespace": name}}),
        ];
        for o in &objs {
            match self.create(o).await {
                Ok(_) => {}
                Err(e) if e.code == 409 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A token of ServiceAccount `namespace`/`name` from the TokenRequest API, valid for an
    /// hour, for the API server's default audience.
    ///
    /// # Errors
    /// The API server refused it (e.g. the ServiceAccount does not exist).
    pub async fn create_token(&self, namespace: &str, name: &str) -> Result<String, ApiError> {
        let req = json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600}
        });
        let v = self
            .api(
                "POST",
                &format!("/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token"),
                Some(&req),
            )
            .await?;
        v["status"]["token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ApiError {
                code: 200,
                reason: "NoToken".into(),
                message: v.to_string(),
            })
    }

    /// Runs `kubectl` with the admin kubeconfig, `stdin` as its input; its stdout, or what
    /// went wrong (with stderr).
    ///
    /// # Errors
    /// kubectl failed or could not be run.
    pub fn kubectl(&self, kubectl: &Path, args: &[&str], stdin: &[u8]) -> Result<String, String> {
        use std::io::Write as _;
        let mut child = Command::new(kubectl)
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running {}: {e}", kubectl.display()))?;
        let mut input = child.stdin.take().expect("piped stdin");
        let data = stdin.to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let _ = feeder.join();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "kubectl {} failed ({}):\n{stdout}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for c in ["kube-apiserver", "etcd", "kube-controller-manager"] {
                let t = self.tail(c, 15);
                if !t.is_empty() {
                    eprintln!("---- last lines of {c}'s log:\n{t}");
                }
            }
        }
        self.stop_controller_manager();
        self.stop_apiserver();
        drop(self.etcd.take());
    }
}

/// SIGTERM (through `kill`, this crate forbids `unsafe`), then SIGKILL after `grace`.
fn terminate(mut c: ChildGuard, grace: Duration) {
    let _ = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if c.try_exit().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    c.kill();
}

fn https_client(ca: &Path) -> Result<HttpsClient, String> {
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca).map_err(|e| e.to_string())? {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A CA, serving certificates for kube-apiserver and kube-controller-manager, the
/// ServiceAccount signing key pair and the admin token, written under `dir/pki`.
fn write_pki(dir: &Path) -> Result<Pki, Box<dyn std::error::Error>> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki)?;
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kubestate-test-ca");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key)?;
    let serving = |cn: &str, names: Vec<String>| -> Result<(String, String), rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(names)?;
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = p.signed_by(&key, &ca, &ca_key)?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    let apiserver_names = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "127.0.0.1",
        "10.96.0.1",
    ];
    let (apiserver_crt, apiserver_key) = serving(
        "kube-apiserver",
        apiserver_names.iter().map(|s| s.to_string()).collect(),
    )?;
    let (kcm_crt, kcm_key) = serving(
        "kube-controller-manager",
        vec!["localhost".into(), "127.0.0.1".into()],
    )?;
    let sa = KeyPair::generate()?;
    let token = random_hex(24)?;
    let out = Pki {
        ca_crt: pki.join("ca.crt"),
        ca_key: pki.join("ca.key"),
        apiserver_crt: pki.join("apiserver.crt"),
        apiserver_key: pki.join("apiserver.key"),
        kcm_crt: pki.join("kcm.crt"),
        kcm_key: pki.join("kcm.key"),
        sa_key: pki.join("sa.key"),
        sa_pub: pki.join("sa.pub"),
        tokens: pki.join("tokens.csv"),
        token,
    };
    for (path, content) in [
        (&out.ca_crt, ca.pem()),
        (&out.ca_key, ca_key.serialize_pem()),
        (&out.apiserver_crt, apiserver_crt),
        (&out.apiserver_key, apiserver_key),
        (&out.kcm_crt, kcm_crt),
        (&out.kcm_key, kcm_key),
        (&out.sa_key, sa.serialize_pem()),
        (&out.sa_pub, sa.public_key_pem()),
        // token,user,uid,"groups"
        (
            &out.tokens,
            format!("{},admin,admin,\"system:masters\"\n", out.token),
        ),
    ] {
        std::fs::write(path, content)?;
    }
    Ok(out)
}

/// `obj` without what the API server sets itself (uid, resourceVersion, timestamps,
/// generation, managed fields, status), ready to be created again.
pub fn creatable(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o["metadata"].as_object_mut() {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "managedFields",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            m.remove(k);
        }
    }
    if let Some(m) = o.as_object_mut() {
        m.remove("status");
    }
    o
}

/// `svc` without its cluster IPs and node ports, for the server to pick (the ones it was
/// captured or synthesized with may be taken or lie outside this server's service range).
pub fn without_addresses(svc: &Value) -> Value {
    let mut s = svc.clone();
    if let Some(spec) = s["spec"].as_object_mut() {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
        for p in spec
            .get_mut("ports")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(p) = p.as_object_mut() {
                p.remove("nodePort");
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_addresses_are_stripped() {
        let svc = json!({"kind": "Service", "spec": {"clusterIP": "10.0.0.1",
            "clusterIPs": ["10.0.0.1"], "ports": [{"port": 80, "nodePort": 30001}]}});
        assert_eq!(
            without_addresses(&svc)["spec"],
            json!({"ports": [{"port": 80}]})
        );
    }

    #[test]
    fn server_fields_are_stripped() {
        let o = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "uid": "u", "resourceVersion": "1", "labels": {"a": "b"}},
            "spec": {}, "status": {"phase": "Running"}});
        let c = creatable(&o);
        assert_eq!(
            c,
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {}})
        );
    }

    #[test]
    fn collection_paths() {
        let r = ApiResource {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
            namespaced: true,
            subresources: vec![],
        };
        assert_eq!(
            r.collection(Some("a")),
            "/apis/apps/v1/namespaces/a/deployments"
        );
        assert_eq!(r.collection(None), "/apis/apps/v1/deployments");
        let n = ApiResource {
            api_version: "v1".into(),
            kind: "Node".into(),
            plural: "nodes".into(),
            namespaced: false,
            subresources: vec![],
        };
        assert_eq!(n.collection(Some("a")), "/api/v1/nodes");
    }

    #[test]
    fn pki_parses() {
        let d = TempDir::new("pki-test").expect("temp dir");
        let p = write_pki(d.path()).expect("pki");
        https_client(&p.ca_crt).expect("the CA loads into rustls");
        assert_eq!(p.token.len(), 48);
        let pubkey = std::fs::read_to_string(&p.sa_pub).expect("sa.pub");
        assert!(pubkey.starts_with("-----BEGIN PUBLIC KEY-----"), "{pubkey}");
    }
}
