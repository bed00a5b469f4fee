//! One differential run: a world served by the simulator to KSM (a child process) and to
//! kubestate (in-process, as `kubestate` would run), with the same flags; both scraped in the
//! text format and in OpenMetrics once KSM has settled, and compared family by family.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kubestate::options::ExporterOptions;
use kubestate_sim::{Sim, SimConfig, SimHandle, WorldSource};
use kubestate_testkit::http::get;
use kubestate_testkit::tools::{free_port, ChildGuard, TempDir};
use kubestate_testkit::{families, find_binary};
use serde_json::Value;

/// `Accept` of a text scrape.
pub const TEXT_ACCEPT: &str = "text/plain";
/// `Accept` of an OpenMetrics scrape.
pub const OM_ACCEPT: &str = "application/openmetrics-text;version=1.0.0";

/// The reference KSM binary (`$KSM_BIN`, `$GOPATH/bin`, `~/go/bin`, `PATH`), if installed.
pub fn find_ksm() -> Option<PathBuf> {
    let home = std::env::var("HOME").map(PathBuf::from).unwrap_or_default();
    let gopath = std::env::var("GOPATH")
        .map(PathBuf::from)
        .unwrap_or_else(|_| home.join("go"));
    find_binary("KSM_BIN", "kube-state-metrics", &[gopath.join("bin")])
}

/// Both exporters' bodies for one world.
#[derive(Clone, Debug, Default)]
pub struct Scrapes {
    /// KSM, text format.
    pub ksm_text: String,
    /// KSM, OpenMetrics.
    pub ksm_om: String,
    /// kubestate, text format.
    pub ours_text: String,
    /// kubestate, OpenMetrics.
    pub ours_om: String,
}

impl Scrapes {
    /// Samples compared: KSM's sample lines in both formats.
    pub fn samples(&self) -> usize {
        kubestate_testkit::tools::count_exposition(&self.ksm_text).1
            + kubestate_testkit::tools::count_exposition(&self.ksm_om).1
    }

    /// Every difference, in both formats.
    pub fn differences(&self) -> Vec<Difference> {
        let mut out = differences("text", &self.ksm_text, &self.ours_text);
        out.extend(differences("openmetrics", &self.ksm_om, &self.ours_om));
        out
    }
}

/// One differing line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// `text` or `openmetrics`.
    pub format: &'static str,
    /// The metric family (from its `# TYPE` line).
    pub family: String,
    /// `-` only KSM has the line, `+` only kubestate has it; `missing`/`unexpected` for a
    /// whole family (its TYPE line).
    pub side: &'static str,
    /// The sample line (or TYPE line).
    pub line: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {} {}", self.format, self.side, self.line)
    }
}

/// The differences between KSM's body `expected` and kubestate's `actual`: TYPE lines as a
/// set, samples as sorted multisets per family.
pub fn differences(format: &'static str, expected: &str, actual: &str) -> Vec<Difference> {
    let name_of = |t: &str| t.split(' ').nth(2).unwrap_or("").to_string();
    let e = families(expected);
    let a = families(actual);
    let mut out = Vec::new();
    for (k, ev) in &e {
        let Some(av) = a.get(k) else {
            out.push(Difference {
                format,
                family: name_of(k),
                side: "missing",
                line: k.clone(),
            });
            continue;
        };
        let (mut i, mut j) = (0, 0);
        while i < ev.len() || j < av.len() {
            match (ev.get(i), av.get(j)) {
                (Some(x), Some(y)) if x == y => {
                    i += 1;
                    j += 1;
                }
                (Some(x), y) if y.is_none_or(|y| x < y) => {
                    out.push(Difference {
                        format,
                        family: name_of(k),
                        side: "-",
                        line: x.clone(),
                    });
                    i += 1;
                }
                (_, Some(y)) => {
                    out.push(Difference {
                        format,
                        family: name_of(k),
                        side: "+",
                        line: y.clone(),
                    });
                    j += 1;
                }
                _ => break,
            }
        }
    }
    for k in a.keys().filter(|k| !e.contains_key(*k)) {
        out.push(Difference {
            format,
            family: name_of(k),
            side: "unexpected",
            line: k.clone(),
        });
    }
    out
}

