//! The `file` sink: every run is written as one OpenMetrics file
//! (`<directory>/<prefix>-<unix ms>.om`, or `.om.gz` with `compression: gzip`), written
//! aside, synced and renamed into place. Retention, checked after every write: at most
//! `keep` files, none older than `max_age` (by the run time in its name), at most
//! `max_bytes` in all; the newest file is always kept. Without `max_age` or `max_bytes`,
//! `keep` defaults to 5; with either, it is unlimited unless set.
//!
//! Series are grouped by metric name (OpenMetrics wants a family's samples together; an
//! aggregation's rows come at the end of a run), typed `gauge` as every check output is, and
//! stamped with the run's timestamp in seconds, so the files can be imported as they are
//! (`promtool tsdb create-blocks-from openmetrics`). Names are made Prometheus-safe
//! (`kubernetes_state.pod.count` → `kubernetes_state_pod_count`) unless `sanitize_names` is
//! false; a key with several values keeps its first one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kubestate_check::{OutSeries, RunStats};
use serde::{Deserialize, Deserializer};
use tracing::{debug, warn};

use crate::{is_label_name, prometheus_name, Sent, Sink, SinkError};

fn default_prefix() -> String {
    "kubestate-check".into()
}

/// `keep` when no other bound is set.
pub const DEFAULT_KEEP: usize = 5;

const fn yes() -> bool {
    true
}

/// How the files are compressed.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileCompression {
    /// Plain text (`.om`).
    #[default]
    None,
    /// Gzip (`.om.gz`), one member per file.
    Gzip,
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
    /// How many files to keep at most (the newest); at least 1. Default: 5 without
    /// `max_age` and `max_bytes`, unlimited with either.
    #[serde(default)]
    pub keep: Option<usize>,
    /// Files whose run is older than this are removed (e.g. `168h`, `36h`).
    #[serde(default, deserialize_with = "opt_duration")]
    pub max_age: Option<Duration>,
    /// The files together stay under this size (bytes, or with a unit: `500MiB`, `2GB`);
    /// the oldest are removed first.
    #[serde(default, deserialize_with = "opt_bytes")]
    pub max_bytes: Option<u64>,
    /// `none` (the default) or `gzip`.
    #[serde(default)]
    pub compression: FileCompression,
    /// Make metric and label names Prometheus-safe.
    #[serde(default = "yes")]
    pub sanitize_names: bool,
}

impl FileConfig {
    /// Settings with every default for `directory`.
    pub fn new(directory: impl Into<PathBuf>) -> FileConfig {
        FileConfig {
            directory: directory.into(),
            prefix: default_prefix(),
            keep: None,
            max_age: None,
            max_bytes: None,
            compression: FileCompression::None,
            sanitize_names: true,
        }
    }

    /// The bound on the number of files in effect.
    pub fn keep(&self) -> usize {
        match self.keep {
            Some(k) => k,
            None if self.max_age.is_none() && self.max_bytes.is_none() => DEFAULT_KEEP,
            None => usize::MAX,
        }
    }
}

fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    kubestate_check::config::deserialize_duration(d).map(Some)
}

