//! Reloading the web configuration (`--tls-config`) while running: the file and the
//! certificate, key and client CA files it names are polled; when one changes, the file is
//! loaded again and swapped into both servers, so new TLS handshakes use the new certificate
//! and new requests the new users and headers. Connections already open keep what they
//! negotiated. A change that does not load is logged and the previous configuration kept.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kubestate_http::{Shared, WebSecurity};
use tracing::{error, info};

/// How often the files are checked.
pub const POLL: Duration = Duration::from_secs(2);

/// A digest of the contents of `files` (a missing file counts as its own state).
fn fingerprint(files: &[PathBuf]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        match std::fs::read(f) {
            Ok(bytes) => bytes.hash(&mut h),
            Err(e) => e.kind().to_string().hash(&mut h),
        }
    }
    h.finish()
}

/// Watches the web configuration at `path` (already loaded into `shared`) and reloads it on
/// change, every `interval`, until the task is aborted.
pub fn watch_web_config(
    path: PathBuf,
    shared: Arc<Shared>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut files = shared.security.load().files().to_vec();
        let mut seen = fingerprint(&files);
        let mut failed_at: Option<u64> = None;
        loop {
            tokio::time::sleep(interval).await;
            let now = fingerprint(&files);
            if now == seen || failed_at == Some(now) {
                continue;
            }
            match load(&path).await {
                Ok(security) => {
                    files = security.files().to_vec();
                    // The new file may name other certificate files: fingerprint those.
                    seen = fingerprint(&files);
                    failed_at = None;
                    info!(file = %path.display(), tls = security.tls.is_some(), basic_auth = security.requires_auth(), "web configuration reloaded; new connections use it");
                    shared.security.store(Arc::new(security));
                }
                Err(e) => {
                    // Certificate and key are often written one after the other: a pair that
                    // does not match yet is retried at the next change.
                    error!(file = %path.display(), error = %e, "web configuration change not applied; keeping the previous one");
                    failed_at = Some(now);
                }
            }
        }
    })
}

async fn load(path: &Path) -> Result<WebSecurity, kubestate_http::WebConfigError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || WebSecurity::load(&path))
        .await
        .unwrap_or_else(|e| {
            Err(kubestate_http::WebConfigError::Invalid {
                path: PathBuf::new(),
                message: format!("loading panicked: {e}"),
            })
        })
}
