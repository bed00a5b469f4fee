//! The `file` sink: every run is written as one OpenMetrics file
//! (`<directory>/<prefix>-<unix ms>.om`), written aside and renamed into place, and only the
//! newest `keep` files are kept.
//!
//! Series are grouped by metric name (OpenMetrics wants a family's samples together; an
//! aggregation's rows come at the end of a run), typed `gauge` as every check output is, and
//! stamped with the run's timestamp in seconds, so the files can be imported as they are
//! (`promtool tsdb create-blocks-from openmetrics`). Names are made Prometheus-safe
//! (`kubernetes_state.pod.count` → `kubernetes_state_pod_count`) unless `sanitize_names` is
//! false; a key with several values keeps its first one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use kubestate_check::{OutSeries, RunStats};
use serde::Deserialize;
use tracing::{debug, warn};

use crate::{is_label_name, prometheus_name, Sent, Sink, SinkError};

fn default_prefix() -> String {
    "kubestate-check".into()
}

const fn default_keep() -> usize {
    5
}

const fn yes() -> bool {
    true
}

/// Settings of the `file` sink.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Directory of the snapshot files (created if missing).
    pub directory: PathBuf,
    /// File name prefix.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// How many files to keep (the newest); at least 1.
    #[serde(default = "default_keep")]
    pub keep: usize,
    /// Make metric and label names Prometheus-safe.
    #[serde(default = "yes")]
    pub sanitize_names: bool,
}

/// Writes one OpenMetrics file per run.
pub struct File {
    config: FileConfig,
    timestamp_ms: i64,
    /// Metric name → index in `families`.
    index: ahash_free::Index,
    families: Vec<(String, Vec<u8>)>,
    series: u64,
    name: String,
    labels: Vec<(String, String)>,
    dedup: Vec<(usize, usize)>,
}

/// A tiny name → position map (std `HashMap`, so no extra dependency).
mod ahash_free {
    use std::collections::HashMap;

    #[derive(Default)]
    pub struct Index(HashMap<String, usize>);

    impl Index {
        pub fn get_or_insert(&mut self, name: &str, next: usize) -> (usize, bool) {
            if let Some(i) = self.0.get(name) {
                return (*i, false);
            }
            self.0.insert(name.to_string(), next);
            (next, true)
        }

        pub fn clear(&mut self) {
            self.0.clear();
        }
    }
}

impl File {
    /// A file sink for `config`.
    ///
    /// # Errors
    /// `keep` is 0 or the prefix contains a path separator.
    pub fn new(config: &FileConfig) -> Result<File, SinkError> {
        if config.keep == 0 {
            return Err(SinkError::Config {
                sink: "file",
                message: "keep must be at least 1".into(),
            });
        }
        if config.prefix.is_empty() || config.prefix.contains(['/', '\\']) {
            return Err(SinkError::Config {
                sink: "file",
                message: format!(
                    "prefix {:?} must be a plain, non-empty file name part",
                    config.prefix
                ),
            });
        }
        Ok(File {
            config: config.clone(),
            timestamp_ms: 0,
            index: ahash_free::Index::default(),
            families: Vec::new(),
            series: 0,
            name: String::new(),
            labels: Vec::new(),
            dedup: Vec::new(),
        })
    }

    fn path(&self, ts: i64, tmp: bool) -> PathBuf {
        let name = format!(
            "{}-{:013}.om{}",
            self.config.prefix,
            ts.max(0),
            if tmp { ".tmp" } else { "" }
        );
        self.config.directory.join(name)
    }

    /// The snapshot files currently kept, oldest first.
    ///
    /// # Errors
    /// The directory cannot be listed.
    pub fn kept(directory: &Path, prefix: &str) -> std::io::Result<Vec<PathBuf>> {
        let want = format!("{prefix}-");
        let mut files: Vec<PathBuf> = std::fs::read_dir(directory)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&want) && n.ends_with(".om"))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    fn write(&mut self) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.config.directory)?;
        let tmp = self.path(self.timestamp_ms, true);
        let done = self.path(self.timestamp_ms, false);
        {
            let f = std::fs::File::create(&tmp)?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            for (name, lines) in &self.families {
                writeln!(w, "# TYPE {name} gauge")?;
                w.write_all(lines)?;
            }
            w.write_all(b"# EOF\n")?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&tmp, &done)?;
        let files = File::kept(&self.config.directory, &self.config.prefix)?;
        let excess = files.len().saturating_sub(self.config.keep);
        for old in &files[..excess] {
            if let Err(e) = std::fs::remove_file(old) {
                warn!(file = %old.display(), error = %e, "could not remove an old check snapshot");
            }
        }
        Ok(done)
    }
}

