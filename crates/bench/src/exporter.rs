//! Starting and stopping the exporters under test as separate processes.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// An exporter binary and how to describe it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Binary {
    /// `kubestate` or `ksm`.
    pub name: String,
    /// Path of the executable.
    pub path: PathBuf,
    /// Version as far as it can be told.
    pub version: String,
}

impl Binary {
    /// The kubestate release binary: `path`, else `kubestate` next to this executable.
    pub fn kubestate(path: Option<&Path>) -> anyhow::Result<Binary> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => std::env::current_exe()
                .context("locating this executable")?
                .with_file_name("kubestate"),
        };
        if !path.is_file() {
            bail!(
                "no kubestate binary at {}; build it first with `cargo build --release -p kubestate` (same CARGO_TARGET_DIR as this harness) or pass --kubestate PATH",
                path.display()
            );
        }
        if !path.components().any(|c| c.as_os_str() == "release") {
            eprintln!(
                "warning: {} does not look like a release build; figures of a debug build mean nothing",
                path.display()
            );
        }
        let version = Command::new(&path)
            .arg("version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok(Binary {
            name: "kubestate".into(),
            version: format!("{version} (binary built at unix time {modified})"),
            path,
        })
    }

    /// The reference KSM: `path`, else `$GOBIN`/`$GOPATH/bin`/`~/go/bin`. `None` when absent.
    pub fn ksm(path: Option<&Path>, install: bool) -> anyhow::Result<Option<Binary>> {
        let found = match path {
            Some(p) if p.is_file() => Some(p.to_path_buf()),
            Some(p) => bail!("--ksm {}: no such file", p.display()),
            None => ksm_candidates().into_iter().find(|p| p.is_file()),
        };
        let found = match (found, install) {
            (Some(p), _) => Some(p),
            (None, true) => {
                eprintln!("installing KSM: go install k8s.io/kube-state-metrics/v2@v2.20.0");
                let st = Command::new("go")
                    .args(["install", "k8s.io/kube-state-metrics/v2@v2.20.0"])
                    .status()
                    .context("running go install (is Go installed?)")?;
                if !st.success() {
                    bail!("go install k8s.io/kube-state-metrics/v2@v2.20.0 failed");
                }
                ksm_candidates().into_iter().find(|p| p.is_file())
            }
            (None, false) => None,
        };
        let Some(path) = found else {
            return Ok(None);
        };
        // `go version -m` tells the module version of a `go install`ed binary.
        let version = Command::new("go")
            .arg("version")
            .arg("-m")
            .arg(&path)
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| {
                let go = s
                    .lines()
                    .next()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .unwrap_or("")
                    .to_string();
                let field = |key: &str, module: &str| {
                    s.lines()
                        .map(|l| l.split_whitespace().collect::<Vec<_>>())
                        .find(|f| f.first() == Some(&key) && f.get(1) == Some(&module))
                        .and_then(|f| f.get(2).map(|v| v.to_string()))
                };
                let v = field("mod", "k8s.io/kube-state-metrics/v2")?;
                let client = field("dep", "k8s.io/client-go").unwrap_or_default();
                Some(format!("kube-state-metrics {v} ({go}, client-go {client})"))
            })
            .unwrap_or_else(|| "kube-state-metrics (version unknown)".into());
        Ok(Some(Binary {
            name: "ksm".into(),
            path,
            version,
        }))
    }
}

fn ksm_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(b) = std::env::var("GOBIN") {
        v.push(PathBuf::from(b).join("kube-state-metrics"));
    }
    if let Ok(p) = std::env::var("GOPATH") {
        v.push(PathBuf::from(p).join("bin/kube-state-metrics"));
    }
    if let Ok(h) = std::env::var("HOME") {
        v.push(PathBuf::from(h).join("go/bin/kube-state-metrics"));
    }
    v
}

/// A free loopback port (bound and released; a small race is accepted).
fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// A running exporter process.
pub struct Exporter {
    /// `kubestate` or `ksm`.
    pub name: String,
    /// Its process id.
    pub pid: u32,
    /// The main (`/metrics`) server.
    pub metrics: SocketAddr,
    /// When the process was started.
    pub started: Instant,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
    child: Option<Child>,
}

/// The flags both exporters get (the same names: kubestate takes KSM's flags).
pub fn flags(kubeconfig: &Path, port: u16, telemetry_port: u16) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", kubeconfig.display()),
        "--host=127.0.0.1".into(),
        format!("--port={port}"),
        "--telemetry-host=127.0.0.1".into(),
        format!("--telemetry-port={telemetry_port}"),
        "--enable-gzip-encoding".into(),
    ]
}

impl Exporter {
    /// Starts `bin` against `kubeconfig` with [`flags`] and `extra` flags, logging to `log`.
    pub fn start(
        bin: &Binary,
        kubeconfig: &Path,
        extra: &[String],
        log: &Path,
    ) -> anyhow::Result<Exporter> {
        let port = free_port()?;
        let telemetry = free_port()?;
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out
            .try_clone()
            .with_context(|| format!("opening {}", log.display()))?;
        let started = Instant::now();
        let child = Command::new(&bin.path)
            .args(flags(kubeconfig, port, telemetry))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {}", bin.path.display()))?;
        Ok(Exporter {
            name: bin.name.clone(),
            pid: child.id(),
            metrics: SocketAddr::from(([127, 0, 0, 1], port)),
            started,
            log: log.to_path_buf(),
            child: Some(child),
        })
    }

    /// Fails when the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(c) = self.child.as_mut() {
            if let Some(st) = c.try_wait().context("checking the exporter")? {
                bail!("{} exited with {st}; see {}", self.name, self.log.display());
            }
        }
        Ok(())
    }

    /// Stops the process: SIGTERM, then SIGKILL after 10 s.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut c) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if c.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        c.kill().context("killing the exporter")?;
        c.wait().context("waiting for the exporter")?;
        Ok(())
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
