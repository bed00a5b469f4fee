//! Logging: `-v` levels, klog's output flags (`--logtostderr`, `--log_file`, `--log_dir`,
//! thresholds, headers) and `--log-format`, turned into `tracing` subscribers.
//!
//! `-v` maps onto levels as follows (RUST_LOG, in tracing's filter syntax, replaces the
//! mapping when set):
//!
//! | `-v`  | kubestate's own logs (`kubestate*` targets) | libraries (HTTP, TLS, Kubernetes client) |
//! |-------|----------------------------------------------|------------------------------------------|
//! | 0–1   | info                                         | info                                     |
//! | 2–3   | debug                                        | info                                     |
//! | 4–5   | trace                                        | info                                     |
//! | 6–7   | trace                                        | debug                                    |
//! | 8+    | trace                                        | trace                                    |
//!
//! Outputs, as klog decides them: standard error unless `--logtostderr=false`; a file when
//! `--log_file` (or `--log_dir`, as `DIR/kubestate.log`) is given, written whether or not
//! `--logtostderr` is set (KSM would ignore the file then; kubestate writes both).
//! Standard error gets the severities at or above `--stderrthreshold` (KSM sets INFO; with
//! `--logtostderr=false` it defaults to ERROR, so the file alone gets the rest), or at or
//! above `--alsologtostderrthreshold` with `--alsologtostderr`. Text carries ANSI colours only
//! when standard error is a terminal; files never do.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, FilterExt as _, LevelFilter};
use tracing_subscriber::layer::{Layer, SubscriberExt as _};
use tracing_subscriber::registry::Registry;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::options::ExporterOptions;

/// klog's severities (`INFO`, `WARNING`, `ERROR`, `FATAL`, any case, or `0`–`3`) as the
/// lowest tracing level they let through.
pub fn parse_severity(s: &str) -> Option<Level> {
    match s.trim().to_ascii_uppercase().as_str() {
        "INFO" | "0" => Some(Level::TRACE),
        "WARNING" | "1" => Some(Level::WARN),
        "ERROR" | "2" | "FATAL" | "3" => Some(Level::ERROR),
        _ => None,
    }
}

/// The default filter directives for verbosity `v` (see the [module docs](self)).
pub fn directives(v: u8) -> String {
    let (own, libraries) = match v {
        0 | 1 => ("info", "info"),
        2 | 3 => ("debug", "info"),
        4 | 5 => ("trace", "info"),
        6 | 7 => ("trace", "debug"),
        _ => ("trace", "trace"),
    };
    // A target directive matches by prefix: `kubestate` covers exactly the workspace's crates
    // (kubestate, kubestate_engine, ...), and nothing else starts with it.
    let mut d = format!("{libraries},kubestate={own}");
    if v < 6 {
        // kube's client logs an ERROR for every 5xx answer; the watch loop already logs each
        // failing resource, summarized once a minute at WARN. Shown again from -v=6.
        d.push_str(",kube_client::client::builder=off");
    }
    d
}

/// The filter: RUST_LOG when set and valid, else [`directives`] for `v`. A RUST_LOG that does
/// not parse is reported (returned as the second value) and the default is used.
pub fn filter(v: u8) -> (EnvFilter, Option<String>) {
    match std::env::var("RUST_LOG") {
        Ok(s) if !s.trim().is_empty() => match EnvFilter::try_new(&s) {
            Ok(f) => (f, None),
            Err(e) => (
                EnvFilter::new(directives(v)),
                Some(format!(
                    "RUST_LOG={s:?} is not a valid filter ({e}); using -v={v}"
                )),
            ),
        },
        _ => (EnvFilter::new(directives(v)), None),
    }
}

/// Where and how logs are written, from the options.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    /// `-v`.
    pub verbosity: u8,
    /// JSON lines instead of text.
    pub json: bool,
    /// Lowest level written to standard error; `None`: nothing goes to standard error.
    pub stderr_threshold: Option<Level>,
    /// The log file, if any.
    pub file: Option<PathBuf>,
    /// Rotate the file at this many bytes (0: never).
    pub file_max_bytes: u64,
    /// Leave out time, level and target (`--skip_headers`).
    pub skip_headers: bool,
    /// Add source file and line (`--add_dir_header`).
    pub source_location: bool,
}