/// The objects as a world file.
pub fn world_file(objects: &[Value]) -> String {
    let mut s = String::from("{\"items\": [\n");
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            s.push_str(",\n");
        }
        s.push_str(&o.to_string());
    }
    s.push_str("\n]}\n");
    s
}

/// Starts the simulator on the world file `path`.
///
/// # Errors
/// The world is not accepted.
pub async fn start_sim(path: &Path) -> Result<SimHandle, String> {
    Sim::start(SimConfig {
        port: 0,
        world: WorldSource::File(path.to_path_buf()),
        ..SimConfig::default()
    })
    .await
    .map_err(|e| format!("sim: {e:#}"))
}

/// kubestate, in-process, with `flags` against `sim`: its text and OpenMetrics bodies once
/// every store has synced.
///
/// # Errors
/// Bad flags, or no sync within 60 s.
pub async fn scrape_ours(sim: &SimHandle, flags: &[String]) -> Result<(String, String), String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut opts = ExporterOptions::parse_args(flags.iter()).map_err(|e| e.to_string())?;
    opts.host = "127.0.0.1".into();
    opts.port = 0;
    opts.telemetry_host = "127.0.0.1".into();
    opts.telemetry_port = 0;
    let url = sim.base_url().parse().map_err(|e| format!("{e}"))?;
    let client = kube::Client::try_from(kube::Config::new(url)).map_err(|e| e.to_string())?;
    let ours = kubestate::exporter::start(&opts, client)
        .await
        .map_err(|e| format!("kubestate: {e:#}"))?;
    let synced = tokio::time::timeout(Duration::from_secs(60), ours.wait_synced()).await;
    let url = format!("http://{}/metrics", ours.metrics_addr);
    let result = async {
        synced.map_err(|_| "kubestate did not sync within 60 s".to_string())?;
        let text = get(&url, &[("Accept", TEXT_ACCEPT)], Duration::from_secs(60)).await?;
        let om = get(&url, &[("Accept", OM_ACCEPT)], Duration::from_secs(60)).await?;
        Ok((text.text(), om.text()))
    }
    .await;
    ours.stop().await;
    result
}

/// How many times KSM is given more time when its settled body still differs from
/// kubestate's (a resource whose list is slow under load looks settled for a moment).
pub const LATE_SYNC_RETRIES: usize = 3;

