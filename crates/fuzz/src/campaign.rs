//! A fuzzing campaign: consecutive seeds, packed into runs, each run with the flags of its
//! first seed; failing worlds optionally shrunk and saved as regression cases.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::gen::{flags, world, World};
use crate::pack;
use crate::run::{by_world, deliberate, scrape_both, signature, Difference};

/// What a campaign does.
#[derive(Clone, Debug)]
pub struct Config {
    /// First seed.
    pub from: u64,
    /// How many worlds (seeds) at most.
    pub worlds: u64,
    /// Worlds served together in one run.
    pub per_pack: u64,
    /// Stop starting new runs after this long.
    pub max_time: Duration,
    /// Shrink failing worlds and save them under this directory.
    pub save: Option<PathBuf>,
    /// Evaluation rounds a shrink may use.
    pub shrink_rounds: usize,
}

/// One world that differed.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Its seed.
    pub seed: u64,
    /// The flags of its run (for an unpacked world).
    pub flags: Vec<String>,
    /// The families that differed.
    pub families: BTreeSet<String>,
    /// The differing lines (of the packed run).
    pub lines: Vec<Difference>,
    /// Where its shrunk case was saved.
    pub saved: Option<PathBuf>,
}

/// What a campaign found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Worlds compared.
    pub worlds: u64,
    /// Objects served over all worlds.
    pub objects: u64,
    /// Runs (KSM starts), not counting shrinking.
    pub runs: u64,
    /// KSM samples compared (text and OpenMetrics).
    pub samples: u64,
    /// Worlds that differed.
    pub failures: Vec<Failure>,
    /// Differences masked as deliberate, by reason.
    pub deliberate: BTreeMap<&'static str, u64>,
    /// Differing lines that name no world, by run seed.
    pub unattributed: Vec<(u64, Difference)>,
    /// Runs that could not be completed.
    pub errors: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
}

impl Report {
    /// Failing worlds per family.
    pub fn per_family(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for f in &self.failures {
            for fam in &f.families {
                *m.entry(fam.clone()).or_default() += 1;
            }
        }
        m
    }

    /// A readable summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "worlds: {}  objects: {}  runs: {}  samples compared: {}  failing worlds: {}  unattributed lines: {}  errors: {}  time: {:.0?}",
            self.worlds,
            self.objects,
            self.runs,
            self.samples,
            self.failures.len(),
            self.unattributed.len(),
            self.errors.len(),
            self.elapsed
        );
        for (fam, n) in self.per_family() {
            let _ = writeln!(s, "  {fam}: {n} worlds");
        }
        for (reason, n) in &self.deliberate {
            let _ = writeln!(s, "  masked ({reason}): {n} lines");
        }
        for f in &self.failures {
            let _ = writeln!(s, "== seed {} ({}) ==", f.seed, f.flags.join(" "));
            for l in f.lines.iter().take(12) {
                let _ = writeln!(s, "  {l}");
            }
            if f.lines.len() > 12 {
                let _ = writeln!(s, "  … {} more", f.lines.len() - 12);
            }
            if let Some(p) = &f.saved {
                let _ = writeln!(s, "  saved: {}", p.display());
            }
        }
        for (seed, d) in self.unattributed.iter().take(20) {
            let _ = writeln!(s, "unattributed (run {seed}): {d}");
        }
        for e in &self.errors {
            let _ = writeln!(s, "error: {e}");
        }
        s
    }
}

/// Runs a campaign with the KSM binary `ksm`.
pub async fn campaign(ksm: &Path, cfg: &Config) -> Report {
    let start = Instant::now();
    let mut report = Report::default();
    let mut seed = cfg.from;
    let end = cfg.from.saturating_add(cfg.worlds);
    while seed < end && start.elapsed() < cfg.max_time {
        let n = cfg.per_pack.min(end - seed).max(1);
        let seeds: Vec<u64> = (seed..seed + n).collect();
        let worlds: Vec<World> = seeds.iter().map(|s| world(*s)).collect();
        let run_flags = flags(seed);
        tracing::info!(seed, worlds = n, flags = %run_flags.join(" "), "run");
        let objects = pack::pack(&worlds);
        match scrape_both(ksm, &objects, &pack::flags(&run_flags, worlds.len())).await {
            Err(e) => report.errors.push(format!("run at seed {seed}: {e}")),
            Ok(scrapes) => {
                report.runs += 1;
                report.worlds += n;
                report.objects += objects.len() as u64;
                report.samples += scrapes.samples() as u64;
                let mut diffs = scrapes.differences();
                diffs.retain(|d| match deliberate(d) {
                    Some(reason) => {
                        *report.deliberate.entry(reason).or_default() += 1;
                        false
                    }
                    None => true,
                });
                for (pos, lines) in by_world(diffs) {
                    let Some(pos) = pos else {
                        report
                            .unattributed
                            .extend(lines.into_iter().map(|d| (seed, d)));
                        continue;
                    };
                    let Some(w) = worlds.get(pos) else { continue };
                    let mut failure = Failure {
                        seed: seeds[pos],
                        flags: run_flags.clone(),
                        families: signature(&lines),
                        lines,
                        saved: None,
                    };
                    if let Some(dir) = &cfg.save {
                        match save_shrunk(ksm, w, &failure, dir, cfg.shrink_rounds).await {
                            Ok(p) => failure.saved = p,
                            Err(e) => report
                                .errors
                                .push(format!("shrinking seed {}: {e}", failure.seed)),
                        }
                    }
                    report.failures.push(failure);
                }
            }
        }
        seed += n;
    }
    report.elapsed = start.elapsed();
    report
}

/// Shrinks a failing world, runs the result alone and saves it with KSM's output. `None`
/// when the world does not fail on its own.
async fn save_shrunk(
    ksm: &Path,
    w: &World,
    failure: &Failure,
    dir: &Path,
    rounds: usize,
) -> Result<Option<PathBuf>, String> {
    let alone = crate::shrink::still_failing(
        ksm,
        std::slice::from_ref(w),
        &failure.flags,
        &failure.families,
    )
    .await?;
    if !alone[0] {
        return Ok(None);
    }
    let small = crate::shrink::shrink(ksm, w, &failure.flags, &failure.families, rounds).await?;
    let objects = pack::rename(&small, 0);
    let flags = pack::flags(&failure.flags, 1);
    let scrapes = scrape_both(ksm, &objects, &flags).await?;
    let diffs = scrapes.differences();
    let family = diffs
        .first()
        .map(|d| d.family.clone())
        .unwrap_or_else(|| "none".into());
    let name = format!(
        "{}-seed{}",
        family.trim_start_matches("kube_"),
        failure.seed
    );
    let path = dir.join(name);
    let mut notes = format!(
        "Found by the differential fuzzer (the world of seed {}, run with the flags in `args.txt`) and shrunk from {} to {} objects.\n\nDifferences before the fix (`-` KSM only, `+` kubestate only):\n\n```\n",
        failure.seed,
        w.objects.len(),
        small.objects.len()
    );
    for d in &diffs {
        let _ = writeln!(notes, "{d}");
    }
    notes.push_str("```\n");
    crate::regress::save(
        &path,
        &objects,
        &flags,
        &scrapes.ksm_text,
        &scrapes.ksm_om,
        &notes,
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(path))
}
