//! The custom-resource-state configuration file: read at startup, polled for changes, its
//! hash and load status reported as KSM reports them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kubestate_customstate::CustomConfig;
use tracing::{error, info, warn};

use super::{Shared, CONFIG_KIND};
use crate::telemetry::Telemetry;

/// The custom-resource-state file, polled for changes.
pub(super) struct FileWatch {
    path: PathBuf,
    /// The `filename` label: the path cleaned as Go's `filepath.Clean` does.
    label: String,
    /// The contents last acted on.
    last: Option<Vec<u8>>,
    /// What was last said about the file not being readable, to say it once.
    unreadable: Option<String>,
}

impl FileWatch {
    /// Reads the file once at startup: its configuration (when valid) becomes `initial`.
    pub(super) fn open(
        path: &Path,
        telemetry: &Telemetry,
        initial: &mut Option<Arc<CustomConfig>>,
    ) -> Self {
        let mut w = FileWatch {
            path: path.to_path_buf(),
            label: go_clean(&path.to_string_lossy()),
            last: None,
            unreadable: None,
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                match parse(&bytes) {
                    Ok(config) => {
                        telemetry.set_config_status(
                            CONFIG_KIND,
                            &w.label,
                            Some(config_hash(&bytes)),
                        );
                        *initial = Some(Arc::new(config.config));
                    }
                    Err(e) => {
                        error!(file = %w.label, error = %e, "invalid custom resource state configuration");
                        telemetry.set_config_status(CONFIG_KIND, &w.label, None);
                    }
                }
                w.last = Some(bytes);
            }
            Err(e) => {
                info!(file = %w.label, error = %e, "custom resource state file not readable yet; it is checked every 2 s");
                w.unreadable = Some(e.to_string());
            }
        }
        w
    }

    /// Acts on a change of the file: a valid new configuration replaces the custom
    /// resource stores; an invalid one is reported and the running configuration kept.
    pub(super) fn check(&mut self, shared: &Arc<Shared>) {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) => {
                let msg = e.to_string();
                if self.unreadable.as_deref() != Some(msg.as_str()) {
                    warn!(file = %self.label, error = %msg, "custom resource state file not readable; keeping the current configuration");
                    self.unreadable = Some(msg);
                }
                return;
            }
        };
        self.unreadable = None;
        if self.last.as_deref() == Some(bytes.as_slice()) {
            return;
        }
        match parse(&bytes) {
            Ok(parsed) => {
                for w in &parsed.warnings {
                    warn!(file = %self.label, "custom resource state configuration: {w}");
                }
                shared.telemetry.set_config_status(
                    CONFIG_KIND,
                    &self.label,
                    Some(config_hash(&bytes)),
                );
                info!(file = %self.label, resources = parsed.config.resources().len(), "custom resource state configuration loaded; replacing custom resource stores");
                shared.reload(Arc::new(parsed.config));
            }
            Err(e) => {
                error!(file = %self.label, error = %e, "invalid custom resource state configuration; keeping the previous one");
                shared
                    .telemetry
                    .set_config_status(CONFIG_KIND, &self.label, None);
            }
        }
        self.last = Some(bytes);
    }
}

pub(super) fn parse(
    bytes: &[u8],
) -> Result<kubestate_customstate::ParsedConfig, kubestate_customstate::CustomConfigError> {
    let text = String::from_utf8_lossy(bytes);
    CustomConfig::parse(&text)
}

/// KSM's configuration hash: the first 6 bytes of the MD5 of the file, read as a
/// little-endian integer (exact in a float64).
pub fn config_hash(data: &[u8]) -> f64 {
    use md5::{Digest, Md5};
    let sum = Md5::digest(data);
    let mut buf = [0u8; 8];
    buf[..6].copy_from_slice(&sum[..6]);
    u64::from_le_bytes(buf) as f64
}

/// Go's `filepath.Clean` on a Unix path: one slash between elements, no `.` elements, `..`
/// resolved where possible, `.` for an empty result. KSM labels its configuration reload
/// gauges with the file name cleaned this way.
pub fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_hash_is_ksms() {
        // md5("") = d41d8cd98f00…, md5("abc") = 900150983cd2…: first 6 bytes, little-endian.
        assert_eq!(config_hash(b""), 0x008f_d98c_1dd4_u64 as f64);
        assert_eq!(config_hash(b"abc"), 0xd23c_9850_0190_u64 as f64);
    }

    #[test]
    fn paths_are_cleaned_like_go() {
        assert_eq!(go_clean("/etc//ksm/./crs.yaml"), "/etc/ksm/crs.yaml");
        assert_eq!(go_clean("a/b/../c/"), "a/c");
        assert_eq!(go_clean("../x"), "../x");
        assert_eq!(go_clean("/../x"), "/x");
        assert_eq!(go_clean(""), ".");
    }
}
