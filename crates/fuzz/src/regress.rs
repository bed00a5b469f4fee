//! Regression cases found by fuzzing: a shrunk world, the flags it ran with and KSM's output
//! for it, in the layout of the conformance corpus (`objects.json`, `args.txt`,
//! `expected.prom` without HELP lines, `expected.openmetrics`), under
//! `crates/fuzz/regressions/<name>/`. Replaying one needs no KSM: the world is served by the
//! simulator to kubestate, whose text and OpenMetrics bodies must equal the expectation.

use std::path::{Path, PathBuf};

use kubestate_testkit::Case;
use serde_json::Value;

use crate::run::{differences, scrape_ours, start_sim, world_file};

/// The directory of the committed regression cases.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions")
}

/// Writes a case: `objects` (already as served), `flags`, KSM's bodies, and a `NOTES.md`
/// with `notes`.
///
/// # Errors
/// The files cannot be written.
pub fn save(
    dir: &Path,
    objects: &[Value],
    flags: &[String],
    ksm_text: &str,
    ksm_om: &str,
    notes: &str,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("objects.json"), world_file(objects))?;
    let mut args = flags.join("\n");
    args.push('\n');
    std::fs::write(dir.join("args.txt"), args)?;
    let text: String = ksm_text
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("# HELP "))
        .collect();
    std::fs::write(dir.join("expected.prom"), text)?;
    std::fs::write(dir.join("expected.openmetrics"), ksm_om)?;
    std::fs::write(dir.join("NOTES.md"), notes)
}

/// Replays `case`: kubestate's bodies for its world and flags against the expectation.
/// `Ok(())` when they agree sample for sample, else every differing line.
///
/// # Errors
/// Differences, or the case could not be run.
pub async fn replay(case: &Case) -> Result<(), String> {
    let sim = start_sim(&case.objects_path()).await?;
    let ours = scrape_ours(&sim, &case.args).await;
    sim.shutdown().await;
    let (text, om) = ours?;
    let mut diffs = differences("text", &case.expected_prom, &text);
    if let Some(expected) = &case.expected_openmetrics {
        if !om.ends_with("# EOF\n") {
            return Err("OpenMetrics body does not end with # EOF".into());
        }
        diffs.extend(differences("openmetrics", expected, &om));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        let lines: Vec<String> = diffs.iter().map(ToString::to_string).collect();
        Err(lines.join("\n"))
    }
}