impl Sink for File {
    fn name(&self) -> &'static str {
        "file"
    }

    fn begin(&mut self, timestamp_ms: i64) {
        self.timestamp_ms = timestamp_ms;
        self.index.clear();
        self.families.clear();
        self.series = 0;
    }

    fn series(&mut self, s: &OutSeries<'_>) {
        if self.config.sanitize_names {
            prometheus_name(s.name, &mut self.name);
        } else {
            self.name.clear();
            self.name.push_str(s.name);
        }
        let (i, new) = self.index.get_or_insert(&self.name, self.families.len());
        if new {
            self.families.push((self.name.clone(), Vec::new()));
        }
        // One value per key (the first), keys sorted; invalid keys sanitised.
        self.dedup.clear();
        self.dedup.extend((0..s.labels.len()).map(|j| (j, 0)));
        self.dedup
            .sort_by(|a, b| s.labels[a.0].0.cmp(s.labels[b.0].0));
        self.dedup
            .dedup_by(|b, a| s.labels[a.0].0 == s.labels[b.0].0);
        self.labels.clear();
        for &(j, _) in &self.dedup {
            let (k, v) = s.labels[j];
            let key = if self.config.sanitize_names && !is_label_name(k) {
                let mut x = String::new();
                prometheus_name(k, &mut x);
                x.replace(':', "_")
            } else {
                k.to_string()
            };
            self.labels.push((key, v.to_string()));
        }
        let out = &mut self.families[i].1;
        out.extend_from_slice(self.name.as_bytes());
        if !self.labels.is_empty() {
            out.push(b'{');
            for (n, (k, v)) in self.labels.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(b"=\"");
                kubestate_metric::write_label_value(out, v);
                out.push(b'"');
            }
            out.push(b'}');
        }
        out.push(b' ');
        kubestate_metric::write_float(out, s.value);
        out.push(b' ');
        let ts = s.timestamp_ms;
        out.extend_from_slice(itoa::Buffer::new().format(ts.div_euclid(1000)).as_bytes());
        out.push(b'.');
        let ms = ts.rem_euclid(1000);
        out.extend_from_slice(format!("{ms:03}").as_bytes());
        out.push(b'\n');
        self.series += 1;
    }

    fn finish(&mut self, _stats: &RunStats) -> Result<Sent, SinkError> {
        let path = self.write().map_err(|source| SinkError::Io {
            path: self.path(self.timestamp_ms, false).display().to_string(),
            source,
        })?;
        debug!(file = %path.display(), series = self.series, "check snapshot written");
        let sent = Sent {
            series: self.series,
            dropped: 0,
        };
        self.families.clear();
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubestate_metric::parse::{parse_families, Syntax};

    #[test]
    fn writes_parseable_openmetrics_and_keeps_the_newest_files() {
        let dir = tempfile::tempdir().unwrap();
        let config = FileConfig {
            directory: dir.path().join("out"),
            prefix: "snap".into(),
            keep: 2,
            sanitize_names: true,
        };
        let mut f = File::new(&config).unwrap();
        for run in 0..4i64 {
            let ts = 1_700_000_000_123 + run * 15_000;
            f.begin(ts);
            f.series(&OutSeries {
                name: "kubernetes_state.pod.count",
                labels: &[("ns", "a\"b"), ("ns", "c")],
                value: 2.0,
                timestamp_ms: ts,
            });
            f.series(&OutSeries {
                name: "other",
                labels: &[],
                value: 0.5,
                timestamp_ms: ts,
            });
            f.series(&OutSeries {
                name: "kubernetes_state.pod.count",
                labels: &[("ns", "d"), ("bad.key", "x")],
                value: 1.0,
                timestamp_ms: ts,
            });
            assert_eq!(f.finish(&RunStats::default()).unwrap().series, 3);
        }
        let kept = File::kept(&config.directory, "snap").unwrap();
        assert_eq!(kept.len(), 2);
        assert!(kept[1].to_string_lossy().ends_with("snap-1700000045123.om"));
        let text = std::fs::read_to_string(&kept[1]).unwrap();
        assert_eq!(
            text,
            "# TYPE kubernetes_state_pod_count gauge\nkubernetes_state_pod_count{ns=\"a\\\"b\"} 2 1700000045.123\nkubernetes_state_pod_count{bad_key=\"x\",ns=\"d\"} 1 1700000045.123\n# TYPE other gauge\nother 0.5 1700000045.123\n# EOF\n"
        );
        let fams = parse_families(&text, Syntax::OpenMetrics).unwrap();
        assert_eq!(fams[0].samples[0].timestamp_ms, Some(1_700_000_045_123));
        assert!(File::new(&FileConfig {
            keep: 0,
            ..config.clone()
        })
        .is_err());
    }

    #[test]
    fn an_unwritable_directory_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let mut f = File::new(&FileConfig {
            directory: blocker.join("sub"),
            prefix: "p".into(),
            keep: 1,
            sanitize_names: true,
        })
        .unwrap();
        f.begin(1);
        f.series(&OutSeries {
            name: "a",
            labels: &[],
            value: 1.0,
            timestamp_ms: 1,
        });
        let e = f.finish(&RunStats::default()).unwrap_err();
        assert!(e.to_string().contains("writing"), "{e}");
    }
}