/// KSM at `ksm` with `flags` against `sim`: its text and OpenMetrics bodies once three
/// scrapes in a row agree (KSM has no readiness tied to its sync) and the text body is
/// `expected`, or, when it is not, after [`LATE_SYNC_RETRIES`] more settlings 2 s apart.
///
/// # Errors
/// KSM exits, or does not settle within 120 s.
pub async fn scrape_ksm(
    ksm: &Path,
    sim: &SimHandle,
    flags: &[String],
    dir: &Path,
    expected: &str,
) -> Result<(String, String), String> {
    let kubeconfig = dir.join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig)
        .map_err(|e| e.to_string())?;
    let port = free_port();
    let log = std::fs::File::create(dir.join("ksm.log")).map_err(|e| e.to_string())?;
    let mut child = ChildGuard(
        Command::new(ksm)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .arg("--host=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg("--telemetry-host=127.0.0.1")
            .arg(format!("--telemetry-port={}", free_port()))
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", ksm.display()))?,
    );
    let url = format!("http://127.0.0.1:{port}/metrics");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last: Option<String> = None;
    let mut same = 0;
    let mut retries = 0;
    loop {
        if let Some(st) = child.try_exit() {
            let log = std::fs::read_to_string(dir.join("ksm.log")).unwrap_or_default();
            // A Go panic names its cause on the `panic:` line and the culprit in the frames
            // after it; anything else ends the log.
            let shown: String = match log.find("panic:") {
                Some(i) => log[i..].lines().take(12).collect::<Vec<_>>().join("\n"),
                None => log.lines().take(3).collect::<Vec<_>>().join("\n"),
            };
            return Err(format!("KSM exited ({st}): {shown}"));
        }
        if Instant::now() > deadline {
            return Err("KSM did not settle within 120 s".into());
        }
        if let Ok(r) = get(&url, &[("Accept", TEXT_ACCEPT)], Duration::from_secs(30)).await {
            let body = r.text();
            if r.status == 200 && last.as_deref() == Some(body.as_str()) {
                same += 1;
                let agrees = || differences("text", &body, expected).is_empty();
                if same >= 2 && (retries >= LATE_SYNC_RETRIES || agrees()) {
                    let om = get(&url, &[("Accept", OM_ACCEPT)], Duration::from_secs(30))
                        .await?
                        .text();
                    return Ok((body, om));
                }
                if same >= 2 {
                    retries += 1;
                    same = 0;
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            } else {
                same = 0;
            }
            last = Some(body);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Serves `objects` to KSM and kubestate with the same `flags` and scrapes both.
///
/// # Errors
/// The simulator, KSM or kubestate failed.
pub async fn scrape_both(
    ksm: &Path,
    objects: &[Value],
    flags: &[String],
) -> Result<Scrapes, String> {
    let dir = TempDir::new("fuzz").map_err(|e| e.to_string())?;
    let world = dir.path().join("objects.json");
    std::fs::write(&world, world_file(objects)).map_err(|e| e.to_string())?;
    let sim = start_sim(&world).await?;
    let result = async {
        // kubestate first: KSM's settling scrapes then cost nothing extra.
        let (ours_text, ours_om) = scrape_ours(&sim, flags).await?;
        let (ksm_text, ksm_om) = scrape_ksm(ksm, &sim, flags, dir.path(), &ours_text).await?;
        Ok(Scrapes {
            ksm_text,
            ksm_om,
            ours_text,
            ours_om,
        })
    }
    .await;
    sim.shutdown().await;
    result
}

/// Differences kubestate makes on purpose (docs/migration.md, "Differential fuzzing"): the
/// reason when `d` is one of them. The generator avoids the inputs; this is the safety net.
pub fn deliberate(_d: &Difference) -> Option<&'static str> {
    None
}

/// The differences of one run grouped by the pack position of their world (`None`: lines
/// that name no world).
pub fn by_world(diffs: Vec<Difference>) -> BTreeMap<Option<usize>, Vec<Difference>> {
    let mut out: BTreeMap<Option<usize>, Vec<Difference>> = BTreeMap::new();
    for d in diffs {
        out.entry(crate::pack::world_of(&d.line))
            .or_default()
            .push(d);
    }
    out
}

/// The families a set of differences touches: a failing world's signature.
pub fn signature(diffs: &[Difference]) -> BTreeSet<String> {
    diffs.iter().map(|d| d.family.clone()).collect()
}

/// A world file as JSON values (`{"items": [...]}`).
///
/// # Errors
/// Not JSON or no `items` array.
pub fn parse_world_file(s: &str) -> Result<Vec<Value>, String> {
    let v: Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
    v.get("items")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| "no items array".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_per_line_and_family() {
        let e = "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 1\n# TYPE b gauge\nb 1\n";
        let a = "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"3\"} 1\n# TYPE c gauge\n";
        let d = differences("text", e, a);
        let shown: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "[text] - a{x=\"2\"} 1",
                "[text] + a{x=\"3\"} 1",
                "[text] missing # TYPE b gauge",
                "[text] unexpected # TYPE c gauge"
            ]
        );
        assert_eq!(
            world_file(&[serde_json::json!({"a": 1})]),
            "{\"items\": [\n{\"a\":1}\n]}\n"
        );
    }
}