impl LogSettings {
    /// Reads the log flags.
    ///
    /// # Errors
    /// An invalid severity or format, naming the flag.
    pub fn from_options(o: &ExporterOptions) -> Result<LogSettings, String> {
        let severity = |flag: &str, v: &str, default: Level| -> Result<Level, String> {
            if v.is_empty() {
                return Ok(default);
            }
            parse_severity(v).ok_or_else(|| {
                format!("--{flag}: {v:?} is not a severity (INFO, WARNING, ERROR, FATAL or 0-3)")
            })
        };
        let json = match o.log_format.as_str() {
            "text" => false,
            "json" => true,
            other => return Err(format!("--log-format: {other:?} is not one of text, json")),
        };
        let file = if !o.log_file.is_empty() {
            Some(PathBuf::from(&o.log_file))
        } else if !o.log_dir.is_empty() {
            Some(Path::new(&o.log_dir).join("kubestate.log"))
        } else {
            None
        };
        let stderr_threshold = if o.logtostderr {
            if o.legacy_stderr_threshold_behavior {
                Some(Level::TRACE)
            } else {
                Some(severity(
                    "stderrthreshold",
                    &o.stderrthreshold,
                    Level::TRACE,
                )?)
            }
        } else if file.is_none() {
            // Nowhere else to write: klog would fall back to a temporary directory; keep
            // standard error rather than lose the logs.
            Some(Level::TRACE)
        } else if o.alsologtostderr {
            Some(severity(
                "alsologtostderrthreshold",
                &o.alsologtostderrthreshold,
                Level::TRACE,
            )?)
        } else {
            Some(severity(
                "stderrthreshold",
                &o.stderrthreshold,
                Level::ERROR,
            )?)
        };
        Ok(LogSettings {
            verbosity: o.verbosity,
            json,
            stderr_threshold,
            file,
            file_max_bytes: o.log_file_max_size.saturating_mul(1024 * 1024),
            skip_headers: o.skip_headers,
            source_location: o.add_dir_header,
        })
    }

    /// Installs the global subscriber.
    ///
    /// # Errors
    /// The log file cannot be opened (the message names it), or a subscriber is already set.
    pub fn init(&self) -> Result<(), String> {
        let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = Vec::new();
        let mut notes = Vec::new();
        if let Some(threshold) = self.stderr_threshold {
            let (env, note) = filter(self.verbosity);
            notes.extend(note);
            let ansi = std::io::stderr().is_terminal();
            let layer = self.format_layer(std::io::stderr, ansi);
            // Lower severities are more verbose: TRACE lets everything through.
            layers.push(
                layer
                    .with_filter(env.and(LevelFilter::from_level(threshold)))
                    .boxed(),
            );
        }
        if let Some(path) = &self.file {
            let file = LogFile::open(path, self.file_max_bytes)?;
            let (env, _) = filter(self.verbosity);
            layers.push(self.format_layer(file, false).with_filter(env).boxed());
        }
        tracing_subscriber::registry()
            .with(layers)
            .try_init()
            .map_err(|e| format!("installing the log subscriber: {e}"))?;
        for n in notes {
            tracing::warn!("{n}");
        }
        Ok(())
    }

    fn format_layer<W>(&self, writer: W, ansi: bool) -> Box<dyn Layer<Registry> + Send + Sync>
    where
        W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
    {
        let base = tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(ansi)
            .with_file(self.source_location)
            .with_line_number(self.source_location)
            .with_level(!self.skip_headers)
            .with_target(!self.skip_headers);
        match (self.json, self.skip_headers) {
            (true, false) => base.json().boxed(),
            (true, true) => base.json().without_time().boxed(),
            (false, false) => base.boxed(),
            (false, true) => base.without_time().boxed(),
        }
    }
}

/// Flags accepted for KSM compatibility that change nothing in kubestate, and why.
const INEFFECTIVE: &[(&str, &str)] = &[
    (
        "log_backtrace_at",
        "kubestate has no Go stack traces; RUST_BACKTRACE=1 prints backtraces of panics",
    ),
    (
        "vmodule",
        "per-file levels are Go-specific; use RUST_LOG (e.g. RUST_LOG=info,kubestate_watch=debug)",
    ),
    (
        "one_output",
        "kubestate writes one log file, not one per severity",
    ),
    (
        "skip_log_headers",
        "kubestate writes no header when it opens a log file",
    ),
    (
        "auto-gomemlimit",
        "it tunes the Go runtime; kubestate has no garbage collector to limit",
    ),
    (
        "auto-gomemlimit-ratio",
        "it tunes the Go runtime; kubestate has no garbage collector to limit",
    ),
];

/// The flags that are accepted for KSM compatibility but change nothing in kubestate, as
/// `(flag, why)`, for those set to something other than their default.
pub fn ineffective_flags(o: &ExporterOptions) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = o
        .changed()
        .into_iter()
        .filter_map(|(flag, _)| {
            INEFFECTIVE
                .iter()
                .find(|(f, _)| *f == flag)
                .map(|(f, why)| (format!("--{f}"), *why))
        })
        .collect();
    if !o.alsologtostderr_effective() {
        out.push((
            "--alsologtostderr".to_string(),
            "it only matters with --logtostderr=false and a log file",
        ));
    }
    out
}

impl ExporterOptions {
    /// Whether `--alsologtostderr` is unset or has an effect.
    fn alsologtostderr_effective(&self) -> bool {
        !self.alsologtostderr
            || (!self.logtostderr && (!self.log_file.is_empty() || !self.log_dir.is_empty()))
    }
}