fn opt_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        N(u64),
        S(String),
    }
    match Size::deserialize(d)? {
        Size::N(n) => Ok(Some(n)),
        Size::S(s) => parse_bytes(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

/// A size: a number of bytes, optionally followed by a unit (`B`, `KB`, `MB`, `GB`, `TB`
/// in powers of 1000, `KiB`, `MiB`, `GiB`, `TiB` in powers of 1024).
///
/// # Errors
/// What is wrong with it.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (a number of bytes, or e.g. 500MiB, 2GB)"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        u => {
            return Err(format!(
                "{s:?}: unknown unit {u:?} (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            ))
        }
    };
    Ok((n * mult as f64) as u64)
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

/// The run time (unix ms) in a snapshot file's name `<prefix>-<ms>.om[.gz]`.
fn run_time(name: &str, prefix: &str) -> Option<i64> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
    let digits = rest
        .strip_suffix(".om")
        .or_else(|| rest.strip_suffix(".om.gz"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
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
    /// `keep`, `max_age` or `max_bytes` is 0, or the prefix contains a path separator.
    pub fn new(config: &FileConfig) -> Result<File, SinkError> {
        let bad = |message: &str| SinkError::Config {
            sink: "file",
            message: message.into(),
        };
        if config.keep == Some(0) {
            return Err(bad("keep must be at least 1"));
        }
        if config.max_age == Some(Duration::ZERO) {
            return Err(bad("max_age must be longer than 0s"));
        }
        if config.max_bytes == Some(0) {
            return Err(bad("max_bytes must be at least 1"));
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
            "{}-{:013}.om{}{}",
            self.config.prefix,
            ts.max(0),
            match self.config.compression {
                FileCompression::None => "",
                FileCompression::Gzip => ".gz",
            },
            if tmp { ".tmp" } else { "" }
        );
        self.config.directory.join(name)
    }

    /// The snapshot files currently kept (`.om` and `.om.gz`), oldest first.
    ///
    /// # Errors
    /// The directory cannot be listed.
    pub fn kept(directory: &Path, prefix: &str) -> std::io::Result<Vec<PathBuf>> {
        let mut files: Vec<(i64, PathBuf)> = std::fs::read_dir(directory)?
            .flatten()
            .map(|e| e.path())
            .filter_map(|p| {
                let ts = p.file_name()?.to_str().and_then(|n| run_time(n, prefix))?;
                Some((ts, p))
            })
            .collect();
        files.sort();
        Ok(files.into_iter().map(|(_, p)| p).collect())
    }

    fn write(&mut self) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.config.directory)?;
        let tmp = self.path(self.timestamp_ms, true);
        let done = self.path(self.timestamp_ms, false);
        {
            let f = std::fs::File::create(&tmp)?;
            let w = std::io::BufWriter::with_capacity(1 << 20, f);
            let f = match self.config.compression {
                FileCompression::None => self.write_body(w)?,
                FileCompression::Gzip => {
                    let gz = flate2::write::GzEncoder::new(w, flate2::Compression::new(6));
                    self.write_body(gz)?.finish()?
                }
            };
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&tmp, &done)?;
        self.retain()?;
        Ok(done)
    }

    fn write_body<W: std::io::Write>(&self, mut w: W) -> std::io::Result<W> {
        for (name, lines) in &self.families {
            writeln!(w, "# TYPE {name} gauge")?;
            w.write_all(lines)?;
        }
        w.write_all(b"# EOF\n")?;
        Ok(w)
    }

    /// Removes the oldest files beyond `keep`, older than `max_age` (before this run's
    /// time) or beyond `max_bytes`; never the newest.
    fn retain(&self) -> std::io::Result<()> {
        let files = File::kept(&self.config.directory, &self.config.prefix)?;
        let Some((_, older)) = files.split_last() else {
            return Ok(());
        };
        let mut remove = vec![false; older.len()];
        let excess = files.len().saturating_sub(self.config.keep());
        remove[..excess.min(older.len())].fill(true);
        if let Some(age) = self.config.max_age {
            let oldest_kept = self.timestamp_ms - age.as_millis() as i64;
            for (i, p) in older.iter().enumerate() {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if run_time(name, &self.config.prefix).is_some_and(|t| t < oldest_kept) {
                    remove[i] = true;
                }
            }
        }
        if let Some(max) = self.config.max_bytes {
            let size = |p: &PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
            let mut total: u64 = files.iter().map(size).sum();
            for (i, p) in older.iter().enumerate() {
                if total <= max {
                    break;
                }
                total = total.saturating_sub(size(p));
                remove[i] = true;
            }
        }
        for (old, _) in older.iter().zip(&remove).filter(|(_, r)| **r) {
            if let Err(e) = std::fs::remove_file(old) {
                warn!(file = %old.display(), error = %e, "could not remove an old check snapshot");
            }
        }
        Ok(())
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
            queued: 0,
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
            prefix: "snap".into(),
            keep: Some(2),
            ..FileConfig::new(dir.path().join("out"))
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
            keep: Some(0),
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
            prefix: "p".into(),
            keep: Some(1),
            ..FileConfig::new(blocker.join("sub"))
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

    /// Writes one run of `n` series at `ts`.
    fn run(f: &mut File, ts: i64, n: usize) {
        f.begin(ts);
        for i in 0..n {
            let v = i.to_string();
            f.series(&OutSeries {
                name: "m",
                labels: &[("i", &v)],
                value: i as f64,
                timestamp_ms: ts,
            });
        }
        f.finish(&RunStats::default()).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        File::kept(dir, "p")
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn retention_by_age_size_and_count_never_removes_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let minute = 60_000;
        let mut f = File::new(&FileConfig {
            prefix: "p".into(),
            max_age: Some(Duration::from_secs(150)),
            ..FileConfig::new(dir.path())
        })
        .unwrap();
        // Another prefix and stray files are left alone.
        std::fs::write(dir.path().join("q-0000000000001.om"), "x").unwrap();
        std::fs::write(dir.path().join("p-notatime.om"), "x").unwrap();
        for r in 0..6 {
            run(&mut f, 1_000 * minute + r * minute, 3);
        }
        // Runs at minutes 3, 4, 5 are within 150 s of minute 5 (minute 2.5 and later).
        assert_eq!(
            names(dir.path()),
            [
                "p-0000060180000.om",
                "p-0000060240000.om",
                "p-0000060300000.om"
            ]
        );
        assert!(dir.path().join("q-0000000000001.om").exists());
        assert!(dir.path().join("p-notatime.om").exists());

        // By size: each file of 20 series is the same size; room for two and a half.
        let one = std::fs::metadata(File::kept(dir.path(), "p").unwrap()[0].clone())
            .unwrap()
            .len();
        let dir = tempfile::tempdir().unwrap();
        let mut f = File::new(&FileConfig {
            prefix: "p".into(),
            max_bytes: Some(one * 5 / 2),
            ..FileConfig::new(dir.path())
        })
        .unwrap();
        for r in 0..5 {
            run(&mut f, 1_000 * minute + r * minute, 3);
        }
        assert_eq!(names(dir.path()).len(), 2);
        // A bound smaller than one file still keeps the newest.
        let mut f = File::new(&FileConfig {
            prefix: "p".into(),
            max_bytes: Some(1),
            keep: Some(10),
            ..FileConfig::new(dir.path())
        })
        .unwrap();
        run(&mut f, 2_000 * minute, 3);
        assert_eq!(names(dir.path()), ["p-0000120000000.om"]);
    }

    #[test]
    fn gzip_files_hold_the_same_text() {
        let dir = tempfile::tempdir().unwrap();
        let plain = FileConfig {
            prefix: "p".into(),
            ..FileConfig::new(dir.path().join("plain"))
        };
        let gz = FileConfig {
            compression: FileCompression::Gzip,
            ..FileConfig::new(dir.path().join("gz"))
        };
        let gz = FileConfig {
            prefix: "p".into(),
            ..gz
        };
        for c in [&plain, &gz] {
            let mut f = File::new(c).unwrap();
            for r in 0..7 {
                run(&mut f, 1_700_000_000_000 + r * 1000, 500);
            }
        }
        let p = File::kept(&plain.directory, "p").unwrap();
        let g = File::kept(&gz.directory, "p").unwrap();
        assert_eq!((p.len(), g.len()), (DEFAULT_KEEP, DEFAULT_KEEP));
        assert!(g[4].to_string_lossy().ends_with("p-1700000006000.om.gz"));
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&g[4]).unwrap()),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, std::fs::read_to_string(&p[4]).unwrap());
        assert!(std::fs::metadata(&g[4]).unwrap().len() * 3 < text.len() as u64);
    }

    #[test]
    fn sizes_and_bounds_are_validated() {
        assert_eq!(parse_bytes("1024").unwrap(), 1024);
        assert_eq!(parse_bytes("500MiB").unwrap(), 500 << 20);
        assert_eq!(parse_bytes("1.5 GB").unwrap(), 1_500_000_000);
        assert!(parse_bytes("12 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_bytes("lots").is_err());
        let c: FileConfig = serde_yaml::from_str(
            "directory: /tmp/x\nmax_bytes: 2GiB\nmax_age: 168h\ncompression: gzip\n",
        )
        .unwrap();
        assert_eq!(c.max_bytes, Some(2 << 30));
        assert_eq!(c.max_age, Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(c.keep(), usize::MAX);
        assert_eq!(FileConfig::new("/x").keep(), DEFAULT_KEEP);
        let e = serde_yaml::from_str::<FileConfig>("directory: /x\ncompression: zstd\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("zstd") && e.contains("gzip"), "{e}");
        for bad in [
            FileConfig {
                max_age: Some(Duration::ZERO),
                ..FileConfig::new("/x")
            },
            FileConfig {
                max_bytes: Some(0),
                ..FileConfig::new("/x")
            },
        ] {
            assert!(File::new(&bad).is_err());
        }
    }
}
