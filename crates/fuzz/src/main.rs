//! `kubestate-fuzz`: differential fuzzing of kubestate against the reference KSM.
//!
//! * `run`: a campaign over consecutive seeds (see docs/conformance.md);
//! * `show`: one seed's world and flags;
//! * `templates`: rebuild `templates.json` from the conformance corpus.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use kubestate_fuzz::campaign::{campaign, Config};
use kubestate_fuzz::gen::{flags, world};
use kubestate_fuzz::run::{find_ksm, world_file};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(about = "Differential fuzzing of kubestate against the reference kube-state-metrics")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compare generated worlds under KSM and kubestate.
    Run {
        /// First seed.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Number of worlds (consecutive seeds).
        #[arg(long, default_value_t = 200)]
        worlds: u64,
        /// Worlds served together in one run.
        #[arg(long, default_value_t = 40)]
        per_pack: u64,
        /// Stop starting runs after this many seconds.
        #[arg(long, default_value_t = 3600)]
        max_seconds: u64,
        /// Shrink failing worlds and save them as regression cases under this directory.
        #[arg(long)]
        save: Option<PathBuf>,
        /// Evaluation rounds per shrink.
        #[arg(long, default_value_t = 24)]
        shrink_rounds: usize,
        /// Write the summary to this file too.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Print the world of a seed (world file format) and its run's flags.
    Show {
        /// The seed.
        #[arg(long)]
        seed: u64,
    },
    /// Print generated cron schedules with kubestate's next activation after a random time
    /// (`from<TAB>spec<TAB>next|invalid`), to compare with go-cron directly.
    Cron {
        /// Seed of the schedules.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many.
        #[arg(long, default_value_t = 10000)]
        n: usize,
    },
    /// Serve a world file to KSM and save it, its flags and KSM's output as a regression
    /// case (for worlds written by hand).
    Capture {
        /// World file (`{"items": [...]}`).
        #[arg(long)]
        world: PathBuf,
        /// Case directory to write.
        #[arg(long)]
        out: PathBuf,
        /// What the case is about (NOTES.md).
        #[arg(long)]
        notes: String,
        /// KSM flags.
        #[arg(last = true)]
        flags: Vec<String>,
    },
    /// Rebuild templates.json from the conformance corpus.
    Templates {
        /// `conformance/cases` directory.
        #[arg(long)]
        corpus: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Distinct shapes kept per kind.
        #[arg(long, default_value_t = 8)]
        per_kind: usize,
    },
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "kubestate_fuzz=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    match Cli::parse().command {
        Cmd::Run {
            from,
            worlds,
            per_pack,
            max_seconds,
            save,
            shrink_rounds,
            report,
        } => {
            let Some(ksm) = find_ksm() else {
                bail!("reference kube-state-metrics not found (go install k8s.io/kube-state-metrics/v2@v2.20.0, or set KSM_BIN)");
            };
            let r = campaign(
                &ksm,
                &Config {
                    from,
                    worlds,
                    per_pack,
                    max_time: Duration::from_secs(max_seconds),
                    save,
                    shrink_rounds,
                },
            )
            .await;
            let summary = r.summary();
            print!("{summary}");
            if let Some(p) = report {
                std::fs::write(&p, &summary).with_context(|| p.display().to_string())?;
            }
            if !r.failures.is_empty() || !r.errors.is_empty() || !r.unattributed.is_empty() {
                std::process::exit(1);
            }
        }
        Cmd::Show { seed } => {
            println!("# flags: {}", flags(seed).join(" "));
            print!("{}", world_file(&world(seed).objects));
        }
        Cmd::Cron { seed, n } => {
            for (i, spec) in kubestate_fuzz::gen::schedules(seed, n).iter().enumerate() {
                let from = 1_000_000_000 + (i as i64 * 7_919_113) % 1_000_000_000;
                let next = match kubestate_cron::Schedule::parse(spec) {
                    Ok(s) => s
                        .next(kubestate_objects::Time {
                            secs: from,
                            nanos: 0,
                        })
                        .to_string(),
                    Err(_) => "invalid".into(),
                };
                println!("{from}\t{spec}\t{next}");
            }
        }
        Cmd::Capture {
            world,
            out,
            notes,
            flags,
        } => {
            let Some(ksm) = find_ksm() else {
                bail!("reference kube-state-metrics not found");
            };
            let raw =
                std::fs::read_to_string(&world).with_context(|| world.display().to_string())?;
            let objects =
                kubestate_fuzz::run::parse_world_file(&raw).map_err(anyhow::Error::msg)?;
            let scrapes = kubestate_fuzz::run::scrape_both(&ksm, &objects, &flags)
                .await
                .map_err(anyhow::Error::msg)?;
            let mut text = format!(
                "{notes}\n\nDifferences when captured (`-` KSM only, `+` kubestate only):\n\n```\n"
            );
            for d in scrapes.differences() {
                text.push_str(&format!("{d}\n"));
            }
            text.push_str("```\n");
            kubestate_fuzz::regress::save(
                &out,
                &objects,
                &flags,
                &scrapes.ksm_text,
                &scrapes.ksm_om,
                &text,
            )?;
            eprintln!("saved {}", out.display());
        }
        Cmd::Templates {
            corpus,
            out,
            per_kind,
        } => templates(&corpus, &out, per_kind)?,
    }
    Ok(())
}

/// Keeps, per kind, up to `per_kind` objects with distinct sets of member paths (the
/// richest first), without managed fields or last-applied annotations.
fn templates(
    corpus: &std::path::Path,
    out: &std::path::Path,
    per_kind: usize,
) -> anyhow::Result<()> {
    let mut by_kind: BTreeMap<String, Vec<(BTreeSet<String>, Value)>> = BTreeMap::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus)
        .with_context(|| corpus.display().to_string())?
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for d in dirs {
        let Ok(raw) = std::fs::read_to_string(d.join("objects.json")) else {
            continue;
        };
        let v: Value = serde_json::from_str(&raw).with_context(|| d.display().to_string())?;
        for mut o in v["items"].as_array().cloned().unwrap_or_default() {
            if let Some(m) = o["metadata"].as_object_mut() {
                m.remove("managedFields");
            }
            if let Some(a) = o["metadata"]["annotations"].as_object_mut() {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
            let kind = o["kind"].as_str().unwrap_or("").to_string();
            let mut paths = BTreeSet::new();
            shape(&o, String::new(), &mut paths);
            by_kind.entry(kind).or_default().push((paths, o));
        }
    }
    let mut items = Vec::new();
    for (_, mut objs) in by_kind {
        objs.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let mut kept: Vec<BTreeSet<String>> = Vec::new();
        for (paths, o) in objs {
            if kept.len() >= per_kind {
                break;
            }
            if kept.iter().any(|k| paths.is_subset(k)) {
                continue;
            }
            kept.push(paths);
            items.push(o);
        }
    }
    let n = items.len();
    std::fs::write(out, world_file(&items)).with_context(|| out.display().to_string())?;
    eprintln!("{n} templates written to {}", out.display());
    let _ = json!(null);
    Ok(())
}

fn shape(v: &Value, path: String, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                // Label and annotation keys are data, not shape.
                if path.ends_with("/labels") || path.ends_with("/annotations") {
                    continue;
                }
                let p = format!("{path}/{k}");
                out.insert(p.clone());
                shape(x, p, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| shape(x, path.clone(), out)),
        _ => {}
    }
}