/// Logs one warning for each flag in [`ineffective_flags`], naming it.
pub fn warn_ineffective(o: &ExporterOptions) {
    for (flag, why) in ineffective_flags(o) {
        tracing::warn!(flag = %flag, "{flag} has no effect in kubestate: {why}");
    }
}

/// A log file, rotated to `NAME.1` when it would grow past its limit.
#[derive(Debug)]
struct LogFile {
    path: PathBuf,
    max_bytes: u64,
    state: Mutex<(std::fs::File, u64)>,
}

impl LogFile {
    fn open(path: &Path, max_bytes: u64) -> Result<Arc<LogFile>, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!("--log_file/--log_dir: cannot create {}: {e}", dir.display())
            })?;
        }
        let file = Self::append(path)?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Arc::new(LogFile {
            path: path.to_path_buf(),
            max_bytes,
            state: Mutex::new((file, len)),
        }))
    }

    fn append(path: &Path) -> Result<std::fs::File, String> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("--log_file/--log_dir: cannot open {}: {e}", path.display()))
    }
}

impl std::io::Write for &LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut state = self.state.lock();
        if self.max_bytes > 0 && state.1 > 0 && state.1 + buf.len() as u64 > self.max_bytes {
            let mut rotated = self.path.clone().into_os_string();
            rotated.push(".1");
            std::fs::rename(&self.path, &rotated)?;
            state.0 = LogFile::append(&self.path).map_err(std::io::Error::other)?;
            state.1 = 0;
        }
        state.0.write_all(buf)?;
        state.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.state.lock().0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn enabled_under(directives: &str) -> (bool, bool, bool) {
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::sink)
                .with_filter(EnvFilter::new(directives)),
        );
        tracing::subscriber::with_default(subscriber, || {
            (
                tracing::event_enabled!(target: "kubestate_engine::feed", Level::DEBUG),
                tracing::event_enabled!(target: "kubestate", Level::DEBUG),
                tracing::event_enabled!(target: "kube_client::client", Level::DEBUG),
            )
        })
    }

    #[test]
    fn verbosity_reaches_kubestate_targets_only() {
        // -v=0: nobody's debug logs.
        assert_eq!(enabled_under(&directives(0)), (false, false, false));
        // -v=2: kubestate's debug logs, not the Kubernetes client's (the old filter's
        // `kube=info` also matched every kubestate_* target by prefix).
        assert_eq!(enabled_under(&directives(2)), (true, true, false));
        // -v=6: the libraries' debug logs too.
        assert_eq!(enabled_under(&directives(6)), (true, true, true));
    }

    #[test]
    fn severities() {
        assert_eq!(parse_severity("info"), Some(Level::TRACE));
        assert_eq!(parse_severity("WARNING"), Some(Level::WARN));
        assert_eq!(parse_severity("2"), Some(Level::ERROR));
        assert_eq!(parse_severity("loud"), None);
    }

    #[test]
    fn outputs_follow_klog_flags() {
        let s = |args: &[&str]| {
            LogSettings::from_options(&ExporterOptions::parse_args(args).unwrap()).unwrap()
        };
        let d = s(&[]);
        assert_eq!(
            (d.stderr_threshold, d.file.clone()),
            (Some(Level::TRACE), None)
        );
        let f = s(&["--log_file=/tmp/x.log", "--logtostderr=false"]);
        assert_eq!(f.file.as_deref(), Some(Path::new("/tmp/x.log")));
        assert_eq!(f.stderr_threshold, Some(Level::ERROR));
        let a = s(&[
            "--log_dir=/tmp/d",
            "--logtostderr=false",
            "--alsologtostderr",
        ]);
        assert_eq!(a.file.as_deref(), Some(Path::new("/tmp/d/kubestate.log")));
        assert_eq!(a.stderr_threshold, Some(Level::TRACE));
        let t = s(&["--stderrthreshold=WARNING"]);
        assert_eq!(t.stderr_threshold, Some(Level::WARN));
        let l = s(&[
            "--stderrthreshold=WARNING",
            "--legacy_stderr_threshold_behavior",
        ]);
        assert_eq!(l.stderr_threshold, Some(Level::TRACE));
        assert_eq!(s(&["--log_file_max_size=2"]).file_max_bytes, 2 << 20);
        for bad in ["--stderrthreshold=LOUD", "--log-format=yaml"] {
            let o = ExporterOptions::parse_args([bad]).unwrap();
            let flag = bad.split('=').next().unwrap();
            let e = o.check_supported().unwrap_err().to_string();
            assert!(e.starts_with(flag), "{e}");
            assert!(LogSettings::from_options(&o).unwrap_err().contains(flag));
        }
    }

    #[test]
    fn log_file_rotates_at_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.log");
        let f = LogFile::open(&path, 10).unwrap();
        (&*f).write_all(b"12345678\n").unwrap();
        (&*f).write_all(b"abcdef\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "abcdef\n");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("k.log.1")).unwrap(),
            "12345678\n"
        );
    }
}
